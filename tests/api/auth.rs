//! `Authorization: Bearer <test_… | live_…>` on every /v1 endpoint.

use crate::helpers::*;
use proofme::domain::ApiKeyId;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

#[tokio::test]
async fn a_request_without_an_authorization_header_is_401() {
    let app = spawn_app().await;

    let list = app.get_anonymous("/v1/identification").await;
    let create = app
        .client
        .post(app.url("/v1/identification"))
        .header(CONTENT_TYPE, FORM)
        .body(app.valid_form_body())
        .send()
        .await
        .unwrap();

    assert_problem(list, 401, None).await;
    assert_problem(create, 401, None).await;
    assert_eq!(app.list("").await["count"], 0, "nothing was created");
}

#[tokio::test]
async fn a_request_with_another_scheme_is_401() {
    let app = spawn_app().await;
    for value in [
        format!("Basic {}", app.api_key),
        format!("Token {}", app.api_key),
        app.api_key.clone(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
    ] {
        let resp = app
            .get_with_headers("/v1/identification", authorization(&value))
            .await;
        assert_problem(resp, 401, None).await;
    }
}

#[tokio::test]
async fn a_request_with_an_unknown_key_is_401() {
    let app = spawn_app().await;
    for key in [
        "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
        "live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
        "nonsense",
    ] {
        let resp = app.get_with_key(key, "/v1/identification").await;
        assert_problem(resp, 401, None).await;
    }
    // A near miss of the real key is unknown too.
    let mut near = app.api_key.clone();
    let last = near.pop().unwrap();
    near.push(if last == 'a' { 'b' } else { 'a' });
    assert_problem(
        app.get_with_key(&near, "/v1/identification").await,
        401,
        None,
    )
    .await;
}

#[tokio::test]
async fn a_revoked_key_is_401() {
    let app = spawn_app().await;
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);
    let key_id = ApiKeyId::parse(&app.api_key_id).unwrap();

    let revoked = app.store.revoke_api_key(&key_id).await.unwrap();

    assert!(revoked);
    assert_problem(app.get("/v1/identification").await, 401, None).await;
    assert_problem(app.post_form(&app.valid_form_body()).await, 401, None).await;
}

#[tokio::test]
async fn a_valid_key_reaches_every_identification_endpoint() {
    let app = spawn_app().await;

    let created = created(app.post_form(&app.valid_form_body()).await).await;
    let id = created["id"].as_str().unwrap();
    let one = app.get(&format!("/v1/identification/{id}")).await;
    let list = app.get("/v1/identification").await;

    assert_eq!(one.status(), StatusCode::OK);
    assert_eq!(list.status(), StatusCode::OK);
}

#[tokio::test]
async fn get_one_without_a_key_is_401_not_the_object() {
    let app = spawn_app().await;
    let id = app.create_with_description("secret order").await;

    let resp = app.get_anonymous(&format!("/v1/identification/{id}")).await;

    let problem = assert_problem(resp, 401, None).await;
    assert!(!problem.to_string().contains("secret order"));
}

/// Every operation the OpenAPI document lists under `/v1/identification`
/// needs a key: with a real identification's id in the path, and without
/// a key, each answers 401 and changes nothing.
#[tokio::test]
async fn every_documented_identification_operation_needs_a_key() {
    let app = spawn_app().await;
    let id = app.create_with_description("kept").await;
    let doc: serde_json::Value = app
        .get_anonymous("/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().expect("paths");

    let mut checked = 0;
    for (path, operations) in paths {
        if !path.starts_with("/v1/identification") {
            continue;
        }
        let url = app.url(&path.replace("{id}", &id));
        for method in operations.as_object().expect("operations").keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = app
                .client
                .request(method.clone(), &url)
                .header(CONTENT_TYPE, "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            checked += 1;
        }
    }

    assert!(checked >= 9, "only {checked} operations found");
    let kept = app.get(&format!("/v1/identification/{id}")).await;
    let kept: serde_json::Value = kept.json().await.unwrap();
    assert_eq!(kept["statusName"], "open");
    assert_eq!(app.list("").await["count"], 1);
}
