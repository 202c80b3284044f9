//! Webhooks as the domain knows them: an organisation's signing secret, the
//! message id that names one delivery, and the message a status change sends.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use rand::rngs::OsRng;
use std::fmt;

use super::ids::time_ordered_base62;
use super::{HttpUrl, Identification};

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

    /// The raw key, for the HMAC that signs and verifies messages.
    pub fn key_bytes(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// A new `webhook-id`: `msg_`, a time prefix (so outbox rows insert in order)
/// and 22 random base62 characters (about 131 bits), the same for every retry
/// of one delivery so receivers can deduplicate.
pub fn new_message_id() -> String {
    format!("msg_{}", time_ordered_base62(22))
}

/// The webhook one status change sends (DESIGN §5): thin, `{"id":"id_…"}`,
/// so the receiver fetches the identification to read its new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookMessage {
    /// The `webhook-id`, kept for every retry.
    pub id: String,
    pub url: HttpUrl,
    /// The JSON body, exactly as it is sent and signed.
    pub payload: String,
}

impl WebhookMessage {
    /// The message announcing `changed`'s new status, if it has a webhook URL.
    pub fn for_status_change(changed: &Identification) -> Option<WebhookMessage> {
        let url = changed.webhook_url.clone()?;
        Some(WebhookMessage {
            id: new_message_id(),
            url,
            payload: serde_json::json!({ "id": changed.id }).to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{IdentificationId, Mode, OrganisationId, ProofmeId, Status, Timestamp};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn secret() -> WebhookSecret {
        WebhookSecret::parse(SECRET).unwrap()
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

    fn identification(webhook_url: Option<&str>) -> Identification {
        let now = Timestamp::from_millis(1_700_000_000_000);
        Identification {
            id: IdentificationId::generate(),
            organisation_id: OrganisationId::generate(),
            proofme_id: ProofmeId::generate(),
            proofme_revision: 1,
            mode: Mode::Test,
            status: Status::Verified,
            description: None,
            is_request: true,
            metadata: None,
            redirect_url: HttpUrl::parse("https://shop.example.com/back").unwrap(),
            webhook_url: webhook_url.map(|u| HttpUrl::parse(u).unwrap()),
            locale: None,
            scanned_at: None,
            failure_reason: None,
            expires_at: now,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_status_change_sends_only_the_id_to_the_webhook_url() {
        let changed = identification(Some("https://shop.example.com/hook"));

        let message = WebhookMessage::for_status_change(&changed).expect("a message");

        assert_eq!(message.url.as_str(), "https://shop.example.com/hook");
        assert_eq!(message.payload, format!("{{\"id\":\"{}\"}}", changed.id));
        assert!(message.id.starts_with("msg_"));
    }

    #[test]
    fn without_a_webhook_url_a_status_change_sends_nothing() {
        assert_eq!(
            WebhookMessage::for_status_change(&identification(None)),
            None
        );
    }
}
