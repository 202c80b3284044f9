//! `GET /oid4vp/test-issuer/status-lists/{k}`: the Token Status Lists
//! (draft-ietf-oauth-status-list) of the credentials the test issuer
//! issues, so integrators can try a revoked or suspended credential.
//!
//! Every test credential carries a reference to its entry (`idx` in list
//! `k`, see `store::test_credentials`); the list is served as a Status List
//! Token signed by the test SD-JWT issuer, with the same `x5c` chain as its
//! credentials, so only test identifications trust it. The verifier reads
//! its own lists in process ([`status_list_token`], [`own_list_number`]),
//! without a request to itself.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

use super::test_issuer::rate_refusal;
use super::{Failure, OAuthError, Verifier};
use crate::AppState;
use crate::connections::ClientAddr;
use crate::http_common::address_limit::AddressLimiter;
use crate::oid4vp::status_list::{StatusList, StatusListError, TYP_STATUS_LIST_JWT};
use crate::store::{Store, StoreError, TEST_STATUS_LIST_ENTRIES};

/// Where the lists are, under the public URL; list `k` is this plus `k`.
pub const PATH_PREFIX: &str = "/oid4vp/test-issuer/status-lists/";
/// Bits per entry: enough for valid (0), invalid (1) and suspended (2).
pub const BITS: u8 = 2;
/// How long a verifier may keep a list before fetching it again: short, so
/// a credential revoked in a test is seen as revoked within a minute.
pub const TTL_SECS: u64 = 60;
/// How long a token is valid: long past its `ttl`, for verifiers that
/// cannot fetch a fresh one for a while.
pub const LIFETIME_SECS: i64 = 86_400;
/// The media type of a Status List Token in JWT form (§5.1).
pub const CONTENT_TYPE: &str = "application/statuslist+jwt";

/// Fetches of the lists per client address: their own allowance, so that
/// verifiers fetching lists do not use up the issuer's (see
/// `PROOFME_TEST_ISSUER_RATE_LIMIT`, which sets both).
pub struct ListLimiter(pub AddressLimiter);

/// Why a Status List Token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StatusListTokenError {
    /// No credential has an entry in this list (yet).
    #[error("there is no test status list {0}")]
    UnknownList(u32),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Our own list broke our own rules: a bug.
    #[error("building test status list: {0}")]
    List(#[from] StatusListError),
}

/// The `uri` of test status list `list_no` (the token's `sub`).
pub fn list_uri(public_url: &str, list_no: u32) -> String {
    format!("{public_url}{PATH_PREFIX}{list_no}")
}

/// The list number if `uri` is exactly the `uri` of one of our own test
/// status lists (as [`list_uri`] writes it); `None` for any other URI.
pub fn own_list_number(public_url: &str, uri: &str) -> Option<u32> {
    let k = uri.strip_prefix(public_url)?.strip_prefix(PATH_PREFIX)?;
    parse_list_number(k)
}

/// A list number as [`list_uri`] writes it: decimal digits without a
/// leading zero, so every list has one URI, the one its token names.
fn parse_list_number(k: &str) -> Option<u32> {
    let canonical =
        !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) && (k == "0" || !k.starts_with('0'));
    if canonical { k.parse().ok() } else { None }
}

/// The Status List Token of test status list `list_no` as it stands now
/// (`now` in Unix seconds): a JWS (ES256) by the test SD-JWT issuer with
/// its `x5c` chain, `typ: statuslist+jwt`, `sub` the list's URI under
/// `public_url`, `iat`, `exp`, `ttl` and the list (2 bits per entry).
pub async fn status_list_token(
    verifier: &Verifier,
    store: &Store,
    public_url: &str,
    list_no: u32,
    now: i64,
) -> Result<String, StatusListTokenError> {
    let entries = store
        .test_status_list(list_no)
        .await?
        .ok_or(StatusListTokenError::UnknownList(list_no))?;
    let mut list = StatusList::all_valid(BITS, TEST_STATUS_LIST_ENTRIES as usize)?;
    for (idx, status) in entries {
        list.set(u64::from(idx), status.code())?;
    }
    let claims = token_claims(&list_uri(public_url, list_no), &list, now);
    // Inline, not on the blocking pool: a list is 16 KiB, mostly zeros,
    // which compress and sign in well under a millisecond.
    Ok(verifier.test_issuer.sign_jwt(TYP_STATUS_LIST_JWT, &claims))
}

