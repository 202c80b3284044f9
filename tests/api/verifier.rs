//! The OpenID4VP verifier through its real endpoints (DESIGN 4a): request
//! objects, encrypted responses, every check on a presentation with the
//! answer and `failureReason` it gives, and the flows around them.

use std::time::Duration;

use crate::helpers::*;
use p256::ecdsa::SigningKey;
use proofme::config::Config;
use proofme::domain::{Mode, Timestamp};
use proofme::oid4vp::holder::{self, Issuer, UnsignedSdJwt};
use proofme::oid4vp::jose::{self, ContentEncryption};
use proofme::oid4vp::x509::{self, CertificateAuthority, Validity};
use proofme::wallet::{self, AuthorizationRequest};
use rand::rngs::OsRng;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PID_VCT: &str = "urn:eudi:pid:1";

/// A PID issuer trusted through a CA, as a real deployment configures it.
pub(crate) struct TrustedIssuer {
    pub(crate) issuer: Issuer,
    pub(crate) anchors_pem: String,
}

pub(crate) fn now() -> i64 {
    Timestamp::now().unix_seconds()
}

fn trusted_issuer() -> TrustedIssuer {
    let validity = Validity::days_from(now() - 86_400, 365);
    let ca = CertificateAuthority::new("Test PID CA", validity).expect("CA");
    let key = p256::SecretKey::random(&mut OsRng);
    let leaf = ca
        .issue_leaf(&key.public_key(), "Test PID issuer", validity)
        .expect("leaf");
    TrustedIssuer {
        issuer: Issuer::new(SigningKey::from(&key), vec![leaf]),
        anchors_pem: x509::certificate_to_pem(&ca.certificate_der()),
    }
}

/// The app trusting `issuer`, with a live key and a proofme asking for
/// `credentials` (`EPASS:OLDER_THAN_18` style).
pub(crate) struct Live {
    pub(crate) app: TestApp,
    pub(crate) live_key: String,
    pub(crate) proofme_id: String,
}

pub(crate) async fn live_app(issuer: &TrustedIssuer, credentials: &[&str]) -> Live {
    live_app_with(&issuer.anchors_pem, credentials, |_| {}).await
}

/// `live_app` trusting the roots in `anchors_pem`, with `configure` applied
/// after them (so a test may also replace them).
pub(crate) async fn live_app_with(
    anchors_pem: &str,
    credentials: &[&str],
    configure: impl FnOnce(&mut Config),
) -> Live {
    let pem = anchors_pem.to_owned();
    let app = spawn_app_with(move |c| {
        c.trusted_issuers_pem = pem;
        configure(c);
    })
    .await;
    let live_key = app.create_api_key(Mode::Live).await;
    let proofme_id = app.create_proofme(credentials).await;
    Live {
        app,
        live_key,
        proofme_id,
    }
}

impl Live {
    pub(crate) async fn create(&self) -> String {
        let body = self
            .app
            .json_body_with(json!({"proofmeId": self.proofme_id}));
        let created = created(self.app.post_json_with_key(&self.live_key, &body).await).await;
        assert_eq!(created["mode"], "live");
        created["id"].as_str().expect("id").to_owned()
    }

    pub(crate) async fn identification(&self, id: &str) -> Value {
        let resp = self
            .app
            .get_with_key(&self.live_key, &format!("/v1/identification/{id}"))
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.expect("JSON")
    }

    pub(crate) async fn data(&self, id: &str) -> Value {
        let resp = self
            .app
            .get_with_key(&self.live_key, &format!("/v1/identification/data/{id}"))
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.expect("JSON")
    }
}

/// Fetches and checks the request object as a wallet does.
pub(crate) async fn fetch(app: &TestApp, id: &str) -> AuthorizationRequest {
    let resp = app
        .client
        .get(app.url(&format!("/oid4vp/request/{id}")))
        .send()
        .await
        .expect("GET request");
    assert_eq!(resp.status(), StatusCode::OK, "request fetch");
    assert_eq!(
        content_type(&resp),
        "application/oauth-authz-req+jwt",
        "request object media type"
    );
    let jwt = resp.text().await.expect("body");
    wallet::verify_request(&jwt, None, None, Timestamp::now()).expect("a valid request object")
}

/// A PID for `holder` signed by `issuer`, valid now.
fn pid(issuer: &Issuer, holder: &SigningKey, overrides: &[&str]) -> String {
    let claims = holder::pid_claims(overrides).expect("claims");
    issuer.issue(
        &claims,
        &jose::Jwk::from_verifying_key(holder.verifying_key()),
        PID_VCT,
        now() - 60,
        now() + 86_400,
    )
}

/// The presentation of what the request asks for, bound to its nonce and client.
pub(crate) fn present(
    credential: &str,
    request: &AuthorizationRequest,
    holder: &SigningKey,
) -> String {
    let paths = request.claim_paths.clone();
    holder::present(
        credential,
        |p: &[String]| paths.iter().any(|w| w.as_slice() == p),
        holder,
        &request.nonce,
        &request.client_id,
        now(),
    )
    .expect("presentation")
}

pub(crate) fn vp_token(request: &AuthorizationRequest, presentation: &str) -> Value {
    json!({"vp_token": {"pid": [presentation]}, "state": request.state})
}

/// Encrypts `payload` to the request's response key and posts it.
pub(crate) async fn respond(
    app: &TestApp,
    request: &AuthorizationRequest,
    payload: &Value,
) -> (StatusCode, Value) {
    let jwe = jose::encrypt(
        payload.to_string().as_bytes(),
        &request.response_key,
        ContentEncryption::A128Gcm,
        request.response_key.kid.as_deref(),
    )
    .expect("JWE");
    post_jwe(app, &jwe).await
}

