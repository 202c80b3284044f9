//! Domain types shared by the API and MyPage. Each parses at the edge; past the
//! edge the rest of the code trusts them.

pub mod credential_status;
pub mod identification;
pub mod ids;
pub mod json;
pub mod locale;
pub mod metadata;
pub mod proofme;
pub mod time;
pub mod urls;
pub mod webhook;

pub use credential_status::CredentialStatus;
pub use identification::{ChangeCause, Description, FailureReason, Identification, Mode, Status};
pub use ids::{ApiKeyId, IdentificationId, OrganisationId, ProofmeId, UserId};
pub use locale::Locale;
pub use metadata::Metadata;
pub use proofme::{Credential, CredentialKey, Provider, Purpose};
pub use time::{Clock, Timestamp};
pub use urls::HttpUrl;
pub use webhook::{WebhookMessage, WebhookSecret};
