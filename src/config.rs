//! One typed configuration, read from the environment and flags (clap).

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

use crate::store::{Backend, PoolSettings, StoreOptions};

/// Settings shared by `serve` and `admin`.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Where the data lives. SQLite by default (`sqlite://file.db`; the file is
    /// created if missing); `postgres://…` for a PostgreSQL server that
    /// several instances share.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://proofme.db",
        global = true
    )]
    pub database_url: String,

    /// Address to listen on.
    #[arg(
        long,
        env = "PROOFME_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Base URL customers reach MyPage at (default: http:// + the listen address).
    #[arg(long, env = "PROOFME_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Allow webhook URLs on loopback and private networks (for development).
    #[arg(long, env = "PROOFME_ALLOW_PRIVATE_WEBHOOKS", default_value_t = false,
          action = clap::ArgAction::Set, global = true)]
    pub allow_private_webhooks: bool,

    /// Seconds between webhook retries, comma-separated.
    #[arg(
        long,
        env = "PROOFME_WEBHOOK_RETRY_SCHEDULE",
        default_value = "60,120,240,480,960,1740,3600,7200,79200",
        global = true
    )]
    pub webhook_retry_schedule: String,

    /// Seconds a claimed webhook delivery is kept from other workers; after a
    /// crash, another instance sends it once this has passed. More than the
    /// 15-second attempt timeout.
    #[arg(
        long,
        env = "PROOFME_WEBHOOK_LEASE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub webhook_lease_secs: u64,

    /// Hours a dashboard session lasts at most from sign-in, however active
    /// (beside the 8-hour idle expiry).
    #[arg(
        long,
        env = "PROOFME_DASHBOARD_SESSION_MAX_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub dashboard_session_max_hours: u64,

    /// Seconds an identification stays open before it expires.
    #[arg(
        long,
        env = "PROOFME_IDENTIFICATION_TTL_SECS",
        default_value_t = 86_400,
        global = true
    )]
    pub identification_ttl_secs: u64,

    /// Requests per second per API key (bursts of twice that); 0 turns it off.
    #[arg(long, env = "PROOFME_RATE_LIMIT", default_value_t = 100, global = true)]
    pub rate_limit: u32,

    /// PEM bundle of the trust anchors of credential issuers (a file, or the PEM
    /// text itself). Without it, live identifications trust no issuer.
    #[arg(long, env = "PROOFME_TRUSTED_ISSUERS", global = true)]
    pub trusted_issuers: Option<String>,

    /// PEM file with the verifier's P-256 private key (with PROOFME_VERIFIER_CERT).
    #[arg(long, env = "PROOFME_VERIFIER_KEY", global = true)]
    pub verifier_key: Option<PathBuf>,

    /// PEM file with the verifier's certificate, leaf first (with PROOFME_VERIFIER_KEY).
    #[arg(long, env = "PROOFME_VERIFIER_CERT", global = true)]
    pub verifier_cert: Option<PathBuf>,

    /// The deployment key that wraps every shared-data key (created with mode
    /// 0600 if missing). Default: beside the SQLite file; required on
    /// PostgreSQL (every instance reads the same file).
    #[arg(long, env = "PROOFME_DATA_KEY_FILE", global = true)]
    pub data_key_file: Option<PathBuf>,

    /// Days after an identification became final that its shared data is erased.
    #[arg(
        long,
        env = "PROOFME_DATA_RETENTION_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub data_retention_days: u32,

    /// Days the dashboard's audit log keeps an event.
    #[arg(
        long,
        env = "PROOFME_AUDIT_RETENTION_DAYS",
        default_value_t = 365,
        global = true
    )]
    pub audit_retention_days: u32,

    /// The PID credential types (`vct`) wallets are asked for, comma-separated.
    #[arg(
        long,
        env = "PROOFME_PID_VCT",
        default_value = "urn:eudi:pid:1",
        global = true
    )]
    pub pid_vct: String,
    /// Failed authentications per minute per client address (all may come at
    /// once); beyond it 429 before any key lookup. 0 turns it off.
    #[arg(
        long,
        env = "PROOFME_AUTH_FAILURE_LIMIT",
        default_value_t = 30,
        global = true
    )]
    pub auth_failure_limit: u32,
    /// Visits of proofme public links per minute per client address, in
    /// bursts of at most 5; beyond it 429. 0 turns it off.
    #[arg(
        long,
        env = "PROOFME_PUBLIC_LINK_RATE_LIMIT",
        default_value_t = 20,
        global = true
    )]
    pub public_link_rate_limit: u32,
    /// Test credentials per minute per client address from the test issuer,
    /// in bursts of at most 10; beyond it 429. 0 turns it off.
    #[arg(
        long,
        env = "PROOFME_TEST_ISSUER_RATE_LIMIT",
        default_value_t = 60,
        global = true
    )]
    pub test_issuer_rate_limit: u32,

    /// What a presentation comes to when its credential's status list cannot
    /// be had (unreachable, an error, a bad signature, expired): `fail-closed`
    /// fails it with `status_unavailable`; `fail-open` accepts it and records
    /// that in the status history.
    #[arg(
        long,
        env = "PROOFME_STATUS_LIST_POLICY",
        value_enum,
        default_value_t = StatusListPolicy::FailClosed,
        global = true
    )]
    pub status_list_policy: StatusListPolicy,

    /// Seconds a fetched status list is used at most, whatever its `ttl` and
    /// `exp` allow: the longest a revocation can go unseen.
    #[arg(
        long,
        env = "PROOFME_STATUS_LIST_MAX_AGE_SECS",
        default_value_t = 300,
        global = true
    )]
    pub status_list_max_age_secs: u64,

    /// Seconds a client has to send a request's headers (from connecting, or
    /// from the first byte of a later request on the same connection).
    #[arg(
        long,
        env = "PROOFME_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub header_read_timeout_secs: u64,

    /// Seconds a keep-alive connection may wait for its next request.
    #[arg(
        long,
        env = "PROOFME_IDLE_TIMEOUT_SECS",
        default_value_t = 60,
        global = true
    )]
    pub idle_timeout_secs: u64,

    /// Seconds a request (other than a status stream) may take, body included.
    #[arg(
        long,
        env = "PROOFME_REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u64,

    /// Open connections in total (default: derived from the open-files limit).
    #[arg(long, env = "PROOFME_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,

    /// Open connections per client address (an IPv4 address or an IPv6 /64).
    #[arg(
        long,
        env = "PROOFME_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256,
        global = true
    )]
    pub max_connections_per_address: usize,

    /// Open status streams per identification.
    #[arg(
        long,
        env = "PROOFME_MAX_STREAMS_PER_IDENTIFICATION",
        default_value_t = 8,
        global = true
    )]
    pub max_streams_per_identification: usize,

    /// Open status streams per client address.
    #[arg(
        long,
        env = "PROOFME_MAX_STREAMS_PER_ADDRESS",
        default_value_t = 64,
        global = true
    )]
    pub max_streams_per_address: usize,

    /// PostgreSQL: connections each instance keeps open at most.
    #[arg(
        long,
        env = "PROOFME_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,

    /// PostgreSQL: seconds any one statement may run before the server
    /// cancels it.
    #[arg(
        long,
        env = "PROOFME_DB_STATEMENT_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub db_statement_timeout_secs: u64,

    /// Seconds between re-reads of the status by an open status stream, which
    /// otherwise hears of every change as it is committed.
    #[arg(
        long,
        env = "PROOFME_STATUS_RECHECK_SECS",
        default_value_t = 5,
        global = true
    )]
    pub status_recheck_secs: u64,
    /// Milliseconds a write waits for a database lock held by another
    /// process before its request is answered 503 (with `Retry-After`).
    #[arg(
        long,
        env = "PROOFME_BUSY_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub busy_timeout_ms: u64,

    /// Free space (MB) on the database's filesystem below which a warning is
    /// logged and `/readyz` reports it.
    #[arg(
        long,
        env = "PROOFME_MIN_FREE_DISK_MB",
        default_value_t = 256,
        global = true
    )]
    pub min_free_disk_mb: u64,

    /// The most the SQLite database may grow to (MB); a write beyond it is
    /// answered 503 as on a full disk. Default: no limit but the disk's.
    #[arg(long, env = "PROOFME_MAX_DATABASE_MB", global = true)]
    pub max_database_mb: Option<u64>,

    /// MyPage's answer to "Don't have a wallet app?" on English pages (which
    /// wallets work, where to get one). Default: a sentence of our own.
    #[arg(long, env = "PROOFME_WALLET_HELP", global = true)]
    pub wallet_help: Option<String>,

    /// The same for Dutch pages.
    #[arg(long, env = "PROOFME_WALLET_HELP_NL", global = true)]
    pub wallet_help_nl: Option<String>,
}

