//! The test issuer's status lists: every test credential references its
//! own entry, `GET /oid4vp/test-issuer/status-lists/{k}` serves the list as
//! a signed Status List Token, the issue request's `status` sets an entry's
//! first status, and `proofme admin test-credentials …` changes it.

use crate::helpers::*;
use p256::ecdsa::SigningKey;
use proofme::domain::{Mode, Timestamp};
use proofme::oid4vp::jose::{Jwk, Jws};
use proofme::oid4vp::mdoc::{cbor, cose, issue::map_entry_mut, sample};
use proofme::oid4vp::status_list::{
    self, StatusListError, StatusReference, TokenKey, VerifiedList, reference_from_cbor,
    reference_from_json,
};
use proofme::oid4vp::{holder, jose};
use proofme::verifier::test_status_lists::{own_list_number, status_list_token};
use rand::rngs::OsRng;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ISSUER: &str = "/oid4vp/test-issuer/credential";
const LISTS: &str = "/oid4vp/test-issuer/status-lists/";
const MAX_BYTES: usize = 1024 * 1024;
const AV_DOCTYPE: &str = "eu.europa.ec.av.1";

/// The nonce of the request of a fresh test identification, and its id.
async fn open_test_request(app: &TestApp) -> (String, String) {
    let id = app.create_with_description("x").await;
    let nonce = crate::verifier::fetch(app, &id).await.nonce;
    (id, nonce)
}

fn holder_jwk() -> Value {
    Jwk::from_verifying_key(SigningKey::random(&mut OsRng).verifying_key()).to_value()
}

fn pid_body(nonce: &str) -> Value {
    let claims = holder::pid_claims::<&str>(&[]).expect("claims");
    json!({"nonce": nonce, "holderJwk": holder_jwk(), "claims": claims})
}

fn mdoc_body(nonce: &str) -> Value {
    json!({
        "nonce": nonce,
        "holderJwk": holder_jwk(),
        "format": "mso_mdoc",
        "doctype": AV_DOCTYPE,
        "claims": sample::sample_claims(AV_DOCTYPE).expect("sample"),
    })
}

