//! `proofme wallet present`: a small but real OpenID4VP wallet holding a PID,
//! so integrators (and our tests) can complete an identification through the
//! protocol without a phone. It trusts nothing of the server's beyond what a
//! wallet checks: the request object must be signed by the key of the
//! certificate whose hash is the `client_id`.
//!
//! Without `--issuer-key`, the PID comes from the server's test issuer, which
//! only test identifications trust. With an issuer key and certificate chain
//! the wallet signs its own PID, which verifies wherever that chain is trusted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;
use serde_json::{Value, json};
use std::time::Duration;
use url::Url;

use crate::domain::Timestamp;
use crate::domain::ids::random_base62;
use crate::domain::{CredentialKey, CredentialStatus};
use crate::oid4vp::dcql::{self, CredentialType};
use crate::oid4vp::holder::{self, Issuer};
use crate::oid4vp::jose::{self, ContentEncryption, Jwk};
use crate::oid4vp::mdoc::{self, sample, transcript};
use crate::oid4vp::x509;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("{0}")]
    Link(String),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the request object was refused: {0}")]
    Request(String),
    #[error("{0}")]
    Issuer(String),
}

/// What to present, and how.
#[derive(Debug, Clone, Default)]
pub struct PresentOptions {
    /// A MyPage URL or an `openid4vp://` wallet link.
    pub link: String,
    /// Answer `access_denied` instead of presenting.
    pub decline: bool,
    /// Credentials to leave out of the presentation.
    pub omit: Vec<CredentialKey>,
    /// `NAME=VALUE` overrides of the PID's claims (`age_equal_or_over.18=false`).
    pub claims: Vec<String>,
    /// Sign the PID with this issuer (PEM key, PEM chain leaf first) instead of
    /// asking the server's test issuer.
    pub issuer_pem: Option<(String, String)>,
    /// Fetch the request with `POST` (`request_uri_method=post`).
    pub post: bool,
    /// Answer with this format (default: the first the request offers).
    pub format: Option<WalletFormat>,
    /// Answer with an mdoc of this doctype (implies `mso_mdoc`).
    pub doctype: Option<String>,
    /// The status the test issuer gives the credential (default valid).
    pub credential_status: Option<CredentialStatus>,
}

/// The credential formats the wallet can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletFormat {
    SdJwt,
    Mdoc,
}

impl WalletFormat {
    pub fn parse(s: &str) -> Option<WalletFormat> {
        match s {
            "sd-jwt" | dcql::FORMAT => Some(WalletFormat::SdJwt),
            "mdoc" | dcql::MDOC_FORMAT => Some(WalletFormat::Mdoc),
            _ => None,
        }
    }
}

/// One credential query of a request's DCQL, as a wallet reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferedCredential {
    pub id: String,
    pub format: String,
    /// `meta.doctype_value`, for mdocs.
    pub doctype: Option<String>,
    pub claim_paths: Vec<Vec<String>>,
}

/// Where the request lives and which client it must come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRef {
    pub request_uri: String,
    pub client_id: Option<String>,
}

/// The request URI of a wallet link, or of a MyPage URL (`…/id_…` →
/// `…/oid4vp/request/id_…`).
pub fn request_ref(link: &str) -> Result<RequestRef, WalletError> {
    let bad = |why: &str| WalletError::Link(format!("{why}: {link}"));
    let url = Url::parse(link.trim()).map_err(|_| bad("not a URL"))?;
    match url.scheme() {
        "openid4vp" => {
            let mut request_uri = None;
            let mut client_id = None;
            for (k, v) in url.query_pairs() {
                match k.as_ref() {
                    "request_uri" => request_uri = Some(v.into_owned()),
                    "client_id" => client_id = Some(v.into_owned()),
                    _ => {}
                }
            }
            Ok(RequestRef {
                request_uri: request_uri.ok_or_else(|| bad("the link has no request_uri"))?,
                client_id,
            })
        }
        "http" | "https" => {
            let mut segments: Vec<&str> = url
                .path_segments()
                .map(|s| s.filter(|p| !p.is_empty()).collect())
                .unwrap_or_default();
            let id = segments
                .pop()
                .filter(|s| s.starts_with("id_"))
                .ok_or_else(|| bad("not a MyPage URL (…/id_…)"))?;
            let prefix: String = segments.iter().map(|s| format!("/{s}")).collect();
            let origin = url.origin().ascii_serialization();
            Ok(RequestRef {
                request_uri: format!("{origin}{prefix}/oid4vp/request/{id}"),
                client_id: None,
            })
        }
        _ => Err(bad(
            "expected an openid4vp:// link or an http(s) MyPage URL",
        )),
    }
}

