//! Every error a wallet endpoint (`/oid4vp/…`) answers is the OAuth JSON
//! wallets read, `{"error", "error_description"}`, whichever layer refused:
//! a body limit, the router, an extractor.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Asserts an OAuth error answer of `status`; returns its body.
async fn assert_oauth_error(resp: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(resp.status(), status);
    assert_eq!(content_type(&resp), "application/json");
    let body: Value = resp.json().await.expect("a JSON body");
    assert!(body["error"].is_string(), "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    body
}

async fn send(app: &TestApp, method: Method, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .header(reqwest::header::CONTENT_TYPE, FORM)
        .body(body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn an_over_large_wallet_response_is_an_oauth_413() {
    let app = spawn_app().await;
    let body = format!("response={}", "a".repeat(600 * 1024)).into_bytes();

    let resp = send(&app, Method::POST, "/oid4vp/response", body).await;

    let error = assert_oauth_error(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(error["error"], "invalid_request");
}

#[tokio::test]
async fn an_over_large_request_object_post_is_an_oauth_413() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let body = format!("wallet_metadata={}", "a".repeat(32 * 1024)).into_bytes();

    let resp = send(&app, Method::POST, &format!("/oid4vp/request/{id}"), body).await;

    assert_oauth_error(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn an_unknown_wallet_endpoint_is_an_oauth_404() {
    let app = spawn_app().await;

    for path in ["/oid4vp", "/oid4vp/", "/oid4vp/nothing/here"] {
        let resp = send(&app, Method::GET, path, Vec::new()).await;

        let error = assert_oauth_error(resp, StatusCode::NOT_FOUND).await;
        assert_eq!(error["error"], "invalid_request", "{path}");
    }
}

#[tokio::test]
async fn a_wrong_method_on_a_wallet_endpoint_is_an_oauth_405_with_allow() {
    let app = spawn_app().await;

    let resp = send(&app, Method::PUT, "/oid4vp/response", Vec::new()).await;

    let allow = resp.headers().get("allow").cloned();
    assert_oauth_error(resp, StatusCode::METHOD_NOT_ALLOWED).await;
    assert_eq!(allow.as_ref().and_then(|v| v.to_str().ok()), Some("POST"));
}

#[tokio::test]
async fn a_path_the_extractor_rejects_is_an_oauth_400() {
    let app = spawn_app().await;

    // Not UTF-8 once decoded: the path extractor refuses it.
    let resp = send(&app, Method::GET, "/oid4vp/request/%FF%FE", Vec::new()).await;

    let error = assert_oauth_error(resp, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["error"], "invalid_request");
}

#[tokio::test]
async fn an_over_large_unencrypted_error_response_is_an_oauth_413_that_changes_nothing() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let resp = app
        .client
        .get(app.url(&format!("/oid4vp/request/{id}")))
        .send()
        .await
        .expect("request fetch");
    assert_eq!(resp.status(), StatusCode::OK);
    let jwt = resp.text().await.expect("body");
    let request =
        proofme::wallet::verify_request(&jwt, None, None, proofme::domain::Timestamp::now())
            .expect("a valid request object");
    let body = format!(
        "error=access_denied&state={}&error_description={}",
        request.state,
        "a".repeat(600 * 1024)
    )
    .into_bytes();

    let resp = send(&app, Method::POST, "/oid4vp/response", body).await;

    let error = assert_oauth_error(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(error["error"], "invalid_request");
    assert_eq!(app.identification(&id).await["statusName"], "pending");
}

#[tokio::test]
async fn an_unencrypted_form_with_neither_a_response_nor_an_error_is_an_oauth_400() {
    let app = spawn_app().await;

    for body in [
        "",
        "state=abc",
        "error_description=no",
        "error=access_denied",
    ] {
        let resp = send(&app, Method::POST, "/oid4vp/response", body.into()).await;

        let error = assert_oauth_error(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(error["error"], "invalid_request", "{body}");
    }
}
