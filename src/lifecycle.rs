//! Status changes as the rest of the program makes them: through the store (one
//! transaction with history and webhook), then announced to open MyPages and
//! the webhook worker.

use std::sync::Arc;
use tokio::sync::{Notify, broadcast, watch};

use crate::AppState;
use crate::domain::proofme::sample_data;
use crate::domain::{ChangeCause, Identification, IdentificationId, OrganisationId, Status};
use crate::store::{Change, Refusal, SealedData, StoreError};
use crate::vault::{DataRecipient, VaultError};

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
    change: Change,
) -> Result<Result<Identification, Refusal>, StoreError> {
    let cause = change.cause;
    let result = state
        .store
        .change_status(id, organisation_id, change)
        .await?;
    announce(state, &result, cause);
    Ok(result)
}

/// Tells open MyPages and the webhook worker about a committed change (or the
/// expiry a refusal recorded).
pub fn announce(state: &AppState, result: &Result<Identification, Refusal>, cause: ChangeCause) {
    match result {
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
}

/// Why shared data could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("the organisation's data recipient is unusable: {0}")]
    Recipient(String),
    #[error("the identification's {0} is missing")]
    Missing(&'static str),
}

/// Encrypts what a customer shared for storage: end to end to the
/// organisation's age recipient when it has one, else under a key of its own
/// wrapped by the deployment key.
pub async fn seal_shared_data(
    state: &AppState,
    ident: &Identification,
    data: &serde_json::Value,
) -> Result<SealedData, SealError> {
    let org = state
        .store
        .get_organisation(&ident.organisation_id)
        .await?
        .ok_or(SealError::Missing("organisation"))?;
    let plaintext = data.to_string();
    match org.data_recipient.as_deref() {
        Some(r) => {
            let recipient = DataRecipient::parse(r).map_err(SealError::Recipient)?;
            Ok(SealedData::Age(recipient.encrypt(plaintext.as_bytes())?))
        }
        None => Ok(SealedData::DataKey(
            state.data_key.seal(plaintext.as_bytes(), ident.id.as_str()),
        )),
    }
}

/// A test outcome: a verified test identification shares one clearly fake
/// value for exactly each credential its proofme requests.
pub async fn test_outcome_change(
    state: &AppState,
    ident: &Identification,
    next: Status,
    cause: ChangeCause,
) -> Result<Change, SealError> {
    let mut change = Change::to(next, cause);
    if next == Status::Verified {
        let proofme = state
            .store
            .get_proofme(&ident.organisation_id, &ident.proofme_id)
            .await?
            .ok_or(SealError::Missing("proofme"))?;
        change.data =
            Some(seal_shared_data(state, ident, &sample_data(&proofme.credentials)).await?);
    }
    Ok(change)
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

/// Erases shared data once it is older than the retention period (it is
/// written when its identification becomes final). Looks at least once a
/// minute, more often for short periods.
pub async fn run_data_retention(state: AppState) {
    let retention = state.config.data_retention;
    let every = retention.clamp(
        std::time::Duration::from_millis(200),
        std::time::Duration::from_secs(60),
    );
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let cutoff = crate::domain::Timestamp::now().minus(retention);
        match state.store.erase_shared_data_before(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(records = n, "shared data past its retention erased"),
            Err(e) => tracing::warn!(error = %e, "data retention sweep failed"),
        }
    }
}
