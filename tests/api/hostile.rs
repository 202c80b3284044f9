//! Whatever an attacker sends gets a 4xx in our error shape: never a 5xx, a
//! hang or a crash, and the service keeps answering afterwards.

use crate::helpers::*;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

async fn still_alive(app: &TestApp) {
    let res = app.get_anonymous("/healthz").await;
    assert_eq!(res.status().as_u16(), 200, "the server stopped answering");
}

#[tokio::test]
async fn deeply_nested_json_is_a_400() {
    let app = spawn_app().await;
    let body = format!("{}{}", "[".repeat(60_000), "]".repeat(60_000));
    let body = &body[..65_000];

    let res = app
        .post_raw(Some("application/json"), body.as_bytes().to_vec())
        .await;

    assert_problem(res, 400, None).await;
    still_alive(&app).await;
}

#[tokio::test]
async fn deeply_nested_metadata_inside_a_valid_body_is_a_400() {
    let app = spawn_app().await;
    let mut body = app.valid_json_body().to_string();
    body.pop();
    body.push_str(&format!(
        ",\"metadata\":{}1{}}}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    ));

    let res = app
        .post_raw(Some("application/json"), body.into_bytes())
        .await;

    assert_problem(res, 400, None).await;
    still_alive(&app).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_json_body_is_a_400() {
    let app = spawn_app().await;
    let mut body = b"{\"description\": \"".to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    body.extend_from_slice(b"\"}");

    let res = app.post_raw(Some("application/json"), body).await;

    assert_problem(res, 400, None).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_query_string_is_a_400() {
    let app = spawn_app().await;

    let res = app.get("/v1/identification?search=%FF%FE").await;

    assert_problem(res, 400, None).await;
}

#[tokio::test]
async fn an_undecodable_path_is_a_404_in_our_shape() {
    let app = spawn_app().await;

    let res = app.get("/v1/identification/%FF%00").await;

    assert_problem(res, 404, None).await;
}

#[tokio::test]
async fn a_very_long_path_is_a_404_in_our_shape() {
    let app = spawn_app().await;

    let res = app
        .get(&format!("/v1/identification/id_{}", "a".repeat(8_000)))
        .await;

    assert_problem(res, 404, None).await;
}

#[tokio::test]
async fn oversized_headers_are_a_431_in_our_shape() {
    let app = spawn_app().await;
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-padding",
        HeaderValue::from_str(&"a".repeat(40_000)).expect("value"),
    );

    let res = app.get_with_headers("/v1/identification", headers).await;

    assert_problem(res, 431, None).await;
    still_alive(&app).await;
}

#[tokio::test]
async fn a_header_flood_is_refused_with_a_4xx_and_the_server_keeps_going() {
    let app = spawn_app().await;
    let mut headers = HeaderMap::new();
    for i in 0..500 {
        let name = HeaderName::from_bytes(format!("x-flood-{i}").as_bytes()).expect("name");
        headers.insert(name, HeaderValue::from_static("v"));
    }

    let res = tokio::time::timeout(
        DEADLINE,
        app.get_with_headers("/v1/identification", headers),
    )
    .await
    .expect("the server answered in time");

    let status = res.status().as_u16();
    assert!((400..500).contains(&status), "status {status}");
    still_alive(&app).await;
}

#[tokio::test]
async fn control_characters_in_urls_are_a_422() {
    let app = spawn_app().await;
    let body =
        app.json_body_with(serde_json::json!({"redirectUrl": "https://shop.example.com/\u{0}x"}));

    let res = app.post_json(&body).await;

    assert_problem(res, 422, Some("redirectUrl")).await;
}

#[tokio::test]
async fn a_nul_in_a_description_is_stored_and_returned_as_sent() {
    let app = spawn_app().await;

    let created = app
        .create_identification(serde_json::json!({"description": "a\u{0}b"}))
        .await;

    assert_eq!(created["description"], "a\u{0}b");
    let id = created["id"].as_str().expect("id");
    assert_eq!(app.identification(id).await["description"], "a\u{0}b");
}

#[tokio::test]
async fn a_flood_of_bad_keys_gets_401s_and_no_5xx() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (client, url) = (app.client.clone(), app.url("/v1/identification"));
        tasks.push(tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(format!("test_{i:030}"))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task").expect("response"), 401);
    }
    still_alive(&app).await;
}
