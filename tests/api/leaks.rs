//! What must not leak (DESIGN.md section 3): `/v1` answers are never cached
//! or sniffed.

use crate::helpers::*;
use reqwest::Response;
use reqwest::header::{CACHE_CONTROL, X_CONTENT_TYPE_OPTIONS};
use std::time::Duration;

fn assert_private(resp: &Response, what: &str) {
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header(CACHE_CONTROL), "no-store", "{what}");
    assert_eq!(header(X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
}

#[tokio::test]
async fn every_v1_answer_is_no_store_and_nosniff() {
    let app = spawn_app().await;
    let id = app.create_with_description("headers").await;

    let answers = [
        (app.post_json(&app.valid_json_body()).await, 201),
        (app.get(&format!("/v1/identification/{id}")).await, 200),
        (app.get("/v1/identification").await, 200),
        (app.get(&format!("/v1/identification/data/{id}")).await, 200),
        (app.get("/v1/openapi.json").await, 200),
        (app.get_anonymous("/v1/identification").await, 401),
        (
            app.get("/v1/identification/id_0000000000000000000000")
                .await,
            404,
        ),
        (app.get("/v1/no-such-thing").await, 404),
        (app.get("/v1/identification?limit=0").await, 422),
        (
            app.client
                .put(app.url("/v1/identification"))
                .send()
                .await
                .expect("PUT"),
            405,
        ),
        (
            app.post_raw(Some("application/json"), vec![b' '; 70_000])
                .await,
            413,
        ),
        (app.post_raw(Some("text/plain"), "x").await, 415),
    ];

    for (resp, status) in &answers {
        assert_eq!(resp.status().as_u16(), *status, "{}", resp.url());
        assert_private(resp, &format!("{status} {}", resp.url()));
    }
}

#[tokio::test]
async fn a_v1_timeout_is_problem_json_and_private_too() {
    let app = spawn_app_with(|c| c.request_timeout = Duration::from_millis(300)).await;
    let request = format!(
        "POST /v1/identification HTTP/1.1\r\nHost: proofme\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{{",
        app.api_key
    );

    let answer = raw_exchange(&app.address, request.as_bytes())
        .await
        .to_ascii_lowercase();

    assert_eq!(raw_status(&answer), 408, "{answer}");
    assert!(answer.contains("cache-control: no-store"), "{answer}");
    assert!(
        answer.contains("x-content-type-options: nosniff"),
        "{answer}"
    );
}