/// Long enough for a customer to find and unlock their wallet, short enough
/// that a request's nonce is not good for long.
const WALLET_RESPONSE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// One password check per core, at most four: more at once than there are
/// cores only queues inside the blocking pool.
fn default_password_slots() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(4)
}

/// A webhook attempt, from connecting to the response headers (DESIGN §5).
pub const WEBHOOK_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a claimed webhook delivery stays out of reach by default: longer
/// than any attempt, so it is never sent twice at once; after a crash it is
/// due again, for this instance after its restart or for any other one.
pub const DEFAULT_WEBHOOK_LEASE: Duration = Duration::from_secs(60);

/// How often an open status stream re-reads the status by default. Changes
/// made in this process (including expiry) arrive at once by broadcast, and on
/// PostgreSQL so do other instances' (`LISTEN`/`NOTIFY`); this only catches
/// what those missed (a listener reconnecting).
pub const DEFAULT_STATUS_RECHECK: Duration = Duration::from_secs(5);

/// Where the deployment data key file goes by default: beside a SQLite database file
/// (`proofme.db` → `proofme.db.data-key`). `None` for in-memory databases and
/// other backends, which must name the file.
pub fn default_data_key_path(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or(rest);
    if file.is_empty() || file.contains(":memory:") || database_url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(format!("{file}.data-key")))
}

