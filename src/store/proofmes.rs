use super::{Store, StoreError, corrupt};
use crate::domain::proofme::Proofme;
use crate::domain::{Credential, CredentialKey, OrganisationId, ProofmeId, Purpose, Timestamp};
use sqlx::Row;

impl Store {
    pub async fn create_proofme(
        &self,
        organisation_id: &OrganisationId,
        name: &str,
        purpose: Purpose,
        credentials: &[Credential],
    ) -> Result<Proofme, StoreError> {
        on_db!(&self.db, db, on => {
            let proofme = Proofme {
                id: ProofmeId::generate(),
                organisation_id: organisation_id.clone(),
                name: name.to_owned(),
                purpose,
                credentials: credentials.to_vec(),
                revision: 1,
                created_at: Timestamp::now(),
            };
            let mut tx = db.begin_write().await?;
            sqlx::query(&on::sql(
                "INSERT INTO proofmes (id, organisation_id, name, purpose, revision, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?)"),
            )
            .bind(proofme.id.as_str())
            .bind(organisation_id.as_str())
            .bind(name)
            .bind(purpose.as_str())
            .bind(proofme.revision)
            .bind(proofme.created_at.millis())
            .execute(&mut *tx)
            .await?;
            for (position, c) in (0_i64..).zip(credentials) {
                sqlx::query(&on::sql(
                    "INSERT INTO proofme_credentials \
                     (proofme_id, position, provider, credential_key, required) VALUES (?, ?, ?, ?, ?)"),
                )
                .bind(proofme.id.as_str())
                .bind(position)
                .bind(c.provider().as_str())
                .bind(c.key.as_str())
                .bind(c.required)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(proofme)
        })
    }

    /// The proofme with this id if it belongs to this organisation.
    pub async fn get_proofme(
        &self,
        organisation_id: &OrganisationId,
        id: &ProofmeId,
    ) -> Result<Option<Proofme>, StoreError> {
        on_db!(&self.db, db, on => {
            let cache_key = (organisation_id.clone(), id.clone());
            if let Some(p) = self.caches.proofmes.get(&cache_key) {
                return Ok(Some(p));
            }
            let Some(row) = sqlx::query(&on::sql(
                "SELECT id, organisation_id, name, purpose, revision, created_at FROM proofmes \
                 WHERE id = ? AND organisation_id = ?"),
            )
            .bind(id.as_str())
            .bind(organisation_id.as_str())
            .fetch_optional(&db.reader)
            .await?
            else {
                return Ok(None);
            };
            let creds = sqlx::query(&on::sql(
                "SELECT credential_key, required FROM proofme_credentials \
                 WHERE proofme_id = ? ORDER BY position"),
            )
            .bind(id.as_str())
            .fetch_all(&db.reader)
            .await?;
            let credentials = creds
                .into_iter()
                .map(|r| {
                    let key: String = r.get("credential_key");
                    Ok(Credential {
                        key: CredentialKey::parse(&key).ok_or_else(|| corrupt("credential", &key))?,
                        required: r.get("required"),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let purpose: String = row.get("purpose");
            let proofme = Proofme {
                id: ProofmeId::from_trusted(row.get("id")),
                organisation_id: OrganisationId::from_trusted(row.get("organisation_id")),
                name: row.get("name"),
                purpose: Purpose::parse(&purpose).ok_or_else(|| corrupt("purpose", &purpose))?,
                credentials,
                revision: row.get("revision"),
                created_at: Timestamp::from_millis(row.get("created_at")),
            };
            self.caches.proofmes.insert(cache_key, proofme.clone());
            Ok(Some(proofme))
        })
    }
}
