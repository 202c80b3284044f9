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
use crate::oid4vp::dcql;
use crate::oid4vp::jose::{self, Jwk};
use crate::oid4vp::mdoc::{issue::Validity, sample};

pub const BODY_LIMIT: usize = 64 * 1024;
/// Test PIDs are valid for a year.
const VALIDITY: Duration = Duration::from_secs(365 * 86_400);

/// Body: `{"holderJwk": <EC P-256 JWK>, "claims": {<PID claims>}}`, and
/// for an mdoc `"format": "mso_mdoc", "doctype": <doctype>` with the claims
/// its elements (dates as `YYYY-MM-DD`, portraits as `data:` URLs). An mdoc
/// comes back as the base64url of its `IssuerSigned` CBOR.
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
    match request.remove("format").as_ref().map(Value::as_str) {
        None | Some(Some(dcql::FORMAT)) => {}
        Some(Some(dcql::MDOC_FORMAT)) => {
            let doctype = request.remove("doctype");
            return match issue_mdoc(&state, &holder, doctype.as_ref(), &claims, now) {
                Ok(credential) => {
                    (StatusCode::OK, Json(json!({ "credential": credential }))).into_response()
                }
                Err(why) => OAuthError::invalid_request(why).into_response(),
            };
        }
        Some(_) => {
            return OAuthError::invalid_request("format must be dc+sd-jwt or mso_mdoc")
                .into_response();
        }
    }
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

fn issue_mdoc(
    state: &AppState,
    holder: &Jwk,
    doctype: Option<&Value>,
    claims: &serde_json::Map<String, Value>,
    now: Timestamp,
) -> Result<String, &'static str> {
    let doctype = doctype.and_then(Value::as_str).unwrap_or_default();
    let namespace = sample::namespace_of(doctype).ok_or(
        "doctype must be eu.europa.ec.eudi.pid.1, org.iso.18013.5.1.mDL or eu.europa.ec.av.1",
    )?;
    let elements = sample::elements(namespace, claims)
        .map_err(|_| "claims must be elements: dates as YYYY-MM-DD, portraits as data: URLs")?;
    let device_key = holder
        .to_public_key()
        .map(p256::ecdsa::VerifyingKey::from)
        .map_err(|_| "holderJwk must be an EC P-256 public key")?;
    let validity = Validity {
        signed: now.unix_seconds(),
        valid_from: now.unix_seconds(),
        valid_until: now.plus(VALIDITY).unix_seconds(),
    };
    let issuer_signed =
        state
            .verifier
            .test_mdoc_issuer
            .issue(doctype, &elements, &device_key, validity);
    Ok(jose::b64url_encode(issuer_signed))
}
