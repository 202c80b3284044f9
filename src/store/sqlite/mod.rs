//! The SQLite engine under the store: the connection settings, one writer
//! connection (SQLite serialises writers anyway; one writer measured p99
//! 3.8 ms against up to 960 ms with eight) and a few readers, which WAL lets
//! run beside the writer; migrations, background checkpoints and group
//! commit. A PostgreSQL engine would sit beside this one, under the same
//! `Store` and caches.

pub(super) mod group_commit;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The connection settings every store connection uses (public so that the
/// storage benchmark measures SQLite under exactly these pragmas).
pub fn connect_options(database_url: &str) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        .pragma("temp_store", "memory")
        // Checkpoints run in the background (see `checkpoint_regularly`), not
        // inside a commit; this is only a backstop should that stall.
        .pragma("wal_autocheckpoint", "10000")
        // After a checkpoint resets the WAL, cut the file back to this size.
        .pragma("journal_size_limit", "67108864")
        // A page cache and memory-mapped reads large enough that index pages
        // of a table of millions of rows stay in memory (the default is 2 MB).
        .pragma("cache_size", "-65536")
        .pragma("mmap_size", "268435456")
        // Erased personal data is overwritten, not just unlinked.
        .pragma("secure_delete", "on"))
}

/// The pools and the committing task.
#[derive(Clone)]
pub(super) struct Engine {
    pub(super) writer: SqlitePool,
    pub(super) reader: SqlitePool,
    pub(super) group_commit: group_commit::GroupCommit,
    checkpointer: Option<SqlitePool>,
}

impl Engine {
    /// Opens (creating if missing) and migrates the database. Every pragma that
    /// matters is set explicitly: sqlx's defaults do not enable WAL everywhere.
    pub async fn connect(database_url: &str) -> Result<Engine, StoreError> {
        let options = connect_options(database_url)?;
        let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");

        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;

        let checkpointer = if in_memory {
            None
        } else {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            tokio::spawn(checkpoint_regularly(pool.clone()));
            Some(pool)
        };

        // Each in-memory connection is its own database: there, share the writer.
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(Engine {
            reader,
            group_commit: group_commit::GroupCommit::start(writer.clone()),
            checkpointer,
            writer,
        })
    }

    /// A write transaction that takes the write lock up front, so a read inside
    /// it can never be invalidated by another writer (no SQLITE_BUSY upgrade).
    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Readiness: both pools answer.
    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        sqlx::query("SELECT 1").execute(&self.writer).await?;
        Ok(())
    }

    /// `PRAGMA integrity_check`: "ok" for a sound database.
    pub(super) async fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.writer)
            .await?)
    }

    /// Checkpoints the WAL and closes the pools, for a clean shutdown.
    pub(super) async fn close(&self) {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
        }
        if let Some(c) = &self.checkpointer {
            c.close().await;
        }
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies committed pages from the WAL into the database on a connection of
/// its own, so that neither the copy nor its fsync ever lands inside a
/// commit that a request is waiting for, and the WAL stays small. PASSIVE
/// never waits for readers or the writer. Ends when the store is closed.
async fn checkpoint_regularly(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "background checkpoint failed");
        }
    }
}
