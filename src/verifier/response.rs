//! `POST /oid4vp/response` (`direct_post.jwt`): the wallet's encrypted answer,
//! or an error response sent unencrypted (OpenID4VP 1.0 section 8.3.1).
//!
//! Garbage, answers to a superseded or used request and replays change
//! nothing and get `400 {"error":"invalid_request"}`. An answer to the current
//! request ends the identification and gets `200 {"redirect_uri": …}`, so that
//! a wallet on the same device can send the customer on, whatever the outcome:
//! `access_denied` cancels it, another wallet error or a presentation that
//! fails a check fails it (with `failureReason`), and a presentation that
//! passes every check, its credential's status included, verifies it with the
//! attributes, which are stored only encrypted.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use p256::SecretKey;
use serde_json::{Value, json};

use super::request::response_key_context;
use super::revocation::{EntryStatus, Unavailable, status_in_own_list};
use super::test_status_lists::{StatusListTokenError, own_list_number, status_list_token};
use super::{Failure, OAuthError, Verifier};
use crate::AppState;
use crate::config::StatusListPolicy;
use crate::domain::ids::random_base62;
use crate::domain::{ChangeCause, FailureReason, Identification, Mode, Status};
use crate::http_common::Fields;
use crate::oid4vp::dcql::{self, CredentialType};
use crate::oid4vp::mdoc::{self, transcript};
use crate::oid4vp::x509::TrustAnchors;
use crate::oid4vp::{Rejection, Verified, jose, sdjwt};
use crate::store::{Change, WalletFlow, WalletTransaction};

/// The largest response we read: a PID with a portrait is tens of kilobytes.
pub const RESPONSE_LIMIT: usize = 512 * 1024;

/// What the wallet said, once decrypted and matched to its transaction.
pub(super) enum Answer {
    Declined,
    WalletError,
    Presentation(CredentialType, String),
    /// Decrypted and ours, but neither a presentation nor an error.
    Malformed,
}

pub async fn post_response(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(fields) = Fields::from_form(
        &body,
        &[
            "response",
            "error",
            "error_description",
            "state",
            "vp_token",
        ],
    ) else {
        return OAuthError::invalid_request("the form could not be read").into_response();
    };
    let Ok(Some(jwe)) = fields.text("response") else {
        return plain_error(&state, &fields).await;
    };
    let (transaction, payload, key) = match open(&state, jwe, WalletFlow::Redirect).await {
        Ok(opened) => opened,
        Err(reason) => {
            tracing::info!(reason, "wallet response refused");
            return OAuthError::invalid_request("the response cannot be used").into_response();
        }
    };
    let answer = read_answer(&payload);
    let response_uri = format!("{}/oid4vp/response", state.config.public_url);
    let binding = Binding {
        response_key: &key,
        to: BoundTo::ResponseUri(&response_uri),
    };
    match finish(&state, &transaction, answer, &binding).await {
        Ok(reply) => reply,
        Err(e) => e.into_response("recording a wallet response"),
    }
}

/// The longest `error_description` taken; a wallet's is a sentence.
const MAX_ERROR_DESCRIPTION: usize = 1024;
/// The longest `error` taken; registered codes are a few words.
const MAX_ERROR_CODE: usize = 64;
/// The longest `state` looked up; ours are 22 characters.
const MAX_STATE: usize = 128;

/// RFC 6749 section 5.2: `error` and `error_description` are printable ASCII
/// without `"` and `\`; the code has no spaces.
fn oauth_text(s: &str, max: usize, spaces: bool) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| {
            (b == b' ' && spaces) || ((b'!'..=b'~').contains(&b) && b != b'"' && b != b'\\')
        })
}

/// An error response sent without encryption: `error`, optionally
/// `error_description`, and the transaction's `state`. Only errors may come
/// unencrypted: a presentation must be encrypted to the request's key. It
/// gives no one anything new: whoever holds the request holds its key, and
/// could decline encrypted just as well.
async fn plain_error(state: &AppState, fields: &Fields) -> Response {
    let refused = |reason: &'static str| {
        tracing::info!(reason, "unencrypted wallet response refused");
        OAuthError::invalid_request("the response cannot be used").into_response()
    };
    if fields.get("vp_token").is_some() {
        return refused("a presentation must be encrypted");
    }
    let (Ok(Some(error)), Ok(Some(given_state))) = (fields.text("error"), fields.text("state"))
    else {
        return OAuthError::invalid_request("response is required").into_response();
    };
    if !oauth_text(error, MAX_ERROR_CODE, false) {
        return refused("error is not an OAuth error code");
    }
    match fields.text("error_description") {
        Ok(None) => {}
        Ok(Some(d)) if oauth_text(d, MAX_ERROR_DESCRIPTION, true) => {}
        _ => return refused("error_description is too long or not printable ASCII"),
    }
    if !oauth_text(given_state, MAX_STATE, false) {
        return refused("state is malformed");
    }
    let transaction = match state.store.wallet_transaction_by_state(given_state).await {
        Ok(Some(t)) => t,
        Ok(None) => return refused("no current transaction for this state"),
        Err(e) => return Failure::from(e).into_response("recording a wallet error response"),
    };
    // The same rules as for an encrypted answer (`open`), less the key.
    if transaction.flow != WalletFlow::Redirect {
        return refused("the answer arrived by another flow than its request");
    }
    if transaction.expires_at < state.clock.now() {
        return refused("transaction expired");
    }
    if transaction.wrapped_response_key.is_none() || transaction.used_at.is_some() {
        return refused("transaction already used");
    }
    tracing::info!(error, "unencrypted wallet error response");
    let change = error_change(error == "access_denied");
    match conclude(state, &transaction, change).await {
        Ok(reply) => reply,
        Err(e) => e.into_response("recording a wallet error response"),
    }
}

