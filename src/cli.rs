//! The command line: `serve` (the default) and the `admin` commands.

use clap::{Parser, Subcommand};
use serde_json::json;
use std::process::ExitCode;
use tokio::net::TcpListener;

use crate::config::{Config, ConfigArgs};
use crate::domain::{
    ApiKeyId, Credential, CredentialStatus, IdentificationId, Mode, OrganisationId, Purpose,
};
use crate::store::{Store, redact_url};
use crate::{AppState, serve};

#[derive(Debug, Parser)]
#[command(name = "proofme", version, about = "Hosted identity verification")]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve the API and MyPage (the default).
    Serve {
        /// Do not create demo data on an empty database.
        #[arg(long)]
        no_demo: bool,
    },
    /// Manage organisations, API keys and proofmes. Each prints one JSON object.
    #[command(subcommand)]
    Admin(Admin),
    /// A test wallet that speaks OpenID4VP to a running server.
    #[command(subcommand)]
    Wallet(WalletCommand),
}

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Fetch the request behind a MyPage URL or wallet link, present a PID
    /// (from the server's test issuer unless --issuer-key is given) and print
    /// the verifier's answer as one JSON object.
    Present {
        /// A MyPage URL (…/id_…) or an openid4vp:// wallet link.
        link: String,
        #[command(flatten)]
        answer: WalletAnswer,
        /// Sign the PID with this issuer key (PEM) instead of the test issuer.
        #[arg(long, requires = "issuer_cert")]
        issuer_key: Option<std::path::PathBuf>,
        /// The issuer's certificate chain (PEM, leaf first).
        #[arg(long, requires = "issuer_key")]
        issuer_cert: Option<std::path::PathBuf>,
        /// Fetch the request with POST (request_uri_method=post).
        #[arg(long)]
        post: bool,
    },
    /// Answer a request handed over by the browser's Digital Credentials API:
    /// read the signed request object (stdin, or --request), check it as a
    /// wallet must, present a credential bound to --origin and print the
    /// encrypted answer (the JWE the page receives as data.response).
    DcApi {
        /// The origin of the page that asked, as the browser reports it.
        #[arg(long)]
        origin: String,
        /// The server's base URL, whose test issuer signs the credential.
        #[arg(long)]
        server: String,
        /// The request object; read from standard input when absent.
        #[arg(long)]
        request: Option<String>,
        #[command(flatten)]
        answer: WalletAnswer,
        /// Answer even if the request's expected_origins lack --origin, as a
        /// careless wallet would (to test the verifier's origin binding).
        #[arg(long)]
        no_origin_check: bool,
    },
}

/// What the test wallet answers with, the same for both ways a request
/// reaches it.
#[derive(Debug, clap::Args)]
pub struct WalletAnswer {
    /// Decline instead of presenting (the identification is canceled).
    #[arg(long)]
    decline: bool,
    /// A credential to leave out, for example OLDER_THAN_18. Repeat for more.
    #[arg(long = "omit", value_name = "CREDENTIAL")]
    omit: Vec<String>,
    /// A claim to set: for the SD-JWT PID given_name=Alice or
    /// age_equal_or_over.18=false, for an mdoc the element, as
    /// age_over_18=false. Repeat for more.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    claims: Vec<String>,
    /// Answer with this format: sd-jwt or mdoc (default: the first the
    /// request offers).
    #[arg(long, value_parser = parse_format)]
    format: Option<crate::wallet::WalletFormat>,
    /// Answer with an mdoc of this doctype, for example
    /// eu.europa.ec.av.1 (default: the first the request offers).
    #[arg(long)]
    doctype: Option<String>,
    /// The status the test issuer gives the credential: valid (the
    /// default), invalid (revoked) or suspended.
    #[arg(long, value_name = "STATUS", value_parser = parse_credential_status)]
    credential_status: Option<CredentialStatus>,
}

