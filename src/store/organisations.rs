use super::{Store, StoreError, corrupt};
use crate::domain::{OrganisationId, Timestamp, WebhookSecret};
use sqlx::Row;
use std::time::Duration;

/// How long the secret before a rotation keeps signing beside the new one,
/// so receivers can switch to the new secret without missing a webhook.
pub const WEBHOOK_SECRET_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);

/// The webhook secret before the last rotation, and until when it signs.
#[derive(Clone, PartialEq)]
pub struct PreviousWebhookSecret {
    /// `whsec_…`.
    pub secret: String,
    pub expires_at: Timestamp,
}

/// Without the secret, so that it cannot reach a log.
impl std::fmt::Debug for PreviousWebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreviousWebhookSecret")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// An integrator.
#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    /// `whsec_` + base64 of 32 random bytes (Standard Webhooks).
    pub webhook_secret: String,
    /// The secret before the last rotation, while the overlap lasts (see
    /// `signing_secrets`).
    pub previous_webhook_secret: Option<PreviousWebhookSecret>,
    /// An age X25519 recipient (`age1…`): shared data is then encrypted end
    /// to end to it.
    pub data_recipient: Option<String>,
    /// Days its shared data is kept, when shorter than the deployment's
    /// period; `None` keeps the deployment's.
    pub data_retention_days: Option<u32>,
    pub created_at: Timestamp,
}

impl Organisation {
    /// The secrets that sign a webhook sent at `now`, current one first: the
    /// current secret, and the previous one until its overlap ends.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<&str> {
        let mut secrets = vec![self.webhook_secret.as_str()];
        if let Some(previous) = &self.previous_webhook_secret {
            if now < previous.expires_at {
                secrets.push(&previous.secret);
            }
        }
        secrets
    }
}

impl Store {
    pub async fn create_organisation(&self, name: &str) -> Result<Organisation, StoreError> {
        on_db!(&self.db, db, on => {
            let org = Organisation {
                id: OrganisationId::generate(),
                name: name.to_owned(),
                webhook_secret: WebhookSecret::generate().expose(),
                previous_webhook_secret: None,
                data_recipient: None,
                data_retention_days: None,
                created_at: self.clock.now(),
            };
            sqlx::query(&on::sql(
                "INSERT INTO organisations (id, name, webhook_secret, created_at) VALUES (?, ?, ?, ?)"),
            )
            .bind(org.id.as_str())
            .bind(&org.name)
            .bind(&org.webhook_secret)
            .bind(org.created_at.millis())
            .execute(&db.writer)
            .await?;
            Ok(org)
        })
    }

    pub async fn get_organisation(
        &self,
        id: &OrganisationId,
    ) -> Result<Option<Organisation>, StoreError> {
        on_db!(&self.db, db, on => {
            if let Some(org) = self.caches.organisations().and_then(|c| c.get(id)) {
                return Ok(Some(org));
            }
            let row = sqlx::query(&on::sql(
                "SELECT id, name, webhook_secret, previous_webhook_secret, previous_webhook_secret_expires_at, \
                 data_recipient, data_retention_days, created_at FROM organisations WHERE id = ?"),
            )
            .bind(id.as_str())
            .fetch_optional(&db.reader)
            .await?;
            let org = row.map(|r| {
                let previous: Option<String> = r.get("previous_webhook_secret");
                let expires_at: Option<i64> = r.get("previous_webhook_secret_expires_at");
                let retention: Option<i64> = r.get("data_retention_days");
                let data_retention_days = retention
                    .map(|d| u32::try_from(d).map_err(|e| corrupt("data retention days", e)))
                    .transpose()?;
                Ok::<_, StoreError>(Organisation {
                    id: OrganisationId::from_trusted(r.get("id")),
                    name: r.get("name"),
                    webhook_secret: r.get("webhook_secret"),
                    previous_webhook_secret: previous.zip(expires_at).map(|(secret, at)| {
                        PreviousWebhookSecret {
                            secret,
                            expires_at: Timestamp::from_millis(at),
                        }
                    }),
                    data_recipient: r.get("data_recipient"),
                    data_retention_days,
                    created_at: Timestamp::from_millis(r.get("created_at")),
                })
            }).transpose()?;
            if let Some(o) = &org {
                if let Some(c) = self.caches.organisations() {
                    c.insert(o.id.clone(), o.clone());
                }
            }
            Ok(org)
        })
    }