async fn post_jwe(app: &TestApp, jwe: &str) -> (StatusCode, Value) {
    let resp = app
        .client
        .post(app.url("/oid4vp/response"))
        .form(&[("response", jwe)])
        .send()
        .await
        .expect("POST response");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn invalid_request() -> Value {
    json!({"error": "invalid_request"})
}

/// The `error` member only (descriptions may change).
fn error_of(body: &Value) -> Value {
    json!({"error": body["error"]})
}

impl TestApp {
    /// A proofme of the app's organisation asking for `credentials`.
    pub(crate) async fn create_proofme(&self, credentials: &[&str]) -> String {
        let org = proofme::domain::OrganisationId::parse(&self.org_id).expect("org id");
        let credentials: Vec<proofme::domain::Credential> = credentials
            .iter()
            .map(|c| c.parse().expect("credential"))
            .collect();
        self.store
            .create_proofme(
                &org,
                "Wallet check",
                proofme::domain::Purpose::KycVerification,
                &credentials,
            )
            .await
            .expect("proofme")
            .id
            .to_string()
    }
}

/// Asserts the presentation failed the identification with `reason`, and the
/// wallet got the same-device redirect, which leads to the organisation.
pub(crate) async fn assert_failed_with(
    live: &Live,
    id: &str,
    answer: (StatusCode, Value),
    reason: &str,
) {
    let ident = live.identification(id).await;
    assert_eq!(ident["statusName"], "failed", "{ident}");
    assert_eq!(ident["failureReason"], reason, "{ident}");
    assert_eq!(live.data(id).await["data"], Value::Null);
    assert_redirects_to_the_organisation(&live.app, id, &answer).await;
}

/// Asserts the wallet got `200 {"redirect_uri"}` for `id`'s `/done`, and that
/// following it (once the identification is final) leads to `redirectUrl`.
pub(crate) async fn assert_redirects_to_the_organisation(
    app: &TestApp,
    id: &str,
    answer: &(StatusCode, Value),
) {
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    let redirect = answer.1["redirect_uri"].as_str().expect("redirect_uri");
    assert!(
        redirect.starts_with(&format!(
            "{}/{id}/done?response_code=",
            app.config.public_url
        )),
        "{redirect}"
    );
    let done = app.client.get(redirect).send().await.expect("GET done");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()["location"], REDIRECT_URL);
}

/// Asserts nothing changed: still pending, no reason, and a 400.
pub(crate) async fn assert_unchanged(live: &Live, id: &str, answer: (StatusCode, Value)) {
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
    assert_eq!(error_of(&answer.1), invalid_request());
    let ident = live.identification(id).await;
    assert_eq!(ident["statusName"], "pending", "{ident}");
    assert_eq!(ident["failureReason"], Value::Null);
}

// --- the request ------------------------------------------------------------

#[tokio::test]
async fn the_request_object_is_signed_and_asks_for_the_proofmes_claims() {
    let issuer = trusted_issuer();
    let live = live_app(
        &issuer,
        &["EPASS:OLDER_THAN_18", "EPASS:FIRST_NAME:optional"],
    )
    .await;
    let id = live.create().await;

    let request = fetch(&live.app, &id).await;

    assert!(request.client_id.starts_with("x509_hash:"));
    assert_eq!(
        request.response_uri,
        Some(format!("{}/oid4vp/response", live.app.config.public_url))
    );
    assert_eq!(
        request.claim_paths,
        vec![
            vec!["age_equal_or_over".to_owned(), "18".to_owned()],
            vec!["given_name".to_owned()]
        ]
    );
    assert_eq!(request.response_key.key_use.as_deref(), Some("enc"));
    assert_eq!(request.response_key.alg.as_deref(), Some("ECDH-ES"));
    assert!(request.nonce.len() >= 22 && request.state.len() >= 22);
}

