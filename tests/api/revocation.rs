//! Revocation through a Token Status List: a live identification presented
//! a credential whose `status` points at a status list server on loopback,
//! one test per rule of the check, and the fetches that server counts.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode as AxStatus, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flate2::Compression;
use flate2::write::ZlibEncoder;
use p256::ecdsa::SigningKey;
use proofme::config::{Config, StatusListPolicy};
use proofme::oid4vp::holder::{self, Issuer};
use proofme::oid4vp::jose::{self, b64url_encode, sign_es256};
use proofme::oid4vp::x509::{self, CertificateAuthority, Validity, encode_x5c};
use rand::rngs::OsRng;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::helpers::*;
use crate::verifier::{
    Live, assert_failed_with, fetch, live_app_with, now, present, respond, vp_token,
};

const PID_VCT: &str = "urn:eudi:pid:1";

/// What the status list server answers at one path.
#[derive(Clone)]
pub(crate) enum Answer {
    Token(String),
    Status(u16),
}

/// A status list server on loopback that counts the requests it gets.
#[derive(Clone, Default)]
pub(crate) struct ListServer {
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    hits: Arc<AtomicUsize>,
    accept: Arc<Mutex<Vec<String>>>,
    /// While set, answers wait for a permit of it.
    gate: Arc<Mutex<Option<Arc<Semaphore>>>>,
}

impl ListServer {
    pub(crate) async fn start() -> (ListServer, String) {
        let server = ListServer::default();
        let router = Router::new()
            .route("/lists/{name}", get(serve_list))
            .with_state(server.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, router).await });
        (server, format!("http://{addr}/lists"))
    }

    pub(crate) fn set(&self, name: &str, answer: Answer) {
        self.answers.lock().unwrap().insert(name.to_owned(), answer);
    }

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn serve_list(
    State(server): State<ListServer>,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    server.hits.fetch_add(1, Ordering::SeqCst);
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    server.accept.lock().unwrap().push(accept);
    let gate = server.gate.lock().unwrap().clone();
    if let Some(gate) = gate {
        let _permit = gate.acquire().await;
    }
    let answer = server.answers.lock().unwrap().get(&name).cloned();
    match answer {
        Some(Answer::Token(token)) => (
            [(header::CONTENT_TYPE, "application/statuslist+jwt")],
            token,
        )
            .into_response(),
        Some(Answer::Status(status)) => AxStatus::from_u16(status)
            .unwrap_or(AxStatus::INTERNAL_SERVER_ERROR)
            .into_response(),
        None => AxStatus::NOT_FOUND.into_response(),
    }
}

/// A valid Status List Token for `uri` holding `bytes` at `bits` per entry,
/// signed by `key`, with `certificate` as its `x5c` when given.
pub(crate) fn status_list_token(
    key: &SigningKey,
    certificate: Option<&[u8]>,
    uri: &str,
    bits: u8,
    bytes: &[u8],
) -> String {
    let token = token_parts(certificate, uri, bits, bytes);
    sign_es256(&token.header, &token.claims, key)
}

fn token_parts(certificate: Option<&[u8]>, uri: &str, bits: u8, bytes: &[u8]) -> Token {
    let mut header = json!({"alg": "ES256", "typ": "statuslist+jwt"});
    if let Some(certificate) = certificate {
        header["x5c"] = encode_x5c(&[certificate.to_vec()]);
    }
    let claims = json!({
        "sub": uri,
        "iat": now() - 10,
        "exp": now() + 3_600,
        "ttl": 300,
        "status_list": {"bits": bits, "lst": lst(bytes)},
    });
    Token {
        header: header.as_object().cloned().unwrap_or_default(),
        claims: claims.as_object().cloned().unwrap_or_default(),
    }
}

/// A PID issuer under a CA the app trusts, whose key also signs its lists.
struct ListIssuer {
    issuer: Issuer,
    key: SigningKey,
    leaf: Vec<u8>,
    anchors_pem: String,
}

fn list_issuer() -> ListIssuer {
    let validity = Validity::days_from(now() - 86_400, 365);
    let ca = CertificateAuthority::new("Status Test CA", validity).expect("CA");
    let secret = p256::SecretKey::random(&mut OsRng);
    let leaf = ca
        .issue_leaf(&secret.public_key(), "Status Test issuer", validity)
        .expect("leaf");
    let key = SigningKey::from(&secret);
    ListIssuer {
        issuer: Issuer::new(key.clone(), vec![leaf.clone()]),
        key,
        leaf,
        anchors_pem: x509::certificate_to_pem(&ca.certificate_der()),
    }
}

/// `lst`: the list's bytes, ZLIB-compressed, base64url.
fn lst(bytes: &[u8]) -> String {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("compress");
    b64url_encode(encoder.finish().expect("compress"))
}

