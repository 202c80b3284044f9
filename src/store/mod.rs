//! All SQL lives here. One `Store`: the caches (`cache`) in front of one of
//! two database engines, chosen by the database URL at start: SQLite
//! (`sqlite`: its pools, pragmas, checkpoints and group commit), the embedded
//! default, or PostgreSQL (`postgres`: one pool, shared by many instances).
//! The files per area hold the queries, written once for both engines (see
//! `on_db!`); `tx` holds the statements that run inside write transactions,
//! compiled once per engine. Where the SQL differs, the code says so.

/// Runs `$body` with `$db` bound to the engine in use and `$tx` to the
/// transaction statements for it (`tx::on_sqlite` or `tx::on_postgres`). The
/// body is written once and compiled for each engine, so each arm is typed
/// for its driver.
macro_rules! on_db {
    ($engine:expr, $db:ident, $tx:ident => $body:expr) => {
        match $engine {
            $crate::store::Engine::Sqlite($db) => {
                #[allow(unused_imports)]
                use $crate::store::tx::on_sqlite as $tx;
                $body
            }
            $crate::store::Engine::Postgres($db) => {
                #[allow(unused_imports)]
                use $crate::store::tx::on_postgres as $tx;
                $body
            }
        }
    };
}

mod api_keys;
mod audit;
mod cache;
mod detail;
mod dialect;
mod identifications;
mod organisations;
mod overview;
mod postgres;
mod proofmes;
mod search;
mod sessions;
mod sqlite;
mod status;
mod test_credentials;
mod tx;
mod users;
mod wallet;
mod webhooks;

pub use api_keys::{ApiKey, NewApiKey};
pub use audit::{
    Actor, Audit, AuditAction, AuditCursor, AuditEvent, AuditFilter, MAX_ACTOR_FILTER_CHARS,
};
pub use cache::API_KEY_CACHE_TTL;
pub use detail::ResendRefusal;
pub use identifications::{CreateOutcome, IdempotencyRecord, ListQuery, SortColumn, SortDirection};
pub use organisations::Organisation;
pub use overview::{DayCounts, Overview};
pub use postgres::{PoolSettings, redact_url};
pub use proofmes::{NewPublicLink, ProofmeListing};
pub use search::{
    Cursor, IdentificationFilter, MAX_PAGE_ROWS, MAX_SEARCH_CHARS, Page, SearchPage, Sort,
};
pub use sessions::Sessions;
pub use sqlite::{StoreOptions, connect_options};
pub use status::{Change, Refusal, SealedData, StatusChange};
pub use test_credentials::{StatusEntry, TEST_STATUS_LIST_ENTRIES};
pub use users::{LoginAttempt, NewUserError, User};
pub use wallet::{StoredSigningKey, TransactionRefusal, WalletFlow, WalletTransaction};
pub use webhooks::{Attempt, Delivery, DeliveryState, DueWebhook};

// What the dashboard's API keys and webhooks pages show.
mod test_webhooks;
pub use api_keys::{ApiKeySummary, LAST_USED_RESOLUTION, SECRET_PREFIX_LEN};
pub use organisations::{PreviousWebhookSecret, WEBHOOK_SECRET_OVERLAP};
pub use test_webhooks::{TEST_WEBHOOKS_KEPT, TestWebhook};

use crate::domain::Clock;
use std::sync::Arc;
use std::time::Duration;

use cache::Caches;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A failure that retrying will not cure: a bug, a constraint, a broken
    /// schema. (Faults that pass are `Unavailable`; see `From<sqlx::Error>`.)
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The database cannot serve this request just now, through no fault of
    /// the request: the same request may succeed if sent again later. The
    /// failed work was rolled back (or never began).
    #[error("database unavailable ({outage}): {cause}")]
    Unavailable {
        outage: Outage,
        #[source]
        cause: Arc<sqlx::Error>,
    },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
    /// A stored value that our own types reject: a bug or tampering, never user input.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Why the database cannot serve requests for a while. Each engine sorts its