/// What a presentation must be bound to besides the transaction's nonce.
pub struct Binding<'a> {
    /// The transaction's response-encryption key: its thumbprint is in an
    /// mdoc's session transcript.
    pub response_key: &'a SecretKey,
    pub to: BoundTo<'a>,
}

pub enum BoundTo<'a> {
    /// A request by reference answered by `direct_post.jwt` to this URI.
    ResponseUri(&'a str),
    /// A request through the browser's Digital Credentials API, from this
    /// origin (OpenID4VP 1.0 Appendix A).
    Origin(&'a str),
}

/// Finds the transaction named by the JWE's `kid`, decrypts with its key and
/// checks the `state`. The transaction's request must have reached the
/// wallet by `flow`: an answer arriving the other way would be judged by the
/// wrong binding. Any failure here changes nothing.
pub(super) async fn open(
    state: &AppState,
    jwe: &str,
    flow: WalletFlow,
) -> Result<(WalletTransaction, serde_json::Map<String, Value>, SecretKey), &'static str> {
    let header = jose::jwe_header(jwe).map_err(|_| "not a JWE")?;
    let kid = header.get("kid").and_then(Value::as_str).ok_or("no kid")?;
    let transaction = state
        .store
        .wallet_transaction_by_kid(kid)
        .await
        .map_err(|_| "transaction lookup failed")?
        .ok_or("no current transaction for this key")?;
    if transaction.flow != flow {
        return Err("the answer arrived by another flow than its request");
    }
    if transaction.expires_at < state.clock.now() {
        return Err("transaction expired");
    }
    let wrapped = transaction
        .wrapped_response_key
        .as_deref()
        .ok_or("transaction already used")?;
    let secret = state
        .data_key
        .unwrap_secret(wrapped, &response_key_context(&transaction.kid))
        .map_err(|_| "response key unusable")?;
    let key = SecretKey::from_slice(&secret).map_err(|_| "response key unusable")?;
    let (_, plaintext) = jose::decrypt(jwe, &key).map_err(|_| "cannot decrypt")?;
    let payload =
        jose::parse_json_object(&plaintext).map_err(|_| "payload is not a JSON object")?;
    if payload.get("state").and_then(Value::as_str) != Some(transaction.state.as_str()) {
        return Err("state does not match");
    }
    Ok((transaction, payload, key))
}

pub(super) fn read_answer(payload: &serde_json::Map<String, Value>) -> Answer {
    if let Some(error) = payload.get("error") {
        return match error.as_str() {
            Some("access_denied") => Answer::Declined,
            _ => Answer::WalletError,
        };
    }
    // OpenID4VP 1.0: `vp_token` maps each credential query id to its
    // presentations. The request's one credential set asks for one of them.
    let Some(Value::Object(token)) = payload.get("vp_token") else {
        return Answer::Malformed;
    };
    let mut entries = token.iter();
    let (Some((id, list)), None) = (entries.next(), entries.next()) else {
        return Answer::Malformed;
    };
    let Some(kind) = CredentialType::from_query_id(id) else {
        return Answer::Malformed;
    };
    match list.as_array().map(Vec::as_slice) {
        Some([Value::String(p)]) => Answer::Presentation(kind, p.clone()),
        _ => Answer::Malformed,
    }
}