/// A sign-in waits this long for a password-check slot.
const DASHBOARD_PASSWORD_WAIT: Duration = Duration::from_secs(5);

/// The validated configuration the program runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub addr: SocketAddr,
    /// Without a trailing slash, so `format!("{public_url}/{id}")` is right.
    pub public_url: String,
    pub allow_private_webhooks: bool,
    pub webhook_retry_schedule: Vec<Duration>,
    /// How long a webhook claim keeps a delivery from other workers.
    pub webhook_lease: Duration,
    pub identification_ttl: Duration,
    /// How long a dashboard session lasts at most from sign-in.
    pub dashboard_session_max: Duration,
    /// How many sign-in password checks (argon2, 19 MiB each) run at once.
    pub dashboard_password_slots: usize,
    /// How long a sign-in waits for a free slot before "try again" (503).
    pub dashboard_password_wait: Duration,
    pub rate_limit: u32,
    /// PEM text of the issuers' trust anchors (empty: trust none).
    pub trusted_issuers_pem: String,
    /// PEM texts of a configured verifier key and certificate chain.
    pub verifier_identity_pem: Option<(String, String)>,
    /// Where the deployment data key lives; `None`: only in memory (an
    /// in-memory database).
    pub data_key_file: Option<PathBuf>,
    pub data_retention: Duration,
    /// How long the audit log keeps an event.
    pub audit_retention: Duration,
    pub pid_vct_values: Vec<String>,
    /// How long a wallet may take to answer a request it fetched.
    pub wallet_response_window: Duration,
    /// Failed authentications per minute per client address; 0 is off.
    pub auth_failure_limit: u32,
    /// Public link visits per minute per client address; 0 is off.
    pub public_link_rate_limit: u32,
    /// Test issuer credentials per minute per client address; 0 is off.
    pub test_issuer_rate_limit: u32,
    pub status_list_policy: StatusListPolicy,
    /// The longest a fetched status list is used (0: never kept).
    pub status_list_max_age: Duration,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
    /// `None`: derived from the open-files limit at start.
    pub max_connections: Option<usize>,
    pub max_connections_per_address: usize,
    pub max_streams_per_identification: usize,
    pub max_streams_per_address: usize,
    /// How often an open status stream re-reads the status.
    pub status_recheck: Duration,
    /// MyPage's wallet help for English and Dutch pages; `None`: the default.
    pub wallet_help: WalletHelp,
    /// The pool to a PostgreSQL server.
    pub db_pool: PoolSettings,
    /// How long a write waits for a lock held elsewhere.
    pub busy_timeout: Duration,
    /// Below this many free bytes beside the database: a warning.
    pub min_free_disk_bytes: u64,
    /// The most the database may hold; `None`: as much as the disk takes.
    pub max_database_bytes: Option<u64>,
}

