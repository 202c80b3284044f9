//! Bearer API-key authentication and the rate limits around it, in one layer
//! on the authenticated routes (one layer rather than three: each layer boxes
//! the request's future and clones what it holds, a measurable share of a
//! cached read). In order:
//!
//! 1. an address that failed too often is refused (429) before its key is
//!    looked at; every 401 counts against it;
//! 2. the key is looked up (401 for a missing, unknown or revoked key) and
//!    handed to the handler;
//! 3. each key's own rate (429).
//!
//! A key that authenticates is noted as used (`Store::api_key_used`): no
//! database write on the request's path.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::rate_limit::Limits;
use super::rate_limit::retry_after_secs;
use crate::connections::ClientAddr;
use crate::store::{ApiKey, Store};
use std::sync::Arc;

/// The authenticated caller, as `authenticate` found it.
pub struct Caller(pub ApiKey);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Only a route without the `authenticate` layer lacks it: refuse.
        parts
            .extensions
            .get::<ApiKey>()
            .cloned()
            .map(Caller)
            .ok_or(ApiError::Unauthorized("This endpoint needs an API key."))
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

/// What the authentication layer needs, shared by every authenticated route.
pub struct Gate {
    pub store: Store,
    pub limits: Limits,
}

/// The authentication layer: see the module's documentation.
pub async fn authenticate(
    State(gate): State<Arc<Gate>>,
    ClientAddr(client): ClientAddr,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(wait) = client.and_then(|c| gate.limits.auth_failures.wait(c)) {
        return ApiError::TooManyFailedAuthentications(retry_after_secs(wait)).into_response();
    }
    let found = match bearer_secret(req.headers()) {
        Ok(secret) => gate
            .store
            .find_api_key(secret)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let res = match found {
        Ok(Some(key)) => {
            // In memory, except once a minute per key (a spawned write).
            gate.store.api_key_used(&key.id);
            if let Err(wait) = gate.limits.per_key.check(key.id.as_str()) {
                return ApiError::TooManyRequests(retry_after_secs(wait)).into_response();
            }
            req.extensions_mut().insert(key);
            next.run(req).await
        }
        Ok(None) => {
            ApiError::Unauthorized("The API key is not valid or was revoked.").into_response()
        }
        Err(e) => e.into_response(),
    };
    if let (Some(client), StatusCode::UNAUTHORIZED) = (client, res.status()) {
        gate.limits.auth_failures.failed(client);
    }
    res
}
