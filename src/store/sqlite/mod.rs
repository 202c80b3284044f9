//! The SQLite engine under the store: the connection settings, one writer
//! connection (SQLite serialises writers anyway; one writer measured p99
//! 3.8 ms against up to 960 ms with eight) and a few readers, which WAL lets
//! run beside the writer; migrations, background checkpoints and group
//! commit. A PostgreSQL engine would sit beside this one, under the same
//! `Store` and caches.

pub(super) mod group_commit;

use sqlx::error::DatabaseError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, Transaction};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Outage, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What an operator may tune about the database connections.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a statement waits for a lock held by another connection
    /// before it gives up (and its request gets a 503).
    pub busy_timeout: Duration,
    /// The most the database may hold, if limited: a write that would grow
    /// it further fails as on a full disk (and its request gets a 503).
    pub max_database_bytes: Option<u64>,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            busy_timeout: Duration::from_secs(5),
            max_database_bytes: None,
        }
    }
}

/// SQLite's page size for new databases, which we keep.
const PAGE_SIZE: u64 = 4096;
/// A database with a size limit and fewer pages than this left under it
/// is full, as far as readiness is concerned (a create takes a few).
const NEAR_FULL_PAGES: i64 = 16;

/// The SQLite result codes that pass by themselves (the primary code is
/// the low byte of an extended one): the same request may succeed later.
pub(super) fn outage(e: &dyn DatabaseError) -> Option<Outage> {
    let code: i32 = e.code()?.parse().ok()?;
    match code & 0xff {
        // SQLITE_BUSY, SQLITE_LOCKED
        5 | 6 => Some(Outage::Busy),
        // SQLITE_FULL
        13 => Some(Outage::DiskFull),
        // SQLITE_NOMEM, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_PROTOCOL
        7 | 10 | 14 | 15 => Some(Outage::ConnectionLost),
        _ => None,
    }
}

/// The connection settings every store connection uses (public so that the
/// storage benchmark measures SQLite under exactly these pragmas).
pub fn connect_options(database_url: &str) -> Result<SqliteConnectOptions, StoreError> {
    connect_options_with(database_url, &StoreOptions::default())
}