/// The parts of a Status List Token a test may change.
struct Token {
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl ListIssuer {
    /// A valid token for `uri` carrying `bytes` at `bits` per entry, with
    /// the issuer's chain in `x5c`.
    fn token(&self, uri: &str, bits: u8, bytes: &[u8]) -> Token {
        token_parts(Some(&self.leaf), uri, bits, bytes)
    }

    fn sign(&self, token: &Token) -> String {
        sign_es256(&token.header, &token.claims, &self.key)
    }

    /// A PID for `holder` whose `status` points at entry `idx` of `uri`.
    fn pid_with_status(&self, holder: &SigningKey, uri: &str, idx: u64) -> String {
        let claims = holder::pid_claims::<&str>(&[]).expect("claims");
        let mut unsigned = self.issuer.prepare(
            &claims,
            &jose::Jwk::from_verifying_key(holder.verifying_key()),
            PID_VCT,
            now() - 60,
            now() + 86_400,
        );
        unsigned.payload.insert(
            "status".into(),
            json!({"status_list": {"idx": idx, "uri": uri}}),
        );
        self.issuer.sign(&unsigned)
    }
}

/// A live app trusting the roots in `anchors_pem`, allowed to fetch from
/// loopback, where the list servers listen.
pub(crate) async fn app_for(anchors_pem: &str, configure: impl FnOnce(&mut Config)) -> Live {
    live_app_with(anchors_pem, &["EPASS:OLDER_THAN_18"], |c| {
        c.allow_private_webhooks = true;
        configure(c);
    })
    .await
}

/// Creates an identification and presents a PID pointing at `idx` of `uri`.
async fn present_pid(
    live: &Live,
    issuer: &ListIssuer,
    uri: &str,
    idx: u64,
) -> (String, (StatusCode, Value)) {
    let id = live.create().await;
    let request = fetch(&live.app, &id).await;
    let holder_key = SigningKey::random(&mut OsRng);
    let credential = issuer.pid_with_status(&holder_key, uri, idx);
    let presentation = present(&credential, &request, &holder_key);
    let answer = respond(&live.app, &request, &vp_token(&request, &presentation)).await;
    (id, answer)
}

async fn assert_verified(live: &Live, id: &str, answer: &(StatusCode, Value)) {
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    let ident = live.identification(id).await;
    assert_eq!(ident["statusName"], "verified", "{ident}");
    assert_eq!(live.data(id).await["data"]["OLDER_THAN_18"], true);
}

async fn assert_failed(live: &Live, id: &str, answer: &(StatusCode, Value), reason: &str) {
    assert_failed_with(live, id, answer.clone(), reason).await;
}

/// One byte of 1-bit entries: entry 0 valid, entry 1 invalid (0b10).
const ONE_BIT: [u8; 2] = [0b0000_0010, 0];

/// A served list and the app: the common start of most tests.
async fn with_list(bits: u8, bytes: &[u8]) -> (ListIssuer, ListServer, String, Live) {
    with_list_configured(bits, bytes, |_| {}).await
}

/// `with_list` with `configure` applied to the app's config.
async fn with_list_configured(
    bits: u8,
    bytes: &[u8],
    configure: impl FnOnce(&mut Config),
) -> (ListIssuer, ListServer, String, Live) {
    let issuer = list_issuer();
    let (server, base) = ListServer::start().await;
    let uri = format!("{base}/a");
    server.set(
        "a",
        Answer::Token(issuer.sign(&issuer.token(&uri, bits, bytes))),
    );
    let live = app_for(&issuer.anchors_pem, configure).await;
    (issuer, server, uri, live)
}

#[tokio::test]
async fn a_credential_valid_in_its_status_list_verifies() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;

    assert_verified(&live, &id, &answer).await;
    assert_eq!(server.hits(), 1);
    assert_eq!(
        server.accept.lock().unwrap().as_slice(),
        ["application/statuslist+jwt"]
    );
}

#[tokio::test]
async fn a_revoked_credential_fails_as_revoked() {
    let (issuer, _server, uri, live) = with_list(1, &ONE_BIT).await;

    let (id, answer) = present_pid(&live, &issuer, &uri, 1).await;

    assert_failed(&live, &id, &answer, "revoked_credential").await;
}

#[tokio::test]
async fn a_suspended_credential_in_a_two_bit_list_fails_as_revoked() {
    // 2-bit entries, four to a byte: 0 valid, 1 invalid, 2 suspended, 3
    // application-specific (0b11_10_01_00).
    let (issuer, _server, uri, live) = with_list(2, &[0b1110_0100]).await;

    let (valid, answer) = present_pid(&live, &issuer, &uri, 0).await;
    assert_verified(&live, &valid, &answer).await;
    let (suspended, answer) = present_pid(&live, &issuer, &uri, 2).await;
    assert_failed(&live, &suspended, &answer, "revoked_credential").await;
    let (revoked, answer) = present_pid(&live, &issuer, &uri, 1).await;
    assert_failed(&live, &revoked, &answer, "revoked_credential").await;
    let (other, answer) = present_pid(&live, &issuer, &uri, 3).await;
    assert_failed(&live, &other, &answer, "revoked_credential").await;
}