impl WalletAnswer {
    /// The wallet's options; `link` and the issuer are the caller's to set.
    fn into_options(self) -> Result<crate::wallet::PresentOptions, String> {
        Ok(crate::wallet::PresentOptions {
            decline: self.decline,
            omit: parse_omit(&self.omit)?,
            claims: self.claims,
            format: self.format,
            doctype: self.doctype,
            credential_status: self.credential_status,
            ..Default::default()
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Admin {
    /// Create an organisation; prints its id and webhook signing secret.
    CreateOrganisation {
        #[arg(long)]
        name: String,
    },
    /// Create an API key; prints its secret, which is shown only this once.
    CreateApiKey {
        #[arg(long)]
        organisation: String,
        #[arg(long, value_parser = ["test", "live"])]
        mode: String,
    },
    /// Create a proofme: what an identification asks for, and why.
    CreateProofme {
        #[arg(long)]
        organisation: String,
        #[arg(long)]
        name: String,
        /// AGE_VERIFICATION, KYC_VERIFICATION, ACCESS_CONTROL, ONLINE_VERIFICATION or IDENTIFICATION.
        #[arg(long, default_value = "IDENTIFICATION")]
        purpose: String,
        /// PROVIDER:KEY or PROVIDER:KEY:optional, for example EPASS:OLDER_THAN_18. Repeat for more.
        #[arg(long = "credential", required = true)]
        credentials: Vec<Credential>,
    },
    /// Create a dashboard user of an organisation. The password is read
    /// from standard input (its first line), so it is never in the shell
    /// history or the process list.
    CreateUser {
        #[arg(long)]
        organisation: String,
        #[arg(long)]
        email: String,
    },
    /// Revoke an API key for good.
    RevokeApiKey {
        #[arg(long)]
        id: String,
    },
    /// Change the status of the credentials the test issuer issued for a
    /// test identification, as their status lists serve it.
    #[command(subcommand)]
    TestCredentials(TestCredentials),
    /// Encrypt an organisation's shared data end to end to an age recipient
    /// (age1…); `--recipient none` goes back to encryption at rest.
    SetDataRecipient {
        #[arg(long)]
        organisation: String,
        #[arg(long)]
        recipient: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TestCredentials {
    /// Revoke them for good (status invalid).
    Revoke {
        #[arg(long)]
        identification: String,
    },
    /// Suspend them (status suspended).
    Suspend {
        #[arg(long)]
        identification: String,
    },
    /// Make them valid again.
    Reinstate {
        #[arg(long)]
        identification: String,
    },
}

impl TestCredentials {
    /// The identification named and the status to give its credentials.
    fn into_parts(self) -> (String, CredentialStatus) {
        match self {
            TestCredentials::Revoke { identification } => {
                (identification, CredentialStatus::Invalid)
            }
            TestCredentials::Suspend { identification } => {
                (identification, CredentialStatus::Suspended)
            }
            TestCredentials::Reinstate { identification } => {
                (identification, CredentialStatus::Valid)
            }
        }
    }
}

/// Runs the command line; the exit code says whether it worked.
pub async fn run(cli: Cli) -> ExitCode {
    let config = match cli.config.into_config() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    match cli.command.unwrap_or(Command::Serve { no_demo: false }) {
        Command::Serve { no_demo } => run_serve(config, no_demo).await,
        Command::Admin(admin) => run_admin(config, admin).await,
        Command::Wallet(wallet) => run_wallet(wallet).await,
    }
}

/// `--omit` values (`OLDER_THAN_18`, or `EPASS:OLDER_THAN_18`).
fn parse_omit(omit: &[String]) -> Result<Vec<crate::domain::CredentialKey>, String> {
    omit.iter()
        .map(|o| {
            let key = o.rsplit(':').next().unwrap_or(o);
            crate::domain::CredentialKey::parse(key)
                .ok_or_else(|| format!("--omit: unknown credential {o:?}"))
        })
        .collect()
}

async fn run_wallet(command: WalletCommand) -> ExitCode {
    match command {
        WalletCommand::Present {
            link,
            answer,
            issuer_key,
            issuer_cert,
            post,
        } => run_present(link, answer, issuer_key.zip(issuer_cert), post).await,
        WalletCommand::DcApi {
            origin,
            server,
            request,
            answer,
            no_origin_check,
        } => run_dc_api(origin, server, request, answer, no_origin_check).await,
    }
}

async fn run_present(
    link: String,
    answer: WalletAnswer,
    issuer_files: Option<(std::path::PathBuf, std::path::PathBuf)>,
    post: bool,
) -> ExitCode {
    let mut options = match answer.into_options() {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    options.issuer_pem = match issuer_files {
        Some((k, c)) => match (std::fs::read_to_string(&k), std::fs::read_to_string(&c)) {
            (Ok(k), Ok(c)) => Some((k, c)),
            (Err(e), _) | (_, Err(e)) => return fail(format!("cannot read the issuer files: {e}")),
        },
        None => None,
    };
    options.link = link;
    options.post = post;
    match crate::wallet::present(&options).await {
        Ok(outcome) => {
            println!("{}", outcome.to_json());
            if (200..300).contains(&outcome.status) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => fail(e),
    }
}

async fn run_dc_api(
    origin: String,
    server: String,
    request: Option<String>,
    answer: WalletAnswer,
    no_origin_check: bool,
) -> ExitCode {
    let present = match answer.into_options() {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let request = match request {
        Some(r) => r,
        None => {
            let mut read = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut read) {
                return fail(format!("cannot read the request from standard input: {e}"));
            }
            read
        }
    };
    let options = crate::wallet::DcApiOptions {
        present,
        origin,
        server,
        skip_origin_check: no_origin_check,
    };
    match crate::wallet::dc_api_response(&request, &options).await {
        Ok(jwe) => {
            println!("{jwe}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn parse_credential_status(s: &str) -> Result<CredentialStatus, String> {
    CredentialStatus::parse(s).ok_or_else(|| "expected valid, invalid or suspended".to_owned())
}

fn parse_format(s: &str) -> Result<crate::wallet::WalletFormat, String> {
    crate::wallet::WalletFormat::parse(s).ok_or_else(|| "expected sd-jwt or mdoc".to_owned())
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}

async fn run_serve(config: Config, no_demo: bool) -> ExitCode {
    let store = match Store::connect_with(
        &config.database_url,
        &config.store_options(),
        &config.db_pool,
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            return fail(format!(
                "cannot open {}: {e}",
                redact_url(&config.database_url)
            ));
        }
    };
    let listener = match TcpListener::bind(config.addr).await {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}: {e}", config.addr)),
    };
    if !no_demo {
        if let Err(e) = print_demo_if_empty(&store, &config).await {
            return fail(format!("cannot create demo data: {e}"));
        }
    }
    tracing::info!(addr = %config.addr, public_url = %config.public_url, "serving");
    let state = match AppState::load(config, store.clone()).await {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot start: {e}")),
    };
    let result = serve(listener, state, shutdown_signal()).await;
    store.close().await;
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// The demo user's email (`.test` is reserved: it never reaches anyone).
pub const DEMO_EMAIL: &str = "demo@proofme.test";

/// Why the demo data could not be made.
#[derive(Debug, thiserror::Error)]
enum DemoError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the demo user's password: {0}")]
    Password(#[from] crate::dashboard::password::PasswordError),
    #[error("the demo user: {0}")]
    User(#[from] crate::store::NewUserError),
}

/// On an empty database, a demo organisation, test key and proofme, and a curl
/// to paste. The key is printed only now: only its hash is kept.
async fn print_demo_if_empty(store: &Store, config: &Config) -> Result<(), DemoError> {
    if store.count_organisations().await? > 0 {
        return Ok(());
    }
    let org = store.create_organisation("Demo Shop").await?;
    let key = store.create_api_key(&org.id, Mode::Test).await?;
    let credentials = [Credential {
        key: crate::domain::CredentialKey::OlderThan18,
        required: true,
    }];
    let proofme = store
        .create_proofme(&org.id, "Age check", Purpose::AgeVerification, &credentials)
        .await?;
    let password = crate::domain::ids::random_base62(16);
    let hash = crate::dashboard::password::hash(password.clone()).await?;
    let user = store.create_user(&org.id, DEMO_EMAIL, &hash).await?;
    let base = &config.public_url;
    println!(
        "\nProofme demo data (shown once; the key is stored only as a hash)\n\
         \n  organisation    {org_id}  (Demo Shop)\
         \n  test API key    {secret}\
         \n  proofme         {pr}  (Age check: OLDER_THAN_18)\
         \n  webhook secret  {whsec}\
         \n\nDashboard: {base}/dashboard\
         \n  email           {email}\
         \n  password        {password}\n\
         \nCreate an identification:\n\
         \ncurl -X POST {base}/v1/identification \\\
         \n   -H \"Authorization: Bearer {secret}\" \\\
         \n   -d \"description=Identification #12345\" \\\
         \n   -d \"proofmeId={pr}\" \\\
         \n   -d \"organisationId={org_id}\" \\\
         \n   -d \"redirectUrl=https://your-application.example.org/identification/12345/\" \\\
         \n   -d \"webhookUrl=https://your-application.example.org/webhook/\" \\\
         \n   -d \"metadata={{\\\"my-data\\\": 12345}}\" \\\
         \n   -d \"testmode=true\"\n",
        org_id = org.id,
        secret = key.secret,
        pr = proofme.id,
        whsec = org.webhook_secret,
        email = user.email,
    );
    Ok(())
}

async fn run_admin(config: Config, admin: Admin) -> ExitCode {
    let store = match Store::connect_with(
        &config.database_url,
        &config.store_options(),
        &config.db_pool,
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            return fail(format!(
                "cannot open {}: {e}",
                redact_url(&config.database_url)
            ));
        }
    };
    let result = admin_command(&store, admin).await;
    store.close().await;
    match result {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// Something that can be an email address: a local part, an `@`, a domain
/// with a dot; no spaces or control characters. (Whether it receives mail is
/// not ours to check.)
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

async fn existing_organisation(store: &Store, id: &str) -> Result<OrganisationId, String> {
    let id = OrganisationId::parse(id).map_err(|e| format!("--organisation {e}"))?;
    match store
        .get_organisation(&id)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(_) => Ok(id),
        None => Err(format!("there is no organisation {id}")),
    }
}

async fn admin_command(store: &Store, admin: Admin) -> Result<serde_json::Value, String> {
    let db = |e: crate::store::StoreError| e.to_string();
    match admin {
        Admin::CreateOrganisation { name } => {
            let name = name.trim();
            if name.is_empty() {
                return Err("--name must not be empty".into());
            }
            let org = store.create_organisation(name).await.map_err(db)?;
            Ok(json!({"id": org.id, "name": org.name, "webhookSecret": org.webhook_secret}))
        }
        Admin::CreateUser {
            organisation,
            email,
        } => {
            let org = existing_organisation(store, &organisation).await?;
            let email = email.trim();
            if !plausible_email(email) {
                return Err("--email must be an email address such as ann@example.com".into());
            }
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let hash = crate::dashboard::password::hash(password)
                .await
                .map_err(|e| e.to_string())?;
            let user = store
                .create_user(&org, email, &hash)
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({"id": user.id, "organisationId": user.organisation_id, "email": user.email}))
        }
        Admin::CreateApiKey { organisation, mode } => {
            let org = existing_organisation(store, &organisation).await?;
            let mode = Mode::parse(&mode).ok_or("--mode must be test or live")?;
            let new = store.create_api_key(&org, mode).await.map_err(db)?;
            Ok(
                json!({"id": new.key.id, "organisationId": org, "mode": mode.as_str(), "key": new.secret}),
            )
        }
        Admin::CreateProofme {
            organisation,
            name,
            purpose,
            credentials,
        } => {
            let org = existing_organisation(store, &organisation).await?;
            let purpose = Purpose::parse(&purpose).ok_or_else(|| {
                format!("--purpose must be one of AGE_VERIFICATION, KYC_VERIFICATION, ACCESS_CONTROL, ONLINE_VERIFICATION, IDENTIFICATION (got {purpose:?})")
            })?;
            let name = name.trim();
            if name.is_empty() {
                return Err("--name must not be empty".into());
            }
            let p = store
                .create_proofme(&org, name, purpose, &credentials)
                .await
                .map_err(db)?;
            let creds: Vec<_> = p
                .credentials
                .iter()
                .map(|c| json!({"provider": c.provider().as_str(), "key": c.key.as_str(), "required": c.required}))
                .collect();
            Ok(
                json!({"id": p.id, "organisationId": org, "name": p.name, "purpose": p.purpose.as_str(),
                      "credentials": creds, "revision": p.revision}),
            )
        }
        Admin::SetDataRecipient {
            organisation,
            recipient,
        } => {
            let org = existing_organisation(store, &organisation).await?;
            let recipient = match recipient.trim() {
                "none" => None,
                r => Some(
                    crate::vault::DataRecipient::parse(r)
                        .map_err(|e| format!("--recipient {e}"))?
                        .to_string(),
                ),
            };
            store
                .set_data_recipient(&org, recipient.as_deref())
                .await
                .map_err(db)?;
            Ok(json!({"id": org, "dataRecipient": recipient}))
        }
        Admin::TestCredentials(change) => {
            let (id, status) = change.into_parts();
            let id = IdentificationId::parse(&id).map_err(|e| format!("--identification {e}"))?;
            let ident = store
                .find_identification(&id)
                .await
                .map_err(db)?
                .ok_or_else(|| format!("there is no identification {id}"))?;
            if ident.mode != Mode::Test {
                return Err(format!(
                    "{id} is a live identification: only test credentials have a status to change"
                ));
            }
            let changed = store
                .set_test_credential_status(&id, status)
                .await
                .map_err(db)?;
            if changed == 0 {
                return Err(format!(
                    "the test issuer has issued no credential for {id} yet"
                ));
            }
            Ok(json!({"id": id, "credentialStatus": status.as_str(), "credentials": changed}))
        }
        Admin::RevokeApiKey { id } => {
            let id = ApiKeyId::parse(&id).map_err(|e| format!("--id {e}"))?;
            if store.revoke_api_key(&id).await.map_err(db)? {
                Ok(json!({"id": id, "revoked": true}))
            } else {
                Err(format!("there is no active API key {id}"))
            }
        }
    }
}
