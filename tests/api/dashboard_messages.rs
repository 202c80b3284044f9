//! How the dashboard tells what happened: errors apart from successes, a
//! refused form back as it was typed with the reason beside the field, and
//! a secret shown with truthful words and a "Copy" button for the script.

use reqwest::StatusCode;

use crate::browser::Page;
use crate::helpers::*;

const NEW: &str = "/dashboard/proofmes/new";
const SAVE: &str = "/dashboard/act/save-proofme";

/// The value of attribute `attr` of the first element `selector` matches.
fn attr(page: &Page, selector: &str, attr: &str) -> Option<String> {
    let sel = scraper::Selector::parse(selector).expect("selector");
    page.doc()
        .select(&sel)
        .next()
        .and_then(|e| e.value().attr(attr).map(str::to_owned))
}

fn has(page: &Page, selector: &str) -> bool {
    let sel = scraper::Selector::parse(selector).expect("selector");
    page.doc().select(&sel).next().is_some()
}

#[tokio::test]
async fn a_refused_new_proofme_comes_back_as_typed_with_the_reason_beside_the_field() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get(NEW).await;

    let answer = browser
        .post(
            SAVE,
            &[
                ("name", "Kept as typed"),
                ("purpose", "NOT_A_PURPOSE"),
                ("ask_EMAIL", "yes"),
                ("need_EMAIL", "optional"),
                ("ask_FIRST_NAME", "yes"),
                ("need_FIRST_NAME", "required"),
            ],
        )
        .await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    assert_eq!(answer.location().as_deref(), Some(NEW));
    assert!(!answer.location().unwrap_or_default().contains("Kept"));
    let page = browser.get(NEW).await;
    assert_eq!(
        attr(&page, "input#name", "value").as_deref(),
        Some("Kept as typed")
    );
    assert!(has(&page, "input#ask_EMAIL[checked]"));
    assert!(has(&page, "input#ask_FIRST_NAME[checked]"));
    assert!(!has(&page, "input#ask_PHOTO[checked]"));
    assert!(has(
        &page,
        r#"select#need_EMAIL option[value="optional"][selected]"#
    ));
    assert!(has(
        &page,
        r#"select#need_FIRST_NAME option[value="required"][selected]"#
    ));
    // The reason, beside the purpose, which is marked and focused.
    assert_eq!(
        page.texts("#purpose-error[role=alert]"),
        ["Choose one of the purposes."]
    );
    assert_eq!(
        attr(&page, "select#purpose", "aria-describedby").as_deref(),
        Some("purpose-error")
    );
    assert_eq!(
        attr(&page, "select#purpose", "aria-invalid").as_deref(),
        Some("true")
    );
    assert!(has(&page, "select#purpose[autofocus]"));
    assert!(!has(&page, "input#name[aria-invalid]"));
    assert_eq!(page.texts("[role=alert]").len(), 1, "{}", page.text());
    assert_eq!(app.store.list_proofmes(&org(&app)).await.unwrap().len(), 1);

    // Said once: the next visit is an empty form.
    let again = browser.get(NEW).await;
    assert_eq!(attr(&again, "input#name", "value").as_deref(), Some(""));
    assert!(again.texts("[role=alert]").is_empty());
}

fn org(app: &TestApp) -> proofme::domain::OrganisationId {
    proofme::domain::OrganisationId::parse(&app.org_id).expect("org id")
}

#[tokio::test]
async fn asking_for_nothing_is_told_at_the_credentials_and_the_name_is_kept() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get(NEW).await;

    browser
        .post(
            SAVE,
            &[("name", "Nothing asked"), ("purpose", "KYC_VERIFICATION")],
        )
        .await;
    let page = browser.get(NEW).await;

    assert_eq!(
        attr(&page, "input#name", "value").as_deref(),
        Some("Nothing asked")
    );
    assert!(has(
        &page,
        r#"select#purpose option[value="KYC_VERIFICATION"][selected]"#
    ));
    assert_eq!(
        page.texts("fieldset#credentials #credentials-error[role=alert]"),
        ["Ask for at least one credential."]
    );
    assert_eq!(
        attr(&page, "fieldset#credentials", "aria-describedby").as_deref(),
        Some("credentials-error")
    );
    assert!(has(&page, "input#ask_OLDER_THAN_18[autofocus]"));
}

#[tokio::test]
async fn a_refused_edit_comes_back_as_typed_not_as_stored() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let edit = format!("/dashboard/proofmes/{}", app.proofme_id);
    browser.get(&edit).await;
    let long = "x".repeat(101);

    browser
        .post(
            SAVE,
            &[
                ("id", &app.proofme_id),
                ("name", &long),
                ("purpose", "IDENTIFICATION"),
                ("ask_PHOTO", "yes"),
            ],
        )
        .await;
    let page = browser.get(&edit).await;

    assert_eq!(attr(&page, "input#name", "value"), Some(long));
    assert_eq!(
        page.texts("#name-error[role=alert]"),
        ["The name can be at most 100 characters."]
    );
    assert!(has(&page, "input#name[autofocus]"));
    assert!(has(&page, "input#ask_PHOTO[checked]"));
    assert_eq!(
        attr(&page, "input[name=id]", "value"),
        Some(app.proofme_id.clone())
    );
    // Another proofme's page does not take this form's values.
    let new = browser.get(NEW).await;
    assert!(new.texts("[role=alert]").is_empty());
}

