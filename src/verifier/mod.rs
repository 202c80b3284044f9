//! The OpenID4VP verifier behind MyPage's wallet link (DESIGN 4a): the
//! request object a wallet fetches, the encrypted response it posts, and the
//! test issuer that lets integrators finish test identifications through the
//! real protocol. The cryptography lives in `crate::oid4vp`.

pub mod dc_api;
pub mod identity;
pub mod request;
pub mod response;
pub mod revocation;
pub mod test_issuer;
pub mod test_status_lists;

pub use identity::{IdentityError, Verifier, VerifierIdentity};

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Json, Router};
use serde_json::json;
use std::sync::Arc;

use crate::AppState;
use crate::config::Config;
use crate::lifecycle::SealError;
use crate::store::StoreError;

/// An OAuth-style error, as wallets expect them: `{"error": …}`.
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: &'static str) -> Self {
        OAuthError {
            status,
            error,
            description,
        }
    }

    pub fn invalid_request(description: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "something went wrong on our side",
        )
    }
}

/// Why a wallet endpoint could not answer: the store, which may be
/// unavailable only for a while, or anything else.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

impl From<String> for Failure {
    fn from(e: String) -> Failure {
        Failure::Other(e)
    }
}

impl From<&str> for Failure {
    fn from(e: &str) -> Failure {
        Failure::Other(e.to_owned())
    }
}

impl From<SealError> for Failure {
    fn from(e: SealError) -> Failure {
        match e {
            SealError::Store(e) => Failure::Store(e),
            other => Failure::Other(other.to_string()),
        }
    }
}

impl Failure {
    /// 503 `temporarily_unavailable` with `Retry-After` while the database
    /// is unavailable for a while (the wallet may send it again); else 500.
    /// The cause is logged, with `what` was being done.
    pub fn into_response(self, what: &'static str) -> Response {
        let retry_after = match &self {
            Failure::Store(e) => e.retry_after(),
            Failure::Other(_) => None,
        };
        let Some(retry_after) = retry_after else {
            tracing::error!(error = %self, "{what} failed");
            return OAuthError::server_error().into_response();
        };
        tracing::warn!(error = %self, "{what} refused: the database is unavailable");
        let mut res = OAuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "please try again shortly",
        )
        .into_response();
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after.as_secs().max(1)),
        );
        res
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        (self.status, Json(body)).into_response()
    }
}

/// The wallet endpoints; `config` sets the test issuer's rate limit.
pub fn router(config: &Config) -> Router<AppState> {
    let issue_limiter = Arc::new(test_issuer::IssueLimiter::new(
        config.test_issuer_rate_limit,
        test_issuer::MAX_BURST,
    ));
    let list_limiter = Arc::new(test_status_lists::ListLimiter(
        crate::http_common::address_limit::AddressLimiter::new(
            config.test_issuer_rate_limit,
            test_issuer::MAX_BURST,
        ),
    ));
    Router::new()
        .route(
            "/oid4vp/request/{id}",
            get(request::get_request)
                .post(request::post_request)
                .layer(DefaultBodyLimit::max(request::POST_LIMIT)),
        )
        .route(
            "/oid4vp/response",
            post(response::post_response).layer(DefaultBodyLimit::max(response::RESPONSE_LIMIT)),
        )
        // MyPage's Digital Credentials API: same-origin JSON for its script.
        .route(
            "/{id}/dc-api/request",
            post(dc_api::post_request).layer(DefaultBodyLimit::max(dc_api::REQUEST_LIMIT)),
        )
        .route(
            "/{id}/dc-api/response",
            post(dc_api::post_response).layer(DefaultBodyLimit::max(response::RESPONSE_LIMIT)),
        )
        .route(
            "/oid4vp/test-issuer/credential",
            post(test_issuer::issue).layer(DefaultBodyLimit::max(test_issuer::BODY_LIMIT)),
        )
        .route(
            "/oid4vp/test-issuer/status-lists/{k}",
            get(test_status_lists::get_list),
        )
        .route("/oid4vp", any(unknown_endpoint))
        .route("/oid4vp/{*rest}", any(unknown_endpoint))
        .layer(Extension(issue_limiter))
        .layer(Extension(list_limiter))
    // Protocol answers are for one wallet, once: like every answer they are
    // never cached nor sniffed (`http_common::headers`).
}

async fn unknown_endpoint() -> OAuthError {
    OAuthError::new(
        StatusCode::NOT_FOUND,
        "invalid_request",
        "there is no such endpoint",
    )
}

fn is_wallet_path(path: &str) -> bool {
    path == "/oid4vp" || path.starts_with("/oid4vp/")
}

/// The OAuth error code and description for an error status that reached a
/// wallet endpoint without an OAuth body (a rejection, a limit, a timeout).
fn oauth_error_for(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("invalid_request", "there is no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ("invalid_request", "this method is not allowed here"),
        StatusCode::PAYLOAD_TOO_LARGE => ("invalid_request", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("invalid_request", "the content type is not supported")
        }
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            ("invalid_request", "the request headers are too large")
        }
        StatusCode::FORBIDDEN => ("access_denied", "this is not allowed"),
        StatusCode::REQUEST_TIMEOUT
        | StatusCode::TOO_MANY_REQUESTS
        | StatusCode::SERVICE_UNAVAILABLE => {
            ("temporarily_unavailable", "please try again shortly")
        }
        s if s.is_server_error() => ("server_error", "something went wrong on our side"),
        _ => ("invalid_request", "the request could not be read"),
    }
}

/// Every error under `/oid4vp/`, from whichever layer (axum's rejections,
/// the router's 404 and 405, body limits, timeouts, panics), as the OAuth
/// JSON wallets read: `{"error", "error_description"}`, keeping its status
/// and headers such as `Allow` and `Retry-After`. Wraps the whole app, as
/// `api::v1_problems` does for `/v1`.
pub async fn oauth_errors(req: Request, next: Next) -> Response {
    if !is_wallet_path(req.uri().path()) {
        return next.run(req).await;
    }
    let res = next.run(req).await;
    let status = res.status();
    let is_ours = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes() == b"application/json");
    if !(status.is_client_error() || status.is_server_error()) || is_ours {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let (error, description) = oauth_error_for(status);
    let body = OAuthError::new(status, error, description)
        .into_response()
        .into_body();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, body)
}