fn token_claims(sub: &str, list: &StatusList, now: i64) -> Map<String, Value> {
    Map::from_iter([
        ("sub".to_owned(), json!(sub)),
        ("iat".to_owned(), json!(now)),
        ("exp".to_owned(), json!(now.saturating_add(LIFETIME_SECS))),
        ("ttl".to_owned(), json!(TTL_SECS)),
        (
            "status_list".to_owned(),
            json!({ "bits": list.bits(), "lst": list.encode_lst() }),
        ),
    ])
}

fn unknown_list() -> Response {
    OAuthError::new(
        StatusCode::NOT_FOUND,
        "invalid_request",
        "there is no such test status list",
    )
    .into_response()
}

pub async fn get_list(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<ListLimiter>>,
    client: ClientAddr,
    Path(k): Path<String>,
) -> Response {
    if let Some(refused) = rate_refusal(&limiter.0, client) {
        return refused;
    }
    let Some(list_no) = parse_list_number(&k) else {
        return unknown_list();
    };
    let now = state.clock.now().unix_seconds();
    match status_list_token(
        &state.verifier,
        &state.store,
        &state.config.public_url,
        list_no,
        now,
    )
    .await
    {
        Ok(token) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            token,
        )
            .into_response(),
        Err(StatusListTokenError::UnknownList(_)) => unknown_list(),
        Err(StatusListTokenError::Store(e)) => {
            Failure::from(e).into_response("serving a test status list")
        }
        Err(e @ StatusListTokenError::List(_)) => {
            Failure::from(e.to_string()).into_response("serving a test status list")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://proofme.example/base";

    #[test]
    fn our_own_list_uris_are_recognised_and_nothing_else() {
        assert_eq!(own_list_number(BASE, &list_uri(BASE, 0)), Some(0));
        assert_eq!(own_list_number(BASE, &list_uri(BASE, 7)), Some(7));
        assert_eq!(
            own_list_number(BASE, &list_uri(BASE, u32::MAX)),
            Some(u32::MAX)
        );
        for other in [
            "https://proofme.example/base/oid4vp/test-issuer/status-lists/",
            "https://proofme.example/base/oid4vp/test-issuer/status-lists/07",
            "https://proofme.example/base/oid4vp/test-issuer/status-lists/+7",
            "https://proofme.example/base/oid4vp/test-issuer/status-lists/7/",
            "https://proofme.example/base/oid4vp/test-issuer/status-lists/7?x=1",
            "https://proofme.example/base/oid4vp/test-issuer/status-lists/4294967296",
            "https://proofme.example/oid4vp/test-issuer/status-lists/7",
            "https://elsewhere.example/base/oid4vp/test-issuer/status-lists/7",
            "http://proofme.example/base/oid4vp/test-issuer/status-lists/7",
        ] {
            assert_eq!(own_list_number(BASE, other), None, "{other}");
        }
    }

    #[test]
    fn the_claims_name_the_list_and_say_how_long_to_keep_it() {
        let mut list = StatusList::all_valid(BITS, 16).unwrap();
        list.set(3, 2).unwrap();

        let claims = token_claims(&list_uri(BASE, 1), &list, 1_750_000_000);

        assert_eq!(claims["sub"], list_uri(BASE, 1));
        assert_eq!(claims["iat"], 1_750_000_000);
        assert_eq!(claims["exp"], 1_750_000_000 + LIFETIME_SECS);
        assert_eq!(claims["ttl"], TTL_SECS);
        assert_eq!(
            StatusList::from_json(&claims["status_list"], 1024).unwrap(),
            list
        );
    }
}
