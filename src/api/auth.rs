//! Bearer API-key authentication.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use super::error::ApiError;
use crate::AppState;
use crate::store::ApiKey;

/// The authenticated caller: extracting it answers 401 for a missing, unknown
/// or revoked key.
pub struct Caller(pub ApiKey);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthorized(
                "Send your API key as `Authorization: Bearer <key>`.",
            ))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::Unauthorized("The Authorization header is not valid."))?;
        let secret = match value.split_once(' ') {
            Some((scheme, secret)) if scheme.eq_ignore_ascii_case("bearer") => secret.trim(),
            _ => {
                return Err(ApiError::Unauthorized(
                    "Use the Bearer scheme: `Authorization: Bearer <key>`.",
                ));
            }
        };
        if !(secret.starts_with("test_") || secret.starts_with("live_")) {
            return Err(ApiError::Unauthorized("The API key is not valid."));
        }
        let key = state
            .store
            .find_api_key(secret)
            .await?
            .ok_or(ApiError::Unauthorized(
                "The API key is not valid or was revoked.",
            ))?;
        state
            .rate_limiter
            .check(key.id.as_str())
            .map_err(|wait| ApiError::TooManyRequests(wait.as_secs_f64().ceil().max(1.0) as u64))?;
        Ok(Caller(key))
    }
}
