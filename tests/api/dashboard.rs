//! The dashboard's sign-in, sessions and CSRF rules.

use reqwest::StatusCode;
use std::time::Duration;

use crate::browser::{Browser, PASSWORD};
use crate::helpers::*;

/// How many sessions the database holds, counted with SQL beside the server.
async fn session_count(app: &TestApp) -> i64 {
    use sqlx::Connection;
    let sql = "SELECT COUNT(*) FROM dashboard_sessions";
    if on_postgres() {
        let mut db = sqlx::PgConnection::connect(&app.database_url)
            .await
            .expect("open the database");
        return sqlx::query_scalar(sql)
            .fetch_one(&mut db)
            .await
            .expect("count sessions");
    }
    let mut db = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .expect("open the database");
    sqlx::query_scalar(sql)
        .fetch_one(&mut db)
        .await
        .expect("count sessions")
}

/// When the session stored under `id` expires (Unix seconds), as the
/// database holds it.
async fn session_expiry(app: &TestApp, id: &str) -> Option<i64> {
    use sqlx::Connection;
    if on_postgres() {
        let mut db = sqlx::PgConnection::connect(&app.database_url)
            .await
            .expect("open the database");
        return sqlx::query_scalar(
            "SELECT CAST(EXTRACT(EPOCH FROM expiry_date) AS BIGINT) \
             FROM dashboard_sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut db)
        .await
        .expect("read the expiry");
    }
    let mut db = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .expect("open the database");
    sqlx::query_scalar(
        "SELECT CAST(strftime('%s', expiry_date) AS INTEGER) \
         FROM dashboard_sessions WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&mut db)
    .await
    .expect("read the expiry")
}

/// Moves every stored session's expiry `by` into the past, in the database,
/// as if that much idle time had passed (expiry cannot be waited for).
async fn age_sessions(app: &TestApp, by: Duration) {
    use sqlx::Connection;
    if on_postgres() {
        let mut db = sqlx::PgConnection::connect(&app.database_url)
            .await
            .expect("open the database");
        sqlx::query(
            "UPDATE dashboard_sessions SET expiry_date = expiry_date - make_interval(secs => $1)",
        )
        .bind(by.as_secs_f64())
        .execute(&mut db)
        .await
        .expect("age the sessions");
        return;
    }
    let mut db = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .expect("open the database");
    sqlx::query(
        "UPDATE dashboard_sessions SET expiry_date = \
         strftime('%Y-%m-%dT%H:%M:%fZ', expiry_date, ?)",
    )
    .bind(format!("-{} seconds", by.as_secs()))
    .execute(&mut db)
    .await
    .expect("age the sessions");
}

/// A new server over the same database, `browser` (and its cookies) moved
/// to it. On SQLite a server keeps the sessions it has read in memory until
/// they expire there, so a session changed in the database behind its back
/// is seen as it now is by a server that has not read it yet.
async fn restart(app: &mut TestApp, browser: &mut Browser) {
    app.restart().await;
    browser.base = app.address.clone();
}

#[tokio::test]
async fn the_dashboard_sends_a_stranger_to_sign_in() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app.address);

    let page = browser.get("/dashboard").await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location().as_deref(), Some("/dashboard/login"));
    let login = browser.get("/dashboard/login").await;
    assert_eq!(login.status, StatusCode::OK);
    let doc = login.doc();
    let label = |for_id: &str| {
        let sel = scraper::Selector::parse(&format!(r#"label[for="{for_id}"]"#)).unwrap();
        doc.select(&sel)
            .next()
            .map(|l| l.text().collect::<String>())
    };
    assert_eq!(label("email").as_deref(), Some("Email"));
    assert_eq!(label("password").as_deref(), Some("Password"));
    assert_eq!(login.texts("button[type=submit]"), vec!["Sign in"]);
}

#[tokio::test]
async fn signing_in_lands_on_identifications_with_a_new_session_id() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;
    let mut browser = Browser::new(&app.address);
    // An id planted before sign-in (session fixation), well formed.
    let before = tower_sessions::session::Id::default().to_string();
    browser.set_session_cookie(&before);
    browser.get("/dashboard/login").await;

    let answer = browser
        .post(
            "/dashboard/login",
            &[("email", "Ann@Example.com"), ("password", PASSWORD)],
        )
        .await;

    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
    // Signing in lands on the overview.
    assert_eq!(answer.location().as_deref(), Some("/dashboard/overview"));
    let after = browser.session_cookie().expect("a session after sign-in");
    assert_ne!(before, after, "the session id must change at sign-in");
    let page = browser.get("/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts("h1"), vec!["Identifications"]);
    assert!(page.text().contains("ann@example.com"));
    for nav in [
        "Overview",
        "Identifications",
        "Proofmes",
        "API keys",
        "Webhooks",
    ] {
        assert!(page.texts("nav a").contains(&nav.to_owned()), "{nav}");
    }
    assert_eq!(page.texts("header button"), vec!["Sign out"]);
    let login = browser.get("/dashboard/login").await;
    assert_eq!(
        login.location().as_deref(),
        Some("/dashboard/overview"),
        "signed in already"
    );

    // The id from before sign-in (a planted one, say) is worth nothing now.
    let planted = Browser::new(&app.address);
    planted.set_session_cookie(&before);
    let mut planted = planted;
    assert_eq!(
        planted.get("/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

/// The `Set-Cookie` values of an answer.
fn set_cookies(page: &crate::browser::Page) -> Vec<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_scoped_to_the_dashboard() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;
    let mut browser = Browser::new(&app.address);

    let answer = browser.sign_in("ann@example.com", PASSWORD).await;

    let cookies = set_cookies(&answer);
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with("proofme_dashboard="))
        .expect("a session cookie at sign-in");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/dashboard"] {
        assert!(cookie.split("; ").any(|p| p == part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "not Secure over http: {cookie}");
}

#[tokio::test]
async fn the_sign_in_forms_cookie_is_http_only_strict_and_scoped_to_sign_in() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app.address);

    let page = browser.get("/dashboard/login").await;

    let cookies = set_cookies(&page);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("proofme_login_csrf="), "{cookie}");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/dashboard/login"] {
        assert!(cookie.split("; ").any(|p| p == part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "not Secure over http: {cookie}");
}

#[tokio::test]
async fn over_https_the_session_cookie_is_secure() {
    let public = "https://id.example.com";
    let app = spawn_app_with(|c| c.public_url = public.into()).await;
    app.create_user(&app.org_id, "ann@example.com").await;
    // No cookie jar: it would keep a Secure cookie from going over http.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .get(format!("{}/dashboard/login", app.address))
        .send()
        .await
        .unwrap();
    let login_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        login_cookie.split("; ").any(|p| p == "Secure"),
        "{login_cookie}"
    );
    let pair = login_cookie.split(';').next().unwrap().to_owned();
    let token = pair.split_once('=').unwrap().1.to_owned();

    let answer = client
        .post(format!("{}/dashboard/login", app.address))
        .header("cookie", pair)
        .header("origin", public)
        .form(&[
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let cookie = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("proofme_dashboard="))
        .expect("a session cookie")
        .to_owned();
    assert!(cookie.split("; ").any(|p| p == "Secure"), "{cookie}");
}

#[tokio::test]
async fn viewing_the_sign_in_page_stores_no_session() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;
    let before = session_count(&app).await;
    let mut returning = Browser::new(&app.address);

    for n in 0..50 {
        let page = if n % 2 == 0 {
            Browser::new(&app.address).get("/dashboard/login").await
        } else {
            returning.get("/dashboard/login").await
        };
        assert_eq!(page.status, StatusCode::OK);
    }

    assert_eq!(session_count(&app).await, before);
    // The form still signs in; one session now.
    let answer = returning
        .post(
            "/dashboard/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
    assert_eq!(session_count(&app).await, before + 1);
}

#[tokio::test]
async fn a_forged_or_borrowed_sign_in_token_is_refused() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;
    let mut other = Browser::new(&app.address);
    other.get("/dashboard/login").await;
    let borrowed = other.csrf.clone().expect("a token");
    let mut browser = Browser::new(&app.address);
    browser.get("/dashboard/login").await;
    let origin = app.address.clone();
    let fields = [("email", "ann@example.com"), ("password", PASSWORD)];

    let forged = browser
        .post_with("/dashboard/login", &fields, Some(&origin), Some("forged"))
        .await;
    let from_another_browser = browser
        .post_with("/dashboard/login", &fields, Some(&origin), Some(&borrowed))
        .await;
    let without_cookie = Browser::new(&app.address)
        .post_with("/dashboard/login", &fields, Some(&origin), Some(&borrowed))
        .await;

    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(from_another_browser.status, StatusCode::FORBIDDEN);
    assert_eq!(without_cookie.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::SEE_OTHER,
        "not signed in"
    );
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;

    let mut a = Browser::new(&app.address);
    let wrong_password = a.sign_in("ann@example.com", "not the password").await;
    let mut b = Browser::new(&app.address);
    let unknown_email = b
        .sign_in("ann@example.com.invalid", "not the password")
        .await;

    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong_password.texts("[role=alert]"),
        unknown_email.texts("[role=alert]")
    );
    assert_eq!(wrong_password.texts("h1"), unknown_email.texts("h1"));
    assert!(a.get("/dashboard").await.status == StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn five_failures_for_an_email_close_sign_in_even_for_the_right_password() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;

    for _ in 0..5 {
        // A new browser each time: the count is per email, not per session.
        let mut b = Browser::new(&app.address);
        let page = b.sign_in("ann@example.com", "wrong password").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let mut browser = Browser::new(&app.address);
    let page = browser.sign_in("ANN@example.com", PASSWORD).await;

    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.html);
    assert_eq!(page.headers["retry-after"], "900");
    assert!(page.text().contains("wait 15 minutes"), "{}", page.text());
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_sign_in_that_finds_every_password_slot_taken_is_busy_and_is_not_counted() {
    let app = spawn_app_with(|c| {
        c.dashboard_password_slots = 1;
        c.dashboard_password_wait = Duration::from_millis(50);
    })
    .await;
    app.create_user(&app.org_id, "ann@example.com").await;
    let held = app.state.password_slots.take().await.expect("the one slot");

    for _ in 0..5 {
        let mut b = Browser::new(&app.address);
        let page = b.sign_in("ann@example.com", "wrong password").await;
        assert_eq!(
            page.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            page.html
        );
        assert!(page.headers.contains_key("retry-after"));
    }
    drop(held);

    // None of the five was checked, so none counts as a failure: the right
    // password still gets in.
    let mut browser = Browser::new(&app.address);
    let page = browser.sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK);
}

