//! The browser's Digital Credentials API (OpenID4VP 1.0 Appendix A): MyPage
//! asks `POST /{id}/dc-api/request` for a signed request object, hands it to
//! `navigator.credentials.get`, and posts the wallet's encrypted answer to
//! `POST /{id}/dc-api/response`.
//!
//! Only pages of our own origin may ask: the browser tells the wallet which
//! origin asked, the wallet binds its presentation to it, and we bind to the
//! origin of `PROOFME_PUBLIC_URL`. A presentation bound to another origin or
//! to a superseded request is no answer to this one and changes nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::OAuthError;
use super::request::{self, Delivery, Started};
use super::response::{self, Binding, BoundTo};
use crate::AppState;
use crate::domain::IdentificationId;
use crate::store::WalletFlow;

/// The largest body `POST /{id}/dc-api/request` reads: it needs none.
pub const REQUEST_LIMIT: usize = 1024;

/// The origin of `public_url` (scheme, host, port): what the browser sends
/// as `Origin` from MyPage and tells the wallet.
pub fn public_origin(public_url: &str) -> Option<String> {
    let url = url::Url::parse(public_url).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Refuses anything not sent by a page of our own origin.
fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<String, OAuthError> {
    let refused = || {
        OAuthError::new(
            StatusCode::FORBIDDEN,
            "invalid_request",
            "only MyPage itself may ask",
        )
    };
    let ours = public_origin(&state.config.public_url).ok_or_else(refused)?;
    let theirs = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if theirs == Some(ours.as_str()) {
        Ok(ours)
    } else {
        Err(refused())
    }
}

/// The answer for an identification that has no request to give.
fn no_request(started: &Started) -> Response {
    match started {
        Started::Final => OAuthError::new(
            StatusCode::CONFLICT,
            "invalid_request",
            "the identification is over",
        )
        .into_response(),
        _ => OAuthError::new(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "there is no open identification here",
        )
        .into_response(),
    }
}

/// `POST /{id}/dc-api/request`: a new transaction, as a wallet's fetch starts
/// one, and `{"request": <signed request object>}` for the browser.
pub async fn post_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let origin = match same_origin(&state, &headers) {
        Ok(o) => o,
        Err(refused) => return refused.into_response(),
    };
    let delivery = Delivery::DcApi { origin: &origin };
    match request::start(&state, &id, delivery).await {
        Ok(Started::Request(jwt)) => {
            (StatusCode::OK, Json(json!({ "request": jwt }))).into_response()
        }
        Ok(other) => no_request(&other),
        Err(e) => e.into_response("starting a Digital Credentials API request"),
    }
}

/// The JWE in the page's body: `{"response": "<JWE>"}`, or the wallet's
/// `data` passed through as it is, `{"response": {"response": "<JWE>"}}`.
fn read_jwe(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    match value.get("response")? {
        Value::String(jwe) => Some(jwe.clone()),
        Value::Object(data) => data.get("response")?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// `POST /{id}/dc-api/response`: the wallet's `dc_api.jwt` answer, by way of
/// the page. Taken like a `direct_post.jwt` answer, but bound to our origin,
/// and only for a transaction started by `/{id}/dc-api/request`. Once taken,
/// whatever the outcome, the page gets `{"redirect_uri"}` to follow, as a
/// wallet would. Only encrypted answers are taken here: a customer who
/// closes the browser's sheet leaves the request open, and the page says so.
pub async fn post_response(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let unusable = || OAuthError::invalid_request("the response cannot be used").into_response();
    let origin = match same_origin(&state, &headers) {
        Ok(o) => o,
        Err(refused) => return refused.into_response(),
    };
    let Ok(id) = IdentificationId::parse(&id) else {
        return unusable();
    };
    let Some(jwe) = read_jwe(&body) else {
        return OAuthError::invalid_request("response is required").into_response();
    };
    let (transaction, payload, key) = match response::open(&state, &jwe, WalletFlow::DcApi).await {
        Ok(opened) => opened,
        Err(reason) => {
            tracing::info!(reason, "Digital Credentials API response refused");
            return unusable();
        }
    };
    // The page names its identification: an answer for another one is not
    // for this page, whatever it holds.
    if transaction.identification_id != id {
        tracing::info!("Digital Credentials API response for another identification refused");
        return unusable();
    }
    let answer = response::read_answer(&payload);
    let binding = Binding {
        response_key: &key,
        to: BoundTo::Origin(&origin),
    };
    match response::finish(&state, &transaction, answer, &binding).await {
        Ok(reply) => reply,
        Err(e) => e.into_response("recording a Digital Credentials API response"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_origin_drops_the_path_and_a_default_port() {
        assert_eq!(
            public_origin("https://pay.example.com:443/my").as_deref(),
            Some("https://pay.example.com")
        );
        assert_eq!(
            public_origin("http://127.0.0.1:3000").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(public_origin("not a url"), None);
    }

    #[test]
    fn the_response_is_read_as_a_string_or_as_the_wallets_data_object() {
        assert_eq!(
            read_jwe(br#"{"response":"a.b.c.d.e"}"#).as_deref(),
            Some("a.b.c.d.e")
        );
        assert_eq!(
            read_jwe(br#"{"response":{"response":"a.b.c.d.e"}}"#).as_deref(),
            Some("a.b.c.d.e")
        );
        assert_eq!(read_jwe(br#"{"response":1}"#), None);
        assert_eq!(read_jwe(b"response=a.b.c.d.e"), None);
    }
}
