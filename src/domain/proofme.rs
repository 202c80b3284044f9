//! Proofmes: identification templates with a purpose and requested credentials.

use super::{HttpUrl, Mode, OrganisationId, ProofmeId, Timestamp};
use std::fmt;

/// Why the organisation asks; shown to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    AgeVerification,
    KycVerification,
    AccessControl,
    OnlineVerification,
    Identification,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Purpose::AgeVerification,
        Purpose::KycVerification,
        Purpose::AccessControl,
        Purpose::OnlineVerification,
        Purpose::Identification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::AgeVerification => "AGE_VERIFICATION",
            Purpose::KycVerification => "KYC_VERIFICATION",
            Purpose::AccessControl => "ACCESS_CONTROL",
            Purpose::OnlineVerification => "ONLINE_VERIFICATION",
            Purpose::Identification => "IDENTIFICATION",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who vouches for a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Epass,
    Email,
    Phone,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Epass => "EPASS",
            Provider::Email => "EMAIL",
            Provider::Phone => "PHONE",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        [Provider::Epass, Provider::Email, Provider::Phone]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// The credential catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKey {
    OlderThan18,
    OlderThan21,
    FirstName,
    LastName,
    DateOfBirth,
    Nationality,
    DocumentNumber,
    Photo,
    Email,
    PhoneNumber,
}

impl CredentialKey {
    pub const ALL: [CredentialKey; 10] = [
        CredentialKey::OlderThan18,
        CredentialKey::OlderThan21,
        CredentialKey::FirstName,
        CredentialKey::LastName,
        CredentialKey::DateOfBirth,
        CredentialKey::Nationality,
        CredentialKey::DocumentNumber,
        CredentialKey::Photo,
        CredentialKey::Email,
        CredentialKey::PhoneNumber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKey::OlderThan18 => "OLDER_THAN_18",
            CredentialKey::OlderThan21 => "OLDER_THAN_21",
            CredentialKey::FirstName => "FIRST_NAME",
            CredentialKey::LastName => "LAST_NAME",
            CredentialKey::DateOfBirth => "DATE_OF_BIRTH",
            CredentialKey::Nationality => "NATIONALITY",
            CredentialKey::DocumentNumber => "DOCUMENT_NUMBER",
            CredentialKey::Photo => "PHOTO",
            CredentialKey::Email => "EMAIL",
            CredentialKey::PhoneNumber => "PHONE_NUMBER",
        }
    }

    pub fn parse(s: &str) -> Option<CredentialKey> {
        CredentialKey::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A clearly fake value of the right shape, shared by test identifications
    /// so integrators can build against the real response.
    pub fn sample_value(self) -> serde_json::Value {
        use serde_json::json;
        match self {
            CredentialKey::OlderThan18 | CredentialKey::OlderThan21 => json!(true),
            CredentialKey::FirstName => json!("Test"),
            CredentialKey::LastName => json!("Person"),
            CredentialKey::DateOfBirth => json!("1990-01-01"),
            CredentialKey::Nationality => json!("NLD"),
            CredentialKey::DocumentNumber => json!("TEST0000000"),
            // A 1×1 transparent PNG: the shape of a photo, nobody's face.
            CredentialKey::Photo => json!(
                "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
            ),
            CredentialKey::Email => json!("test@example.com"),
            CredentialKey::PhoneNumber => json!("+31600000000"),
        }
    }

    /// The one provider that issues this credential.
    pub fn provider(self) -> Provider {
        match self {
            CredentialKey::Email => Provider::Email,
            CredentialKey::PhoneNumber => Provider::Phone,
            _ => Provider::Epass,
        }
    }
}

/// One requested credential of a proofme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    pub key: CredentialKey,
    pub required: bool,
}

impl Credential {
    pub fn provider(self) -> Provider {
        self.key.provider()
    }
}

