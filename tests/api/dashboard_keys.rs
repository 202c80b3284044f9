//! The dashboard's API keys page: the list with each secret's prefix, a new
//! key's secret shown once, revoking, and that another organisation's keys
//! are out of reach.

use proofme::domain::OrganisationId;
use reqwest::StatusCode;

use crate::browser::Page;
use crate::helpers::*;

const KEYS: &str = "/dashboard/keys";

/// The text of the table row that holds `id`.
fn row_of(page: &Page, id: &str) -> String {
    page.texts("tbody tr")
        .into_iter()
        .find(|row| row.contains(id))
        .unwrap_or_else(|| panic!("no row for {id} in {}", page.text()))
}

async fn key_count(app: &TestApp, org_id: &str) -> usize {
    let org = OrganisationId::parse(org_id).expect("org id");
    app.store.list_api_keys(&org).await.expect("keys").len()
}

#[tokio::test]
async fn the_keys_page_lists_the_test_key_with_its_12_character_prefix() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;

    let page = browser.get(KEYS).await;

    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.texts("thead th"),
        [
            "Id",
            "Mode",
            "Key",
            "Created",
            "Last used",
            "Status",
            "Action"
        ]
    );
    let row = row_of(&page, &app.api_key_id);
    let prefix = format!("{}…", &app.api_key[..12]);
    assert!(app.api_key.starts_with("test_"));
    assert!(row.contains(&prefix), "{row}");
    assert!(row.contains(" test "), "{row}");
    assert!(row.contains("never"), "{row}");
    assert!(row.contains("active"), "{row}");
    assert!(row.ends_with("Revoke"), "{row}");
    assert!(
        !page.html.contains(&app.api_key),
        "the whole secret is shown"
    );
    assert!(page.texts(".once").is_empty());
}

#[tokio::test]
async fn a_new_key_is_shown_once_and_authenticates() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get(KEYS).await;

    let answer = browser
        .post("/dashboard/act/create-api-key", &[("mode", "live")])
        .await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    assert_eq!(answer.location().as_deref(), Some(KEYS));
    let page = browser.get(KEYS).await;
    assert_eq!(
        page.texts(".once h2"),
        ["Copy this key now: it is shown only once"]
    );
    let shown = page.texts(".once code.secret");
    assert_eq!(shown.len(), 1, "{}", page.text());
    let secret = shown[0].clone();
    assert!(secret.starts_with("live_"), "{secret}");
    assert_eq!(key_count(&app, &app.org_id).await, 2);
    let row = page
        .texts("tbody tr")
        .into_iter()
        .find(|r| r.contains(&format!("{}…", &secret[..12])))
        .expect("the new key is listed by its prefix");
    assert!(row.contains(" live "), "{row}");
    assert_eq!(
        app.get_with_key(&secret, "/v1/identification")
            .await
            .status(),
        StatusCode::OK
    );

    let reload = browser.get(KEYS).await;

    assert!(!reload.html.contains(&secret), "shown twice");
    assert!(reload.texts(".once").is_empty());
}

/// Every stored session's data, as the database holds it.
async fn stored_session_data(app: &TestApp) -> Vec<Vec<u8>> {
    use sqlx::Connection;
    let sql = "SELECT data FROM dashboard_sessions";
    if on_postgres() {
        let mut db = sqlx::PgConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut db).await.unwrap()
    } else {
        let mut db = sqlx::SqliteConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut db).await.unwrap()
    }
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_new_keys_secret_never_reaches_the_database_in_clear() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get(KEYS).await;

    let answer = browser
        .post("/dashboard/act/create-api-key", &[("mode", "test")])
        .await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    // Between the action and its page, the session holds the secret: not
    // even its first characters in clear.
    let org = OrganisationId::parse(&app.org_id).unwrap();
    let prefix = app
        .store
        .list_api_keys(&org)
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.id.as_str() != app.api_key_id)
        .and_then(|k| k.secret_prefix)
        .expect("the new key's prefix");
    let stored = stored_session_data(&app).await;
    assert!(!stored.is_empty());
    assert!(stored.iter().all(|d| !holds(d, prefix.as_bytes())));
    let page = browser.get(KEYS).await;
    let shown = page.texts(".once code.secret");
    assert_eq!(shown.len(), 1, "{}", page.text());
    let secret = shown[0].clone();
    assert!(secret.starts_with(&prefix), "{secret}");
    if !on_postgres() {
        // The database file and its log, as a disk would keep them.
        let file = app.database_url.trim_start_matches("sqlite://").to_owned();
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(bytes) = std::fs::read(format!("{file}{suffix}")) {
                assert!(
                    !holds(&bytes, secret.as_bytes()),
                    "secret in {file}{suffix}"
                );
            }
        }
    }
    let reload = browser.get(KEYS).await;
    assert!(!reload.html.contains(&secret), "shown twice");
}

