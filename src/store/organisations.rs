use super::{Store, StoreError};
use crate::domain::{OrganisationId, Timestamp, WebhookSecret};
use sqlx::Row;

/// An integrator.
#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    /// `whsec_` + base64 of 32 random bytes (Standard Webhooks).
    pub webhook_secret: String,
    /// An age X25519 recipient (`age1…`): shared data is then encrypted end
    /// to end to it.
    pub data_recipient: Option<String>,
    pub created_at: Timestamp,
}

impl Store {
    pub async fn create_organisation(&self, name: &str) -> Result<Organisation, StoreError> {
        on_db!(&self.db, db, on => {
            let org = Organisation {
                id: OrganisationId::generate(),
                name: name.to_owned(),
                webhook_secret: WebhookSecret::generate().expose(),
                data_recipient: None,
                created_at: Timestamp::now(),
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
                "SELECT id, name, webhook_secret, data_recipient, created_at FROM organisations WHERE id = ?"),
            )
            .bind(id.as_str())
            .fetch_optional(&db.reader)
            .await?;
            let org = row.map(|r| Organisation {
                id: OrganisationId::from_trusted(r.get("id")),
                name: r.get("name"),
                webhook_secret: r.get("webhook_secret"),
                data_recipient: r.get("data_recipient"),
                created_at: Timestamp::from_millis(r.get("created_at")),
            });
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

    pub async fn count_organisations(&self) -> Result<i64, StoreError> {
        on_db!(&self.db, db, on => {
            Ok(sqlx::query_scalar(&on::sql("SELECT COUNT(*) FROM organisations"))
                .fetch_one(&db.writer)
                .await?)
        })
    }
}