#[tokio::test]
async fn the_request_carries_the_protocol_claims_of_the_design() {
    let app = spawn_app().await;
    let id = app.create_with_description("Order 1").await;

    let jwt = app
        .client
        .get(app.url(&format!("/oid4vp/request/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let jws = jose::Jws::parse(&jwt).expect("JWS");
    assert_eq!(jws.header()["alg"], "ES256");
    assert_eq!(jws.header()["typ"], "oauth-authz-req+jwt");
    assert_eq!(jws.header()["x5c"].as_array().map(Vec::len), Some(1));
    let c = jws.payload();
    assert_eq!(c["response_type"], "vp_token");
    assert_eq!(c["response_mode"], "direct_post.jwt");
    assert_eq!(c["aud"], "https://self-issued.me/v2");
    let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 300, "requests live 5 minutes");
    let query = &c["dcql_query"]["credentials"][0];
    assert_eq!(query["id"], "pid");
    assert_eq!(query["format"], "dc+sd-jwt");
    assert_eq!(query["meta"]["vct_values"], json!([PID_VCT]));
    let meta = &c["client_metadata"];
    assert_eq!(
        meta["encrypted_response_enc_values_supported"],
        json!(["A128GCM", "A256GCM"])
    );
    assert!(meta["vp_formats_supported"]["dc+sd-jwt"].is_object());
    assert!(meta["jwks"]["keys"][0]["kid"].is_string());
}

#[tokio::test]
async fn every_fetch_gets_a_fresh_nonce_state_and_response_key() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;

    let first = fetch(&app, &id).await;
    let second = fetch(&app, &id).await;

    assert_ne!(first.nonce, second.nonce);
    assert_ne!(first.state, second.state);
    assert_ne!(first.response_key.kid, second.response_key.kid);
    assert_ne!(first.response_key.x, second.response_key.x);
    assert_eq!(first.client_id, second.client_id);
}

#[tokio::test]
async fn fetching_the_request_makes_the_identification_pending_with_its_webhook_and_event() {
    let receiver = receiver().await;
    let app = spawn_app_with(|c| c.allow_private_webhooks = true).await;
    let id = app
        .create_identification(json!({"webhookUrl": format!("{}/hook", receiver.uri())}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stream = app
        .client
        .get(app.url(&format!("/{id}/events")))
        .send()
        .await
        .unwrap();
    let mut events = EventStream::new(stream);
    let first = events.next(DEADLINE).await.expect("first event");
    assert!(first.data.contains("\"open\""), "{first:?}");

    fetch(&app, &id).await;

    let ident = app.identification(&id).await;
    assert_eq!(ident["statusName"], "pending");
    assert!(ident["scannedAt"].is_string());
    let history = app.history(&id).await;
    assert_eq!(history.last().unwrap()["cause"], "wallet");
    let pending = events.next(DEADLINE).await.expect("pending event");
    assert!(pending.data.contains("\"pending\""), "{pending:?}");
    let deliveries = app
        .wait_for_deliveries(&id, DEADLINE, |rows| {
            rows.iter()
                .any(|r| r["status"] == "1" && r["state"] == "delivered")
        })
        .await;
    assert_eq!(deliveries.len(), 1);
}

#[tokio::test]
async fn a_second_fetch_keeps_the_identification_pending_without_a_new_change() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;

    fetch(&app, &id).await;
    fetch(&app, &id).await;

    let history = app.history(&id).await;
    assert_eq!(history.len(), 2, "created, then pending once: {history:?}");
}

#[tokio::test]
async fn the_request_of_a_final_expired_or_unknown_identification_is_404() {
    let ttl = Duration::from_secs(60);
    let app = spawn_app_with(|c| c.identification_ttl = ttl).await;
    let revoked = app.create_with_description("revoked").await;
    app.delete(&format!("/v1/identification/{revoked}")).await;
    let expiring = app.create_with_description("expiring").await;
    app.clock.advance(ttl + Duration::from_secs(1));

    for id in [
        revoked.as_str(),
        expiring.as_str(),
        "id_0000000000000000000000",
        "garbage",
    ] {
        let resp = app
            .client
            .get(app.url(&format!("/oid4vp/request/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{id}");
    }
    assert_eq!(app.identification(&revoked).await["statusName"], "revoked");
    assert_eq!(app.identification(&expiring).await["statusName"], "expired");
    assert_eq!(
        app.identification(&expiring).await["scannedAt"],
        Value::Null
    );
}

#[tokio::test]
async fn a_posted_request_fetch_echoes_the_wallet_nonce() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;

    let resp = app
        .client
        .post(app.url(&format!("/oid4vp/request/{id}")))
        .form(&[
            ("wallet_nonce", "n-0S6_WzA2Mj"),
            ("wallet_metadata", r#"{"vp_formats_supported":{}}"#),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(resp.status(), StatusCode::OK);
    let jwt = resp.text().await.unwrap();
    let request = wallet::verify_request(&jwt, None, Some("n-0S6_WzA2Mj"), Timestamp::now());
    assert!(request.is_ok(), "{request:?}");
    assert_eq!(app.identification(&id).await["statusName"], "pending");
}

// --- a good presentation ----------------------------------------------------

#[tokio::test]
async fn a_live_identification_is_verified_by_a_trusted_pid_with_only_the_requested_attributes() {
    let issuer = trusted_issuer();
    let live = live_app(&issuer, &["EPASS:OLDER_THAN_18", "EPASS:FIRST_NAME"]).await;
    let id = live.create().await;
    let request = fetch(&live.app, &id).await;
    let holder = SigningKey::random(&mut OsRng);
    let credential = pid(&issuer.issuer, &holder, &["given_name=Ada"]);
    // The wallet discloses more than asked: only what was asked is kept.
    let everything = holder::present(
        &credential,
        |_: &[String]| true,
        &holder,
        &request.nonce,
        &request.client_id,
        now(),
    )
    .unwrap();

    let (status, body) = respond(&live.app, &request, &vp_token(&request, &everything)).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let redirect = body["redirect_uri"].as_str().expect("redirect_uri");
    assert!(
        redirect.starts_with(&format!(
            "{}/{id}/done?response_code=",
            live.app.config.public_url
        )),
        "{redirect}"
    );
    let ident = live.identification(&id).await;
    assert_eq!(ident["statusName"], "verified");
    assert_eq!(ident["failureReason"], Value::Null);
    assert_eq!(
        live.data(&id).await["data"],
        json!({"OLDER_THAN_18": true, "FIRST_NAME": "Ada"})
    );
}

#[tokio::test]
async fn the_same_device_redirect_goes_to_the_organisation_with_the_right_code_only() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let request = fetch(&app, &id).await;
    let holder = SigningKey::random(&mut OsRng);
    let credential = test_pid(&app, &request.nonce, &holder, &[]).await;
    let (status, body) = respond(
        &app,
        &request,
        &vp_token(&request, &present(&credential, &request, &holder)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let redirect = body["redirect_uri"].as_str().unwrap();

    let good = app.client.get(redirect).send().await.unwrap();
    let bad = app
        .client
        .get(app.url(&format!("/{id}/done?response_code=AAAAAAAAAAAAAAAAAAAAAA")))
        .send()
        .await
        .unwrap();

    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    assert_eq!(good.headers()["location"], REDIRECT_URL);
    assert_eq!(bad.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        bad.headers()["location"].to_str().unwrap(),
        format!("/{id}")
    );
}

#[tokio::test]
async fn a_desktop_page_follows_a_wallet_on_another_device_by_events() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let stream = app
        .client
        .get(app.url(&format!("/{id}/events")))
        .send()
        .await
        .unwrap();
    let mut events = EventStream::new(stream);
    events.next(DEADLINE).await.expect("open");

    let request = fetch(&app, &id).await;
    let holder = SigningKey::random(&mut OsRng);
    let credential = test_pid(&app, &request.nonce, &holder, &[]).await;
    respond(
        &app,
        &request,
        &vp_token(&request, &present(&credential, &request, &holder)),
    )
    .await;

    let pending = events.next(DEADLINE).await.expect("pending");
    let last = events.next(DEADLINE).await.expect("verified");
    assert!(pending.data.contains("\"pending\""));
    let last: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(last["statusName"], "verified");
    assert_eq!(last["redirectUrl"], REDIRECT_URL);
}

/// A PID from the server's test issuer, as the wallet command gets one:
/// showing the nonce of the request it fetched.
async fn test_pid(app: &TestApp, nonce: &str, holder: &SigningKey, overrides: &[&str]) -> String {
    let claims = holder::pid_claims(overrides).unwrap();
    let resp = app
        .client
        .post(app.url("/oid4vp/test-issuer/credential"))
        .json(&json!({
            "nonce": nonce,
            "holderJwk": jose::Jwk::from_verifying_key(holder.verifying_key()).to_value(),
            "claims": claims,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Value>().await.unwrap()["credential"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_test_issuer_verifies_test_identifications() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let request = fetch(&app, &id).await;
    let holder = SigningKey::random(&mut OsRng);
    let credential = test_pid(&app, &request.nonce, &holder, &[]).await;

    let (status, _) = respond(
        &app,
        &request,
        &vp_token(&request, &present(&credential, &request, &holder)),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.identification(&id).await["statusName"], "verified");
    assert_eq!(
        app.get_json(&format!("/v1/identification/data/{id}")).await["data"],
        json!({"OLDER_THAN_18": true})
    );
}

#[tokio::test]
async fn the_test_issuer_never_verifies_a_live_identification() {
    let issuer = trusted_issuer();
    let live = live_app(&issuer, &["EPASS:OLDER_THAN_18"]).await;
    let id = live.create().await;
    let request = fetch(&live.app, &id).await;
    let holder = SigningKey::random(&mut OsRng);
    // The issuer serves wallets of test identifications only: the credential
    // comes by way of one, and is then shown to the live one.
    let test_id = live.app.create_with_description("x").await;
    let test_request = fetch(&live.app, &test_id).await;
    let credential = test_pid(&live.app, &test_request.nonce, &holder, &[]).await;

    let answer = respond(
        &live.app,
        &request,
        &vp_token(&request, &present(&credential, &request, &holder)),
    )
    .await;

    assert_failed_with(&live, &id, answer, "untrusted_issuer").await;
}

// --- one broken rule each ---------------------------------------------------

/// A live identification asking for age and first name, its fetched request,
/// a holder key and a credential from the trusted issuer.
struct Case {
    issuer: TrustedIssuer,
    live: Live,
    id: String,
    request: AuthorizationRequest,
    holder: SigningKey,
}

async fn case() -> Case {
    let issuer = trusted_issuer();
    let live = live_app(&issuer, &["EPASS:OLDER_THAN_18", "EPASS:FIRST_NAME"]).await;
    let id = live.create().await;
    let request = fetch(&live.app, &id).await;
    Case {
        issuer,
        live,
        id,
        request,
        holder: SigningKey::random(&mut OsRng),
    }
}

impl Case {
    fn unsigned(&self) -> UnsignedSdJwt {
        let claims = holder::pid_claims::<&str>(&[]).unwrap();
        self.issuer.issuer.prepare(
            &claims,
            &jose::Jwk::from_verifying_key(self.holder.verifying_key()),
            PID_VCT,
            now() - 60,
            now() + 86_400,
        )
    }

    fn present(&self, credential: &str) -> String {
        present(credential, &self.request, &self.holder)
    }

    async fn send(&self, presentation: &str) -> (StatusCode, Value) {
        respond(
            &self.live.app,
            &self.request,
            &vp_token(&self.request, presentation),
        )
        .await
    }

    async fn assert_failed(self, presentation: &str, reason: &str) {
        let answer = self.send(presentation).await;
        assert_failed_with(&self.live, &self.id, answer, reason).await;
    }
}

#[tokio::test]
async fn an_untrusted_issuer_fails_the_identification() {
    let c = case().await;
    let stranger = trusted_issuer(); // its CA is not configured
    let credential = pid(&stranger.issuer, &c.holder, &[]);
    let p = c.present(&credential);
    c.assert_failed(&p, "untrusted_issuer").await;
}

/// Issuer chains that break the X.509 path rules (DESIGN 4b), each under
/// the one trusted root: a leaf that may only agree keys, an intermediate
/// CA without keyCertSign, a non-CA leaf that may only sign certificates.
#[tokio::test]
async fn issuer_chains_that_break_the_path_rules_fail_the_identification() {
    use rcgen::{BasicConstraints, IsCa, KeyUsagePurpose};
    let validity = Validity::days_from(now() - 86_400, 365);
    let root = CertificateAuthority::new("Trusted root", validity).unwrap();
    let leaf_params = |usages: Vec<KeyUsagePurpose>, ca: IsCa| {
        let mut p = x509::certificate_params("Issuer", validity, false).unwrap();
        p.key_usages = usages;
        p.is_ca = ca;
        p
    };
    let mut sub_ca = x509::certificate_params("Sub CA", validity, true).unwrap();
    sub_ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    sub_ca.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign];
    sub_ca.use_authority_key_identifier_extension = true;
    let sub_ca = root.issue_intermediate_with(sub_ca).unwrap();

    let key_agreement_key = p256::SecretKey::random(&mut OsRng);
    let key_agreement_leaf = root
        .issue_with(
            &key_agreement_key.public_key(),
            leaf_params(vec![KeyUsagePurpose::KeyAgreement], IsCa::ExplicitNoCa),
        )
        .unwrap();
    let under_sub_ca_key = p256::SecretKey::random(&mut OsRng);
    let under_sub_ca_leaf = sub_ca
        .issue_leaf(&under_sub_ca_key.public_key(), "Issuer", validity)
        .unwrap();
    let cert_sign_key = p256::SecretKey::random(&mut OsRng);
    let cert_sign_leaf = root
        .issue_with(
            &cert_sign_key.public_key(),
            leaf_params(vec![KeyUsagePurpose::KeyCertSign], IsCa::ExplicitNoCa),
        )
        .unwrap();
    let chains = [
        (key_agreement_key, vec![key_agreement_leaf]),
        (
            under_sub_ca_key,
            vec![under_sub_ca_leaf, sub_ca.certificate_der()],
        ),
        (cert_sign_key, vec![cert_sign_leaf]),
    ];
    let trusted = TrustedIssuer {
        issuer: Issuer::new(SigningKey::from(&chains[0].0), chains[0].1.clone()),
        anchors_pem: x509::certificate_to_pem(&root.certificate_der()),
    };
    let live = live_app(&trusted, &["EPASS:OLDER_THAN_18"]).await;

    for (key, chain) in chains {
        let id = live.create().await;
        let request = fetch(&live.app, &id).await;
        let holder = SigningKey::random(&mut OsRng);
        let credential = pid(&Issuer::new(SigningKey::from(&key), chain), &holder, &[]);
        let presentation = present(&credential, &request, &holder);
        let answer = respond(&live.app, &request, &vp_token(&request, &presentation)).await;
        assert_failed_with(&live, &id, answer, "untrusted_issuer").await;
    }
}

#[tokio::test]
async fn a_bad_issuer_signature_fails_the_identification() {
    let c = case().await;
    let mut credential = c.issuer.issuer.sign(&c.unsigned());
    // Change the payload after signing: the signature no longer matches.
    let (jwt, rest) = credential.split_once('~').unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload = jose::parse_json_object(&jose::b64url_decode(parts[1]).unwrap()).unwrap();
    payload.insert("exp".into(), json!(now() + 999_999));
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        jose::b64url_encode(Value::Object(payload).to_string()),
        parts[2]
    );
    credential = format!("{forged}~{rest}");
    let p = c.present(&credential);
    c.assert_failed(&p, "invalid_signature").await;
}

#[tokio::test]
async fn an_issuer_jwt_with_alg_none_fails_the_identification() {
    let c = case().await;
    let mut unsigned = c.unsigned();
    unsigned.header.insert("alg".into(), json!("none"));
    let jwt = format!(
        "{}.{}.",
        jose::b64url_encode(Value::Object(unsigned.header.clone()).to_string()),
        jose::b64url_encode(Value::Object(unsigned.payload.clone()).to_string())
    );
    // Everything disclosed and correctly bound: only the algorithm is wrong
    // (the holder library itself refuses to read such a credential).
    let sd_jwt = format!("{jwt}~{}~", unsigned.disclosures.join("~"));
    let kb = holder::key_binding_jwt(
        &c.holder,
        &proofme::oid4vp::sdjwt::sd_digest(&sd_jwt),
        &c.request.nonce,
        &c.request.client_id,
        now(),
    );
    c.assert_failed(&format!("{sd_jwt}{kb}"), "invalid_signature")
        .await;
}

#[tokio::test]
async fn an_expired_credential_fails_the_identification() {
    let c = case().await;
    let claims = holder::pid_claims::<&str>(&[]).unwrap();
    let credential = c.issuer.issuer.issue(
        &claims,
        &jose::Jwk::from_verifying_key(c.holder.verifying_key()),
        PID_VCT,
        now() - 7200,
        now() - 3600,
    );
    let p = c.present(&credential);
    c.assert_failed(&p, "expired_credential").await;
}

fn present_with(
    c: &Case,
    credential: &str,
    key: &SigningKey,
    nonce: &str,
    audience: &str,
) -> String {
    let paths = c.request.claim_paths.clone();
    holder::present(
        credential,
        |p: &[String]| paths.iter().any(|w| w.as_slice() == p),
        key,
        nonce,
        audience,
        now(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_wrong_nonce_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let p = present_with(
        &c,
        &credential,
        &c.holder,
        "another-nonce",
        &c.request.client_id,
    );
    c.assert_failed(&p, "invalid_key_binding").await;
}

#[tokio::test]
async fn a_key_binding_to_a_superseded_requests_nonce_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    // Bound to the first request's nonce, sent as the answer to the next.
    let stale = c.present(&credential);
    let newer = fetch(&c.live.app, &c.id).await;
    assert_ne!(newer.nonce, c.request.nonce);

    let answer = respond(&c.live.app, &newer, &vp_token(&newer, &stale)).await;

    assert_failed_with(&c.live, &c.id, answer, "invalid_key_binding").await;
}

#[tokio::test]
async fn a_wrong_audience_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let p = present_with(
        &c,
        &credential,
        &c.holder,
        &c.request.nonce,
        "x509_hash:someone-else",
    );
    c.assert_failed(&p, "invalid_key_binding").await;
}

#[tokio::test]
async fn key_binding_signed_by_another_key_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let thief = SigningKey::random(&mut OsRng);
    let p = present_with(
        &c,
        &credential,
        &thief,
        &c.request.nonce,
        &c.request.client_id,
    );
    c.assert_failed(&p, "invalid_key_binding").await;
}

#[tokio::test]
async fn an_sd_hash_mismatch_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let paths = c.request.claim_paths.clone();
    let selected = holder::select_disclosures(&credential, |p: &[String]| {
        paths.iter().any(|w| w.as_slice() == p)
    })
    .unwrap();
    let kb = holder::key_binding_jwt(
        &c.holder,
        &proofme::oid4vp::sdjwt::sd_digest("something else"),
        &c.request.nonce,
        &c.request.client_id,
        now(),
    );
    let p = format!("{selected}{kb}");
    c.assert_failed(&p, "invalid_key_binding").await;
}

/// A presentation with `disclosures` in place of the selected ones, bound
/// correctly (so only the disclosure rule is broken).
fn rebound(c: &Case, credential: &str, change: impl Fn(&mut Vec<String>)) -> String {
    let paths = c.request.claim_paths.clone();
    let selected = holder::select_disclosures(credential, |p: &[String]| {
        paths.iter().any(|w| w.as_slice() == p)
    })
    .unwrap();
    let mut parts: Vec<String> = selected
        .trim_end_matches('~')
        .split('~')
        .map(str::to_owned)
        .collect();
    let jwt = parts.remove(0);
    change(&mut parts);
    let sd_jwt = format!("{jwt}~{}~", parts.join("~"));
    let kb = holder::key_binding_jwt(
        &c.holder,
        &proofme::oid4vp::sdjwt::sd_digest(&sd_jwt),
        &c.request.nonce,
        &c.request.client_id,
        now(),
    );
    format!("{sd_jwt}{kb}")
}

#[tokio::test]
async fn a_tampered_disclosure_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &["given_name=Ada"]);
    let p = rebound(&c, &credential, |ds| {
        // given_name's disclosure, re-made with another value: its digest is
        // referenced nowhere.
        let i = ds
            .iter()
            .position(|d| {
                String::from_utf8(jose::b64url_decode(d).unwrap())
                    .unwrap()
                    .contains("given_name")
            })
            .unwrap();
        let forged = proofme::oid4vp::sdjwt::Disclosure::property(
            &holder::random_salt(),
            "given_name",
            &json!("Mallory"),
        );
        ds[i] = forged.encoded;
    });
    c.assert_failed(&p, "invalid_presentation").await;
}

#[tokio::test]
async fn an_unreferenced_extra_disclosure_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let p = rebound(&c, &credential, |ds| {
        ds.push(
            proofme::oid4vp::sdjwt::Disclosure::property(
                &holder::random_salt(),
                "nickname",
                &json!("x"),
            )
            .encoded,
        );
    });
    c.assert_failed(&p, "invalid_presentation").await;
}

#[tokio::test]
async fn a_duplicate_disclosure_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let p = rebound(&c, &credential, |ds| {
        let first = ds[0].clone();
        ds.push(first);
    });
    c.assert_failed(&p, "invalid_presentation").await;
}

#[tokio::test]
async fn a_missing_required_claim_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    // Discloses the age but not the required first name.
    let p = holder::present(
        &credential,
        |p: &[String]| p.first().map(String::as_str) == Some("age_equal_or_over"),
        &c.holder,
        &c.request.nonce,
        &c.request.client_id,
        now(),
    )
    .unwrap();
    c.assert_failed(&p, "missing_credential").await;
}

#[tokio::test]
async fn an_age_claim_that_is_false_fails_the_identification() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &["age_equal_or_over.18=false"]);
    let p = c.present(&credential);
    c.assert_failed(&p, "age_requirement_not_met").await;
}

