//! The OpenID4VP verifier behind MyPage's wallet link (DESIGN 4a): the
//! request object a wallet fetches, the encrypted response it posts, and the
//! test issuer that lets integrators finish test identifications through the
//! real protocol. The cryptography lives in `crate::oid4vp`.

pub mod identity;
pub mod request;
pub mod response;
pub mod test_issuer;

pub use identity::{IdentityError, Verifier, VerifierIdentity};

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;

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

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        (self.status, Json(body)).into_response()
    }
}

pub fn router() -> Router<AppState> {
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
        .route(
            "/oid4vp/test-issuer/credential",
            post(test_issuer::issue).layer(DefaultBodyLimit::max(test_issuer::BODY_LIMIT)),
        )
    // Protocol answers are for one wallet, once: like every answer they are
    // never cached nor sniffed (`edge::headers`).
}
