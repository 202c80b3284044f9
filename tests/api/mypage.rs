//! MyPage (DESIGN.md section 4): the page at `myPageUrl`, its forms, its
//! status stream, its headers and its static files.

use crate::helpers::*;
use proofme::domain::Mode;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE, HeaderMap, LOCATION};
use serde_json::{Value, json};
use std::time::Duration;

/// Creates a test identification (with `changes`) and returns its id.
async fn create(app: &TestApp, changes: Value) -> String {
    let created = app.create_identification(changes).await;
    created["id"].as_str().expect("id").to_owned()
}

/// A live identification and the live key that sees it (the test key does not).
async fn create_live(app: &TestApp) -> (String, String) {
    let live_key = app.create_api_key(Mode::Live).await;
    let resp = app
        .post_json_with_key(&live_key, &app.valid_json_body())
        .await;
    let created = created(resp).await;
    assert_eq!(created["mode"], "live");
    (created["id"].as_str().expect("id").to_owned(), live_key)
}

async fn page(app: &TestApp, id: &str) -> (HeaderMap, Html) {
    get_page(&app.client, &app.url(&format!("/{id}")), 200).await
}

async fn page_with_language(app: &TestApp, path: &str, accept_language: &str) -> Html {
    let resp = app
        .client
        .get(app.url(path))
        .header(ACCEPT_LANGUAGE, accept_language)
        .send()
        .await
        .expect("GET page");
    read_page(resp, 200).await.1
}

/// POSTs a MyPage form (as a browser without JavaScript would).
async fn post_form_to(app: &TestApp, path: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(CONTENT_TYPE, FORM)
        .body(body.to_owned())
        .send()
        .await
        .expect("POST form")
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Location header: {:?}", resp.headers()))
        .to_owned()
}

/// The outcome buttons of the test panel: (value, label).
fn outcome_buttons(html: &Html) -> Vec<(String, String)> {
    html.elements("button")
        .into_iter()
        .filter(|b| b.attr("name") == Some("outcome"))
        .map(|b| (b.attr("value").unwrap_or("").to_owned(), b.text))
        .collect()
}

/// The credentials the page lists, in order.
fn credentials(html: &Html) -> Vec<String> {
    html.elements("li")
        .into_iter()
        .filter(|li| li.attr("class") == Some("credential"))
        .map(|li| li.text)
        .collect()
}

/// The page carries a QR code: its container, or the drawing itself.
fn has_qr_code(html: &Html) -> bool {
    html.find("div", "class", "qr").is_some() || html.raw.contains("crispEdges")
}

// --- the open page ---------------------------------------------------------

#[tokio::test]
async fn the_page_is_html_in_english_by_default() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let resp = app
        .client
        .get(app.url(&format!("/{id}")))
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), StatusCode::OK);
    assert!(content_type(&resp).starts_with("text/html"));
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("<html lang=\"en-US\">"),
        "no <html lang=\"en-US\">"
    );
    assert_eq!(Html::parse(&body).lang().as_deref(), Some("en-US"));
}

#[tokio::test]
async fn the_page_shows_the_organisation_description_credentials_and_purpose() {
    let app = spawn_app().await;
    let id = create(&app, json!({ "description": "Order 12345" })).await;

    let (_, html) = page(&app, &id).await;

    let text = html.text();
    let h1 = html.elements("h1");
    assert_eq!(h1.len(), 1);
    assert_eq!(
        h1[0].text,
        format!("{} would like to verify you", app.org_name)
    );
    assert!(text.contains("Order 12345"), "{text}");
    assert_eq!(credentials(&html), ["18 or older"]);
    assert!(text.contains("To check your age."), "{text}");
}

#[tokio::test]
async fn the_page_shows_a_qr_code_and_the_wallet_link() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let (_, html) = page(&app, &id).await;

    let qr = html
        .elements("div")
        .into_iter()
        .find(|d| d.attr("class") == Some("qr"));
    assert!(qr.is_some(), "no QR container");
    assert!(html.raw.contains("<svg"), "no inline SVG");
    let link = html
        .elements("a")
        .into_iter()
        .find(|a| {
            a.attr("href")
                .is_some_and(|h| h.starts_with("openid4vp://"))
        })
        .expect("a wallet link");
    let href = link.attr("href").unwrap();
    let expected_request_uri = format!("{}/oid4vp/request/{id}", app.config.public_url);
    let query = href
        .strip_prefix("openid4vp://?")
        .unwrap_or_else(|| panic!("{href}"));
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(pairs.len(), 2, "{href}");
    assert_eq!(pairs[0].0, "client_id");
    // The verifier's identity: the hash of the certificate that signs requests.
    let request_object = app
        .client
        .get(&expected_request_uri)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let request = proofme::wallet::verify_request(
        &request_object,
        None,
        None,
        proofme::domain::Timestamp::now(),
    )
    .expect("a valid request object");
    assert_eq!(pairs[0].1, request.client_id, "{href}");
    assert!(pairs[0].1.starts_with("x509_hash:"), "{href}");
    assert_eq!(pairs[1], ("request_uri".into(), expected_request_uri));
    // In the attribute the `&` is escaped.
    assert!(
        html.raw.contains("&amp;request_uri="),
        "the & between the parameters is not escaped in the attribute"
    );
}

#[tokio::test]
async fn a_test_identification_shows_the_test_panel_with_four_outcomes() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let (_, html) = page(&app, &id).await;

    let form = html
        .find("form", "action", &format!("/{id}/test-outcome"))
        .expect("the test-outcome form");
    assert_eq!(form.attr("method"), Some("post"));
    let buttons = outcome_buttons(&html);
    let expected: Vec<(String, String)> = [
        ("verified", "Verified"),
        ("failed", "Failed"),
        ("canceled", "Canceled"),
        ("expired", "Expired"),
    ]
    .iter()
    .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
    .collect();
    assert_eq!(buttons, expected);
    assert!(html.text().contains("Test mode"));
}

