//! The identification: its status machine, mode and description.

use super::proofme::Proofme;
use super::{HttpUrl, IdentificationId, Locale, Metadata, OrganisationId, ProofmeId, Timestamp};
use std::fmt;
use std::time::Duration;

/// Where an identification is in its life. Stored as its numeric code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Open,
    Pending,
    Verified,
    Failed,
    Canceled,
    Expired,
    Revoked,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Open,
        Status::Pending,
        Status::Verified,
        Status::Failed,
        Status::Canceled,
        Status::Expired,
        Status::Revoked,
    ];

    /// The wire code: `"0"` … `"6"`, as in the original API.
    pub fn code(self) -> &'static str {
        match self {
            Status::Open => "0",
            Status::Pending => "1",
            Status::Verified => "2",
            Status::Failed => "3",
            Status::Canceled => "4",
            Status::Expired => "5",
            Status::Revoked => "6",
        }
    }

    /// The same state as a word.
    pub fn name(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Verified => "verified",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }

    pub fn as_i64(self) -> i64 {
        self as i64
    }

    pub fn from_i64(n: i64) -> Option<Status> {
        Status::ALL.get(usize::try_from(n).ok()?).copied()
    }

    /// Accepts a code (`"2"`) or a name (`"verified"`, any case).
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|st| st.code() == s || st.name().eq_ignore_ascii_case(s))
    }

    /// A final state never changes again.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Open | Status::Pending)
    }

    /// open → pending → verified | failed | canceled | expired; open → any final
    /// state; open or pending → revoked.
    pub fn can_become(self, next: Status) -> bool {
        match (self, next) {
            (Status::Open, Status::Pending) => true,
            (Status::Open | Status::Pending, n) => n.is_final(),
            _ => false,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Test identifications can be completed from MyPage's test panel; live ones only
/// by a wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Test,
    Live,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "test" => Some(Mode::Test),
            "live" => Some(Mode::Live),
            _ => None,
        }
    }

    /// The prefix of API key secrets of this mode.
    pub fn key_prefix(self) -> &'static str {
        match self {
            Mode::Test => "test_",
            Mode::Live => "live_",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A description shown to the customer: at most 255 Unicode characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 255;

    /// Longer input is truncated, never rejected, and never cut inside a character.
    pub fn truncating(s: &str) -> Self {
        match s.char_indices().nth(Self::MAX_CHARS) {
            Some((cut, _)) => Self(s[..cut].to_owned()),
            None => Self(s.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Why a status changed, kept in the status history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeCause {
    /// The identification was created (the first history entry, not a change).
    Created,
    /// `POST /v1/identification/{id}/test-outcome`.
    ApiTestOutcome,
    /// A button in MyPage's test panel.
    MyPageTestOutcome,
    /// The customer pressed Cancel on MyPage.
    MyPageCancel,
    /// `DELETE /v1/identification/{id}`.
    ApiRevoke,
    /// "Revoke" in the organisation's dashboard.
    DashboardRevoke,
    /// `expiresAt` passed.
    Expiry,
    /// The customer's wallet.
    Wallet,
    /// The customer's wallet, accepted although the credential's status list
    /// could not be had (`PROOFME_STATUS_LIST_POLICY=fail-open`).
    WalletStatusUnchecked,
}

impl ChangeCause {
    pub const ALL: [ChangeCause; 9] = [
        ChangeCause::Created,
        ChangeCause::ApiTestOutcome,
        ChangeCause::MyPageTestOutcome,
        ChangeCause::MyPageCancel,
        ChangeCause::ApiRevoke,
        ChangeCause::DashboardRevoke,
        ChangeCause::Expiry,
        ChangeCause::Wallet,
        ChangeCause::WalletStatusUnchecked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeCause::Created => "created",
            ChangeCause::ApiTestOutcome => "api_test_outcome",
            ChangeCause::MyPageTestOutcome => "mypage_test_outcome",
            ChangeCause::MyPageCancel => "mypage_cancel",
            ChangeCause::ApiRevoke => "api_revoke",
            ChangeCause::DashboardRevoke => "dashboard_revoke",
            ChangeCause::Expiry => "expiry",
            ChangeCause::Wallet => "wallet",
            ChangeCause::WalletStatusUnchecked => "wallet_status_unchecked",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeCause> {
        ChangeCause::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Why a wallet presentation failed an identification (`failureReason`).
/// Serialised (and stored) as the snake_case string of [`FailureReason::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The credential's issuer does not chain to a trusted anchor.
    UntrustedIssuer,
    /// A signature did not verify, or used an algorithm we do not accept.
    InvalidSignature,
    /// The credential is past its `exp` (or not yet valid).
    ExpiredCredential,
    /// The key-binding JWT is missing, unsigned by the holder, or not for this request.
    InvalidKeyBinding,
    /// The presentation is malformed or breaks an SD-JWT rule.
    InvalidPresentation,
    /// A required credential was not disclosed.
    MissingCredential,
    /// An age claim was disclosed as `false`.
    AgeRequirementNotMet,
    /// The wallet answered with an error other than `access_denied`.
    WalletError,
    /// The issuer's status list says the credential is revoked or suspended.
    RevokedCredential,
    /// The credential's status could not be confirmed: its status list could
    /// not be had or trusted (under the fail-closed policy), or does not
    /// reach the credential's index.
    StatusUnavailable,
}

impl FailureReason {
    pub const ALL: [FailureReason; 10] = [
        FailureReason::UntrustedIssuer,
        FailureReason::InvalidSignature,
        FailureReason::ExpiredCredential,
        FailureReason::InvalidKeyBinding,
        FailureReason::InvalidPresentation,
        FailureReason::MissingCredential,
        FailureReason::AgeRequirementNotMet,
        FailureReason::WalletError,
        FailureReason::RevokedCredential,
        FailureReason::StatusUnavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::UntrustedIssuer => "untrusted_issuer",
            FailureReason::InvalidSignature => "invalid_signature",
            FailureReason::ExpiredCredential => "expired_credential",
            FailureReason::InvalidKeyBinding => "invalid_key_binding",
            FailureReason::InvalidPresentation => "invalid_presentation",
            FailureReason::MissingCredential => "missing_credential",
            FailureReason::AgeRequirementNotMet => "age_requirement_not_met",
            FailureReason::WalletError => "wallet_error",
            FailureReason::RevokedCredential => "revoked_credential",
            FailureReason::StatusUnavailable => "status_unavailable",
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

/// An identification as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Identification {
    pub id: IdentificationId,
    pub organisation_id: OrganisationId,
    pub proofme_id: ProofmeId,
    /// The proofme's revision when this was created: what it asks for and why.
    pub proofme_revision: i64,
    pub mode: Mode,
    pub status: Status,
    pub description: Option<Description>,
    pub is_request: bool,
    pub metadata: Option<Metadata>,
    pub redirect_url: HttpUrl,
    pub webhook_url: Option<HttpUrl>,
    pub locale: Option<Locale>,
    pub scanned_at: Option<Timestamp>,
    /// Set only when a wallet presentation failed it.
    pub failure_reason: Option<FailureReason>,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What differs between identifications opened from one proofme.
#[derive(Debug, Clone)]
pub struct Opening {
    pub mode: Mode,
    /// Made through the API (`true`), or by a visit of a public link.
    pub is_request: bool,
    pub redirect_url: HttpUrl,
    pub webhook_url: Option<HttpUrl>,
}

impl Identification {
    /// A new open identification of `proofme`'s current revision, expiring
    /// `ttl` after `now`: what the API's create and a visit of a proofme's
    /// public link both make, to be stored with `Store::create_identification`.
    pub fn open(
        proofme: &Proofme,
        opening: Opening,
        ttl: Duration,
        now: Timestamp,
    ) -> Identification {
        Identification {
            id: IdentificationId::generate(),
            organisation_id: proofme.organisation_id.clone(),
            proofme_id: proofme.id.clone(),
            proofme_revision: proofme.revision,
            mode: opening.mode,
            status: Status::Open,
            description: None,
            is_request: opening.is_request,
            metadata: None,
            redirect_url: opening.redirect_url,
            webhook_url: opening.webhook_url,
            locale: None,
            scanned_at: None,
            failure_reason: None,
            expires_at: now.plus(ttl),
            created_at: now,
            updated_at: now,
        }
    }

    /// The status as it reads at `now`: an open or pending identification past
    /// `expiresAt` is expired at once, even before the expiry sweep records it.
    pub fn status_at(&self, now: Timestamp) -> Status {
        if !self.status.is_final() && now >= self.expires_at {
            Status::Expired
        } else {
            self.status
        }
    }

    /// This identification as it reads at `now` (see `status_at`).
    pub fn as_of(mut self, now: Timestamp) -> Identification {
        self.status = self.status_at(now);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::proofme::Purpose;

    #[test]
    fn an_opened_identification_is_open_for_the_ttl_from_now_with_the_proofmes_revision() {
        let proofme = Proofme {
            id: ProofmeId::generate(),
            organisation_id: OrganisationId::generate(),
            name: "Age check".into(),
            purpose: Purpose::KycVerification,
            credentials: Vec::new(),
            revision: 3,
            created_at: Timestamp::from_millis(0),
        };
        let redirect_url = HttpUrl::parse("https://shop.example/back").unwrap();
        let now = Timestamp::from_millis(1_000_000);
        let opening = Opening {
            mode: Mode::Live,
            is_request: false,
            redirect_url: redirect_url.clone(),
            webhook_url: None,
        };

        let ident = Identification::open(&proofme, opening, Duration::from_secs(60), now);

        assert_eq!(ident.status, Status::Open);
        assert_eq!((ident.mode, ident.is_request), (Mode::Live, false));
        assert_eq!(
            (&ident.proofme_id, ident.proofme_revision),
            (&proofme.id, 3)
        );
        assert_eq!(ident.organisation_id, proofme.organisation_id);
        assert_eq!(ident.redirect_url, redirect_url);
        assert_eq!(ident.created_at, now);
        assert_eq!(ident.expires_at, Timestamp::from_millis(1_060_000));
    }

    #[test]
    fn failure_reasons_round_trip() {
        for r in FailureReason::ALL {
            assert_eq!(FailureReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(FailureReason::parse("Untrusted_Issuer"), None);
    }

    #[test]
    fn causes_round_trip() {
        for c in ChangeCause::ALL {
            assert_eq!(ChangeCause::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn codes_and_names_round_trip() {
        for st in Status::ALL {
            assert_eq!(Status::parse(st.code()), Some(st));
            assert_eq!(Status::parse(st.name()), Some(st));
            assert_eq!(Status::from_i64(st.as_i64()), Some(st));
            assert_eq!(st.code(), st.as_i64().to_string());
        }
        assert_eq!(Status::parse("VERIFIED"), Some(Status::Verified));
        assert_eq!(Status::parse("7"), None);
        assert_eq!(Status::parse(""), None);
        assert_eq!(Status::from_i64(7), None);
        assert_eq!(Status::from_i64(-1), None);
    }

    #[test]
    fn open_and_pending_are_the_only_non_final_states() {
        let open: Vec<_> = Status::ALL.into_iter().filter(|s| !s.is_final()).collect();
        assert_eq!(open, vec![Status::Open, Status::Pending]);
    }

    #[test]
    fn transitions_follow_the_contract() {
        use Status::*;
        assert!(Open.can_become(Pending));
        for fin in [Verified, Failed, Canceled, Expired, Revoked] {
            assert!(Open.can_become(fin));
            assert!(Pending.can_become(fin));
        }
        assert!(!Pending.can_become(Open));
        assert!(!Pending.can_become(Pending));
        assert!(!Open.can_become(Open));
        for fin in [Verified, Failed, Canceled, Expired, Revoked] {
            for next in Status::ALL {
                assert!(!fin.can_become(next), "{fin} must stay final");
            }
        }
    }

    #[test]
    fn description_keeps_short_text() {
        assert_eq!(Description::truncating("Order #1").as_str(), "Order #1");
    }

    #[test]
    fn description_truncates_to_255_characters_not_bytes() {
        let long = "é".repeat(300);
        let d = Description::truncating(&long);
        assert_eq!(d.as_str().chars().count(), 255);
        assert_eq!(d.as_str(), "é".repeat(255));
        let emoji = "🙂".repeat(256);
        assert_eq!(Description::truncating(&emoji).as_str(), "🙂".repeat(255));
        let exact = "a".repeat(255);
        assert_eq!(Description::truncating(&exact).as_str(), exact);
    }

    #[test]
    fn modes_parse() {
        assert_eq!(Mode::parse("test"), Some(Mode::Test));
        assert_eq!(Mode::parse("live"), Some(Mode::Live));
        assert_eq!(Mode::parse("Live"), None);
    }
}
