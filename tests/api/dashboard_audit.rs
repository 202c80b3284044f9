//! The dashboard's audit log: each action writes exactly one event with its
//! actor, action and target; failed sign-ins are recorded (for known emails
//! only, never with what was typed); the page and its CSV show only the
//! signed-in user's organisation, filtered as the URL says; old events are
//! purged by the retention job and no others.

use proofme::domain::{OrganisationId, UserId};
use proofme::store::{Actor, AuditAction, AuditEvent, AuditFilter};
use reqwest::StatusCode;
use std::time::Duration;

use crate::browser::{Browser, PASSWORD, Page};
use crate::helpers::*;

const AUDIT: &str = "/dashboard/audit";
const ANN: &str = "ann@example.com";

fn org(id: &str) -> OrganisationId {
    OrganisationId::parse(id).expect("org id")
}

/// Every event of `org_id`, newest first.
async fn events(app: &TestApp, org_id: &str) -> Vec<AuditEvent> {
    app.store
        .audit()
        .list(&org(org_id), &AuditFilter::default(), None, 0, 10_000)
        .await
        .expect("events")
}

/// Waits (bounded) until `org_id` holds `n` events, for an event written
/// in the background; then all of them, newest first.
async fn wait_for_events(app: &TestApp, org_id: &str, n: usize) -> Vec<AuditEvent> {
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let all = events(app, org_id).await;
        if all.len() >= n {
            return all;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} events, not {n}",
            all.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A browser signed in as `email`, a new user of `org_id`; and its user id.
async fn sign_in_as(app: &TestApp, org_id: &str, email: &str) -> (Browser, String) {
    let user = app.create_user(org_id, email).await;
    let mut browser = Browser::new(&app.address);
    let answer = browser.sign_in(email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
    browser.get("/dashboard").await;
    (browser, user)
}

/// Posts `fields` to the action `endpoint` from `from` and checks that it
/// wrote exactly one more event of the test organisation; that event.
async fn act(
    app: &TestApp,
    browser: &mut Browser,
    from: &str,
    endpoint: &str,
    fields: &[(&str, &str)],
) -> AuditEvent {
    let before = events(app, &app.org_id).await.len();
    browser.get(from).await;
    let answer = browser
        .post(&format!("/dashboard/act/{endpoint}"), fields)
        .await;
    assert!(
        answer.status.is_redirection(),
        "{endpoint}: {}",
        answer.status
    );
    let after = events(app, &app.org_id).await;
    assert_eq!(after.len(), before + 1, "{endpoint}: {after:#?}");
    after.into_iter().next().expect("an event")
}

fn assert_event(e: &AuditEvent, action: AuditAction, user: &str, target: Option<&str>) {
    assert_eq!(e.action, action, "{e:?}");
    assert_eq!(
        e.actor,
        Actor::user(&UserId::parse(user).expect("user id"), ANN),
        "{e:?}"
    );
    assert_eq!(e.target.as_deref(), target, "{e:?}");
}

#[tokio::test]
async fn sign_in_and_key_and_webhook_actions_each_write_one_event() {
    let app = spawn_app_with(|c| c.allow_private_webhooks = true).await;
    let receiver = receiver().await;
    let (mut browser, ann) = sign_in_as(&app, &app.org_id, ANN).await;
    let signed_in = events(&app, &app.org_id).await;
    assert_eq!(signed_in.len(), 1, "{signed_in:#?}");
    assert_event(&signed_in[0], AuditAction::SignedIn, &ann, None);

    let created = act(
        &app,
        &mut browser,
        "/dashboard/keys",
        "create-api-key",
        &[("mode", "live")],
    )
    .await;
    let keys = app.store.list_api_keys(&org(&app.org_id)).await.unwrap();
    let new_key = keys[0].id.as_str().to_owned();
    assert_event(&created, AuditAction::ApiKeyCreated, &ann, Some(&new_key));
    assert_eq!(created.detail, "live");

    let revoked = act(
        &app,
        &mut browser,
        "/dashboard/keys",
        "revoke-api-key",
        &[("id", &new_key)],
    )
    .await;
    assert_event(&revoked, AuditAction::ApiKeyRevoked, &ann, Some(&new_key));

    let revealed = act(
        &app,
        &mut browser,
        "/dashboard/webhooks",
        "reveal-webhook-secret",
        &[],
    )
    .await;
    assert_event(&revealed, AuditAction::WebhookSecretRevealed, &ann, None);

    let rotated = act(
        &app,
        &mut browser,
        "/dashboard/webhooks",
        "rotate-webhook-secret",
        &[],
    )
    .await;
    assert_event(&rotated, AuditAction::WebhookSecretRotated, &ann, None);

    let url = format!("{}/hook?token=not-for-the-log", receiver.uri());
    let sent = act(
        &app,
        &mut browser,
        "/dashboard/webhooks",
        "send-test-webhook",
        &[("url", &url)],
    )
    .await;
    assert_eq!(sent.action, AuditAction::WebhookTestSent);
    assert!(
        sent.target
            .as_deref()
            .is_some_and(|t| t.starts_with("msg_")),
        "{sent:?}"
    );
    assert_eq!(sent.detail, "127.0.0.1: HTTP 200");

    // No secret is kept in any event.
    let secret = app
        .store
        .get_organisation(&org(&app.org_id))
        .await
        .unwrap()
        .unwrap()
        .webhook_secret;
    for e in events(&app, &app.org_id).await {
        let text = format!("{e:?}");
        assert!(!text.contains(&secret) && !text.contains(&app.webhook_secret));
        assert!(!text.contains("not-for-the-log"), "{text}");
    }

    let signed_out = act(&app, &mut browser, "/dashboard", "sign-out", &[]).await;
    assert_event(&signed_out, AuditAction::SignedOut, &ann, None);
}

#[tokio::test]
async fn identification_and_proofme_actions_each_write_one_event() {
    let app = spawn_app().await;
    let revoke = app.create_with_description("To revoke").await;
    let erase = app.create_with_description("With data").await;
    app.set_outcome(&erase, "2").await;
    let (mut browser, ann) = sign_in_as(&app, &app.org_id, ANN).await;
    let detail = |id: &str| format!("/dashboard/identifications/{id}");

    let e = act(
        &app,
        &mut browser,
        &detail(&revoke),
        "revoke-identification",
        &[("id", &revoke)],
    )
    .await;
    assert_event(&e, AuditAction::IdentificationRevoked, &ann, Some(&revoke));

    let e = act(
        &app,
        &mut browser,
        &detail(&erase),
        "reveal-data",
        &[("id", &erase)],
    )
    .await;
    assert_event(&e, AuditAction::DataRevealed, &ann, Some(&erase));

    let e = act(
        &app,
        &mut browser,
        &detail(&erase),
        "erase-data",
        &[("id", &erase)],
    )
    .await;
    assert_event(&e, AuditAction::DataErased, &ann, Some(&erase));

    let created = act(
        &app,
        &mut browser,
        "/dashboard/proofmes/new",
        "save-proofme",
        &[
            ("name", "Shop sign-up"),
            ("purpose", "KYC_VERIFICATION"),
            ("ask_EMAIL", "yes"),
            ("need_EMAIL", "required"),
        ],
    )
    .await;
    let proofme = created.target.clone().expect("the proofme's id");
    assert!(proofme.starts_with("pr"), "{proofme}");
    assert_event(&created, AuditAction::ProofmeCreated, &ann, Some(&proofme));
    assert_eq!(created.detail, "Shop sign-up");

    let edit = format!("/dashboard/proofmes/{proofme}");
    let e = act(
        &app,
        &mut browser,
        &edit,
        "save-proofme",
        &[
            ("id", &proofme),
            ("name", "Shop sign-up 2"),
            ("purpose", "KYC_VERIFICATION"),
            ("ask_EMAIL", "yes"),
            ("need_EMAIL", "optional"),
        ],
    )
    .await;
    assert_event(&e, AuditAction::ProofmeEdited, &ann, Some(&proofme));
    assert_eq!(e.detail, "Saved as revision 2.");

    let e = act(
        &app,
        &mut browser,
        &edit,
        "save-public-link",
        &[
            ("id", &proofme),
            ("redirect_url", "https://shop.example.com/back"),
            ("mode", "test"),
        ],
    )
    .await;
    assert_event(&e, AuditAction::PublicLinkSaved, &ann, Some(&proofme));

    let e = act(
        &app,
        &mut browser,
        &edit,
        "remove-public-link",
        &[("id", &proofme)],
    )
    .await;
    assert_event(&e, AuditAction::PublicLinkRemoved, &ann, Some(&proofme));

    // An action refused changes nothing and records nothing.
    let before = events(&app, &app.org_id).await.len();
    browser.get(&edit).await;
    browser
        .post("/dashboard/act/remove-public-link", &[("id", &proofme)])
        .await;
    assert_eq!(events(&app, &app.org_id).await.len(), before);
}

#[tokio::test]
async fn a_failed_sign_in_is_recorded_for_a_known_email_without_what_was_typed() {
    let app = spawn_app().await;
    let ann = app.create_user(&app.org_id, ANN).await;
    let mut browser = Browser::new(&app.address);

    // An unknown email: no organisation to record it for.
    let answer = browser
        .sign_in("nobody@example.com", "wrong password one")
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = browser
        .sign_in("  Ann@Example.COM ", "wrong password two")
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    let all = wait_for_events(&app, &app.org_id, 1).await;
    assert_eq!(all.len(), 1, "{all:#?}");
    let e = &all[0];
    assert_eq!(e.action, AuditAction::SignInFailed);
    assert_eq!(e.actor.user_id, None, "nobody was signed in");
    assert_eq!(
        e.actor.email.as_deref(),
        Some(ANN),
        "the account's own email"
    );
    assert_eq!(e.target.as_deref(), Some(ann.as_str()));
    let text = format!("{all:?}");
    assert!(!text.contains("wrong password") && !text.contains("nobody"));

    // It shows on the page, marked as no signed-in person.
    let (mut browser, _) = sign_in_as(&app, &app.org_id, "bob@example.com").await;
    let page = browser.get(&format!("{AUDIT}?action=sign_in_failed")).await;
    assert_eq!(page.status, StatusCode::OK);
    let rows = page.texts("tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains("ann@example.com (not signed in)"),
        "{rows:?}"
    );
}

/// Records an event for `org_id` straight through the store.
async fn record(
    app: &TestApp,
    org_id: &str,
    email: &str,
    action: AuditAction,
    target: &str,
    detail: &str,
) {
    let actor = Actor::user(&UserId::generate(), email);
    app.store
        .audit()
        .record(&org(org_id), actor, action, Some(target), detail)
        .await
        .expect("record");
}

#[tokio::test]
async fn another_organisations_events_never_show_on_the_page_or_in_the_csv() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let (mut theirs, _) = sign_in_as(&app, &other.org_id, "bob@other.example").await;
    theirs.get("/dashboard/keys").await;
    theirs
        .post("/dashboard/act/create-api-key", &[("mode", "test")])
        .await;
    record(
        &app,
        &other.org_id,
        "bob@other.example",
        AuditAction::DataRevealed,
        "id_theirs",
        "",
    )
    .await;
    assert_eq!(events(&app, &other.org_id).await.len(), 3);
    let (mut ours, _) = sign_in_as(&app, &app.org_id, ANN).await;

    let page = ours.get(AUDIT).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts("tbody tr").len(), 1, "only ann's sign-in");
    let text = page.text();
    assert!(!text.contains("bob@other.example") && !text.contains("id_theirs"));
    // Not even when asked for by name.
    let page = ours.get(&format!("{AUDIT}?actor=bob")).await;
    assert!(page.texts("tbody tr").is_empty());
    assert!(page.text().contains("No events match these filters."));

    let csv = ours.get("/dashboard/audit.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(!csv.html.contains("bob@other.example") && !csv.html.contains("id_theirs"));
    assert_eq!(csv.html.lines().count(), 2, "{}", csv.html);
}

/// The action names of the page's rows, top to bottom.
fn actions(page: &Page) -> Vec<String> {
    let doc = page.doc();
    let sel = scraper::Selector::parse("tbody td[data-action]").expect("selector");
    doc.select(&sel)
        .filter_map(|e| e.value().attr("data-action"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn filters_in_the_url_narrow_the_page_and_the_csv() {
    let app = spawn_app().await;
    let day = Duration::from_secs(86_400);
    record(
        &app,
        &app.org_id,
        "carl@example.com",
        AuditAction::ApiKeyCreated,
        "key_old",
        "",
    )
    .await;
    app.clock.advance(day * 10);
    let recent = app.clock.now();
    record(
        &app,
        &app.org_id,
        "dora@example.com",
        AuditAction::DataRevealed,
        "id_new",
        "",
    )
    .await;
    let (mut browser, _) = sign_in_as(&app, &app.org_id, ANN).await;

    let all = browser.get(AUDIT).await;
    assert_eq!(
        actions(&all),
        ["signed_in", "data_revealed", "api_key_created"]
    );
    // Times are machine-readable and shown for people.
    let doc = all.doc();
    let sel = scraper::Selector::parse("tbody time[datetime]").unwrap();
    let first = doc.select(&sel).next().expect("a time");
    assert!(first.value().attr("datetime").unwrap().ends_with("+00:00"));
    assert!(first.text().collect::<String>().ends_with("UTC"));

    let by_action = browser.get(&format!("{AUDIT}?action=data_revealed")).await;
    assert_eq!(actions(&by_action), ["data_revealed"]);
    let by_actor = browser.get(&format!("{AUDIT}?actor=CARL%40example")).await;
    assert_eq!(actions(&by_actor), ["api_key_created"]);

    let today = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(recent.millis())
        .unwrap()
        .date_naive();
    let before = today - chrono::Days::new(1);
    let since = browser.get(&format!("{AUDIT}?from={today}")).await;
    assert_eq!(actions(&since), ["signed_in", "data_revealed"]);
    let until = browser.get(&format!("{AUDIT}?to={before}")).await;
    assert_eq!(actions(&until), ["api_key_created"]);
    // The form shows the filters it was given.
    let doc = until.doc();
    let sel = scraper::Selector::parse(r#"input[name="to"]"#).unwrap();
    let field = doc.select(&sel).next().expect("the to field");
    assert_eq!(
        field.value().attr("value"),
        Some(before.to_string().as_str())
    );

    let csv = browser
        .get(&format!("/dashboard/audit.csv?actor=dora&from={today}"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.html.lines().collect();
    assert_eq!(lines[0], "at,actorEmail,actorUserId,action,target,detail");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains("dora@example.com") && lines[1].contains(",data_revealed,id_new,"));

    let none = browser
        .get(&format!("{AUDIT}?action=api_key_revoked"))
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.text().contains("No events match these filters."));
    let doc = none.doc();
    let sel = scraper::Selector::parse(".empty a").unwrap();
    let clear = doc.select(&sel).next().expect("Clear filters");
    assert_eq!(clear.text().collect::<String>(), "Clear filters");
    assert_eq!(clear.value().attr("href"), Some(AUDIT));

    let bad = browser.get(&format!("{AUDIT}?from=yesterday")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad_csv = browser.get("/dashboard/audit.csv?action=nonsense").await;
    assert_eq!(bad_csv.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_page_holds_fifty_events_and_links_to_older_ones() {
    let app = spawn_app().await;
    for n in 0..55 {
        record(
            &app,
            &app.org_id,
            "carl@example.com",
            AuditAction::DataRevealed,
            &format!("id_{n}"),
            "",
        )
        .await;
    }
    let (mut browser, _) = sign_in_as(&app, &app.org_id, ANN).await;

    let first = browser.get(&format!("{AUDIT}?action=data_revealed")).await;
    assert_eq!(first.texts("tbody tr").len(), 50);
    assert!(first.texts("tbody tr")[0].contains("id_54"));
    let doc = first.doc();
    let sel = scraper::Selector::parse(r#"a[rel="next"]"#).unwrap();
    let next = doc
        .select(&sel)
        .next()
        .and_then(|a| a.value().attr("href"))
        .expect("a link to older events")
        .to_owned();
    assert_eq!(next, format!("{AUDIT}?action=data_revealed&offset=50"));

    let second = browser.get(&next).await;
    let rows = second.texts("tbody tr");
    assert_eq!(rows.len(), 5);
    assert!(rows[4].contains("id_0"), "{rows:?}");

    // The export holds every matching row, not one page.
    let csv = browser
        .get("/dashboard/audit.csv?action=data_revealed")
        .await;
    assert_eq!(csv.html.lines().count(), 56);
}

#[tokio::test]
async fn the_csv_defuses_formulas() {
    let app = spawn_app().await;
    record(
        &app,
        &app.org_id,
        "carl@example.com",
        AuditAction::ProofmeCreated,
        "pr_x",
        "=HYPERLINK(\"x\")",
    )
    .await;
    let (mut browser, _) = sign_in_as(&app, &app.org_id, ANN).await;

    let csv = browser
        .get("/dashboard/audit.csv?action=proofme_created")
        .await;

    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(csv.html.contains(r#""'=HYPERLINK(""x"")""#), "{}", csv.html);
}

#[tokio::test]
async fn the_retention_job_purges_only_events_past_the_period() {
    let mut app = spawn_app().await;
    let other = app.create_other_organisation().await;
    record(
        &app,
        &app.org_id,
        "carl@example.com",
        AuditAction::DataRevealed,
        "id_old",
        "",
    )
    .await;
    record(
        &app,
        &other.org_id,
        "bob@other.example",
        AuditAction::DataRevealed,
        "id_old_theirs",
        "",
    )
    .await;
    // Past the default period of 365 days.
    app.clock.advance(Duration::from_secs(366 * 86_400));
    record(
        &app,
        &app.org_id,
        "carl@example.com",
        AuditAction::DataRevealed,
        "id_new",
        "",
    )
    .await;

    // A new server's job looks at once.
    app.restart().await;
    let deadline = std::time::Instant::now() + DEADLINE;
    while events(&app, &app.org_id).await.len() > 1 || !events(&app, &other.org_id).await.is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "old events outlived their retention"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let left = events(&app, &app.org_id).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].target.as_deref(), Some("id_new"));
}

#[tokio::test]
async fn the_retention_period_is_configurable() {
    let app = spawn_app_with(|c| c.audit_retention = Duration::from_secs(1)).await;
    record(
        &app,
        &app.org_id,
        "carl@example.com",
        AuditAction::DataRevealed,
        "id_old",
        "",
    )
    .await;
    app.clock.advance(Duration::from_secs(5));

    let deadline = std::time::Instant::now() + DEADLINE;
    while !events(&app, &app.org_id).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the event outlived its retention"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn events_cannot_be_changed_in_the_database() {
    use sqlx::Connection;
    let app = spawn_app().await;
    record(
        &app,
        &app.org_id,
        "carl@example.com",
        AuditAction::DataRevealed,
        "id_1",
        "",
    )
    .await;
    let sql = "UPDATE audit_events SET detail = 'changed'";
    let refused = if on_postgres() {
        let mut db = sqlx::PgConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut db).await.is_err()
    } else {
        let mut db = sqlx::SqliteConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut db).await.is_err()
    };
    assert!(refused);
    assert_eq!(events(&app, &app.org_id).await[0].detail, "");
}

#[tokio::test]
async fn the_audit_log_needs_a_signed_in_user() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app.address);

    let page = browser.get(AUDIT).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location().as_deref(), Some("/dashboard/login"));
    let csv = browser.get("/dashboard/audit.csv").await;
    assert_ne!(csv.status, StatusCode::OK);
    assert!(!csv.html.contains("actorEmail"));
}

#[tokio::test]
async fn the_audit_log_is_in_the_navigation() {
    let app = spawn_app().await;
    let (mut browser, _) = sign_in_as(&app, &app.org_id, ANN).await;

    let page = browser.get(AUDIT).await;

    assert_eq!(page.texts("h1"), ["Audit log"]);
    let doc = page.doc();
    let sel = scraper::Selector::parse(r#"nav a[aria-current="page"]"#).unwrap();
    let current = doc.select(&sel).next().expect("the current page");
    assert_eq!(current.value().attr("href"), Some(AUDIT));
    assert_eq!(current.text().collect::<String>(), "Audit log");
}