#[tokio::test]
async fn a_live_identification_shows_no_test_panel() {
    let app = spawn_app().await;
    let (id, _) = create_live(&app).await;

    let (_, html) = page(&app, &id).await;

    assert!(outcome_buttons(&html).is_empty());
    assert!(
        html.find("form", "action", &format!("/{id}/test-outcome"))
            .is_none()
    );
    assert!(!html.text().contains("Test mode"), "{}", html.text());
    // It is still a page to share from.
    assert!(html.raw.contains("<svg"));
}

#[tokio::test]
async fn the_page_links_its_stylesheet_and_script() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let (_, html) = page(&app, &id).await;

    let css = html
        .find("link", "rel", "stylesheet")
        .and_then(|l| l.attr("href").map(str::to_owned))
        .expect("a stylesheet link");
    assert!(css.starts_with("/style/mypage.css"), "{css}");
    let scripts: Vec<String> = html
        .elements("script")
        .iter()
        .filter_map(|s| s.attr("src").map(str::to_owned))
        .collect();
    assert_eq!(scripts.len(), 1, "{scripts:?}");
    assert!(scripts[0].starts_with("/public/mypage.js"), "{scripts:?}");
    // No inline script at all.
    assert!(
        html.elements("script")
            .iter()
            .all(|s| s.attr("src").is_some())
    );
}

// --- headers ---------------------------------------------------------------

#[tokio::test]
async fn the_page_sends_strict_security_headers() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let (headers, _) = page(&app, &id).await;

    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name}"))
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let form_action = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("form-action"))
        .unwrap_or_else(|| panic!("no form-action: {csp}"));
    let origin = "https://your-application.example.org";
    assert!(
        form_action.split_whitespace().any(|s| s == origin),
        "form-action does not allow the redirect's origin: {csp}"
    );
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src") || d.starts_with("default-src"))
        .expect("a script policy");
    assert!(!script_src.contains("unsafe"), "{csp}");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("cache-control"), "no-store");
}

// --- language --------------------------------------------------------------

#[tokio::test]
async fn the_locale_nl_nl_makes_the_page_dutch() {
    let app = spawn_app().await;
    let id = create(&app, json!({ "locale": "nl_NL" })).await;

    let (_, html) = page(&app, &id).await;

    assert_eq!(html.lang().as_deref(), Some("nl-NL"));
    let text = html.text();
    assert!(text.contains("Wat je deelt"), "{text}");
    assert_eq!(credentials(&html), ["18 jaar of ouder"]);
    assert!(text.contains("Om je leeftijd te controleren."), "{text}");
    let labels: Vec<String> = outcome_buttons(&html).into_iter().map(|b| b.1).collect();
    assert_eq!(
        labels,
        ["Geverifieerd", "Mislukt", "Geannuleerd", "Verlopen"]
    );
    assert!(!text.contains("What you will share"), "{text}");
}

#[tokio::test]
async fn the_lang_query_parameter_chooses_dutch() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let (_, html) = get_page(&app.client, &app.url(&format!("/{id}?lang=nl")), 200).await;

    assert_eq!(html.lang().as_deref(), Some("nl-NL"));
    assert!(html.text().contains("Wat je deelt"));
}

#[tokio::test]
async fn accept_language_nl_be_gives_nl_be() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let html = page_with_language(&app, &format!("/{id}"), "nl-BE").await;

    assert_eq!(html.lang().as_deref(), Some("nl-BE"));
    assert!(html.text().contains("Wat je deelt"));
}

#[tokio::test]
async fn an_unspoken_locale_falls_back_to_the_browsers_dutch() {
    let app = spawn_app().await;
    let id = create(&app, json!({ "locale": "de_DE" })).await;

    let html = page_with_language(&app, &format!("/{id}"), "nl").await;

    assert_eq!(html.lang().as_deref(), Some("nl-NL"));
    assert!(html.text().contains("Wat je deelt"));
}

#[tokio::test]
async fn an_unknown_id_is_a_404_page_in_english() {
    let app = spawn_app().await;

    for path in ["/id_0000000000000000000000", "/not-an-id"] {
        let (_, html) = get_page(&app.client, &app.url(path), 404).await;
        assert_eq!(html.lang().as_deref(), Some("en-US"), "{path}");
        assert!(html.text().contains("Page not found"), "{path}");
    }
}

#[tokio::test]
async fn an_unknown_id_is_a_404_page_in_dutch_for_a_dutch_browser() {
    let app = spawn_app().await;

    let resp = app
        .client
        .get(app.url("/id_0000000000000000000000"))
        .header(ACCEPT_LANGUAGE, "nl-NL,nl;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    let (_, html) = read_page(resp, 404).await;

    assert_eq!(html.lang().as_deref(), Some("nl-NL"));
    assert!(
        html.text().contains("Pagina niet gevonden"),
        "{}",
        html.text()
    );
}

// --- forms -----------------------------------------------------------------

#[tokio::test]
async fn each_test_outcome_redirects_back_after_the_status_is_final() {
    let app = spawn_app().await;
    for (outcome, code) in [
        ("verified", "2"),
        ("failed", "3"),
        ("canceled", "4"),
        ("expired", "5"),
    ] {
        let id = create(&app, json!({})).await;

        let resp = post_form_to(
            &app,
            &format!("/{id}/test-outcome"),
            &format!("outcome={outcome}"),
        )
        .await;

        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{outcome}");
        assert_eq!(location(&resp), REDIRECT_URL, "{outcome}");
        // The integrator's return page reads right after the redirect.
        let ident = app.identification(&id).await;
        assert_eq!(ident["status"], code, "{outcome}");
        assert_eq!(ident["statusName"], outcome);
    }
}

#[tokio::test]
async fn cancel_redirects_back_with_the_status_canceled() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let resp = post_form_to(&app, &format!("/{id}/cancel"), "").await;

    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), REDIRECT_URL);
    assert_eq!(app.identification(&id).await["status"], "4");
}

