//! MyPage's Digital Credentials API (OpenID4VP 1.0 Appendix A) through its
//! real endpoints: the request object the page hands to the browser, the
//! wallet's answer the page posts back, the origin binding, and the
//! separation from the redirect flow.

use crate::helpers::*;
use crate::verifier::{TrustedIssuer, assert_redirects_to_the_organisation, live_app, now};
use p256::ecdsa::SigningKey;
use proofme::domain::Timestamp;
use proofme::oid4vp::holder::Issuer;
use proofme::oid4vp::jose::{self, ContentEncryption};
use proofme::oid4vp::x509::{self, CertificateAuthority, Validity};
use proofme::wallet::{self, Bound, DcApiOptions, PresentOptions, WalletFormat};
use rand::rngs::OsRng;
use reqwest::StatusCode;
use reqwest::header::ORIGIN;
use serde_json::{Value, json};

const DOCTYPES: [&str; 3] = [
    "eu.europa.ec.eudi.pid.1",
    "org.iso.18013.5.1.mDL",
    "eu.europa.ec.av.1",
];

/// `POST /{id}/dc-api/request` as MyPage's script sends it, from `origin`.
async fn ask(app: &TestApp, id: &str, origin: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!("/{id}/dc-api/request")))
        .json(&json!({}));
    if let Some(origin) = origin {
        req = req.header(ORIGIN, origin);
    }
    req.send().await.expect("POST dc-api/request")
}

/// The signed request object the page gets for `id`.
async fn request_jwt(app: &TestApp, id: &str) -> String {
    let resp = ask(app, id, Some(&app.address)).await;
    assert_eq!(resp.status(), StatusCode::OK, "dc-api request");
    let body: Value = resp.json().await.expect("JSON");
    body["request"].as_str().expect("request").to_owned()
}

/// The wallet's answer (the JWE of `data.response`) to `jwt`.
async fn answer(app: &TestApp, jwt: &str, opts: DcApiOptions) -> String {
    let opts = DcApiOptions {
        server: app.address.clone(),
        ..opts
    };
    wallet::dc_api_response(jwt, &opts)
        .await
        .expect("the wallet answers")
}

/// A wallet on the page's own origin, answering with `format`/`doctype`.
fn on_our_origin(
    app: &TestApp,
    format: Option<WalletFormat>,
    doctype: Option<&str>,
) -> DcApiOptions {
    DcApiOptions {
        present: PresentOptions {
            format,
            doctype: doctype.map(str::to_owned),
            ..Default::default()
        },
        origin: app.address.clone(),
        ..Default::default()
    }
}

/// `POST /{id}/dc-api/response` with `body`, from our origin.
async fn post_body(app: &TestApp, id: &str, body: &Value) -> (StatusCode, Value) {
    let resp = app
        .client
        .post(app.url(&format!("/{id}/dc-api/response")))
        .header(ORIGIN, &app.address)
        .json(body)
        .send()
        .await
        .expect("POST dc-api/response");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn post_answer(app: &TestApp, id: &str, jwe: &str) -> (StatusCode, Value) {
    post_body(app, id, &json!({ "response": jwe })).await
}

/// Asserts the answer was refused with nothing changed.
async fn assert_refused_and_pending(app: &TestApp, id: &str, answer: (StatusCode, Value)) {
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
    assert_eq!(answer.1["error"], "invalid_request", "{}", answer.1);
    let ident = app.identification(id).await;
    assert_eq!(ident["statusName"], "pending", "{ident}");
    assert_eq!(ident["failureReason"], Value::Null, "{ident}");
}

/// Asserts the answer verified the identification and leads on to `/done`.
async fn assert_verified(app: &TestApp, id: &str, answer: (StatusCode, Value)) {
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    let redirect = answer.1["redirect_uri"].as_str().expect("redirect_uri");
    assert!(
        redirect.starts_with(&format!(
            "{}/{id}/done?response_code=",
            app.config.public_url
        )),
        "{redirect}"
    );
    assert_eq!(app.identification(id).await["statusName"], "verified");
    assert_eq!(
        app.get_json(&format!("/v1/identification/data/{id}")).await["data"],
        json!({"OLDER_THAN_18": true})
    );
}

// --- the request --------------------------------------------------------------

#[tokio::test]
async fn the_dc_api_request_object_is_for_dc_api_jwt_from_our_origin_without_response_uri() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;

    let jwt = request_jwt(&app, &id).await;

    let jws = jose::Jws::parse(&jwt).expect("a JWS");
    assert_eq!(jws.header()["typ"], "oauth-authz-req+jwt");
    let claims = jws.payload();
    assert_eq!(claims["response_mode"], "dc_api.jwt");
    assert_eq!(claims["expected_origins"], json!([app.address]));
    assert!(!claims.contains_key("response_uri"), "{claims:?}");
    assert_eq!(claims["response_type"], "vp_token");
    assert!(claims["dcql_query"]["credentials"].is_array());
    assert_eq!(
        claims["client_metadata"]["jwks"]["keys"][0]["use"],
        json!("enc")
    );
    // A wallet takes it as it takes a request by reference.
    let request = wallet::verify_request(&jwt, None, None, Timestamp::now()).expect("valid");
    assert!(request.client_id.starts_with("x509_hash:"));
    assert_eq!(request.response_uri, None);
    assert!(wallet::check_origin(&request, &app.address).is_ok());
    assert!(wallet::check_origin(&request, "https://elsewhere.example").is_err());
}

