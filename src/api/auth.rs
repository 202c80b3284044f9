//! Bearer API-key authentication and the rate limits around it, as the
//! `Caller` extractor, the first fallible one of every authenticated handler
//! (an extractor rather than a layer: a layer clones the route below it and
//! boxes the request's future, a measurable share of a cached read). In
//! order:
//!
//! 1. an address that failed too often is refused (429) before its key is
//!    looked at; every 401 counts against it;
//! 2. the key is looked up (401 for a missing, unknown or revoked key) and
//!    handed to the handler;
//! 3. each key's own rate (429).
//!
//! A key that authenticates is noted as used (`Store::api_key_used`): no
//! database write on the request's path.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use super::error::ApiError;
use super::rate_limit::retry_after_secs;
use crate::AppState;
use crate::connections::ClientAddr;
use crate::store::ApiKey;

/// The authenticated caller. Taking it is what makes a handler need an API
/// key; `router` checks that every `/v1` operation does.
pub struct Caller(pub ApiKey);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let client = ClientAddr::of(&parts.extensions).0;
        let limits = &state.limits;
        if let Some(wait) = client.and_then(|c| limits.auth_failures.wait(c)) {
            return Err(ApiError::TooManyFailedAuthentications(retry_after_secs(
                wait,
            )));
        }
        let found = match bearer_secret(&parts.headers) {
            Ok(secret) => state
                .store
                .find_api_key(secret)
                .await
                .map_err(ApiError::from),
            Err(e) => Err(e),
        };
        let found = found.and_then(|key| {
            key.ok_or(ApiError::Unauthorized(
                "The API key is not valid or was revoked.",
            ))
        });
        let key = match found {
            Ok(key) => key,
            Err(e) => {
                if let (Some(client), ApiError::Unauthorized(_)) = (client, &e) {
                    limits.auth_failures.failed(client);
                }
                return Err(e);
            }
        };
        // In memory, except once a minute per key (a spawned write).
        state.store.api_key_used(&key.id);
        if let Err(wait) = limits.per_key.check(key.id.as_str()) {
            return Err(ApiError::TooManyRequests(retry_after_secs(wait)));
        }
        Ok(Caller(key))
    }
}

/// The API key secret of a request, or why there is none.
fn bearer_secret(parts: &axum::http::HeaderMap) -> Result<&str, ApiError> {
    let header = parts
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
    Ok(secret)
}
