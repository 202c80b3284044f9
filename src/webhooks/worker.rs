//! The delivery worker: sends due outbox rows, records every attempt, and
//! schedules retries. Each delivery runs in its own task, with a cap overall
//! and per organisation, so a slow or dead receiver never holds up another
//! organisation's webhooks, nor any API request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

use super::deliver::{Deliverer, Outcome, WebhookHeaders};
use super::signing::sign_all;
use crate::config::DEFAULT_WEBHOOK_LEASE;
use crate::domain::{OrganisationId, Timestamp, WebhookSecret};
use crate::store::{Attempt, DeliveryState, DueWebhook, Organisation, Store};

/// Deliveries under way at once, in all.
const MAX_IN_FLIGHT: usize = 32;
/// Deliveries under way at once for one organisation.
const MAX_PER_ORGANISATION: usize = 4;
/// Polling catches retries coming due and rows written by other processes.
const POLL_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Busy {
    messages: HashSet<String>,
    per_org: HashMap<OrganisationId, usize>,
}

/// What the worker needs, and nothing more: the outbox, the HTTP client, the
/// retry schedule, and the signal that a change wrote an outbox row.
#[derive(Clone)]
pub struct Worker {
    store: Store,
    deliverer: Deliverer,
    retry_schedule: Arc<[Duration]>,
    due: Arc<Notify>,
    lease: Duration,
}

impl Worker {
    pub fn new(
        store: Store,
        deliverer: Deliverer,
        retry_schedule: Vec<Duration>,
        due: Arc<Notify>,
    ) -> Worker {
        Worker {
            store,
            deliverer,
            retry_schedule: retry_schedule.into(),
            due,
            lease: DEFAULT_WEBHOOK_LEASE,
        }
    }

    /// How long a claim keeps a delivery from other workers (see `DEFAULT_WEBHOOK_LEASE`).
    pub fn with_lease(mut self, lease: Duration) -> Worker {
        self.lease = lease;
        self
    }
}

/// Runs until the task is dropped.
pub async fn run(worker: Worker) {
    let busy = Arc::new(Mutex::new(Busy::default()));
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    match worker.store.release_webhook_claims().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            deliveries = n,
            "resuming webhook deliveries cut off by a stop"
        ),
        Err(e) => tracing::warn!(error = %e, "could not release earlier webhook claims"),
    }
    // A database fault (full disk, lock held elsewhere) is logged once a
    // minute while it lasts; the worker carries on when the database does.
    let mut failures = crate::background::Failures::default();
    loop {
        match dispatch_due(&worker, &busy, &slots).await {
            Ok(()) => failures.succeeded("webhook worker"),
            Err(e) => failures.failed("webhook worker", &e),
        }
        tokio::select! {
            () = worker.due.notified() => {}
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
    }
}

fn lock(busy: &Mutex<Busy>) -> std::sync::MutexGuard<'_, Busy> {
    busy.lock().unwrap_or_else(|p| p.into_inner())
}

async fn dispatch_due(
    worker: &Worker,
    busy: &Arc<Mutex<Busy>>,
    slots: &Arc<Semaphore>,
) -> Result<(), crate::store::StoreError> {
    let now = worker.store.clock().now();
    for row in worker.store.due_webhooks(now, 200).await? {
        {
            let b = lock(busy);
            let org_load = b.per_org.get(&row.organisation_id).copied().unwrap_or(0);
            if b.messages.contains(&row.id) || org_load >= MAX_PER_ORGANISATION {
                continue;
            }
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            break;
        };
        if !worker
            .store
            .claim_webhook(&row.id, now, now.plus(worker.lease))
            .await?
        {
            continue;
        }
        {
            let mut b = lock(busy);
            b.messages.insert(row.id.clone());
            *b.per_org.entry(row.organisation_id.clone()).or_default() += 1;
        }
        let (worker, busy) = (worker.clone(), busy.clone());
        tokio::spawn(async move {
            let (id, org) = (row.id.clone(), row.organisation_id.clone());
            deliver_one(&worker, row).await;
            {
                let mut b = lock(&busy);
                b.messages.remove(&id);
                if let Some(n) = b.per_org.get_mut(&org) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        b.per_org.remove(&org);
                    }
                }
            }
            drop(slot);
            // Rows of this organisation may have waited for the slot.
            worker.due.notify_one();
        });
    }
    Ok(())
}