#[tokio::test]
async fn a_key_revoked_from_the_dashboard_is_refused_at_once() {
    let app = spawn_app().await;
    // Authenticated once, so the key is in the cache.
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);
    let mut browser = app.signed_in().await;
    let question = browser
        .get(&format!("{KEYS}/{}/revoke", app.api_key_id))
        .await;

    let answer = browser.submit(&question, "Yes, revoke the key").await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    assert_problem(app.get("/v1/identification").await, 401, None).await;
    let page = browser.get(KEYS).await;
    let row = row_of(&page, &app.api_key_id);
    assert!(row.contains("revoked"), "{row}");
    assert!(!row.contains("Revoke"), "{row}");
    assert!(
        page.texts("[role=status]")
            .iter()
            .any(|m| m.contains("is revoked")),
        "{}",
        page.text()
    );
}

#[tokio::test]
async fn another_organisations_key_can_be_neither_seen_nor_revoked() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    let other_key = app.store.list_api_keys(&other_org).await.expect("keys")[0]
        .id
        .as_str()
        .to_owned();
    let mut browser = app.signed_in().await;
    let before = browser.get(KEYS).await;
    assert!(!before.html.contains(&other_key));

    browser
        .post("/dashboard/act/revoke-api-key", &[("id", &other_key)])
        .await;
    let nonsense = browser
        .post("/dashboard/act/revoke-api-key", &[("id", "key_nope")])
        .await;

    assert!(nonsense.status.is_redirection(), "{}", nonsense.status);
    assert_eq!(
        app.get_with_key(&other.api_key, "/v1/identification")
            .await
            .status(),
        StatusCode::OK
    );
    let listed = app.store.list_api_keys(&other_org).await.expect("keys");
    assert!(listed.iter().all(|k| k.revoked_at.is_none()), "{listed:?}");
    let page = browser.get(KEYS).await;
    assert!(
        page.texts("[role=alert]")
            .iter()
            .any(|m| m.contains("no such key")),
        "{}",
        page.text()
    );
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_the_csrf_token_no_key_is_created_or_revoked() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get(KEYS).await;
    let origin = app.address.clone();

    let create = browser
        .post_with(
            "/dashboard/act/create-api-key",
            &[("mode", "test")],
            Some(&origin),
            None,
        )
        .await;
    let revoke = browser
        .post_with(
            "/dashboard/act/revoke-api-key",
            &[("id", &app.api_key_id)],
            Some(&origin),
            None,
        )
        .await;

    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert_eq!(revoke.status, StatusCode::FORBIDDEN);
    assert_eq!(key_count(&app, &app.org_id).await, 1);
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_used_key_shows_when_it_was_last_used() {
    let app = spawn_app().await;
    let org = OrganisationId::parse(&app.org_id).expect("org id");
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);
    // The use is written in the background: wait for it.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let used = loop {
        let keys = app.store.list_api_keys(&org).await.expect("keys");
        if let Some(at) = keys[0].last_used_at {
            break at;
        }
        assert!(tokio::time::Instant::now() < deadline, "use not recorded");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let mut browser = app.signed_in().await;

    let page = browser.get(KEYS).await;

    let row = row_of(&page, &app.api_key_id);
    assert!(
        row.contains(&proofme::dashboard::words::full_time(used)),
        "{row}"
    );
    assert!(!row.contains("never"), "{row}");
}

#[tokio::test]
async fn a_key_of_an_unknown_mode_is_not_created() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get(KEYS).await;

    browser
        .post("/dashboard/act/create-api-key", &[("mode", "admin")])
        .await;

    assert_eq!(key_count(&app, &app.org_id).await, 1);
    let page = browser.get(KEYS).await;
    assert!(page.texts(".once").is_empty());
    assert_eq!(
        page.texts("[role=alert]"),
        ["Choose test or live for the new key."]
    );
}

#[tokio::test]
async fn revoking_a_key_that_is_not_the_organisations_goes_back_with_an_alert() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    let other_key = app.store.list_api_keys(&other_org).await.expect("keys")[0]
        .id
        .as_str()
        .to_owned();
    let mut browser = app.signed_in().await;

    for id in [other_key.as_str(), "key_doesnotexist"] {
        browser.get(KEYS).await;
        let answer = browser
            .post("/dashboard/act/revoke-api-key", &[("id", id)])
            .await;

        follow_failed_action(
            &mut browser,
            &answer,
            KEYS,
            "There is no such key among your organisation's active keys.",
        )
        .await;
    }
    let theirs = app.store.list_api_keys(&other_org).await.expect("keys");
    assert!(theirs.iter().all(|k| k.revoked_at.is_none()), "{theirs:?}");
    assert_eq!(key_count(&app, &app.org_id).await, 1);
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);
}
