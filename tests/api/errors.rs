//! One error shape (problem+json) for every failure under /v1; HTML elsewhere.
//! Also the operational endpoints: /healthz, /readyz, /v1/openapi.json.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn an_unknown_route_under_v1_is_a_404_problem() {
    let app = spawn_app().await;

    let with_key = app.get("/v1/nope").await;
    let deeper = app.get("/v1/identification/id_x/unknown/thing").await;

    assert_problem(with_key, 404, None).await;
    assert_problem(deeper, 404, None).await;
}

#[tokio::test]
async fn an_unknown_route_outside_v1_is_an_html_404() {
    let app = spawn_app().await;

    let resp = app.get_anonymous("/some/unknown/path").await;

    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let ct = content_type(&resp);
    assert!(ct.starts_with("text/html"), "content type {ct}");
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = spawn_app().await;

    let put = app
        .client
        .put(app.url("/v1/identification"))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap();
    let patch = app
        .client
        .patch(app.url("/v1/identification"))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap();

    assert_problem(put, 405, None).await;
    assert_problem(patch, 405, None).await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_a_413_problem() {
    let app = spawn_app().await;
    let mut body = app.valid_form_body();
    body.push_str("&description=");
    body.push_str(&"x".repeat(65_537 - body.len()));
    assert_eq!(body.len(), 65_537);

    let form = app.post_form(&body).await;
    let json = app
        .post_raw(Some("application/json"), vec![b' '; 70_000])
        .await;

    assert_problem(form, 413, None).await;
    assert_problem(json, 413, None).await;
}

#[tokio::test]
async fn a_body_of_exactly_64_kib_is_accepted() {
    let app = spawn_app().await;
    let mut body = app.valid_form_body();
    body.push_str("&description=");
    body.push_str(&"x".repeat(65_536 - body.len()));
    assert_eq!(body.len(), 65_536);

    let resp = app.post_form(&body).await;

    let v = created(resp).await;
    assert_eq!(v["description"], json!("x".repeat(255)));
}

#[tokio::test]
async fn an_unsupported_content_type_is_a_415_problem() {
    let app = spawn_app().await;
    for ct in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        let resp = app.post_raw(Some(ct), app.valid_form_body()).await;
        assert_problem(resp, 415, None).await;
    }
}

#[tokio::test]
async fn a_body_without_a_content_type_is_a_415_problem() {
    let app = spawn_app().await;

    let resp = app.post_raw(None, app.valid_form_body()).await;

    assert_problem(resp, 415, None).await;
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    for body in [
        "{",
        "{\"proofmeId\": }",
        "not json",
        "{\"a\":1} trailing",
        "",
    ] {
        let resp = app.post_raw(Some("application/json"), body).await;
        assert_problem(resp, 400, None).await;
    }
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_a_400_problem() {
    let app = spawn_app().await;
    for body in ["[]", "\"text\"", "42", "null", "true"] {
        let resp = app.post_raw(Some("application/json"), body).await;
        assert_problem(resp, 400, None).await;
    }
}

#[tokio::test]
async fn validation_errors_are_422_problems_with_the_field() {
    let app = spawn_app().await;

    let resp = app
        .post_json(&app.json_body_with(json!({ "redirectUrl": "ftp://x.example/" })))
        .await;

    let problem = assert_problem(resp, 422, Some("redirectUrl")).await;
    assert_eq!(problem["title"], "Unprocessable Entity");
}

#[tokio::test]
async fn healthz_answers_200() {
    let app = spawn_app().await;

    let resp = app.get_anonymous("/healthz").await;

    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn readyz_answers_200_when_the_database_answers() {
    let app = spawn_app().await;

    let resp = app.get_anonymous("/readyz").await;

    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_document_describes_the_identification_endpoints() {
    let app = spawn_app().await;

    let resp = app.get_anonymous("/v1/openapi.json").await;

    assert_eq!(resp.status(), StatusCode::OK);
    assert!(content_type(&resp).starts_with("application/json"));
    let doc: Value = resp.json().await.unwrap();
    let version = doc["openapi"].as_str().expect("openapi member");
    assert!(version.starts_with("3."), "openapi {version}");
    let paths = doc["paths"].as_object().expect("paths object");
    assert!(
        paths.contains_key("/v1/identification"),
        "paths: {:?}",
        paths.keys()
    );
    assert!(
        paths.contains_key("/v1/identification/{id}"),
        "paths: {:?}",
        paths.keys()
    );
    assert!(paths["/v1/identification"].get("post").is_some());
    assert!(paths["/v1/identification"].get("get").is_some());
    assert!(paths["/v1/identification/{id}"].get("get").is_some());
}

/// Sends a request by hand over TCP and returns the raw response head and body.
async fn raw_http(address: &str, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    // The server may answer (and close) before it has read everything.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(DEADLINE, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_chunked_body_over_64_kib_is_a_413_problem() {
    let app = spawn_app().await;
    let mut request = format!(
        "POST /v1/identification HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.api_key
    )
    .into_bytes();
    let chunk = vec![b' '; 16 * 1024];
    for _ in 0..5 {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(&chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");

    let response = raw_http(&app.address, &request).await;

    let status_line = response.lines().next().unwrap_or("");
    assert!(status_line.contains(" 413 "), "status line {status_line:?}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{response}"
    );
}
