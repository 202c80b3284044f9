//! The JSON API under `/v1`.

pub mod auth;
pub mod error;
pub mod identifications;
pub mod in_flight;
pub mod input;
pub mod rate_limit;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;
use error::{ApiError, PROBLEM_JSON, Problem, generic_detail};
use std::sync::Arc;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Proofme API",
        description = "Create identification intents, send customers to MyPage, read the outcome."
    ),
    paths(
        identifications::create::create,
        identifications::get::get,
        identifications::list::list,
        identifications::revoke::revoke,
        identifications::test_outcome::test_outcome,
        identifications::history::history,
        identifications::webhooks::webhooks,
        identifications::data::get_data,
        identifications::data::delete_data,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags((name = "identifications", description = "Identification intents"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: test_… or live_…"))
                    .build(),
            ),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound("There is no such API endpoint.".into())
}

/// Turns any error response that is not already problem+json (a rejection from
/// axum, a 405 from the router, a limit or timeout layer) into one, keeping
/// its status and headers such as `Allow`.
fn problem_for_every_error(res: Response) -> Response {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes() == PROBLEM_JSON.as_bytes());
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let fresh = Problem::new(status, generic_detail(status), None).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        fresh.headers()[header::CONTENT_TYPE].clone(),
    );
    Response::from_parts(parts, fresh.into_body())
}

fn is_api_path(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

/// Every error under `/v1`, from whichever layer, as problem+json. It wraps
/// the whole app, so timeouts and panics are covered too. (That `/v1`
/// answers are never cached nor sniffed, `edge::headers` sees to.)
pub async fn v1_problems(req: Request, next: Next) -> Response {
    if !is_api_path(req.uri().path()) {
        return next.run(req).await;
    }
    problem_for_every_error(next.run(req).await)
}

/// An endpoint that needs an API key, with the rate limits around it (see
/// `auth`). Per method router, so a wrong method is a 405 without a key.
pub(crate) fn authenticated(
    endpoint: MethodRouter<AppState>,
    gate: &Arc<auth::Gate>,
) -> MethodRouter<AppState> {
    endpoint.route_layer(middleware::from_fn_with_state(
        gate.clone(),
        auth::authenticate,
    ))
}

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(identifications::router(state))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1", axum::routing::any(unknown_route))
        .route("/v1/{*rest}", axum::routing::any(unknown_route))
        .layer(DefaultBodyLimit::max(input::BODY_LIMIT))
}
