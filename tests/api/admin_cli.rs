//! The `proofme admin …` commands (DESIGN.md section 6), run as a real process.

use crate::helpers::*;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use tempfile::TempDir;

struct Cli {
    dir: TempDir,
    database: TestDatabase,
    database_url: String,
}

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Output {
    /// Asserts exit 0 and exactly one JSON object on stdout.
    fn json(&self) -> Value {
        assert!(self.success, "exit status not 0; stderr: {}", self.stderr);
        let v: Value = serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {:?}", self.stdout));
        assert!(v.is_object(), "stdout is not a JSON object: {v}");
        v
    }

    fn assert_failed_with_message(&self) {
        assert!(
            !self.success,
            "expected a non-zero exit; stdout: {}",
            self.stdout
        );
        assert!(
            !self.stderr.trim().is_empty(),
            "expected a message on stderr"
        );
    }
}

impl Cli {
    async fn new() -> Cli {
        let dir = tempfile::tempdir().unwrap();
        let database = TestDatabase::fresh(dir.path(), "x.db").await;
        let database_url = database.url.clone();
        Cli {
            dir,
            database,
            database_url,
        }
    }

    /// The deployment key file, where the database needs one named.
    fn data_key_file(&self) -> Option<std::path::PathBuf> {
        let mut config = proofme::config::Config::with_database(self.database_url.clone());
        self.database.configure(&mut config, self.dir.path());
        config.data_key_file
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "").await
    }

    async fn run_with_stdin(&self, args: &[impl AsRef<std::ffi::OsStr>], stdin: &str) -> Output {
        use tokio::io::AsyncWriteExt;
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_proofme"));
        if let Some(key) = self.data_key_file() {
            cmd.env("PROOFME_DATA_KEY_FILE", key);
        }
        cmd.args(args)
            .env("DATABASE_URL", &self.database_url)
            .env_remove("PROOFME_ADDR")
            .env_remove("PROOFME_PUBLIC_URL")
            .env_remove("RUST_LOG")
            .current_dir(self.dir.path())
            .kill_on_drop(true)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("run proofme");
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).await.expect("stdin");
        }
        let out = child.wait_with_output().await.expect("run proofme");
        Output {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    async fn organisation(&self) -> String {
        let org = self
            .run(&["admin", "create-organisation", "--name", "Shop"])
            .await
            .json();
        org["id"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn create_organisation_prints_its_id_and_webhook_secret() {
    let cli = Cli::new().await;

    let out = cli
        .run(&["admin", "create-organisation", "--name", "Shop"])
        .await;

    let v = out.json();
    assert_id(&v["id"], "org_", 1);
    let secret = v["webhookSecret"].as_str().expect("webhookSecret");
    assert!(secret.starts_with("whsec_") && secret.len() > 6, "{secret}");
}

#[tokio::test]
async fn create_api_key_prints_its_id_and_secret() {
    let cli = Cli::new().await;
    let org = cli.organisation().await;

    let test = cli
        .run(&[
            "admin",
            "create-api-key",
            "--organisation",
            &org,
            "--mode",
            "test",
        ])
        .await
        .json();
    let live = cli
        .run(&[
            "admin",
            "create-api-key",
            "--organisation",
            &org,
            "--mode",
            "live",
        ])
        .await
        .json();

    assert_id(&test["id"], "key_", 1);
    let key = test["key"].as_str().expect("key");
    let rest = key.strip_prefix("test_").expect("test_ prefix");
    assert_eq!(rest.len(), 30, "{key}");
    assert!(rest.bytes().all(|b| b.is_ascii_alphanumeric()), "{key}");
    let live_key = live["key"].as_str().expect("key");
    assert!(
        live_key.starts_with("live_") && live_key.len() == 35,
        "{live_key}"
    );
}

#[tokio::test]
async fn create_proofme_prints_its_id() {
    let cli = Cli::new().await;
    let org = cli.organisation().await;

    let out = cli
        .run(&[
            "admin",
            "create-proofme",
            "--organisation",
            &org,
            "--name",
            "Age check",
            "--credential",
            "EPASS:OLDER_THAN_18",
            "--credential",
            "EMAIL:EMAIL:optional",
        ])
        .await;

    assert_id(&out.json()["id"], "pr_", 1);
}

#[tokio::test]
async fn create_proofme_with_a_bad_credential_fails_with_a_message() {
    let cli = Cli::new().await;
    let org = cli.organisation().await;
    for bad in [
        "EPASS:NOT_A_THING",
        "EMAIL:OLDER_THAN_18",
        "OLDER_THAN_18",
        "EPASS:OLDER_THAN_18:maybe",
    ] {
        let out = cli
            .run(&[
                "admin",
                "create-proofme",
                "--organisation",
                &org,
                "--name",
                "Bad",
                "--credential",
                bad,
            ])
            .await;
        out.assert_failed_with_message();
    }
}

#[tokio::test]
async fn admin_commands_for_an_unknown_organisation_fail_with_a_message() {
    let cli = Cli::new().await;
    cli.organisation().await; // the database exists and has some organisation

    let key = cli
        .run(&[
            "admin",
            "create-api-key",
            "--organisation",
            "org_doesnotexist",
            "--mode",
            "test",
        ])
        .await;
    let proofme = cli
        .run(&[
            "admin",
            "create-proofme",
            "--organisation",
            "org_doesnotexist",
            "--name",
            "X",
            "--credential",
            "EPASS:OLDER_THAN_18",
        ])
        .await;

    key.assert_failed_with_message();
    proofme.assert_failed_with_message();
}

#[tokio::test]
async fn create_api_key_with_an_unknown_mode_fails_with_a_message() {
    let cli = Cli::new().await;
    let org = cli.organisation().await;

    let out = cli
        .run(&[
            "admin",
            "create-api-key",
            "--organisation",
            &org,
            "--mode",
            "prod",
        ])
        .await;

    out.assert_failed_with_message();
}

#[tokio::test]
async fn objects_made_by_the_admin_commands_work_against_the_api() {
    // Arrange: everything through the CLI.
    let cli = Cli::new().await;
    let org = cli.organisation().await;
    let key = cli
        .run(&[
            "admin",
            "create-api-key",
            "--organisation",
            &org,
            "--mode",
            "test",
        ])
        .await
        .json();
    let secret = key["key"].as_str().unwrap().to_owned();
    let proofme = cli
        .run(&[
            "admin",
            "create-proofme",
            "--organisation",
            &org,
            "--name",
            "Age check",
            "--purpose",
            "AGE_VERIFICATION",
            "--credential",
            "EPASS:OLDER_THAN_18",
        ])
        .await
        .json();
    let proofme_id = proofme["id"].as_str().unwrap().to_owned();
    let address = serve_database(&cli.database_url, cli.data_key_file()).await;

    // Act
    let resp = client()
        .post(format!("{address}/v1/identification"))
        .bearer_auth(&secret)
        .header(CONTENT_TYPE, FORM)
        .body(format!(
            "proofmeId={proofme_id}&organisationId={org}&redirectUrl={REDIRECT_URL}"
        ))
        .send()
        .await
        .unwrap();

    // Assert
    let v = created(resp).await;
    assert_eq!(v["organisationId"], serde_json::json!(org));
    assert_eq!(v["proofmeId"], serde_json::json!(proofme_id));
    assert_eq!(v["mode"], "test");
}

#[tokio::test]
async fn revoke_api_key_makes_the_key_fail_with_401() {
    let cli = Cli::new().await;
    let org = cli.organisation().await;
    let key = cli
        .run(&[
            "admin",
            "create-api-key",
            "--organisation",
            &org,
            "--mode",
            "test",
        ])
        .await
        .json();
    let key_id = key["id"].as_str().unwrap().to_owned();
    let secret = key["key"].as_str().unwrap().to_owned();
    let clock = proofme::domain::Clock::manual();
    let address =
        serve_database_with_clock(&cli.database_url, cli.data_key_file(), clock.clone()).await;
    let list = |secret: String| {
        let address = address.clone();
        async move {
            client()
                .get(format!("{address}/v1/identification"))
                .bearer_auth(secret)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(list(secret.clone()).await.status(), StatusCode::OK);

    let out = cli.run(&["admin", "revoke-api-key", "--id", &key_id]).await;

    assert!(out.success, "revoke failed: {}", out.stderr);
    // Another process revoked it: the server trusts a looked-up key for at most
    // API_KEY_CACHE_TTL, then asks the database again. So a request sent that
    // long after the revocation is refused.
    clock.advance(proofme::store::API_KEY_CACHE_TTL);
    assert_problem(list(secret.clone()).await, 401, None).await;
    assert_problem(list(secret).await, 401, None).await;
}

#[tokio::test]
async fn set_data_recipient_encrypts_shared_data_end_to_end_to_that_recipient() {
    use std::io::Read;
    // Arrange: an organisation with an age recipient, a test key and a proofme.
    let cli = Cli::new().await;
    let org = cli.organisation().await;
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let set = cli
        .run(&[
            "admin",
            "set-data-recipient",
            "--organisation",
            &org,
            "--recipient",
            &recipient,
        ])
        .await
        .json();
    assert_eq!(set["dataRecipient"], serde_json::json!(recipient));
    let secret = cli
        .run(&[
            "admin",
            "create-api-key",
            "--organisation",
            &org,
            "--mode",
            "test",
        ])
        .await
        .json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let proofme_id = cli
        .run(&[
            "admin",
            "create-proofme",
            "--organisation",
            &org,
            "--name",
            "KYC",
            "--credential",
            "EPASS:FIRST_NAME",
        ])
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let address = serve_database(&cli.database_url, cli.data_key_file()).await;
    let created = created(
        client()
            .post(format!("{address}/v1/identification"))
            .bearer_auth(&secret)
            .header(CONTENT_TYPE, FORM)
            .body(format!(
                "proofmeId={proofme_id}&organisationId={org}&redirectUrl={REDIRECT_URL}"
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let outcome = client()
        .post(format!("{address}/v1/identification/{id}/test-outcome"))
        .bearer_auth(&secret)
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"status":"verified"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(outcome.status(), StatusCode::OK);

    // Act
    let data: Value = client()
        .get(format!("{address}/v1/identification/data/{id}"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Assert: the service hands over only the age file; its identity opens it.
    assert_eq!(data["data"], Value::Null, "{data}");
    let armored = data["encryptedData"].as_str().expect("encryptedData");
    assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let open = |id: &age::x25519::Identity| -> Option<Value> {
        let reader = age::armor::ArmoredReader::new(armored.as_bytes());
        let mut plain = age::Decryptor::new(reader)
            .ok()?
            .decrypt(std::iter::once(id as &dyn age::Identity))
            .ok()?;
        let mut out = Vec::new();
        plain.read_to_end(&mut out).ok()?;
        serde_json::from_slice(&out).ok()
    };
    assert_eq!(
        open(&identity),
        Some(serde_json::json!({"FIRST_NAME": "Test"}))
    );
    assert_eq!(open(&age::x25519::Identity::generate()), None);
}

#[tokio::test]
async fn set_data_recipient_refuses_what_is_not_an_age_recipient() {
    let cli = Cli::new().await;
    let org = cli.organisation().await;
    cli.run(&[
        "admin",
        "set-data-recipient",
        "--organisation",
        &org,
        "--recipient",
        "ssh-ed25519 AAAA",
    ])
    .await
    .assert_failed_with_message();
}

#[tokio::test]
async fn create_user_reads_the_password_from_stdin_and_prints_the_user() {
    let cli = Cli::new().await;
    let org = cli.organisation().await;

    let out = cli
        .run_with_stdin(
            &[
                "admin",
                "create-user",
                "--organisation",
                &org,
                "--email",
                "Ann@Example.com",
            ],
            "a long enough password\n",
        )
        .await;

    let v = out.json();
    assert_id(&v["id"], "usr_", 1);
    assert_eq!(v["organisationId"], org.as_str());
    assert_eq!(v["email"], "ann@example.com");
    assert!(!out.stdout.contains("a long enough password"));
    // The stored hash is argon2id and checks that password, not another.
    let store = proofme::store::Store::connect(&cli.database_url)
        .await
        .unwrap();
    let user = store
        .find_user_by_email("ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.password_hash.starts_with("$argon2id$"));
    let slots = proofme::dashboard::password::Slots::new(1, std::time::Duration::from_secs(30));
    assert_eq!(
        proofme::dashboard::password::verify(
            &slots,
            Some(user.password_hash.clone()),
            "a long enough password".into()
        )
        .await,
        Ok(true)
    );
    assert_eq!(
        proofme::dashboard::password::verify(
            &slots,
            Some(user.password_hash),
            "a long enough password\n".into()
        )
        .await,
        Ok(false)
    );
}

#[tokio::test]
async fn create_user_refuses_a_short_password_a_bad_email_and_a_taken_one() {
    let cli = Cli::new().await;
    let org = cli.organisation().await;
    let args = |email: &'static str| -> Vec<String> {
        [
            "admin",
            "create-user",
            "--organisation",
            &org,
            "--email",
            email,
        ]
        .map(str::to_owned)
        .to_vec()
    };

    cli.run_with_stdin(&args("ann@example.com"), "short\n")
        .await
        .assert_failed_with_message();
    cli.run_with_stdin(&args("not an email"), "a long enough password\n")
        .await
        .assert_failed_with_message();
    cli.run_with_stdin(&args("ann@example.com"), "a long enough password\n")
        .await
        .json();
    cli.run_with_stdin(&args("ANN@example.com"), "another long password\n")
        .await
        .assert_failed_with_message();
}
