//! Status changes: the transition, its history entry and its webhook, in one
//! transaction.

use super::identifications::{COLUMNS, IdentificationRow};
use super::{Store, StoreError, corrupt};
use crate::domain::{
    ChangeCause, FailureReason, Identification, IdentificationId, OrganisationId, Status,
    Timestamp, WebhookMessage,
};
use crate::vault::Sealed;
use sqlx::{Sqlite, Transaction};

/// One entry of an identification's status history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub seq: i64,
    pub from: Option<Status>,
    pub to: Status,
    pub cause: ChangeCause,
    pub at: Timestamp,
}

/// Why a status change did not happen.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    NotFound,
    /// The identification is already final (possibly just now by expiry).
    AlreadyFinal(Identification),
    /// The transition is not allowed from the current status.
    NotAllowed(Identification),
}

pub(super) async fn record_change(
    tx: &mut Transaction<'static, Sqlite>,
    id: &IdentificationId,
    seq: i64,
    from: Option<Status>,
    to: Status,
    cause: ChangeCause,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO status_changes (identification_id, seq, from_status, to_status, cause, changed_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id.as_str())
    .bind(seq)
    .bind(from.map(Status::as_i64))
    .bind(to.as_i64())
    .bind(cause.as_str())
    .bind(at.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a status change writes besides the status itself.
#[derive(Debug, Clone)]
pub struct Change {
    pub next: Status,
    pub cause: ChangeCause,
    /// Why a wallet failed it; only with `Failed`.
    pub failure_reason: Option<FailureReason>,
    /// The attributes shared, already encrypted; only with `Verified`.
    pub data: Option<SealedData>,
}

impl Change {
    /// A plain change of status.
    pub fn to(next: Status, cause: ChangeCause) -> Change {
        Change {
            next,
            cause,
            failure_reason: None,
            data: None,
        }
    }
}

/// Shared attributes as they are stored: never in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedData {
    /// Under a record key wrapped by the deployment key.
    DataKey(Sealed),
    /// Armored age file for the organisation's recipient (end to end).
    Age(String),
}

/// Applies the change to the identification read in this transaction: updates
/// the row, appends the history entry, the webhook message the domain makes
/// of the change (if any) to the outbox, and stores shared data that comes
/// with it.
pub(super) async fn apply(
    tx: &mut Transaction<'static, Sqlite>,
    current: &Identification,
    change: &Change,
    now: Timestamp,
) -> Result<Identification, StoreError> {
    let next = change.next;
    let scanned_at = match (current.scanned_at, next) {
        (None, Status::Pending) => Some(now),
        (s, _) => s,
    };
    sqlx::query(
        "UPDATE identifications SET status = ?, scanned_at = ?, failure_reason = ?, updated_at = ? \
         WHERE id = ?",
    )
    .bind(next.as_i64())
    .bind(scanned_at.map(Timestamp::millis))
    .bind(change.failure_reason.map(FailureReason::as_str))
    .bind(now.millis())
    .bind(current.id.as_str())
    .execute(&mut **tx)
    .await?;
    let seq: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), -1) + 1 FROM status_changes WHERE identification_id = ?",
    )
    .bind(current.id.as_str())
    .fetch_one(&mut **tx)
    .await?;
    record_change(
        tx,
        &current.id,
        seq,
        Some(current.status),
        next,
        change.cause,
        now,
    )
    .await?;
    let mut updated = current.clone();
    updated.status = next;
    updated.scanned_at = scanned_at;
    updated.failure_reason = change.failure_reason;
    updated.updated_at = now;
    // What the webhook says is the domain's to decide; the outbox keeps it.
    if let Some(message) = WebhookMessage::for_status_change(&updated) {
        sqlx::query(
            "INSERT INTO webhook_outbox (id, identification_id, organisation_id, seq, url, payload, \
             state, attempts, next_attempt_at, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
        )
        .bind(message.id)
        .bind(current.id.as_str())
        .bind(current.organisation_id.as_str())
        .bind(seq)
        .bind(message.url.as_str())
        .bind(message.payload)
        .bind(now.millis())
        .bind(now.millis())
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    }
    if let Some(data) = &change.data {
        let (encryption, wrapped_key, ciphertext) = match data {
            SealedData::DataKey(s) => ("data_key", Some(&s.wrapped_key[..]), &s.ciphertext[..]),
            SealedData::Age(armored) => ("age", None, armored.as_bytes()),
        };
        sqlx::query(
            "INSERT INTO shared_data (identification_id, encryption, wrapped_key, ciphertext, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(current.id.as_str())
        .bind(encryption)
        .bind(wrapped_key)
        .bind(ciphertext)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    }
    Ok(updated)
}

/// The identification as stored, read inside a write transaction.
pub(super) async fn identification_in(
    tx: &mut Transaction<'static, Sqlite>,
    id: &IdentificationId,
) -> Result<Option<Identification>, StoreError> {
    let row: Option<IdentificationRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM identifications WHERE id = ?"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(Identification::try_from).transpose()
}

/// Applies `change` to `current` if the transition rules allow it. An open or
/// pending identification past its expiry is first recorded as expired (with
/// its webhook), so a late outcome is refused as final. The caller commits.
pub(super) async fn change_in(
    tx: &mut Transaction<'static, Sqlite>,
    current: Identification,
    change: &Change,
) -> Result<Result<Identification, Refusal>, StoreError> {
    let now = Timestamp::now();
    if current.status_at(now) == Status::Expired && !current.status.is_final() {
        let expiry = Change::to(Status::Expired, ChangeCause::Expiry);
        let expired = apply(tx, &current, &expiry, now).await?;
        return Ok(if change.next == Status::Expired {
            Ok(expired)
        } else {
            Err(Refusal::AlreadyFinal(expired))
        });
    }
    if current.status.is_final() {
        return Ok(Err(Refusal::AlreadyFinal(current)));
    }
    if !current.status.can_become(change.next) {
        return Ok(Err(Refusal::NotAllowed(current)));
    }
    Ok(Ok(apply(tx, &current, change, now).await?))
}

