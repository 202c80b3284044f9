//! ISO mdoc presentations through the real endpoints (DESIGN 4b): each
//! doctype the request offers completes an identification, through the
//! wallet command and from an issuer trusted through a configured IACA
//! root, and what is bound to the request is checked end to end.

use crate::helpers::*;
use crate::verifier::{Live, assert_failed_with, fetch, live_app_with, now, respond, run_wallet};
use p256::ecdsa::SigningKey;
use proofme::oid4vp::dcql::{AV_DOCTYPE, MDL_DOCTYPE, PID_DOCTYPE};
use proofme::oid4vp::holder;
use proofme::oid4vp::jose;
use proofme::oid4vp::mdoc::issue::{self, MdocIssuer, Validity};
use proofme::oid4vp::mdoc::{present, sample, transcript};
use proofme::oid4vp::x509::{self, CertificateAuthority};
use proofme::wallet::{AuthorizationRequest, OfferedCredential};
use rand::rngs::OsRng;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DOCTYPES: [&str; 3] = [PID_DOCTYPE, MDL_DOCTYPE, AV_DOCTYPE];

/// A document signer under an IACA root, as a real deployment trusts one.
struct Iaca {
    signer: MdocIssuer,
    /// The document signer's key and certificate, which also sign its
    /// status lists.
    key: SigningKey,
    ds: Vec<u8>,
    anchors_pem: String,
}

fn iaca() -> Iaca {
    let validity = x509::Validity::days_from(now() - 86_400, 365);
    let root = CertificateAuthority::new("Test IACA", validity).expect("IACA");
    let key = p256::SecretKey::random(&mut OsRng);
    let ds = root
        .issue_leaf(&key.public_key(), "Test document signer", validity)
        .expect("DS certificate");
    Iaca {
        signer: MdocIssuer::new(SigningKey::from(&key), vec![ds.clone()]),
        key: SigningKey::from(&key),
        ds,
        anchors_pem: x509::certificate_to_pem(&root.certificate_der()),
    }
}

async fn live_with(iaca: &Iaca, credentials: &[&str]) -> Live {
    live_app_with(&iaca.anchors_pem, credentials, |_| {}).await
}

fn offered<'a>(request: &'a AuthorizationRequest, doctype: &str) -> &'a OfferedCredential {
    request
        .offered
        .iter()
        .find(|o| o.doctype.as_deref() == Some(doctype))
        .unwrap_or_else(|| panic!("the request offers no {doctype}"))
}

/// How a test mdoc presentation departs from a good one.
#[derive(Default)]
struct Twist<'a> {
    overrides: &'a [&'a str],
    /// Sign the device authentication for this nonce instead of the request's.
    nonce: Option<&'a str>,
    /// ... or for this response URI.
    response_uri: Option<&'a str>,
    /// The MSO's `status`.
    status: Option<ciborium::Value>,
}

/// The base64url DeviceResponse a wallet holding an mdoc of `doctype` from
/// `signer` sends for `request`, disclosing what the request asks of it.
fn mdoc_presentation(
    signer: &MdocIssuer,
    doctype: &str,
    request: &AuthorizationRequest,
    twist: Twist<'_>,
) -> String {
    let mut claims = sample::sample_claims(doctype).expect("sample");
    for o in twist.overrides {
        holder::apply_override(&mut claims, o).expect("override");
    }
    let namespace = sample::namespace_of(doctype).expect("namespace");
    let elements = sample::elements(namespace, &claims).expect("elements");
    let device = SigningKey::random(&mut OsRng);
    let validity = Validity {
        signed: now() - 60,
        valid_from: now() - 60,
        valid_until: now() + 86_400,
    };
    let mut unsigned = issue::prepare(doctype, &elements, device.verifying_key(), validity);
    if let (Some(status), ciborium::Value::Map(mso)) = (twist.status, &mut unsigned.mso) {
        mso.push((ciborium::Value::Text("status".into()), status));
    }
    let issuer_signed = signer.sign(unsigned);
    let session = transcript::redirect(
        &request.client_id,
        twist.nonce.unwrap_or(&request.nonce),
        &request.response_key.thumbprint(),
        twist
            .response_uri
            .or(request.response_uri.as_deref())
            .expect("a redirect-flow request"),
    );
    // What the request asks of this doctype, or everything if it isn't offered.
    let wanted: Option<Vec<Vec<String>>> = request
        .offered
        .iter()
        .find(|o| o.doctype.as_deref() == Some(doctype))
        .map(|o| o.claim_paths.clone());
    let response = present::present(
        &issuer_signed,
        doctype,
        |ns, element| {
            wanted
                .as_ref()
                .is_none_or(|w| w.iter().any(|w| w[0] == ns && w[1] == element))
        },
        &device,
        &session,
    )
    .expect("presentation");
    jose::b64url_encode(response)
}

