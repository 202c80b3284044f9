//! The statements that run inside a write transaction, written once and
//! compiled for each engine (`on_sqlite`, `on_postgres`): each module has its
//! driver (`Driver`), says which it is (`POSTGRES`) and numbers placeholders
//! as its engine wants them (`sql`).
//!
//! Where a transaction reads a row it is about to change, PostgreSQL locks it
//! (`FOR UPDATE`): other instances write the same rows at the same time.
//! SQLite needs no row locks: its write transactions take the one write lock
//! up front (`BEGIN IMMEDIATE`).

macro_rules! per_backend {
    ($($item:item)*) => {
        pub(crate) mod on_sqlite {
            use super::*;
            pub(crate) type Driver = sqlx::Sqlite;
            pub(crate) const POSTGRES: bool = false;
            /// The query as SQLite takes it.
            pub(crate) fn sql(q: &str) -> Cow<'_, str> {
                Cow::Borrowed(q)
            }
            $($item)*
        }
        pub(crate) mod on_postgres {
            use super::*;
            pub(crate) type Driver = sqlx::Postgres;
            pub(crate) const POSTGRES: bool = true;
            /// The query as PostgreSQL takes it.
            pub(crate) fn sql(q: &str) -> Cow<'_, str> {
                super::super::dialect::numbered(q)
            }
            $($item)*
        }
    };
}

use super::identifications::{COLUMNS, IDEMPOTENCY_WINDOW, IdentificationRow, folded};
use super::status::{Change, Refusal, SealedData};
use super::wallet::{WalletFlow, WalletTransaction};
use super::{CreateOutcome, IdempotencyRecord, StoreError, corrupt};
use crate::domain::{
    ChangeCause, Description, FailureReason, HttpUrl, Identification, IdentificationId, Locale,
    Metadata, Mode, OrganisationId, Status, Timestamp, WebhookMessage,
};
use sqlx::{QueryBuilder, Row, Transaction};
use std::borrow::Cow;