/// The parts of a verified request object a wallet acts on.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// How the wallet answers.
    pub response_mode: ResponseMode,
    /// Where a `direct_post.jwt` answer goes; `None` for `dc_api.jwt`.
    pub response_uri: Option<String>,
    /// The origins a `dc_api.jwt` request may come from (empty otherwise).
    pub expected_origins: Vec<String>,
    pub nonce: String,
    pub state: String,
    /// The claim paths the first credential query (the SD-JWT PID) asks for.
    pub claim_paths: Vec<Vec<String>>,
    /// Every credential query, in the order of the credential set's options.
    pub offered: Vec<OfferedCredential>,
    pub response_key: Jwk,
    pub enc: ContentEncryption,
}

/// The response modes the wallet answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// A request by reference, answered by a form post to `response_uri`.
    DirectPostJwt,
    /// A request through the browser's Digital Credentials API, answered
    /// to the page that asked (OpenID4VP 1.0 Appendix A).
    DcApiJwt,
}

/// Checks the request object as a wallet must: signed (ES256) by the leaf of
/// `x5c`, whose hash is the `client_id`, not expired, for `direct_post.jwt`
/// with a `response_uri`, or for `dc_api.jwt` with `expected_origins` (see
/// [`check_origin`] for the browser's origin).
pub fn verify_request(
    jwt: &str,
    expected_client_id: Option<&str>,
    wallet_nonce: Option<&str>,
    now: Timestamp,
) -> Result<AuthorizationRequest, WalletError> {
    let bad = |why: &str| WalletError::Request(why.to_owned());
    let jws = jose::Jws::parse(jwt).map_err(|e| WalletError::Request(e.to_string()))?;
    // The header is what pins the request to the verifier: read it first.
    if jws.header().get("typ").and_then(Value::as_str) != Some("oauth-authz-req+jwt") {
        return Err(bad("typ is not oauth-authz-req+jwt"));
    }
    let leaf = jws
        .header()
        .get("x5c")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .and_then(|c| STANDARD.decode(c).ok())
        .ok_or_else(|| bad("no x5c certificate"))?;
    let key = x509::leaf_public_key(&leaf).map_err(|e| WalletError::Request(e.to_string()))?;
    jws.verify(&key).map_err(|_| bad("bad signature"))?;
    let claims = jws.payload();
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| WalletError::Request(format!("{name} is missing")))
    };
    let client_id = text("client_id")?;
    if client_id != x509::client_id_for(&leaf) {
        return Err(bad("client_id is not the hash of the signing certificate"));
    }
    if expected_client_id.is_some_and(|e| e != client_id) {
        return Err(bad("client_id differs from the link's"));
    }
    if text("response_type")? != "vp_token" {
        return Err(bad("not a vp_token request"));
    }
    let response_mode = match text("response_mode")?.as_str() {
        "direct_post.jwt" => ResponseMode::DirectPostJwt,
        "dc_api.jwt" => ResponseMode::DcApiJwt,
        _ => return Err(bad("not a direct_post.jwt or dc_api.jwt request")),
    };
    let response_uri = match response_mode {
        ResponseMode::DirectPostJwt => Some(text("response_uri")?),
        // The browser returns the answer to the page; a response_uri here
        // would send it elsewhere (OpenID4VP 1.0 Appendix A.2).
        ResponseMode::DcApiJwt if claims.contains_key("response_uri") => {
            return Err(bad("a dc_api.jwt request has no response_uri"));
        }
        ResponseMode::DcApiJwt => None,
    };
    let expected_origins: Vec<String> = claims
        .get("expected_origins")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // A signed request through the browser must say where it may be used,
    // or any site could replay it (Appendix A.3.2).
    if response_mode == ResponseMode::DcApiJwt && expected_origins.is_empty() {
        return Err(bad("a signed dc_api.jwt request needs expected_origins"));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp < now.unix_seconds() {
        return Err(bad("the request has expired"));
    }
    if let Some(n) = wallet_nonce {
        if claims.get("wallet_nonce").and_then(Value::as_str) != Some(n) {
            return Err(bad("wallet_nonce is not echoed"));
        }
    }
    let offered = claims
        .get("dcql_query")
        .map(offered_credentials)
        .filter(|o| !o.is_empty())
        .ok_or_else(|| bad("no DCQL credential query"))?;
    let claim_paths = offered
        .first()
        .map(|o| o.claim_paths.clone())
        .unwrap_or_default();
    let response_key = claims
        .get("client_metadata")
        .and_then(|m| m.pointer("/jwks/keys/0"))
        .and_then(|k| Jwk::from_value(k).ok())
        .ok_or_else(|| bad("no response encryption key"))?;
    let enc = claims
        .get("client_metadata")
        .and_then(|m| m.get("encrypted_response_enc_values_supported"))
        .and_then(Value::as_array)
        .and_then(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .find_map(ContentEncryption::parse)
        })
        .unwrap_or(ContentEncryption::A128Gcm);
    Ok(AuthorizationRequest {
        client_id,
        response_mode,
        response_uri,
        expected_origins,
        nonce: text("nonce")?,
        state: text("state")?,
        claim_paths,
        offered,
        response_key,
        enc,
    })
}