/// own error codes into these (see `sqlite::outage`, `postgres::outage`); whatever the engine,
/// the API answers them with 503 and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// No space left for the database: its disk, or a size limit, is full.
    DiskFull,
    /// A lock held elsewhere was not released in time.
    Busy,
    /// Every connection stayed in use for longer than a request may wait.
    PoolTimeout,
    /// The connection failed under us: an I/O error, a lost server.
    ConnectionLost,
}

impl Outage {
    /// How long a client had best wait before trying again.
    pub fn retry_after(self) -> Duration {
        match self {
            Outage::Busy | Outage::PoolTimeout => Duration::from_secs(1),
            Outage::DiskFull | Outage::ConnectionLost => Duration::from_secs(5),
        }
    }
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outage::DiskFull => "disk full",
            Outage::Busy => "database locked",
            Outage::PoolTimeout => "no free connection",
            Outage::ConnectionLost => "connection failed",
        })
    }
}

impl From<sqlx::Error> for StoreError {
    /// Sorts every database failure into one that passes (`Unavailable`)
    /// or one that does not (`Database`), so no caller has to know codes.
    /// Failures of the pool and the connection are the same for every
    /// engine; a database's own error codes are sorted by its engine
    /// (`sqlite::outage`, `postgres::outage`).
    fn from(e: sqlx::Error) -> StoreError {
        let outage = match &e {
            sqlx::Error::PoolClosed => return StoreError::Closed,
            sqlx::Error::PoolTimedOut => Some(Outage::PoolTimeout),
            sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => Some(Outage::ConnectionLost),
            sqlx::Error::Database(db) => {
                match db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    Some(pg) => postgres::outage(pg),
                    None => sqlite::outage(db.as_ref()),
                }
            }
            _ => None,
        };
        match outage {
            Some(outage) => StoreError::Unavailable {
                outage,
                cause: Arc::new(e),
            },
            None => StoreError::Database(e),
        }
    }
}

impl StoreError {
    /// Why the database is unavailable, if that is what this error means.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            StoreError::Unavailable { outage, .. } => Some(*outage),
            StoreError::Closed => Some(Outage::ConnectionLost),
            _ => None,
        }
    }

    /// The same request may succeed later: answer 503, not 500.
    pub fn is_retryable(&self) -> bool {
        self.outage().is_some()
    }

    /// How long a client had best wait before sending the request again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.outage().map(Outage::retry_after)
    }

    /// This error again, for the next of several requests that met it
    /// together (a group commit); `None` for an error that is not shared.
    pub(crate) fn share(&self) -> Option<StoreError> {
        match self {
            StoreError::Unavailable { outage, cause } => Some(StoreError::Unavailable {
                outage: *outage,
                cause: cause.clone(),
            }),
            StoreError::Closed => Some(StoreError::Closed),
            _ => None,
        }
    }
}