#[tokio::test]
async fn a_test_outcome_for_a_live_identification_is_403_and_changes_nothing() {
    let app = spawn_app().await;
    let (id, live_key) = create_live(&app).await;

    let resp = post_form_to(&app, &format!("/{id}/test-outcome"), "outcome=verified").await;

    let (_, html) = read_page(resp, 403).await;
    assert!(html.text().contains("Not available"), "{}", html.text());
    let now = app
        .get_with_key(&live_key, &format!("/v1/identification/{id}"))
        .await;
    assert_eq!(now.json::<Value>().await.expect("json")["status"], "0");
}

#[tokio::test]
async fn a_second_post_after_the_end_redirects_back_and_changes_nothing() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    let first = post_form_to(&app, &format!("/{id}/test-outcome"), "outcome=verified").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);

    let again = post_form_to(&app, &format!("/{id}/test-outcome"), "outcome=failed").await;
    let cancel = post_form_to(&app, &format!("/{id}/cancel"), "").await;

    for resp in [again, cancel] {
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&resp), REDIRECT_URL);
    }
    assert_eq!(app.identification(&id).await["status"], "2");
    assert_eq!(app.history(&id).await.len(), 2, "one change only");
}

#[tokio::test]
async fn an_outcome_the_panel_does_not_offer_changes_nothing() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    for body in [
        "outcome=pending",
        "outcome=revoked",
        "outcome=open",
        "outcome=",
        "",
    ] {
        let resp = post_form_to(&app, &format!("/{id}/test-outcome"), body).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{body:?}");
        assert_eq!(location(&resp), format!("/{id}"), "{body:?}");
    }
    assert_eq!(app.identification(&id).await["status"], "0");
    assert_eq!(app.history(&id).await.len(), 1);
}

#[tokio::test]
async fn text_from_the_integrator_is_escaped() {
    let app = spawn_app().await;
    let org = app
        .store
        .create_organisation("Shop <script>alert(1)</script> & Co")
        .await
        .unwrap();
    let key = app.store.create_api_key(&org.id, Mode::Test).await.unwrap();
    let credential: proofme::domain::Credential = "EPASS:OLDER_THAN_18".parse().unwrap();
    let proofme = app
        .store
        .create_proofme(
            &org.id,
            "Age",
            proofme::domain::Purpose::AgeVerification,
            &[credential],
        )
        .await
        .unwrap();
    let description = "Order \"<img src=x onerror=alert(2)>";
    let body = json!({
        "proofmeId": proofme.id.to_string(),
        "organisationId": org.id.to_string(),
        "redirectUrl": REDIRECT_URL,
        "description": description,
    });
    let created = created(app.post_json_with_key(&key.secret, &body).await).await;
    let id = created["id"].as_str().unwrap();

    let (_, html) = page(&app, id).await;

    assert!(!html.raw.contains("<script>alert"), "unescaped script");
    assert!(!html.raw.contains("<img"), "unescaped img");
    let text = html.text();
    assert!(text.contains(description), "{text}");
    assert!(
        text.contains("Shop <script>alert(1)</script> & Co would like to verify you"),
        "{text}"
    );
    assert!(
        html.elements("script")
            .iter()
            .all(|s| s.attr("src").is_some())
    );
}

// --- final pages -----------------------------------------------------------

#[tokio::test]
async fn the_final_page_links_back_to_the_organisation_without_a_test_panel() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    app.set_outcome(&id, "verified").await;

    let (_, html) = page(&app, &id).await;

    let back = html
        .elements("a")
        .into_iter()
        .find(|a| a.text == format!("Return to {}", app.org_name))
        .unwrap_or_else(|| panic!("no Return link: {}", html.text()));
    assert_eq!(back.attr("href"), Some(REDIRECT_URL));
    assert!(outcome_buttons(&html).is_empty());
    assert!(
        html.find("form", "action", &format!("/{id}/test-outcome"))
            .is_none()
    );
    assert!(
        html.find("form", "action", &format!("/{id}/cancel"))
            .is_none()
    );
    assert!(
        html.text().contains("Verification complete"),
        "{}",
        html.text()
    );
}

#[tokio::test]
async fn an_expired_identification_says_it_has_expired() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    app.set_outcome(&id, "expired").await;

    let (_, html) = page(&app, &id).await;

    let text = html.text();
    assert!(text.contains("This identification has expired."), "{text}");
    assert!(!has_qr_code(&html), "a QR code on an expired page");
}

#[tokio::test]
async fn a_revoked_identification_says_it_was_withdrawn() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    let resp = app.delete(&format!("/v1/identification/{id}")).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let (_, html) = page(&app, &id).await;

    let text = html.text();
    assert!(
        text.contains(&format!(
            "{} has withdrawn this identification.",
            app.org_name
        )),
        "{text}"
    );
    assert!(!has_qr_code(&html), "a QR code on a revoked page");
}

// --- status events ---------------------------------------------------------

