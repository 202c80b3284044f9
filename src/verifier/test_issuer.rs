//! `POST /oid4vp/test-issuer/credential`: a test PID (SD-JWT VC, or an mdoc
//! of any doctype the verifier accepts) for the holder key in the request,
//! signed by the built-in test issuers. Only test identifications
//! trust that issuer, so these credentials can finish nothing live; they let
//! integrators (and `proofme wallet present`) run the real protocol without a
//! phone.
//!
//! It needs no API key, so it guards itself: requests are rate limited per
//! client address before anything is read; the body and the claims are
//! bounded (every claim value becomes a disclosure to hash and encode); it
//! serves only a wallet holding a live transaction of an open test
//! identification (the request's `nonce`); and the signing runs on the
//! blocking pool, off the threads that answer requests. Each step is a small
//! function of its own, for every credential format the issuer serves.
//!
//! Every credential carries a status reference: its own entry in one of the
//! test status lists (`test_status_lists`), which starts with the body's
//! `status` (valid unless asked otherwise) and can be changed afterwards.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

use super::{Failure, OAuthError, Verifier, test_status_lists};
use crate::AppState;
use crate::connections::ClientAddr;
use crate::domain::{CredentialStatus, IdentificationId, Timestamp};
use crate::http_common::address_limit::{AddressLimiter, retry_after_secs};
use crate::oid4vp::dcql;
use crate::oid4vp::jose::{self, Jwk};
use crate::oid4vp::mdoc::{issue::Validity, sample};
use crate::oid4vp::status_list::StatusReference;
use crate::store::Store;

/// The largest request body: a PID's claims with room to spare.
pub const BODY_LIMIT: usize = 8 * 1024;
/// Test PIDs are valid for a year.
const VALIDITY: Duration = Duration::from_secs(365 * 86_400);
/// The most requests one address may send at once, however high the rate.
pub const MAX_BURST: u32 = 10;
/// The longest `nonce` looked up (ours are 22 characters).
const MAX_NONCE_CHARS: usize = 128;

/// Credentials per client address (see `PROOFME_TEST_ISSUER_RATE_LIMIT`).
pub type IssueLimiter = AddressLimiter;

/// How large the claims of a test credential may be. Every value, array
/// elements included, becomes a disclosure, so these bound the work of one
/// request and the size of its answer.
#[derive(Debug, Clone, Copy)]
pub struct ClaimLimits {
    /// Members of the claims object, and of any object inside it.
    pub max_members: usize,
    /// Elements of any array.
    pub max_elements: usize,
    /// Levels of nesting, the claims object being the first.
    pub max_depth: usize,
    /// Values in all, at every level.
    pub max_values: usize,
}

/// The limits of test PIDs: a PID has ten or so claims, two levels deep.
pub const CLAIM_LIMITS: ClaimLimits = ClaimLimits {
    max_members: 32,
    max_elements: 16,
    max_depth: 4,
    max_values: 128,
};

impl ClaimLimits {
    /// `Ok` when `claims` keep within the limits; else what they break.
    pub fn check(&self, claims: &Map<String, Value>) -> Result<(), &'static str> {
        let mut values = 0;
        self.check_object(claims, 1, &mut values)
    }

    fn check_object(
        &self,
        object: &Map<String, Value>,
        depth: usize,
        values: &mut usize,
    ) -> Result<(), &'static str> {
        if object.len() > self.max_members {
            return Err("an object of claims has too many members");
        }
        object
            .values()
            .try_for_each(|v| self.check_value(v, depth + 1, values))
    }

    fn check_value(
        &self,
        value: &Value,
        depth: usize,
        values: &mut usize,
    ) -> Result<(), &'static str> {
        *values += 1;
        if *values > self.max_values {
            return Err("the claims hold too many values");
        }
        if depth > self.max_depth {
            return Err("the claims are nested too deeply");
        }
        match value {
            Value::Object(object) => self.check_object(object, depth, values),
            Value::Array(elements) if elements.len() > self.max_elements => {
                Err("an array of claims has too many elements")
            }
            Value::Array(elements) => elements
                .iter()
                .try_for_each(|v| self.check_value(v, depth + 1, values)),
            _ => Ok(()),
        }
    }
}

/// What a wallet asks the test issuer for:
/// `{"nonce": <the request's nonce>, "holderJwk": <EC P-256 JWK>, "claims": {…}}`,
/// and for an mdoc `"format": "mso_mdoc", "doctype": <doctype>`, the claims
/// then its elements (dates as `YYYY-MM-DD`, portraits as `data:` URLs);
/// optionally `"status": "valid" | "invalid" | "suspended"`.
#[derive(Debug)]
pub struct IssueRequest {
    /// The `nonce` of the request object the wallet fetched.
    pub nonce: Option<String>,
    pub holder: Jwk,
    pub claims: Map<String, Value>,
}

