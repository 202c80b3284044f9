//! What every background job shares: a steady schedule, and logging a run
//! of failures a few times rather than at every tick.

use std::time::{Duration, Instant};
use tokio::time::{Interval, MissedTickBehavior};

use crate::store::StoreError;

/// While a job keeps failing, or a warning holds, it is said again this often.
pub const REPEAT_WARNING_EVERY: Duration = Duration::from_secs(60);

/// Ticks every `period`; a tick missed while the job was busy is delayed,
/// not fired in a burst.
pub fn every(period: Duration) -> Interval {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick
}

/// One job's run of failures, so that a fault lasting minutes makes a few
/// log lines rather than one a tick, and its end is logged too.
#[derive(Default)]
pub struct Failures {
    since: Option<Instant>,
    last_said: Option<Instant>,
    suppressed: u64,
}

impl Failures {
    pub fn failed(&mut self, job: &'static str, e: &StoreError) {
        let now = Instant::now();
        self.since.get_or_insert(now);
        if self
            .last_said
            .is_some_and(|t| now.duration_since(t) < REPEAT_WARNING_EVERY)
        {
            self.suppressed += 1;
            return;
        }
        tracing::warn!(job, error = %e, failures_not_logged = self.suppressed, "background job failed");
        self.last_said = Some(now);
        self.suppressed = 0;
    }

    pub fn succeeded(&mut self, job: &'static str) {
        if let Some(since) = self.since.take() {
            tracing::info!(
                job,
                failing_for_secs = since.elapsed().as_secs_f64(),
                "background job works again"
            );
        }
        self.last_said = None;
        self.suppressed = 0;
    }
}