    /// Sets (or with `None` clears) the organisation's end-to-end recipient.
    /// False when there is no such organisation.
    pub async fn set_data_recipient(
        &self,
        id: &OrganisationId,
        recipient: Option<&str>,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, db, on => {
            let done = sqlx::query(&on::sql("UPDATE organisations SET data_recipient = ? WHERE id = ?"))
                .bind(recipient)
                .bind(id.as_str())
                .execute(&db.writer)
                .await?;
            if let Some(c) = self.caches.organisations() {
                c.invalidate_all();
            }
            Ok(done.rows_affected() == 1)
        })
    }

    /// Renames the organisation (the name MyPage shows). False when there is
    /// no such organisation.
    pub async fn rename_organisation(
        &self,
        id: &OrganisationId,
        name: &str,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, db, on => {
            let done = sqlx::query(&on::sql("UPDATE organisations SET name = ? WHERE id = ?"))
                .bind(name)
                .bind(id.as_str())
                .execute(&db.writer)
                .await?;
            if let Some(c) = self.caches.organisations() {
                c.invalidate(id);
            }
            Ok(done.rows_affected() == 1)
        })
    }

    /// Sets (or with `None` clears) how many days the organisation's shared
    /// data is kept. The caller keeps it within the deployment's period
    /// (the sweep erases by the shorter one anyway). False when there is no
    /// such organisation.
    pub async fn set_data_retention_days(
        &self,
        id: &OrganisationId,
        days: Option<u32>,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, db, on => {
            let done = sqlx::query(&on::sql(
                "UPDATE organisations SET data_retention_days = ? WHERE id = ?"),
            )
            .bind(days.map(i64::from))
            .bind(id.as_str())
            .execute(&db.writer)
            .await?;
            if let Some(c) = self.caches.organisations() {
                c.invalidate(id);
            }
            Ok(done.rows_affected() == 1)
        })
    }

    /// Gives the organisation a new webhook secret and returns it
    /// (`whsec_…`). The one it replaces keeps signing beside it for
    /// `WEBHOOK_SECRET_OVERLAP`; a secret older than that one (from an earlier
    /// rotation within the overlap) stops signing now. `None` when there is
    /// no such organisation.
    pub async fn rotate_webhook_secret(
        &self,
        id: &OrganisationId,
    ) -> Result<Option<String>, StoreError> {
        on_db!(&self.db, db, on => {
            let secret = WebhookSecret::generate().expose();
            // The right-hand sides read the row as it was: one statement
            // moves the current secret aside and sets the new one.
            let done = sqlx::query(&on::sql(
                "UPDATE organisations SET previous_webhook_secret = webhook_secret, \
                 previous_webhook_secret_expires_at = ?, webhook_secret = ? WHERE id = ?"),
            )
            .bind(self.clock.now().plus(WEBHOOK_SECRET_OVERLAP).millis())
            .bind(&secret)
            .bind(id.as_str())
            .execute(&db.writer)
            .await?;
            if let Some(c) = self.caches.organisations() {
                c.invalidate(id);
            }
            Ok((done.rows_affected() == 1).then_some(secret))
        })
    }

    /// Ends the overlap of the last rotation now: only the current secret
    /// signs from here on (once receivers use it, or at once if the old one
    /// leaked). False when there is no such organisation or no overlap.
    pub async fn end_webhook_secret_overlap(
        &self,
        id: &OrganisationId,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, db, on => {
            let now = self.clock.now().millis();
            let done = sqlx::query(&on::sql(
                "UPDATE organisations SET previous_webhook_secret_expires_at = ? \
                 WHERE id = ? AND previous_webhook_secret_expires_at > ?"),
            )
            .bind(now)
            .bind(id.as_str())
            .bind(now)
            .execute(&db.writer)
            .await?;
            if let Some(c) = self.caches.organisations() {
                c.invalidate(id);
            }
            Ok(done.rows_affected() == 1)
        })
    }

    pub async fn count_organisations(&self) -> Result<i64, StoreError> {
        on_db!(&self.db, db, on => {
            Ok(sqlx::query_scalar(&on::sql("SELECT COUNT(*) FROM organisations"))
                .fetch_one(&db.writer)
                .await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn organisation(previous: Option<(&str, i64)>) -> Organisation {
        Organisation {
            id: OrganisationId::generate(),
            name: "Shop".into(),
            webhook_secret: "whsec_new".into(),
            previous_webhook_secret: previous.map(|(secret, at)| PreviousWebhookSecret {
                secret: secret.into(),
                expires_at: Timestamp::from_millis(at),
            }),
            data_recipient: None,
            data_retention_days: None,
            created_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn the_previous_secret_signs_until_its_overlap_ends() {
        let org = organisation(Some(("whsec_old", 1_000)));

        assert_eq!(
            org.signing_secrets(Timestamp::from_millis(999)),
            ["whsec_new", "whsec_old"]
        );
        assert_eq!(
            org.signing_secrets(Timestamp::from_millis(1_000)),
            ["whsec_new"]
        );
    }

    #[test]
    fn without_a_rotation_only_the_current_secret_signs() {
        assert_eq!(
            organisation(None).signing_secrets(Timestamp::from_millis(5)),
            ["whsec_new"]
        );
    }
}