fn status_data(ev: &SseEvent) -> Value {
    assert_eq!(ev.event.as_deref(), Some("status"), "{ev:?}");
    serde_json::from_str(&ev.data).unwrap_or_else(|e| panic!("{e}: {:?}", ev.data))
}

#[tokio::test]
async fn the_event_stream_starts_with_the_current_status() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let resp = app
        .client
        .get(app.url(&format!("/{id}/events")))
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), StatusCode::OK);
    assert!(content_type(&resp).starts_with("text/event-stream"));
    let mut events = EventStream::new(resp);
    let first = events.next(DEADLINE).await.expect("an event");
    let data = status_data(&first);
    assert_eq!(data["statusName"], "open");
    assert_eq!(data["status"], "0");
    assert_eq!(data["final"], false);
}

#[tokio::test]
async fn the_event_stream_delivers_changes_then_the_final_status_and_ends() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    let resp = app
        .client
        .get(app.url(&format!("/{id}/events")))
        .send()
        .await
        .unwrap();
    let mut events = EventStream::new(resp);
    let first = events.next(DEADLINE).await.expect("first");
    assert_eq!(status_data(&first)["statusName"], "open");

    app.set_outcome(&id, "pending").await;
    let pending = events.next(DEADLINE).await.expect("pending");
    app.set_outcome(&id, "verified").await;
    let last = events.next(DEADLINE).await.expect("final");
    let end = events.next(DEADLINE).await;

    let pending = status_data(&pending);
    assert_eq!(pending["statusName"], "pending");
    assert_eq!(pending["final"], false);
    let last = status_data(&last);
    assert_eq!(last["statusName"], "verified");
    assert_eq!(last["final"], true);
    assert_eq!(last["redirectUrl"], REDIRECT_URL);
    assert_eq!(end, None, "the stream goes on after the final status");
}

#[tokio::test]
async fn the_event_stream_of_an_unknown_id_is_404() {
    let app = spawn_app().await;

    let resp = app
        .client
        .get(app.url("/id_0000000000000000000000/events"))
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

// --- static files and size -------------------------------------------------

async fn fetch_asset(app: &TestApp, path: &str, content_type_prefix: &str) -> usize {
    let resp = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    let ct = content_type(&resp);
    assert!(ct.starts_with(content_type_prefix), "{path}: {ct}");
    let cache = resp
        .headers()
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let max_age: u64 = cache
        .split(',')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{path}: no max-age in {cache:?}"));
    assert!(max_age >= 30 * 24 * 3600, "{path}: short cache {cache:?}");
    resp.bytes().await.unwrap().len()
}

#[tokio::test]
async fn the_stylesheet_and_script_are_served_with_a_long_cache() {
    let app = spawn_app().await;

    let css = fetch_asset(&app, "/style/mypage.css", "text/css").await;
    let js = fetch_asset(&app, "/public/mypage.js", "text/javascript").await;

    assert!(css > 0 && js > 0);
}

#[tokio::test]
async fn the_whole_page_is_under_50_kb() {
    let app = spawn_app().await;
    let id = create(&app, json!({ "description": "x".repeat(255) })).await;
    let (_, html) = page(&app, &id).await;

    let mut total = html.raw.len();
    let css = html
        .find("link", "rel", "stylesheet")
        .and_then(|l| l.attr("href").map(str::to_owned))
        .expect("stylesheet");
    total += fetch_asset(&app, &css, "text/css").await;
    for script in html.elements("script") {
        let src = script.attr("src").expect("script src");
        total += fetch_asset(&app, src, "text/javascript").await;
    }
    if let Some(icon) = html
        .find("link", "rel", "icon")
        .and_then(|l| l.attr("href").map(str::to_owned))
    {
        total += fetch_asset(&app, &icon, "image/svg+xml").await;
    }

    assert!(total < 50 * 1024, "{total} bytes");
}

#[tokio::test]
async fn files_from_the_working_directory_are_never_served() {
    let app = spawn_app().await;

    for path in [
        "/Cargo.toml",
        "/proofme.db",
        "/proofme.db-wal",
        "/src/lib.rs",
        "/style/",
        "/public/",
        "/public/../Cargo.toml",
        "/style/mypage.css/../../Cargo.toml",
    ] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        let body = resp.text().await.unwrap();
        assert!(!body.contains("[package]"), "{path} served Cargo.toml");
        assert!(!body.contains("SQLite format"), "{path} served a database");
    }
}