per_backend! {
    /// Appended to a read of a row the transaction is about to change.
    pub(crate) const LOCK_ROW: &str = if POSTGRES { " FOR UPDATE" } else { "" };

    /// A wallet transaction row.
    pub(crate) fn wallet_transaction(r: &<Driver as sqlx::Database>::Row) -> WalletTransaction {
        WalletTransaction {
            identification_id: IdentificationId::from_trusted(r.get("identification_id")),
            kid: r.get("kid"),
            state: r.get("state"),
            nonce: r.get("nonce"),
            wrapped_response_key: r.get("response_key"),
            response_code: r.get("response_code"),
            created_at: Timestamp::from_millis(r.get("created_at")),
            expires_at: Timestamp::from_millis(r.get("expires_at")),
            used_at: r
                .get::<Option<i64>, _>("used_at")
                .map(Timestamp::from_millis),
            flow: WalletFlow::from_stored(&r.get::<String, _>("flow")),
        }
    }

    /// What an idempotency key already holds, read inside the write transaction.
    /// A record older than the window is removed, so the key starts afresh.
    pub(crate) async fn idempotent_outcome(
        tx: &mut Transaction<'static, Driver>,
        rec: &IdempotencyRecord,
        now: Timestamp,
    ) -> Result<Option<CreateOutcome>, StoreError> {
        let existing: Option<(String, i64, String, i64)> = sqlx::query_as(&sql(
            "SELECT request_sha256, response_status, response_body, created_at \
             FROM idempotency_keys WHERE api_key_id = ? AND idempotency_key = ?",
        ))
        .bind(rec.api_key_id.as_str())
        .bind(&rec.key)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((hash, status, body, created_at)) = existing else {
            return Ok(None);
        };
        let window_start = now.millis() - IDEMPOTENCY_WINDOW.as_millis() as i64;
        if created_at >= window_start {
            if hash != rec.request_sha256 {
                return Ok(Some(CreateOutcome::KeyReused));
            }
            let status = u16::try_from(status).map_err(|_| corrupt("status", status))?;
            return Ok(Some(CreateOutcome::Replay { status, body }));
        }
        sqlx::query(&sql("DELETE FROM idempotency_keys WHERE api_key_id = ? AND idempotency_key = ?"))
            .bind(rec.api_key_id.as_str())
            .bind(&rec.key)
            .execute(&mut **tx)
            .await?;
        Ok(None)
    }


    pub(crate) async fn insert_idempotency(
        tx: &mut Transaction<'static, Driver>,
        rec: &IdempotencyRecord,
        created_at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(&sql(
            "INSERT INTO idempotency_keys (api_key_id, idempotency_key, request_sha256, \
             response_status, response_body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        ))
        .bind(rec.api_key_id.as_str())
        .bind(&rec.key)
        .bind(&rec.request_sha256)
        .bind(i64::from(rec.response_status))
        .bind(&rec.response_body)
        .bind(created_at.millis())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }


    /// Rows per multi-row INSERT: 17 columns x 64 rows stays far below SQLite's
    /// limit on bound parameters.
    const ROWS_PER_INSERT: usize = 64;

    /// Inserts new identifications, each with its creation history entry, and
    /// their organisations' counts: a few multi-row statements however many there
    /// are, because each statement is a round trip to the database thread.
    pub(crate) async fn insert_new(
        tx: &mut Transaction<'static, Driver>,
        idents: &[&Identification],
    ) -> Result<(), StoreError> {
        for chunk in idents.chunks(ROWS_PER_INSERT) {
            // PostgreSQL keeps descriptions as bytes, with a folded copy to
            // search (see `identifications::StoredText`).
            let mut rows = QueryBuilder::<Driver>::new(format!(
                "INSERT INTO identifications (id, organisation_id, proofme_id, proofme_revision, mode, status, \
                 description, {}is_request, metadata, redirect_url, webhook_url, locale, \
                 scanned_at, failure_reason, expires_at, created_at, updated_at) ",
                if POSTGRES { "description_folded, " } else { "" }
            ));
            rows.push_values(chunk, |mut b, i| {
                let description = i.description.as_ref().map(Description::as_str);
                b.push_bind(i.id.as_str())
                    .push_bind(i.organisation_id.as_str())
                    .push_bind(i.proofme_id.as_str())
                    .push_bind(i.proofme_revision)
                    .push_bind(i.mode.as_str())
                    .push_bind(i.status.as_i64());
                if POSTGRES {
                    b.push_bind(description.map(str::as_bytes))
                        .push_bind(description.map(folded));
                } else {
                    b.push_bind(description);
                }
                b.push_bind(i.is_request)
                    .push_bind(i.metadata.as_ref().map(Metadata::to_json_string))
                    .push_bind(i.redirect_url.as_str())
                    .push_bind(i.webhook_url.as_ref().map(HttpUrl::as_str))
                    .push_bind(i.locale.as_ref().map(Locale::as_str))
                    .push_bind(i.scanned_at.map(Timestamp::millis))
                    .push_bind(i.failure_reason.map(FailureReason::as_str))
                    .push_bind(i.expires_at.millis())
                    .push_bind(i.created_at.millis())
                    .push_bind(i.updated_at.millis());
            });
            rows.build().execute(&mut **tx).await?;

            let mut history = QueryBuilder::<Driver>::new(
                "INSERT INTO status_changes (identification_id, seq, from_status, to_status, cause, changed_at) ",
            );
            history.push_values(chunk, |mut b, i| {
                b.push_bind(i.id.as_str())
                    .push_bind(0_i64)
                    .push_bind(None::<i64>)
                    .push_bind(i.status.as_i64())
                    .push_bind(ChangeCause::Created.as_str())
                    .push_bind(i.created_at.millis());
            });
            history.build().execute(&mut **tx).await?;
        }
        let mut counts: Vec<(&OrganisationId, Mode, i64)> = Vec::new();
        for i in idents {
            match counts
                .iter_mut()
                .find(|(o, m, _)| *o == &i.organisation_id && *m == i.mode)
            {
                Some(c) => c.2 += 1,
                None => counts.push((&i.organisation_id, i.mode, 1)),
            }
        }
        for (organisation_id, mode, n) in counts {
            sqlx::query(&sql(
                "INSERT INTO identification_counts (organisation_id, mode, count) VALUES (?, ?, ?) \
                 ON CONFLICT (organisation_id, mode) DO UPDATE SET count = identification_counts.count + excluded.count",
            ))
            .bind(organisation_id.as_str())
            .bind(mode.as_str())
            .bind(n)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }


    pub(crate) async fn record_change(
        tx: &mut Transaction<'static, Driver>,
        id: &IdentificationId,
        seq: i64,
        from: Option<Status>,
        to: Status,
        cause: ChangeCause,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(&sql(
            "INSERT INTO status_changes (identification_id, seq, from_status, to_status, cause, changed_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        ))
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


    /// Applies the change to the identification read in this transaction: updates
    /// the row, appends the history entry, the webhook message the domain makes
    /// of the change (if any) to the outbox, and stores shared data that comes
    /// with it.
    pub(crate) async fn apply(
        tx: &mut Transaction<'static, Driver>,
        current: &Identification,
        change: &Change,
        now: Timestamp,
    ) -> Result<Identification, StoreError> {
        let next = change.next;
        let scanned_at = match (current.scanned_at, next) {
            (None, Status::Pending) => Some(now),
            (s, _) => s,
        };
        sqlx::query(&sql(
            "UPDATE identifications SET status = ?, scanned_at = ?, failure_reason = ?, updated_at = ? \
             WHERE id = ?",
        ))
        .bind(next.as_i64())
        .bind(scanned_at.map(Timestamp::millis))
        .bind(change.failure_reason.map(FailureReason::as_str))
        .bind(now.millis())
        .bind(current.id.as_str())
        .execute(&mut **tx)
        .await?;
        let seq: i64 = sqlx::query_scalar(&sql(
            "SELECT COALESCE(MAX(seq), -1) + 1 FROM status_changes WHERE identification_id = ?",
        ))
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
            sqlx::query(&sql(
                "INSERT INTO webhook_outbox (id, identification_id, organisation_id, seq, url, payload, \
                 state, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
            ))
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
            sqlx::query(&sql(
                "INSERT INTO shared_data (identification_id, encryption, wrapped_key, ciphertext, created_at) \
                 VALUES (?, ?, ?, ?, ?)",
            ))
            .bind(current.id.as_str())
            .bind(encryption)
            .bind(wrapped_key)
            .bind(ciphertext)
            .bind(now.millis())
            .execute(&mut **tx)
            .await?;
        }
        if POSTGRES {
            // Delivered to listening instances when this transaction commits.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(super::super::postgres::STATUS_CHANNEL)
                .bind(format!("{} {}", current.id.as_str(), next.as_i64()))
                .execute(&mut **tx)
                .await?;
        }
        Ok(updated)
    }


    /// The identification as stored, read inside a write transaction.
    pub(crate) async fn identification_in(
        tx: &mut Transaction<'static, Driver>,
        id: &IdentificationId,
    ) -> Result<Option<Identification>, StoreError> {
        let row: Option<IdentificationRow> = sqlx::query_as(&sql(&format!(
            "SELECT {COLUMNS} FROM identifications WHERE id = ?{LOCK_ROW}"
        )))
        .bind(id.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        row.map(Identification::try_from).transpose()
    }


    /// Applies `change` to `current` if the transition rules allow it. An open or
    /// pending identification past its expiry is first recorded as expired (with
    /// its webhook), so a late outcome is refused as final. The caller commits.
    pub(crate) async fn change_in(
        tx: &mut Transaction<'static, Driver>,
        current: Identification,
        change: &Change,
        now: Timestamp,
    ) -> Result<Result<Identification, Refusal>, StoreError> {
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
}
