//! Passwords: argon2id with the crate's defaults (19 MiB, 2 passes: OWASP's
//! recommendation), hashed and checked on the blocking pool so that a burst
//! of sign-ins does not stall other requests, and a few at a time, so that a
//! burst cannot take the memory either (100 at once took some 270 MB).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Shorter passwords are refused when a user is created.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer ones too: hashing them is work an attacker would choose.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

/// Every hashing slot stayed taken for the whole wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

/// Hands out the right to run one argon2 computation.
pub struct Slots {
    permits: Semaphore,
    wait: Duration,
}

impl Slots {
    pub fn new(permits: usize, wait: Duration) -> Slots {
        Slots {
            permits: Semaphore::new(permits.max(1)),
            wait,
        }
    }

    /// A slot, after waiting at most `wait` for one.
    pub async fn take(&self) -> Result<SemaphorePermit<'_>, Busy> {
        match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// The argon2id PHC string of `password`, with a fresh salt. Users are made
/// one at a time (from the command line), so this takes no slot.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?
}

fn hash_now(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// A hash no password matches, checked when the email is unknown so that
/// an unknown email costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = crate::domain::ids::random_base62(32);
    hash_now(&random).unwrap_or_default()
});

/// Whether `password` matches `stored` (a PHC string), or, with no stored
/// hash, the same work with the answer no. The comparison inside argon2 is
/// constant-time. `Busy` when no hashing slot came free in time: nothing
/// was checked.
pub async fn verify(slots: &Slots, stored: Option<String>, password: String) -> Result<bool, Busy> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let _slot = slots.take().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let matches = argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        known && matches
    })
    .await
    .unwrap_or(false))
}

/// Computes the stand-in hash now, so the first unknown email costs what the
/// others do.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one() -> Slots {
        Slots::new(1, Duration::from_secs(5))
    }

    #[tokio::test]
    async fn a_hash_is_argon2id_and_checks_only_its_password() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(
            verify(&one(), Some(h.clone()), "correct horse battery".into()).await,
            Ok(true)
        );
        assert_eq!(
            verify(&one(), Some(h.clone()), "correct horse batterY".into()).await,
            Ok(false)
        );
        assert_eq!(verify(&one(), Some(h), String::new()).await, Ok(false));
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ_by_salt() {
        let a = hash("the same password".into()).await.unwrap();
        let b = hash("the same password".into()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn an_unknown_user_never_matches_even_the_dummy_password() {
        assert_eq!(verify(&one(), None, String::new()).await, Ok(false));
        assert_eq!(
            verify(&one(), None, "anything at all".into()).await,
            Ok(false)
        );
        assert_eq!(
            verify(&one(), Some("not a phc string".into()), "x".into()).await,
            Ok(false)
        );
    }

    #[tokio::test]
    async fn an_unknown_email_costs_a_full_check_with_the_same_parameters() {
        // The stand-in must be a real argon2id hash with the parameters of
        // real ones: a cheaper check would tell unknown emails apart by time.
        let real = hash("a real user's password".into()).await.unwrap();
        let parameters = |h: &str| h.split('$').take(4).collect::<Vec<_>>().join("$");
        assert_eq!(parameters(&DUMMY_HASH), parameters(&real));
        assert!(PasswordHash::new(&DUMMY_HASH).is_ok());
    }

    #[tokio::test]
    async fn with_every_slot_taken_a_check_waits_then_is_busy() {
        let slots = Slots::new(2, Duration::from_millis(20));
        let a = slots.take().await.unwrap();
        let _b = slots.take().await.unwrap();

        assert_eq!(slots.take().await.err(), Some(Busy));
        drop(a);
        assert!(slots.take().await.is_ok(), "a freed slot is taken again");
    }

    #[tokio::test]
    async fn a_check_with_every_slot_taken_is_busy_and_checks_nothing() {
        let slots = Slots::new(1, Duration::from_millis(20));
        let _held = slots.take().await.unwrap();
        let h = hash("correct horse battery".into()).await.unwrap();

        assert_eq!(
            verify(&slots, Some(h), "correct horse battery".into()).await,
            Err(Busy)
        );
    }

    #[test]
    fn there_is_always_at_least_one_slot() {
        let slots = Slots::new(0, Duration::from_secs(1));
        assert_eq!(slots.permits.available_permits(), 1);
    }

    #[tokio::test]
    async fn short_and_huge_passwords_are_refused() {
        assert!(matches!(
            hash("short".into()).await,
            Err(PasswordError::TooShort)
        ));
        assert!(matches!(
            hash("x".repeat(MAX_PASSWORD_BYTES + 1)).await,
            Err(PasswordError::TooLong)
        ));
    }
}