/// Holds off every write to identifications until dropped, so the expiry
/// sweep cannot record anything while readers carry on: SQLite's write lock
/// (readers go on under WAL), or on PostgreSQL a table lock that lets plain
/// reads through.
enum WriteLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriteLock {
    async fn take(database_url: &str) -> WriteLock {
        use sqlx::Connection;
        if on_postgres() {
            let mut conn = sqlx::PgConnection::connect(database_url)
                .await
                .expect("open the database");
            sqlx::query("BEGIN")
                .execute(&mut conn)
                .await
                .expect("begin");
            sqlx::query("LOCK TABLE identifications IN EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .expect("take the write lock");
            return WriteLock::Postgres(conn);
        }
        let mut conn = sqlx::SqliteConnection::connect(database_url)
            .await
            .expect("open the database");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .expect("take the write lock");
        WriteLock::Sqlite(conn)
    }

    async fn release(self) {
        let done = match self {
            WriteLock::Sqlite(mut c) => sqlx::query("ROLLBACK").execute(&mut c).await.map(drop),
            WriteLock::Postgres(mut c) => sqlx::query("ROLLBACK").execute(&mut c).await.map(drop),
        };
        done.expect("release the write lock");
    }
}

#[tokio::test]
async fn an_overdue_identification_reads_expired_on_mypage_before_the_sweep_records_it() {
    // DESIGN §2: "An identification past expiresAt reads as expired at once".
    let ttl = Duration::from_secs(60);
    let app = spawn_app_with(|c| c.identification_ttl = ttl).await;
    let id = create(&app, json!({})).await;
    let lock = WriteLock::take(&app.database_url).await;

    app.clock.advance(ttl + Duration::from_secs(1));
    let api_status = app.identification(&id).await["statusName"].clone();
    let (_, html) = page(&app, &id).await;
    let resp = app
        .client
        .get(app.url(&format!("/{id}/events")))
        .send()
        .await
        .unwrap();
    let first = EventStream::new(resp)
        .next(DEADLINE)
        .await
        .expect("an event");
    lock.release().await;

    assert_eq!(api_status, "expired", "the API reads it as expired");
    let text = html.text();
    assert!(
        text.contains("This identification has expired."),
        "MyPage still offers an overdue identification: {text}"
    );
    assert!(
        outcome_buttons(&html).is_empty(),
        "test panel on an expired page"
    );
    assert_eq!(status_data(&first)["statusName"], "expired");
}

// --- form size -------------------------------------------------------------

/// A form body of `size` bytes that would be a valid outcome if it were small.
fn padded_outcome(size: usize) -> String {
    let head = "outcome=verified&pad=";
    format!("{head}{}", "x".repeat(size - head.len()))
}

#[tokio::test]
async fn a_form_post_over_16_kib_is_a_localized_413_page_and_changes_nothing() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    let mut answers = Vec::new();
    for path in [format!("/{id}/test-outcome"), format!("/{id}/cancel")] {
        let resp = app
            .client
            .post(app.url(&path))
            .header(CONTENT_TYPE, FORM)
            .header(ACCEPT_LANGUAGE, "nl-NL")
            .body(padded_outcome(16 * 1024 + 1))
            .send()
            .await
            .expect("POST");
        answers.push(resp);
    }

    for resp in answers {
        assert!(content_type(&resp).starts_with("text/html"), "{resp:?}");
        let (_, html) = read_page(resp, 413).await;
        assert!(html.text().contains("Verzoek te groot"), "{}", html.text());
        assert_eq!(html.lang().as_deref(), Some("nl-NL"));
    }
    assert_eq!(app.identification(&id).await["status"], "0");
    assert_eq!(app.history(&id).await.len(), 1, "nothing changed");
}

#[tokio::test]
async fn a_chunked_form_post_over_16_kib_is_413_and_changes_nothing() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    let body = padded_outcome(20_000);
    let request = format!(
        "POST /{id}/cancel HTTP/1.1\r\nHost: proofme\r\nContent-Type: {FORM}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );

    let answer = raw_exchange(&app.address, request.as_bytes()).await;

    assert_eq!(raw_status(&answer), 413, "{answer}");
    assert_eq!(app.identification(&id).await["status"], "0");
}

#[tokio::test]
async fn a_form_post_of_16_kib_is_still_read() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let resp = post_form_to(
        &app,
        &format!("/{id}/test-outcome"),
        &padded_outcome(16 * 1024),
    )
    .await;

    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.identification(&id).await["status"], "2");
}

// --- the way to the wallet, pending, cancel, language, final ---------------

/// The elements of one kind with this class among their classes.
fn with_class(html: &Html, name: &str, class: &str) -> Vec<Element> {
    html.elements(name)
        .into_iter()
        .filter(|e| {
            e.attr("class")
                .is_some_and(|c| c.split_whitespace().any(|c| c == class))
        })
        .collect()
}

/// The text of the first element named `name` with `attr` = `value`.
fn text_of(html: &Html, name: &str, attr: &str, value: &str) -> String {
    html.find(name, attr, value)
        .unwrap_or_else(|| panic!("no <{name} {attr}={value:?}>: {}", html.raw))
        .text
}

async fn status_name(app: &TestApp, id: &str) -> String {
    app.identification(id).await["statusName"]
        .as_str()
        .expect("statusName")
        .to_owned()
}

#[tokio::test]
async fn the_open_page_offers_the_wallet_button_a_qr_code_behind_a_disclosure_and_help() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let (_, html) = page(&app, &id).await;

    let wallet_links: Vec<String> = html
        .elements("a")
        .into_iter()
        .filter(|a| {
            a.attr("href")
                .is_some_and(|h| h.starts_with("openid4vp://"))
        })
        .map(|a| a.text)
        .collect();
    // The way back into the wallet (hidden until a wallet connects), the
    // phone's button and the desktop's quiet link.
    assert_eq!(
        wallet_links,
        [
            "Wallet app closed? Open it again",
            "Open wallet app",
            "Wallet on this computer? Open it",
        ]
    );
    let qr_disclosure = with_class(&html, "details", "qr-details");
    assert_eq!(qr_disclosure.len(), 1);
    assert!(
        qr_disclosure[0]
            .text
            .starts_with("Use another device? Show QR code"),
        "{}",
        qr_disclosure[0].text
    );
    assert!(
        qr_disclosure[0].attr("open").is_none(),
        "a phone sees the button first: the QR code starts closed"
    );
    assert!(html.raw.contains("class=\"qr\""));
    let help = with_class(&html, "details", "help");
    assert_eq!(help.len(), 1);
    assert!(
        help[0].text.starts_with("Don't have a wallet app?"),
        "{}",
        help[0].text
    );
    assert!(help[0].text.contains("EU Digital Identity Wallet"));
}

