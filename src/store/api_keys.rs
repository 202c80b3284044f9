use super::cache::API_KEY_CACHE_TTL;
use super::{Store, StoreError, corrupt};
use crate::domain::{ApiKeyId, Mode, OrganisationId, Timestamp, ids::random_base62};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::time::Duration;

/// How many characters of a secret are kept to show (`test_AbC1234`): enough
/// to tell keys apart, far too few to authenticate with.
pub const SECRET_PREFIX_LEN: usize = 12;

/// How often a key's `last_used_at` is written at most: "last used" is shown
/// to the minute, and authentication must not write on every request.
pub const LAST_USED_RESOLUTION: Duration = Duration::from_secs(60);

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

/// A key as its organisation sees it in a list: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeySummary {
    pub id: ApiKeyId,
    pub mode: Mode,
    /// The secret's first `SECRET_PREFIX_LEN` characters; `None` for keys
    /// made before these were kept.
    pub secret_prefix: Option<String>,
    pub created_at: Timestamp,
    /// To within `LAST_USED_RESOLUTION`; `None` if it never authenticated.
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
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
                "INSERT INTO api_keys (id, organisation_id, mode, secret_sha256, secret_prefix, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?)"),
            )
            .bind(key.id.as_str())
            .bind(key.organisation_id.as_str())
            .bind(mode.as_str())
            .bind(secret_sha256(&secret))
            .bind(secret.get(..SECRET_PREFIX_LEN))
            .bind(self.clock.now().millis())
            .execute(&db.writer)
            .await?;
            Ok(NewApiKey { key, secret })
        })
    }

    /// The active (not revoked) key with this secret.
    pub async fn find_api_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        on_db!(&self.db, db, on => {
            let hash = secret_sha256(secret);
            // Trusted for API_KEY_CACHE_TTL by the store's clock; the cache's
            // own expiry only bounds its memory.
            let now = self.clock.now();
            if let Some((key, looked_up)) = self.caches.api_keys().and_then(|c| c.get(&hash)) {
                if now < looked_up.plus(API_KEY_CACHE_TTL) {
                    return Ok(Some(key));
                }
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
                    c.insert(hash, (k.clone(), now));
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
                    .bind(self.clock.now().millis())
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

    /// Revokes `organisation`'s key `id` for good: it stops authenticating at
    /// once here (the cache forgets it), and on other instances, which do not
    /// cache keys, at their next request. False when the organisation has no
    /// such active key: another organisation's key is never touched.
    pub async fn revoke_api_key_of(
        &self,
        organisation: &OrganisationId,
        id: &ApiKeyId,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, db, on => {
            let done = sqlx::query(&on::sql(
                "UPDATE api_keys SET revoked_at = ? \
                 WHERE id = ? AND organisation_id = ? AND revoked_at IS NULL"),
            )
            .bind(self.clock.now().millis())
            .bind(id.as_str())
            .bind(organisation.as_str())
            .execute(&db.writer)
            .await?;
            if let Some(c) = self.caches.api_keys() {
                c.invalidate_all();
            }
            Ok(done.rows_affected() == 1)
        })
    }

    /// Every key of `organisation`, revoked ones too, newest first.
    pub async fn list_api_keys(
        &self,
        organisation: &OrganisationId,
    ) -> Result<Vec<ApiKeySummary>, StoreError> {
        on_db!(&self.db, db, on => {
            let rows = sqlx::query(&on::sql(
                "SELECT id, mode, secret_prefix, created_at, last_used_at, revoked_at FROM api_keys \
                 WHERE organisation_id = ? ORDER BY created_at DESC, id DESC"),
            )
            .bind(organisation.as_str())
            .fetch_all(&db.reader)
            .await?;
            rows.into_iter()
                .map(|r| {
                    let mode: String = r.get("mode");
                    let last_used_at: Option<i64> = r.get("last_used_at");
                    let revoked_at: Option<i64> = r.get("revoked_at");
                    Ok(ApiKeySummary {
                        id: ApiKeyId::from_trusted(r.get("id")),
                        mode: Mode::parse(&mode).ok_or_else(|| corrupt("api key mode", &mode))?,
                        secret_prefix: r.get("secret_prefix"),
                        created_at: Timestamp::from_millis(r.get("created_at")),
                        last_used_at: last_used_at.map(Timestamp::from_millis),
                        revoked_at: revoked_at.map(Timestamp::from_millis),
                    })
                })
                .collect()
        })
    }

    /// Notes that key `id` just authenticated a request. Never waits: at most
    /// once per `LAST_USED_RESOLUTION` per key in this process, a spawned task
    /// writes `last_used_at` (see `record_api_key_use`); every other call only
    /// looks at an in-memory table. True when a write was started.
    pub fn api_key_used(&self, id: &ApiKeyId) -> bool {
        let recent = &self.caches.key_uses;
        if recent.contains_key(id) {
            return false;
        }
        // Of callers racing for one key, only the one that inserts writes.
        if !recent.entry(id.clone()).or_insert(()).is_fresh() {
            return false;
        }
        let (store, id) = (self.clone(), id.clone());
        tokio::spawn(async move {
            if let Err(e) = store.record_api_key_use(&id, store.clock.now()).await {
                tracing::debug!(error = %e, key = %id, "could not record when a key was last used");
            }
        });
        true
    }

    /// Sets key `id`'s `last_used_at` to `at`, unless it is already within
    /// `LAST_USED_RESOLUTION` before `at`: however many instances share the
    /// database, the row changes at most once a minute. True when it changed.
    pub async fn record_api_key_use(
        &self,
        id: &ApiKeyId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, db, on => {
            let done = sqlx::query(&on::sql(
                "UPDATE api_keys SET last_used_at = ? \
                 WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)"),
            )
            .bind(at.millis())
            .bind(id.as_str())
            .bind(at.minus(LAST_USED_RESOLUTION).millis())
            .execute(&db.writer)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