fn answer(request: &AuthorizationRequest, query_id: &str, presentation: &str) -> Value {
    json!({"vp_token": {query_id: [presentation]}, "state": request.state})
}

fn query_id(request: &AuthorizationRequest, doctype: &str) -> String {
    offered(request, doctype).id.clone()
}

/// Creates an identification of `live` and answers it with an mdoc of
/// `doctype` from `signer`, made with `twist`, under the query id the
/// request gives `answered_as`: the identification's id and the answer.
async fn present_mdoc(
    live: &Live,
    signer: &MdocIssuer,
    doctype: &str,
    twist: Twist<'_>,
    answered_as: &str,
) -> (String, (StatusCode, Value)) {
    let id = live.create().await;
    let request = fetch(&live.app, &id).await;
    let p = mdoc_presentation(signer, doctype, &request, twist);
    let answer_ = respond(
        &live.app,
        &request,
        &answer(&request, &query_id(&request, answered_as), &p),
    )
    .await;
    (id, answer_)
}

#[tokio::test]
async fn an_age_check_offers_the_pid_in_both_formats_the_mdl_and_the_age_attestation() {
    let app = spawn_app().await;
    let id = app.create_with_description("Age").await;

    let request = fetch(&app, &id).await;

    let offered: Vec<(&str, Option<&str>)> = request
        .offered
        .iter()
        .map(|o| (o.format.as_str(), o.doctype.as_deref()))
        .collect();
    assert_eq!(
        offered,
        vec![
            ("dc+sd-jwt", None),
            ("mso_mdoc", Some(PID_DOCTYPE)),
            ("mso_mdoc", Some(MDL_DOCTYPE)),
            ("mso_mdoc", Some(AV_DOCTYPE)),
        ]
    );
    assert_eq!(
        offered_paths(&request, AV_DOCTYPE),
        vec![vec![AV_DOCTYPE.to_owned(), "age_over_18".to_owned()]]
    );
    assert_eq!(
        offered_paths(&request, MDL_DOCTYPE),
        vec![vec![
            "org.iso.18013.5.1".to_owned(),
            "age_over_18".to_owned()
        ]]
    );
}

fn offered_paths(request: &AuthorizationRequest, doctype: &str) -> Vec<Vec<String>> {
    offered(request, doctype).claim_paths.clone()
}

#[tokio::test]
async fn each_mdoc_type_verifies_a_test_identification_through_the_wallet_command() {
    let app = spawn_app().await;
    for doctype in DOCTYPES {
        let created = app.create_identification(json!({})).await;
        let url = created["myPageUrl"].as_str().unwrap();
        let id = created["id"].as_str().unwrap();

        let (ok, out, err) = run_wallet(&[
            "wallet",
            "present",
            url,
            "--format",
            "mdoc",
            "--doctype",
            doctype,
        ])
        .await;

        assert!(ok, "{doctype}: {err} {out}");
        let ident = app.identification(id).await;
        assert_eq!(ident["statusName"], "verified", "{doctype}: {ident}");
        let data = app.get_json(&format!("/v1/identification/data/{id}")).await;
        assert_eq!(data["data"], json!({"OLDER_THAN_18": true}), "{doctype}");
    }
}