#[tokio::test]
async fn five_failures_from_one_address_close_sign_in_for_every_email() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;

    for n in 0..5 {
        let mut b = Browser::new(&app.address);
        let page = b.sign_in(&format!("guess{n}@example.com"), "x").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let mut browser = Browser::new(&app.address);
    let page = browser.sign_in("ann@example.com", PASSWORD).await;

    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_burst_of_sign_ins_gets_no_more_than_five_attempts_evaluated() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;
    // Thirty wrong passwords and the right one last, all at once, each from
    // a browser that has the sign-in form open.
    let mut browsers = Vec::new();
    for _ in 0..31 {
        let mut b = Browser::new(&app.address);
        b.get("/dashboard/login").await;
        browsers.push(b);
    }

    let answers = futures::future::join_all(browsers.iter_mut().enumerate().map(|(n, b)| {
        let password = if n == 30 { PASSWORD } else { "wrong password" };
        async move {
            b.post(
                "/dashboard/login",
                &[("email", "ann@example.com"), ("password", password)],
            )
            .await
        }
    }))
    .await;

    let count = |status: StatusCode| answers[..30].iter().filter(|p| p.status == status).count();
    let (refused, throttled) = (
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::TOO_MANY_REQUESTS),
    );
    assert_eq!(
        refused + throttled,
        30,
        "only 401 and 429 for wrong passwords"
    );
    assert!(refused <= 5, "{refused} wrong passwords were checked");
    let right = answers[30].status;
    if right == StatusCode::TOO_MANY_REQUESTS {
        // Every place went to a wrong password: exactly five were checked,
        // and sign-in stays closed, even for the right password.
        assert_eq!(refused, 5);
        let later = Browser::new(&app.address)
            .sign_in("ann@example.com", PASSWORD)
            .await;
        assert_eq!(later.status, StatusCode::TOO_MANY_REQUESTS);
    } else {
        // The right password took one of the places and gave it back.
        assert_eq!(right, StatusCode::SEE_OTHER, "{}", answers[30].html);
        assert!(refused >= 4, "{refused}");
    }
}