#[tokio::test]
async fn the_dc_api_request_makes_the_identification_pending_like_a_wallet_fetch() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;

    request_jwt(&app, &id).await;
    request_jwt(&app, &id).await;

    let ident = app.identification(&id).await;
    assert_eq!(ident["statusName"], "pending");
    assert!(ident["scannedAt"].is_string());
    let history = app.history(&id).await;
    assert_eq!(history.len(), 2, "created, then pending once: {history:?}");
    assert_eq!(history.last().unwrap()["cause"], "wallet");
}

#[tokio::test]
async fn only_pages_of_our_own_origin_may_use_the_dc_api_endpoints() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;

    for origin in [None, Some("https://elsewhere.example"), Some("null")] {
        let resp = ask(&app, &id, origin).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{origin:?}");
        let body: Value = resp.json().await.expect("JSON error");
        assert_eq!(body["error"], "invalid_request");
    }
    assert_eq!(app.identification(&id).await["statusName"], "open");

    let jwt = request_jwt(&app, &id).await;
    let jwe = answer(&app, &jwt, on_our_origin(&app, None, None)).await;
    let resp = app
        .client
        .post(app.url(&format!("/{id}/dc-api/response")))
        .header(ORIGIN, "https://elsewhere.example")
        .json(&json!({ "response": jwe }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.identification(&id).await["statusName"], "pending");
}

#[tokio::test]
async fn the_dc_api_request_of_a_final_or_unknown_identification_is_refused() {
    let app = spawn_app().await;
    let verified = app.create_with_description("verified").await;
    app.set_outcome(&verified, "verified").await;
    let revoked = app.create_with_description("revoked").await;
    app.delete(&format!("/v1/identification/{revoked}")).await;

    for id in [verified.as_str(), revoked.as_str()] {
        let resp = ask(&app, id, Some(&app.address)).await;
        assert_eq!(resp.status(), StatusCode::CONFLICT, "{id}");
        let body: Value = resp.json().await.expect("JSON error");
        assert_eq!(body["error"], "invalid_request");
    }
    for id in ["id_0000000000000000000000", "garbage"] {
        let resp = ask(&app, id, Some(&app.address)).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{id}");
    }
    assert_eq!(
        app.identification(&verified).await["statusName"],
        "verified"
    );
    assert_eq!(app.identification(&revoked).await["statusName"], "revoked");
}

// --- the answer ---------------------------------------------------------------

#[tokio::test]
async fn an_sd_jwt_pid_through_the_dc_api_verifies_a_test_identification() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let jwt = request_jwt(&app, &id).await;

    let jwe = answer(
        &app,
        &jwt,
        on_our_origin(&app, Some(WalletFormat::SdJwt), None),
    )
    .await;
    let answered = post_answer(&app, &id, &jwe).await;

    assert_verified(&app, &id, answered).await;
}

#[tokio::test]
async fn an_mdoc_of_every_offered_doctype_through_the_dc_api_verifies_a_test_identification() {
    let app = spawn_app().await;
    for doctype in DOCTYPES {
        let id = app.create_with_description(doctype).await;
        let jwt = request_jwt(&app, &id).await;

        let jwe = answer(&app, &jwt, on_our_origin(&app, None, Some(doctype))).await;
        // The page may pass the wallet's `data` on as it is.
        let answered = post_body(&app, &id, &json!({"response": {"response": jwe}})).await;

        assert_verified(&app, &id, answered).await;
    }
}

