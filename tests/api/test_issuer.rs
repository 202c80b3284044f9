//! The test issuer (`POST /oid4vp/test-issuer/credential`) needs no API
//! key, so it guards itself: a rate per client address, bounded bodies and
//! claims, and only for a wallet holding a live request of an open test
//! identification.

use crate::helpers::*;
use p256::ecdsa::SigningKey;
use proofme::domain::Mode;
use proofme::oid4vp::holder;
use proofme::oid4vp::jose::Jwk;
use rand::rngs::OsRng;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use std::time::Instant;

const ISSUER: &str = "/oid4vp/test-issuer/credential";

/// Fetches the request object of `id` as a wallet does; returns its nonce.
async fn nonce_of(app: &TestApp, id: &str) -> String {
    crate::verifier::fetch(app, id).await.nonce
}

/// The nonce of a fresh test identification's request.
async fn open_test_nonce(app: &TestApp) -> String {
    let id = app.create_with_description("x").await;
    nonce_of(app, &id).await
}

fn holder_jwk() -> Value {
    Jwk::from_verifying_key(SigningKey::random(&mut OsRng).verifying_key()).to_value()
}

fn body(nonce: Option<&str>, claims: Value) -> Value {
    let mut body = json!({"holderJwk": holder_jwk(), "claims": claims});
    if let Some(n) = nonce {
        body["nonce"] = json!(n);
    }
    body
}

fn pid() -> Value {
    Value::Object(holder::pid_claims::<&str>(&[]).expect("claims"))
}

async fn ask(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let resp = app
        .client
        .post(app.url(ISSUER))
        .json(body)
        .send()
        .await
        .expect("POST test issuer");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_wallet_holding_an_open_test_request_gets_a_credential() {
    let app = spawn_app().await;
    let nonce = open_test_nonce(&app).await;

    let (status, answer) = ask(&app, &body(Some(&nonce), pid())).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["credential"]
            .as_str()
            .is_some_and(|c| c.contains('~'))
    );
}

#[tokio::test]
async fn the_test_issuer_refuses_an_address_beyond_its_rate_with_429_and_retry_after() {
    let app = spawn_app_with(|c| c.test_issuer_rate_limit = 3).await;
    let started = Instant::now();

    // Refused requests count too: each is work for the service.
    let mut statuses = Vec::new();
    let limited = loop {
        let resp = app
            .client
            .post(app.url(ISSUER))
            .json(&json!({}))
            .send()
            .await
            .expect("POST");
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            break resp;
        }
        statuses.push(resp.status());
        assert!(statuses.len() < 50, "never limited: {statuses:?}");
    };
    let elapsed = started.elapsed();
    let elsewhere = checked(
        reqwest::Client::builder()
            .local_address("127.0.0.2".parse::<std::net::IpAddr>().ok())
            .build()
            .expect("client"),
    )
    .post(app.url(ISSUER))
    .json(&json!({}))
    .send()
    .await
    .expect("POST from another address");

    // A burst of three, plus one for every 20 s these took on a slow machine.
    let grown_back = usize::try_from(elapsed.as_secs() / 20).unwrap();
    assert!(
        statuses.len() >= 3 && statuses.len() <= 3 + grown_back,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == StatusCode::BAD_REQUEST));
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let error: Value = limited.json().await.expect("OAuth error JSON");
    assert_eq!(error["error"], "temporarily_unavailable");
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn claims_beyond_the_limits_are_an_invalid_request() {
    let app = spawn_app().await;
    let nonce = open_test_nonce(&app).await;
    let many: Map<String, Value> = (0..33).map(|i| (format!("c{i}"), json!(i))).collect();
    let wide: Map<String, Value> = (0..9)
        .map(|i| (format!("c{i}"), json!(vec![0; 15])))
        .collect();
    let too_large = [
        ("33 claims", Value::Object(many)),
        ("an array of 17", json!({"nationalities": vec!["NL"; 17]})),
        ("five levels", json!({"a": {"b": {"c": {"d": 1}}}})),
        ("144 values", Value::Object(wide)),
    ];

    for (what, claims) in too_large {
        let (status, answer) = ask(&app, &body(Some(&nonce), claims)).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {answer}");
        assert_eq!(answer["error"], "invalid_request", "{what}");
        assert!(answer["error_description"].is_string(), "{what}");
    }
    let (status, _) = ask(&app, &body(Some(&nonce), pid())).await;
    assert_eq!(status, StatusCode::OK, "a PID is within the limits");
}

#[tokio::test]
async fn a_body_over_8_kb_is_refused_with_an_oauth_error() {
    let app = spawn_app().await;
    let nonce = open_test_nonce(&app).await;
    let large = body(Some(&nonce), json!({"given_name": "x".repeat(8 * 1024)}));

    let (status, answer) = ask(&app, &large).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"], "invalid_request");
}

#[tokio::test]
async fn the_test_issuer_serves_only_wallets_holding_a_live_test_request() {
    let app = spawn_app().await;
    let live_key = app.create_api_key(Mode::Live).await;
    let live: Value = created(
        app.post_json_with_key(&live_key, &app.json_body_with(json!({})))
            .await,
    )
    .await;
    let live_nonce = nonce_of(&app, live["id"].as_str().unwrap()).await;
    let finished = app.create_with_description("x").await;
    let finished_nonce = nonce_of(&app, &finished).await;
    app.set_outcome(&finished, "canceled").await;
    let refetched = app.create_with_description("x").await;
    let superseded_nonce = nonce_of(&app, &refetched).await;
    let current_nonce = nonce_of(&app, &refetched).await;
    let refused = [
        ("no nonce", None),
        ("an unknown nonce", Some("AAAAAAAAAAAAAAAAAAAAAA")),
        ("a live identification's", Some(live_nonce.as_str())),
        ("a final identification's", Some(finished_nonce.as_str())),
        ("a superseded request's", Some(superseded_nonce.as_str())),
    ];

    for (what, nonce) in refused {
        let (status, answer) = ask(&app, &body(nonce, pid())).await;

        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {answer}");
        assert_eq!(answer["error"], "access_denied", "{what}");
    }
    let (status, answer) = ask(&app, &body(Some(&current_nonce), pid())).await;
    assert_eq!(status, StatusCode::OK, "the current request: {answer}");
}
