//! Background jobs, each its own task with its own schedule, each logging
//! what it did: recording expiries, erasing shared data past its retention,
//! deleting idempotency keys past their window, and forgetting idle rate
//! limiter entries. Each takes only what it works on.

use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};

use crate::api::rate_limit::Limits;
use crate::domain::Timestamp;
use crate::lifecycle::Lifecycle;
use crate::store::Store;

/// How often the expiry sweep looks: expiries are recorded (and their
/// webhooks leave) within about this long.
pub const EXPIRY_SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Expiries recorded per transaction.
const EXPIRY_BATCH: i64 = 500;
/// How often idempotency keys past their 24-hour window are deleted.
pub const IDEMPOTENCY_PRUNE_EVERY: Duration = Duration::from_secs(600);
/// How often rate limiter entries that went quiet are dropped.
pub const LIMITER_HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);

fn every(period: Duration) -> Interval {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick
}

/// Records expiries as they fall due, so their webhooks leave within seconds.
pub async fn expiry_sweep(lifecycle: Lifecycle, period: Duration) {
    let mut tick = every(period);
    loop {
        tick.tick().await;
        match lifecycle.expire_due(EXPIRY_BATCH).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(identifications = n, "expiry sweep recorded expiries"),
            Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
        }
    }
}

/// Erases shared data once it is older than the retention period (it is
/// written when its identification becomes final). Looks at least once a
/// minute, more often for short periods.
pub async fn data_retention(store: Store, retention: Duration) {
    let mut tick = every(retention.clamp(Duration::from_millis(200), Duration::from_secs(60)));
    loop {
        tick.tick().await;
        let cutoff = Timestamp::now().minus(retention);
        match store.erase_shared_data_before(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(records = n, "shared data past its retention erased"),
            Err(e) => tracing::warn!(error = %e, "data retention sweep failed"),
        }
    }
}

/// Deletes idempotency keys past their 24-hour window. (A key past its
/// window is also ignored and replaced when it is used again; this keeps the
/// table from growing.)
pub async fn idempotency_pruning(store: Store, period: Duration) {
    let mut tick = every(period);
    loop {
        tick.tick().await;
        match store.prune_idempotency_keys().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(keys = n, "old idempotency keys deleted"),
            Err(e) => tracing::warn!(error = %e, "idempotency key pruning failed"),
        }
    }
}

/// Rate limiter entries for keys and addresses that went quiet carry no
/// information; dropping them now and then keeps memory flat.
pub async fn limiter_housekeeping(limits: Limits, period: Duration) {
    let mut tick = every(period);
    loop {
        tick.tick().await;
        let (keys, addresses) = limits.forget_idle();
        if keys + addresses > 0 {
            tracing::debug!(keys, addresses, "idle rate limiter entries forgotten");
        }
    }
}

/// The running jobs; dropping this stops them.
pub struct Jobs(Vec<JoinHandle<()>>);

impl Jobs {
    /// Starts every job with its default schedule.
    pub fn start(
        lifecycle: &Lifecycle,
        store: &Store,
        limits: &Limits,
        retention: Duration,
    ) -> Jobs {
        Jobs(vec![
            tokio::spawn(expiry_sweep(lifecycle.clone(), EXPIRY_SWEEP_EVERY)),
            tokio::spawn(data_retention(store.clone(), retention)),
            tokio::spawn(idempotency_pruning(store.clone(), IDEMPOTENCY_PRUNE_EVERY)),
            tokio::spawn(limiter_housekeeping(
                limits.clone(),
                LIMITER_HOUSEKEEPING_EVERY,
            )),
        ])
    }
}

impl Drop for Jobs {
    fn drop(&mut self) {
        for job in &self.0 {
            job.abort();
        }
    }
}