/// Parses and bounds a request body (at most `BODY_LIMIT` bytes, which the
/// router enforces). Members other than these are left for the caller.
pub fn parse_request(
    body: &[u8],
    limits: &ClaimLimits,
) -> Result<(IssueRequest, Map<String, Value>), OAuthError> {
    let mut request = jose::parse_json_object(body)
        .map_err(|_| OAuthError::invalid_request("the body must be a JSON object"))?;
    let nonce = match request.remove("nonce") {
        None => None,
        Some(Value::String(n)) if n.chars().count() <= MAX_NONCE_CHARS => Some(n),
        Some(_) => return Err(OAuthError::invalid_request("nonce must be a short string")),
    };
    let holder = match request.remove("holderJwk").map(|v| Jwk::from_value(&v)) {
        Some(Ok(jwk)) if jwk.to_public_key().is_ok() => jwk,
        _ => {
            return Err(OAuthError::invalid_request(
                "holderJwk must be an EC P-256 public key",
            ));
        }
    };
    let Some(Value::Object(claims)) = request.remove("claims") else {
        return Err(OAuthError::invalid_request("claims must be a JSON object"));
    };
    limits.check(&claims).map_err(OAuthError::invalid_request)?;
    Ok((
        IssueRequest {
            nonce,
            holder,
            claims,
        },
        request,
    ))
}

/// 429 with `Retry-After` once `client` has used up its allowance; `None`
/// to go ahead.
pub fn rate_refusal(limiter: &IssueLimiter, client: ClientAddr) -> Option<Response> {
    limiter.check(client.0).err().map(|wait| {
        let mut res = OAuthError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "too many requests from this address; try again later",
        )
        .into_response();
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs(wait)),
        );
        res
    })
}

/// 403 `access_denied` unless `nonce` is that of a live wallet transaction
/// of a test identification that is still open; that identification.
pub async fn authorize(store: &Store, nonce: Option<&str>) -> Result<IdentificationId, Response> {
    let denied = || {
        OAuthError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            "send the nonce of a request object of an open test identification",
        )
        .into_response()
    };
    let Some(nonce) = nonce else {
        return Err(denied());
    };
    match store.open_test_transaction(nonce).await {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(denied()),
        Err(e) => Err(Failure::from(e).into_response("checking a test issuer nonce")),
    }
}

pub async fn issue(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<IssueLimiter>>,
    client: ClientAddr,
    body: Bytes,
) -> Response {
    if let Some(refused) = rate_refusal(&limiter, client) {
        return refused;
    }
    let (request, rest) = match parse_request(&body, &CLAIM_LIMITS) {
        Ok(parsed) => parsed,
        Err(e) => return e.into_response(),
    };
    let (kind, status) = match (kind_of(&rest), status_of(&rest)) {
        (Ok(kind), Ok(status)) => (kind, status),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let id = match authorize(&state.store, request.nonce.as_deref()).await {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    let prepared = match prepare(&state.verifier, &request, kind) {
        Ok(prepared) => prepared,
        Err(why) => return OAuthError::invalid_request(why).into_response(),
    };
    // Only now, with nothing left to refuse, is an entry handed out.
    let reference = match state
        .store
        .allocate_test_credential_status(&id, status, state.clock.now())
        .await
    {
        Ok(entry) => StatusReference {
            idx: u64::from(entry.idx),
            uri: test_status_lists::list_uri(&state.config.public_url, entry.list_no),
        },
        Err(e) => return Failure::from(e).into_response("handing out a test credential status"),
    };
    let (verifier, now) = (state.verifier.clone(), state.clock.now());
    let signed =
        off_request_threads(move || sign(&verifier, &request, prepared, &reference, now)).await;
    match signed {
        Ok(credential) => {
            (StatusCode::OK, Json(json!({ "credential": credential }))).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "signing a test credential failed");
            OAuthError::server_error().into_response()
        }
    }
}

/// The status the credential's entry starts with: the body's `status`,
/// `"valid"` (the default), `"invalid"` or `"suspended"`.
fn status_of(rest: &Map<String, Value>) -> Result<CredentialStatus, OAuthError> {
    match rest.get("status") {
        None => Ok(CredentialStatus::Valid),
        Some(status) => status
            .as_str()
            .and_then(CredentialStatus::parse)
            .ok_or_else(|| {
                OAuthError::invalid_request("status must be valid, invalid or suspended")
            }),
    }
}

/// What to issue.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Pid,
    /// An mdoc of this doctype.
    Mdoc(&'static str),
}

/// The kind the body's `format` and `doctype` ask for (an SD-JWT PID when
/// there is no `format`).
fn kind_of(rest: &Map<String, Value>) -> Result<Kind, OAuthError> {
    match rest.get("format").map(Value::as_str) {
        None | Some(Some(dcql::FORMAT)) => Ok(Kind::Pid),
        Some(Some(dcql::MDOC_FORMAT)) => {
            let doctype = rest
                .get("doctype")
                .and_then(Value::as_str)
                .unwrap_or_default();
            dcql::CredentialType::ALL
                .into_iter()
                .find_map(|t| t.doctype().filter(|d| *d == doctype))
                .map(Kind::Mdoc)
                .ok_or_else(|| {
                    OAuthError::invalid_request(
                        "doctype must be eu.europa.ec.eudi.pid.1, org.iso.18013.5.1.mDL or eu.europa.ec.av.1",
                    )
                })
        }
        Some(_) => Err(OAuthError::invalid_request(
            "format must be dc+sd-jwt or mso_mdoc",
        )),
    }
}

/// A credential checked and ready to sign: everything about it that the
/// request could get wrong has been found out.
enum Prepared {
    /// An SD-JWT PID of this `vct`.
    Pid { vct: String },
    /// An mdoc of this doctype, its elements and its device key.
    Mdoc {
        doctype: &'static str,
        elements: Vec<(String, String, ciborium::Value)>,
        device_key: p256::ecdsa::VerifyingKey,
    },
}

fn prepare(
    verifier: &Verifier,
    request: &IssueRequest,
    kind: Kind,
) -> Result<Prepared, &'static str> {
    match kind {
        Kind::Pid => {
            let vct = verifier
                .vct_values
                .first()
                .ok_or("no credential type is configured")?;
            Ok(Prepared::Pid { vct: vct.clone() })
        }
        Kind::Mdoc(doctype) => {
            let namespace = sample::namespace_of(doctype).ok_or("this doctype has no namespace")?;
            let elements = sample::elements(namespace, &request.claims).map_err(
                |_| "claims must be elements: dates as YYYY-MM-DD, portraits as data: URLs",
            )?;
            let device_key = request
                .holder
                .to_public_key()
                .map(p256::ecdsa::VerifyingKey::from)
                .map_err(|_| "holderJwk must be an EC P-256 public key")?;
            Ok(Prepared::Mdoc {
                doctype,
                elements,
                device_key,
            })
        }
    }
}