#[tokio::test]
async fn the_wallet_command_says_which_doctypes_a_request_offers_when_asked_for_another() {
    let app = spawn_app().await;
    let created = app.create_identification(json!({})).await;

    let (ok, _, err) = run_wallet(&[
        "wallet",
        "present",
        created["myPageUrl"].as_str().unwrap(),
        "--doctype",
        "org.example.library-card",
    ])
    .await;

    assert!(!ok);
    assert!(err.contains(MDL_DOCTYPE), "{err}");
}

#[tokio::test]
async fn an_age_element_that_is_false_fails_the_identification() {
    let app = spawn_app().await;
    let created = app.create_identification(json!({})).await;
    let id = created["id"].as_str().unwrap();

    let (ok, out, _) = run_wallet(&[
        "wallet",
        "present",
        created["myPageUrl"].as_str().unwrap(),
        "--doctype",
        AV_DOCTYPE,
        "--claim",
        "age_over_18=false",
    ])
    .await;

    // The answer is taken: the wallet is sent on, the identification fails.
    assert!(ok, "{out}");
    assert_eq!(out["status"], 200);
    assert!(out["redirectUri"].is_string(), "{out}");
    let ident = app.identification(id).await;
    assert_eq!(ident["statusName"], "failed", "{ident}");
    assert_eq!(ident["failureReason"], "age_requirement_not_met", "{ident}");
}

#[tokio::test]
async fn test_mdocs_never_verify_a_live_identification() {
    let iaca = iaca();
    let live = live_with(&iaca, &["EPASS:OLDER_THAN_18"]).await;
    // A test mdoc, got as the test issuer allows: for an open test request.
    let test_id = live.app.create_with_description("Test").await;
    let test_request = fetch(&live.app, &test_id).await;
    let device = SigningKey::random(&mut OsRng);
    let resp = live
        .app
        .client
        .post(live.app.url("/oid4vp/test-issuer/credential"))
        .json(&json!({
            "nonce": test_request.nonce,
            "holderJwk": jose::Jwk::from_verifying_key(device.verifying_key()),
            "format": "mso_mdoc",
            "doctype": PID_DOCTYPE,
            "claims": sample::sample_claims(PID_DOCTYPE).unwrap(),
        }))
        .send()
        .await
        .expect("test issuer");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.expect("JSON");
    let issuer_signed = jose::b64url_decode(body["credential"].as_str().unwrap()).unwrap();
    let id = live.create().await;
    let request = fetch(&live.app, &id).await;
    let session = transcript::redirect(
        &request.client_id,
        &request.nonce,
        &request.response_key.thumbprint(),
        request.response_uri.as_deref().expect("response_uri"),
    );
    let response =
        present::present(&issuer_signed, PID_DOCTYPE, |_, _| true, &device, &session).unwrap();

    let answer_ = respond(
        &live.app,
        &request,
        &answer(
            &request,
            &query_id(&request, PID_DOCTYPE),
            &jose::b64url_encode(response),
        ),
    )
    .await;

    assert_failed_with(&live, &id, answer_, "untrusted_issuer").await;
}

