use super::{Store, StoreError, corrupt};
use crate::domain::{ApiKeyId, Mode, OrganisationId, Timestamp, ids::random_base62};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// A key as the API sees it after authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub organisation_id: OrganisationId,
    pub mode: Mode,
}

impl ApiKey {
    /// Whether this key may see and change identifications of `mode`: a test
    /// key only test ones (a leaked CI key exposes no customer), a live key
    /// both (it creates test ones with `testmode=true`).
    pub fn sees(&self, mode: Mode) -> bool {
        self.mode == Mode::Live || mode == Mode::Test
    }
}

/// A freshly made key: the only moment its secret exists in the clear.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub secret: String,
}

/// Hex SHA-256 of a secret. A fast hash is right here: the secrets are 178-bit
/// random strings, so there is nothing for a slow hash to protect.
pub fn secret_sha256(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    pub async fn create_api_key(
        &self,
        organisation_id: &OrganisationId,
        mode: Mode,
    ) -> Result<NewApiKey, StoreError> {
        on_db!(&self.db, db, on => {
            let key = ApiKey {
                id: ApiKeyId::generate(),
                organisation_id: organisation_id.clone(),
                mode,
            };
            let secret = format!("{}{}", mode.key_prefix(), random_base62(30));
            sqlx::query(&on::sql(
                "INSERT INTO api_keys (id, organisation_id, mode, secret_sha256, created_at) \
                 VALUES (?, ?, ?, ?, ?)"),
            )
            .bind(key.id.as_str())
            .bind(key.organisation_id.as_str())
            .bind(mode.as_str())
            .bind(secret_sha256(&secret))
            .bind(Timestamp::now().millis())
            .execute(&db.writer)
            .await?;
            Ok(NewApiKey { key, secret })
        })
    }

    /// The active (not revoked) key with this secret.
    pub async fn find_api_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        on_db!(&self.db, db, on => {
            let hash = secret_sha256(secret);
            if let Some(key) = self.caches.api_keys().and_then(|c| c.get(&hash)) {
                return Ok(Some(key));
            }
            let row = sqlx::query(&on::sql(
                "SELECT id, organisation_id, mode FROM api_keys \
                 WHERE secret_sha256 = ? AND revoked_at IS NULL"),
            )
            .bind(&hash)
            .fetch_optional(&db.reader)
            .await?;
            let key = row
                .map(|r| {
                    let mode: String = r.get("mode");
                    Ok::<_, StoreError>(ApiKey {
                        id: ApiKeyId::from_trusted(r.get("id")),
                        organisation_id: OrganisationId::from_trusted(r.get("organisation_id")),
                        mode: Mode::parse(&mode).ok_or_else(|| corrupt("api key mode", &mode))?,
                    })
                })
                .transpose()?;
            if let Some(k) = &key {
                if let Some(c) = self.caches.api_keys() {
                    c.insert(hash, k.clone());
                }
            }
            Ok(key)
        })
    }

    /// Revokes a key for good. False when there is no such active key.
    pub async fn revoke_api_key(&self, id: &ApiKeyId) -> Result<bool, StoreError> {
        on_db!(&self.db, db, on => {
            let done =
                sqlx::query(&on::sql("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"))
                    .bind(Timestamp::now().millis())
                    .bind(id.as_str())
                    .execute(&db.writer)
                    .await?;
            // This process forgets every cached key at once; others within the TTL.
            if let Some(c) = self.caches.api_keys() {
                c.invalidate_all();
            }
            Ok(done.rows_affected() == 1)
        })
    }
}
