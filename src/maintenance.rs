//! The store's background jobs, each its own task with its own schedule,
//! each logging what it did: recording expiries, erasing shared data past its
//! retention, deleting idempotency keys past their window and audit events
//! past theirs, and watching the free disk space. Each takes only what it
//! works on. (Features keep their own jobs: the API its rate limiters', the
//! dashboard its sessions'.) A job whose database work fails (a full disk, a
//! lock held elsewhere) keeps its schedule and carries on once the database
//! does; it says so once, not at every tick.

use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

use crate::background::{Failures, REPEAT_WARNING_EVERY, every};
use crate::lifecycle::Lifecycle;
use crate::store::Store;

/// How often the expiry sweep looks: expiries are recorded (and their
/// webhooks leave) within about this long.
pub const EXPIRY_SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Expiries recorded per transaction.
const EXPIRY_BATCH: i64 = 500;
/// How often idempotency keys past their 24-hour window are deleted.
pub const IDEMPOTENCY_PRUNE_EVERY: Duration = Duration::from_secs(600);
/// How often the free space beside the database is looked at.
pub const DISK_WATCH_EVERY: Duration = Duration::from_secs(30);

/// Records expiries as they fall due, so their webhooks leave within seconds.
pub async fn expiry_sweep(lifecycle: Lifecycle, period: Duration) {
    const JOB: &str = "expiry sweep";
    let mut tick = every(period);
    let mut failures = Failures::default();
    loop {
        tick.tick().await;
        match lifecycle.expire_due(EXPIRY_BATCH).await {
            Ok(n) => {
                failures.succeeded(JOB);
                if n > 0 {
                    tracing::info!(identifications = n, "expiry sweep recorded expiries");
                }
            }
            Err(e) => failures.failed(JOB, &e),
        }
    }
}

/// Erases shared data once it is older than the retention period, or than
/// its organisation's shorter one (it is written when its identification
/// becomes final). Looks at least once a minute, more often for short
/// periods.
pub async fn data_retention(store: Store, retention: Duration) {
    const JOB: &str = "data retention sweep";
    let mut tick = every(retention.clamp(Duration::from_millis(200), Duration::from_secs(60)));
    let mut failures = Failures::default();
    loop {
        tick.tick().await;
        match store.erase_shared_data_past_retention(retention).await {
            Ok(n) => {
                failures.succeeded(JOB);
                if n > 0 {
                    tracing::info!(records = n, "shared data past its retention erased");
                }
            }
            Err(e) => failures.failed(JOB, &e),
        }
    }
}

/// Deletes audit events older than `retention` (the only deletion the audit
/// log ever sees). Looks at least once a minute, more often for short
/// periods.
pub async fn audit_purge(store: Store, retention: Duration) {
    const JOB: &str = "audit log retention purge";
    let mut tick = every(retention.clamp(Duration::from_millis(200), Duration::from_secs(60)));
    let mut failures = Failures::default();
    loop {
        tick.tick().await;
        let cutoff = store.clock().now().minus(retention);
        match store.audit().purge_before(cutoff).await {
            Ok(n) => {
                failures.succeeded(JOB);
                if n > 0 {
                    tracing::info!(events = n, "audit events past their retention deleted");
                }
            }
            Err(e) => failures.failed(JOB, &e),
        }
    }
}

/// Deletes idempotency keys past their 24-hour window. (A key past its
/// window is also ignored and replaced when it is used again; this keeps the
/// table from growing.)
pub async fn idempotency_pruning(store: Store, period: Duration) {
    const JOB: &str = "idempotency key pruning";
    let mut tick = every(period);
    let mut failures = Failures::default();
    loop {
        tick.tick().await;
        match store.prune_idempotency_keys().await {
            Ok(n) => {
                failures.succeeded(JOB);
                if n > 0 {
                    tracing::info!(keys = n, "old idempotency keys deleted");
                }
            }
            Err(e) => failures.failed(JOB, &e),
        }
    }
}

/// A warning when the database's filesystem has less than `min_free_bytes`
/// free (`None` when there is enough, or the engine cannot tell).
pub fn low_disk_warning(store: &Store, min_free_bytes: u64) -> Option<String> {
    let free = store.free_disk_bytes()?;
    (free < min_free_bytes).then(|| {
        format!(
            "low disk space: {} MB free on the database's filesystem (PROOFME_MIN_FREE_DISK_MB is {})",
            free / (1024 * 1024),
            min_free_bytes / (1024 * 1024)
        )
    })
}

/// Warns in the log while free disk space beside the database is low: when
/// it becomes low, then every minute, and says when it is enough again.
pub async fn disk_watch(store: Store, min_free_bytes: u64, period: Duration) {
    let mut tick = every(period);
    let mut last_said: Option<Instant> = None;
    loop {
        tick.tick().await;
        match low_disk_warning(&store, min_free_bytes) {
            Some(warning) => {
                if last_said.is_none_or(|t| t.elapsed() >= REPEAT_WARNING_EVERY) {
                    tracing::warn!("{warning}");
                    last_said = Some(Instant::now());
                }
            }
            None => {
                if last_said.take().is_some() {
                    tracing::info!("free disk space beside the database is enough again");
                }
            }
        }
    }
}

/// The running jobs; dropping this stops them.
pub struct Jobs(Vec<JoinHandle<()>>);

impl Jobs {
    /// Starts every job of the store's with its default schedule.
    pub fn start(
        lifecycle: &Lifecycle,
        store: &Store,
        retention: Duration,
        audit_retention: Duration,
        min_free_disk_bytes: u64,
    ) -> Jobs {
        Jobs(vec![
            tokio::spawn(expiry_sweep(lifecycle.clone(), EXPIRY_SWEEP_EVERY)),
            tokio::spawn(data_retention(store.clone(), retention)),
            tokio::spawn(idempotency_pruning(store.clone(), IDEMPOTENCY_PRUNE_EVERY)),
            tokio::spawn(audit_purge(store.clone(), audit_retention)),
            tokio::spawn(disk_watch(
                store.clone(),
                min_free_disk_bytes,
                DISK_WATCH_EVERY,
            )),
        ])
    }
}

impl Jobs {
    /// Adds a feature's own job, to be stopped with the rest.
    pub fn and(mut self, job: JoinHandle<()>) -> Jobs {
        self.0.push(job);
        self
    }
}

impl Drop for Jobs {
    fn drop(&mut self) {
        for job in &self.0 {
            job.abort();
        }
    }
}
