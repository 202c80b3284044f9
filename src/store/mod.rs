//! All SQL lives here. One `Store`: the caches (`cache`, whatever the
//! database) in front of the SQLite engine (`sqlite`: its pools, pragmas,
//! checkpoints and group commit). The files per area hold the queries.

mod api_keys;
mod cache;
mod identifications;
mod organisations;
mod proofmes;
mod sqlite;
mod status;
mod wallet;
mod webhooks;

pub use api_keys::{ApiKey, NewApiKey};
pub use cache::API_KEY_CACHE_TTL;
pub use identifications::{CreateOutcome, IdempotencyRecord, ListQuery, SortColumn, SortDirection};
pub use organisations::Organisation;
pub use sqlite::{StoreOptions, connect_options};
pub use status::{Change, Refusal, SealedData, StatusChange};
pub use wallet::{StoredSigningKey, TransactionRefusal, WalletTransaction};
pub use webhooks::{Attempt, Delivery, DeliveryState, DueWebhook};

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
/// own error codes into these (see `sqlite::outage`); whatever the engine,
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
    /// (`sqlite::outage`; a PostgreSQL engine would sort SQLSTATE classes
    /// such as 08 connection exception, 53 insufficient resources and 57
    /// operator intervention the same way, beside it).
    fn from(e: sqlx::Error) -> StoreError {
        let outage = match &e {
            sqlx::Error::PoolClosed => return StoreError::Closed,
            sqlx::Error::PoolTimedOut => Some(Outage::PoolTimeout),
            sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => Some(Outage::ConnectionLost),
            sqlx::Error::Database(db) => sqlite::outage(db.as_ref()),
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

/// The one store the program uses: the database engine under it (SQLite;
/// see `sqlite`) and the caches in front of it (see `cache`). Callers never
/// see SQL, pools or transactions.
#[derive(Clone)]
pub struct Store {
    db: sqlite::Engine,
    caches: Arc<Caches>,
}

impl Store {
    /// Opens (creating if missing) and migrates the database.
    pub async fn connect(database_url: &str) -> Result<Store, StoreError> {
        Store::connect_with(database_url, &StoreOptions::default()).await
    }

    /// `connect` with the operator's settings.
    pub async fn connect_with(
        database_url: &str,
        options: &StoreOptions,
    ) -> Result<Store, StoreError> {
        Ok(Store {
            db: sqlite::Engine::connect(database_url, options).await?,
            caches: Arc::new(Caches::default()),
        })
    }

    /// Readiness: the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }

    /// Readiness of writes: a small write is committed now (or was, very
    /// recently), within a short timeout.
    pub async fn check_writes(&self) -> Result<(), Outage> {
        self.db.check_writes().await
    }

    /// Bytes free on the database's filesystem, where the engine can tell.
    pub fn free_disk_bytes(&self) -> Option<u64> {
        self.db.free_disk_bytes()
    }

    /// `PRAGMA integrity_check`: "ok" for a sound database.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        self.db.integrity_check().await
    }

    /// Checkpoints and closes the database, for a clean shutdown.
    pub async fn close(&self) {
        self.db.close().await;
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
