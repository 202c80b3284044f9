//! The PostgreSQL engine under the store: one pool, which several instances
//! of the service share the database through, migrations, and the listener
//! that hears of status changes committed by any instance (`LISTEN`/`NOTIFY`).
//! Every connection carries a statement timeout, so a stuck query cannot hold
//! a connection (or its locks) for ever.

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::mpsc;

use super::{Outage, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The channel every committed status change is announced on, with the
/// payload `<identification id> <status code>`.
pub(super) const STATUS_CHANNEL: &str = "proofme_status";

/// How the pool to a database server is sized and bounded.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections this instance keeps open at most (besides the listener's).
    pub max_connections: u32,
    /// The longest any one statement may run before the server cancels it.
    pub statement_timeout: Duration,
    /// How long a request waits for a free connection before it fails.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            statement_timeout: Duration::from_secs(30),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The database URL without its password, for messages and logs.
pub fn redact_url(database_url: &str) -> String {
    match url::Url::parse(database_url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => database_url.to_owned(),
    }
}

/// The SQLSTATEs that pass by themselves: the same request may succeed later.
pub(super) fn outage(e: &sqlx::postgres::PgDatabaseError) -> Option<Outage> {
    let code = e.code();
    match (code.get(..2).unwrap_or_default(), code) {
        // Connection exception (08…), and the server going down (57P01..57P03).
        ("08", _) | (_, "57P01" | "57P02" | "57P03") => Some(Outage::ConnectionLost),
        // Insufficient resources: a full disk (53100) or out of memory or
        // connections (53…).
        (_, "53100") => Some(Outage::DiskFull),
        ("53", _) => Some(Outage::Busy),
        // A statement cancelled by its timeout (57014), a lock not granted
        // (55P03), a deadlock or serialisation failure (40…).
        (_, "57014" | "55P03") | ("40", _) => Some(Outage::Busy),
        _ => None,
    }
}

/// The pool (read and write are the same connections here; the fields are
/// named as SQLite's so that queries are written once) and the listener's
/// own connection.
#[derive(Clone)]
pub(super) struct Engine {
    pub(super) reader: PgPool,
    pub(super) writer: PgPool,
    listener: PgPool,
}

impl Engine {
    /// Connects and migrates. One connection is tried first so that an
    /// unreachable server or a refused login is reported as itself at once,
    /// not as a pool timing out.
    pub async fn connect(
        database_url: &str,
        settings: &PoolSettings,
    ) -> Result<Engine, StoreError> {
        let timeout_ms = settings.statement_timeout.as_millis().to_string();
        let options = PgConnectOptions::from_str(database_url)?
            .application_name("proofme")
            .options([
                ("statement_timeout", timeout_ms.as_str()),
                // A transaction left open by a stuck task releases its locks.
                ("idle_in_transaction_session_timeout", timeout_ms.as_str()),
            ]);
        sqlx::Connection::close(options.connect().await?).await?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options.clone())
            .await?;
        // Instances starting together take turns: the migrator holds an
        // advisory lock while it runs.
        MIGRATOR.run(&pool).await?;
        let listener = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        Ok(Engine {
            reader: pool.clone(),
            writer: pool,
            listener,
        })
    }

    /// A plain transaction: on PostgreSQL, the statements inside take the row
    /// locks they need (`FOR UPDATE`), and other writers go on beside it.
    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.writer.begin().await?)
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.writer).await?;
        Ok(())
    }

    /// Readiness of writes: a transaction that writes nothing but takes a
    /// transaction id commits, within a short timeout.
    pub(super) async fn check_writes(&self) -> Result<(), Outage> {
        let probe = async {
            let mut tx = self.writer.begin().await?;
            sqlx::query("SELECT pg_current_xact_id()")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        };
        match tokio::time::timeout(Duration::from_secs(2), probe).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the write probe failed");
                Err(e.outage().unwrap_or(Outage::ConnectionLost))
            }
            Err(_) => {
                tracing::warn!("the write probe timed out");
                Err(Outage::Busy)
            }
        }
    }

    pub(super) async fn close(&self) {
        self.listener.close().await;
        self.writer.close().await;
    }

    /// Status changes committed by any instance, as `(id, status code)`. A
    /// task listens on a connection of its own and reconnects when it drops
    /// (changes announced meanwhile are missed; readers re-read now and then
    /// for that). Ends when the receiver is dropped or the store closed.
    pub(super) fn listen_status_changes(&self) -> mpsc::Receiver<(String, i64)> {
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(listen(self.listener.clone(), tx));
        rx
    }
}

async fn listen(pool: PgPool, tx: mpsc::Sender<(String, i64)>) {
    let mut listener = loop {
        match subscribe(&pool).await {
            Ok(l) => break l,
            Err(_) if pool.is_closed() => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for status changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                let Some((id, status)) = n.payload().split_once(' ') else {
                    continue;
                };
                let Ok(status) = status.parse::<i64>() else {
                    continue;
                };
                if tx.send((id.to_owned(), status)).await.is_err() {
                    return;
                }
            }
            // The connection dropped; the next call reconnects and listens again.
            Ok(None) => tracing::warn!("status change listener lost its connection; reconnecting"),
            Err(_) if pool.is_closed() || tx.is_closed() => return,
            Err(e) => {
                tracing::warn!(error = %e, "status change listener failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(STATUS_CHANNEL).await?;
    Ok(listener)
}