#[tokio::test]
async fn the_open_page_carries_the_device_wallet_button_hidden_for_the_script() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    let dutch = create(&app, json!({ "locale": "nl_NL" })).await;

    let (_, html) = page(&app, &id).await;
    let (_, nl) = page(&app, &dutch).await;

    let buttons = with_class(&html, "button", "device-wallet-button");
    assert_eq!(buttons.len(), 1);
    let button = &buttons[0];
    // Its accessible name is its text; without the script (or without the
    // browser's API) it stays hidden and the page offers what it did before.
    assert_eq!(button.text, "Use a wallet on this device");
    assert!(button.attr("hidden").is_some(), "rendered hidden");
    assert_eq!(button.attr("type"), Some("button"), "never submits a form");
    assert_eq!(
        button.attr("data-dc-api"),
        Some(format!("/{id}/dc-api").as_str())
    );
    assert!(
        button
            .attr("data-msg-closed")
            .is_some_and(|m| !m.is_empty())
    );
    assert!(
        button
            .attr("data-msg-failed")
            .is_some_and(|m| !m.is_empty())
    );
    let live = html
        .find("p", "id", "device-wallet-message")
        .expect("a live region for its messages");
    assert_eq!(live.attr("aria-live"), Some("polite"));
    assert_eq!(
        live.attr("role"),
        None,
        "the page has one status: the identification's"
    );
    assert_eq!(live.text, "");
    // On a phone it comes first, before the wallet link.
    let wallet = html.find("section", "id", "wallet").expect("wallet panel");
    assert!(
        wallet
            .text
            .starts_with("Share with your wallet app Use a wallet on this device Open wallet app"),
        "{}",
        wallet.text
    );
    assert_eq!(
        with_class(&nl, "button", "device-wallet-button")[0].text,
        "Gebruik een wallet op dit apparaat"
    );
}

#[tokio::test]
async fn the_wallet_help_is_configurable_per_language() {
    let app = spawn_app_with(|c| {
        c.wallet_help = proofme::config::WalletHelp {
            en: Some("Use the Demo Wallet from demo.example.".into()),
            nl: Some("Gebruik de Demo Wallet.".into()),
        }
    })
    .await;
    let en = create(&app, json!({ "locale": "en_US" })).await;
    let nl = create(&app, json!({ "locale": "nl_NL" })).await;

    let (_, en) = page(&app, &en).await;
    let (_, nl) = page(&app, &nl).await;

    assert_eq!(
        with_class(&en, "details", "help")[0].text,
        "Don't have a wallet app? Use the Demo Wallet from demo.example."
    );
    assert_eq!(
        with_class(&nl, "details", "help")[0].text,
        "Geen wallet-app? Gebruik de Demo Wallet."
    );
}

#[tokio::test]
async fn the_default_wallet_help_speaks_dutch_on_a_dutch_page() {
    let app = spawn_app().await;
    let id = create(&app, json!({ "locale": "nl_BE" })).await;

    let (_, html) = page(&app, &id).await;

    let help = &with_class(&html, "details", "help")[0].text;
    assert!(help.starts_with("Geen wallet-app?"), "{help}");
    assert!(
        help.contains("wallet-app met je digitale identiteit"),
        "{help}"
    );
}

#[tokio::test]
async fn a_test_identification_is_marked_in_the_page_header() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let (_, html) = page(&app, &id).await;

    let header = &html.elements("header")[0];
    assert!(header.text.contains("Test mode"), "{}", header.text);
    assert_eq!(text_of(&html, "p", "role", "note"), "Test mode");
}

#[tokio::test]
async fn the_open_page_carries_the_pending_view_hidden_for_the_script() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let (_, html) = page(&app, &id).await;

    let heading = html
        .find("h2", "id", "pending-heading")
        .expect("the pending heading");
    assert_eq!(heading.text, "Continue in your wallet app");
    assert!(heading.attr("hidden").is_some(), "shown while open");
    let main = &html.elements("main")[0];
    assert_eq!(main.attr("data-status"), Some("open"));
    assert_eq!(
        text_of(&html, "p", "id", "status-text"),
        "Waiting for you to share with your wallet app."
    );
}

#[tokio::test]
async fn once_a_wallet_fetched_the_request_the_page_says_continue_in_the_wallet_without_a_qr_code()
{
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    // What a wallet does after scanning: fetch the request.
    let request = app
        .client
        .get(format!("{}/oid4vp/request/{id}", app.config.public_url))
        .send()
        .await
        .unwrap();
    assert_eq!(request.status(), StatusCode::OK);
    assert_eq!(status_name(&app, &id).await, "pending");

    let (_, html) = page(&app, &id).await;

    let heading = html
        .find("h2", "id", "pending-heading")
        .expect("the pending heading");
    assert_eq!(heading.text, "Continue in your wallet app");
    assert!(heading.attr("hidden").is_none(), "hidden while pending");
    let steps = with_class(&html, "ol", "steps");
    assert_eq!(steps.len(), 1);
    assert!(steps[0].attr("hidden").is_none());
    let current = html
        .find("li", "aria-current", "step")
        .expect("the current step");
    assert_eq!(current.text, "Confirm in your wallet");
    assert!(
        text_of(&html, "p", "id", "status-text").contains("Your wallet is connected."),
        "{}",
        html.text()
    );
    assert!(
        !has_qr_code(&html),
        "a second scan would replace the request"
    );
    assert!(html.find("section", "id", "wallet").is_none());
    // The customer can still finish or stop.
    assert_eq!(outcome_buttons(&html).len(), 4);
    assert!(html.find("a", "href", &format!("/{id}/cancel")).is_some());
}