/// Runs the checks of `kind`'s format on `presentation`.
fn verify(
    state: &AppState,
    ident: &Identification,
    transaction: &WalletTransaction,
    kind: CredentialType,
    presentation: &str,
    binding: &Binding<'_>,
) -> Result<Verified, Rejection> {
    let verifier = &state.verifier;
    let trust = trust_for(verifier, ident.mode);
    let now = state.clock.now().unix_seconds();
    match kind.doctype() {
        None => {
            // Over the Digital Credentials API the audience is the origin,
            // prefixed, even for signed requests (OpenID4VP 1.0 Appendix A.4).
            let origin_audience;
            let audience = match binding.to {
                BoundTo::ResponseUri(_) => verifier.identity.client_id.as_str(),
                BoundTo::Origin(origin) => {
                    origin_audience = format!("origin:{origin}");
                    origin_audience.as_str()
                }
            };
            sdjwt::verify_presentation(
                presentation,
                &sdjwt::Expectations {
                    trust,
                    vct_values: &verifier.vct_values,
                    nonce: &transaction.nonce,
                    audience,
                    now,
                },
            )
        }
        Some(doctype) => {
            let thumbprint =
                jose::Jwk::from_public_key(&binding.response_key.public_key()).thumbprint();
            let transcript = match binding.to {
                BoundTo::ResponseUri(uri) => transcript::redirect(
                    &verifier.identity.client_id,
                    &transaction.nonce,
                    &thumbprint,
                    uri,
                ),
                BoundTo::Origin(origin) => {
                    transcript::dc_api(origin, &transaction.nonce, &thumbprint)
                }
            };
            mdoc::verify_presentation(
                presentation,
                &mdoc::Expectations {
                    trust,
                    doctype,
                    transcript: &transcript,
                    now,
                },
            )
        }
    }
}

/// The issuers an identification in `mode` accepts.
fn trust_for(verifier: &Verifier, mode: Mode) -> &TrustAnchors {
    match mode {
        Mode::Live => &verifier.live_trust,
        Mode::Test => &verifier.test_trust,
    }
}

/// What the credential's status allows.
enum StatusVerdict {
    /// Valid, or the issuer keeps no status for it.
    Valid,
    /// The list could not be had, and the policy is to accept anyway.
    Unchecked,
    Refused(FailureReason),
}

/// Looks the credential up in its issuer's status list, if it names one.
/// Our own test issuer's lists are read in process; a database that cannot
/// answer for them is a failure to retry, not a verdict.
async fn status_verdict(
    state: &AppState,
    ident: &Identification,
    verified: &Verified,
) -> Result<StatusVerdict, Failure> {
    let Some(reference) = &verified.status else {
        return Ok(StatusVerdict::Valid);
    };
    let trust = trust_for(&state.verifier, ident.mode);
    let now = state.clock.now().unix_seconds();
    let public_url = &state.config.public_url;
    let checked = match own_list_number(public_url, &reference.uri) {
        Some(list_no) => {
            match status_list_token(&state.verifier, &state.store, public_url, list_no, now).await {
                Ok(token) => status_in_own_list(&token, reference, trust, now),
                Err(StatusListTokenError::Store(e)) => return Err(e.into()),
                Err(e) => Err(Unavailable::Fetch(e.to_string())),
            }
        }
        None => {
            state
                .status_lists
                .check(reference, ident.mode, trust, &verified.issuer_key, now)
                .await
        }
    };
    let id = ident.id.for_log();
    Ok(match checked {
        Ok(EntryStatus::Valid) => StatusVerdict::Valid,
        Ok(EntryStatus::NotValid(status)) => {
            tracing::info!(id = %id, status, "presentation refused: the credential is not valid in its status list");
            StatusVerdict::Refused(FailureReason::RevokedCredential)
        }
        Ok(EntryStatus::OutOfRange) => {
            tracing::info!(id = %id, "presentation refused: the status list does not reach the credential");
            StatusVerdict::Refused(FailureReason::StatusUnavailable)
        }
        Err(e) => match state.status_lists.policy() {
            StatusListPolicy::FailClosed => {
                tracing::warn!(id = %id, error = %e, "presentation refused: status list unavailable");
                StatusVerdict::Refused(FailureReason::StatusUnavailable)
            }
            StatusListPolicy::FailOpen => {
                tracing::warn!(id = %id, error = %e, "presentation accepted unchecked: status list unavailable");
                StatusVerdict::Unchecked
            }
        },
    })
}

/// What a presentation comes to.
enum Judgement {
    /// The change it makes.
    Change(Change),
    /// Over the Digital Credentials API, a presentation bound to another
    /// origin or another request: it is no answer to this one, so nothing
    /// changes (the request may still be answered properly).
    Unbound,
}