#[tokio::test]
async fn access_denied_cancels_the_identification() {
    let c = case().await;

    let (status, body) = respond(
        &c.live.app,
        &c.request,
        &json!({"error": "access_denied", "state": c.request.state}),
    )
    .await;

    let ident = c.live.identification(&c.id).await;
    assert_eq!(ident["statusName"], "canceled");
    assert_eq!(ident["failureReason"], Value::Null);
    assert_eq!(c.live.app_history_cause(&c.id).await, "wallet");
    assert_redirects_to_the_organisation(&c.live.app, &c.id, &(status, body)).await;
}

#[tokio::test]
async fn another_wallet_error_fails_the_identification_as_a_wallet_error() {
    let c = case().await;

    let answer = respond(
        &c.live.app,
        &c.request,
        &json!({"error": "invalid_request", "state": c.request.state}),
    )
    .await;

    let ident = c.live.identification(&c.id).await;
    assert_eq!(ident["statusName"], "failed");
    assert_eq!(ident["failureReason"], "wallet_error");
    assert_redirects_to_the_organisation(&c.live.app, &c.id, &answer).await;
}

impl Live {
    async fn app_history_cause(&self, id: &str) -> String {
        let resp = self
            .app
            .get_with_key(&self.live_key, &format!("/v1/identification/{id}/history"))
            .await;
        let body: Value = resp.json().await.unwrap();
        body["rows"].as_array().unwrap().last().unwrap()["cause"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

// --- answers that change nothing ---------------------------------------------

#[tokio::test]
async fn an_undecryptable_response_changes_nothing() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let good = jose::encrypt(
        vp_token(&c.request, &c.present(&credential))
            .to_string()
            .as_bytes(),
        &c.request.response_key,
        ContentEncryption::A256Gcm,
        c.request.response_key.kid.as_deref(),
    )
    .unwrap();
    // One byte of the ciphertext flipped.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut ct = jose::b64url_decode(&parts[3]).unwrap();
    ct[0] ^= 1;
    parts[3] = jose::b64url_encode(&ct);
    let tampered = parts.join(".");
    // Encrypted to a key the verifier never issued, with a kid it did.
    let mut stranger =
        jose::Jwk::from_public_key(&p256::SecretKey::random(&mut OsRng).public_key());
    stranger.kid = c.request.response_key.kid.clone();
    let wrong_key = jose::encrypt(
        b"{}",
        &stranger,
        ContentEncryption::A128Gcm,
        stranger.kid.as_deref(),
    )
    .unwrap();

    for jwe in [
        tampered.as_str(),
        wrong_key.as_str(),
        "garbage",
        "a.b.c.d.e",
    ] {
        let answer = post_jwe(&c.live.app, jwe).await;
        assert_unchanged(&c.live, &c.id, answer).await;
    }
    // The genuine answer still works afterwards.
    let (status, _) = post_jwe(&c.live.app, &good).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_response_with_the_wrong_state_changes_nothing() {
    let c = case().await;
    let answer = respond(
        &c.live.app,
        &c.request,
        &json!({"error": "access_denied", "state": "not-it"}),
    )
    .await;
    assert_unchanged(&c.live, &c.id, answer).await;
}

#[tokio::test]
async fn an_answer_after_the_response_window_changes_nothing() {
    let window = Duration::from_secs(60);
    let app = spawn_app_with(|c| c.wallet_response_window = window).await;
    let id = app.create_with_description("x").await;
    let request = fetch(&app, &id).await;
    app.clock.advance(window + Duration::from_secs(1));

    let (status, body) = respond(
        &app,
        &request,
        &json!({"error": "access_denied", "state": request.state}),
    )
    .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(app.identification(&id).await["statusName"], "pending");
}

#[tokio::test]
async fn an_answer_to_a_superseded_request_changes_nothing() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let old = c.present(&credential);
    // The wallet (or another device) fetched the request again.
    let newer = fetch(&c.live.app, &c.id).await;

    let answer = c.send(&old).await;

    assert_unchanged(&c.live, &c.id, answer).await;
    let fresh = present(&credential, &newer, &c.holder);
    let (status, _) = respond(&c.live.app, &newer, &vp_token(&newer, &fresh)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c.live.identification(&c.id).await["statusName"], "verified");
}

#[tokio::test]
async fn a_replayed_response_changes_nothing() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let jwe = jose::encrypt(
        vp_token(&c.request, &c.present(&credential))
            .to_string()
            .as_bytes(),
        &c.request.response_key,
        ContentEncryption::A128Gcm,
        c.request.response_key.kid.as_deref(),
    )
    .unwrap();
    let (first, _) = post_jwe(&c.live.app, &jwe).await;
    assert_eq!(first, StatusCode::OK);
    let history_before = c.live.app_history_len(&c.id).await;

    let (status, body) = post_jwe(&c.live.app, &jwe).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body), invalid_request());
    assert_eq!(c.live.identification(&c.id).await["statusName"], "verified");
    assert_eq!(c.live.app_history_len(&c.id).await, history_before);
}