/// What a presentation comes to when its credential's status list cannot be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusListPolicy {
    /// Fail it with `status_unavailable`: nothing unconfirmed is verified.
    FailClosed,
    /// Accept it, and record the unchecked status in the history.
    FailOpen,
}

/// Configured texts for MyPage's "Don't have a wallet app?".
#[derive(Debug, Clone, Default)]
pub struct WalletHelp {
    pub en: Option<String>,
    pub nl: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("PROOFME_PUBLIC_URL must be an absolute http(s) URL without query or fragment: {0}")]
    PublicUrl(String),
    #[error("PROOFME_WEBHOOK_RETRY_SCHEDULE must be comma-separated whole seconds: {0}")]
    RetrySchedule(String),
    #[error("PROOFME_IDENTIFICATION_TTL_SECS must be at least 1")]
    Ttl,
    #[error("PROOFME_DASHBOARD_SESSION_MAX_HOURS must be at least 1")]
    SessionMax,
    #[error("cannot read {what} from {path}: {source}")]
    Read {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("PROOFME_VERIFIER_KEY and PROOFME_VERIFIER_CERT go together: set both or neither")]
    VerifierPair,
    #[error("PROOFME_PID_VCT must name at least one credential type")]
    Vct,
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("PROOFME_WEBHOOK_LEASE_SECS must be more than the 15-second attempt timeout")]
    Lease,
    #[error(
        "PROOFME_DATA_KEY_FILE is required with PostgreSQL: the deployment key never lives in the database"
    )]
    DataKeyFileRequired,
}

fn read_file(what: &'static str, path: &std::path::Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        what,
        path: path.display().to_string(),
        source,
    })
}

