//! The published contract holds for every answer the suite receives: the
//! test client (`helpers::client`) checks each `/v1` response against the
//! OpenAPI document, for its operation and status, and a response that
//! breaks it (an undocumented status included) fails the test that got it.
//! The tests here check that check, and that the document's request bodies
//! name exactly the fields the handlers read.

use axum::http::{HeaderMap, Method, StatusCode};
use futures::future::BoxFuture;
use jsonschema::Validator;
use proofme::api::identifications::create::CREATE_FIELDS;
use proofme::api::identifications::test_outcome::TEST_OUTCOME_FIELDS;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use crate::helpers::{content_type, spawn_app};

/// The document, as a deployment serves it.
static DOCUMENT: LazyLock<Value> =
    LazyLock::new(|| proofme::api::openapi::document("http://127.0.0.1"));

/// Compiled response schemas, by their place in the document.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<Validator>>>> =
    LazyLock::new(Default::default);

/// The `paths` entry that `path` falls under, with its item.
fn path_item(path: &str) -> Option<(&'static str, &'static Value)> {
    let segments: Vec<&str> = path.split('/').collect();
    DOCUMENT["paths"]
        .as_object()?
        .iter()
        .filter(|(template, _)| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(t, s)| {
                    (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || t == s
                })
        })
        // A literal segment beats a parameter.
        .min_by_key(|(template, _)| template.matches('{').count())
        .map(|(template, item)| (template.as_str(), item))
}

/// A JSON pointer token.
fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn validator(pointer: &str, schema: &Value) -> Result<Arc<Validator>, String> {
    let mut cache = VALIDATORS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(v) = cache.get(pointer) {
        return Ok(v.clone());
    }
    // The schema's `$ref`s point into the document's components.
    let mut root = schema.clone();
    if let Some(obj) = root.as_object_mut() {
        obj.insert("components".into(), DOCUMENT["components"].clone());
    }
    let v = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .map(Arc::new)
        .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?;
    cache.insert(pointer.to_owned(), v.clone());
    Ok(v)
}

/// Checks one response to `method path` against the document.
pub fn check(
    method: &Method,
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    if path == "/v1/openapi.json" {
        return Ok(());
    }
    let what = format!("{method} {path} answered {status}");
    let Some((template, item)) = path_item(path) else {
        // No such endpoint: a problem+json 404 (or a limit's answer).
        if !(status.is_client_error() || status.is_server_error()) {
            return Err(format!("{what}, but there is no such operation"));
        }
        let schema = json!({ "$ref": "#/components/schemas/Problem" });
        return check_body(&what, "#/components/schemas/Problem", &schema, body);
    };
    let op_method = match *method {
        Method::HEAD => "get".to_owned(),
        ref m => m.as_str().to_ascii_lowercase(),
    };
    let (op_pointer, op) = match item.get(&op_method) {
        Some(op) => (format!("/paths/{}/{op_method}", token(template)), op),
        None => {
            // A method the path does not take: the 405 its operations document.
            if status != StatusCode::METHOD_NOT_ALLOWED {
                return Err(format!("{what}; {template} has no {op_method} operation"));
            }
            let (m, op) = item
                .as_object()
                .and_then(|o| o.iter().next())
                .ok_or_else(|| format!("{what}; {template} has no operations"))?;
            (format!("/paths/{}/{m}", token(template)), op)
        }
    };
    let id = op["operationId"].as_str().unwrap_or("?");
    let what = format!("{what} ({id})");
    let code = status.as_str();
    let response = op["responses"]
        .get(code)
        .or_else(|| op["responses"].get("default"))
        .ok_or_else(|| format!("{what}: status {code} is not documented"))?;
    let pointer = format!("{op_pointer}/responses/{code}");

    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        let value = headers.get(name.as_str());
        if header["required"] == json!(true) && value.is_none() {
            return Err(format!("{what}: documented header {name} is missing"));
        }
        if let (Some(value), Some("integer")) = (value, header["schema"]["type"].as_str()) {
            let ok = value.to_str().ok().and_then(|v| v.parse::<u64>().ok());
            if ok.is_none() {
                return Err(format!(
                    "{what}: header {name} is not an integer: {value:?}"
                ));
            }
        }
    }

    let Some(content) = response["content"].as_object() else {
        return match body.is_empty() || *method == Method::HEAD {
            true => Ok(()),
            false => Err(format!("{what}: documented without a body, but has one")),
        };
    };
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // The HTTP layer's own answer to too many header lines, as documented.
    if status == StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE && content_type.is_empty() {
        return match body.is_empty() {
            true => Ok(()),
            false => Err(format!("{what}: a body without a content type")),
        };
    }
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let media = content.get(essence).ok_or_else(|| {
        let documented: Vec<&String> = content.keys().collect();
        format!("{what}: content type {content_type:?}, documented {documented:?}")
    })?;
    if *method == Method::HEAD {
        return Ok(());
    }
    let pointer = format!("{pointer}/content/{}/schema", token(essence));
    check_body(&what, &pointer, &media["schema"], body)
}