#[tokio::test]
async fn an_answer_to_a_request_already_answered_by_a_failing_presentation_changes_nothing() {
    let c = case().await;
    let refused = pid(&c.issuer.issuer, &c.holder, &["age_equal_or_over.18=false"]);
    let refused = c.present(&refused);
    let answer = c.send(&refused).await;
    assert_failed_with(&c.live, &c.id, answer, "age_requirement_not_met").await;
    let ident = c.live.identification(&c.id).await;
    let history_before = c.live.app_history_len(&c.id).await;
    let good = c.present(&pid(&c.issuer.issuer, &c.holder, &[]));

    // The failing answer again, a good one, and a decline: all too late.
    for payload in [
        vp_token(&c.request, &refused),
        vp_token(&c.request, &good),
        json!({"error": "access_denied", "state": c.request.state}),
    ] {
        let (status, body) = respond(&c.live.app, &c.request, &payload).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_of(&body), invalid_request());
    }

    assert_eq!(c.live.identification(&c.id).await, ident);
    assert_eq!(c.live.data(&c.id).await["data"], Value::Null);
    assert_eq!(c.live.app_history_len(&c.id).await, history_before);
}

// --- error responses sent unencrypted ------------------------------------------

/// Posts `fields` as a plain `direct_post` form, unencrypted.
async fn post_plain(app: &TestApp, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = app
        .client
        .post(app.url("/oid4vp/response"))
        .form(fields)
        .send()
        .await
        .expect("POST response");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_unencrypted_access_denied_cancels_the_identification() {
    let c = case().await;

    let answer = post_plain(
        &c.live.app,
        &[
            ("error", "access_denied"),
            ("error_description", "The user declined."),
            ("state", &c.request.state),
        ],
    )
    .await;

    let ident = c.live.identification(&c.id).await;
    assert_eq!(ident["statusName"], "canceled", "{ident}");
    assert_eq!(ident["failureReason"], Value::Null);
    assert_eq!(c.live.app_history_cause(&c.id).await, "wallet");
    assert_redirects_to_the_organisation(&c.live.app, &c.id, &answer).await;
}

#[tokio::test]
async fn another_unencrypted_wallet_error_fails_the_identification_as_a_wallet_error() {
    let c = case().await;

    let answer = post_plain(
        &c.live.app,
        &[
            ("error", "vp_formats_not_supported"),
            ("state", &c.request.state),
        ],
    )
    .await;

    let ident = c.live.identification(&c.id).await;
    assert_eq!(ident["statusName"], "failed", "{ident}");
    assert_eq!(ident["failureReason"], "wallet_error");
    assert_redirects_to_the_organisation(&c.live.app, &c.id, &answer).await;
}

#[tokio::test]
async fn an_unencrypted_presentation_changes_nothing() {
    let c = case().await;
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let p = c.present(&credential);
    let token = json!({"pid": [p]}).to_string();

    for fields in [
        vec![("vp_token", token.as_str()), ("state", &c.request.state)],
        // Only an error may skip encryption, not one riding along.
        vec![
            ("vp_token", token.as_str()),
            ("error", "access_denied"),
            ("state", &c.request.state),
        ],
    ] {
        let answer = post_plain(&c.live.app, &fields).await;
        assert_unchanged(&c.live, &c.id, answer).await;
    }
    // The request still stands: the encrypted answer verifies.
    let (status, _) = c.send(&p).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c.live.identification(&c.id).await["statusName"], "verified");
}

