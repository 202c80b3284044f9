//! Passwords: argon2id with the crate's defaults (19 MiB, 2 passes: OWASP's
//! recommendation), hashed and checked on the blocking pool so that a burst
//! of sign-ins does not stall other requests.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use std::sync::LazyLock;

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

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// The argon2id PHC string of `password`, with a fresh salt.
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
/// constant-time.
pub async fn verify(stored: Option<String>, password: String) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    tokio::task::spawn_blocking(move || {
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
    .unwrap_or(false)
}

/// Computes the stand-in hash now, so the first unknown email costs what the
/// others do.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_and_checks_only_its_password() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(Some(h.clone()), "correct horse battery".into()).await);
        assert!(!verify(Some(h.clone()), "correct horse batterY".into()).await);
        assert!(!verify(Some(h), String::new()).await);
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ_by_salt() {
        let a = hash("the same password".into()).await.unwrap();
        let b = hash("the same password".into()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn an_unknown_user_never_matches_even_the_dummy_password() {
        assert!(!verify(None, String::new()).await);
        assert!(!verify(None, "anything at all".into()).await);
        assert!(!verify(Some("not a phc string".into()), "x".into()).await);
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
