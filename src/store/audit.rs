//! The audit log: what people did in an organisation's dashboard, append-only.
//! Events are written with `Store::audit().record`, listed newest first by
//! organisation (filtered by action, actor email and time), and purged only
//! when older than the retention period.
//!
//! Each event is written right after the change it records, in a write of
//! its own: the store's changes (a key created, a secret rotated, …) commit
//! on their own, and a sign-in or sign-out is no store change at all. A
//! failure to record is the caller's to log; the change stands.

use super::{Store, StoreError, corrupt};
use crate::domain::{OrganisationId, Timestamp, UserId};
use sqlx::Row;

/// The longest `detail` kept; longer text is cut at a character boundary.
pub const MAX_DETAIL_CHARS: usize = 200;
/// The longest `target` kept (ids are far shorter; a URL may not be).
pub const MAX_TARGET_CHARS: usize = 300;
/// The longest actor email a filter may name.
pub const MAX_ACTOR_FILTER_CHARS: usize = 254;

/// What was done: a fixed set, stored by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    SignedIn,
    SignedOut,
    SignInFailed,
    ApiKeyCreated,
    ApiKeyRevoked,
    WebhookSecretRevealed,
    WebhookSecretRotated,
    WebhookTestSent,
    DataRevealed,
    DataErased,
    IdentificationRevoked,
    ProofmeCreated,
    ProofmeEdited,
    PublicLinkSaved,
    PublicLinkRemoved,
    SettingsNameChanged,
    SettingsRecipientChanged,
    SettingsRetentionChanged,
}

impl AuditAction {
    pub const ALL: [AuditAction; 18] = [
        AuditAction::SignedIn,
        AuditAction::SignedOut,
        AuditAction::SignInFailed,
        AuditAction::ApiKeyCreated,
        AuditAction::ApiKeyRevoked,
        AuditAction::WebhookSecretRevealed,
        AuditAction::WebhookSecretRotated,
        AuditAction::WebhookTestSent,
        AuditAction::DataRevealed,
        AuditAction::DataErased,
        AuditAction::IdentificationRevoked,
        AuditAction::ProofmeCreated,
        AuditAction::ProofmeEdited,
        AuditAction::PublicLinkSaved,
        AuditAction::PublicLinkRemoved,
        AuditAction::SettingsNameChanged,
        AuditAction::SettingsRecipientChanged,
        AuditAction::SettingsRetentionChanged,
    ];

    /// The name stored, put in URLs and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignedIn => "signed_in",
            AuditAction::SignedOut => "signed_out",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::ApiKeyCreated => "api_key_created",
            AuditAction::ApiKeyRevoked => "api_key_revoked",
            AuditAction::WebhookSecretRevealed => "webhook_secret_revealed",
            AuditAction::WebhookSecretRotated => "webhook_secret_rotated",
            AuditAction::WebhookTestSent => "webhook_test_sent",
            AuditAction::DataRevealed => "data_revealed",
            AuditAction::DataErased => "data_erased",
            AuditAction::IdentificationRevoked => "identification_revoked",
            AuditAction::ProofmeCreated => "proofme_created",
            AuditAction::ProofmeEdited => "proofme_edited",
            AuditAction::PublicLinkSaved => "public_link_saved",
            AuditAction::PublicLinkRemoved => "public_link_removed",
            AuditAction::SettingsNameChanged => "settings_name_changed",
            AuditAction::SettingsRecipientChanged => "settings_recipient_changed",
            AuditAction::SettingsRetentionChanged => "settings_retention_changed",
        }
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::SignedIn => "Signed in",
            AuditAction::SignedOut => "Signed out",
            AuditAction::SignInFailed => "Sign-in failed",
            AuditAction::ApiKeyCreated => "API key created",
            AuditAction::ApiKeyRevoked => "API key revoked",
            AuditAction::WebhookSecretRevealed => "Webhook secret revealed",
            AuditAction::WebhookSecretRotated => "Webhook secret rotated",
            AuditAction::WebhookTestSent => "Test webhook sent",
            AuditAction::DataRevealed => "Shared data shown",
            AuditAction::DataErased => "Shared data erased",
            AuditAction::IdentificationRevoked => "Identification revoked",
            AuditAction::ProofmeCreated => "Proofme created",
            AuditAction::ProofmeEdited => "Proofme edited",
            AuditAction::PublicLinkSaved => "Public link saved",
            AuditAction::PublicLinkRemoved => "Public link removed",
            AuditAction::SettingsNameChanged => "Organisation name changed",
            AuditAction::SettingsRecipientChanged => "Data recipient changed",
            AuditAction::SettingsRetentionChanged => "Data retention changed",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Who did it, as they were then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `None` when nobody was signed in (a failed sign-in).
    pub user_id: Option<UserId>,
    pub email: Option<String>,
}