#[tokio::test]
async fn a_live_identification_is_verified_through_the_dc_api_in_each_format_from_a_trusted_issuer()
{
    // One root for the PID provider and the IACA, as a bundle may hold both.
    let issuer_key = p256::SecretKey::random(&mut OsRng);
    let validity = Validity::days_from(now() - 86_400, 365);
    let root = CertificateAuthority::new("Trusted root", validity).expect("root");
    let leaf = root
        .issue_leaf(&issuer_key.public_key(), "Trusted issuer", validity)
        .expect("issuer certificate");
    let live = live_app(
        &TrustedIssuer {
            issuer: Issuer::new(SigningKey::from(&issuer_key), vec![leaf.clone()]),
            anchors_pem: x509::certificate_to_pem(&root.certificate_der()),
        },
        &["EPASS:OLDER_THAN_18"],
    )
    .await;
    let issuer_pem = (
        x509::private_key_to_pem(&issuer_key)
            .expect("PEM")
            .to_string(),
        x509::certificate_to_pem(&leaf),
    );
    let answers = [(Some(WalletFormat::SdJwt), None)]
        .into_iter()
        .chain(DOCTYPES.map(|d| (None, Some(d))));
    for (format, doctype) in answers {
        let id = live.create().await;
        let jwt = request_jwt(&live.app, &id).await;
        let mut opts = on_our_origin(&live.app, format, doctype);
        opts.present.issuer_pem = Some(issuer_pem.clone());

        let jwe = answer(&live.app, &jwt, opts).await;
        let (status, body) = post_answer(&live.app, &id, &jwe).await;

        assert_eq!(status, StatusCode::OK, "{format:?} {doctype:?}: {body}");
        assert!(body["redirect_uri"].is_string(), "{body}");
        assert_eq!(live.identification(&id).await["statusName"], "verified");
        assert_eq!(live.data(&id).await["data"], json!({"OLDER_THAN_18": true}));
    }
}

#[tokio::test]
async fn a_presentation_bound_to_another_origin_changes_nothing() {
    let app = spawn_app().await;
    for (format, doctype) in [(Some(WalletFormat::SdJwt), None), (None, Some(DOCTYPES[0]))] {
        let id = app.create_with_description("x").await;
        let jwt = request_jwt(&app, &id).await;
        let elsewhere = DcApiOptions {
            origin: "https://elsewhere.example".into(),
            skip_origin_check: true,
            ..on_our_origin(&app, format, doctype)
        };

        let jwe = answer(&app, &jwt, elsewhere).await;
        let refused = post_answer(&app, &id, &jwe).await;

        assert_refused_and_pending(&app, &id, refused).await;
        // The request still stands: a proper answer verifies.
        let jwe = answer(&app, &jwt, on_our_origin(&app, format, doctype)).await;
        assert_verified(&app, &id, post_answer(&app, &id, &jwe).await).await;
    }
}

#[tokio::test]
async fn an_answer_to_a_superseded_dc_api_request_changes_nothing() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let first = request_jwt(&app, &id).await;
    // The wallet prepares its answer (the test issuer serves current
    // requests only), then the page asks again before it arrives.
    let late = answer(&app, &first, on_our_origin(&app, None, None)).await;
    let second = request_jwt(&app, &id).await;

    let refused = post_answer(&app, &id, &late).await;

    assert_refused_and_pending(&app, &id, refused).await;
    let current = answer(&app, &second, on_our_origin(&app, None, None)).await;
    assert_verified(&app, &id, post_answer(&app, &id, &current).await).await;
}

#[tokio::test]
async fn an_answer_posted_for_another_identification_changes_nothing() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let other = app.create_with_description("other").await;
    let jwt = request_jwt(&app, &id).await;
    let jwe = answer(&app, &jwt, on_our_origin(&app, None, None)).await;

    let refused = post_answer(&app, &other, &jwe).await;

    assert_eq!(refused.0, StatusCode::BAD_REQUEST, "{}", refused.1);
    assert_eq!(app.identification(&other).await["statusName"], "open");
    assert_refused_and_pending(&app, &id, refused).await;
}

