//! The dashboard's settings page: the organisation's name (what MyPage
//! shows), its end-to-end data recipient and its data retention each change
//! and are audited; a refused value changes nothing and comes back to its
//! field as typed; another organisation is never touched; the retention
//! sweep honours an organisation's shorter period; strangers sign in first.

use age::secrecy::ExposeSecret;
use proofme::domain::OrganisationId;
use proofme::store::{AuditAction, AuditEvent, AuditFilter, Organisation};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

use crate::browser::{Browser, Page};
use crate::helpers::*;

const SETTINGS: &str = "/dashboard/settings";
const DAY: Duration = Duration::from_secs(86_400);

fn org_id(id: &str) -> OrganisationId {
    OrganisationId::parse(id).expect("org id")
}

async fn organisation(app: &TestApp, id: &str) -> Organisation {
    app.store
        .get_organisation(&org_id(id))
        .await
        .expect("store")
        .expect("organisation")
}

/// The settings events of `id`, newest first.
async fn settings_events(app: &TestApp, id: &str) -> Vec<AuditEvent> {
    app.store
        .audit()
        .list(&org_id(id), &AuditFilter::default(), None, 0, 10_000)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.action.as_str().starts_with("settings_"))
        .collect()
}

/// Posts `field = value` to the settings action `endpoint` from the page.
async fn save(browser: &mut Browser, endpoint: &str, field: &str, value: &str) -> Page {
    browser.get(SETTINGS).await;
    browser
        .post(&format!("/dashboard/act/{endpoint}"), &[(field, value)])
        .await
}

/// Saves, expecting the change to be made: back on the page with `flash`.
async fn save_ok(browser: &mut Browser, endpoint: &str, field: &str, value: &str, flash: &str) {
    let answer = save(browser, endpoint, field, value).await;
    assert!(answer.status.is_redirection(), "{}", answer.status);
    assert_eq!(answer.location().as_deref(), Some(SETTINGS));
    let page = browser.get(SETTINGS).await;
    assert_eq!(page.texts("[role=status]"), [flash], "{}", page.text());
    assert!(page.texts("[role=alert]").is_empty(), "{}", page.text());
}

/// Saves a value that must be refused: back on the page, the value as
/// typed in its field (`input_id`), `why` beside it as an alert.
async fn save_refused(
    browser: &mut Browser,
    endpoint: &str,
    field: &str,
    input_id: &str,
    value: &str,
    why: &str,
) -> Page {
    let answer = save(browser, endpoint, field, value).await;
    let page = follow_failed_action(browser, &answer, SETTINGS, why).await;
    assert_eq!(
        page.texts(&format!("#{input_id}-error[role=alert]")),
        [why],
        "the reason is not beside its field"
    );
    assert_eq!(
        page.attrs(&format!("#{input_id}"), "aria-invalid"),
        ["true"]
    );
    let described = page.attrs(&format!("#{input_id}"), "aria-describedby");
    assert!(
        described[0].contains(&format!("{input_id}-error")),
        "{described:?}"
    );
    assert!(page.texts(".flash").is_empty(), "{}", page.text());
    page
}

fn new_recipient() -> String {
    age::x25519::Identity::generate().to_public().to_string()
}

#[tokio::test]
async fn the_page_shows_the_saved_values_and_is_last_in_the_navigation() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;

    let page = browser.get(SETTINGS).await;

    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts("title"), ["Settings – Proofme dashboard"]);
    assert_eq!(page.texts("h1"), ["Settings"]);
    let nav = page.texts("nav li");
    assert_eq!(nav.last().map(String::as_str), Some("Settings"), "{nav:?}");
    assert_eq!(page.attrs("nav a[aria-current=page]", "href"), [SETTINGS]);
    assert_eq!(page.attrs("input#name", "value"), [app.org_name.as_str()]);
    assert_eq!(page.attrs("input#recipient", "value"), [""]);
    assert_eq!(page.attrs("input#retention", "value"), [""]);
    assert_eq!(page.attrs("input#retention", "max"), ["30"]);
    let text = page.text();
    assert!(text.contains("Proofme cannot read it"), "{text}");
    assert!(text.contains("the dashboard cannot show it"), "{text}");
    assert!(text.contains("Now: encryption at rest"), "{text}");
    assert!(text.contains("Now: the deployment's 30 days."), "{text}");
    for label in ["Name", "Age recipient (public key)", "Days (1 to 30)"] {
        assert!(
            page.texts("label").iter().any(|l| l == label),
            "no label {label}"
        );
    }
}

