//! Standard Webhooks signing (<https://www.standardwebhooks.com>): the receiver
//! recomputes `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` with the
//! organisation's `whsec_` secret and compares. Integrators can use any of the
//! published Standard Webhooks libraries to verify what we send.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::WebhookSecret;

type HmacSha256 = Hmac<Sha256>;

/// How far a webhook's timestamp may be from the receiver's clock, in seconds,
/// as recommended by the spec (five minutes).
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

/// Why a signature header does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header holds no well-formed v1 signature")]
    Malformed,
    #[error("no signature in the header matches the message")]
    Mismatch,
    #[error("the webhook timestamp is more than {tolerance_secs} s from now")]
    Timestamp { tolerance_secs: i64 },
}

/// The HMAC over `{id}.{timestamp}.{body}` that both sides compute.
fn mac(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first), so this
    // cannot fail; the error type exists for fixed-key-size MACs.
    let mut mac =
        HmacSha256::new_from_slice(secret.key_bytes()).expect("HMAC accepts any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` header value for one message: `v1,<base64>`.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, msg_id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// Checks a `webhook-signature` header as a receiver would: the header holds
/// space-separated `v1,<base64>` entries (several during a key rotation) and one
/// must match; entries of other versions are skipped. Signatures are compared in
/// constant time. The timestamp must be within `tolerance_secs` of `now` (both
/// in Unix seconds), which limits replays.
pub fn verify(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    signature_header: &str,
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let expected = mac(secret, msg_id, timestamp, body);
    let mut saw_v1 = false;
    let mut matched = false;
    for entry in signature_header.split(' ').filter(|e| !e.is_empty()) {
        let Some(("v1", encoded)) = entry.split_once(',') else {
            continue;
        };
        let Ok(candidate) = STANDARD.decode(encoded) else {
            continue;
        };
        saw_v1 = true;
        // `verify_slice` compares in constant time; keep looping regardless so
        // the time taken does not reveal which entry matched.
        matched |= expected.clone().verify_slice(&candidate).is_ok();
    }
    if !saw_v1 {
        return Err(VerifyError::Malformed);
    }
    if !matched {
        return Err(VerifyError::Mismatch);
    }
    // A negative tolerance is a caller bug; treat it as "exactly now".
    let tolerance = u64::try_from(tolerance_secs).unwrap_or(0);
    if now.abs_diff(timestamp) > tolerance {
        return Err(VerifyError::Timestamp { tolerance_secs });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The published Standard Webhooks test vector.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn secret() -> WebhookSecret {
        WebhookSecret::parse(SECRET).unwrap()
    }

    fn check(header: &str) -> Result<(), VerifyError> {
        verify(
            &secret(),
            MSG_ID,
            TIMESTAMP,
            BODY,
            header,
            TIMESTAMP,
            DEFAULT_TOLERANCE_SECS,
        )
    }

    #[test]
    fn sign_reproduces_the_published_test_vector() {
        assert_eq!(sign(&secret(), MSG_ID, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn verify_accepts_the_published_test_vector() {
        assert_eq!(check(SIGNATURE), Ok(()));
    }

    #[test]
    fn tampered_body_id_or_timestamp_fails() {
        let s = secret();
        let tol = DEFAULT_TOLERANCE_SECS;
        let other_body = br#"{"test": 2432232315}"#;
        let other_id = "msg_p5jXN8AQM9LWM0D4loKWxJeK";
        let other_time = TIMESTAMP + 1;
        for result in [
            verify(&s, MSG_ID, TIMESTAMP, other_body, SIGNATURE, TIMESTAMP, tol),
            verify(&s, other_id, TIMESTAMP, BODY, SIGNATURE, TIMESTAMP, tol),
            verify(&s, MSG_ID, other_time, BODY, SIGNATURE, TIMESTAMP, tol),
        ] {
            assert_eq!(result, Err(VerifyError::Mismatch));
        }
    }

    #[test]
    fn a_different_secret_fails() {
        let other = WebhookSecret::generate();
        let result = verify(
            &other,
            MSG_ID,
            TIMESTAMP,
            BODY,
            SIGNATURE,
            TIMESTAMP,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(result, Err(VerifyError::Mismatch));
    }

    #[test]
    fn one_matching_signature_among_several_passes() {
        let header =
            format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc {SIGNATURE} v1a,xyz");
        assert_eq!(check(&header), Ok(()));
    }

    #[test]
    fn several_signatures_none_matching_fail() {
        let header = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= \
                      v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
        assert_eq!(check(header), Err(VerifyError::Mismatch));
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        for header in [
            "",
            " ",
            "v1",
            "v1,",
            "v1,not base64!",
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            ",,,",
            "v1,\u{e9}\u{e9}",
        ] {
            assert!(check(header).is_err(), "{header:?}");
        }
        // An empty but valid base64 signature is well-formed and simply wrong.
        assert_eq!(check("v1,"), Err(VerifyError::Mismatch));
        assert_eq!(check("v1"), Err(VerifyError::Malformed));
    }

    #[test]
    fn a_timestamp_outside_the_tolerance_fails() {
        let s = secret();
        let tol = DEFAULT_TOLERANCE_SECS;
        let verify_at = |now| verify(&s, MSG_ID, TIMESTAMP, BODY, SIGNATURE, now, tol);
        assert_eq!(verify_at(TIMESTAMP + tol), Ok(()));
        assert_eq!(verify_at(TIMESTAMP - tol), Ok(()));
        let too_far = Err(VerifyError::Timestamp {
            tolerance_secs: tol,
        });
        assert_eq!(verify_at(TIMESTAMP + tol + 1), too_far);
        assert_eq!(verify_at(TIMESTAMP - tol - 1), too_far);
        assert_eq!(verify_at(i64::MIN), too_far);
    }
}
