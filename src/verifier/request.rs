//! `GET`/`POST /oid4vp/request/{id}`: the signed authorization request (JAR)
//! a wallet fetches by reference. Every fetch starts a new transaction with a
//! fresh nonce, state and response key; the identification becomes pending.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::SecretKey;
use serde_json::{Value, json};
use std::time::Duration;

use super::{Failure, OAuthError, Verifier};
use crate::AppState;
use crate::domain::ids::random_base62;
use crate::domain::proofme::Proofme;
use crate::domain::{ChangeCause, IdentificationId, Status, Timestamp};
use crate::edge::Fields;
use crate::oid4vp::{dcql, jose};
use crate::store::{Change, Refusal, WalletTransaction};

/// How long a request object is valid (its `exp`).
const REQUEST_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// The largest `POST` body (wallet metadata) we read.
pub const POST_LIMIT: usize = 16 * 1024;

/// 131 random bits, base62.
fn random_token() -> String {
    random_base62(22)
}

/// The claims of a request object.
pub fn request_claims(
    verifier: &Verifier,
    response_uri: &str,
    proofme: &Proofme,
    transaction: &WalletTransaction,
    response_key: &jose::Jwk,
    wallet_nonce: Option<&str>,
    now: Timestamp,
) -> Value {
    let mut claims = json!({
        "iss": verifier.identity.client_id,
        "client_id": verifier.identity.client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post.jwt",
        "response_uri": response_uri,
        "nonce": transaction.nonce,
        "state": transaction.state,
        "aud": "https://self-issued.me/v2",
        "iat": now.unix_seconds(),
        "exp": now.plus(REQUEST_LIFETIME).unix_seconds(),
        "dcql_query": dcql::dcql_query(&proofme.credentials, &verifier.vct_values),
        "client_metadata": {
            "jwks": { "keys": [response_key.to_value()] },
            "encrypted_response_enc_values_supported": ["A128GCM", "A256GCM"],
            "vp_formats_supported": {
                "dc+sd-jwt": {
                    "sd-jwt_alg_values": ["ES256"],
                    "kb-jwt_alg_values": ["ES256"]
                },
                // COSE algorithm numbers: -7 is ES256.
                "mso_mdoc": {
                    "issuerauth_alg_values": [-7],
                    "deviceauth_alg_values": [-7]
                }
            }
        }
    });
    if let (Some(n), Some(obj)) = (wallet_nonce, claims.as_object_mut()) {
        obj.insert("wallet_nonce".into(), Value::from(n));
    }
    claims
}

/// The signed request object: `{"alg":"ES256","typ":"oauth-authz-req+jwt","x5c":[…]}`.
pub fn sign_request(verifier: &Verifier, claims: &Value) -> String {
    let x5c: Vec<String> = verifier
        .identity
        .chain
        .iter()
        .map(|der| STANDARD.encode(der))
        .collect();
    let mut header = serde_json::Map::new();
    header.insert("typ".into(), Value::from("oauth-authz-req+jwt"));
    header.insert("x5c".into(), Value::from(x5c));
    let claims = claims.as_object().cloned().unwrap_or_default();
    jose::sign_es256(&header, &claims, &verifier.identity.key)
}

pub async fn get_request(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    answer(&state, &id, None).await
}

/// `request_uri_method=post`: the wallet may send `wallet_metadata` and a
/// `wallet_nonce`, which the request object then echoes.
pub async fn post_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = match Fields::from_form(&body, &["wallet_metadata", "wallet_nonce"]) {
        Ok(f) => f,
        Err(_) => return OAuthError::invalid_request("the form could not be read").into_response(),
    };
    let wallet_nonce = match fields.text("wallet_nonce") {
        Ok(n) => n.map(str::to_owned),
        Err(_) => return OAuthError::invalid_request("wallet_nonce").into_response(),
    };
    if let Ok(Some(meta)) = fields.text("wallet_metadata") {
        if !matches!(serde_json::from_str::<Value>(meta), Ok(Value::Object(_))) {
            return OAuthError::invalid_request("wallet_metadata must be a JSON object")
                .into_response();
        }
    }
    if wallet_nonce.as_ref().is_some_and(|n| n.len() > 512) {
        return OAuthError::invalid_request("wallet_nonce is too long").into_response();
    }
    answer(&state, &id, wallet_nonce.as_deref()).await
}

fn not_found() -> Response {
    OAuthError::new(
        StatusCode::NOT_FOUND,
        "invalid_request",
        "there is no open identification here",
    )
    .into_response()
}

async fn answer(state: &AppState, id: &str, wallet_nonce: Option<&str>) -> Response {
    match fetch(state, id, wallet_nonce).await {
        Ok(Some(jwt)) => {
            let mut res = (StatusCode::OK, jwt).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/oauth-authz-req+jwt"),
            );
            res
        }
        Ok(None) => not_found(),
        Err(e) => e.into_response("answering a request object fetch"),
    }
}

/// The request object for an open or pending identification; `None` for an
/// unknown, final or expired one (nothing changes then).
async fn fetch(
    state: &AppState,
    id: &str,
    wallet_nonce: Option<&str>,
) -> Result<Option<String>, Failure> {
    let Ok(id) = IdentificationId::parse(id) else {
        return Ok(None);
    };
    let Some(ident) = state.store.find_identification(&id).await? else {
        return Ok(None);
    };
    if ident.status.is_final() {
        return Ok(None);
    }
    let proofme = state
        .store
        .get_proofme_revision(
            &ident.organisation_id,
            &ident.proofme_id,
            ident.proofme_revision,
        )
        .await?
        .ok_or("identification without proofme")?;

    let now = Timestamp::now();
    let response_key = SecretKey::random(&mut rand::rngs::OsRng);
    let kid = random_token();
    let transaction = WalletTransaction {
        identification_id: ident.id.clone(),
        wrapped_response_key: Some(
            state
                .data_key
                .wrap(&response_key.to_bytes(), &response_key_context(&kid)),
        ),
        kid: kid.clone(),
        state: random_token(),
        nonce: random_token(),
        response_code: None,
        created_at: now,
        expires_at: now.plus(state.config.wallet_response_window),
        used_at: None,
    };
    let mut public = jose::Jwk::from_public_key(&response_key.public_key());
    public.kid = Some(kid.clone());
    public.key_use = Some("enc".into());
    public.alg = Some(jose::JWE_ALG.into());
    let verifier = &state.verifier;
    let response_uri = format!("{}/oid4vp/response", state.config.public_url);
    let claims = request_claims(
        verifier,
        &response_uri,
        &proofme,
        &transaction,
        &public,
        wallet_nonce,
        now,
    );
    state.store.start_wallet_transaction(&transaction).await?;

    // The wallet has the request: the customer is under way.
    if ident.status == Status::Open {
        let change = Change::to(Status::Pending, ChangeCause::Wallet);
        match state
            .lifecycle
            .change_status(&ident.id, None, change)
            .await?
        {
            Ok(_) | Err(Refusal::NotAllowed(_)) => {}
            // It ended (or expired) meanwhile: no request for it.
            Err(Refusal::AlreadyFinal(_) | Refusal::NotFound) => return Ok(None),
        }
    }
    tracing::info!(id = %ident.id.for_log(), "wallet fetched the request");
    Ok(Some(sign_request(verifier, &claims)))
}

/// What the response key is wrapped with: bound to its transaction.
pub fn response_key_context(kid: &str) -> String {
    format!("response_key:{kid}")
}