#[tokio::test]
async fn the_test_issuer_refuses_an_mdoc_of_a_doctype_it_does_not_know() {
    let app = spawn_app().await;
    let id = app.create_with_description("Test").await;
    let request = fetch(&app, &id).await;
    let device = SigningKey::random(&mut OsRng);

    let resp = app
        .client
        .post(app.url("/oid4vp/test-issuer/credential"))
        .json(&json!({
            "nonce": request.nonce,
            "holderJwk": jose::Jwk::from_verifying_key(device.verifying_key()),
            "format": "mso_mdoc",
            "doctype": "org.example.library-card",
            "claims": {"age_over_18": true},
        }))
        .send()
        .await
        .expect("test issuer");

    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn each_doctype_from_a_configured_iaca_verifies_a_live_identification() {
    let iaca = iaca();
    let live = live_with(&iaca, &["EPASS:OLDER_THAN_18"]).await;
    for doctype in DOCTYPES {
        let id = live.create().await;
        let request = fetch(&live.app, &id).await;
        let p = mdoc_presentation(&iaca.signer, doctype, &request, Twist::default());

        let (status, body) = respond(
            &live.app,
            &request,
            &answer(&request, &query_id(&request, doctype), &p),
        )
        .await;

        assert_eq!(status, StatusCode::OK, "{doctype}: {body}");
        assert!(
            body["redirect_uri"]
                .as_str()
                .unwrap()
                .contains("/done?response_code=")
        );
        assert_eq!(live.identification(&id).await["statusName"], "verified");
        assert_eq!(live.data(&id).await["data"], json!({"OLDER_THAN_18": true}));
    }
}

#[tokio::test]
async fn an_mdl_shares_names_dates_nationality_and_portrait_in_the_apis_shape() {
    let iaca = iaca();
    let live = live_with(
        &iaca,
        &[
            "EPASS:FIRST_NAME",
            "EPASS:DATE_OF_BIRTH",
            "EPASS:NATIONALITY",
            "EPASS:PHOTO",
        ],
    )
    .await;
    let id = live.create().await;
    let request = fetch(&live.app, &id).await;
    assert!(
        request
            .offered
            .iter()
            .all(|o| o.doctype.as_deref() != Some(AV_DOCTYPE)),
        "the age attestation holds no names"
    );
    let p = mdoc_presentation(&iaca.signer, MDL_DOCTYPE, &request, Twist::default());

    let (status, body) = respond(
        &live.app,
        &request,
        &answer(&request, &query_id(&request, MDL_DOCTYPE), &p),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let data = live.data(&id).await["data"].clone();
    assert_eq!(data["FIRST_NAME"], "Sanne");
    assert_eq!(data["DATE_OF_BIRTH"], "1990-05-17");
    assert_eq!(data["NATIONALITY"], "NL");
    assert!(
        data["PHOTO"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"),
        "{data}"
    );
}

#[tokio::test]
async fn an_mdoc_signed_for_another_nonce_fails_as_invalid_key_binding() {
    let iaca = iaca();
    let live = live_with(&iaca, &["EPASS:OLDER_THAN_18"]).await;
    let twist = Twist {
        nonce: Some("another-request-nonce"),
        ..Twist::default()
    };

    let (id, answer_) = present_mdoc(&live, &iaca.signer, PID_DOCTYPE, twist, PID_DOCTYPE).await;

    assert_failed_with(&live, &id, answer_, "invalid_key_binding").await;
}

#[tokio::test]
async fn an_mdoc_signed_for_another_verifiers_response_uri_fails_as_invalid_key_binding() {
    let iaca = iaca();
    let live = live_with(&iaca, &["EPASS:OLDER_THAN_18"]).await;
    let twist = Twist {
        response_uri: Some("https://verifier.example/oid4vp/response"),
        ..Twist::default()
    };

    let (id, answer_) = present_mdoc(&live, &iaca.signer, MDL_DOCTYPE, twist, MDL_DOCTYPE).await;

    assert_failed_with(&live, &id, answer_, "invalid_key_binding").await;
}

#[tokio::test]
async fn an_mdoc_from_an_unconfigured_iaca_fails_as_untrusted_issuer() {
    let trusted = iaca();
    let stranger = iaca();
    let live = live_with(&trusted, &["EPASS:OLDER_THAN_18"]).await;

    let (id, answer_) = present_mdoc(
        &live,
        &stranger.signer,
        AV_DOCTYPE,
        Twist::default(),
        AV_DOCTYPE,
    )
    .await;

    assert_failed_with(&live, &id, answer_, "untrusted_issuer").await;
}

#[tokio::test]
async fn an_answer_with_a_type_the_request_did_not_offer_fails_as_invalid_presentation() {
    let iaca = iaca();
    let live = live_with(&iaca, &["EPASS:FIRST_NAME"]).await;
    let id = live.create().await;
    let request = fetch(&live.app, &id).await;
    assert!(request.offered.iter().all(|o| o.id != "age"));
    // A good age attestation, answered under the id it has when offered.
    let p = mdoc_presentation(&iaca.signer, AV_DOCTYPE, &request, Twist::default());

    let answer_ = respond(&live.app, &request, &answer(&request, "age", &p)).await;

    assert_failed_with(&live, &id, answer_, "invalid_presentation").await;
}

#[tokio::test]
async fn an_mdoc_of_another_doctype_under_a_query_id_fails_as_invalid_presentation() {
    let iaca = iaca();
    let live = live_with(&iaca, &["EPASS:OLDER_THAN_18"]).await;

    // An age attestation sent where the mDL was asked for.
    let (id, answer_) = present_mdoc(
        &live,
        &iaca.signer,
        AV_DOCTYPE,
        Twist::default(),
        MDL_DOCTYPE,
    )
    .await;

    assert_failed_with(&live, &id, answer_, "invalid_presentation").await;
}

#[tokio::test]
async fn a_pid_mdoc_answers_every_credential_in_the_apis_shape() {
    let iaca = iaca();
    let all = [
        "EPASS:OLDER_THAN_18",
        "EPASS:OLDER_THAN_21",
        "EPASS:FIRST_NAME",
        "EPASS:LAST_NAME",
        "EPASS:DATE_OF_BIRTH",
        "EPASS:NATIONALITY",
        "EPASS:DOCUMENT_NUMBER",
        "EPASS:PHOTO",
        "EMAIL:EMAIL",
        "PHONE:PHONE_NUMBER",
    ];
    let live = live_with(&iaca, &all).await;
    let id = live.create().await;
    let request = fetch(&live.app, &id).await;
    let kinds: Vec<&str> = request.offered.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["pid", "pid_mdoc"],
        "only the PID holds email and phone"
    );
    let p = mdoc_presentation(&iaca.signer, PID_DOCTYPE, &request, Twist::default());

    let (status, body) = respond(
        &live.app,
        &request,
        &answer(&request, &query_id(&request, PID_DOCTYPE), &p),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let data = live.data(&id).await["data"].clone();
    assert_eq!(
        data,
        json!({
            "OLDER_THAN_18": true,
            "OLDER_THAN_21": true,
            "FIRST_NAME": "Sanne",
            "LAST_NAME": "de Vries",
            "DATE_OF_BIRTH": "1990-05-17",
            "NATIONALITY": "NL",
            "DOCUMENT_NUMBER": "NX4L2K7P9",
            "PHOTO": data["PHOTO"],
            "EMAIL": "sanne.devries@example.com",
            "PHONE_NUMBER": "+31612345678",
        })
    );
    assert!(
        data["PHOTO"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
}

#[tokio::test]
async fn an_mdoc_revoked_in_its_status_list_fails_and_a_valid_one_verifies() {
    use crate::revocation::{Answer, ListServer, app_for, status_list_token};
    let iaca = iaca();
    let (server, base) = ListServer::start().await;
    let uri = format!("{base}/mdoc");
    // Entry 0 valid, entry 1 invalid.
    let token = status_list_token(&iaca.key, Some(&iaca.ds), &uri, 1, &[0b10]);
    server.set("mdoc", Answer::Token(token));
    let live = app_for(&iaca.anchors_pem, |_| {}).await;
    let reference = |idx: u64| {
        ciborium::Value::Map(vec![(
            ciborium::Value::Text("status_list".into()),
            ciborium::Value::Map(vec![
                (
                    ciborium::Value::Text("idx".into()),
                    ciborium::Value::Integer(idx.into()),
                ),
                (
                    ciborium::Value::Text("uri".into()),
                    ciborium::Value::Text(uri.clone()),
                ),
            ]),
        )])
    };

    for (idx, outcome) in [(0, "verified"), (1, "failed")] {
        let twist = Twist {
            status: Some(reference(idx)),
            ..Twist::default()
        };
        let (id, _) = present_mdoc(&live, &iaca.signer, AV_DOCTYPE, twist, AV_DOCTYPE).await;
        let ident = live.identification(&id).await;
        assert_eq!(ident["statusName"], outcome, "{ident}");
        if outcome == "failed" {
            assert_eq!(ident["failureReason"], "revoked_credential", "{ident}");
        }
    }
    assert_eq!(server.hits(), 1, "one fetch for both presentations");
}
