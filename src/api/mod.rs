//! The JSON API under `/v1`.

pub mod auth;
pub mod docs;
pub mod error;
pub mod identifications;
pub mod in_flight;
pub mod input;
pub mod openapi;
pub mod rate_limit;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;

use crate::AppState;
use crate::config::Config;
use error::{ApiError, PROBLEM_JSON, Problem, generic_detail};

async fn openapi(State(config): State<Arc<Config>>) -> Json<serde_json::Value> {
    Json(openapi::document(&config.public_url))
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound("There is no such API endpoint.".into())
}

/// Turns any error response that is not already problem+json (a rejection from
/// axum, a 405 from the router, a limit or timeout layer) into one, keeping
/// its status and headers such as `Allow`; and gives every problem its
/// `instance`, the path of the request.
async fn problem_for_every_error(res: Response, instance: &str) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes() == PROBLEM_JSON.as_bytes());
    let (mut parts, body) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let ours = match is_problem {
        true => with_instance(body, instance).await,
        false => None,
    };
    let body = ours.unwrap_or_else(|| {
        let mut problem = Problem::new(status, generic_detail(status), None);
        problem.instance = Some(instance.to_owned());
        parts
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        problem.into_response().into_body()
    });
    Response::from_parts(parts, body)
}

/// The largest problem body read back to add its `instance`; ours are far
/// smaller.
const PROBLEM_BODY_LIMIT: usize = 16 * 1024;

/// A problem body with `instance` added, if it can be read as one.
async fn with_instance(body: Body, instance: &str) -> Option<Body> {
    let bytes = axum::body::to_bytes(body, PROBLEM_BODY_LIMIT).await.ok()?;
    let mut fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).ok()?;
    fields.entry("instance").or_insert_with(|| instance.into());
    serde_json::to_vec(&fields).ok().map(Body::from)
}

fn is_api_path(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

/// Every error under `/v1`, from whichever layer, as problem+json. It wraps
/// the whole app, so timeouts and panics are covered too. (That `/v1`
/// answers are never cached nor sniffed, `http_common::headers` sees to.)
pub async fn v1_problems(req: Request, next: Next) -> Response {
    if !is_api_path(req.uri().path()) {
        return next.run(req).await;
    }
    let instance = req.uri().path().to_owned();
    problem_for_every_error(next.run(req).await, &instance).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(identifications::router())
        .merge(docs::router())
        .route("/v1/openapi.json", get(openapi))
        .route("/v1", axum::routing::any(unknown_route))
        .route("/v1/{*rest}", axum::routing::any(unknown_route))
        .layer(DefaultBodyLimit::max(input::BODY_LIMIT))
}
