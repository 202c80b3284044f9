//! What the dashboard's "API keys" and "Webhooks" pages rely on: key prefixes
//! and last use, keys listed and revoked per organisation, webhook secret
//! rotation with two signatures during the overlap, and test webhooks.

use crate::helpers::*;
use proofme::domain::{ApiKeyId, HttpUrl, Mode, OrganisationId, Timestamp};
use proofme::store::{
    ApiKeySummary, LAST_USED_RESOLUTION, SECRET_PREFIX_LEN, Store, TEST_WEBHOOKS_KEPT, TestWebhook,
};
use proofme::webhooks::deliver::Deliverer;
use proofme::webhooks::test_webhook::send_test_webhook;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

fn org(app: &TestApp) -> OrganisationId {
    OrganisationId::parse(&app.org_id).expect("organisation id")
}

async fn key_of(app: &TestApp, organisation: &OrganisationId, id: &str) -> ApiKeySummary {
    app.store
        .list_api_keys(organisation)
        .await
        .expect("list keys")
        .into_iter()
        .find(|k| k.id.as_str() == id)
        .unwrap_or_else(|| panic!("key {id} is not listed"))
}

/// The key's `last_used_at`, once it is set; panics after `DEADLINE`.
async fn wait_for_last_use(app: &TestApp, id: &str) -> Timestamp {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(at) = key_of(app, &org(app), id).await.last_used_at {
            return at;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "last use not recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// --- API keys --------------------------------------------------------------

#[tokio::test]
async fn a_new_keys_listed_prefix_is_the_first_12_characters_of_its_secret() {
    let app = spawn_app().await;

    let created = app
        .store
        .create_api_key(&org(&app), Mode::Live)
        .await
        .expect("key");

    let listed = key_of(&app, &org(&app), created.key.id.as_str()).await;
    assert_eq!(SECRET_PREFIX_LEN, 12);
    assert_eq!(listed.secret_prefix.as_deref(), Some(&created.secret[..12]));
    assert!(created.secret.starts_with("live_"));
    assert_eq!(listed.mode, Mode::Live);
    assert_eq!(listed.last_used_at, None);
    assert_eq!(listed.revoked_at, None);
}

#[tokio::test]
async fn keys_are_listed_newest_first_with_revoked_ones_marked() {
    let app = spawn_app().await;
    let second = app
        .store
        .create_api_key(&org(&app), Mode::Test)
        .await
        .expect("key");
    assert!(
        app.store
            .revoke_api_key_of(&org(&app), &second.key.id)
            .await
            .expect("revoke")
    );

    let listed = app.store.list_api_keys(&org(&app)).await.expect("list");

    let ids: Vec<&str> = listed.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{listed:?}");
    assert!(ids.contains(&app.api_key_id.as_str()));
    assert!(listed[0].created_at >= listed[1].created_at, "{listed:?}");
    let revoked = key_of(&app, &org(&app), second.key.id.as_str()).await;
    assert!(revoked.revoked_at.is_some());
}

#[tokio::test]
async fn last_use_is_recorded_after_a_request_and_not_written_again_within_a_minute() {
    let app = spawn_app().await;
    let id = ApiKeyId::parse(&app.api_key_id).expect("key id");

    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);
    let first = wait_for_last_use(&app, &app.api_key_id).await;
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);

    // The second request started no write: within the minute this process
    // does not write the key's last use again.
    assert!(
        !app.store.api_key_used(&id),
        "a second write within a minute"
    );
    assert_eq!(
        key_of(&app, &org(&app), &app.api_key_id).await.last_used_at,
        Some(first)
    );
    // And the database refuses a change within the minute, whichever
    // instance asks; a minute later it takes it.
    let soon = first.plus(LAST_USED_RESOLUTION - Duration::from_secs(1));
    let another_instance = Store::connect(&app.database_url).await.expect("connect");
    assert!(
        !another_instance
            .record_api_key_use(&id, soon)
            .await
            .expect("write")
    );
    assert!(
        !app.store
            .record_api_key_use(&id, soon)
            .await
            .expect("write")
    );
    let later = first.plus(LAST_USED_RESOLUTION);
    assert!(
        app.store
            .record_api_key_use(&id, later)
            .await
            .expect("write")
    );
    assert_eq!(
        key_of(&app, &org(&app), &app.api_key_id).await.last_used_at,
        Some(later)
    );
}