#[tokio::test]
async fn an_index_outside_the_list_fails_even_under_fail_open() {
    let (issuer, _server, uri, live) = with_list_configured(1, &ONE_BIT, |c| {
        c.status_list_policy = StatusListPolicy::FailOpen
    })
    .await;

    // Two bytes of 1-bit entries: 16 entries, 0 to 15.
    let (id, answer) = present_pid(&live, &issuer, &uri, 16).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
}

#[tokio::test]
async fn a_list_signed_by_another_key_is_unavailable() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;
    let forger = SigningKey::random(&mut OsRng);
    // The issuer's chain in x5c, but another key's signature.
    server.set(
        "a",
        Answer::Token(sign_es256(
            &issuer.token(&uri, 1, &ONE_BIT).header,
            &issuer.token(&uri, 1, &ONE_BIT).claims,
            &forger,
        )),
    );

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
}

#[tokio::test]
async fn a_list_from_an_untrusted_chain_is_unavailable() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;
    let stranger = list_issuer();
    server.set(
        "a",
        Answer::Token(stranger.sign(&stranger.token(&uri, 1, &ONE_BIT))),
    );

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
}

#[tokio::test]
async fn a_list_without_a_chain_verifies_with_the_credential_issuers_key_only() {
    let issuer = list_issuer();
    let other = list_issuer();
    let (server, base) = ListServer::start().await;
    let uri = format!("{base}/a");
    let mut token = issuer.token(&uri, 1, &ONE_BIT);
    token.header.remove("x5c");
    server.set("a", Answer::Token(issuer.sign(&token)));
    // One app trusting both issuers, so both credentials meet one kept list.
    let both = format!("{}{}", issuer.anchors_pem, other.anchors_pem);
    let live = app_for(&issuer.anchors_pem, |c| c.trusted_issuers_pem = both).await;

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;
    assert_verified(&live, &id, &answer).await;

    // The other issuer's credential pointing at the same list: the kept list
    // was signed by the first issuer's key, so it does not vouch for it.
    let (id, answer) = present_pid(&live, &other, &uri, 0).await;
    assert_failed(&live, &id, &answer, "status_unavailable").await;
    assert_eq!(
        server.hits(),
        1,
        "the kept list was checked again, not fetched"
    );
}

#[tokio::test]
async fn a_list_of_the_wrong_typ_is_unavailable() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;
    let mut token = issuer.token(&uri, 1, &ONE_BIT);
    token.header.insert("typ".into(), json!("JWT"));
    server.set("a", Answer::Token(issuer.sign(&token)));

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
}

#[tokio::test]
async fn an_expired_list_is_unavailable() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;
    let mut token = issuer.token(&uri, 1, &ONE_BIT);
    token.claims.insert("exp".into(), json!(now() - 3_600));
    server.set("a", Answer::Token(issuer.sign(&token)));

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
}

#[tokio::test]
async fn a_list_for_another_uri_is_unavailable() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;
    let token = issuer.token(&format!("{uri}-other"), 1, &ONE_BIT);
    server.set("a", Answer::Token(issuer.sign(&token)));

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
}

#[tokio::test]
async fn a_list_answering_5xx_is_unavailable() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;
    server.set("a", Answer::Status(503));

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
}

#[tokio::test]
async fn a_list_larger_than_the_cap_is_unavailable() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;
    // A valid token padded past the 1 MiB the verifier reads.
    let token = issuer.sign(&issuer.token(&uri, 1, &ONE_BIT));
    server.set(
        "a",
        Answer::Token(format!("{token}{}", " ".repeat(1024 * 1024))),
    );

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
}

/// Waits until the server has had `n` requests; panics after `DEADLINE`.
async fn wait_for_hits(server: &ListServer, n: usize) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while server.hits() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {n} fetches within {DEADLINE:?}",
            server.hits()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A loopback URL nobody listens on.
fn closed_uri() -> String {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    format!("http://127.0.0.1:{port}/lists/a")
}

#[tokio::test]
async fn an_unreachable_list_fails_closed_by_default() {
    let issuer = list_issuer();
    let live = app_for(&issuer.anchors_pem, |_| {}).await;

    let (id, answer) = present_pid(&live, &issuer, &closed_uri(), 0).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
}