impl ConfigArgs {
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let public_url = match self.public_url {
            Some(u) => parse_public_url(&u)?,
            None => format!("http://{}", self.addr),
        };
        let webhook_retry_schedule = parse_schedule(&self.webhook_retry_schedule)?;
        if self.identification_ttl_secs == 0 {
            return Err(ConfigError::Ttl);
        }
        if self.dashboard_session_max_hours == 0 {
            return Err(ConfigError::SessionMax);
        }
        let webhook_lease = Duration::from_secs(self.webhook_lease_secs);
        if webhook_lease <= WEBHOOK_ATTEMPT_TIMEOUT {
            return Err(ConfigError::Lease);
        }
        let trusted_issuers_pem = match self.trusted_issuers {
            None => String::new(),
            Some(pem) if pem.trim_start().starts_with("-----BEGIN") => pem,
            Some(path) => read_file("PROOFME_TRUSTED_ISSUERS", std::path::Path::new(&path))?,
        };
        let verifier_identity_pem = match (self.verifier_key, self.verifier_cert) {
            (None, None) => None,
            (Some(key), Some(cert)) => Some((
                read_file("PROOFME_VERIFIER_KEY", &key)?,
                read_file("PROOFME_VERIFIER_CERT", &cert)?,
            )),
            _ => return Err(ConfigError::VerifierPair),
        };
        let pid_vct_values: Vec<String> = self
            .pid_vct
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();
        if pid_vct_values.is_empty() {
            return Err(ConfigError::Vct);
        }
        let data_key_file = self
            .data_key_file
            .or_else(|| default_data_key_path(&self.database_url));
        if data_key_file.is_none() && Backend::of_url(&self.database_url) == Backend::Postgres {
            return Err(ConfigError::DataKeyFileRequired);
        }
        for (name, value) in [
            (
                "PROOFME_HEADER_READ_TIMEOUT_SECS",
                self.header_read_timeout_secs,
            ),
            ("PROOFME_IDLE_TIMEOUT_SECS", self.idle_timeout_secs),
            ("PROOFME_STATUS_RECHECK_SECS", self.status_recheck_secs),
            (
                "PROOFME_DB_MAX_CONNECTIONS",
                u64::from(self.db_max_connections),
            ),
            (
                "PROOFME_DB_STATEMENT_TIMEOUT_SECS",
                self.db_statement_timeout_secs,
            ),
            ("PROOFME_REQUEST_TIMEOUT_SECS", self.request_timeout_secs),
            ("PROOFME_BUSY_TIMEOUT_MS", self.busy_timeout_ms),
            ("PROOFME_MAX_DATABASE_MB", self.max_database_mb.unwrap_or(1)),
            (
                "PROOFME_MAX_CONNECTIONS",
                self.max_connections.map_or(1, |n| n as u64),
            ),
            (
                "PROOFME_MAX_CONNECTIONS_PER_ADDRESS",
                self.max_connections_per_address as u64,
            ),
            (
                "PROOFME_MAX_STREAMS_PER_IDENTIFICATION",
                self.max_streams_per_identification as u64,
            ),
            (
                "PROOFME_MAX_STREAMS_PER_ADDRESS",
                self.max_streams_per_address as u64,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        Ok(Config {
            trusted_issuers_pem,
            verifier_identity_pem,
            data_key_file,
            data_retention: Duration::from_secs(u64::from(self.data_retention_days) * 86_400),
            audit_retention: Duration::from_secs(u64::from(self.audit_retention_days) * 86_400),
            pid_vct_values,
            wallet_response_window: WALLET_RESPONSE_WINDOW,
            wallet_help: WalletHelp {
                en: non_blank(self.wallet_help),
                nl: non_blank(self.wallet_help_nl),
            },
            database_url: self.database_url,
            addr: self.addr,
            public_url,
            allow_private_webhooks: self.allow_private_webhooks,
            webhook_retry_schedule,
            webhook_lease,
            identification_ttl: Duration::from_secs(self.identification_ttl_secs),
            dashboard_session_max: Duration::from_secs(
                self.dashboard_session_max_hours.saturating_mul(3600),
            ),
            dashboard_password_slots: default_password_slots(),
            dashboard_password_wait: DASHBOARD_PASSWORD_WAIT,
            rate_limit: self.rate_limit,
            auth_failure_limit: self.auth_failure_limit,
            public_link_rate_limit: self.public_link_rate_limit,
            test_issuer_rate_limit: self.test_issuer_rate_limit,
            status_list_policy: self.status_list_policy,
            status_list_max_age: Duration::from_secs(self.status_list_max_age_secs),
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            max_connections: self.max_connections,
            max_connections_per_address: self.max_connections_per_address,
            max_streams_per_identification: self.max_streams_per_identification,
            max_streams_per_address: self.max_streams_per_address,
            status_recheck: Duration::from_secs(self.status_recheck_secs),
            db_pool: PoolSettings {
                max_connections: self.db_max_connections,
                statement_timeout: Duration::from_secs(self.db_statement_timeout_secs),
                ..PoolSettings::default()
            },
            busy_timeout: Duration::from_millis(self.busy_timeout_ms),
            min_free_disk_bytes: self.min_free_disk_mb.saturating_mul(1024 * 1024),
            max_database_bytes: self
                .max_database_mb
                .map(|mb| mb.saturating_mul(1024 * 1024)),
        })
    }
}

fn parse_public_url(s: &str) -> Result<String, ConfigError> {
    let url = Url::parse(s).map_err(|_| ConfigError::PublicUrl(s.to_owned()))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(ConfigError::PublicUrl(s.to_owned()));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A blank setting means "the default", as if it were not set.
fn non_blank(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn parse_schedule(s: &str) -> Result<Vec<Duration>, ConfigError> {
    s.split(',')
        .map(|part| {
            part.trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| ConfigError::RetrySchedule(s.to_owned()))
        })
        .collect()
}

impl Config {
    /// Defaults for a database, as a test or an embedding program wants them.
    pub fn with_database(database_url: impl Into<String>) -> Config {
        let database_url = database_url.into();
        Config {
            data_key_file: default_data_key_path(&database_url),
            database_url,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: "http://127.0.0.1:3000".to_owned(),
            allow_private_webhooks: false,
            webhook_retry_schedule: parse_schedule("60,120,240,480,960,1740,3600,7200,79200")
                .unwrap_or_default(),
            webhook_lease: DEFAULT_WEBHOOK_LEASE,
            identification_ttl: Duration::from_secs(86_400),
            dashboard_session_max: Duration::from_secs(12 * 3600),
            dashboard_password_slots: default_password_slots(),
            dashboard_password_wait: DASHBOARD_PASSWORD_WAIT,
            rate_limit: 100,
            trusted_issuers_pem: String::new(),
            verifier_identity_pem: None,
            data_retention: Duration::from_secs(30 * 86_400),
            audit_retention: Duration::from_secs(365 * 86_400),
            pid_vct_values: vec!["urn:eudi:pid:1".to_owned()],
            wallet_response_window: WALLET_RESPONSE_WINDOW,
            auth_failure_limit: 30,
            public_link_rate_limit: 20,
            test_issuer_rate_limit: 60,
            status_list_policy: StatusListPolicy::FailClosed,
            status_list_max_age: Duration::from_secs(300),
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            max_connections: None,
            max_connections_per_address: 256,
            max_streams_per_identification: 8,
            max_streams_per_address: 64,
            wallet_help: WalletHelp::default(),
            status_recheck: DEFAULT_STATUS_RECHECK,
            db_pool: PoolSettings::default(),
            busy_timeout: StoreOptions::default().busy_timeout,
            min_free_disk_bytes: 256 * 1024 * 1024,
            max_database_bytes: None,
        }
    }

    /// The settings the store opens its connections with.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            busy_timeout: self.busy_timeout,
            max_database_bytes: self.max_database_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_files_sit_beside_sqlite_files() {
        use super::default_data_key_path;
        use std::path::PathBuf;
        assert_eq!(
            default_data_key_path("sqlite://data/proofme.db"),
            Some(PathBuf::from("data/proofme.db.data-key"))
        );
        assert_eq!(
            default_data_key_path("sqlite:proofme.db?mode=rwc"),
            Some(PathBuf::from("proofme.db.data-key"))
        );
        assert_eq!(default_data_key_path("sqlite::memory:"), None);
        assert_eq!(default_data_key_path("postgres://localhost/db"), None);
    }

    use super::*;

    #[test]
    fn public_url_loses_its_trailing_slash() {
        assert_eq!(
            parse_public_url("https://pay.example.com/").unwrap(),
            "https://pay.example.com"
        );
        assert_eq!(
            parse_public_url("https://example.com/my/").unwrap(),
            "https://example.com/my"
        );
        assert!(parse_public_url("example.com").is_err());
        assert!(parse_public_url("https://example.com/?a=1").is_err());
    }

    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        args: ConfigArgs,
    }

    #[test]
    fn flag_defaults_are_the_defaults_of_with_database() {
        use clap::Parser;
        let flags = Flags::try_parse_from(["proofme"]).unwrap();
        let from_flags = flags.args.into_config().unwrap();
        let plain = Config::with_database("sqlite::memory:");
        assert_eq!(from_flags.header_read_timeout, plain.header_read_timeout);
        assert_eq!(from_flags.header_read_timeout, Duration::from_secs(30));
        assert_eq!(from_flags.idle_timeout, plain.idle_timeout);
        assert_eq!(from_flags.idle_timeout, Duration::from_secs(60));
        assert_eq!(from_flags.request_timeout, plain.request_timeout);
        assert_eq!(from_flags.max_connections, plain.max_connections);
        assert_eq!(
            from_flags.max_connections_per_address,
            plain.max_connections_per_address
        );
        assert_eq!(
            from_flags.max_streams_per_identification,
            plain.max_streams_per_identification
        );
        assert_eq!(
            from_flags.max_streams_per_address,
            plain.max_streams_per_address
        );
        assert_eq!(from_flags.auth_failure_limit, plain.auth_failure_limit);
        assert_eq!(
            from_flags.public_link_rate_limit,
            plain.public_link_rate_limit
        );
        assert_eq!(from_flags.busy_timeout, plain.busy_timeout);
        assert_eq!(from_flags.busy_timeout, Duration::from_secs(5));
        assert_eq!(from_flags.min_free_disk_bytes, plain.min_free_disk_bytes);
        assert_eq!(from_flags.min_free_disk_bytes, 256 * 1024 * 1024);
    }

    #[test]
    fn zero_limits_are_refused() {
        use clap::Parser;
        let flags = Flags::try_parse_from(["proofme", "--max-streams-per-address", "0"]).unwrap();
        assert!(matches!(
            flags.args.into_config(),
            Err(ConfigError::Zero("PROOFME_MAX_STREAMS_PER_ADDRESS"))
        ));
    }

    #[test]
    fn schedules_parse_as_seconds() {
        assert_eq!(
            parse_schedule("1, 2,3").unwrap(),
            vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(3)
            ]
        );
        assert!(parse_schedule("1,,2").is_err());
        assert!(parse_schedule("-1").is_err());
    }
}