#[tokio::test]
async fn another_organisations_key_is_neither_listed_nor_revoked() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    let other_key = app.store.list_api_keys(&other_org).await.expect("list")[0]
        .id
        .clone();

    let listed = app.store.list_api_keys(&org(&app)).await.expect("list");
    let revoked = app
        .store
        .revoke_api_key_of(&org(&app), &other_key)
        .await
        .expect("revoke");

    assert!(listed.iter().all(|k| k.id != other_key), "{listed:?}");
    assert!(!revoked, "another organisation's key was revoked");
    assert_eq!(
        app.get_with_key(&other.api_key, "/v1/identification")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        key_of(&app, &other_org, other_key.as_str())
            .await
            .revoked_at,
        None
    );
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once() {
    let app = spawn_app().await;
    let id = ApiKeyId::parse(&app.api_key_id).expect("key id");
    // Authenticated once, so the key is in the cache.
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);

    let revoked = app
        .store
        .revoke_api_key_of(&org(&app), &id)
        .await
        .expect("revoke");

    assert!(revoked);
    let resp = app.get("/v1/identification").await;
    assert_problem(resp, 401, None).await;
    assert!(
        !app.store
            .revoke_api_key_of(&org(&app), &id)
            .await
            .expect("revoke"),
        "revoked twice"
    );
}

// --- webhook secrets ---------------------------------------------------------

async fn spawn_webhook_app() -> TestApp {
    spawn_app_with(|c| c.allow_private_webhooks = true).await
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

fn signatures(req: &Request) -> Vec<String> {
    header(req, "webhook-signature")
        .split(' ')
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn after_a_rotation_webhooks_carry_a_signature_by_each_secret_until_the_overlap_ends() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    let old = app.webhook_secret.clone();
    let new = app
        .store
        .rotate_webhook_secret(&org(&app))
        .await
        .expect("rotate")
        .expect("the organisation exists");
    assert_ne!(new, old);
    assert!(new.starts_with("whsec_"));
    let created = app
        .create_identification(json!({ "webhookUrl": format!("{}/hook", receiver.uri()) }))
        .await;
    let id = created["id"].as_str().expect("id");

    app.set_outcome(id, "pending").await;
    let during = wait_for_requests(&receiver, 1).await;

    let sigs = signatures(&during[0]);
    assert_eq!(sigs.len(), 2, "{sigs:?}");
    assert!(sigs.iter().all(|s| s.starts_with("v1,")), "{sigs:?}");
    let (by_new, by_old) = (
        with_signature(&during[0], &sigs[0]),
        with_signature(&during[0], &sigs[1]),
    );
    verify_webhook(&new, &during[0].body, &by_new).expect("the first verifies with the new secret");
    verify_webhook(&old, &during[0].body, &by_old)
        .expect("the second verifies with the old secret");
    assert!(verify_webhook(&old, &during[0].body, &by_new).is_err());
    assert!(verify_webhook(&new, &during[0].body, &by_old).is_err());
    // Any Standard Webhooks receiver accepts the header as sent, whichever
    // secret it has.
    assert_signed(&during[0], &new);
    assert_signed(&during[0], &old);

    // The overlap over, only the new secret signs.
    assert!(
        app.store
            .end_webhook_secret_overlap(&org(&app))
            .await
            .expect("end the overlap")
    );
    app.set_outcome(id, "verified").await;
    let after = wait_for_requests(&receiver, 2).await;

    let sigs = signatures(&after[1]);
    assert_eq!(sigs.len(), 1, "{sigs:?}");
    assert_signed(&after[1], &new);
    assert!(verify_webhook(&old, &after[1].body, &after[1].headers).is_err());
    let shown = app
        .store
        .get_organisation(&org(&app))
        .await
        .expect("read")
        .expect("organisation");
    assert_eq!(shown.webhook_secret, new);
}

#[tokio::test]
async fn a_second_rotation_within_the_overlap_retires_the_oldest_secret() {
    let app = spawn_app().await;
    let first = app
        .store
        .rotate_webhook_secret(&org(&app))
        .await
        .expect("rotate")
        .expect("organisation");

    let second = app
        .store
        .rotate_webhook_secret(&org(&app))
        .await
        .expect("rotate")
        .expect("organisation");

    let shown = app
        .store
        .get_organisation(&org(&app))
        .await
        .expect("read")
        .expect("organisation");
    assert_eq!(
        shown.signing_secrets(Timestamp::now()),
        [second.as_str(), first.as_str()]
    );
    assert!(
        !shown
            .signing_secrets(Timestamp::now())
            .contains(&app.webhook_secret.as_str())
    );
}

#[tokio::test]
async fn rotating_a_missing_organisations_secret_changes_nothing() {
    let app = spawn_app().await;

    let rotated = app
        .store
        .rotate_webhook_secret(&OrganisationId::generate())
        .await
        .expect("rotate");

    assert_eq!(rotated, None);
}

// --- test webhooks -----------------------------------------------------------

#[tokio::test]
async fn a_test_webhook_reaches_the_receiver_signed_and_its_attempt_is_kept() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    let url = HttpUrl::parse(&format!("{}/hook", receiver.uri())).expect("url");
    let deliverer = Deliverer::new(app.config.allow_private_webhooks).expect("deliverer");

    let sent = send_test_webhook(&app.store, &deliverer, &org(&app), &url)
        .await
        .expect("sent");

    assert_eq!(sent.status_code, Some(200), "{sent:?}");
    assert_eq!(sent.error, None);
    assert!(sent.succeeded());
    let requests = received_by(&receiver).await;
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].body, br#"{"type":"test"}"#.to_vec());
    assert_eq!(header(&requests[0], "webhook-id"), sent.id);
    assert_signed(&requests[0], &app.webhook_secret);
    let recent = app
        .store
        .recent_test_webhooks(&org(&app), 10)
        .await
        .expect("recent");
    assert_eq!(recent, vec![sent]);
    assert_eq!(recent[0].url, url.as_str());
    // Another organisation sees none of it.
    let other = app.create_other_organisation().await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    assert!(
        app.store
            .recent_test_webhooks(&other_org, 10)
            .await
            .expect("recent")
            .is_empty()
    );
}