/// Signs a prepared credential for `request`'s holder, valid from now, with
/// `status` as its status reference: an SD-JWT VC, or the base64url of an
/// mdoc's `IssuerSigned` CBOR.
fn sign(
    verifier: &Verifier,
    request: &IssueRequest,
    prepared: Prepared,
    status: &StatusReference,
    now: Timestamp,
) -> String {
    let until = now.plus(VALIDITY);
    match prepared {
        Prepared::Pid { vct } => verifier.test_issuer.issue_with_status(
            &request.claims,
            &request.holder,
            &vct,
            now.unix_seconds(),
            until.unix_seconds(),
            status,
        ),
        Prepared::Mdoc {
            doctype,
            elements,
            device_key,
        } => {
            let validity = Validity {
                signed: now.unix_seconds(),
                valid_from: now.unix_seconds(),
                valid_until: until.unix_seconds(),
            };
            let issuer_signed = verifier.test_mdoc_issuer.issue_with_status(
                doctype,
                &elements,
                &device_key,
                validity,
                status,
            );
            jose::b64url_encode(issuer_signed)
        }
    }
}

/// Runs `work` on the blocking pool. Hashing and signing take CPU time in
/// proportion to the claims: there, a burst of them cannot hold up the
/// threads that answer requests (`/healthz` included).
pub async fn off_request_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::task::spawn_blocking(work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    /// On a runtime of one thread, work done inline would run on that thread.
    #[tokio::test(flavor = "current_thread")]
    async fn signing_runs_off_the_request_threads() {
        let here = std::thread::current().id();

        let there = off_request_threads(|| std::thread::current().id())
            .await
            .unwrap();

        assert_ne!(there, here);
    }

    #[test]
    fn a_pid_keeps_within_the_claim_limits() {
        let pid = crate::oid4vp::holder::pid_claims::<&str>(&[]).unwrap();
        assert_eq!(CLAIM_LIMITS.check(&pid), Ok(()));
    }

    #[test]
    fn too_many_claims_are_refused() {
        let many: Map<String, Value> = (0..33).map(|i| (format!("c{i}"), json!(i))).collect();
        let enough: Map<String, Value> = (0..32).map(|i| (format!("c{i}"), json!(i))).collect();
        assert!(CLAIM_LIMITS.check(&many).is_err());
        assert_eq!(CLAIM_LIMITS.check(&enough), Ok(()));
    }

    #[test]
    fn long_arrays_are_refused() {
        assert!(
            CLAIM_LIMITS
                .check(&claims(json!({"a": vec![0; 17]})))
                .is_err()
        );
        assert_eq!(
            CLAIM_LIMITS.check(&claims(json!({"a": vec![0; 16]}))),
            Ok(())
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        assert!(
            CLAIM_LIMITS
                .check(&claims(json!({"a": {"b": {"c": {"d": 1}}}})))
                .is_err()
        );
        assert_eq!(
            CLAIM_LIMITS.check(&claims(json!({"a": {"b": {"c": 1}}}))),
            Ok(())
        );
    }

    #[test]
    fn too_many_values_in_all_are_refused() {
        // 9 arrays of 15 within every other limit: 9 + 135 values.
        let wide: Map<String, Value> = (0..9)
            .map(|i| (format!("c{i}"), json!(vec![0; 15])))
            .collect();
        assert_eq!(
            CLAIM_LIMITS.check(&wide),
            Err("the claims hold too many values")
        );
    }
}