fn connect_options_with(
    database_url: &str,
    settings: &StoreOptions,
) -> Result<SqliteConnectOptions, StoreError> {
    let mut options = SqliteConnectOptions::from_str(database_url)?;
    if let Some(bytes) = settings.max_database_bytes {
        options = options.pragma("max_page_count", (bytes / PAGE_SIZE).max(1).to_string());
    }
    Ok(options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(settings.busy_timeout)
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
    /// The database file, for the free space beside it (`None` in memory).
    file: Option<PathBuf>,
    /// The database has a size limit (`StoreOptions::max_database_bytes`).
    limited: bool,
    /// The last write probe, shared by readiness checks that come together.
    probe: Arc<tokio::sync::Mutex<Option<Probe>>>,
    /// The last create's commit failed for lack of space (set and cleared by
    /// group commit), or a readiness probe found no room since. While set,
    /// readiness probes with a write as large as a create's.
    disk_full: Arc<AtomicBool>,
}

/// When the write path was last probed, whether with the large write, and
/// how that went.
type Probe = (Instant, bool, Result<(), Outage>);

/// The size of the write readiness probes with while creates fail for lack
/// of space: a failed commit leaves its frames' room in the WAL file, where
/// a one-page write still fits; this needs as much new room as a batch of
/// creates does, so it succeeds only once creates would.
const LARGE_PROBE_BYTES: i64 = 64 * 1024;

/// How long one readiness probe of the write path may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Readiness checks within this long of a probe share its result, so that
/// a flood of checks costs at most one small write per interval.
const PROBE_REUSE: Duration = Duration::from_millis(500);

impl Engine {
    /// Opens (creating if missing) and migrates the database. Every pragma that
    /// matters is set explicitly: sqlx's defaults do not enable WAL everywhere.
    pub async fn connect(
        database_url: &str,
        settings: &StoreOptions,
    ) -> Result<Engine, StoreError> {
        let options = connect_options_with(database_url, settings)?;
        let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");
        let file = (!in_memory).then(|| options.get_filename().to_path_buf());

        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .after_release(|conn, _| Box::pin(leave_no_transaction_open(conn)))
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
        let disk_full = Arc::new(AtomicBool::new(false));
        Ok(Engine {
            reader,
            group_commit: group_commit::GroupCommit::start(writer.clone(), disk_full.clone()),
            checkpointer,
            file,
            limited: settings.max_database_bytes.is_some(),
            probe: Arc::default(),
            disk_full,
            writer,
        })
    }

    /// Readiness of the write path: takes the write lock and commits a
    /// write of one page (the schema's unchanged `user_version`), so that it
    /// fails exactly when writes fail: a lock held elsewhere, a full disk, a
    /// writer that cannot reconnect. While creates fail for lack of space,
    /// the write is a create's size instead (see `LARGE_PROBE_BYTES`), and
    /// its success is what clears that state. Within `PROBE_TIMEOUT`; probes
    /// asked for together share one.
    pub(super) async fn check_writes(&self) -> Result<(), Outage> {
        let mut last = self.probe.lock().await;
        let large = self.disk_full.load(Ordering::Relaxed);
        if let Some((at, was_large, result)) = *last {
            // A small probe's success says nothing once creates fail for space.
            if at.elapsed() < PROBE_REUSE && (was_large || !large) {
                return result;
            }
        }
        let result = match tokio::time::timeout(PROBE_TIMEOUT, self.probe_write(large)).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(timeout = ?PROBE_TIMEOUT, "the write probe timed out");
                Err(Outage::Busy)
            }
        };
        match result {
            Ok(()) if large => {
                self.disk_full.store(false, Ordering::Relaxed);
                tracing::info!("a create-sized write commits again: ready");
            }
            Err(Outage::DiskFull) => self.disk_full.store(true, Ordering::Relaxed),
            _ => {}
        }
        *last = Some((Instant::now(), large, result));
        result
    }

    async fn probe_write(&self, large: bool) -> Result<(), Outage> {
        match self.probe_write_once(large).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Outage::DiskFull),
            Err(e) => {
                tracing::warn!(error = %e, "the write probe failed");
                Err(e.outage().unwrap_or(Outage::ConnectionLost))
            }
        }
    }

    /// `Ok(false)`: the write went through, but the database has reached
    /// its size limit (`max_page_count`), which a one-page write that
    /// reuses its page cannot tell.
    async fn probe_write_once(&self, large: bool) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let room = if self.limited {
            let mut pragma = async |name: &str| -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(&format!("PRAGMA {name}"))
                    .fetch_one(&mut *tx)
                    .await?)
            };
            let limit = pragma("max_page_count").await?;
            let used = pragma("page_count").await? - pragma("freelist_count").await?;
            limit - used >= NEAR_FULL_PAGES
        } else {
            true
        };
        if large {
            // Random bytes, so that nothing on the way can make them smaller.
            sqlx::query("INSERT INTO readiness_probe (b) VALUES (randomblob(?))")
                .bind(LARGE_PROBE_BYTES)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM readiness_probe")
                .execute(&mut *tx)
                .await?;
        } else {
            let version: i64 = sqlx::query_scalar("PRAGMA user_version")
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(&format!("PRAGMA user_version = {version}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(room)
    }

    /// Bytes free to us on the database file's filesystem (`None` in memory
    /// or when the system will not say).
    pub(super) fn free_disk_bytes(&self) -> Option<u64> {
        let dir = self.file.as_deref()?.parent()?;
        let dir = if dir.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            dir
        };
        free_bytes(dir)
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

    /// Copies the whole WAL into the database and empties the WAL file, so
    /// that rows just erased (overwritten in the database by
    /// `secure_delete`) leave no earlier copy of their pages in the WAL.
    /// A checkpoint already running (the background one) makes it busy for
    /// a moment: it tries again a few times. A WAL that readers still need
    /// after that is left to later checkpoints, and that is logged.
    pub(super) async fn truncate_wal(&self) {
        const ATTEMPTS: u32 = 20;
        let mut pause = Duration::from_millis(5);
        for attempt in 1..=ATTEMPTS {
            let outcome = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.writer)
                .await;
            let busy = match outcome {
                Ok((0, _, _)) => return,
                Ok(_) => "readers still use it".to_owned(),
                Err(e) => e.to_string(),
            };
            if attempt == ATTEMPTS {
                tracing::warn!(
                    cause = %busy,
                    "the WAL could not be emptied after an erasure; later checkpoints will"
                );
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
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

#[cfg(unix)]
fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_: &std::path::Path) -> Option<u64> {
    None
}

/// Runs whenever the writer connection goes back to its pool. A transaction
/// whose COMMIT or ROLLBACK failed (a full disk makes SQLite end it by
/// itself) leaves the connection believing it is still inside one, and every
/// later BEGIN on it would fail. Such a connection is closed (SQLite rolls
/// back whatever is open) and the pool opens a fresh one.
async fn leave_no_transaction_open(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    // Waits for a rollback still queued from a dropped transaction.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("the writer connection was left inside a failed transaction; replacing it");
        return Ok(false);
    }
    Ok(true)
}

/// How soon the next checkpoint runs after one that copied pages. A
/// checkpoint holds up the writer's commits while it writes its pages out,
/// so small and frequent is what keeps the tail short: at 16,000 creates a
/// second, checkpoints every 250 ms left a p99 of 13 ms, every 10 ms 4 ms.
const CHECKPOINT_BUSY: Duration = Duration::from_millis(10);
/// The longest wait between checkpoints, reached by doubling while there is
/// nothing to copy, so that an idle service is not woken a hundred times a
/// second.
const CHECKPOINT_IDLE: Duration = Duration::from_millis(250);

/// The wait before the next checkpoint, given the last wait and whether
/// the WAL changed since the checkpoint before.
fn next_checkpoint_in(last: Duration, wal_changed: bool) -> Duration {
    if wal_changed {
        CHECKPOINT_BUSY
    } else {
        (last * 2).clamp(CHECKPOINT_BUSY, CHECKPOINT_IDLE)
    }
}

/// Copies committed pages from the WAL into the database on a connection of
/// its own, so that neither the copy nor its fsync ever lands inside a
/// commit that a request is waiting for, and the WAL stays small. PASSIVE
/// never waits for readers or the writer. Ends when the store is closed.
/// While checkpoints fail (a full disk), this is logged once a minute.
async fn checkpoint_regularly(pool: SqlitePool) {
    const REPEAT_WARNING_EVERY: Duration = Duration::from_secs(60);
    let mut wait = CHECKPOINT_IDLE;
    // The WAL's frame count and how many of them are in the database, as
    // the last checkpoint left them: the same again means nothing was written.
    let mut last_wal: Option<(i64, i64)> = None;
    let mut failing: Option<(Instant, Instant)> = None;
    loop {
        tokio::time::sleep(wait).await;
        if pool.is_closed() {
            return;
        }
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await
        {
            Ok((_busy, frames, copied)) => {
                let wal = Some((frames, copied));
                wait = next_checkpoint_in(wait, wal != last_wal);
                last_wal = wal;
                if let Some((since, _)) = failing.take() {
                    tracing::info!(
                        failing_for_secs = since.elapsed().as_secs_f64(),
                        "background checkpoints work again"
                    );
                }
            }
            Err(e) => {
                if pool.is_closed() {
                    return;
                }
                wait = CHECKPOINT_IDLE;
                let now = Instant::now();
                match &mut failing {
                    Some((_, said)) if now.duration_since(*said) < REPEAT_WARNING_EVERY => {}
                    Some((_, said)) => {
                        *said = now;
                        tracing::warn!(error = %e, "background checkpoints still fail");
                    }
                    None => {
                        failing = Some((now, now));
                        tracing::warn!(error = %e, "background checkpoint failed");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_follow_writes_and_back_off_when_idle() {
        assert_eq!(next_checkpoint_in(CHECKPOINT_IDLE, true), CHECKPOINT_BUSY);
        let mut wait = CHECKPOINT_BUSY;
        let mut waits = Vec::new();
        while wait < CHECKPOINT_IDLE {
            wait = next_checkpoint_in(wait, false);
            waits.push(wait);
        }
        assert_eq!(waits.len(), 5, "{waits:?}");
        assert_eq!(next_checkpoint_in(wait, false), CHECKPOINT_IDLE);
    }

    /// Pages written reach the database file without anything else
    /// checkpointing: far fewer than `wal_autocheckpoint`, no close.
    #[tokio::test]
    async fn committed_pages_are_copied_into_the_database_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("store.db");
        let engine = Engine::connect(
            &format!("sqlite://{}", file.display()),
            &StoreOptions::default(),
        )
        .await
        .unwrap();
        let before = std::fs::metadata(&file).unwrap().len();

        sqlx::query(
            "CREATE TABLE filler (x BLOB); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) \
             INSERT INTO filler SELECT randomblob(2000) FROM n",
        )
        .execute(&engine.writer)
        .await
        .unwrap();

        let grown = 200 * 2000;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::metadata(&file).unwrap().len() < before + grown {
            assert!(Instant::now() < deadline, "the pages stayed in the WAL");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        engine.close().await;
    }
}
