//! How the dashboard writes what the store holds: times people read at a
//! glance, ids short enough for a phone, statuses, modes, causes and failure
//! reasons as words. The machine form stays one step away (a `<time
//! datetime>`, a `title`, the detail page).

use chrono::{DateTime, Datelike, Utc};
use leptos::prelude::*;

use crate::domain::{ChangeCause, FailureReason, Mode, Status, Timestamp};

/// An id as people compare ids: its first seven and last four characters
/// (`id_0Vd5…RAUX`). Short ids are kept whole.
pub fn short_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 14 {
        return id.to_owned();
    }
    let head: String = chars[..7].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// A moment as a person reads it, in UTC (the page says so): "Today 04:29",
/// "Yesterday 23:10", "3 Dec 04:29" this year, "7 Dec 2025" before.
pub fn human_time(at: Timestamp, now: Timestamp) -> String {
    let (Some(at), Some(now)) = (utc(at), utc(now)) else {
        return at.to_rfc3339();
    };
    let days = now
        .date_naive()
        .signed_duration_since(at.date_naive())
        .num_days();
    match days {
        0 => at.format("Today %H:%M").to_string(),
        1 => at.format("Yesterday %H:%M").to_string(),
        _ if at.year() == now.year() => at.format("%-d %b %H:%M").to_string(),
        _ => at.format("%-d %b %Y").to_string(),
    }
}

/// A moment in full, for a title and the detail page: "7 Dec 2026, 04:29:22 UTC".
pub fn full_time(at: Timestamp) -> String {
    match utc(at) {
        Some(t) => t.format("%-d %b %Y, %H:%M:%S UTC").to_string(),
        None => at.to_rfc3339(),
    }
}

fn utc(at: Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(at.millis())
}

/// A `<time>` showing `human_time`, with the exact moment for machines
/// (`datetime`) and for a pointer (`title`).
pub fn time_view(at: Timestamp, now: Timestamp) -> impl IntoView {
    view! {
        <time datetime=at.to_rfc3339() title=full_time(at)>{human_time(at, now)}</time>
    }
}

pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Open => "Open",
        Status::Pending => "Pending",
        Status::Verified => "Verified",
        Status::Failed => "Failed",
        Status::Canceled => "Canceled",
        Status::Expired => "Expired",
        Status::Revoked => "Revoked",
    }
}

/// A status as a coloured pill that also says it in words.
pub fn status_pill(status: Status) -> impl IntoView {
    let tone = match status {
        Status::Open | Status::Pending => "info",
        Status::Verified => "good",
        Status::Failed | Status::Revoked => "bad",
        Status::Canceled | Status::Expired => "quiet",
    };
    view! { <span class=format!("pill {tone}")>{status_label(status)}</span> }
}

pub fn mode_label(mode: Mode) -> &'static str {
    match mode {
        Mode::Test => "Test",
        Mode::Live => "Live",
    }
}

/// Test identifications stand out; live ones are the quiet default.
pub fn mode_pill(mode: Mode) -> impl IntoView {
    let tone = match mode {
        Mode::Test => "pill test",
        Mode::Live => "pill quiet",
    };
    view! { <span class=tone>{mode_label(mode)}</span> }
}

/// What made a status change, as words.
pub fn cause_words(cause: ChangeCause) -> &'static str {
    match cause {
        ChangeCause::Created => "Created through the API",
        ChangeCause::ApiTestOutcome => "Test outcome set through the API",
        ChangeCause::MyPageTestOutcome => "Test outcome chosen on MyPage",
        ChangeCause::MyPageCancel => "Canceled by the customer on MyPage",
        ChangeCause::ApiRevoke => "Revoked through the API",
        ChangeCause::DashboardRevoke => "Revoked in the dashboard",
        ChangeCause::Expiry => "Expired unanswered",
        ChangeCause::Wallet => "Answered by the customer's wallet",
        ChangeCause::WalletStatusUnchecked => {
            "Answered by the customer's wallet; the credential's status could not be checked"
        }
    }
}

/// Why a presentation failed, as an operator would say it.
pub fn failure_words(reason: FailureReason) -> &'static str {
    match reason {
        FailureReason::UntrustedIssuer => "Issuer not trusted",
        FailureReason::InvalidSignature => "Invalid signature",
        FailureReason::ExpiredCredential => "Credential expired",
        FailureReason::InvalidKeyBinding => "Invalid key binding",
        FailureReason::InvalidPresentation => "Invalid presentation",
        FailureReason::MissingCredential => "Credential missing",
        FailureReason::AgeRequirementNotMet => "Age requirement not met",
        FailureReason::WalletError => "Wallet error",
        FailureReason::RevokedCredential => "Credential revoked",
        FailureReason::StatusUnavailable => "Credential status unavailable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        let t = DateTime::parse_from_rfc3339(s).expect("a valid time in the test");
        Timestamp::from_millis(t.timestamp_millis())
    }

    #[test]
    fn a_long_id_keeps_its_first_seven_and_last_four_characters() {
        assert_eq!(short_id("id_0Vd5abcdefghijklmnopqrstRAUX"), "id_0Vd5…RAUX");
        assert_eq!(short_id("id_short"), "id_short");
    }

    #[test]
    fn times_read_by_how_far_back_they_are() {
        let now = at("2026-12-07T10:00:00Z");
        assert_eq!(human_time(at("2026-12-07T04:29:22Z"), now), "Today 04:29");
        assert_eq!(
            human_time(at("2026-12-06T23:10:00Z"), now),
            "Yesterday 23:10"
        );
        assert_eq!(human_time(at("2026-03-03T04:29:00Z"), now), "3 Mar 04:29");
        assert_eq!(human_time(at("2025-12-07T04:29:00Z"), now), "7 Dec 2025");
        assert_eq!(
            full_time(at("2026-12-07T04:29:22Z")),
            "7 Dec 2026, 04:29:22 UTC"
        );
    }

    #[test]
    fn every_status_cause_and_reason_has_words_of_its_own() {
        let statuses: std::collections::HashSet<_> =
            Status::ALL.into_iter().map(status_label).collect();
        assert_eq!(statuses.len(), Status::ALL.len());
        let causes: std::collections::HashSet<_> =
            ChangeCause::ALL.into_iter().map(cause_words).collect();
        assert_eq!(causes.len(), ChangeCause::ALL.len());
        let reasons: std::collections::HashSet<_> =
            FailureReason::ALL.into_iter().map(failure_words).collect();
        assert_eq!(reasons.len(), FailureReason::ALL.len());
    }
}