#[tokio::test]
async fn a_new_name_is_saved_audited_and_shown_on_mypage() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let mut browser = app.signed_in().await;

    save_ok(
        &mut browser,
        "settings-name",
        "name",
        "  Shop B  ",
        "Your organisation's name is now “Shop B”.",
    )
    .await;

    assert_eq!(organisation(&app, &app.org_id).await.name, "Shop B");
    let events = settings_events(&app, &app.org_id).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].action, AuditAction::SettingsNameChanged);
    assert_eq!(events[0].detail, "“Test Shop” → “Shop B”");
    assert!(events[0].actor.email.is_some());
    assert_eq!(
        browser.get(SETTINGS).await.attrs("input#name", "value"),
        ["Shop B"]
    );
    // MyPage, for a new identification and one made before, names it.
    let id = app.create_identification(json!({})).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, mypage) = get_page(&app.client, &app.url(&format!("/{id}")), 200).await;
    assert_eq!(
        mypage.elements("h1")[0].text,
        "Shop B would like to verify you"
    );
    // The other organisation keeps its name and has no event.
    assert_eq!(organisation(&app, &other.org_id).await.name, "Other Shop");
    assert!(settings_events(&app, &other.org_id).await.is_empty());

    // Saving the same name again changes nothing and records nothing.
    save_ok(
        &mut browser,
        "settings-name",
        "name",
        "Shop B",
        "The name is already “Shop B”; nothing changed.",
    )
    .await;
    assert_eq!(settings_events(&app, &app.org_id).await.len(), 1);
}

#[tokio::test]
async fn a_refused_name_changes_nothing_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let long = "n".repeat(101);
    let cases = [
        ("   ", "Enter your organisation's name."),
        (
            long.as_str(),
            "The name can be at most 100 characters; this one has 101.",
        ),
        (
            "Shop\tB",
            "The name must be one line, without control characters.",
        ),
    ];

    for (typed, why) in cases {
        let page = save_refused(&mut browser, "settings-name", "name", "name", typed, why).await;
        assert_eq!(page.attrs("input#name", "value"), [typed], "{why}");
    }

    assert_eq!(organisation(&app, &app.org_id).await.name, app.org_name);
    assert!(settings_events(&app, &app.org_id).await.is_empty());
    // After a reload the field shows the saved name again.
    assert_eq!(
        browser.get(SETTINGS).await.attrs("input#name", "value"),
        [app.org_name.as_str()]
    );
}

#[tokio::test]
async fn the_recipient_is_set_and_cleared_and_audited_with_its_public_key_only() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let mut browser = app.signed_in().await;
    let recipient = new_recipient();

    save_ok(
        &mut browser,
        "settings-recipient",
        "recipient",
        &format!(" {recipient} "),
        "Shared data is now encrypted end to end to your recipient: the dashboard cannot show it.",
    )
    .await;

    assert_eq!(
        organisation(&app, &app.org_id).await.data_recipient,
        Some(recipient.clone())
    );
    let page = browser.get(SETTINGS).await;
    assert_eq!(page.attrs("input#recipient", "value"), [recipient.as_str()]);
    assert_eq!(page.texts("code.recipient-now"), [recipient.as_str()]);
    // Data shared from now on is sealed to the recipient: the API hands
    // out the age file, not the attributes.
    let id = app.create_identification(json!({})).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.set_outcome(&id, "verified").await;
    let data = app.get_json(&format!("/v1/identification/data/{id}")).await;
    assert!(data["data"].is_null(), "{data}");
    assert!(
        data.to_string().contains("BEGIN AGE ENCRYPTED FILE"),
        "{data}"
    );

    save_ok(
        &mut browser,
        "settings-recipient",
        "recipient",
        "",
        "Shared data is now encrypted at rest, with no recipient.",
    )
    .await;

    assert_eq!(organisation(&app, &app.org_id).await.data_recipient, None);
    let events = settings_events(&app, &app.org_id).await;
    let details: Vec<_> = events.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(
        details,
        [format!("{recipient} → none"), format!("none → {recipient}")]
    );
    assert!(
        events
            .iter()
            .all(|e| e.action == AuditAction::SettingsRecipientChanged)
    );
    assert_eq!(organisation(&app, &other.org_id).await.data_recipient, None);
    assert!(settings_events(&app, &other.org_id).await.is_empty());
}

