//! The dashboard's webhooks page: the signing secret only ever shown once
//! after a post, rotation with two signatures during the overlap, and test
//! webhooks to a loopback receiver.

use proofme::domain::OrganisationId;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const WEBHOOKS: &str = "/dashboard/webhooks";

fn org(app: &TestApp) -> OrganisationId {
    OrganisationId::parse(&app.org_id).expect("organisation id")
}

async fn current_secret(app: &TestApp) -> String {
    app.store
        .get_organisation(&org(app))
        .await
        .expect("read")
        .expect("organisation")
        .webhook_secret
}

/// The request's headers with only `signature` as its `webhook-signature`.
fn with_signature(req: &Request, signature: &str) -> reqwest::header::HeaderMap {
    let mut headers = req.headers.clone();
    headers.insert(
        "webhook-signature",
        signature.parse().expect("a header value"),
    );
    headers
}

#[tokio::test]
async fn the_webhooks_page_does_not_show_the_secret_when_loaded() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;

    let page = browser.get(WEBHOOKS).await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains(&app.webhook_secret));
    assert!(!page.html.contains("whsec_"));
    let buttons = page.texts("button");
    for label in ["Reveal signing secret", "Send test webhook"] {
        assert!(buttons.contains(&label.to_owned()), "{buttons:?}");
    }
    // Rotating asks first: the page links to the question.
    assert_eq!(page.texts("a.button.danger-outline"), ["Rotate secret"]);
    assert_eq!(
        page.hrefs("a.button.danger-outline"),
        ["/dashboard/webhooks/rotate"]
    );
    assert!(page.texts("label").iter().any(|l| l == "Webhook URL"));
    assert!(page.text().contains("No test webhooks yet."));
}

#[tokio::test]
async fn reveal_shows_exactly_the_organisations_secret_once() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let mut browser = app.signed_in().await;
    browser.get(WEBHOOKS).await;

    let answer = browser
        .post("/dashboard/act/reveal-webhook-secret", &[])
        .await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    assert_eq!(answer.location().as_deref(), Some(WEBHOOKS));
    let page = browser.get(WEBHOOKS).await;
    assert_eq!(
        page.texts(".once code.secret"),
        [app.webhook_secret.as_str()]
    );
    assert!(!page.html.contains(&other.webhook_secret));
    let reload = browser.get(WEBHOOKS).await;
    assert!(!reload.html.contains(&app.webhook_secret), "shown twice");
    // Revealing changes nothing.
    assert_eq!(current_secret(&app).await, app.webhook_secret);
}

#[tokio::test]
async fn rotate_shows_the_new_secret_and_webhooks_then_carry_both_signatures() {
    let app = spawn_app_with(|c| c.allow_private_webhooks = true).await;
    let receiver = receiver().await;
    let old = app.webhook_secret.clone();
    let mut browser = app.signed_in().await;
    let question = browser.get("/dashboard/webhooks/rotate").await;

    let answer = browser.submit(&question, "Yes, rotate the secret").await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    let page = browser.get(WEBHOOKS).await;
    let shown = page.texts(".once code.secret");
    assert_eq!(shown.len(), 1, "{}", page.text());
    let new = shown[0].clone();
    assert!(new.starts_with("whsec_"), "{new}");
    assert_ne!(new, old);
    assert_eq!(current_secret(&app).await, new);
    assert!(
        page.text()
            .contains("the previous secret also signs webhooks until"),
        "{}",
        page.text()
    );
    assert!(!page.html.contains(&old), "the old secret is shown");

    let created = app
        .create_identification(json!({ "webhookUrl": format!("{}/hook", receiver.uri()) }))
        .await;
    let id = created["id"].as_str().expect("id");
    app.set_outcome(id, "pending").await;
    let received = wait_for_requests(&receiver, 1).await;

    let sigs: Vec<&str> = header(&received[0], "webhook-signature")
        .split(' ')
        .collect();
    assert_eq!(sigs.len(), 2, "{sigs:?}");
    assert!(sigs.iter().all(|s| s.starts_with("v1,")), "{sigs:?}");
    verify_webhook(
        &new,
        &received[0].body,
        &with_signature(&received[0], sigs[0]),
    )
    .expect("the first verifies with the new secret");
    verify_webhook(
        &old,
        &received[0].body,
        &with_signature(&received[0], sigs[1]),
    )
    .expect("the second verifies with the old secret");
    assert_signed(&received[0], &new);
    assert_signed(&received[0], &old);
}

#[tokio::test]
async fn a_test_webhook_reaches_a_loopback_receiver_signed_and_is_listed() {
    let app = spawn_app_with(|c| c.allow_private_webhooks = true).await;
    let receiver = receiver().await;
    let url = format!("{}/hook", receiver.uri());
    let mut browser = app.signed_in().await;
    browser.get(WEBHOOKS).await;

    let answer = browser
        .post("/dashboard/act/send-test-webhook", &[("url", &url)])
        .await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    let received = wait_for_requests(&receiver, 1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, br#"{"type":"test"}"#.to_vec());
    assert_signed(&received[0], &app.webhook_secret);
    let page = browser.get(WEBHOOKS).await;
    assert!(
        page.texts("[role=status]")
            .iter()
            .any(|m| m.contains("delivered: HTTP 200")),
        "{}",
        page.text()
    );
    assert_eq!(
        page.texts("[aria-label=\"Recent test webhooks\"] thead th"),
        ["When", "URL", "Result", "Took"]
    );
    let cells = page.texts("[aria-label=\"Recent test webhooks\"] tbody td");
    assert_eq!(cells.len(), 4, "{cells:?}");
    assert!(!cells[0].is_empty());
    assert_eq!(cells[1], url);
    assert_eq!(cells[2], "HTTP 200");
    assert!(cells[3].ends_with(" ms"), "{cells:?}");
}

#[tokio::test]
async fn a_test_webhook_to_a_bad_url_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get(WEBHOOKS).await;

    browser
        .post("/dashboard/act/send-test-webhook", &[("url", "not a url")])
        .await;

    let page = browser.get(WEBHOOKS).await;
    assert!(
        page.texts("[role=alert]")
            .iter()
            .any(|m| m == "The webhook URL must be an absolute http or https URL."),
        "{}",
        page.text()
    );
    let recent = app
        .store
        .recent_test_webhooks(&org(&app), 10)
        .await
        .expect("recent");
    assert!(recent.is_empty(), "{recent:?}");
}

#[tokio::test]
async fn without_the_csrf_token_nothing_is_revealed_rotated_or_sent() {
    let app = spawn_app_with(|c| c.allow_private_webhooks = true).await;
    let receiver = receiver().await;
    let url = format!("{}/hook", receiver.uri());
    let mut browser = app.signed_in().await;
    browser.get(WEBHOOKS).await;
    let origin = app.address.clone();

    let reveal = browser
        .post_with(
            "/dashboard/act/reveal-webhook-secret",
            &[],
            Some(&origin),
            None,
        )
        .await;
    let rotate = browser
        .post_with(
            "/dashboard/act/rotate-webhook-secret",
            &[],
            Some(&origin),
            None,
        )
        .await;
    let send = browser
        .post_with(
            "/dashboard/act/send-test-webhook",
            &[("url", &url)],
            Some(&origin),
            None,
        )
        .await;

    for answer in [&reveal, &rotate, &send] {
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert!(!answer.html.contains("whsec_"));
    }
    assert_eq!(current_secret(&app).await, app.webhook_secret);
    assert!(received_by(&receiver).await.is_empty());
    let page = browser.get(WEBHOOKS).await;
    assert!(!page.html.contains("whsec_"));
}