#[tokio::test]
async fn the_open_page_offers_cancel_as_a_link_to_a_confirmation_not_a_form() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;

    let (_, html) = page(&app, &id).await;

    let cancel = html
        .find("a", "href", &format!("/{id}/cancel"))
        .expect("a Cancel link");
    assert_eq!(cancel.text, "Cancel");
    assert!(
        html.find("form", "action", &format!("/{id}/cancel"))
            .is_none(),
        "one tap on the open page must not end the identification"
    );
}

#[tokio::test]
async fn the_cancel_confirmation_asks_first_and_changes_nothing() {
    let app = spawn_app().await;
    let id = create(&app, json!({ "description": "Order 777" })).await;

    let (headers, html) = get_page(&app.client, &app.url(&format!("/{id}/cancel")), 200).await;

    assert_eq!(status_name(&app, &id).await, "open");
    assert_eq!(app.history(&id).await.len(), 1, "nothing changed");
    assert_eq!(html.elements("h1")[0].text, "Cancel this identification?");
    assert!(html.text().contains("Order 777"), "{}", html.text());
    let form = html
        .find("form", "action", &format!("/{id}/cancel"))
        .expect("the confirming form");
    assert_eq!(form.attr("method"), Some("post"));
    assert_eq!(form.text, "Yes, cancel");
    let keep = html
        .find("a", "href", &format!("/{id}"))
        .expect("a way back to the page");
    assert_eq!(keep.text, "Keep going");
    // The same headers as every page: the URL is the secret.
    assert_eq!(
        headers.get("referrer-policy").and_then(|v| v.to_str().ok()),
        Some("no-referrer")
    );
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        csp.contains("form-action 'self' https://your-application.example.org"),
        "{csp}"
    );

    // Only the confirmation ends it.
    let resp = post_form_to(&app, &format!("/{id}/cancel"), "").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), REDIRECT_URL);
    assert_eq!(status_name(&app, &id).await, "canceled");
}

#[tokio::test]
async fn the_cancel_confirmation_of_a_finished_identification_shows_its_page() {
    let app = spawn_app().await;
    let id = create(&app, json!({})).await;
    app.set_outcome(&id, "verified").await;

    let resp = app
        .client
        .get(app.url(&format!("/{id}/cancel?setlang=nl")))
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), format!("/{id}?setlang=nl-NL"));
    assert_eq!(status_name(&app, &id).await, "verified");
}

#[tokio::test]
async fn the_cancel_confirmation_of_an_unknown_id_is_a_404_page() {
    let app = spawn_app().await;

    let (_, html) = get_page(
        &app.client,
        &app.url("/id_0000000000000000000000/cancel"),
        404,
    )
    .await;

    assert!(html.text().contains("Page not found"));
}