/// The sample data a test identification shares when verified: one fake value
/// for exactly each requested credential, keyed by credential.
pub fn sample_data(credentials: &[Credential]) -> serde_json::Value {
    serde_json::Value::Object(
        credentials
            .iter()
            .map(|c| (c.key.as_str().to_owned(), c.key.sample_value()))
            .collect(),
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCredential {
    #[error("expected PROVIDER:KEY or PROVIDER:KEY:optional, got {0:?}")]
    Shape(String),
    #[error("unknown provider {0:?} (known: EPASS, EMAIL, PHONE)")]
    Provider(String),
    #[error("unknown credential {0:?}")]
    Key(String),
    #[error("{key} comes from provider {expected}, not {given}")]
    WrongProvider {
        key: &'static str,
        expected: &'static str,
        given: &'static str,
    },
}

impl std::str::FromStr for Credential {
    type Err = InvalidCredential;

    /// `PROVIDER:KEY[:optional]`, as the admin command takes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(':').collect();
        let (provider, key, required) = match parts.as_slice() {
            [p, k] => (*p, *k, true),
            [p, k, "optional"] => (*p, *k, false),
            _ => return Err(InvalidCredential::Shape(s.to_owned())),
        };
        let provider = Provider::parse(provider)
            .ok_or_else(|| InvalidCredential::Provider(provider.into()))?;
        let key = CredentialKey::parse(key).ok_or_else(|| InvalidCredential::Key(key.into()))?;
        if key.provider() != provider {
            return Err(InvalidCredential::WrongProvider {
                key: key.as_str(),
                expected: key.provider().as_str(),
                given: provider.as_str(),
            });
        }
        Ok(Credential { key, required })
    }
}

/// An identification template owned by one organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Proofme {
    pub id: ProofmeId,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub purpose: Purpose,
    pub credentials: Vec<Credential>,
    pub revision: i64,
    pub created_at: Timestamp,
}

/// A proofme's public link, `<public URL>/p/{slug}`: each visit creates an
/// identification (not a request) with these URLs and this mode.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicLink {
    pub proofme_id: ProofmeId,
    /// Random base62: the only thing that keeps the link from being guessed.
    pub slug: String,
    pub redirect_url: HttpUrl,
    pub webhook_url: Option<HttpUrl>,
    pub mode: Mode,
    pub created_at: Timestamp,
}

impl PublicLink {
    /// 22 base62 characters: 131 random bits, as many as an identification id.
    pub const SLUG_LEN: usize = 22;

    /// A fresh random slug.
    pub fn new_slug() -> String {
        super::ids::random_base62(Self::SLUG_LEN)
    }

    /// Whether `s` could be a slug at all: anything else is not looked up.
    pub fn is_slug(s: &str) -> bool {
        (16..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    /// Where the link lives.
    pub fn url(&self, public_url: &str) -> String {
        format!("{public_url}/p/{}", self.slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_with_optional_flag() {
        let c: Credential = "EPASS:OLDER_THAN_18".parse().unwrap();
        assert_eq!(
            c,
            Credential {
                key: CredentialKey::OlderThan18,
                required: true
            }
        );
        let e: Credential = "EMAIL:EMAIL:optional".parse().unwrap();
        assert_eq!(
            e,
            Credential {
                key: CredentialKey::Email,
                required: false
            }
        );
        assert_eq!(e.provider(), Provider::Email);
    }

    #[test]
    fn credentials_reject_unknown_or_mismatched_parts() {
        assert!(matches!(
            "EPASS".parse::<Credential>(),
            Err(InvalidCredential::Shape(_))
        ));
        assert!(matches!(
            "EPASS:PHOTO:maybe".parse::<Credential>(),
            Err(InvalidCredential::Shape(_))
        ));
        assert!(matches!(
            "ACME:PHOTO".parse::<Credential>(),
            Err(InvalidCredential::Provider(_))
        ));
        assert!(matches!(
            "EPASS:SHOE_SIZE".parse::<Credential>(),
            Err(InvalidCredential::Key(_))
        ));
        assert!(matches!(
            "EPASS:EMAIL".parse::<Credential>(),
            Err(InvalidCredential::WrongProvider { .. })
        ));
    }

    #[test]
    fn sample_data_has_exactly_the_requested_credentials() {
        let creds = [
            Credential {
                key: CredentialKey::OlderThan18,
                required: true,
            },
            Credential {
                key: CredentialKey::FirstName,
                required: false,
            },
        ];
        assert_eq!(
            sample_data(&creds),
            serde_json::json!({"OLDER_THAN_18": true, "FIRST_NAME": "Test"})
        );
    }

    #[test]
    fn purposes_and_keys_round_trip() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        for k in CredentialKey::ALL {
            assert_eq!(CredentialKey::parse(k.as_str()), Some(k));
        }
        assert_eq!(Purpose::parse("age_verification"), None);
    }
}
