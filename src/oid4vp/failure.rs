//! Why a wallet response failed: the identification's `failureReason`.

use std::fmt;

/// Serialised (and stored) as the snake_case string of [`FailureReason::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// A required credential was not disclosed.
    MissingCredential,
    /// An age claim was disclosed as `false`.
    AgeRequirementNotMet,
    /// The issuer's certificate chain does not lead to a trust anchor.
    UntrustedIssuer,
    /// The issuer's signature is missing, of a refused algorithm, or wrong.
    InvalidSignature,
    /// The credential is outside its validity period (`exp`, `nbf`, `iat`).
    ExpiredCredential,
    /// The key-binding JWT is missing or fails a check.
    InvalidKeyBinding,
    /// Anything malformed, or a rule of SD-JWT or the query broken.
    InvalidPresentation,
    /// The wallet answered with an error other than `access_denied`.
    WalletError,
}

impl FailureReason {
    pub const ALL: [FailureReason; 8] = [
        FailureReason::MissingCredential,
        FailureReason::AgeRequirementNotMet,
        FailureReason::UntrustedIssuer,
        FailureReason::InvalidSignature,
        FailureReason::ExpiredCredential,
        FailureReason::InvalidKeyBinding,
        FailureReason::InvalidPresentation,
        FailureReason::WalletError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::MissingCredential => "missing_credential",
            FailureReason::AgeRequirementNotMet => "age_requirement_not_met",
            FailureReason::UntrustedIssuer => "untrusted_issuer",
            FailureReason::InvalidSignature => "invalid_signature",
            FailureReason::ExpiredCredential => "expired_credential",
            FailureReason::InvalidKeyBinding => "invalid_key_binding",
            FailureReason::InvalidPresentation => "invalid_presentation",
            FailureReason::WalletError => "wallet_error",
        }
    }

    pub fn parse(s: &str) -> Option<FailureReason> {
        FailureReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_have_the_contract_strings() {
        let strings: Vec<&str> = FailureReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            strings,
            [
                "missing_credential",
                "age_requirement_not_met",
                "untrusted_issuer",
                "invalid_signature",
                "expired_credential",
                "invalid_key_binding",
                "invalid_presentation",
                "wallet_error",
            ]
        );
    }

    #[test]
    fn reasons_round_trip_through_parse_and_serde() {
        for reason in FailureReason::ALL {
            assert_eq!(FailureReason::parse(reason.as_str()), Some(reason));
            let json = serde_json::to_value(reason).unwrap();
            assert_eq!(json, serde_json::Value::from(reason.as_str()));
            assert_eq!(
                serde_json::from_value::<FailureReason>(json).unwrap(),
                reason
            );
            assert_eq!(reason.to_string(), reason.as_str());
        }
        assert_eq!(FailureReason::parse("INVALID_SIGNATURE"), None);
    }
}