#[tokio::test]
async fn old_failures_no_longer_count() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;
    for _ in 0..5 {
        Browser::new(&app.address)
            .sign_in("ann@example.com", "wrong password")
            .await;
    }
    // As if the 15 minutes had passed: failures from before now are dropped
    // by the cleanup, as the maintenance job does.
    app.store
        .prune_login_failures(proofme::domain::Timestamp::now().plus(Duration::from_secs(1)))
        .await
        .unwrap();

    let page = Browser::new(&app.address)
        .sign_in("ann@example.com", PASSWORD)
        .await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_out_destroys_the_session() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let cookie = browser.session_cookie().unwrap();
    let sessions = session_count(&app).await;

    let page = browser.post("/dashboard/act/sign-out", &[]).await;

    assert!(
        page.status.is_redirection(),
        "{} {}",
        page.status,
        page.html
    );
    assert_eq!(page.location().as_deref(), Some("/dashboard/login"));
    assert_eq!(session_count(&app).await, sessions - 1);
    // The old cookie, replayed, signs nobody in.
    let replay = Browser::new(&app.address);
    replay.set_session_cookie(&cookie);
    let mut replay = replay;
    assert_eq!(replay.get("/dashboard").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn eight_idle_hours_end_a_session() {
    let mut app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let id = browser.session_cookie().unwrap();
    let expiry = session_expiry(&app, &id).await.expect("stored");
    let now = proofme::domain::Timestamp::now().millis() / 1000;
    // Stored to expire eight hours after its last use (a few minutes'
    // slack: activity is recorded at most every five minutes).
    assert!(
        (8 * 3600 - 600..=8 * 3600 + 60).contains(&(expiry - now)),
        "{}",
        expiry - now
    );

    age_sessions(&app, Duration::from_secs(8 * 3600 + 1)).await;
    restart(&mut app, &mut browser).await;

    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

/// Moves the stored sign-in time of the session `cookie` names `by` into
/// the past, as if that long had passed since sign-in.
async fn backdate_sign_in(app: &TestApp, cookie: &str, by: Duration) {
    use tower_sessions::SessionStore;
    let key = proofme::dashboard::guard::SIGNED_IN_AT;
    let id: tower_sessions::session::Id = cookie.parse().expect("a session id");
    let sessions = app.store.sessions();
    let mut record = sessions.load(&id).await.unwrap().expect("stored");
    let at = record
        .data
        .get(key)
        .and_then(|v| v.as_i64())
        .expect("sign-in time");
    let earlier = at - i64::try_from(by.as_millis()).unwrap();
    record
        .data
        .insert(key.to_owned(), serde_json::json!(earlier));
    sessions.save(&record).await.unwrap();
}

#[tokio::test]
async fn a_session_ends_twelve_hours_after_sign_in_however_active() {
    let mut app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let id = browser.session_cookie().unwrap();
    let sessions = session_count(&app).await;

    // Almost twelve hours on, and in use all along: still signed in.
    backdate_sign_in(&app, &id, Duration::from_secs(12 * 3600 - 60)).await;
    restart(&mut app, &mut browser).await;
    assert_eq!(browser.get("/dashboard").await.status, StatusCode::OK);

    backdate_sign_in(&app, &id, Duration::from_secs(61)).await;
    restart(&mut app, &mut browser).await;
    let page = browser.get("/dashboard").await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location().as_deref(), Some("/dashboard/login"));
    assert_eq!(session_count(&app).await, sessions - 1);
}

#[tokio::test]
async fn the_longest_session_is_configurable() {
    let mut app = spawn_app_with(|c| c.dashboard_session_max = Duration::from_secs(3600)).await;
    let mut browser = app.signed_in().await;
    let id = browser.session_cookie().unwrap();

    backdate_sign_in(&app, &id, Duration::from_secs(3601)).await;
    restart(&mut app, &mut browser).await;

    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_action_without_the_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let origin = app.address.clone();

    let no_token = browser
        .post_with("/dashboard/act/sign-out", &[], Some(&origin), None)
        .await;
    let wrong_token = browser
        .post_with(
            "/dashboard/act/sign-out",
            &[],
            Some(&origin),
            Some("forged"),
        )
        .await;

    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn an_action_from_another_origin_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let token = browser.csrf.clone();

    let other = browser
        .post_with(
            "/dashboard/act/sign-out",
            &[],
            Some("https://evil.example"),
            token.as_deref(),
        )
        .await;
    let neither = browser
        .post_with("/dashboard/act/sign-out", &[], None, token.as_deref())
        .await;

    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(neither.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/dashboard").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn the_sign_in_form_needs_the_token_too() {
    let app = spawn_app().await;
    app.create_user(&app.org_id, "ann@example.com").await;
    let mut browser = Browser::new(&app.address);
    browser.get("/dashboard/login").await;
    let origin = app.address.clone();

    let page = browser
        .post_with(
            "/dashboard/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
            Some(&origin),
            None,
        )
        .await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn dashboard_pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;

    for path in [
        "/dashboard",
        "/dashboard/login",
        "/dashboard/keys",
        "/dashboard/nothing-here",
    ] {
        let page = browser.get(path).await;
        let h = &page.headers;
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    }
    assert_eq!(
        browser.get("/dashboard/nothing-here").await.status,
        StatusCode::NOT_FOUND
    );
}

/// Every dashboard action, with a form it accepts (ids need not exist) and
/// the fields it cannot do without.
const ACTIONS: &[(&str, &str, &[&str])] = &[
    ("create-api-key", "mode=test", &["mode"]),
    ("revoke-api-key", "id=key_nothing", &["id"]),
    ("revoke-identification", "id=idn_nothing", &["id"]),
    ("erase-data", "id=idn_nothing", &["id"]),
    ("resend-webhook", "id=idn_nothing", &["id"]),
    ("save-proofme", "name=Shop&purpose=AGE_VERIFICATION", &[]),
    (
        "save-public-link",
        "id=pm_nothing&redirect_url=https%3A%2F%2Fexample.org%2F&mode=test",
        &["id", "redirect_url", "mode"],
    ),
    ("remove-public-link", "id=pm_nothing", &["id"]),
    ("reveal-webhook-secret", "", &[]),
    ("rotate-webhook-secret", "", &[]),
    (
        "send-test-webhook",
        "url=https%3A%2F%2Fexample.org%2F",
        &["url"],
    ),
    ("sign-out", "", &[]),
];

/// `form` without the field `name`.
fn without(form: &str, name: &str) -> String {
    form.split('&')
        .filter(|pair| pair.split('=').next() != Some(name))
        .collect::<Vec<_>>()
        .join("&")
}

/// The forms that are wrong in shape: a bracketed name, a required field
/// bracketed or doubled, bytes that are not UTF-8, a pair without `=`.
fn malformed(form: &str, required: &[&str]) -> Vec<String> {
    let join = |extra: &str| {
        if form.is_empty() {
            extra.to_owned()
        } else {
            format!("{form}&{extra}")
        }
    };
    let mut forms = vec![join("a[b]=1"), join("%FF%FE=%FF"), join("a[=1&]]]=2")];
    for name in required {
        forms.push(format!("{}&{name}[x]=1", without(form, name)));
        forms.push(join(&format!("{name}=again")));
    }
    forms
}

#[tokio::test]
async fn every_action_answers_a_missing_or_malformed_field_with_a_page_never_a_500() {
    let app = spawn_app().await;
    let mut cases = Vec::new();
    for (endpoint, form, required) in ACTIONS {
        for name in *required {
            cases.push((*endpoint, without(form, name), true));
        }
        for bad in malformed(form, required) {
            cases.push((*endpoint, bad, false));
        }
    }

    for (endpoint, body, must_refuse) in cases {
        // A fresh session each time: some of these forms are good enough
        // to act (sign out, say).
        let mut browser = app.signed_in().await;
        let page = browser
            .post_raw(&format!("/dashboard/act/{endpoint}"), &body)
            .await;

        let case = format!("{endpoint} with {body:?}: {} {}", page.status, page.html);
        assert_ne!(page.status, StatusCode::INTERNAL_SERVER_ERROR, "{case}");
        let location = page.location().unwrap_or_default();
        assert!(!location.contains("__err"), "{case}");
        if must_refuse {
            assert_eq!(page.status, StatusCode::BAD_REQUEST, "{case}");
        }
        if page.status == StatusCode::BAD_REQUEST {
            assert!(page.text().contains("missing or not understood"), "{case}");
        } else {
            assert!(page.status.is_redirection(), "{case}");
        }
    }
}
