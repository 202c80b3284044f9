//! What must not leak (DESIGN.md section 3): `/v1` answers are never cached
//! or sniffed, and logs never hold a whole identification id (the MyPage
//! secret).

use crate::helpers::*;
use reqwest::Response;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use serde_json::{Value, json};
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

/// Every id that the log must not hold, and the log. Drives the real binary
/// through creates, reads, lists, MyPage, a status stream, status changes, a
/// webhook attempt, erasure and revocation.
#[tokio::test]
async fn the_log_holds_no_whole_identification_id() {
    let receiver_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let server = serve_binary(
        &[
            ("RUST_LOG", "debug"),
            ("PROOFME_ALLOW_PRIVATE_WEBHOOKS", "true"),
            ("PROOFME_WEBHOOK_RETRY_SCHEDULE", "1"),
        ],
        None,
    )
    .await;
    let http = client();
    let create = |changes: Value| {
        let mut body = json!({
            "proofmeId": server.proofme_id,
            "organisationId": server.org_id,
            "redirectUrl": REDIRECT_URL,
            "webhookUrl": format!("http://127.0.0.1:{receiver_port}/hook"),
        });
        for (k, v) in changes.as_object().expect("object") {
            body[k] = v.clone();
        }
        http.post(server.url("/v1/identification"))
            .bearer_auth(&server.api_key)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
    };
    let mut ids = Vec::new();
    for description in ["first", "second"] {
        let resp = create(json!({ "description": description }))
            .await
            .expect("create");
        assert_eq!(resp.status().as_u16(), 201);
        let body: Value = resp.json().await.expect("json");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    let (first, second) = (&ids[0], &ids[1]);
    let api = |method: reqwest::Method, path: String| {
        http.request(method, server.url(&path))
            .bearer_auth(&server.api_key)
            .header(CONTENT_TYPE, "application/json")
            .body(json!({"status": "verified"}).to_string())
            .send()
    };
    use reqwest::Method;
    let mut stream = http
        .get(server.url(&format!("/{first}/events")))
        .send()
        .await
        .expect("stream");
    for (method, path) in [
        (Method::GET, format!("/v1/identification/{first}")),
        (Method::GET, format!("/v1/identification?search={first}")),
        (Method::GET, format!("/{first}")),
        (Method::GET, format!("/{first}?lang=nl")),
        (
            Method::POST,
            format!("/v1/identification/{first}/test-outcome"),
        ),
        (Method::GET, format!("/v1/identification/{first}/history")),
        (Method::GET, format!("/v1/identification/{first}/webhooks")),
        (Method::GET, format!("/v1/identification/data/{first}")),
        (Method::DELETE, format!("/v1/identification/data/{first}")),
        (Method::DELETE, format!("/v1/identification/{second}")),
    ] {
        let resp = api(method.clone(), path.clone()).await.expect("request");
        assert!(
            resp.status().is_success(),
            "{method} {path}: {}",
            resp.status()
        );
    }
    let _ = stream.chunk().await;
    let mypage_cancel = http
        .post(server.url(&format!("/{second}/cancel")))
        .send()
        .await
        .expect("cancel");
    assert!(mypage_cancel.status().is_redirection());

    server
        .wait_for_log("webhook attempt", Duration::from_secs(30))
        .await;
    server
        .wait_for_log("shared data erased", Duration::from_secs(30))
        .await;
    let log = server.log();

    for id in &ids {
        assert!(!log.contains(id.as_str()), "the log holds {id}:\n{log}");
        let logged = &id[..15];
        assert!(
            log.contains(logged),
            "no short form {logged} in the log:\n{log}"
        );
    }
    assert!(log.contains("identification created"), "{log}");
    assert!(log.contains("status changed"), "{log}");
}