#[tokio::test]
async fn a_refused_recipient_changes_nothing_and_a_private_key_is_never_kept() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let recipient = new_recipient();
    save_ok(
        &mut browser,
        "settings-recipient",
        "recipient",
        &recipient,
        "Shared data is now encrypted end to end to your recipient: the dashboard cannot show it.",
    )
    .await;
    let not_age = "This is not an age recipient. An age recipient (public key) starts with age1 \
                   and is 62 characters long; leave the field empty for encryption at rest.";

    for typed in [
        "age1nope",
        "ssh-ed25519 AAAAC3Nza",
        &recipient.replace("age1", "age2"),
    ] {
        let page = save_refused(
            &mut browser,
            "settings-recipient",
            "recipient",
            "recipient",
            typed,
            not_age,
        )
        .await;
        assert_eq!(page.attrs("input#recipient", "value"), [typed]);
    }
    let private = age::x25519::Identity::generate().to_string();
    let private = private.expose_secret();
    let page = save_refused(
        &mut browser,
        "settings-recipient",
        "recipient",
        "recipient",
        private,
        "This is a private key: keep it to yourself, it was not saved. Paste the public key, \
         the recipient that starts with age1.",
    )
    .await;
    assert!(!page.html.contains(private), "the private key is shown");
    assert_eq!(page.attrs("input#recipient", "value"), [""]);

    assert_eq!(
        organisation(&app, &app.org_id).await.data_recipient,
        Some(recipient)
    );
    assert_eq!(settings_events(&app, &app.org_id).await.len(), 1);
}

#[tokio::test]
async fn the_retention_is_shortened_and_cleared_and_audited() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let mut browser = app.signed_in().await;

    save_ok(
        &mut browser,
        "settings-retention",
        "retention_days",
        " 7 ",
        "Shared data is now kept for 7 days.",
    )
    .await;
    assert_eq!(
        organisation(&app, &app.org_id).await.data_retention_days,
        Some(7)
    );
    let page = browser.get(SETTINGS).await;
    assert_eq!(page.attrs("input#retention", "value"), ["7"]);
    assert!(page.text().contains("Now: 7 days."), "{}", page.text());

    save_ok(
        &mut browser,
        "settings-retention",
        "retention_days",
        "",
        "Shared data is now kept for the deployment's 30 days.",
    )
    .await;

    assert_eq!(
        organisation(&app, &app.org_id).await.data_retention_days,
        None
    );
    let events = settings_events(&app, &app.org_id).await;
    let details: Vec<_> = events.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(
        details,
        [
            "7 days → the deployment's 30 days",
            "the deployment's 30 days → 7 days"
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.action == AuditAction::SettingsRetentionChanged)
    );
    assert_eq!(
        organisation(&app, &other.org_id).await.data_retention_days,
        None
    );
    assert!(settings_events(&app, &other.org_id).await.is_empty());
}

#[tokio::test]
async fn a_retention_beyond_the_deployments_or_not_a_number_is_refused() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let why = "Enter a whole number of days from 1 to 30, or leave the field empty for the \
               deployment's 30 days.";

    for typed in ["0", "31", "-3", "7.5", "a week", "99999999999"] {
        let page = save_refused(
            &mut browser,
            "settings-retention",
            "retention_days",
            "retention",
            typed,
            why,
        )
        .await;
        assert_eq!(page.attrs("input#retention", "value"), [typed]);
    }

    assert_eq!(
        organisation(&app, &app.org_id).await.data_retention_days,
        None
    );
    assert!(settings_events(&app, &app.org_id).await.is_empty());
}

