//! Standard Webhooks signing (<https://www.standardwebhooks.com>): the receiver
//! recomputes `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` with the
//! organisation's `whsec_` secret and compares. Integrators can use any of the
//! published Standard Webhooks libraries to verify what we send.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use std::fmt;

use crate::domain::ids::time_ordered_base62;

type HmacSha256 = Hmac<Sha256>;

/// The prefix that marks a Standard Webhooks secret.
const PREFIX: &str = "whsec_";

/// How many random bytes a generated secret has. The spec allows 24 to 64;
/// 32 matches the HMAC-SHA256 block-size guidance and the reference libraries.
const GENERATED_KEY_LEN: usize = 32;

/// A signing key. Its `Debug` output is redacted so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

/// Why a string is not a webhook secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSecret {
    #[error("the webhook secret is empty")]
    Empty,
    #[error("the webhook secret is not valid base64 after the `whsec_` prefix")]
    NotBase64,
}

impl WebhookSecret {
    /// Parses `whsec_<base64 key>`. A bare base64 key without the prefix is
    /// accepted too, as the reference libraries do, so integrators can paste
    /// either form.
    pub fn parse(s: &str) -> Result<Self, InvalidSecret> {
        let encoded = s.strip_prefix(PREFIX).unwrap_or(s);
        if encoded.is_empty() {
            return Err(InvalidSecret::Empty);
        }
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| InvalidSecret::NotBase64)?;
        if key.is_empty() {
            return Err(InvalidSecret::Empty);
        }
        Ok(Self { key })
    }

    /// A new secret of random bytes from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = vec![0u8; GENERATED_KEY_LEN];
        OsRng.fill_bytes(&mut key);
        Self { key }
    }

    /// The `whsec_…` form, for storage and for showing to the organisation.
    /// Named so that every place the secret leaves the type stands out.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length (long ones are hashed first), so this
        // cannot fail; the error type exists for fixed-key-size MACs.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// The `webhook-signature` header value for one message: `v1,<base64>`.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = secret.mac(msg_id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// A new `webhook-id`: `msg_`, a time prefix (so outbox rows insert in order)
/// and 22 random base62 characters (about 131 bits), the same for every retry of one delivery so receivers can deduplicate.
pub fn new_message_id() -> String {
    format!("msg_{}", time_ordered_base62(22))
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

    #[test]
    fn sign_reproduces_the_published_test_vector() {
        assert_eq!(sign(&secret(), MSG_ID, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn a_bare_base64_secret_is_the_same_key_as_the_prefixed_one() {
        let bare = WebhookSecret::parse(SECRET.trim_start_matches("whsec_")).unwrap();
        assert_eq!(bare, secret());
    }

    #[test]
    fn parse_rejects_empty_and_non_base64_secrets() {
        assert_eq!(WebhookSecret::parse(""), Err(InvalidSecret::Empty));
        assert_eq!(WebhookSecret::parse("whsec_"), Err(InvalidSecret::Empty));
        assert_eq!(
            WebhookSecret::parse("whsec_not base64!"),
            Err(InvalidSecret::NotBase64)
        );
    }

    #[test]
    fn a_generated_secret_round_trips_through_its_exposed_form() {
        let generated = WebhookSecret::generate();
        let exposed = generated.expose();
        assert!(exposed.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&exposed), Ok(generated));
    }

    #[test]
    fn debug_output_does_not_show_the_key() {
        let shown = format!("{:?}", secret());
        assert!(!shown.contains("MfKQ"), "{shown}");
    }

    #[test]
    fn message_ids_are_prefixed_base62_and_distinct() {
        let a = new_message_id();
        let b = new_message_id();
        assert_eq!(a.len(), "msg_".len() + 8 + 22);
        assert!(a.starts_with("msg_"));
        assert!(a[4..].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
