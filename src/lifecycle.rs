//! Status changes as the rest of the program makes them: through the store (one
//! transaction with history and webhook), then announced to open MyPages and
//! the webhook worker.

use std::sync::Arc;
use tokio::sync::{Notify, broadcast, watch};

use crate::AppState;
use crate::domain::{ChangeCause, Identification, IdentificationId, OrganisationId, Status};
use crate::store::{Refusal, StoreError};

/// A committed status change, for whoever is watching.
#[derive(Debug, Clone)]
pub struct StatusEvent {
    pub id: IdentificationId,
    pub status: Status,
}

/// Fan-out of committed status changes within this process.
#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<StatusEvent>,
    /// Wakes the webhook worker when an outbox row was written.
    pub webhooks_due: Arc<Notify>,
    /// Turns true when the server starts shutting down, so long-lived
    /// responses (status streams) end and the drain can finish.
    closing: Arc<watch::Sender<bool>>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            sender: broadcast::channel(1024).0,
            webhooks_due: Arc::new(Notify::new()),
            closing: Arc::new(watch::channel(false).0),
        }
    }
}

impl Events {
    pub fn subscribe(&self) -> broadcast::Receiver<StatusEvent> {
        self.sender.subscribe()
    }

    /// Resolves once the server has begun shutting down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Tells long-lived responses to finish.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Announces a change that is already committed.
    pub fn committed(&self, ident: &Identification) {
        // No receivers is fine: nobody has the page open.
        let _ = self.sender.send(StatusEvent {
            id: ident.id.clone(),
            status: ident.status,
        });
        if ident.webhook_url.is_some() {
            self.webhooks_due.notify_one();
        }
    }
}

/// Changes the status and announces it. The change is committed before this
/// returns, so a redirect sent afterwards always finds the final status.
pub async fn change_status(
    state: &AppState,
    id: &IdentificationId,
    organisation_id: Option<&OrganisationId>,
    next: Status,
    cause: ChangeCause,
) -> Result<Result<Identification, Refusal>, StoreError> {
    let result = state
        .store
        .change_status(id, organisation_id, next, cause)
        .await?;
    match &result {
        Ok(ident) => {
            tracing::info!(id = %ident.id.for_log(), status = %ident.status, cause = cause.as_str(), "status changed");
            state.events.committed(ident);
        }
        // A refusal may still have recorded the expiry it found.
        Err(Refusal::AlreadyFinal(ident)) if ident.status == Status::Expired => {
            state.events.committed(ident);
        }
        Err(_) => {}
    }
    Ok(result)
}

/// How often idempotency keys past their 24-hour window are deleted.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Records expiries as they fall due, so their webhooks leave within seconds,
/// and now and then deletes idempotency keys past their window.
pub async fn run_expiry_sweep(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_prune: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        match state.store.expire_due(500).await {
            Ok(changed) => {
                for ident in &changed {
                    tracing::info!(id = %ident.id.for_log(), "identification expired");
                    state.events.committed(ident);
                }
            }
            Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
        }
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(tokio::time::Instant::now());
            match state.store.prune_idempotency_keys().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(keys = n, "old idempotency keys deleted"),
                Err(e) => tracing::warn!(error = %e, "idempotency key pruning failed"),
            }
        }
    }
}