#[tokio::test]
async fn what_was_done_and_why_nothing_was_done_are_told_apart() {
    let app = spawn_app().await;
    let id = app.create_with_description("Told apart").await;
    let mut browser = app.signed_in().await;
    let question = browser
        .get(&format!("/dashboard/identifications/{id}/revoke"))
        .await;

    browser.submit(&question, "Yes, revoke it").await;
    let done = browser
        .get(&format!("/dashboard/identifications/{id}"))
        .await;
    // Revoking again, from the question as it was, is refused.
    browser.submit(&question, "Yes, revoke it").await;
    let refused = browser
        .get(&format!("/dashboard/identifications/{id}"))
        .await;

    assert_eq!(
        done.texts("main > p.flash[role=status]"),
        ["The identification is revoked."]
    );
    assert!(done.texts(".alert, [role=alert]").is_empty());
    assert_eq!(
        refused.texts("main > p.alert[role=alert]"),
        ["The identification is revoked and cannot be revoked."]
    );
    assert!(refused.texts(".flash").is_empty());
}

#[tokio::test]
async fn a_new_key_has_a_copy_button_for_the_script_and_words_that_hold() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get("/dashboard/keys").await;

    browser
        .post("/dashboard/act/create-api-key", &[("mode", "test")])
        .await;
    let page = browser.get("/dashboard/keys").await;

    // Hidden until the script shows it; not a form button.
    assert!(has(&page, ".once button.copy[type=button][hidden]"));
    assert!(page.text().contains("no one can show it to you again"));
    // The script is ours, carries the page's nonce, and the policy allows
    // nothing else.
    let csp = page
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let src = attr(&page, "head script[src]", "src").expect("the dashboard's script");
    assert!(src.starts_with("/public/dashboard.js?v="), "{src}");
    let nonce = attr(&page, "head script[src]", "nonce").expect("a nonce");
    assert!(
        csp.contains(&format!("script-src 'nonce-{nonce}';")),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let script = app.client.get(app.url(&src)).send().await.expect("GET");
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(script.text().await.unwrap().contains("clipboard"));
}

#[tokio::test]
async fn the_webhook_secret_is_shown_with_words_that_hold() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get("/dashboard/webhooks").await;

    browser
        .post("/dashboard/act/reveal-webhook-secret", &[])
        .await;
    let page = browser.get("/dashboard/webhooks").await;

    assert_eq!(page.texts(".once h2"), ["Your webhook signing secret"]);
    let once = page.texts(".once").join(" ");
    assert!(!once.contains("only once"), "{once}");
    assert!(
        once.contains("shows it again whenever you need it"),
        "{once}"
    );
    assert!(has(&page, ".once button.copy[type=button][hidden]"));
    // What it says holds: revealing again shows the same secret.
    browser
        .post("/dashboard/act/reveal-webhook-secret", &[])
        .await;
    let again = browser.get("/dashboard/webhooks").await;
    assert_eq!(
        again.texts(".once code.secret"),
        page.texts(".once code.secret")
    );
}

#[tokio::test]
async fn a_refused_public_link_comes_back_as_typed_and_leaves_the_proofme_form_alone() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let edit = format!("/dashboard/proofmes/{}", app.proofme_id);
    let before = browser.get(&edit).await;
    let name = attr(&before, "input#name", "value");

    browser
        .post(
            "/dashboard/act/save-public-link",
            &[
                ("id", &app.proofme_id),
                ("redirect_url", "https://shop.example/back"),
                ("webhook_url", "ftp://shop.example/hook"),
                ("mode", "live"),
            ],
        )
        .await;
    let page = browser.get(&edit).await;

    assert_eq!(
        attr(&page, "input#redirect_url", "value").as_deref(),
        Some("https://shop.example/back")
    );
    assert_eq!(
        attr(&page, "input#webhook_url", "value").as_deref(),
        Some("ftp://shop.example/hook")
    );
    assert!(has(&page, r#"select#mode option[value="live"][selected]"#));
    let error = page.texts("#webhook_url-error[role=alert]");
    assert_eq!(error.len(), 1, "{}", page.text());
    assert!(
        error[0].starts_with("Nothing was saved: the webhook URL"),
        "{error:?}"
    );
    assert_eq!(
        attr(&page, "input#webhook_url", "aria-describedby").as_deref(),
        Some("webhook_url-error")
    );
    assert!(has(&page, "input#webhook_url[autofocus]"));
    assert!(!has(&page, "input#redirect_url[aria-invalid]"));
    // The proofme's own form on the same page shows the proofme as stored.
    assert_eq!(attr(&page, "input#name", "value"), name);
    assert!(!has(&page, "input#name[aria-invalid]"));
}

#[tokio::test]
async fn a_refused_test_webhook_url_comes_back_as_typed_beside_its_reason() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get("/dashboard/webhooks").await;

    browser
        .post("/dashboard/act/send-test-webhook", &[("url", "not a url")])
        .await;
    let page = browser.get("/dashboard/webhooks").await;

    assert_eq!(
        attr(&page, "input#url", "value").as_deref(),
        Some("not a url")
    );
    assert_eq!(
        page.texts("#url-error[role=alert]"),
        ["The webhook URL must be an absolute http or https URL."]
    );
    assert_eq!(
        attr(&page, "input#url", "aria-invalid").as_deref(),
        Some("true")
    );
    assert!(page.texts(".alert").is_empty(), "{}", page.text());
}