#[tokio::test]
async fn an_unencrypted_error_for_no_current_request_or_out_of_bounds_changes_nothing() {
    let c = case().await;
    let superseded = c.request.state.clone();
    let newer = fetch(&c.live.app, &c.id).await;
    let long_description = "x".repeat(1025);
    let long_code = "e".repeat(65);

    for fields in [
        vec![("error", "access_denied"), ("state", "not-a-state")],
        vec![("error", "access_denied"), ("state", superseded.as_str())],
        vec![("error", "access_denied")],
        vec![("state", newer.state.as_str())],
        vec![("error", "access denied"), ("state", newer.state.as_str())],
        vec![
            ("error", "access_\"denied"),
            ("state", newer.state.as_str()),
        ],
        vec![
            ("error", "acc\u{e9}s_denied"),
            ("state", newer.state.as_str()),
        ],
        vec![
            ("error", long_code.as_str()),
            ("state", newer.state.as_str()),
        ],
        vec![
            ("error", "access_denied"),
            ("error_description", long_description.as_str()),
            ("state", newer.state.as_str()),
        ],
        vec![
            ("error", "access_denied"),
            ("error_description", "line\nbreak"),
            ("state", newer.state.as_str()),
        ],
    ] {
        let answer = post_plain(&c.live.app, &fields).await;
        assert_unchanged(&c.live, &c.id, answer).await;
    }
    // The current request still takes a proper error.
    let answer = post_plain(
        &c.live.app,
        &[("error", "access_denied"), ("state", &newer.state)],
    )
    .await;
    assert_redirects_to_the_organisation(&c.live.app, &c.id, &answer).await;
    assert_eq!(c.live.identification(&c.id).await["statusName"], "canceled");
}

