//! Dashboard users and the login throttle's failures.

use super::{Store, StoreError};
use crate::domain::{OrganisationId, Timestamp, UserId};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// A place taken in the sign-in throttle by one attempt (see
/// `Store::reserve_login_attempt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt(String);

/// The PostgreSQL advisory lock that serialises reservations for `subject`:
/// the first eight bytes of its SHA-256, so every instance picks the same.
fn lock_key(subject: &str) -> i64 {
    let digest = Sha256::digest(subject.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// A person who signs in to the dashboard for one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub organisation_id: OrganisationId,
    /// Lower-cased.
    pub email: String,
    /// An argon2id PHC string; never leaves the server.
    pub password_hash: String,
    pub created_at: Timestamp,
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum NewUserError {
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error("there is no such organisation")]
    NoSuchOrganisation,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// A new user of `organisation_id`. `email` is stored lower-cased.
    pub async fn create_user(
        &self,
        organisation_id: &OrganisationId,
        email: &str,
        password_hash: &str,
    ) -> Result<User, NewUserError> {
        if self.get_organisation(organisation_id).await?.is_none() {
            return Err(NewUserError::NoSuchOrganisation);
        }
        let user = User {
            id: UserId::generate(),
            organisation_id: organisation_id.clone(),
            email: email.to_lowercase(),
            password_hash: password_hash.to_owned(),
            created_at: self.clock.now(),
        };
        let inserted = on_db!(&self.db, db, on => {
            sqlx::query(&on::sql(
                "INSERT INTO users (id, organisation_id, email, password_hash, created_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING"),
            )
            .bind(user.id.as_str())
            .bind(user.organisation_id.as_str())
            .bind(&user.email)
            .bind(&user.password_hash)
            .bind(user.created_at.millis())
            .execute(&db.writer)
            .await
            .map_err(StoreError::from)?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(NewUserError::EmailTaken);
        }
        Ok(user)
    }

    /// The user with this email (compared lower-cased), if any.
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.find_user("email", &email.to_lowercase()).await
    }

    pub async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.find_user("id", id.as_str()).await
    }

    async fn find_user(&self, column: &str, value: &str) -> Result<Option<User>, StoreError> {
        // `column` is one of two names fixed above, never input.
        let sql = format!(
            "SELECT id, organisation_id, email, password_hash, created_at FROM users WHERE {column} = ?"
        );
        on_db!(&self.db, db, on => {
            let row = sqlx::query(&on::sql(&sql))
                .bind(value)
                .fetch_optional(&db.reader)
                .await?;
            Ok(row.map(|r| User {
                id: UserId::from_trusted(r.get("id")),
                organisation_id: OrganisationId::from_trusted(r.get("organisation_id")),
                email: r.get("email"),
                password_hash: r.get("password_hash"),
                created_at: Timestamp::from_millis(r.get("created_at")),
            }))
        })
    }

    /// Failed sign-ins counted against `subject` since `since`.
    pub async fn login_failures_since(
        &self,
        subject: &str,
        since: Timestamp,
    ) -> Result<i64, StoreError> {
        on_db!(&self.db, db, on => {
            Ok(sqlx::query(&on::sql(
                "SELECT COUNT(*) AS n FROM login_failures WHERE subject = ? AND at >= ?"),
            )
            .bind(subject)
            .bind(since.millis())
            .fetch_one(&db.reader)
            .await?
            .get::<i64, _>("n"))
        })
    }

    /// Takes a place for one sign-in attempt against each of `subjects`,
    /// unless one of them already counts `max` failures (or places taken)
    /// since `since`: then `None`. The count and the place are one
    /// transaction (SQLite's write lock; on PostgreSQL an advisory lock per
    /// subject, taken in a fixed order), so however many attempts arrive at
    /// once, at most `max` get through. A place left alone counts as a
    /// failure; a successful attempt gives it back (`release_login_attempt`).
    pub async fn reserve_login_attempt(
        &self,
        subjects: &[&str],
        since: Timestamp,
        at: Timestamp,
        max: i64,
    ) -> Result<Option<LoginAttempt>, StoreError> {
        let attempt = LoginAttempt(crate::domain::ids::random_base62(24));
        let mut keys: Vec<i64> = subjects.iter().map(|s| lock_key(s)).collect();
        keys.sort_unstable();
        keys.dedup();
        on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            if on::POSTGRES {
                for key in &keys {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(*key)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for subject in subjects {
                let n: i64 = sqlx::query(&on::sql(
                    "SELECT COUNT(*) AS n FROM login_failures WHERE subject = ? AND at >= ?"),
                )
                .bind(*subject)
                .bind(since.millis())
                .fetch_one(&mut *tx)
                .await?
                .get("n");
                if n >= max {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
            for subject in subjects {
                sqlx::query(&on::sql(
                    "INSERT INTO login_failures (subject, at, attempt) VALUES (?, ?, ?)"),
                )
                .bind(*subject)
                .bind(at.millis())
                .bind(&attempt.0)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(Some(attempt))
        })
    }

    /// Gives back the places `attempt` took: it succeeded, or was never
    /// evaluated, so it is no failure.
    pub async fn release_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StoreError> {
        on_db!(&self.db, db, on => {
            sqlx::query(&on::sql("DELETE FROM login_failures WHERE attempt = ?"))
                .bind(&attempt.0)
                .execute(&db.writer)
                .await?;
            Ok(())
        })
    }

    /// One failed sign-in, counted against each of `subjects`.
    pub async fn record_login_failure(
        &self,
        subjects: &[&str],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, db, on => {
            let mut tx = db.writer.begin().await?;
            for subject in subjects {
                sqlx::query(&on::sql("INSERT INTO login_failures (subject, at) VALUES (?, ?)"))
                    .bind(*subject)
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Forgets the failures counted against `subject` (after a sign-in).
    pub async fn clear_login_failures(&self, subject: &str) -> Result<(), StoreError> {
        on_db!(&self.db, db, on => {
            sqlx::query(&on::sql("DELETE FROM login_failures WHERE subject = ?"))
                .bind(subject)
                .execute(&db.writer)
                .await?;
            Ok(())
        })
    }

    /// Drops failures older than `before`, which no longer count.
    pub async fn prune_login_failures(&self, before: Timestamp) -> Result<u64, StoreError> {
        on_db!(&self.db, db, on => {
            Ok(sqlx::query(&on::sql("DELETE FROM login_failures WHERE at < ?"))
                .bind(before.millis())
                .execute(&db.writer)
                .await?
                .rows_affected())
        })
    }
}
