//! The test webhook: `{"type":"test"}`, signed like every other webhook and
//! sent through the same `Deliverer` (so the address guard, redirects and
//! timeouts are the real ones), to a URL the organisation gives. Its one
//! attempt is recorded for the organisation to see.

use super::deliver::{Deliverer, WebhookHeaders};
use super::signing::sign_all;
use super::worker::signing_secrets;
use crate::domain::webhook::new_message_id;
use crate::domain::{HttpUrl, OrganisationId};
use crate::store::{Store, StoreError, TestWebhook};

/// The body of every test webhook.
pub const TEST_PAYLOAD: &str = r#"{"type":"test"}"#;

/// Why no test webhook was sent or recorded. A receiver that fails or an
/// address that is refused is no error: that is the attempt's result.
#[derive(Debug, thiserror::Error)]
pub enum TestWebhookError {
    #[error("no such organisation")]
    NoOrganisation,
    /// Logged by `signing_secrets`, never shown with the secret.
    #[error("the organisation's webhook secret is unreadable")]
    UnreadableSecret,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sends `organisation` a test webhook at `url`, records the attempt and
/// returns it. Signed with every secret that signs the organisation's
/// webhooks now (two during a rotation's overlap).
pub async fn send_test_webhook(
    store: &Store,
    deliverer: &Deliverer,
    organisation: &OrganisationId,
    url: &HttpUrl,
) -> Result<TestWebhook, TestWebhookError> {
    let org = store
        .get_organisation(organisation)
        .await?
        .ok_or(TestWebhookError::NoOrganisation)?;
    let attempted_at = store.clock().now();
    let secrets = signing_secrets(&org, attempted_at).ok_or(TestWebhookError::UnreadableSecret)?;
    let id = new_message_id();
    let timestamp = attempted_at.unix_seconds();
    let body = TEST_PAYLOAD.as_bytes().to_vec();
    let headers = WebhookHeaders {
        id: id.clone(),
        timestamp,
        signature: sign_all(&secrets, &id, timestamp, &body),
    };
    let result = deliverer.send(url, headers, body).await;
    tracing::info!(
        organisation = %organisation,
        message = %id,
        status = ?result.status,
        error = ?result.error,
        "test webhook"
    );
    let sent = TestWebhook {
        id,
        url: url.as_str().to_owned(),
        attempted_at,
        status_code: result.status,
        error: result.error,
        duration_ms: result.duration_ms,
    };
    store.record_test_webhook(organisation, &sent).await?;
    Ok(sent)
}
