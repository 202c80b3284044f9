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
pub use sqlite::connect_options;
pub use status::{Change, Refusal, SealedData, StatusChange};
pub use wallet::{StoredSigningKey, TransactionRefusal, WalletTransaction};
pub use webhooks::{Attempt, Delivery, DeliveryState, DueWebhook};

use std::sync::Arc;

use cache::Caches;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
    /// A stored value that our own types reject: a bug or tampering, never user input.
    #[error("corrupt row: {0}")]
    Corrupt(String),
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
        Ok(Store {
            db: sqlite::Engine::connect(database_url).await?,
            caches: Arc::new(Caches::default()),
        })
    }

    /// Readiness: the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
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