fn check_body(what: &str, pointer: &str, schema: &Value, body: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    let instance: Value = serde_json::from_slice(body)
        .map_err(|e| format!("{what}: the body is not JSON ({e}): {text}"))?;
    let validator = validator(pointer, schema)?;
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    match errors.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "{what}: the body breaks the documented schema ({pointer}): {}\nbody: {text}",
            errors.join("; ")
        )),
    }
}

/// The test client's hook: every `/v1` response is read whole, checked, and
/// handed on unchanged. A response that breaks the contract fails the test.
pub fn check_response<'a>(
    req: reqwest::Request,
    extensions: &'a mut axum::http::Extensions,
    next: reqwest_middleware::Next<'a>,
) -> BoxFuture<'a, reqwest_middleware::Result<reqwest::Response>> {
    Box::pin(async move {
        let method = req.method().clone();
        let url = req.url().clone();
        let res = next.run(req, extensions).await?;
        let path = url.path();
        if !(path == "/v1" || path.starts_with("/v1/")) {
            return Ok(res);
        }
        let status = res.status();
        let version = res.version();
        let headers = res.headers().clone();
        let body = res.bytes().await?;
        if let Err(broken) = check(&method, path, status, &headers, &body) {
            panic!("the response breaks the OpenAPI contract: {broken}");
        }
        let mut rebuilt = axum::http::Response::builder()
            .status(status)
            .version(version);
        if let Some(h) = rebuilt.headers_mut() {
            *h = headers;
        }
        let rebuilt = reqwest::ResponseBuilderExt::url(rebuilt, url)
            .body(body)
            .map_err(reqwest_middleware::Error::middleware)?;
        Ok(reqwest::Response::from(rebuilt))
    })
}

fn problem_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        "application/problem+json".parse().expect("header"),
    );
    h
}

fn problem(status: u16) -> Vec<u8> {
    json!({"type": "about:blank", "status": status, "title": "T", "detail": "d",
           "instance": "/v1/identification"})
    .to_string()
    .into_bytes()
}

#[test]
fn the_check_refuses_an_undocumented_status() {
    let res = check(
        &Method::GET,
        "/v1/identification/id_abc",
        StatusCode::IM_A_TEAPOT,
        &problem_headers(),
        &problem(418),
    );
    let err = res.expect_err("418 is not documented");
    assert!(err.contains("getIdentification"), "{err}");
    assert!(err.contains("not documented"), "{err}");
}

#[test]
fn the_check_refuses_a_body_that_breaks_the_schema() {
    let mut headers = problem_headers();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        "application/json".parse().expect("header"),
    );
    let body = json!({"id": "id_abc", "rows": [{"status": "9", "statusName": "open",
        "previousStatus": null, "cause": "created", "changedAt": "2026-01-01T00:00:00+00:00"}]})
    .to_string();
    let res = check(
        &Method::GET,
        "/v1/identification/id_abc/history",
        StatusCode::OK,
        &headers,
        body.as_bytes(),
    );
    assert!(res.is_err(), "{res:?}");
    let no_type = json!({"status": 404, "title": "Not Found", "detail": "d"}).to_string();
    let res = check(
        &Method::DELETE,
        "/v1/identification/data/id_abc",
        StatusCode::NOT_FOUND,
        &problem_headers(),
        no_type.as_bytes(),
    );
    assert!(res.is_err(), "a problem without type and instance: {res:?}");
}