impl Actor {
    /// A signed-in user.
    pub fn user(id: &UserId, email: &str) -> Actor {
        Actor {
            user_id: Some(id.clone()),
            email: Some(email.to_owned()),
        }
    }

    /// Someone not signed in who tried the account with this email. Pass the
    /// account's own (stored) email, never the text typed: a typed field
    /// may hold anything, a password pasted in the wrong box included.
    pub fn attempt_on(account_email: &str) -> Actor {
        Actor {
            user_id: None,
            email: Some(account_email.to_owned()),
        }
    }
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub organisation_id: OrganisationId,
    pub at: Timestamp,
    pub actor: Actor,
    pub action: AuditAction,
    pub target: Option<String>,
    pub detail: String,
}

/// Which events to list. Times are inclusive `from`, exclusive `until`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    /// Part of the actor's email, any case.
    pub actor_email: Option<String>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// Where a keyset page of events starts: after (older than) this event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    pub at: Timestamp,
    pub id: i64,
}

impl AuditEvent {
    pub fn cursor(&self) -> AuditCursor {
        AuditCursor {
            at: self.at,
            id: self.id,
        }
    }
}

/// The audit log's part of the store.
pub struct Audit<'a> {
    store: &'a Store,
}

impl Store {
    /// The audit log.
    pub fn audit(&self) -> Audit<'_> {
        Audit { store: self }
    }
}

