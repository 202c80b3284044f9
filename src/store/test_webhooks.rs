//! Test webhooks an organisation sent itself, and what came of each.

use super::{Store, StoreError};
use crate::domain::{OrganisationId, Timestamp};
use sqlx::Row;

/// How many test webhooks are kept per organisation: the latest ones, which
/// are all a person checking a receiver looks at.
pub const TEST_WEBHOOKS_KEPT: i64 = 50;

/// One test webhook and its attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestWebhook {
    /// The `webhook-id` it was sent with (`msg_…`).
    pub id: String,
    pub url: String,
    pub attempted_at: Timestamp,
    /// The HTTP status the receiver answered, if it answered.
    pub status_code: Option<u16>,
    /// Why there is no usable status (refused address, timeout, …).
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl TestWebhook {
    /// Whether the receiver answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

impl Store {
    /// Keeps `sent` as `organisation`'s latest test webhook; only the latest
    /// `TEST_WEBHOOKS_KEPT` are kept.
    pub async fn record_test_webhook(
        &self,
        organisation: &OrganisationId,
        sent: &TestWebhook,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            sqlx::query(&on::sql(
                "INSERT INTO test_webhooks \
                 (id, organisation_id, url, attempted_at, status_code, error, duration_ms) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)"),
            )
            .bind(&sent.id)
            .bind(organisation.as_str())
            .bind(&sent.url)
            .bind(sent.attempted_at.millis())
            .bind(sent.status_code.map(i64::from))
            .bind(sent.error.as_deref())
            .bind(sent.duration_ms)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&on::sql(
                "DELETE FROM test_webhooks WHERE organisation_id = ? AND id NOT IN \
                 (SELECT id FROM test_webhooks WHERE organisation_id = ? \
                  ORDER BY attempted_at DESC, id DESC LIMIT ?)"),
            )
            .bind(organisation.as_str())
            .bind(organisation.as_str())
            .bind(TEST_WEBHOOKS_KEPT)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// `organisation`'s latest test webhooks, newest first, at most `limit`.
    pub async fn recent_test_webhooks(
        &self,
        organisation: &OrganisationId,
        limit: i64,
    ) -> Result<Vec<TestWebhook>, StoreError> {
        on_db!(&self.db, db, on => {
            let rows = sqlx::query(&on::sql(
                "SELECT id, url, attempted_at, status_code, error, duration_ms FROM test_webhooks \
                 WHERE organisation_id = ? ORDER BY attempted_at DESC, id DESC LIMIT ?"),
            )
            .bind(organisation.as_str())
            .bind(limit.max(0))
            .fetch_all(&db.reader)
            .await?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    let status_code: Option<i64> = r.get("status_code");
                    TestWebhook {
                        id: r.get("id"),
                        url: r.get("url"),
                        attempted_at: Timestamp::from_millis(r.get("attempted_at")),
                        status_code: status_code.and_then(|c| u16::try_from(c).ok()),
                        error: r.get("error"),
                        duration_ms: r.get("duration_ms"),
                    }
                })
                .collect())
        })
    }
}
