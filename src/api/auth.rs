//! Bearer API-key authentication and the rate limits around it, as three
//! layers on the authenticated routes (outermost first):
//!
//! 1. `limit_failed_authentications`: an address that failed too often is
//!    refused (429) before its key is looked at; every 401 counts.
//! 2. `authenticate`: looks the key up (401 for a missing, unknown or revoked
//!    key) and hands it to the handler.
//! 3. `limit_per_key`: each key's own rate (429).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::rate_limit::Limits;
use super::rate_limit::retry_after_secs;
use crate::connections::ClientAddr;
use crate::store::{ApiKey, Store};

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

/// Looks the key up and puts it in the request for `Caller`.
pub async fn authenticate(State(store): State<Store>, mut req: Request, next: Next) -> Response {
    let found = match bearer_secret(req.headers()) {
        Ok(secret) => store.find_api_key(secret).await,
        Err(e) => return e.into_response(),
    };
    match found {
        Ok(Some(key)) => {
            req.extensions_mut().insert(key);
            next.run(req).await
        }
        Ok(None) => {
            ApiError::Unauthorized("The API key is not valid or was revoked.").into_response()
        }
        Err(e) => ApiError::Store(e).into_response(),
    }
}

/// Refuses a client address that has failed authentication too often, before
/// any key lookup, and counts every 401 against its address.
pub async fn limit_failed_authentications(
    State(limits): State<Limits>,
    ClientAddr(client): ClientAddr,
    req: Request,
    next: Next,
) -> Response {
    let Some(client) = client else {
        return next.run(req).await;
    };
    if let Some(wait) = limits.auth_failures.wait(client) {
        return ApiError::TooManyFailedAuthentications(retry_after_secs(wait)).into_response();
    }
    let res = next.run(req).await;
    if res.status() == StatusCode::UNAUTHORIZED {
        limits.auth_failures.failed(client);
    }
    res
}

/// Each API key's own rate.
pub async fn limit_per_key(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    if let Some(key) = req.extensions().get::<ApiKey>() {
        if let Err(wait) = limits.per_key.check(key.id.as_str()) {
            return ApiError::TooManyRequests(retry_after_secs(wait)).into_response();
        }
    }
    next.run(req).await
}