#[tokio::test]
async fn an_unencrypted_error_after_the_response_window_changes_nothing() {
    let window = Duration::from_secs(60);
    let app = spawn_app_with(|c| c.wallet_response_window = window).await;
    let id = app.create_with_description("x").await;
    let request = fetch(&app, &id).await;
    app.clock.advance(window + Duration::from_secs(1));

    let (status, body) = post_plain(
        &app,
        &[("error", "access_denied"), ("state", &request.state)],
    )
    .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_of(&body), invalid_request());
    assert_eq!(app.identification(&id).await["statusName"], "pending");
}

#[tokio::test]
async fn a_replayed_or_late_unencrypted_error_changes_nothing() {
    let c = case().await;
    let fields = [
        ("error", "access_denied"),
        ("state", c.request.state.as_str()),
    ];
    let (first, _) = post_plain(&c.live.app, &fields).await;
    assert_eq!(first, StatusCode::OK);
    let history_before = c.live.app_history_len(&c.id).await;

    let replayed = post_plain(&c.live.app, &fields).await;
    let other_error = post_plain(
        &c.live.app,
        &[("error", "server_error"), ("state", &c.request.state)],
    )
    .await;
    // An encrypted answer to the request already answered in the clear.
    let credential = pid(&c.issuer.issuer, &c.holder, &[]);
    let encrypted = c.send(&c.present(&credential)).await;

    for (status, body) in [replayed, other_error, encrypted] {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_of(&body), invalid_request());
    }
    assert_eq!(c.live.identification(&c.id).await["statusName"], "canceled");
    assert_eq!(c.live.app_history_len(&c.id).await, history_before);
}

impl Live {
    async fn app_history_len(&self, id: &str) -> usize {
        let resp = self
            .app
            .get_with_key(&self.live_key, &format!("/v1/identification/{id}/history"))
            .await;
        let body: Value = resp.json().await.unwrap();
        body["rows"].as_array().unwrap().len()
    }
}

// --- the wallet command -------------------------------------------------------