#[tokio::test]
async fn a_redirect_flow_answer_is_refused_at_the_dc_api_endpoint() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let request = crate::verifier::fetch(&app, &id).await;
    let response_uri = request.response_uri.clone().expect("response_uri");
    let chosen = wallet::choose(&request.offered, Some(WalletFormat::SdJwt), None).unwrap();
    let presentation = wallet::presentation(
        &reqwest::Client::new(),
        &PresentOptions::default(),
        &request,
        chosen,
        Bound::ResponseUri(&response_uri),
        &app.address,
    )
    .await
    .expect("presentation");
    let payload = json!({"vp_token": {chosen.id.as_str(): [presentation]}, "state": request.state});
    let jwe = jose::encrypt(
        payload.to_string().as_bytes(),
        &request.response_key,
        ContentEncryption::A128Gcm,
        request.response_key.kid.as_deref(),
    )
    .unwrap();

    let refused = post_answer(&app, &id, &jwe).await;

    assert_refused_and_pending(&app, &id, refused).await;
    // Where it belongs, the same answer is taken.
    let resp = app
        .client
        .post(&response_uri)
        .form(&[("response", jwe.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(app.identification(&id).await["statusName"], "verified");
}

#[tokio::test]
async fn a_dc_api_answer_is_refused_at_the_redirect_endpoint() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let jwt = request_jwt(&app, &id).await;
    let jwe = answer(&app, &jwt, on_our_origin(&app, None, None)).await;

    let resp = app
        .client
        .post(app.url("/oid4vp/response"))
        .form(&[("response", jwe.as_str())])
        .send()
        .await
        .unwrap();
    let refused = (resp.status(), resp.json().await.unwrap_or(Value::Null));

    assert_refused_and_pending(&app, &id, refused).await;
    assert_verified(&app, &id, post_answer(&app, &id, &jwe).await).await;
}

#[tokio::test]
async fn an_unencrypted_error_for_a_dc_api_request_is_refused_at_the_redirect_endpoint() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let jwt = request_jwt(&app, &id).await;
    let jws = jose::Jws::parse(&jwt).expect("a JWS");
    let state = jws.payload()["state"].as_str().expect("state").to_owned();

    let resp = app
        .client
        .post(app.url("/oid4vp/response"))
        .form(&[("error", "access_denied"), ("state", state.as_str())])
        .send()
        .await
        .unwrap();
    let refused = (resp.status(), resp.json().await.unwrap_or(Value::Null));

    assert_refused_and_pending(&app, &id, refused).await;
    let jwe = answer(&app, &jwt, on_our_origin(&app, None, None)).await;
    assert_verified(&app, &id, post_answer(&app, &id, &jwe).await).await;
}

#[tokio::test]
async fn a_presentation_failing_another_check_fails_the_identification_as_in_the_redirect_flow() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let jwt = request_jwt(&app, &id).await;
    let mut opts = on_our_origin(&app, Some(WalletFormat::SdJwt), None);
    opts.present.claims = vec!["age_equal_or_over.18=false".into()];

    let jwe = answer(&app, &jwt, opts).await;
    let answer = post_answer(&app, &id, &jwe).await;

    // The page's script follows the redirect, as for any final outcome.
    let ident = app.identification(&id).await;
    assert_eq!(ident["statusName"], "failed");
    assert_eq!(ident["failureReason"], "age_requirement_not_met");
    assert_redirects_to_the_organisation(&app, &id, &answer).await;
    // The request was answered: the same answer again changes nothing.
    let (status, body) = post_answer(&app, &id, &jwe).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(app.identification(&id).await, ident);
}

#[tokio::test]
async fn garbage_at_the_dc_api_response_endpoint_changes_nothing() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    request_jwt(&app, &id).await;

    for body in [
        json!({}),
        json!({"response": 1}),
        json!({"response": "a.b.c.d.e"}),
        json!({"response": {"response": "not a jwe"}}),
    ] {
        let refused = post_body(&app, &id, &body).await;
        assert_refused_and_pending(&app, &id, refused).await;
    }
}

// --- the wallet command -------------------------------------------------------

async fn run_dc_api_wallet(args: &[&str], stdin: &str) -> (bool, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_proofme"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run proofme wallet dc-api");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    let out = child.wait_with_output().await.expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_dc_api_wallet_command_answers_a_request_read_from_stdin() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let jwt = request_jwt(&app, &id).await;

    let (ok, jwe, err) = run_dc_api_wallet(
        &[
            "wallet",
            "dc-api",
            "--origin",
            &app.address,
            "--server",
            &app.address,
            "--format",
            "mdoc",
        ],
        &jwt,
    )
    .await;

    assert!(ok, "{err}");
    assert_verified(&app, &id, post_answer(&app, &id, &jwe).await).await;
}

#[tokio::test]
async fn the_dc_api_wallet_command_refuses_a_request_for_another_origin() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let jwt = request_jwt(&app, &id).await;

    let (ok, out, err) = run_dc_api_wallet(
        &[
            "wallet",
            "dc-api",
            "--origin",
            "https://elsewhere.example",
            "--server",
            &app.address,
            "--request",
            &jwt,
        ],
        "",
    )
    .await;

    assert!(!ok, "{out}");
    assert!(err.contains("expected_origins"), "{err}");
}
