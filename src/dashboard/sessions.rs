//! The session store the dashboard's session layer reads and writes.
//!
//! On SQLite every session load went through the single writer connection
//! (the SQL store is built on it), so each dashboard page queued behind API
//! writes. There a bounded in-memory cache sits in front (tower-sessions'
//! `CachingSessionStore` over a moka store): loads are served from memory,
//! writes still go to the database first. SQLite means one instance, so no
//! other process changes a session behind the cache's back.
//!
//! On PostgreSQL sessions are read from the database every time: several
//! instances may serve one database, and a cache in one would keep a session
//! alive there after "Sign out" on another. Its pool has room for the reads.

use async_trait::async_trait;
use tower_sessions::CachingSessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_moka_store::MokaStore;

use crate::store::Sessions;

/// The most sessions the cache holds; past that, the least used go (and are
/// loaded from the database again when next used). A record is well under
/// 1 KiB, so this bounds the cache to a few MiB.
pub const CACHE_CAPACITY: u64 = 10_000;

/// The dashboard's session store: cached on SQLite, direct on PostgreSQL.
#[derive(Debug, Clone)]
pub enum DashboardSessions {
    Cached(CachingSessionStore<MokaStore, Sessions>),
    Direct(Sessions),
}

impl DashboardSessions {
    pub fn new(sessions: Sessions) -> DashboardSessions {
        match sessions {
            Sessions::Sqlite(_) => DashboardSessions::Cached(CachingSessionStore::new(
                MokaStore::new(Some(CACHE_CAPACITY)),
                sessions,
            )),
            Sessions::Postgres(_) => DashboardSessions::Direct(sessions),
        }
    }
}

#[async_trait]
impl SessionStore for DashboardSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            DashboardSessions::Cached(s) => s.create(record).await,
            DashboardSessions::Direct(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            DashboardSessions::Cached(s) => s.save(record).await,
            DashboardSessions::Direct(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            DashboardSessions::Cached(s) => s.load(id).await,
            DashboardSessions::Direct(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            DashboardSessions::Cached(s) => s.delete(id).await,
            DashboardSessions::Direct(s) => s.delete(id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    async fn sqlite(dir: &tempfile::TempDir) -> crate::store::Store {
        let url = format!("sqlite://{}/sessions.db", dir.path().display());
        crate::store::Store::connect(&url).await.expect("store")
    }

    fn record(lasting: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + lasting,
        }
    }

    #[tokio::test]
    async fn on_sqlite_a_session_once_stored_is_read_from_memory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = sqlite(&dir).await;
        let sessions = DashboardSessions::new(store.sessions());
        let mut r = record(time::Duration::hours(1));
        sessions.create(&mut r).await.expect("create");

        // Gone from the database behind the cache's back: still read.
        store.sessions().delete(&r.id).await.expect("delete row");

        assert!(matches!(sessions, DashboardSessions::Cached(_)));
        assert_eq!(sessions.load(&r.id).await.expect("load"), Some(r));
    }

    #[tokio::test]
    async fn a_cached_session_still_ends_at_its_expiry() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = sqlite(&dir).await;
        let sessions = DashboardSessions::new(store.sessions());
        let mut r = record(time::Duration::milliseconds(500));
        sessions.create(&mut r).await.expect("create");
        assert!(sessions.load(&r.id).await.expect("load").is_some());

        tokio::time::sleep(std::time::Duration::from_millis(800)).await;

        assert_eq!(sessions.load(&r.id).await.expect("load"), None);
    }
}
