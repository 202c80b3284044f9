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
