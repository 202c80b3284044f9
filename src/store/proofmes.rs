//! Proofmes, their revisions and their public links. Every read and write is
//! scoped by organisation: another organisation's proofme is not found.
//!
//! `proofmes` holds each proofme's current revision number, name and purpose;
//! `proofme_revisions` and `proofme_revision_credentials` every revision ever
//! made, which never change (an identification keeps the one it was created
//! with). `proofme_credentials` mirrors the current revision's credentials.

use super::{Store, StoreError, corrupt};
use crate::domain::proofme::{Proofme, PublicLink};
use crate::domain::{
    Credential, CredentialKey, HttpUrl, Identification, Mode, OrganisationId, ProofmeId, Purpose,
    Timestamp,
};
use sqlx::Row;

/// Writes one revision row and its credentials inside an open transaction.
macro_rules! insert_revision {
    ($tx:ident, $on:ident, $p:expr, $now:expr) => {{
        let p: &Proofme = $p;
        sqlx::query(&$on::sql(
            "INSERT INTO proofme_revisions (proofme_id, revision, name, purpose, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        ))
        .bind(p.id.as_str())
        .bind(p.revision)
        .bind(p.name.as_str())
        .bind(p.purpose.as_str())
        .bind($now.millis())
        .execute(&mut *$tx)
        .await?;
        for (position, c) in (0_i64..).zip(&p.credentials) {
            sqlx::query(&$on::sql(
                "INSERT INTO proofme_revision_credentials \
                 (proofme_id, revision, position, provider, credential_key, required) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            ))
            .bind(p.id.as_str())
            .bind(p.revision)
            .bind(position)
            .bind(c.provider().as_str())
            .bind(c.key.as_str())
            .bind(c.required)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// A proofme as a list or detail page shows it: its current revision and its
/// public link, if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofmeListing {
    pub proofme: Proofme,
    pub public_link: Option<PublicLink>,
}

/// What a public link is made with; the slug is drawn by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPublicLink {
    pub redirect_url: HttpUrl,
    pub webhook_url: Option<HttpUrl>,
    pub mode: Mode,
}

const LINK_COLUMNS: &str = "proofme_id, slug, redirect_url, webhook_url, mode, created_at";

/// A link row as `LINK_COLUMNS` reads it.
type LinkRow = (String, String, String, Option<String>, String, i64);

/// A link row and its proofme's organisation.
type FoundLinkRow = (String, String, String, Option<String>, String, i64, String);

fn link_from_row(r: LinkRow) -> Result<PublicLink, StoreError> {
    let (proofme_id, slug, redirect_url, webhook_url, mode, created_at) = r;
    let url = |s: &str| HttpUrl::from_stored(s).map_err(|e| corrupt("url", e));
    Ok(PublicLink {
        proofme_id: ProofmeId::from_trusted(proofme_id),
        slug,
        redirect_url: url(&redirect_url)?,
        webhook_url: webhook_url.as_deref().map(url).transpose()?,
        mode: Mode::parse(&mode).ok_or_else(|| corrupt("mode", &mode))?,
        created_at: Timestamp::from_millis(created_at),
    })
}

impl Store {
    pub async fn create_proofme(
        &self,
        organisation_id: &OrganisationId,
        name: &str,
        purpose: Purpose,
        credentials: &[Credential],
    ) -> Result<Proofme, StoreError> {
        let proofme = Proofme {
            id: ProofmeId::generate(),
            organisation_id: organisation_id.clone(),
            name: name.to_owned(),
            purpose,
            credentials: credentials.to_vec(),
            revision: 1,
            created_at: self.clock.now(),
        };
        on_db!(&self.db, db, on => {
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
            insert_revision!(tx, on, &proofme, self.clock.now());
            tx.commit().await?;
        });
        Ok(proofme)
    }

    /// Edits a proofme of this organisation: a new revision with this name,
    /// purpose and credentials. Earlier revisions stay as they were, for the
    /// identifications made with them. `None` if there is no such proofme.
    pub async fn update_proofme(
        &self,
        organisation_id: &OrganisationId,
        id: &ProofmeId,
        name: &str,
        purpose: Purpose,
        credentials: &[Credential],
    ) -> Result<Option<Proofme>, StoreError> {
        let updated = on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            // Taking the next number in the UPDATE itself serialises two
            // concurrent edits: each gets a revision of its own.
            let revision: Option<(i64, i64)> = sqlx::query_as(&on::sql(
                "UPDATE proofmes SET revision = revision + 1, name = ?, purpose = ? \
                 WHERE id = ? AND organisation_id = ? RETURNING revision, created_at"),
            )
            .bind(name)
            .bind(purpose.as_str())
            .bind(id.as_str())
            .bind(organisation_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let Some((revision, created_at)) = revision else {
                tx.rollback().await?;
                return Ok(None);
            };
            let proofme = Proofme {
                id: id.clone(),
                organisation_id: organisation_id.clone(),
                name: name.to_owned(),
                purpose,
                credentials: credentials.to_vec(),
                revision,
                created_at: Timestamp::from_millis(created_at),
            };
            sqlx::query(&on::sql("DELETE FROM proofme_credentials WHERE proofme_id = ?"))
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            for (position, c) in (0_i64..).zip(credentials) {
                sqlx::query(&on::sql(
                    "INSERT INTO proofme_credentials \
                     (proofme_id, position, provider, credential_key, required) VALUES (?, ?, ?, ?, ?)"),
                )
                .bind(id.as_str())
                .bind(position)
                .bind(c.provider().as_str())
                .bind(c.key.as_str())
                .bind(c.required)
                .execute(&mut *tx)
                .await?;
            }
            insert_revision!(tx, on, &proofme, self.clock.now());
            tx.commit().await?;
            proofme
        });
        let key = (organisation_id.clone(), id.clone());
        if let Some(current) = self.caches.current_revisions() {
            current.insert(key.clone(), updated.revision);
        }
        self.caches
            .proofmes
            .insert((key.0, key.1, updated.revision), updated.clone());
        Ok(Some(updated))
    }

    /// The current revision of this organisation's proofme with this id.
    pub async fn get_proofme(
        &self,
        organisation_id: &OrganisationId,
        id: &ProofmeId,
    ) -> Result<Option<Proofme>, StoreError> {
        let key = (organisation_id.clone(), id.clone());
        let cached = self.caches.current_revisions().and_then(|c| c.get(&key));
        let revision = match cached {
            Some(r) => r,
            None => {
                let revision: Option<i64> = on_db!(&self.db, db, on => {
                    sqlx::query_scalar(&on::sql(
                        "SELECT revision FROM proofmes WHERE id = ? AND organisation_id = ?"),
                    )
                    .bind(id.as_str())
                    .bind(organisation_id.as_str())
                    .fetch_optional(&db.reader)
                    .await?
                });
                let Some(revision) = revision else {
                    return Ok(None);
                };
                if let Some(current) = self.caches.current_revisions() {
                    // An edit in between has put a newer number: keep that.
                    current.entry(key).and_compute_with(|e| match e {
                        Some(e) if *e.value() >= revision => moka::ops::compute::Op::Nop,
                        _ => moka::ops::compute::Op::Put(revision),
                    });
                }
                revision
            }
        };
        self.get_proofme_revision(organisation_id, id, revision)
            .await
    }

    /// The proofme revision `ident` was made with. Every identification has
    /// one (the schema's foreign keys), so a missing one is a corrupt store.
    pub async fn proofme_of(&self, ident: &Identification) -> Result<Proofme, StoreError> {
        self.get_proofme_revision(
            &ident.organisation_id,
            &ident.proofme_id,
            ident.proofme_revision,
        )
        .await?
        .ok_or_else(|| StoreError::Corrupt("an identification without its proofme revision".into()))
    }

    /// One revision of this organisation's proofme: what an identification
    /// made with it asks for and why, however the proofme was edited since.
    pub async fn get_proofme_revision(
        &self,
        organisation_id: &OrganisationId,
        id: &ProofmeId,
        revision: i64,
    ) -> Result<Option<Proofme>, StoreError> {
        let cache_key = (organisation_id.clone(), id.clone(), revision);
        if let Some(p) = self.caches.proofmes.get(&cache_key) {
            return Ok(Some(p));
        }
        on_db!(&self.db, db, on => {
            let Some(row) = sqlx::query(&on::sql(
                "SELECT r.name, r.purpose, r.revision, p.created_at \
                 FROM proofme_revisions r JOIN proofmes p ON p.id = r.proofme_id \
                 WHERE r.proofme_id = ? AND r.revision = ? AND p.organisation_id = ?"),
            )
            .bind(id.as_str())
            .bind(revision)
            .bind(organisation_id.as_str())
            .fetch_optional(&db.reader)
            .await?
            else {
                return Ok(None);
            };
            let creds = sqlx::query(&on::sql(
                "SELECT credential_key, required FROM proofme_revision_credentials \
                 WHERE proofme_id = ? AND revision = ? ORDER BY position"),
            )
            .bind(id.as_str())
            .bind(revision)
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
                id: id.clone(),
                organisation_id: organisation_id.clone(),
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

    /// Every proofme of this organisation, oldest first, at its current
    /// revision and with its public link.
    pub async fn list_proofmes(
        &self,
        organisation_id: &OrganisationId,
    ) -> Result<Vec<ProofmeListing>, StoreError> {
        let ids: Vec<String> = on_db!(&self.db, db, on => {
            sqlx::query_scalar(&on::sql(
                "SELECT id FROM proofmes WHERE organisation_id = ? ORDER BY created_at, id"),
            )
            .bind(organisation_id.as_str())
            .fetch_all(&db.reader)
            .await?
        });
        let mut listed = Vec::with_capacity(ids.len());
        for id in ids {
            let id = ProofmeId::from_trusted(id);
            if let Some(listing) = self.get_proofme_listing(organisation_id, &id).await? {
                listed.push(listing);
            }
        }
        Ok(listed)
    }

    /// This organisation's proofme at its current revision, with its public link.
    pub async fn get_proofme_listing(
        &self,
        organisation_id: &OrganisationId,
        id: &ProofmeId,
    ) -> Result<Option<ProofmeListing>, StoreError> {
        let Some(proofme) = self.get_proofme(organisation_id, id).await? else {
            return Ok(None);
        };
        let public_link = self.get_public_link(organisation_id, id).await?;
        Ok(Some(ProofmeListing {
            proofme,
            public_link,
        }))
    }

    /// The public link of this organisation's proofme, if it has one.
    pub async fn get_public_link(
        &self,
        organisation_id: &OrganisationId,
        id: &ProofmeId,
    ) -> Result<Option<PublicLink>, StoreError> {
        on_db!(&self.db, db, on => {
            let row: Option<LinkRow> = sqlx::query_as(&on::sql(&format!(
                "SELECT {LINK_COLUMNS} FROM proofme_public_links \
                 WHERE proofme_id = ? AND proofme_id IN \
                 (SELECT id FROM proofmes WHERE organisation_id = ?)"
            )))
            .bind(id.as_str())
            .bind(organisation_id.as_str())
            .fetch_optional(&db.reader)
            .await?;
            row.map(link_from_row).transpose()
        })
    }

    /// Gives this organisation's proofme a public link, or replaces the one
    /// it has: a new random slug, so the old address stops working. `None`
    /// if there is no such proofme.
    pub async fn set_public_link(
        &self,
        organisation_id: &OrganisationId,
        id: &ProofmeId,
        link: &NewPublicLink,
    ) -> Result<Option<PublicLink>, StoreError> {
        let made = PublicLink {
            proofme_id: id.clone(),
            slug: PublicLink::new_slug(),
            redirect_url: link.redirect_url.clone(),
            webhook_url: link.webhook_url.clone(),
            mode: link.mode,
            created_at: self.clock.now(),
        };
        on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            let owned: Option<String> = sqlx::query_scalar(&on::sql(
                "SELECT id FROM proofmes WHERE id = ? AND organisation_id = ?"),
            )
            .bind(id.as_str())
            .bind(organisation_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if owned.is_none() {
                tx.rollback().await?;
                return Ok(None);
            }
            sqlx::query(&on::sql("DELETE FROM proofme_public_links WHERE proofme_id = ?"))
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(&on::sql(&format!(
                "INSERT INTO proofme_public_links ({LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
            )))
            .bind(id.as_str())
            .bind(&made.slug)
            .bind(made.redirect_url.as_str())
            .bind(made.webhook_url.as_ref().map(HttpUrl::as_str))
            .bind(made.mode.as_str())
            .bind(made.created_at.millis())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(Some(made))
    }

    /// Removes the public link of this organisation's proofme: its address
    /// answers 404 from now on. False if there was none.
    pub async fn remove_public_link(
        &self,
        organisation_id: &OrganisationId,
        id: &ProofmeId,
    ) -> Result<bool, StoreError> {
        let removed = on_db!(&self.db, db, on => {
            sqlx::query(&on::sql(
                "DELETE FROM proofme_public_links WHERE proofme_id = ? AND proofme_id IN \
                 (SELECT id FROM proofmes WHERE organisation_id = ?)"),
            )
            .bind(id.as_str())
            .bind(organisation_id.as_str())
            .execute(&db.writer)
            .await?
            .rows_affected()
        });
        Ok(removed > 0)
    }

    /// The public link with this slug, and the organisation whose proofme
    /// it is: what a visit needs.
    pub async fn find_public_link(
        &self,
        slug: &str,
    ) -> Result<Option<(OrganisationId, PublicLink)>, StoreError> {
        if !PublicLink::is_slug(slug) {
            return Ok(None);
        }
        on_db!(&self.db, db, on => {
            let row: Option<FoundLinkRow> =
                sqlx::query_as(&on::sql(
                    "SELECT l.proofme_id, l.slug, l.redirect_url, l.webhook_url, l.mode, \
                     l.created_at, p.organisation_id FROM proofme_public_links l \
                     JOIN proofmes p ON p.id = l.proofme_id WHERE l.slug = ?"),
                )
                .bind(slug)
                .fetch_optional(&db.reader)
                .await?;
            let Some((p, s, r, w, m, c, organisation_id)) = row else {
                return Ok(None);
            };
            let link = link_from_row((p, s, r, w, m, c))?;
            Ok(Some((OrganisationId::from_trusted(organisation_id), link)))
        })
    }
}
