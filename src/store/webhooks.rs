//! The webhook outbox: due deliveries, claiming, attempts and their results.

use super::{Store, StoreError, corrupt};
use crate::domain::{HttpUrl, IdentificationId, OrganisationId, Timestamp};
use sqlx::Row;

/// A delivery that is due.
#[derive(Debug, Clone)]
pub struct DueWebhook {
    /// The Standard Webhooks message id, the same across retries.
    pub id: String,
    pub identification_id: IdentificationId,
    pub organisation_id: OrganisationId,
    pub url: HttpUrl,
    pub payload: String,
    /// Attempts made so far.
    pub attempts: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Every retry failed.
    Failed,
    /// The receiver answered 410 Gone: no more retries.
    Gone,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Gone => "gone",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        [Self::Pending, Self::Delivered, Self::Failed, Self::Gone]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// One attempt and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: i64,
    pub attempted_at: Timestamp,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A delivery with its history, as integrators see it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    /// The status-history entry it announces.
    pub seq: i64,
    pub url: String,
    pub state: DeliveryState,
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub attempts: Vec<Attempt>,
}

impl Store {
    /// Pending deliveries whose time has come, oldest first.
    pub async fn due_webhooks(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<DueWebhook>, StoreError> {
        on_db!(&self.db, db, on => {
            let rows = sqlx::query(&on::sql(
                "SELECT id, identification_id, organisation_id, url, payload, attempts FROM webhook_outbox \
                 WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?"),
            )
            .bind(now.millis())
            .bind(limit)
            .fetch_all(&db.reader)
            .await?;
            rows.into_iter()
                .map(|r| {
                    let url: String = r.get("url");
                    Ok(DueWebhook {
                        id: r.get("id"),
                        identification_id: IdentificationId::from_trusted(r.get("identification_id")),
                        organisation_id: OrganisationId::from_trusted(r.get("organisation_id")),
                        url: HttpUrl::from_stored(&url).map_err(|e| corrupt("webhook url", e))?,
                        payload: r.get("payload"),
                        attempts: r.get("attempts"),
                    })
                })
                .collect()
        })
    }

    /// Takes a due delivery for one attempt by moving it out of reach until
    /// `lease_until`. If the process dies mid-attempt, the row simply becomes
    /// due again then: deliveries are at least once, never lost. False if
    /// another worker took it first.
    ///
    /// The update is conditional, so of two workers (two instances on
    /// PostgreSQL) only one takes the row. On PostgreSQL the row is locked
    /// with `FOR UPDATE SKIP LOCKED` first: a worker whose rival holds the row
    /// gives up at once instead of waiting for it.
    pub async fn claim_webhook(
        &self,
        id: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, db, on => {
            let target = if on::POSTGRES {
                "(SELECT id FROM webhook_outbox WHERE id = ? FOR UPDATE SKIP LOCKED)"
            } else {
                "?"
            };
            let done = sqlx::query(&on::sql(&format!(
                "UPDATE webhook_outbox SET next_attempt_at = ?, claimed_at = ? \
                 WHERE id = {target} AND state = 'pending' AND next_attempt_at <= ?"
            )))
            .bind(lease_until.millis())
            .bind(now.millis())
            .bind(id)
            .bind(now.millis())
            .execute(&db.writer)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Hands back deliveries claimed by a process that is gone: they are due
    /// again at once. Only for the process that owns this database (SQLite
    /// serves one instance), called before its worker starts. On PostgreSQL
    /// the other claims may be live ones of other instances: nothing is handed
    /// back there, and a dead instance's claims fall due when their lease runs
    /// out, for whichever instance comes first.
    pub async fn release_webhook_claims(&self) -> Result<u64, StoreError> {
        on_db!(&self.db, db, on => {
            if on::POSTGRES {
                return Ok(0);
            }
            let done = sqlx::query(&on::sql(
                "UPDATE webhook_outbox SET next_attempt_at = claimed_at, claimed_at = NULL \
                 WHERE claimed_at IS NOT NULL AND state = 'pending'"),
            )
            .execute(&db.writer)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// Records an attempt and the delivery's next state in one transaction.
    /// `next_attempt_at` matters only for `Pending`.
    pub async fn record_webhook_attempt(
        &self,
        id: &str,
        attempt: &Attempt,
        state: DeliveryState,
        next_attempt_at: Timestamp,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            sqlx::query(&on::sql(
                "INSERT INTO webhook_attempts (outbox_id, attempt, attempted_at, status_code, error, duration_ms) \
                 VALUES (?, ?, ?, ?, ?, ?)"),
            )
            .bind(id)
            .bind(attempt.attempt)
            .bind(attempt.attempted_at.millis())
            .bind(attempt.status_code.map(i64::from))
            .bind(attempt.error.as_deref())
            .bind(attempt.duration_ms)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&on::sql(
                "UPDATE webhook_outbox SET state = ?, attempts = ?, next_attempt_at = ?, updated_at = ?, \
                 claimed_at = NULL WHERE id = ?"),
            )
            .bind(state.as_str())
            .bind(attempt.attempt)
            .bind(next_attempt_at.millis())
            .bind(self.clock.now().millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every delivery for an identification with its attempts, oldest first.
    pub async fn webhook_deliveries(
        &self,
        id: &IdentificationId,
    ) -> Result<Vec<Delivery>, StoreError> {
        on_db!(&self.db, db, on => {
            let rows = sqlx::query(&on::sql(
                "SELECT id, seq, url, state, next_attempt_at, created_at FROM webhook_outbox \
                 WHERE identification_id = ? ORDER BY seq"),
            )
            .bind(id.as_str())
            .fetch_all(&db.reader)
            .await?;
            let attempts = sqlx::query(&on::sql(
                "SELECT a.outbox_id, a.attempt, a.attempted_at, a.status_code, a.error, a.duration_ms \
                 FROM webhook_attempts a JOIN webhook_outbox o ON o.id = a.outbox_id \
                 WHERE o.identification_id = ? ORDER BY a.outbox_id, a.attempt"),
            )
            .bind(id.as_str())
            .fetch_all(&db.reader)
            .await?;
            let mut deliveries = rows
                .into_iter()
                .map(|r| {
                    let state: String = r.get("state");
                    let state = DeliveryState::parse(&state)
                        .ok_or_else(|| corrupt("delivery state", &state))?;
                    Ok(Delivery {
                        id: r.get("id"),
                        seq: r.get("seq"),
                        url: r.get("url"),
                        state,
                        next_attempt_at: (state == DeliveryState::Pending)
                            .then(|| Timestamp::from_millis(r.get("next_attempt_at"))),
                        created_at: Timestamp::from_millis(r.get("created_at")),
                        attempts: Vec::new(),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for r in attempts {
                let outbox_id: String = r.get("outbox_id");
                let status_code: Option<i64> = r.get("status_code");
                if let Some(d) = deliveries.iter_mut().find(|d| d.id == outbox_id) {
                    d.attempts.push(Attempt {
                        attempt: r.get("attempt"),
                        attempted_at: Timestamp::from_millis(r.get("attempted_at")),
                        status_code: status_code.and_then(|c| u16::try_from(c).ok()),
                        error: r.get("error"),
                        duration_ms: r.get("duration_ms"),
                    });
                }
            }
            Ok(deliveries)
        })
    }

    /// Deliveries not yet settled, for tests and health views.
    pub async fn pending_webhook_count(&self) -> Result<i64, StoreError> {
        on_db!(&self.db, db, on => {
            Ok(
                sqlx::query_scalar(&on::sql("SELECT COUNT(*) FROM webhook_outbox WHERE state = 'pending'"))
                    .fetch_one(&db.reader)
                    .await?,
            )
        })
    }
}
