//! The status of a credential the test issuer issued, as its Token Status
//! List holds it (draft-ietf-oauth-status-list §7.1): the three values the
//! draft defines, nothing application-specific.

use std::fmt;

/// A test credential's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialStatus {
    Valid,
    /// Revoked for good.
    Invalid,
    /// Revoked for now; may become valid again.
    Suspended,
}

impl CredentialStatus {
    pub const ALL: [CredentialStatus; 3] = [
        CredentialStatus::Valid,
        CredentialStatus::Invalid,
        CredentialStatus::Suspended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Valid => "valid",
            CredentialStatus::Invalid => "invalid",
            CredentialStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<CredentialStatus> {
        CredentialStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The value in the list: 0x00 VALID, 0x01 INVALID, 0x02 SUSPENDED.
    pub fn code(self) -> u8 {
        match self {
            CredentialStatus::Valid => 0,
            CredentialStatus::Invalid => 1,
            CredentialStatus::Suspended => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<CredentialStatus> {
        CredentialStatus::ALL.into_iter().find(|c| c.code() == code)
    }
}

impl fmt::Display for CredentialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_the_drafts_codes_and_round_trip() {
        assert_eq!(CredentialStatus::ALL.map(CredentialStatus::code), [0, 1, 2]);
        for status in CredentialStatus::ALL {
            assert_eq!(CredentialStatus::parse(status.as_str()), Some(status));
            assert_eq!(CredentialStatus::from_code(status.code()), Some(status));
        }
        assert_eq!(CredentialStatus::parse("revoked"), None);
        assert_eq!(CredentialStatus::parse("Valid"), None);
        assert_eq!(CredentialStatus::from_code(3), None);
    }
}
