//! Where dashboard sessions live: tower-sessions' SQL stores, over this
//! store's own database and connections, in the `dashboard_sessions` table
//! that our migrations create (so that no store creates tables at start).

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{Engine, Store};

const TABLE: &str = "dashboard_sessions";

/// The session store for whichever engine the store runs on.
#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// Dashboard sessions, kept in this database.
    pub fn sessions(&self) -> Sessions {
        // The names are constants that the stores accept.
        match &self.db {
            Engine::Sqlite(db) => Sessions::Sqlite(
                SqliteStore::new(db.writer.clone())
                    .with_table_name(TABLE)
                    .unwrap_or_else(|_| SqliteStore::new(db.writer.clone())),
            ),
            Engine::Postgres(db) => {
                let store = PostgresStore::new(db.writer.clone());
                Sessions::Postgres(
                    store
                        .clone()
                        .with_schema_name("public")
                        .and_then(|s| s.with_table_name(TABLE))
                        .unwrap_or(store),
                )
            }
        }
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.create(record).await,
            Sessions::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.save(record).await,
            Sessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s) => s.load(id).await,
            Sessions::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete(id).await,
            Sessions::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete_expired().await,
            Sessions::Postgres(s) => s.delete_expired().await,
        }
    }
}

impl Store {
    /// Moves every session's expiry `by` into the past, as if that much idle
    /// time had passed (for tests of expiry, which cannot wait hours).
    pub async fn age_sessions(&self, by: std::time::Duration) -> Result<(), super::StoreError> {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        match &self.db {
            Engine::Sqlite(db) => {
                sqlx::query(
                    "UPDATE dashboard_sessions SET expiry_date = \
                     strftime('%Y-%m-%dT%H:%M:%fZ', expiry_date, ?)",
                )
                .bind(format!("-{} seconds", ms / 1000))
                .execute(&db.writer)
                .await?;
            }
            Engine::Postgres(db) => {
                sqlx::query(
                    "UPDATE dashboard_sessions SET expiry_date = expiry_date - make_interval(secs => $1)",
                )
                .bind(ms as f64 / 1000.0)
                .execute(&db.writer)
                .await?;
            }
        }
        Ok(())
    }

    /// When the session stored under `id` expires (Unix seconds), if it exists.
    pub async fn session_expiry(&self, id: &str) -> Result<Option<i64>, super::StoreError> {
        Ok(match &self.db {
            Engine::Sqlite(db) => {
                sqlx::query_scalar(
                    "SELECT CAST(strftime('%s', expiry_date) AS INTEGER) FROM dashboard_sessions WHERE id = ?",
                )
                    .bind(id)
                    .fetch_optional(&db.reader)
                    .await?
            }
            Engine::Postgres(db) => sqlx::query_scalar(
                "SELECT CAST(EXTRACT(EPOCH FROM expiry_date) AS BIGINT) FROM dashboard_sessions WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&db.reader)
            .await?,
        })
    }

    /// How many sessions are stored.
    pub async fn session_count(&self) -> Result<i64, super::StoreError> {
        on_db!(&self.db, db, on => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM dashboard_sessions")
                .fetch_one(&db.reader)
                .await?)
        })
    }
}