#[tokio::test]
async fn a_test_webhook_to_a_private_address_is_refused_and_the_refusal_kept() {
    // The address guard is on, as in production.
    let app = spawn_app().await;
    assert!(!app.config.allow_private_webhooks);
    let receiver = receiver().await;
    let url = HttpUrl::parse(&format!("{}/hook", receiver.uri())).expect("url");
    let deliverer = Deliverer::new(app.config.allow_private_webhooks).expect("deliverer");

    let sent = send_test_webhook(&app.store, &deliverer, &org(&app), &url)
        .await
        .expect("attempted");

    assert_eq!(sent.status_code, None);
    let error = sent.error.clone().expect("an error");
    assert!(error.contains("is not public"), "{error}");
    assert!(!sent.succeeded());
    assert!(received_by(&receiver).await.is_empty());
    let recent = app
        .store
        .recent_test_webhooks(&org(&app), 10)
        .await
        .expect("recent");
    assert_eq!(recent, vec![sent]);
}

#[tokio::test]
async fn only_the_latest_test_webhooks_are_kept() {
    let app = spawn_app().await;
    for n in 0..=TEST_WEBHOOKS_KEPT {
        let sent = TestWebhook {
            id: format!("msg_{n:04}"),
            url: "https://example.com/hook".into(),
            attempted_at: Timestamp::from_millis(1_000 + n),
            status_code: Some(200),
            error: None,
            duration_ms: 1,
        };
        app.store
            .record_test_webhook(&org(&app), &sent)
            .await
            .expect("record");
    }

    let recent = app
        .store
        .recent_test_webhooks(&org(&app), 1_000)
        .await
        .expect("recent");

    let kept = usize::try_from(TEST_WEBHOOKS_KEPT).expect("a small number");
    assert_eq!(recent.len(), kept);
    assert_eq!(recent[0].id, format!("msg_{TEST_WEBHOOKS_KEPT:04}"));
    assert!(
        recent.iter().all(|t| t.id != "msg_0000"),
        "the oldest is gone"
    );
}