#[tokio::test]
async fn an_unreachable_list_under_fail_open_verifies_and_says_so_in_the_history() {
    let issuer = list_issuer();
    let live = app_for(&issuer.anchors_pem, |c| {
        c.status_list_policy = StatusListPolicy::FailOpen
    })
    .await;

    let (id, answer) = present_pid(&live, &issuer, &closed_uri(), 0).await;

    assert_verified(&live, &id, &answer).await;
    let history = live
        .app
        .get_with_key(&live.live_key, &format!("/v1/identification/{id}/history"))
        .await
        .json::<Value>()
        .await
        .expect("history JSON");
    let last = history["rows"]
        .as_array()
        .and_then(|h| h.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["cause"], "wallet_status_unchecked", "{history}");
    assert_eq!(last["statusName"], "verified", "{history}");
}

#[tokio::test]
async fn the_guard_keeps_status_lists_off_private_addresses() {
    let (issuer, server, uri, _) = with_list(1, &ONE_BIT).await;
    // The default config: no fetches from private addresses.
    let live = live_app_with(&issuer.anchors_pem, &["EPASS:OLDER_THAN_18"], |_| {}).await;

    let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;

    assert_failed(&live, &id, &answer, "status_unavailable").await;
    assert_eq!(server.hits(), 0, "nothing was sent to loopback");
}

#[tokio::test]
async fn a_list_is_fetched_once_within_its_ttl_for_many_presentations() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;

    for _ in 0..5 {
        let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;
        assert_verified(&live, &id, &answer).await;
    }
    let (id, answer) = present_pid(&live, &issuer, &uri, 1).await;
    assert_failed(&live, &id, &answer, "revoked_credential").await;

    assert_eq!(server.hits(), 1);
    assert_eq!(live.app.state.status_lists.fetches(), 1);
}

#[tokio::test]
async fn a_list_is_fetched_again_when_the_maximum_age_is_zero() {
    let (issuer, server, uri, live) = with_list_configured(1, &ONE_BIT, |c| {
        c.status_list_max_age = std::time::Duration::ZERO
    })
    .await;

    for _ in 0..3 {
        let (id, answer) = present_pid(&live, &issuer, &uri, 0).await;
        assert_verified(&live, &id, &answer).await;
    }

    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn concurrent_presentations_share_one_fetch() {
    let (issuer, server, uri, live) = with_list(1, &ONE_BIT).await;
    let gate = Arc::new(Semaphore::new(0));
    *server.gate.lock().unwrap() = Some(gate.clone());
    let live = Arc::new(live);
    let issuer = Arc::new(issuer);

    let presentations: Vec<_> = (0..8)
        .map(|_| {
            let (live, issuer, uri) = (live.clone(), issuer.clone(), uri.clone());
            tokio::spawn(async move { present_pid(&live, &issuer, &uri, 0).await })
        })
        .collect();
    // The first fetch is held at the server while every identification
    // gets its request and the others' presentations arrive.
    wait_for_hits(&server, 1).await;
    gate.add_permits(1_000);

    for presentation in presentations {
        let (id, answer) = presentation.await.expect("task");
        assert_verified(&live, &id, &answer).await;
    }
    assert_eq!(server.hits(), 1);
}

// --- the test issuer's own lists ---------------------------------------------

/// A test identification answered by the wallet command with a credential
/// the test issuer gives `status`, in `format`.
async fn present_test_credential(
    app: &TestApp,
    status: Option<proofme::domain::CredentialStatus>,
    doctype: Option<&str>,
) -> (String, u16) {
    let created = app.create_identification(json!({})).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let outcome = proofme::wallet::present(&proofme::wallet::PresentOptions {
        link: created["myPageUrl"].as_str().expect("link").to_owned(),
        credential_status: status,
        doctype: doctype.map(str::to_owned),
        ..Default::default()
    })
    .await
    .expect("the wallet answered");
    (id, outcome.status)
}

#[tokio::test]
async fn test_credentials_revoked_or_suspended_at_issue_fail_in_either_format() {
    use proofme::domain::CredentialStatus;
    use proofme::oid4vp::dcql::AV_DOCTYPE;
    let app = spawn_app().await;

    for doctype in [None, Some(AV_DOCTYPE)] {
        let (valid, status) = present_test_credential(&app, None, doctype).await;
        assert_eq!(status, 200, "{doctype:?}");
        assert_eq!(app.identification(&valid).await["statusName"], "verified");
        for revoked in [CredentialStatus::Invalid, CredentialStatus::Suspended] {
            let (id, status) = present_test_credential(&app, Some(revoked), doctype).await;
            assert_eq!(status, 200, "{doctype:?} {revoked:?}");
            let ident = app.identification(&id).await;
            assert_eq!(ident["statusName"], "failed", "{ident}");
            assert_eq!(ident["failureReason"], "revoked_credential", "{ident}");
        }
    }
    // Read in process: nothing was fetched over HTTP.
    assert_eq!(app.state.status_lists.fetches(), 0);
}