/// The language switch: (href, text, aria-current) of each link.
fn language_links(html: &Html) -> Vec<(String, String, Option<String>)> {
    let nav = html
        .find("nav", "class", "languages")
        .unwrap_or_else(|| panic!("no language switch: {}", html.raw));
    assert!(nav.attr("aria-label").is_some());
    html.elements("a")
        .into_iter()
        .filter(|a| a.attr("hreflang").is_some())
        .map(|a| {
            (
                a.attr("href").unwrap_or("").to_owned(),
                a.text.clone(),
                a.attr("aria-current").map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_page_has_a_language_switch() {
    let app = spawn_app().await;
    let open = create(&app, json!({})).await;
    let pending = create(&app, json!({})).await;
    app.set_outcome(&pending, "pending").await;
    let failed = create(&app, json!({})).await;
    app.set_outcome(&failed, "failed").await;

    let mut pages = Vec::new();
    for (path, status) in [
        (format!("/{open}"), 200),
        (format!("/{pending}"), 200),
        (format!("/{open}/cancel"), 200),
        (format!("/{failed}"), 200),
        ("/id_0000000000000000000000".to_owned(), 404),
        ("/no/such/page".to_owned(), 404),
    ] {
        pages.push((
            path.clone(),
            get_page(&app.client, &app.url(&path), status).await.1,
        ));
    }

    for (path, html) in pages {
        assert_eq!(
            language_links(&html),
            [
                (
                    "?setlang=en".to_owned(),
                    "English".to_owned(),
                    Some("true".to_owned())
                ),
                ("?setlang=nl".to_owned(), "Nederlands".to_owned(), None),
            ],
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_switch_wins_over_the_locale_and_links_keep_the_choice() {
    let app = spawn_app().await;
    let id = create(&app, json!({ "locale": "en_GB" })).await;

    let (_, html) = get_page(&app.client, &app.url(&format!("/{id}?setlang=nl")), 200).await;

    assert_eq!(html.lang().as_deref(), Some("nl-NL"));
    assert!(html.text().contains("Wat je deelt"));
    assert_eq!(language_links(&html)[1].2.as_deref(), Some("true"));
    assert_eq!(
        text_of(&html, "a", "class", "check-status"),
        "Status controleren"
    );
    assert!(
        html.find("a", "href", &format!("/{id}?setlang=nl-NL"))
            .is_some(),
        "Check status forgets the choice"
    );
    assert!(
        html.find("a", "href", &format!("/{id}/cancel?setlang=nl-NL"))
            .is_some()
    );
    assert!(
        html.find(
            "form",
            "action",
            &format!("/{id}/test-outcome?setlang=nl-NL")
        )
        .is_some()
    );
}

#[tokio::test]
async fn switching_back_to_english_keeps_british_english() {
    let app = spawn_app().await;
    let id = create(&app, json!({ "locale": "en_GB" })).await;

    let (_, html) = get_page(&app.client, &app.url(&format!("/{id}?setlang=en")), 200).await;

    assert_eq!(html.lang().as_deref(), Some("en-GB"));
}

#[tokio::test]
async fn the_404_page_switches_language_too() {
    let app = spawn_app().await;

    let (_, html) = get_page(
        &app.client,
        &app.url("/id_0000000000000000000000?setlang=nl"),
        404,
    )
    .await;

    assert_eq!(html.lang().as_deref(), Some("nl-NL"));
    assert!(html.text().contains("Pagina niet gevonden"));
    assert!(html.text().contains("Deze identificatielink werkt niet."));
}

#[tokio::test]
async fn the_404_page_has_a_footer_and_a_way_back() {
    let app = spawn_app().await;

    let (_, html) = get_page(&app.client, &app.url("/id_0000000000000000000000"), 404).await;

    let footer = &html.elements("footer")[0];
    assert!(footer.text.contains("Proofme"), "{}", footer.text);
    assert!(!footer.text.contains("consent"), "{}", footer.text);
    // Shown by the script where the browser has a page to go back to.
    let back = html
        .find("button", "data-back", "")
        .expect("a Go back button");
    assert_eq!(back.text, "Go back");
    assert!(back.attr("hidden").is_some());
    let scripts: Vec<_> = html
        .elements("script")
        .into_iter()
        .filter_map(|s| s.attr("src").map(str::to_owned))
        .collect();
    assert_eq!(scripts.len(), 1, "{scripts:?}");
}

#[tokio::test]
async fn british_english_spells_cancelled_and_american_english_canceled() {
    let app = spawn_app().await;
    let gb = create(&app, json!({ "locale": "en_GB" })).await;
    let us = create(&app, json!({ "locale": "en_US" })).await;

    let (_, gb_open) = page(&app, &gb).await;
    let (_, us_open) = page(&app, &us).await;
    app.set_outcome(&gb, "canceled").await;
    let (_, gb_final) = page(&app, &gb).await;

    assert_eq!(outcome_buttons(&gb_open)[2].1, "Cancelled");
    assert_eq!(outcome_buttons(&us_open)[2].1, "Canceled");
    assert_eq!(gb_final.elements("h1")[0].text, "Identification cancelled");
}

#[tokio::test]
async fn final_pages_show_the_reference_and_what_to_do_next() {
    let app = spawn_app().await;
    for (status, next) in [
        (
            "failed",
            Some("To try again, ask Test Shop for a new link."),
        ),
        (
            "canceled",
            Some("Changed your mind again? Ask Test Shop for a new link."),
        ),
        (
            "expired",
            Some("To verify now, ask Test Shop for a new link."),
        ),
        (
            "revoked",
            Some("If you still need to verify, ask Test Shop for a new link."),
        ),
        ("verified", None),
    ] {
        let id = create(
            &app,
            json!({ "description": "Order 4711", "locale": "en_US" }),
        )
        .await;
        if status == "revoked" {
            let resp = app.delete(&format!("/v1/identification/{id}")).await;
            assert_eq!(resp.status(), StatusCode::OK);
        } else {
            app.set_outcome(&id, status).await;
        }

        let (_, html) = page(&app, &id).await;

        let reference = with_class(&html, "p", "reference");
        assert_eq!(reference.len(), 1, "{status}");
        assert_eq!(reference[0].text, "Reference Order 4711", "{status}");
        let steps: Vec<String> = with_class(&html, "p", "next-step")
            .into_iter()
            .map(|p| p.text)
            .collect();
        assert_eq!(steps, next.into_iter().collect::<Vec<_>>(), "{status}");
        let icon = with_class(&html, "span", "icon");
        assert_eq!(icon.len(), 1, "{status}");
        assert_eq!(icon[0].attr("aria-hidden"), Some("true"));
    }
}

/// Answers a fresh English identification through the wallet command with
/// `options` (its link filled in), checks that the verifier refuses the
/// answer with `failure_reason`, and returns the reason MyPage then gives.
async fn reason_after_refused_answer(
    options: proofme::wallet::PresentOptions,
    failure_reason: &str,
) -> String {
    let app = spawn_app().await;
    let created = app
        .create_identification(json!({ "locale": "en_US" }))
        .await;
    let id = created["id"].as_str().unwrap();

    let outcome = proofme::wallet::present(&proofme::wallet::PresentOptions {
        link: created["myPageUrl"].as_str().unwrap().to_owned(),
        ..options
    })
    .await
    .expect("the wallet answered");
    // The verifier takes the answer, failing the identification, and sends
    // the wallet on.
    assert_eq!(outcome.status, 200);
    assert!(outcome.body["redirect_uri"].is_string(), "{}", outcome.body);
    assert_eq!(
        app.identification(id).await["failureReason"],
        failure_reason
    );

    let (_, html) = page(&app, id).await;
    with_class(&html, "p", "reason")[0].text.clone()
}

#[tokio::test]
async fn a_failed_wallet_answer_says_why() {
    let options = proofme::wallet::PresentOptions {
        claims: vec!["age_equal_or_over.18=false".into()],
        ..Default::default()
    };
    assert_eq!(
        reason_after_refused_answer(options, "age_requirement_not_met").await,
        "Your wallet did not share everything Test Shop asked for."
    );
}

#[tokio::test]
async fn a_revoked_credential_is_named_as_such() {
    let options = proofme::wallet::PresentOptions {
        credential_status: Some(proofme::domain::CredentialStatus::Invalid),
        ..Default::default()
    };
    assert_eq!(
        reason_after_refused_answer(options, "revoked_credential").await,
        "The ID in your wallet has been withdrawn or suspended by its issuer."
    );
}