async fn ask(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let resp = app
        .client
        .post(app.url(ISSUER))
        .json(body)
        .send()
        .await
        .expect("POST test issuer");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn credential(app: &TestApp, body: &Value) -> String {
    let (status, answer) = ask(app, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["credential"]
        .as_str()
        .expect("credential")
        .to_owned()
}

/// The status reference in an SD-JWT VC's issuer-signed payload.
fn sd_jwt_reference(sd_jwt: &str) -> StatusReference {
    let jwt = sd_jwt.split('~').next().expect("issuer JWT");
    let payload = Jws::parse(jwt).expect("issuer JWT").payload().clone();
    reference_from_json(&payload["status"])
        .expect("a well-formed reference")
        .expect("a status_list reference")
}

/// The status reference in a test mdoc's MSO (the issuer's answer is the
/// base64url of its `IssuerSigned`).
fn mdoc_reference(encoded: &str) -> StatusReference {
    let issuer_signed = jose::b64url_decode(encoded).expect("base64url");
    let mut issuer_signed = cbor::decode(&issuer_signed).expect("CBOR");
    let issuer_auth = map_entry_mut(&mut issuer_signed, "issuerAuth").expect("issuerAuth");
    let sign1 = cose::sign1_from(issuer_auth).expect("COSE_Sign1");
    let payload = cbor::decode(sign1.payload.as_deref().expect("payload")).expect("CBOR");
    let (_, mut mso) = cbor::embedded(&payload, "MSO").expect("MSO");
    let status = map_entry_mut(&mut mso, "status").expect("an MSO status");
    reference_from_cbor(status)
        .expect("a well-formed reference")
        .expect("a status_list reference")
}

/// Fetches the Status List Token at `uri` and checks it as a verifier of a
/// test identification would.
async fn fetch_list(app: &TestApp, uri: &str) -> VerifiedList {
    let resp = app.client.get(uri).send().await.expect("GET status list");
    assert_eq!(resp.status(), StatusCode::OK, "{uri}");
    assert_eq!(content_type(&resp), "application/statuslist+jwt");
    let token = resp.text().await.expect("body");
    status_list::verify_token(
        &token,
        uri,
        TokenKey::Anchors(&app.state.verifier.test_trust),
        Timestamp::now().unix_seconds(),
        MAX_BYTES,
    )
    .expect("a token a test identification's verifier accepts")
}

async fn status_of(app: &TestApp, reference: &StatusReference) -> Option<u8> {
    fetch_list(app, &reference.uri)
        .await
        .list
        .status(reference.idx)
}

/// Runs `proofme <args>` against the app's database.
async fn proofme(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_proofme"));
    if let Some(key) = &app.config.data_key_file {
        cmd.env("PROOFME_DATA_KEY_FILE", key);
    }
    let out = cmd
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env_remove("PROOFME_ADDR")
        .env_remove("PROOFME_PUBLIC_URL")
        .env_remove("RUST_LOG")
        .kill_on_drop(true)
        .output()
        .await
        .expect("run proofme");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn change_status(app: &TestApp, action: &str, id: &str) -> Value {
    let (ok, stdout, stderr) = proofme(
        app,
        &["admin", "test-credentials", action, "--identification", id],
    )
    .await;
    assert!(ok, "{action} failed: {stderr}");
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

#[tokio::test]
async fn every_test_credential_references_its_own_entry_in_a_list_the_service_serves() {
    let app = spawn_app().await;
    let (_, nonce) = open_test_request(&app).await;

    let pid = sd_jwt_reference(&credential(&app, &pid_body(&nonce)).await);
    let mdoc = mdoc_reference(&credential(&app, &mdoc_body(&nonce)).await);

    let first_list = format!("{}{LISTS}0", app.address);
    assert_eq!(pid.uri, first_list);
    assert_eq!(mdoc.uri, first_list);
    assert_ne!(pid.idx, mdoc.idx);
    let served = fetch_list(&app, &first_list).await;
    assert_eq!(served.list.bits(), 2);
    assert_eq!(served.list.entries(), 1 << 16);
    assert_eq!(served.list.status(pid.idx), Some(0));
    assert_eq!(served.list.status(mdoc.idx), Some(0));
    assert!(served.ttl.is_some_and(|ttl| ttl <= 300), "{:?}", served.ttl);
    assert!(served.exp.is_some_and(|exp| exp > served.iat));
}

#[tokio::test]
async fn the_lists_are_signed_under_the_test_root_that_only_test_identifications_trust() {
    let app = spawn_app().await;
    let (_, nonce) = open_test_request(&app).await;
    let reference = sd_jwt_reference(&credential(&app, &pid_body(&nonce)).await);
    let token = app
        .client
        .get(&reference.uri)
        .send()
        .await
        .expect("GET status list")
        .text()
        .await
        .expect("body");
    let now = Timestamp::now().unix_seconds();

    let live = status_list::verify_token(
        &token,
        &reference.uri,
        TokenKey::Anchors(&app.state.verifier.live_trust),
        now,
        MAX_BYTES,
    );
    let other_list = status_list::verify_token(
        &token,
        &format!("{}{LISTS}1", app.address),
        TokenKey::Anchors(&app.state.verifier.test_trust),
        now,
        MAX_BYTES,
    );

    assert!(
        matches!(live, Err(StatusListError::UntrustedIssuer(_))),
        "{live:?}"
    );
    assert_eq!(other_list, Err(StatusListError::WrongSubject));
}

#[tokio::test]
async fn the_status_option_sets_the_first_status_of_the_credentials_entry() {
    let app = spawn_app().await;
    let (_, nonce) = open_test_request(&app).await;
    let mut issued = Vec::new();

    for (status, code) in [("invalid", 1), ("suspended", 2), ("valid", 0)] {
        let mut pid = pid_body(&nonce);
        pid["status"] = json!(status);
        let mut mdoc = mdoc_body(&nonce);
        mdoc["status"] = json!(status);
        issued.push((sd_jwt_reference(&credential(&app, &pid).await), code));
        issued.push((mdoc_reference(&credential(&app, &mdoc).await), code));
    }

    for (reference, code) in &issued {
        assert_eq!(
            status_of(&app, reference).await,
            Some(*code),
            "{reference:?}"
        );
    }
}

#[tokio::test]
async fn a_status_the_draft_does_not_define_is_an_invalid_request_that_hands_out_no_entry() {
    let app = spawn_app().await;
    let (_, nonce) = open_test_request(&app).await;
    let before = sd_jwt_reference(&credential(&app, &pid_body(&nonce)).await);

    for status in [json!("revoked"), json!("VALID"), json!(1), json!(null)] {
        let mut body = pid_body(&nonce);
        body["status"] = status.clone();

        let (code, answer) = ask(&app, &body).await;

        assert_eq!(code, StatusCode::BAD_REQUEST, "{status}: {answer}");
        assert_eq!(answer["error"], "invalid_request", "{status}");
        assert!(answer["error_description"].is_string(), "{status}");
    }
    let after = sd_jwt_reference(&credential(&app, &pid_body(&nonce)).await);
    assert_eq!(after.idx, before.idx + 1, "refused requests took no entry");
}

#[tokio::test]
async fn revoke_suspend_and_reinstate_change_what_the_list_serves() {
    let app = spawn_app().await;
    let (id, nonce) = open_test_request(&app).await;
    let pid = sd_jwt_reference(&credential(&app, &pid_body(&nonce)).await);
    let mdoc = mdoc_reference(&credential(&app, &mdoc_body(&nonce)).await);
    let (_, other_nonce) = open_test_request(&app).await;
    let bystander = sd_jwt_reference(&credential(&app, &pid_body(&other_nonce)).await);

    let revoked = change_status(&app, "revoke", &id).await;
    assert_eq!(revoked["credentialStatus"], "invalid");
    assert_eq!(revoked["credentials"], 2);
    assert_eq!(status_of(&app, &pid).await, Some(1));
    assert_eq!(status_of(&app, &mdoc).await, Some(1));

    change_status(&app, "suspend", &id).await;
    assert_eq!(status_of(&app, &pid).await, Some(2));
    assert_eq!(status_of(&app, &mdoc).await, Some(2));

    change_status(&app, "reinstate", &id).await;
    assert_eq!(status_of(&app, &pid).await, Some(0));
    assert_eq!(status_of(&app, &mdoc).await, Some(0));
    assert_eq!(status_of(&app, &bystander).await, Some(0));
}

#[tokio::test]
async fn the_admin_command_refuses_live_unknown_and_credential_less_identifications() {
    let app = spawn_app().await;
    let live_key = app.create_api_key(Mode::Live).await;
    let live: Value = created(
        app.post_json_with_key(&live_key, &app.json_body_with(json!({})))
            .await,
    )
    .await;
    let live_id = live["id"].as_str().expect("id");
    let unused = app.create_with_description("no wallet yet").await;

    for (what, id, message) in [
        ("a live identification", live_id, "live"),
        (
            "an unknown id",
            "id_AAAAAAAAAAAAAAAAAAAAAA",
            "no identification",
        ),
        ("not an id", "key_abc", "--identification"),
        ("no credential issued", unused.as_str(), "no credential"),
    ] {
        let (ok, stdout, stderr) = proofme(
            &app,
            &[
                "admin",
                "test-credentials",
                "revoke",
                "--identification",
                id,
            ],
        )
        .await;

        assert!(!ok, "{what}: succeeded with {stdout}");
        assert!(stderr.contains(message), "{what}: {stderr}");
    }
}

#[tokio::test]
async fn a_list_no_credential_uses_yet_is_404() {
    let app = spawn_app().await;

    let before_any = app.get_anonymous(&format!("{LISTS}0")).await;
    assert_eq!(before_any.status(), StatusCode::NOT_FOUND);
    let error: Value = before_any.json().await.expect("OAuth error JSON");
    assert_eq!(error["error"], "invalid_request");
    assert!(error["error_description"].is_string());

    let (_, nonce) = open_test_request(&app).await;
    credential(&app, &pid_body(&nonce)).await;
    assert_eq!(
        app.get_anonymous(&format!("{LISTS}0")).await.status(),
        StatusCode::OK
    );
    for k in ["1", "4294967295", "4294967296", "00", "-1", "x", "0x0"] {
        let resp = app.get_anonymous(&format!("{LISTS}{k}")).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{k}");
        let error: Value = resp.json().await.expect("OAuth error JSON");
        assert_eq!(error["error"], "invalid_request", "{k}");
    }
}

#[tokio::test]
async fn the_verifier_reads_its_own_lists_in_process() {
    let app = spawn_app().await;
    let (id, nonce) = open_test_request(&app).await;
    let reference = sd_jwt_reference(&credential(&app, &pid_body(&nonce)).await);
    change_status(&app, "suspend", &id).await;
    let public_url = &app.config.public_url;
    let now = Timestamp::now().unix_seconds();

    let list_no = own_list_number(public_url, &reference.uri).expect("our own list");
    let token = status_list_token(&app.state.verifier, &app.store, public_url, list_no, now)
        .await
        .expect("a token");

    let verified = status_list::verify_token(
        &token,
        &reference.uri,
        TokenKey::Anchors(&app.state.verifier.test_trust),
        now,
        MAX_BYTES,
    )
    .expect("valid");
    assert_eq!(verified.list.status(reference.idx), Some(2));
    assert_eq!(
        own_list_number(public_url, "https://elsewhere.example/lists/0"),
        None
    );
    assert!(
        status_list_token(
            &app.state.verifier,
            &app.store,
            public_url,
            list_no + 1,
            now
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn the_wallet_command_asks_the_test_issuer_for_the_credential_status() {
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;

    let (_, stdout, stderr) = proofme(
        &app,
        &[
            "wallet",
            "present",
            &app.url(&format!("/{id}")),
            "--credential-status",
            "suspended",
        ],
    )
    .await;

    // Whatever the verifier made of it, the credential's entry was handed
    // out suspended: the only entry there is.
    let list = fetch_list(&app, &format!("{}{LISTS}0", app.address)).await;
    assert_eq!(list.list.status(0), Some(2), "{stdout} {stderr}");
    assert_eq!(list.list.status(1), Some(0));
    let (ok, _, stderr) = proofme(
        &app,
        &[
            "wallet",
            "present",
            &app.url(&format!("/{id}")),
            "--credential-status",
            "gone",
        ],
    )
    .await;
    assert!(
        !ok && stderr.contains("valid, invalid or suspended"),
        "{stderr}"
    );
}