pub(crate) async fn run_wallet(args: &[&str]) -> (bool, Value, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_proofme"))
        .args(args)
        .env_remove("RUST_LOG")
        .kill_on_drop(true)
        .output()
        .await
        .expect("run proofme wallet");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_wallet_command_completes_a_test_identification_from_its_mypage_url() {
    let app = spawn_app().await;
    let created = app.create_identification(json!({})).await;
    let url = created["myPageUrl"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();

    let (ok, out, err) = run_wallet(&["wallet", "present", url]).await;

    assert!(ok, "{err}");
    assert_eq!(out["status"], 200, "{out}");
    assert!(
        out["redirectUri"]
            .as_str()
            .unwrap()
            .contains("/done?response_code=")
    );
    assert_eq!(app.identification(id).await["statusName"], "verified");
}

#[tokio::test]
async fn the_wallet_command_declines_or_omits_as_told() {
    let app = spawn_app().await;
    let declined = app.create_identification(json!({})).await;
    let omitted = app.create_identification(json!({})).await;

    let (ok, _, err) = run_wallet(&[
        "wallet",
        "present",
        declined["myPageUrl"].as_str().unwrap(),
        "--decline",
    ])
    .await;
    assert!(ok, "{err}");
    let (ok, out, _) = run_wallet(&[
        "wallet",
        "present",
        omitted["myPageUrl"].as_str().unwrap(),
        "--omit",
        "OLDER_THAN_18",
        "--post",
    ])
    .await;

    // A presentation that fails a check is still an answer taken.
    assert!(ok, "{out}");
    assert_eq!(out["status"], 200);
    assert_eq!(
        app.identification(declined["id"].as_str().unwrap()).await["statusName"],
        "canceled"
    );
    let failed = app.identification(omitted["id"].as_str().unwrap()).await;
    assert_eq!(failed["statusName"], "failed");
    assert_eq!(failed["failureReason"], "missing_credential");
}

#[tokio::test]
async fn the_wallet_command_follows_a_wallet_link_and_signs_with_a_given_issuer() {
    let issuer_key = p256::SecretKey::random(&mut OsRng);
    let validity = Validity::days_from(now() - 86_400, 365);
    let ca = CertificateAuthority::new("Independent CA", validity).unwrap();
    let leaf = ca
        .issue_leaf(&issuer_key.public_key(), "Independent issuer", validity)
        .unwrap();
    let anchors = x509::certificate_to_pem(&ca.certificate_der());
    let live = live_app(
        &TrustedIssuer {
            issuer: Issuer::new(SigningKey::from(&issuer_key), vec![leaf.clone()]),
            anchors_pem: anchors,
        },
        &["EPASS:OLDER_THAN_18"],
    )
    .await;
    let id = live.create().await;
    let page = live
        .app
        .client
        .get(live.app.url(&format!("/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = page
        .split('"')
        .find(|s| s.starts_with("openid4vp://"))
        .expect("wallet link on the page")
        .replace("&amp;", "&");
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("issuer.key");
    let cert_path = dir.path().join("issuer.pem");
    std::fs::write(
        &key_path,
        x509::private_key_to_pem(&issuer_key).unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(&cert_path, x509::certificate_to_pem(&leaf)).unwrap();

    let (ok, out, err) = run_wallet(&[
        "wallet",
        "present",
        &link,
        "--issuer-key",
        key_path.to_str().unwrap(),
        "--issuer-cert",
        cert_path.to_str().unwrap(),
    ])
    .await;

    assert!(ok, "{err} {out}");
    assert_eq!(live.identification(&id).await["statusName"], "verified");
}

// --- shared data at rest ------------------------------------------------------

/// Every file SQLite writes for `db` (the database, its WAL and shared memory).
fn database_files(db: &std::path::Path) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| std::path::PathBuf::from(format!("{}{suffix}", db.display())))
        .filter(|p| p.exists())
        .collect()
}

/// Every row of every table of a PostgreSQL database, as text (byte columns
/// in hex).
async fn postgres_rows_as_text(database_url: &str) -> Vec<u8> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(database_url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for row in rows {
            out.extend_from_slice(row.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_canary_shared_through_the_protocol_is_nowhere_in_the_database_its_wal_or_the_logs() {
    // Arrange: the real binary, its log captured at debug level, and a
    // proofme asking for a first name.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("proofme.db");
    let database = TestDatabase::fresh(dir.path(), "proofme.db").await;
    let database_url = database.url.clone();
    let store = proofme::store::Store::connect(&database_url).await.unwrap();
    let org = store.create_organisation("Canary Shop").await.unwrap();
    let key = store
        .create_api_key(&org.id, Mode::Test)
        .await
        .unwrap()
        .secret;
    let proofme_id = store
        .create_proofme(
            &org.id,
            "Name",
            proofme::domain::Purpose::KycVerification,
            &["EPASS:FIRST_NAME".parse().unwrap()],
        )
        .await
        .unwrap()
        .id;
    store.close().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_proofme"));
    if on_postgres() {
        command.env("PROOFME_DATA_KEY_FILE", dir.path().join("data-key"));
    }
    let _server = command
        .args(["serve", "--no-demo"])
        .env("DATABASE_URL", &database_url)
        .env("PROOFME_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "debug")
        .env_remove("PROOFME_PUBLIC_URL")
        .current_dir(dir.path())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = client();
    let deadline = std::time::Instant::now() + DEADLINE;
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let canary = format!("Canary{}", proofme::domain::ids::random_base62(12));
    let created: Value = http
        .post(format!("{base}/v1/identification"))
        .bearer_auth(&key)
        .json(&json!({"proofmeId": proofme_id, "organisationId": org.id, "redirectUrl": REDIRECT_URL}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    // Act: a wallet shares the canary through the real protocol.
    let outcome = wallet::present(&wallet::PresentOptions {
        link: created["myPageUrl"].as_str().unwrap().to_owned(),
        claims: vec![format!("given_name={canary}")],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(outcome.status, 200, "{:?}", outcome.body);
    let data: Value = http
        .get(format!("{base}/v1/identification/data/{id}"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        data["data"]["FIRST_NAME"],
        json!(canary),
        "the canary was shared"
    );

    // Assert: not in the database (its files, or every row on a server), nor
    // in the log.
    let rows = if on_postgres() {
        postgres_rows_as_text(&database_url).await
    } else {
        Vec::new()
    };
    let assert_nowhere = |when: &str, rows: &[u8]| {
        assert!(
            !contains(rows, canary.as_bytes())
                && !contains(rows, hex::encode(canary.as_bytes()).as_bytes()),
            "{when}: the canary is in the database"
        );
        for file in database_files(&db).iter().chain([&log_path]) {
            let bytes = std::fs::read(file).unwrap();
            assert!(
                !contains(&bytes, canary.as_bytes()),
                "{when}: the canary is in {}",
                file.display()
            );
        }
        let log = std::fs::read_to_string(&log_path).unwrap();
        assert!(
            !log.contains(&id),
            "{when}: a whole identification id is in the log"
        );
    };
    assert!(on_postgres() || !database_files(&db).is_empty());
    assert!(
        !on_postgres() || contains(&rows, id.as_bytes()),
        "rows are read"
    );
    assert_nowhere("after sharing", &rows);
    let erased = http
        .delete(format!("{base}/v1/identification/data/{id}"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), StatusCode::OK);
    let rows = if on_postgres() {
        postgres_rows_as_text(&database_url).await
    } else {
        Vec::new()
    };
    assert_nowhere("after erasure", &rows);
}
