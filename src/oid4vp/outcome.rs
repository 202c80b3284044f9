//! What checking a presentation gives, whatever its format: the verified
//! claims, or the reason it was refused.

use super::failure::FailureReason;
use super::status_list::StatusReference;
use p256::ecdsa::VerifyingKey;
use serde_json::Value;

/// A presentation that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// What the credential discloses, as JSON. SD-JWT: the issuer payload
    /// with every disclosed claim in place and `_sd`, `_sd_alg` and array
    /// digests removed. mdoc: `{namespace: {element: value}}`.
    pub claims: Value,
    /// Where the issuer keeps the credential's status, if it said: revocation
    /// is checked there before the presentation counts.
    pub status: Option<StatusReference>,
    /// The key that signed the credential, after its chain was validated: a
    /// Status List Token without a chain of its own must verify with it.
    pub issuer_key: VerifyingKey,
}

/// Why a presentation was refused. `detail` is for logs: it names the rule
/// broken and never holds a claim value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct Rejection {
    pub reason: FailureReason,
    pub detail: String,
}

pub(crate) fn reject(reason: FailureReason, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

pub(crate) fn invalid(detail: impl Into<String>) -> Rejection {
    reject(FailureReason::InvalidPresentation, detail)
}