/// `text` cut to at most `max` characters.
fn clipped(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The WHERE clause (after `organisation_id = ?`) and its text arguments in
/// order, for `filter` and `after`. Numbers are bound separately (see
/// `bind_filter`), so the clause is built once for both engines.
fn filter_sql(filter: &AuditFilter, after: Option<AuditCursor>, postgres: bool) -> String {
    let mut sql = String::from("organisation_id = ?");
    if filter.action.is_some() {
        sql.push_str(" AND action = ?");
    }
    if filter.actor_email.is_some() {
        // A plain substring test: no LIKE, so `%` and `_` in the filter mean
        // themselves.
        sql.push_str(if postgres {
            " AND strpos(actor_email, ?) > 0"
        } else {
            " AND instr(actor_email, ?) > 0"
        });
    }
    if filter.from.is_some() {
        sql.push_str(" AND at >= ?");
    }
    if filter.until.is_some() {
        sql.push_str(" AND at < ?");
    }
    if after.is_some() {
        sql.push_str(" AND (at < ? OR (at = ? AND id < ?))");
    }
    sql
}

/// Binds what `filter_sql` asked for, in its order.
macro_rules! bind_filter {
    ($query:expr, $org:expr, $filter:expr, $after:expr) => {{
        let mut q = $query.bind($org.as_str());
        if let Some(a) = $filter.action {
            q = q.bind(a.as_str());
        }
        if let Some(e) = &$filter.actor_email {
            q = q.bind(e.to_lowercase());
        }
        if let Some(t) = $filter.from {
            q = q.bind(t.millis());
        }
        if let Some(t) = $filter.until {
            q = q.bind(t.millis());
        }
        if let Some(c) = $after {
            q = q.bind(c.at.millis()).bind(c.at.millis()).bind(c.id);
        }
        q
    }};
}

impl Audit<'_> {
    /// Appends one event for `organisation`, at the store's clock's now.
    /// `target` names what was acted on (an id); `detail` is a short note.
    /// Both are cut to their limits; neither may hold a secret.
    pub async fn record(
        &self,
        organisation: &OrganisationId,
        actor: Actor,
        action: AuditAction,
        target: Option<&str>,
        detail: &str,
    ) -> Result<(), StoreError> {
        let at = self.store.clock.now();
        let target = target.map(|t| clipped(t, MAX_TARGET_CHARS));
        let detail = clipped(detail, MAX_DETAIL_CHARS);
        on_db!(&self.store.db, db, on => {
            sqlx::query(&on::sql(
                "INSERT INTO audit_events (organisation_id, at, actor_user_id, actor_email, action, target, detail) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)"),
            )
            .bind(organisation.as_str())
            .bind(at.millis())
            .bind(actor.user_id.as_ref().map(UserId::as_str))
            .bind(actor.email.as_deref())
            .bind(action.as_str())
            .bind(target)
            .bind(detail)
            .execute(&db.writer)
            .await?;
            Ok(())
        })
    }

    /// `organisation`'s events that match `filter`, newest first: `limit`
    /// of them after skipping `offset`, or (for an export) the ones older
    /// than `after`.
    pub async fn list(
        &self,
        organisation: &OrganisationId,
        filter: &AuditFilter,
        after: Option<AuditCursor>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        on_db!(&self.store.db, db, on => {
            let sql = format!(
                "SELECT id, organisation_id, at, actor_user_id, actor_email, action, target, detail \
                 FROM audit_events WHERE {} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
                filter_sql(filter, after, on::POSTGRES)
            );
            let sql = on::sql(&sql);
            let query = bind_filter!(sqlx::query(&sql), organisation, filter, after);
            let rows = query
                .bind(limit)
                .bind(offset)
                .fetch_all(&db.reader)
                .await?;
            rows.into_iter()
                .map(|r| {
                    let action: String = r.get("action");
                    Ok(AuditEvent {
                        id: r.get("id"),
                        organisation_id: OrganisationId::from_trusted(r.get("organisation_id")),
                        at: Timestamp::from_millis(r.get("at")),
                        actor: Actor {
                            user_id: r
                                .get::<Option<String>, _>("actor_user_id")
                                .map(UserId::from_trusted),
                            email: r.get("actor_email"),
                        },
                        action: AuditAction::parse(&action)
                            .ok_or_else(|| corrupt("audit action", &action))?,
                        target: r.get("target"),
                        detail: r.get("detail"),
                    })
                })
                .collect()
        })
    }

    /// How many of `organisation`'s events match `filter`.
    pub async fn count(
        &self,
        organisation: &OrganisationId,
        filter: &AuditFilter,
    ) -> Result<i64, StoreError> {
        on_db!(&self.store.db, db, on => {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM audit_events WHERE {}",
                filter_sql(filter, None, on::POSTGRES)
            );
            let sql = on::sql(&sql);
            let query = bind_filter!(sqlx::query(&sql), organisation, filter, None::<AuditCursor>);
            Ok(query.fetch_one(&db.reader).await?.get::<i64, _>("n"))
        })
    }

    /// The retention purge: deletes every event older than `before`, of
    /// every organisation. The only way an event ever goes.
    pub async fn purge_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        on_db!(&self.store.db, db, on => {
            Ok(sqlx::query(&on::sql("DELETE FROM audit_events WHERE at < ?"))
                .bind(before.millis())
                .execute(&db.writer)
                .await?
                .rows_affected())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_read_back_by_its_name() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(AuditAction::parse("nonsense"), None);
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        assert_eq!(clipped("abc", 5), "abc");
        assert_eq!(clipped("ééé", 2), "éé");
    }
}
