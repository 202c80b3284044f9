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
use crate::http_common::Fields;
use crate::oid4vp::{dcql, jose};
use crate::store::{Change, Refusal, WalletFlow, WalletTransaction};

/// How long a request object is valid (its `exp`).
const REQUEST_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// The largest `POST` body (wallet metadata) we read.
pub const POST_LIMIT: usize = 16 * 1024;

/// 131 random bits, base62.
fn random_token() -> String {
    random_base62(22)
}

/// How a request reaches the wallet, and so how the wallet answers.
#[derive(Debug, Clone, Copy)]
pub enum Delivery<'a> {
    /// Fetched by reference; answered by `direct_post.jwt` to `response_uri`.
    /// A `POST` fetch may carry a `wallet_nonce`, which the request echoes.
    Reference {
        response_uri: &'a str,
        wallet_nonce: Option<&'a str>,
    },
    /// Handed to the browser's Digital Credentials API on a page of
    /// `origin`; answered by `dc_api.jwt` through that page (OpenID4VP 1.0
    /// Appendix A). There is no `response_uri`: the browser returns the
    /// answer to the page, and `expected_origins` lets the wallet refuse a
    /// request replayed from another site.
    DcApi { origin: &'a str },
}

impl Delivery<'_> {
    pub fn flow(&self) -> WalletFlow {
        match self {
            Delivery::Reference { .. } => WalletFlow::Redirect,
            Delivery::DcApi { .. } => WalletFlow::DcApi,
        }
    }
}

/// The claims of a request object.
pub fn request_claims(
    verifier: &Verifier,
    delivery: Delivery<'_>,
    proofme: &Proofme,
    transaction: &WalletTransaction,
    response_key: &jose::Jwk,
    now: Timestamp,
) -> Value {
    let mut claims = json!({
        "iss": verifier.identity.client_id,
        "client_id": verifier.identity.client_id,
        "response_type": "vp_token",
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
    let Some(obj) = claims.as_object_mut() else {
        return claims;
    };
    match delivery {
        Delivery::Reference {
            response_uri,
            wallet_nonce,
        } => {
            obj.insert("response_mode".into(), Value::from("direct_post.jwt"));
            obj.insert("response_uri".into(), Value::from(response_uri));
            if let Some(n) = wallet_nonce {
                obj.insert("wallet_nonce".into(), Value::from(n));
            }
        }
        Delivery::DcApi { origin } => {
            obj.insert("response_mode".into(), Value::from("dc_api.jwt"));
            obj.insert("expected_origins".into(), json!([origin]));
        }
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
    let response_uri = format!("{}/oid4vp/response", state.config.public_url);
    let delivery = Delivery::Reference {
        response_uri: &response_uri,
        wallet_nonce,
    };
    match start(state, id, delivery).await {
        Ok(Started::Request(jwt)) => {
            let mut res = (StatusCode::OK, jwt).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/oauth-authz-req+jwt"),
            );
            res
        }
        Ok(Started::Unknown | Started::Final) => not_found(),
        Err(e) => e.into_response("answering a request object fetch"),
    }
}

/// What asking for a request object came to.
pub enum Started {
    /// The signed request object of the new transaction.
    Request(String),
    /// No such identification.
    Unknown,
    /// The identification is final (or expired): no request for it.
    Final,
}

/// Starts a new wallet transaction for an open or pending identification,
/// replacing any earlier one, and answers its signed request object. The
/// identification becomes pending (with its webhook and event), however
/// the request reaches the wallet. Nothing changes for an unknown, final or
/// expired identification.
pub async fn start(state: &AppState, id: &str, delivery: Delivery<'_>) -> Result<Started, Failure> {
    let Ok(id) = IdentificationId::parse(id) else {
        return Ok(Started::Unknown);
    };
    let Some(ident) = state.store.find_identification(&id).await? else {
        return Ok(Started::Unknown);
    };
    if ident.status.is_final() {
        return Ok(Started::Final);
    }
    let proofme = state.store.proofme_of(&ident).await?;

    let now = state.clock.now();
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
        flow: delivery.flow(),
    };
    let mut public = jose::Jwk::from_public_key(&response_key.public_key());
    public.kid = Some(kid.clone());
    public.key_use = Some("enc".into());
    public.alg = Some(jose::JWE_ALG.into());
    let verifier = &state.verifier;
    let claims = request_claims(verifier, delivery, &proofme, &transaction, &public, now);
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
            Err(Refusal::AlreadyFinal(_)) => return Ok(Started::Final),
            Err(Refusal::NotFound) => return Ok(Started::Unknown),
        }
    }
    tracing::info!(id = %ident.id.for_log(), flow = delivery.flow().as_str(), "wallet request started");
    Ok(Started::Request(sign_request(verifier, &claims)))
}

/// What the response key is wrapped with: bound to its transaction.
pub fn response_key_context(kid: &str) -> String {
    format!("response_key:{kid}")
}
