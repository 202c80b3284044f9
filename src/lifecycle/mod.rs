//! Status changes as the rest of the program makes them: through the store (one
//! transaction with history and webhook), then announced to open MyPages and
//! the webhook worker. The API, MyPage, the verifier and the expiry sweep all
//! change a status through `Lifecycle`, which holds only what that needs.

pub mod events;

pub use events::{Events, StatusEvent};

use crate::domain::proofme::sample_data;
use crate::domain::{ChangeCause, Identification, IdentificationId, OrganisationId, Status};
use crate::store::{
    Change, Refusal, ResendRefusal, SealedData, Store, StoreError, TransactionRefusal,
};
use crate::vault::{DataKey, DataRecipient, VaultError};

/// The status-change service: the store, the fan-out of changes, and the
/// data key that seals what customers share.
#[derive(Clone)]
pub struct Lifecycle {
    store: Store,
    events: Events,
    data_key: DataKey,
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

impl Lifecycle {
    pub fn new(store: Store, events: Events, data_key: DataKey) -> Lifecycle {
        Lifecycle {
            store,
            events,
            data_key,
        }
    }

    /// Where committed changes are announced.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Changes the status and announces it. The change is committed before this
    /// returns, so a redirect sent afterwards always finds the final status.
    pub async fn change_status(
        &self,
        id: &IdentificationId,
        organisation_id: Option<&OrganisationId>,
        change: Change,
    ) -> Result<Result<Identification, Refusal>, StoreError> {
        let cause = change.cause;
        let result = self
            .store
            .change_status(id, organisation_id, change)
            .await?;
        self.announce(&result, cause);
        Ok(result)
    }

    /// Takes a wallet's answer (see `Store::finish_wallet_transaction`) and
    /// announces the change it made, or the expiry a refusal recorded.
    pub async fn finish_wallet_transaction(
        &self,
        kid: &str,
        state: &str,
        response_code: &str,
        change: Change,
    ) -> Result<Result<Identification, TransactionRefusal>, StoreError> {
        let cause = change.cause;
        let result = self
            .store
            .finish_wallet_transaction(kid, state, response_code, change)
            .await?;
        match &result {
            Ok(done) => self.announce(&Ok(done.clone()), cause),
            Err(TransactionRefusal::Status(refusal)) => {
                self.announce(&Err((**refusal).clone()), cause);
            }
            Err(_) => {}
        }
        Ok(result)
    }

    /// Records as expired the open and pending identifications past their
    /// expiry, at most `limit` at a time, and announces each. Returns how many.
    pub async fn expire_due(&self, limit: i64) -> Result<usize, StoreError> {
        let changed = self.store.expire_due(limit).await?;
        for ident in &changed {
            tracing::info!(id = %ident.id.for_log(), "identification expired");
            self.events.committed(ident);
        }
        Ok(changed.len())
    }

    /// Sends the webhook of one of the organisation's identifications again
    /// for its current status (see `Store::resend_webhook`) and wakes the
    /// webhook worker. The message id, or why nothing was sent.
    pub async fn resend_webhook(
        &self,
        organisation_id: &OrganisationId,
        id: &IdentificationId,
    ) -> Result<Result<String, ResendRefusal>, StoreError> {
        let result = self.store.resend_webhook(organisation_id, id).await?;
        if result.is_ok() {
            tracing::info!(id = %id.for_log(), "webhook queued again");
            self.events.webhooks_due.notify_one();
        }
        Ok(result)
    }

    /// Tells open MyPages and the webhook worker about a committed change (or the
    /// expiry a refusal recorded).
    fn announce(&self, result: &Result<Identification, Refusal>, cause: ChangeCause) {
        match result {
            Ok(ident) => {
                tracing::info!(id = %ident.id.for_log(), status = %ident.status, cause = cause.as_str(), "status changed");
                self.events.committed(ident);
            }
            // A refusal may still have recorded the expiry it found.
            Err(Refusal::AlreadyFinal(ident)) if ident.status == Status::Expired => {
                self.events.committed(ident);
            }
            Err(_) => {}
        }
    }

    /// Encrypts what a customer shared for storage: end to end to the
    /// organisation's age recipient when it has one, else under a key of its own
    /// wrapped by the deployment key.
    pub async fn seal_shared_data(
        &self,
        ident: &Identification,
        data: &serde_json::Value,
    ) -> Result<SealedData, SealError> {
        let org = self
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
                self.data_key.seal(plaintext.as_bytes(), ident.id.as_str()),
            )),
        }
    }

    /// A test outcome: a verified test identification shares one clearly fake
    /// value for exactly each credential its proofme requests.
    pub async fn test_outcome_change(
        &self,
        ident: &Identification,
        next: Status,
        cause: ChangeCause,
    ) -> Result<Change, SealError> {
        let mut change = Change::to(next, cause);
        if next == Status::Verified {
            let proofme = self.store.proofme_of(ident).await?;
            change.data = Some(
                self.seal_shared_data(ident, &sample_data(&proofme.credentials))
                    .await?,
            );
        }
        Ok(change)
    }
}