/// A verified test identification of the organisation `api_key` belongs
/// to, with shared data; its id.
async fn verified(app: &TestApp, api_key: &str, body: &str) -> String {
    let created = created(app.post_form_with_key(api_key, body).await).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let resp = app
        .api_test_outcome_with_key(api_key, &id, "verified")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    id
}

/// The shared data of `id` as its organisation's key reads it.
async fn shared_data(app: &TestApp, api_key: &str, id: &str) -> Value {
    let resp = app
        .get_with_key(api_key, &format!("/v1/identification/data/{id}"))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Value>().await.expect("JSON")["data"].clone()
}

#[tokio::test]
async fn the_retention_sweep_erases_by_the_organisations_shorter_period() {
    let mut app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let mut browser = app.signed_in().await;
    save_ok(
        &mut browser,
        "settings-retention",
        "retention_days",
        "7",
        "Shared data is now kept for 7 days.",
    )
    .await;
    let ours = verified(&app, &app.api_key, &app.valid_form_body()).await;
    let theirs = verified(&app, &other.api_key, &other.valid_form_body()).await;
    let retention = app.config.data_retention;

    // Six days on, nothing is past either period.
    app.clock.advance(DAY * 6);
    let erased = app
        .store
        .erase_shared_data_past_retention(retention)
        .await
        .expect("sweep");
    assert_eq!(erased, 0);
    // Eight days on, ours is past its 7 days; theirs keeps the deployment's
    // 30. (The server's own sweep may get there first: the states count.)
    app.clock.advance(DAY * 2);
    app.store
        .erase_shared_data_past_retention(retention)
        .await
        .expect("sweep");
    assert!(shared_data(&app, &app.api_key, &ours).await.is_null());
    assert_eq!(
        shared_data(&app, &other.api_key, &theirs).await,
        json!({"OLDER_THAN_18": true})
    );

    // The running sweep does the same by itself: a new server's job looks
    // at once.
    let later = verified(&app, &app.api_key, &app.valid_form_body()).await;
    let theirs_later = verified(&app, &other.api_key, &other.valid_form_body()).await;
    app.clock.advance(DAY * 8);
    app.restart().await;
    let deadline = std::time::Instant::now() + DEADLINE;
    while !shared_data(&app, &app.api_key, &later).await.is_null() {
        assert!(
            std::time::Instant::now() < deadline,
            "data outlived the organisation's retention"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        shared_data(&app, &other.api_key, &theirs_later).await,
        json!({"OLDER_THAN_18": true})
    );
}

#[tokio::test]
async fn the_deployments_period_still_applies_to_every_organisation() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let mut browser = app.signed_in().await;
    save_ok(
        &mut browser,
        "settings-retention",
        "retention_days",
        "30",
        "Shared data is now kept for 30 days.",
    )
    .await;
    let ours = verified(&app, &app.api_key, &app.valid_form_body()).await;
    let theirs = verified(&app, &other.api_key, &other.valid_form_body()).await;

    app.clock.advance(DAY * 31);
    app.store
        .erase_shared_data_past_retention(app.config.data_retention)
        .await
        .expect("sweep");

    assert!(shared_data(&app, &app.api_key, &ours).await.is_null());
    assert!(shared_data(&app, &other.api_key, &theirs).await.is_null());
}

#[tokio::test]
async fn a_stranger_is_sent_to_sign_in_and_changes_nothing() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app.address);
    let recipient = new_recipient();

    let page = browser.get(SETTINGS).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location().as_deref(), Some("/dashboard/login"));

    for (endpoint, field, value) in [
        ("settings-name", "name", "Hijacked"),
        ("settings-recipient", "recipient", recipient.as_str()),
        ("settings-retention", "retention_days", "1"),
    ] {
        let answer = browser
            .post(&format!("/dashboard/act/{endpoint}"), &[(field, value)])
            .await;
        assert!(
            answer.status.is_client_error()
                || answer.location().as_deref() == Some("/dashboard/login"),
            "{endpoint}: {} {:?}",
            answer.status,
            answer.location()
        );
    }

    let org = organisation(&app, &app.org_id).await;
    assert_eq!(org.name, app.org_name);
    assert_eq!(org.data_recipient, None);
    assert_eq!(org.data_retention_days, None);
    assert!(settings_events(&app, &app.org_id).await.is_empty());
}
