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
mod cache;
mod dialect;
mod identifications;
mod organisations;
mod postgres;
mod proofmes;
mod sqlite;
mod status;
mod tx;
mod wallet;
mod webhooks;

pub use api_keys::{ApiKey, NewApiKey};
pub use cache::API_KEY_CACHE_TTL;
pub use identifications::{CreateOutcome, IdempotencyRecord, ListQuery, SortColumn, SortDirection};
pub use organisations::Organisation;
pub use postgres::{PoolSettings, redact_url};
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
}

impl Store {
    /// Opens (creating if missing, for SQLite) and migrates the database, with
    /// the default pool settings.
    pub async fn connect(database_url: &str) -> Result<Store, StoreError> {
        Store::connect_with(database_url, &PoolSettings::default()).await
    }

    /// Opens and migrates the database; `pool` applies to PostgreSQL.
    pub async fn connect_with(
        database_url: &str,
        pool: &PoolSettings,
    ) -> Result<Store, StoreError> {
        Ok(match Backend::of_url(database_url) {
            Backend::Sqlite => Store {
                db: Engine::Sqlite(sqlite::Engine::connect(database_url).await?),
                caches: Arc::new(Caches::default()),
            },
            // Other instances write the same rows: nothing that can change is
            // cached (see `cache`).
            Backend::Postgres => Store {
                db: Engine::Postgres(postgres::Engine::connect(database_url, pool).await?),
                caches: Arc::new(Caches::shared()),
            },
        })
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
