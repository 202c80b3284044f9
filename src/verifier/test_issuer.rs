//! `POST /oid4vp/test-issuer/credential`: a test PID for the holder key in the
//! request, signed by the built-in test issuer. Only test identifications
//! trust that issuer, so these credentials can finish nothing live; they let
//! integrators (and `proofme wallet present`) run the real protocol without a
//! phone.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::time::Duration;

use super::OAuthError;
use crate::AppState;
use crate::domain::Timestamp;
use crate::oid4vp::jose::{self, Jwk};

pub const BODY_LIMIT: usize = 64 * 1024;
/// Test PIDs are valid for a year.
const VALIDITY: Duration = Duration::from_secs(365 * 86_400);

/// Body: `{"holderJwk": <EC P-256 JWK>, "claims": {<PID claims>}}`.
pub async fn issue(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(mut request) = jose::parse_json_object(&body) else {
        return OAuthError::invalid_request("the body must be a JSON object").into_response();
    };
    let holder = match request.remove("holderJwk").map(|v| Jwk::from_value(&v)) {
        Some(Ok(jwk)) if jwk.to_public_key().is_ok() => jwk,
        _ => {
            return OAuthError::invalid_request("holderJwk must be an EC P-256 public key")
                .into_response();
        }
    };
    let Some(Value::Object(claims)) = request.remove("claims") else {
        return OAuthError::invalid_request("claims must be a JSON object").into_response();
    };
    let now = Timestamp::now();
    let Some(vct) = state.verifier.vct_values.first() else {
        return OAuthError::server_error().into_response();
    };
    let credential = state.verifier.test_issuer.issue(
        &claims,
        &holder,
        vct,
        now.unix_seconds(),
        now.plus(VALIDITY).unix_seconds(),
    );
    (StatusCode::OK, Json(json!({ "credential": credential }))).into_response()
}