/// The state after attempt number `attempt` ended with `outcome`: retries
/// follow `schedule` (the delay before the 2nd, 3rd … attempt).
pub fn next_state(
    outcome: Outcome,
    attempt: i64,
    schedule: &[Duration],
    now: Timestamp,
) -> (DeliveryState, Timestamp) {
    match outcome {
        Outcome::Delivered => (DeliveryState::Delivered, now),
        Outcome::Gone => (DeliveryState::Gone, now),
        Outcome::Failed => {
            let retry = usize::try_from(attempt - 1)
                .ok()
                .and_then(|i| schedule.get(i));
            match retry {
                Some(delay) => (DeliveryState::Pending, now.plus(*delay)),
                None => (DeliveryState::Failed, now),
            }
        }
    }
}

async fn deliver_one(worker: &Worker, row: DueWebhook) {
    let org = match worker.store.get_organisation(&row.organisation_id).await {
        Ok(Some(org)) => org,
        Ok(None) => {
            tracing::error!(message = %row.id, "webhook for a missing organisation");
            return;
        }
        Err(e) => {
            // The lease runs out and the row is tried again.
            tracing::warn!(error = %e, message = %row.id, "could not load the signing secret");
            return;
        }
    };
    let attempted_at = worker.store.clock().now();
    // The organisation's secrets as they are now: after a rotation, the new
    // one and (during the overlap) the previous one too.
    let Some(secrets) = signing_secrets(&org, attempted_at) else {
        return;
    };
    let timestamp = attempted_at.millis() / 1000;
    let body = row.payload.clone().into_bytes();
    let headers = WebhookHeaders {
        id: row.id.clone(),
        timestamp,
        signature: sign_all(&secrets, &row.id, timestamp, &body),
    };
    let result = worker.deliverer.send(&row.url, headers, body).await;
    let attempt_no = row.attempts + 1;
    let (next, next_at) = next_state(
        result.outcome(),
        attempt_no,
        &worker.retry_schedule,
        worker.store.clock().now(),
    );
    tracing::info!(
        message = %row.id,
        identification = %row.identification_id.for_log(),
        attempt = attempt_no,
        status = ?result.status,
        error = ?result.error,
        state = next.as_str(),
        "webhook attempt"
    );
    let attempt = Attempt {
        attempt: attempt_no,
        attempted_at,
        status_code: result.status,
        error: result.error,
        duration_ms: result.duration_ms,
    };
    if let Err(e) = worker
        .store
        .record_webhook_attempt(&row.id, &attempt, next, next_at)
        .await
    {
        tracing::error!(error = %e, message = %row.id, "could not record a webhook attempt");
    }
}

/// The secrets that sign what `org` is sent at `now`, parsed; `None` (and
/// logged, without the secret) when the current one is unreadable. An
/// unreadable previous secret is left out: the current one still signs.
pub(crate) fn signing_secrets(org: &Organisation, now: Timestamp) -> Option<Vec<WebhookSecret>> {
    let mut parsed = Vec::new();
    for (i, secret) in org.signing_secrets(now).into_iter().enumerate() {
        match WebhookSecret::parse(secret) {
            Ok(s) => parsed.push(s),
            Err(e) => {
                tracing::error!(organisation = %org.id, current = i == 0, error = %e, "an organisation's webhook secret is unreadable");
                if i == 0 {
                    return None;
                }
            }
        }
    }
    Some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &[u64]) -> Vec<Duration> {
        s.iter().map(|n| Duration::from_secs(*n)).collect()
    }

    #[test]
    fn failures_retry_on_the_schedule_then_give_up() {
        let schedule = secs(&[60, 120]);
        let now = Timestamp::from_millis(1_000_000);
        assert_eq!(
            next_state(Outcome::Failed, 1, &schedule, now),
            (DeliveryState::Pending, now.plus(Duration::from_secs(60)))
        );
        assert_eq!(
            next_state(Outcome::Failed, 2, &schedule, now),
            (DeliveryState::Pending, now.plus(Duration::from_secs(120)))
        );
        assert_eq!(
            next_state(Outcome::Failed, 3, &schedule, now).0,
            DeliveryState::Failed
        );
    }

    #[test]
    fn the_default_schedule_makes_ten_calls_over_about_26_hours() {
        let schedule = secs(&[60, 120, 240, 480, 960, 1740, 3600, 7200, 79200]);
        let total: u64 = schedule.iter().map(Duration::as_secs).sum();
        assert_eq!(schedule.len() + 1, 10);
        assert!((25 * 3600..27 * 3600).contains(&total), "{total} s");
    }

    #[test]
    fn success_and_gone_end_the_delivery() {
        let now = Timestamp::from_millis(5);
        assert_eq!(
            next_state(Outcome::Delivered, 1, &[], now).0,
            DeliveryState::Delivered
        );
        assert_eq!(
            next_state(Outcome::Gone, 1, &secs(&[1]), now).0,
            DeliveryState::Gone
        );
    }
}