impl Store {
    /// Moves an identification to `next` if the transition rules allow it.
    /// `organisation_id` limits the change to one organisation's objects (API);
    /// MyPage passes `None` (the id is the credential there).
    ///
    /// An open or pending identification past its expiry is first recorded as
    /// expired (with its webhook), so a late outcome is refused as final.
    pub async fn change_status(
        &self,
        id: &IdentificationId,
        organisation_id: Option<&OrganisationId>,
        change: Change,
    ) -> Result<Result<Identification, Refusal>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let Some(current) = identification_in(&mut tx, id).await? else {
            return Ok(Err(Refusal::NotFound));
        };
        if organisation_id.is_some_and(|o| *o != current.organisation_id) {
            return Ok(Err(Refusal::NotFound));
        }
        let result = change_in(&mut tx, current, &change).await?;
        tx.commit().await?;
        self.changed(&result);
        Ok(result)
    }

    /// After a commit: the cache learns the row as it now is.
    pub(super) fn changed(&self, result: &Result<Identification, Refusal>) {
        match result {
            Ok(i) | Err(Refusal::AlreadyFinal(i)) => {
                self.caches.identifications.written(i.id.clone(), i.clone());
            }
            Err(_) => {}
        }
    }

    /// Records as expired every open or pending identification past its expiry,
    /// at most `limit` at a time. Returns the ones it changed.
    pub async fn expire_due(&self, limit: i64) -> Result<Vec<Identification>, StoreError> {
        let now = Timestamp::now();
        let mut tx = self.db.begin_write().await?;
        let rows: Vec<IdentificationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM identifications WHERE status IN (0, 1) AND expires_at <= ? \
             ORDER BY expires_at LIMIT ?"
        ))
        .bind(now.millis())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut changed = Vec::with_capacity(rows.len());
        for row in rows {
            let current = Identification::try_from(row)?;
            let expiry = Change::to(Status::Expired, ChangeCause::Expiry);
            changed.push(apply(&mut tx, &current, &expiry, now).await?);
        }
        tx.commit().await?;
        for i in &changed {
            self.caches.identifications.written(i.id.clone(), i.clone());
        }
        Ok(changed)
    }

    /// An identification's status history, oldest first.
    pub async fn status_history(
        &self,
        id: &IdentificationId,
    ) -> Result<Vec<StatusChange>, StoreError> {
        let rows: Vec<(i64, Option<i64>, i64, String, i64)> = sqlx::query_as(
            "SELECT seq, from_status, to_status, cause, changed_at FROM status_changes \
             WHERE identification_id = ? ORDER BY seq",
        )
        .bind(id.as_str())
        .fetch_all(&self.db.reader)
        .await?;
        rows.into_iter()
            .map(|(seq, from, to, cause, at)| {
                let status = |n: i64| Status::from_i64(n).ok_or_else(|| corrupt("status", n));
                Ok(StatusChange {
                    seq,
                    from: from.map(status).transpose()?,
                    to: status(to)?,
                    cause: ChangeCause::parse(&cause).ok_or_else(|| corrupt("cause", &cause))?,
                    at: Timestamp::from_millis(at),
                })
            })
            .collect()
    }
}

impl Store {
    /// The attributes the customer shared, still encrypted, if any are held
    /// (verified and not erased). `None` when the identification is not this
    /// organisation's.
    pub async fn shared_data(
        &self,
        organisation_id: &OrganisationId,
        id: &IdentificationId,
    ) -> Result<Option<(Identification, Option<SealedData>)>, StoreError> {
        let Some(ident) = self.get_identification(organisation_id, id).await? else {
            return Ok(None);
        };
        let row: Option<(String, Option<Vec<u8>>, Vec<u8>)> = sqlx::query_as(
            "SELECT encryption, wrapped_key, ciphertext FROM shared_data WHERE identification_id = ?",
        )
        .bind(id.as_str())
        .fetch_optional(&self.db.reader)
        .await?;
        let data = row
            .map(
                |(encryption, wrapped_key, ciphertext)| match (encryption.as_str(), wrapped_key) {
                    ("data_key", Some(wrapped_key)) => Ok(SealedData::DataKey(Sealed {
                        wrapped_key,
                        ciphertext,
                    })),
                    ("age", None) => String::from_utf8(ciphertext)
                        .map(SealedData::Age)
                        .map_err(|e| corrupt("age file", e)),
                    (other, _) => Err(corrupt("shared data encryption", other)),
                },
            )
            .transpose()?;
        Ok(Some((ident, data)))
    }

    /// Erases shared attributes (and their key) for good. Returns how many
    /// records went.
    pub async fn erase_shared_data(&self, id: &IdentificationId) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM shared_data WHERE identification_id = ?")
            .bind(id.as_str())
            .execute(&self.db.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// Erases shared attributes written before `cutoff` (data is written when
    /// its identification becomes final). Returns how many records went.
    pub async fn erase_shared_data_before(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM shared_data WHERE created_at < ?")
            .bind(cutoff.millis())
            .execute(&self.db.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
