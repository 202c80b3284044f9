//! The dashboard's overview: the last 30 days in numbers and charts, each
//! chart named and backed by a table of the same numbers, per mode, and
//! nothing of another organisation.

use reqwest::StatusCode;
use std::time::Duration;

use crate::helpers::*;

/// Fails `id` as a wallet's answer would, for this reason.
async fn fail_for(app: &TestApp, id: &str, reason: proofme::domain::FailureReason) {
    let change = proofme::store::Change {
        failure_reason: Some(reason),
        ..proofme::store::Change::to(
            proofme::domain::Status::Failed,
            proofme::domain::ChangeCause::Wallet,
        )
    };
    let parsed = proofme::domain::IdentificationId::parse(id).unwrap();
    app.store
        .change_status(&parsed, None, change)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_overview_counts_rates_and_times_the_last_thirty_days() {
    use proofme::domain::FailureReason;
    let app = spawn_app().await;
    // Three verified after 10, 20 and 40 seconds: the median is 20 s.
    let mut verified = Vec::new();
    for _ in 0..3 {
        verified.push(app.create_with_description("Verified").await);
    }
    for (id, wait) in verified.iter().zip([10, 10, 20]) {
        app.clock.advance(Duration::from_secs(wait));
        app.set_outcome(id, "2").await;
    }
    let underage = app.create_with_description("Under age").await;
    fail_for(&app, &underage, FailureReason::AgeRequirementNotMet).await;
    let untrusted = app.create_with_description("Untrusted").await;
    fail_for(&app, &untrusted, FailureReason::UntrustedIssuer).await;
    let also_underage = app.create_with_description("Under age too").await;
    fail_for(&app, &also_underage, FailureReason::AgeRequirementNotMet).await;
    let canceled = app.create_with_description("Canceled").await;
    app.set_outcome(&canceled, "4").await;
    app.create_with_description("Open").await;
    let other = app.create_other_organisation().await;
    let res = app
        .post_form_with_key(&other.api_key, &other.valid_form_body())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut browser = app.signed_in().await;

    let page = browser.get("/dashboard/overview?mode=test").await;

    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts("h1"), ["Overview"]);
    assert_eq!(
        page.texts("ul.stats li"),
        [
            "Identifications, last 30 days 8",
            "Verified 3",
            // 3 of the 7 that ended (3 verified, 3 failed, 1 canceled).
            "Verification rate 43 %",
            "Median time to verify 20 s",
        ]
    );
    // Each chart has a name and its numbers in a table.
    let titles = page.texts("svg[role=img] title");
    assert_eq!(titles.len(), 2);
    assert!(titles[0].contains("8 in all"), "{titles:?}");
    assert!(
        titles[1].contains("Age requirement not met: 2; Issuer not trusted: 1"),
        "{titles:?}"
    );
    let days = page.texts("[aria-label=\"Identifications per day\"] tbody tr");
    assert_eq!(days.len(), 30);
    assert!(
        days[..29].iter().all(|d| d.ends_with(" 0 0 0 0 0")),
        "{days:?}"
    );
    assert!(days[29].ends_with(" 3 3 1 1 8"), "{days:?}");
    assert_eq!(
        page.texts("[aria-label=\"Failure reasons\"] tbody tr"),
        ["Age requirement not met 2", "Issuer not trusted 1"]
    );
    // A reason leads to its identifications.
    assert_eq!(
        page.attrs("[aria-label=\"Failure reasons\"] a", "href")[0],
        "/dashboard?status=failed&reason=age_requirement_not_met"
    );
}

#[tokio::test]
async fn the_overview_shows_live_by_default_and_says_when_there_is_nothing() {
    let app = spawn_app().await;
    app.create_with_description("A test one").await;
    let mut browser = app.signed_in().await;

    let live = browser.get("/dashboard/overview").await;
    let bad = browser.get("/dashboard/overview?mode=both").await;
    // Thirty-one days on (and signed in afresh), the test one has left the
    // window.
    app.clock.advance(Duration::from_secs(31 * 86_400));
    let later = app
        .signed_in()
        .await
        .get("/dashboard/overview?mode=test")
        .await;

    assert_eq!(live.status, StatusCode::OK);
    assert!(
        live.text()
            .contains("No live identifications in the last 30 days.")
    );
    assert_eq!(
        live.texts("a[href=\"/dashboard/overview?mode=test\"]"),
        ["See test mode"]
    );
    assert!(live.texts("svg").is_empty());
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.texts("[role=alert]"), ["There is no mode \"both\"."]);
    assert!(
        later
            .text()
            .contains("No test identifications in the last 30 days.")
    );
}
