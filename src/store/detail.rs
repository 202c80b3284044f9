//! What an organisation's own view of one identification reads and does,
//! scoped to that organisation: another organisation's id is not found.

use super::webhooks::Delivery;
use super::{StatusChange, Store, StoreError};
use crate::domain::{IdentificationId, OrganisationId, WebhookMessage};

/// Why a webhook was not sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResendRefusal {
    #[error("no such identification in this organisation")]
    NotFound,
    #[error("the identification has no webhook URL, so there is nothing to send")]
    NoWebhookUrl,
}

impl Store {
    /// The status history of one of the organisation's identifications,
    /// oldest first; `None` when it is not the organisation's.
    pub async fn status_history_of(
        &self,
        organisation_id: &OrganisationId,
        id: &IdentificationId,
    ) -> Result<Option<Vec<StatusChange>>, StoreError> {
        if self
            .get_identification(organisation_id, id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        self.status_history(id).await.map(Some)
    }

    /// The webhook deliveries of one of the organisation's identifications,
    /// with their attempts, oldest first; `None` when it is not the
    /// organisation's.
    pub async fn webhook_deliveries_of(
        &self,
        organisation_id: &OrganisationId,
        id: &IdentificationId,
    ) -> Result<Option<Vec<Delivery>>, StoreError> {
        if self
            .get_identification(organisation_id, id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        self.webhook_deliveries(id).await.map(Some)
    }

    /// Erases the shared data of one of the organisation's identifications
    /// for good. How many records went; `None` when it is not the
    /// organisation's.
    pub async fn erase_shared_data_of(
        &self,
        organisation_id: &OrganisationId,
        id: &IdentificationId,
    ) -> Result<Option<u64>, StoreError> {
        if self
            .get_identification(organisation_id, id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        self.erase_shared_data(id).await.map(Some)
    }

    /// Queues the webhook of the identification's current status once more,
    /// due now, and returns its message id. The delivery of that status is
    /// sent again under the same message id, as a retry is (receivers that
    /// keep ids see the same message), with its earlier attempts kept; a
    /// delivery that is still pending is only brought forward. A status that
    /// had no delivery (an identification not yet changed) gets its first.
    /// Callers wake the webhook worker afterwards (see `Lifecycle`).
    pub async fn resend_webhook(
        &self,
        organisation_id: &OrganisationId,
        id: &IdentificationId,
    ) -> Result<Result<String, ResendRefusal>, StoreError> {
        let now = self.clock.now().millis();
        on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            let Some(ident) = on::identification_in(&mut tx, id).await? else {
                return Ok(Err(ResendRefusal::NotFound));
            };
            if ident.organisation_id != *organisation_id {
                return Ok(Err(ResendRefusal::NotFound));
            }
            let Some(message) = WebhookMessage::for_status_change(&ident) else {
                return Ok(Err(ResendRefusal::NoWebhookUrl));
            };
            let seq: i64 = sqlx::query_scalar(&on::sql(
                "SELECT COALESCE(MAX(seq), 0) FROM status_changes WHERE identification_id = ?",
            ))
            .bind(id.as_str())
            .fetch_one(&mut *tx)
            .await?;
            let existing: Option<(String, String)> = sqlx::query_as(&on::sql(&format!(
                "SELECT id, state FROM webhook_outbox WHERE identification_id = ? AND seq = ?{}",
                on::LOCK_ROW
            )))
            .bind(id.as_str())
            .bind(seq)
            .fetch_optional(&mut *tx)
            .await?;
            let message_id = match existing {
                Some((message_id, state)) if state == "pending" => {
                    // Already queued: due now, unless a worker holds it this moment.
                    sqlx::query(&on::sql(
                        "UPDATE webhook_outbox SET next_attempt_at = ?, updated_at = ? \
                         WHERE id = ? AND claimed_at IS NULL AND next_attempt_at > ?",
                    ))
                    .bind(now)
                    .bind(now)
                    .bind(&message_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    message_id
                }
                Some((message_id, _)) => {
                    sqlx::query(&on::sql(
                        "UPDATE webhook_outbox SET state = 'pending', next_attempt_at = ?, \
                         claimed_at = NULL, updated_at = ? WHERE id = ?",
                    ))
                    .bind(now)
                    .bind(now)
                    .bind(&message_id)
                    .execute(&mut *tx)
                    .await?;
                    message_id
                }
                None => {
                    sqlx::query(&on::sql(
                        "INSERT INTO webhook_outbox (id, identification_id, organisation_id, seq, url, \
                         payload, state, attempts, next_attempt_at, created_at, updated_at) \
                         VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
                    ))
                    .bind(&message.id)
                    .bind(id.as_str())
                    .bind(organisation_id.as_str())
                    .bind(seq)
                    .bind(message.url.as_str())
                    .bind(&message.payload)
                    .bind(now)
                    .bind(now)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    message.id
                }
            };
            tx.commit().await?;
            Ok(Ok(message_id))
        })
    }
}