/// The database under the store.
#[derive(Clone)]
enum Engine {
    Sqlite(sqlite::Engine),
    Postgres(postgres::Engine),
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` name PostgreSQL; anything else SQLite.
    pub fn of_url(database_url: &str) -> Backend {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// The one store the program uses: the database engine under it and the
/// caches in front of it (see `cache`). Callers never see SQL, pools or
/// transactions.
#[derive(Clone)]
pub struct Store {
    db: Engine,
    caches: Arc<Caches>,
    /// Where every deadline the store judges (expiry, idempotency and
    /// retention windows) reads the time.
    clock: Clock,
}

impl Store {
    /// Opens (creating if missing, for SQLite) and migrates the database,
    /// with the default settings.
    pub async fn connect(database_url: &str) -> Result<Store, StoreError> {
        Store::connect_with(
            database_url,
            &StoreOptions::default(),
            &PoolSettings::default(),
        )
        .await
    }

    /// `connect` with the operator's settings: `options` for SQLite, `pool`
    /// for PostgreSQL.
    pub async fn connect_with(
        database_url: &str,
        options: &StoreOptions,
        pool: &PoolSettings,
    ) -> Result<Store, StoreError> {
        Ok(match Backend::of_url(database_url) {
            Backend::Sqlite => Store {
                db: Engine::Sqlite(sqlite::Engine::connect(database_url, options).await?),
                caches: Arc::new(Caches::default()),
                clock: Clock::system(),
            },
            // Other instances write the same rows: nothing that can change is
            // cached (see `cache`).
            Backend::Postgres => Store {
                db: Engine::Postgres(postgres::Engine::connect(database_url, pool).await?),
                caches: Arc::new(Caches::shared()),
                clock: Clock::system(),
            },
        })
    }

    /// This store, reading the time from `clock` (tests move it on).
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// The clock this store reads the time from.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        match self.db {
            Engine::Sqlite(_) => Backend::Sqlite,
            Engine::Postgres(_) => Backend::Postgres,
        }
    }

    /// Readiness: the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.db {
            Engine::Sqlite(db) => db.ping().await,
            Engine::Postgres(db) => db.ping().await,
        }
    }

    /// Readiness of writes: a small write is committed now (or was, very
    /// recently), within a short timeout.
    pub async fn check_writes(&self) -> Result<(), Outage> {
        match &self.db {
            Engine::Sqlite(db) => db.check_writes().await,
            Engine::Postgres(db) => db.check_writes().await,
        }
    }

    /// Bytes free on the database's filesystem, where the engine can tell
    /// (not for a database server).
    pub fn free_disk_bytes(&self) -> Option<u64> {
        match &self.db {
            Engine::Sqlite(db) => db.free_disk_bytes(),
            Engine::Postgres(_) => None,
        }
    }

    /// "ok" for a sound database (`PRAGMA integrity_check` on SQLite; the
    /// server keeps its own on PostgreSQL, so there it only asks it to answer).
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        match &self.db {
            Engine::Sqlite(db) => db.integrity_check().await,
            Engine::Postgres(db) => db.ping().await.map(|()| "ok".to_owned()),
        }
    }

    /// Checkpoints (SQLite) and closes the database, for a clean shutdown.
    pub async fn close(&self) {
        match &self.db {
            Engine::Sqlite(db) => db.close().await,
            Engine::Postgres(db) => db.close().await,
        }
    }

    /// Status changes committed by any instance, as `(id, status code)`, for
    /// as long as the receiver is kept. On SQLite, one process owns the
    /// database and announces its own changes, so this never yields.
    pub fn status_notifications(&self) -> tokio::sync::mpsc::Receiver<(String, i64)> {
        match &self.db {
            Engine::Sqlite(_) => tokio::sync::mpsc::channel(1).1,
            Engine::Postgres(db) => db.listen_status_changes(),
        }
    }
}

fn corrupt(what: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[tokio::test]
    async fn a_full_database_is_an_outage_that_passes() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("PRAGMA max_page_count = 1")
            .execute(&mut conn)
            .await
            .unwrap();
        let full = sqlx::query("CREATE TABLE t (x)")
            .execute(&mut conn)
            .await
            .unwrap_err();

        let e = StoreError::from(full);

        assert_eq!(e.outage(), Some(Outage::DiskFull), "{e}");
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(5)));
        assert_eq!(e.share().and_then(|e| e.outage()), Some(Outage::DiskFull));
    }

    #[tokio::test]
    async fn a_statement_that_cannot_work_is_no_outage() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let broken = sqlx::query("SELECT * FROM no_such_table")
            .execute(&mut conn)
            .await
            .unwrap_err();

        let e = StoreError::from(broken);

        assert!(matches!(e, StoreError::Database(_)), "{e}");
        assert!(!e.is_retryable());
        assert!(e.share().is_none());
    }

    #[test]
    fn pool_failures_are_sorted_too() {
        assert_eq!(
            StoreError::from(sqlx::Error::PoolTimedOut).outage(),
            Some(Outage::PoolTimeout)
        );
        assert_eq!(
            StoreError::from(sqlx::Error::WorkerCrashed).outage(),
            Some(Outage::ConnectionLost)
        );
        assert!(matches!(
            StoreError::from(sqlx::Error::PoolClosed),
            StoreError::Closed
        ));
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_retryable());
        assert!(!StoreError::Corrupt("x".into()).is_retryable());
    }
}