#[test]
fn the_check_wants_retry_after_on_429_and_allow_on_405() {
    let res = check(
        &Method::GET,
        "/v1/identification",
        StatusCode::TOO_MANY_REQUESTS,
        &problem_headers(),
        &problem(429),
    );
    assert!(res.is_err_and(|e| e.contains("Retry-After")));
    let res = check(
        &Method::PUT,
        "/v1/identification",
        StatusCode::METHOD_NOT_ALLOWED,
        &problem_headers(),
        &problem(405),
    );
    assert!(res.is_err_and(|e| e.contains("Allow")));
    let res = check(
        &Method::PUT,
        "/v1/identification",
        StatusCode::OK,
        &problem_headers(),
        &problem(200),
    );
    assert!(
        res.is_err(),
        "a method the path does not take can only be a 405"
    );
}

/// The properties of a request body schema, resolving a `$ref`.
fn properties(op: &Value, media: &str) -> Vec<String> {
    let mut schema = &op["requestBody"]["content"][media]["schema"];
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or("");
        schema = &DOCUMENT["components"]["schemas"][name];
    }
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn sorted(fields: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = fields.iter().map(|s| (*s).to_owned()).collect();
    names.sort();
    names
}

#[test]
fn request_bodies_document_exactly_the_fields_the_handlers_read() {
    let create = &DOCUMENT["paths"]["/v1/identification"]["post"];
    let outcome = &DOCUMENT["paths"]["/v1/identification/{id}/test-outcome"]["post"];
    for media in ["application/json", "application/x-www-form-urlencoded"] {
        assert_eq!(properties(create, media), sorted(CREATE_FIELDS), "{media}");
    }
    assert_eq!(
        properties(outcome, "application/json"),
        sorted(TEST_OUTCOME_FIELDS)
    );
    let outcome_form = json!({"requestBody": {"content": {"form": {"schema": {
        "$ref": "#/components/schemas/TestOutcomeForm"}}}}});
    assert_eq!(
        properties(&outcome_form, "form"),
        sorted(TEST_OUTCOME_FIELDS)
    );
    // Form and JSON each have a schema of their own, so generators tell them
    // apart; form fields are flat text.
    let content = &create["requestBody"]["content"];
    assert_ne!(
        content["application/json"]["schema"],
        content["application/x-www-form-urlencoded"]["schema"]
    );
    let form = &DOCUMENT["components"]["schemas"]["CreateIdentificationForm"]["properties"];
    for (name, schema) in form.as_object().expect("form properties") {
        let text = serde_json::to_string(schema).expect("json");
        assert!(
            !text.contains("\"object\"") && !text.contains("\"boolean\""),
            "{name}: {text}"
        );
    }
}

#[tokio::test]
async fn the_served_document_is_the_checked_one_with_this_deployments_server() {
    let app = spawn_app().await;
    let served: Value = app
        .get_anonymous("/v1/openapi.json")
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(served["servers"][0]["url"], json!(app.address));
    let mut expected = proofme::api::openapi::document(&app.address);
    expected["servers"] = served["servers"].clone();
    assert_eq!(served, expected);
}

#[tokio::test]
async fn docs_serves_the_vendored_reference_renderer_under_a_tight_policy() {
    let app = spawn_app().await;
    let page = app.get_anonymous("/docs").await;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .expect("policy")
        .to_owned();
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(content_type(&page).starts_with("text/html"));
    let html = page.text().await.expect("page");
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains("<script type=\"module\" src=\"/docs/docs.js\"></script>"));

    let start = app.get_anonymous("/docs/docs.js").await;
    assert!(content_type(&start).starts_with("text/javascript"));
    let start = start.text().await.expect("script");
    assert!(start.contains("'/v1/openapi.json'"), "{start}");
    let bundle = start
        .split('\'')
        .find(|s| s.starts_with("/docs/redoc-"))
        .expect("the bundle's path");

    let redoc = app.get_anonymous(bundle).await;
    assert_eq!(redoc.status(), 200, "{bundle}");
    assert!(content_type(&redoc).starts_with("text/javascript"));
    assert!(
        redoc.headers()["cache-control"]
            .to_str()
            .is_ok_and(|c| c.contains("immutable"))
    );
    assert!(redoc.text().await.expect("bundle").contains("Redocly"));
}