/// A `dc_api.jwt` request may be answered only for a page of one of its
/// `expected_origins`: the origin the browser says asked.
pub fn check_origin(request: &AuthorizationRequest, origin: &str) -> Result<(), WalletError> {
    if request.response_mode != ResponseMode::DcApiJwt {
        return Err(WalletError::Request(
            "not a Digital Credentials API (dc_api.jwt) request".into(),
        ));
    }
    if !request.expected_origins.iter().any(|o| o == origin) {
        return Err(WalletError::Request(format!(
            "the request is not for {origin} (expected_origins)"
        )));
    }
    Ok(())
}

/// The credential queries of a DCQL query, in the order of its first
/// credential set's options when there is one.
pub fn offered_credentials(dcql: &Value) -> Vec<OfferedCredential> {
    let queries: Vec<OfferedCredential> = dcql
        .get("credentials")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(offered_credential).collect())
        .unwrap_or_default();
    let Some(options) = dcql
        .pointer("/credential_sets/0/options")
        .and_then(Value::as_array)
    else {
        return queries;
    };
    options
        .iter()
        .filter_map(|o| o.get(0).and_then(Value::as_str))
        .filter_map(|id| queries.iter().find(|q| q.id == id).cloned())
        .collect()
}

fn offered_credential(query: &Value) -> Option<OfferedCredential> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let claim_paths = query
        .get("claims")
        .and_then(Value::as_array)
        .map(|claims| {
            claims
                .iter()
                .filter_map(|c| c.get("path").and_then(Value::as_array))
                .map(|p| {
                    p.iter()
                        .map(|s| s.as_str().map(str::to_owned).unwrap_or_default())
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default();
    Some(OfferedCredential {
        id: text(query.get("id"))?,
        format: text(query.get("format"))?,
        doctype: text(query.pointer("/meta/doctype_value")),
        claim_paths,
    })
}

/// The credential query the wallet answers: the first offered that fits
/// the chosen format and doctype.
pub fn choose<'a>(
    offered: &'a [OfferedCredential],
    format: Option<WalletFormat>,
    doctype: Option<&str>,
) -> Result<&'a OfferedCredential, WalletError> {
    let format = match (format, doctype) {
        (None, Some(_)) => Some(WalletFormat::Mdoc),
        (f, _) => f,
    };
    offered
        .iter()
        .find(|o| {
            format.is_none_or(|f| WalletFormat::parse(&o.format) == Some(f))
                && doctype.is_none_or(|d| o.doctype.as_deref() == Some(d))
        })
        .ok_or_else(|| {
            let list: Vec<String> = offered
                .iter()
                .map(|o| o.doctype.clone().unwrap_or_else(|| o.format.clone()))
                .collect();
            WalletError::Request(format!(
                "the request offers no such credential (it offers {})",
                list.join(", ")
            ))
        })
}

/// What the verifier answered.
#[derive(Debug, Clone)]
pub struct PresentOutcome {
    pub request_uri: String,
    pub status: u16,
    pub body: Value,
}

impl PresentOutcome {
    pub fn to_json(&self) -> Value {
        json!({
            "requestUri": self.request_uri,
            "status": self.status,
            "response": self.body,
            "redirectUri": self.body.get("redirect_uri"),
        })
    }
}

fn http() -> Result<reqwest::Client, WalletError> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// Runs the whole wallet side against a server: fetch and check the request,
/// get a PID, present what is asked (minus `omit`), encrypt, post.
pub async fn present(opts: &PresentOptions) -> Result<PresentOutcome, WalletError> {
    let reference = request_ref(&opts.link)?;
    let client = http()?;
    let wallet_nonce = opts.post.then(|| random_base62(22));
    let fetch = match &wallet_nonce {
        Some(n) => client
            .post(&reference.request_uri)
            .form(&[("wallet_nonce", n.as_str())]),
        None => client.get(&reference.request_uri),
    };
    let resp = fetch.send().await?;
    if !resp.status().is_success() {
        return Err(WalletError::Request(format!(
            "the server answered {} for the request",
            resp.status().as_u16()
        )));
    }
    let jwt = resp.text().await?;
    let request = verify_request(
        jwt.trim(),
        reference.client_id.as_deref(),
        wallet_nonce.as_deref(),
        Timestamp::now(),
    )?;

    let response_uri = request
        .response_uri
        .clone()
        .ok_or_else(|| WalletError::Request("the request has no response_uri".into()))?;
    let payload = if opts.decline {
        json!({"error": "access_denied", "state": request.state})
    } else {
        let chosen = choose(&request.offered, opts.format, opts.doctype.as_deref())?;
        let bound = Bound::ResponseUri(&response_uri);
        let issuer_base = response_uri
            .strip_suffix("/oid4vp/response")
            .ok_or_else(|| WalletError::Issuer("unexpected response_uri".into()))?;
        let presentation =
            presentation(&client, opts, &request, chosen, bound, issuer_base).await?;
        json!({"vp_token": {chosen.id.as_str(): [presentation]}, "state": request.state})
    };
    let jwe = encrypt_answer(&request, &payload)?;
    let resp = client
        .post(&response_uri)
        .form(&[("response", jwe.as_str())])
        .send()
        .await?;
    let status = resp.status().as_u16();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    Ok(PresentOutcome {
        request_uri: reference.request_uri,
        status,
        body,
    })
}

/// How the wallet answers a request handed to it by the browser's Digital
/// Credentials API.
#[derive(Debug, Clone, Default)]
pub struct DcApiOptions {
    /// What to present (`link` is not used).
    pub present: PresentOptions,
    /// The origin the browser says asked; the presentation is bound to it.
    pub origin: String,
    /// The server whose test issuer signs the credential.
    pub server: String,
    /// Answer even when `expected_origins` lacks `origin`, as a careless
    /// wallet would (for tests of the verifier's own origin binding).
    pub skip_origin_check: bool,
}

/// The wallet's side of the Digital Credentials API: checks the signed
/// request as a wallet must (signature, client_id, `dc_api.jwt`, the origin
/// among `expected_origins`), presents what it asks for bound to the origin,
/// and answers the encrypted response, the JWE the browser hands to the page
/// as `data.response`.
pub async fn dc_api_response(
    request_jwt: &str,
    opts: &DcApiOptions,
) -> Result<String, WalletError> {
    let request = verify_request(request_jwt.trim(), None, None, Timestamp::now())?;
    match check_origin(&request, &opts.origin) {
        Ok(()) => {}
        Err(e) if !opts.skip_origin_check || request.response_mode != ResponseMode::DcApiJwt => {
            return Err(e);
        }
        Err(_) => {}
    }
    let payload = if opts.present.decline {
        json!({"error": "access_denied", "state": request.state})
    } else {
        let client = http()?;
        let chosen = choose(
            &request.offered,
            opts.present.format,
            opts.present.doctype.as_deref(),
        )?;
        let base = opts.server.trim_end_matches('/');
        let presentation = presentation(
            &client,
            &opts.present,
            &request,
            chosen,
            Bound::Origin(&opts.origin),
            base,
        )
        .await?;
        json!({"vp_token": {chosen.id.as_str(): [presentation]}, "state": request.state})
    };
    encrypt_answer(&request, &payload)
}

/// The answer, encrypted to the request's response key.
fn encrypt_answer(request: &AuthorizationRequest, payload: &Value) -> Result<String, WalletError> {
    jose::encrypt(
        payload.to_string().as_bytes(),
        &request.response_key,
        request.enc,
        request.response_key.kid.as_deref(),
    )
    .map_err(|e| WalletError::Request(e.to_string()))
}

/// What the presentation is bound to besides the nonce.
#[derive(Debug, Clone, Copy)]
pub enum Bound<'a> {
    /// A `direct_post.jwt` answer to this response URI.
    ResponseUri(&'a str),
    /// An answer through the Digital Credentials API to this origin.
    Origin(&'a str),
}

/// Gets a credential of the chosen kind (from the test issuer at
/// `issuer_base` unless `opts` names an issuer) and presents what the query
/// asks for, minus `opts.omit`.
pub async fn presentation(
    client: &reqwest::Client,
    opts: &PresentOptions,
    request: &AuthorizationRequest,
    chosen: &OfferedCredential,
    bound: Bound<'_>,
    issuer_base: &str,
) -> Result<String, WalletError> {
    if opts.issuer_pem.is_some() && opts.credential_status.is_some() {
        return Err(WalletError::Issuer(
            "only the server's test issuer sets a credential status, not your own issuer".into(),
        ));
    }
    let holder_key = SigningKey::random(&mut rand::rngs::OsRng);
    let holder_jwk = Jwk::from_public_key(&p256::PublicKey::from(holder_key.verifying_key()));
    let kind = CredentialType::from_query_id(&chosen.id);
    let omitted: Vec<Vec<String>> = opts
        .omit
        .iter()
        .filter_map(|c| kind.and_then(|k| k.path(*c)))
        .map(|p| p.iter().map(|s| (*s).to_owned()).collect())
        .collect();
    let wanted: Vec<Vec<String>> = chosen
        .claim_paths
        .iter()
        .filter(|p| !omitted.contains(p))
        .cloned()
        .collect();
    let now = Timestamp::now();
    if WalletFormat::parse(&chosen.format) == Some(WalletFormat::Mdoc) {
        let doctype = chosen
            .doctype
            .as_deref()
            .ok_or_else(|| WalletError::Request("an mdoc query without a doctype".into()))?;
        let issuer_signed = mdoc_credential(
            client,
            opts,
            request,
            doctype,
            &holder_jwk,
            &holder_key,
            issuer_base,
        )
        .await?;
        let thumbprint = request.response_key.thumbprint();
        let session_transcript = match bound {
            Bound::ResponseUri(uri) => {
                transcript::redirect(&request.client_id, &request.nonce, &thumbprint, uri)
            }
            Bound::Origin(origin) => transcript::dc_api(origin, &request.nonce, &thumbprint),
        };
        let response = mdoc::present::present(
            &issuer_signed,
            doctype,
            |ns, element| {
                wanted
                    .iter()
                    .any(|w| w.len() == 2 && w[0] == ns && w[1] == element)
            },
            &holder_key,
            &session_transcript,
        )
        .map_err(|e| WalletError::Issuer(e.to_string()))?;
        return Ok(jose::b64url_encode(response));
    }
    let claims =
        holder::pid_claims(&opts.claims).map_err(|e| WalletError::Issuer(e.to_string()))?;
    let credential = match &opts.issuer_pem {
        Some((key, chain)) => local_issuer(key, chain)?.issue(
            &claims,
            &holder_jwk,
            "urn:eudi:pid:1",
            now.unix_seconds(),
            now.plus(Duration::from_secs(86_400)).unix_seconds(),
        ),
        None => {
            test_credential(
                client,
                issuer_base,
                opts,
                json!({"nonce": request.nonce, "holderJwk": holder_jwk, "claims": claims}),
            )
            .await?
        }
    };
    let origin_audience;
    let audience = match bound {
        Bound::ResponseUri(_) => request.client_id.as_str(),
        Bound::Origin(origin) => {
            origin_audience = format!("origin:{origin}");
            origin_audience.as_str()
        }
    };
    holder::present(
        &credential,
        |path: &[String]| wanted.iter().any(|w| w.as_slice() == path),
        &holder_key,
        &request.nonce,
        audience,
        now.unix_seconds(),
    )
    .map_err(|e| WalletError::Issuer(e.to_string()))
}

/// An mdoc's `IssuerSigned` CBOR for `doctype`, holding the sample data with
/// `opts.claims` applied.
async fn mdoc_credential(
    client: &reqwest::Client,
    opts: &PresentOptions,
    request: &AuthorizationRequest,
    doctype: &str,
    holder_jwk: &Jwk,
    holder_key: &SigningKey,
    issuer_base: &str,
) -> Result<Vec<u8>, WalletError> {
    let mut claims = sample::sample_claims(doctype)
        .ok_or_else(|| WalletError::Issuer(format!("no sample data for doctype {doctype}")))?;
    for item in &opts.claims {
        holder::apply_override(&mut claims, item)
            .map_err(|e| WalletError::Issuer(e.to_string()))?;
    }
    match &opts.issuer_pem {
        Some((key_pem, chain_pem)) => {
            let key = x509::parse_private_key_pem(key_pem)
                .map_err(|e| WalletError::Issuer(e.to_string()))?;
            let chain = x509::parse_certificates_pem(chain_pem)
                .map_err(|e| WalletError::Issuer(e.to_string()))?;
            let namespace = sample::namespace_of(doctype)
                .ok_or_else(|| WalletError::Issuer(format!("unknown doctype {doctype}")))?;
            let elements = sample::elements(namespace, &claims).map_err(WalletError::Issuer)?;
            let now = Timestamp::now().unix_seconds();
            let validity = mdoc::issue::Validity {
                signed: now,
                valid_from: now,
                valid_until: now + 86_400,
            };
            Ok(
                mdoc::issue::MdocIssuer::new(SigningKey::from(key), chain).issue(
                    doctype,
                    &elements,
                    holder_key.verifying_key(),
                    validity,
                ),
            )
        }
        None => {
            let body = json!({
                "nonce": request.nonce,
                "holderJwk": holder_jwk,
                "format": dcql::MDOC_FORMAT,
                "doctype": doctype,
                "claims": claims,
            });
            let encoded = test_credential(client, issuer_base, opts, body).await?;
            jose::b64url_decode(&encoded)
                .map_err(|_| WalletError::Issuer("the test issuer sent no mdoc".into()))
        }
    }
}

fn local_issuer(key_pem: &str, chain_pem: &str) -> Result<Issuer, WalletError> {
    let key =
        x509::parse_private_key_pem(key_pem).map_err(|e| WalletError::Issuer(e.to_string()))?;
    let chain =
        x509::parse_certificates_pem(chain_pem).map_err(|e| WalletError::Issuer(e.to_string()))?;
    Ok(Issuer::new(SigningKey::from(key), chain))
}

/// A credential from the server's test issuer at `base`, with the status
/// `opts` asks for.
async fn test_credential(
    client: &reqwest::Client,
    base: &str,
    opts: &PresentOptions,
    mut body: Value,
) -> Result<String, WalletError> {
    if let Some(status) = opts.credential_status {
        body["status"] = json!(status.as_str());
    }
    let resp = client
        .post(format!("{base}/oid4vp/test-issuer/credential"))
        .json(&body)
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(WalletError::Issuer(format!(
            "the test issuer answered {}",
            resp.status().as_u16()
        )));
    }
    let body: Value = resp.json().await?;
    body.get("credential")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| WalletError::Issuer("the test issuer sent no credential".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_links_name_their_request_and_client() {
        let r = request_ref(
            "openid4vp://?client_id=x509_hash:abc&request_uri=https://p.example/oid4vp/request/id_1",
        )
        .unwrap();
        assert_eq!(r.request_uri, "https://p.example/oid4vp/request/id_1");
        assert_eq!(r.client_id.as_deref(), Some("x509_hash:abc"));
    }

    #[test]
    fn mypage_urls_lead_to_their_request_under_the_same_prefix() {
        assert_eq!(
            request_ref("http://127.0.0.1:3000/id_abc")
                .unwrap()
                .request_uri,
            "http://127.0.0.1:3000/oid4vp/request/id_abc"
        );
        assert_eq!(
            request_ref("https://x.example/my/id_abc?lang=nl")
                .unwrap()
                .request_uri,
            "https://x.example/my/oid4vp/request/id_abc"
        );
        assert!(request_ref("https://x.example/other").is_err());
        assert!(request_ref("ftp://x.example/id_a").is_err());
        assert!(request_ref("openid4vp://?client_id=a").is_err());
    }
}