/// What the presentation proves, as the change it makes.
async fn judge(
    state: &AppState,
    ident: &Identification,
    transaction: &WalletTransaction,
    kind: CredentialType,
    presentation: &str,
    binding: &Binding<'_>,
) -> Result<Judgement, Failure> {
    let failed = |reason: FailureReason| {
        let mut change = Change::to(Status::Failed, ChangeCause::Wallet);
        change.failure_reason = Some(reason);
        change
    };
    let proofme = state.store.proofme_of(ident).await?;
    if !kind.answers(&proofme.credentials) {
        tracing::info!(id = %ident.id.for_log(), query = kind.query_id(), "presentation of a type not offered");
        return Ok(Judgement::Change(failed(
            FailureReason::InvalidPresentation,
        )));
    }
    let verified = match verify(state, ident, transaction, kind, presentation, binding) {
        Ok(v) => v,
        Err(rejection)
            if rejection.reason == FailureReason::InvalidKeyBinding
                && matches!(binding.to, BoundTo::Origin(_)) =>
        {
            tracing::info!(
                id = %ident.id.for_log(),
                detail = %rejection.detail,
                "presentation bound to something else refused, nothing changed"
            );
            return Ok(Judgement::Unbound);
        }
        Err(rejection) => {
            tracing::info!(
                id = %ident.id.for_log(),
                reason = rejection.reason.as_str(),
                detail = %rejection.detail,
                "presentation refused"
            );
            return Ok(Judgement::Change(failed(rejection.reason)));
        }
    };
    match dcql::extract(&proofme.credentials, kind, &verified) {
        Ok(data) => {
            // Last: a presentation refused anyway costs no fetch.
            let cause = match status_verdict(state, ident, &verified).await? {
                StatusVerdict::Valid => ChangeCause::Wallet,
                StatusVerdict::Unchecked => ChangeCause::WalletStatusUnchecked,
                StatusVerdict::Refused(reason) => return Ok(Judgement::Change(failed(reason))),
            };
            let data = Value::Object(data);
            let mut change = Change::to(Status::Verified, cause);
            change.data = Some(state.lifecycle.seal_shared_data(ident, &data).await?);
            Ok(Judgement::Change(change))
        }
        Err(reason) => {
            tracing::info!(id = %ident.id.for_log(), reason = reason.as_str(), "presentation refused");
            Ok(Judgement::Change(failed(reason)))
        }
    }
}

/// The change a wallet's error response makes: the customer declining
/// cancels, anything else fails with `wallet_error`.
fn error_change(declined: bool) -> Change {
    if declined {
        return Change::to(Status::Canceled, ChangeCause::Wallet);
    }
    let mut c = Change::to(Status::Failed, ChangeCause::Wallet);
    c.failure_reason = Some(FailureReason::WalletError);
    c
}

pub(super) async fn finish(
    state: &AppState,
    transaction: &WalletTransaction,
    answer: Answer,
    binding: &Binding<'_>,
) -> Result<Response, Failure> {
    let Some(ident) = state
        .store
        .find_identification(&transaction.identification_id)
        .await?
    else {
        return Ok(OAuthError::invalid_request("the response cannot be used").into_response());
    };
    if ident.status.is_final() {
        return Ok(OAuthError::invalid_request("the response cannot be used").into_response());
    }
    let change = match answer {
        Answer::Declined => error_change(true),
        Answer::WalletError => error_change(false),
        Answer::Malformed => {
            let mut c = Change::to(Status::Failed, ChangeCause::Wallet);
            c.failure_reason = Some(FailureReason::InvalidPresentation);
            c
        }
        Answer::Presentation(kind, p) => {
            match judge(state, &ident, transaction, kind, &p, binding).await? {
                Judgement::Change(change) => change,
                Judgement::Unbound => {
                    return Ok(OAuthError::invalid_request(
                        "the presentation is bound to another request",
                    )
                    .into_response());
                }
            }
        }
    };
    conclude(state, transaction, change).await
}

/// Takes the answer to `transaction` as `change`, once. Whatever the outcome
/// (verified, canceled, failed), the answer is the same-device redirect:
/// HAIP has the verifier return `redirect_uri` to the wallet's post, and a
/// customer whose presentation failed a check needs the way back as much as
/// one who was verified. Refused, with nothing changed, if the transaction
/// was superseded or used meanwhile, or the identification is over.
async fn conclude(
    state: &AppState,
    transaction: &WalletTransaction,
    change: Change,
) -> Result<Response, Failure> {
    let response_code = random_base62(22);
    let result = state
        .lifecycle
        .finish_wallet_transaction(&transaction.kid, &transaction.state, &response_code, change)
        .await?;
    let Ok(done) = result else {
        return Ok(OAuthError::invalid_request("the response cannot be used").into_response());
    };
    // Same-device flow: the wallet sends the customer's browser here, which
    // goes on to the organisation's return page.
    let redirect_uri = format!(
        "{}/{}/done?response_code={response_code}",
        state.config.public_url, done.id
    );
    Ok((
        StatusCode::OK,
        Json(json!({ "redirect_uri": redirect_uri })),
    )
        .into_response())
}
