//! Status changes: the transition, its history entry and its webhook, in one
//! transaction.

use super::identifications::{COLUMNS, IdentificationRow};
use super::{Engine, Store, StoreError, corrupt};
use crate::domain::{
    ChangeCause, FailureReason, Identification, IdentificationId, OrganisationId, Status, Timestamp,
};
use crate::vault::Sealed;

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
        on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            let Some(current) = on::identification_in(&mut tx, id).await? else {
                return Ok(Err(Refusal::NotFound));
            };
            if organisation_id.is_some_and(|o| *o != current.organisation_id) {
                return Ok(Err(Refusal::NotFound));
            }
            let result = on::change_in(&mut tx, current, &change, self.clock.now()).await?;
            tx.commit().await?;
            self.changed(&result);
            Ok(result)
        })
    }

    /// After a commit: the cache learns the row as it now is.
    pub(super) fn changed(&self, result: &Result<Identification, Refusal>) {
        match result {
            Ok(i) | Err(Refusal::AlreadyFinal(i)) => {
                self.caches.identification_written(i);
            }
            Err(_) => {}
        }
    }

    /// Records as expired every open or pending identification past its expiry,
    /// at most `limit` at a time. Returns the ones it changed.
    ///
    /// On PostgreSQL, several instances sweep at once: each locks the rows it
    /// takes and skips rows another holds (`FOR UPDATE SKIP LOCKED`), and a
    /// row another has expired no longer matches, so each expiry (and its
    /// webhook) is recorded once.
    pub async fn expire_due(&self, limit: i64) -> Result<Vec<Identification>, StoreError> {
        on_db!(&self.db, db, on => {
            let now = self.clock.now();
            // Most sweeps find nothing due: they ask first, without the write
            // lock, so that a lock held elsewhere delays only the sweeps that
            // have work (and the creates waiting behind them).
            let due: Option<i64> = sqlx::query_scalar(&on::sql(
                "SELECT expires_at FROM identifications \
                 WHERE status IN (0, 1) AND expires_at <= ? LIMIT 1",
            ))
            .bind(now.millis())
            .fetch_optional(&db.reader)
            .await?;
            if due.is_none() {
                return Ok(Vec::new());
            }
            let mut tx = db.begin_write().await?;
            let rows: Vec<IdentificationRow> = sqlx::query_as(&on::sql(&format!(
                "SELECT {COLUMNS} FROM identifications WHERE status IN (0, 1) AND expires_at <= ? \
                 ORDER BY expires_at LIMIT ?{}",
                if on::POSTGRES { " FOR UPDATE SKIP LOCKED" } else { "" }
            )))
            .bind(now.millis())
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let mut changed = Vec::with_capacity(rows.len());
            for row in rows {
                let current = Identification::try_from(row)?;
                let expiry = Change::to(Status::Expired, ChangeCause::Expiry);
                changed.push(on::apply(&mut tx, &current, &expiry, now).await?);
            }
            tx.commit().await?;
            for i in &changed {
                self.caches.identification_written(i);
            }
            Ok(changed)
        })
    }

    /// An identification's status history, oldest first.
    pub async fn status_history(
        &self,
        id: &IdentificationId,
    ) -> Result<Vec<StatusChange>, StoreError> {
        on_db!(&self.db, db, on => {
            let rows: Vec<(i64, Option<i64>, i64, String, i64)> = sqlx::query_as(&on::sql(
                "SELECT seq, from_status, to_status, cause, changed_at FROM status_changes \
                 WHERE identification_id = ? ORDER BY seq"),
            )
            .bind(id.as_str())
            .fetch_all(&db.reader)
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
        })
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
        on_db!(&self.db, db, on => {
            let Some(ident) = self.get_identification(organisation_id, id).await? else {
                return Ok(None);
            };
            let row: Option<(String, Option<Vec<u8>>, Vec<u8>)> = sqlx::query_as(&on::sql(
                "SELECT encryption, wrapped_key, ciphertext FROM shared_data WHERE identification_id = ?"),
            )
            .bind(id.as_str())
            .fetch_optional(&db.reader)
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
        })
    }

    /// Erases shared attributes (and their key) for good. Returns how many
    /// records went.
    pub async fn erase_shared_data(&self, id: &IdentificationId) -> Result<u64, StoreError> {
        let erased = on_db!(&self.db, db, on => {
            let done = sqlx::query(&on::sql("DELETE FROM shared_data WHERE identification_id = ?"))
                .bind(id.as_str())
                .execute(&db.writer)
                .await?;
            done.rows_affected()
        });
        self.after_erasure(erased).await;
        Ok(erased)
    }

    /// After `erased` records went: on SQLite, whose `secure_delete`
    /// overwrites them in the database, the WAL still holds the pages they
    /// were written in until it is emptied. PostgreSQL keeps dead rows
    /// until VACUUM reclaims them (autovacuum, or an operator's).
    async fn after_erasure(&self, erased: u64) {
        if let (Engine::Sqlite(db), 1..) = (&self.db, erased) {
            db.truncate_wal().await;
        }
    }

    /// Erases shared attributes past their retention (data is written when
    /// its identification becomes final): older than `retention`, the
    /// deployment's period, or than its organisation's own shorter period
    /// (`organisations.data_retention_days`). Returns how many records went.
    pub async fn erase_shared_data_past_retention(
        &self,
        retention: std::time::Duration,
    ) -> Result<u64, StoreError> {
        const DAY_MILLIS: i64 = 86_400_000;
        let now = self.clock.now();
        let erased = on_db!(&self.db, db, on => {
            let done = sqlx::query(&on::sql(
                "DELETE FROM shared_data WHERE created_at < ? OR EXISTS ( \
                 SELECT 1 FROM identifications i JOIN organisations o ON o.id = i.organisation_id \
                 WHERE i.id = shared_data.identification_id \
                 AND o.data_retention_days IS NOT NULL \
                 AND shared_data.created_at < ? - o.data_retention_days * ?)"),
            )
            .bind(now.minus(retention).millis())
            .bind(now.millis())
            .bind(DAY_MILLIS)
            .execute(&db.writer)
            .await?;
            done.rows_affected()
        });
        self.after_erasure(erased).await;
        Ok(erased)
    }
}
