//! Every mdoc check, each with a presentation that breaks it, and the
//! ISO/IEC 18013-5 Annex D DeviceResponse (made elsewhere) read by the same
//! checks.

use ciborium::Value;
use p256::ecdsa::SigningKey;
use rand::rngs::OsRng;
use serde_json::json;

use super::issue::{self, MdocIssuer, UnsignedMdoc, Validity};
use super::{cbor, cose, present, transcript, verify};
use crate::oid4vp::failure::FailureReason;
use crate::oid4vp::jose::b64url_encode;
use crate::oid4vp::x509::{self, CertificateAuthority, TrustAnchors};

const NOW: i64 = 1_750_000_000;
const DOCTYPE: &str = "org.iso.18013.5.1.mDL";
const NS: &str = "org.iso.18013.5.1";

struct Fixture {
    issuer: MdocIssuer,
    trust: TrustAnchors,
    device: SigningKey,
    transcript: Value,
}

fn fixture() -> Fixture {
    let validity = x509::Validity::days_from(NOW, 365);
    let iaca = CertificateAuthority::new("Test IACA", validity).unwrap();
    let ds_key = SigningKey::random(&mut OsRng);
    let ds = iaca
        .issue_leaf(
            &p256::PublicKey::from(ds_key.verifying_key()),
            "Test DS",
            validity,
        )
        .unwrap();
    Fixture {
        issuer: MdocIssuer::new(ds_key, vec![ds]),
        trust: TrustAnchors::from_der([iaca.certificate_der().as_slice()]).unwrap(),
        device: SigningKey::random(&mut OsRng),
        transcript: transcript::redirect(
            "x509_hash:abc",
            "nonce-1",
            &[7; 32],
            "https://v.example/r",
        ),
    }
}

fn elements() -> Vec<(String, String, Value)> {
    vec![
        (
            NS.into(),
            "family_name".into(),
            Value::Text("de Vries".into()),
        ),
        (NS.into(), "given_name".into(), Value::Text("Sanne".into())),
        (NS.into(), "age_over_18".into(), Value::Bool(true)),
        (
            NS.into(),
            "birth_date".into(),
            cbor::full_date_value("1990-05-17").unwrap(),
        ),
    ]
}

fn validity() -> Validity {
    Validity {
        signed: NOW - 3600,
        valid_from: NOW - 3600,
        valid_until: NOW + 86_400,
    }
}

impl Fixture {
    fn unsigned(&self) -> UnsignedMdoc {
        issue::prepare(
            DOCTYPE,
            &elements(),
            self.device.verifying_key(),
            validity(),
        )
    }

    fn issued(&self) -> Vec<u8> {
        self.issuer.sign(self.unsigned())
    }

    /// The whole presentation of `issuer_signed`, as the wallet sends it.
    fn present(&self, issuer_signed: &[u8]) -> String {
        b64url_encode(
            present::present(
                issuer_signed,
                DOCTYPE,
                |_, _| true,
                &self.device,
                &self.transcript,
            )
            .unwrap(),
        )
    }

    fn expect(&self) -> verify::Expectations<'_> {
        verify::Expectations {
            trust: &self.trust,
            doctype: DOCTYPE,
            transcript: &self.transcript,
            now: NOW,
        }
    }

    fn verify(&self, vp_token: &str) -> Result<serde_json::Value, FailureReason> {
        verify::verify_presentation(vp_token, &self.expect())
            .map(|v| v.claims)
            .map_err(|r| r.reason)
    }
}

/// A DeviceResponse made of `documents` with `version` and `status`.
fn response(version: Value, status: Option<u64>, documents: Option<Vec<Value>>) -> String {
    let mut map = vec![(Value::Text("version".into()), version)];
    if let Some(documents) = documents {
        map.push((Value::Text("documents".into()), Value::Array(documents)));
    }
    if let Some(status) = status {
        map.push((Value::Text("status".into()), Value::Integer(status.into())));
    }
    b64url_encode(cbor::encode(&Value::Map(map)))
}

fn document_of(f: &Fixture, issuer_signed: &[u8], doctype: &str) -> Value {
    present::document(
        doctype,
        present::select(issuer_signed, |_, _| true).unwrap(),
        present::device_signed(&f.transcript, doctype, &f.device),
    )
}

// --- A good presentation ----------------------------------------------------

#[test]
fn a_good_presentation_gives_its_elements_by_namespace() {
    let f = fixture();
    let claims = f.verify(&f.present(&f.issued())).unwrap();
    assert_eq!(
        claims,
        json!({NS: {
            "family_name": "de Vries", "given_name": "Sanne",
            "age_over_18": true, "birth_date": "1990-05-17"
        }})
    );
}

#[test]
fn only_the_elements_presented_are_given() {
    let f = fixture();
    let vp = b64url_encode(
        present::present(
            &f.issued(),
            DOCTYPE,
            |_, e| e == "age_over_18",
            &f.device,
            &f.transcript,
        )
        .unwrap(),
    );
    assert_eq!(f.verify(&vp).unwrap(), json!({NS: {"age_over_18": true}}));
}

// --- The DeviceResponse -----------------------------------------------------

#[test]
fn a_token_that_is_not_base64url_cbor_is_invalid() {
    let f = fixture();
    assert_eq!(
        f.verify("not base64!"),
        Err(FailureReason::InvalidPresentation)
    );
    assert_eq!(
        f.verify(&b64url_encode([0xa1, 0x61])),
        Err(FailureReason::InvalidPresentation)
    );
    let good = crate::oid4vp::jose::b64url_decode(&f.present(&f.issued())).unwrap();
    let trailing = b64url_encode([good.as_slice(), &[0x00]].concat());
    assert_eq!(f.verify(&trailing), Err(FailureReason::InvalidPresentation));
    let huge = "A".repeat(verify::MAX_PRESENTATION_LEN + 1);
    assert_eq!(f.verify(&huge), Err(FailureReason::InvalidPresentation));
}

#[test]
fn a_response_of_another_version_is_invalid() {
    let f = fixture();
    let doc = document_of(&f, &f.issued(), DOCTYPE);
    let vp = response(Value::Text("2.0".into()), Some(0), Some(vec![doc.clone()]));
    assert_eq!(f.verify(&vp), Err(FailureReason::InvalidPresentation));
    let vp = response(Value::Integer(1.into()), Some(0), Some(vec![doc.clone()]));
    assert_eq!(f.verify(&vp), Err(FailureReason::InvalidPresentation));
    let vp = response(Value::Text("1.0".into()), Some(0), Some(vec![doc]));
    assert!(f.verify(&vp).is_ok());
}

#[test]
fn a_response_whose_status_is_not_ok_is_a_wallet_error() {
    let f = fixture();
    let doc = document_of(&f, &f.issued(), DOCTYPE);
    let vp = response(Value::Text("1.0".into()), Some(10), Some(vec![doc.clone()]));
    assert_eq!(f.verify(&vp), Err(FailureReason::WalletError));
    let vp = response(Value::Text("1.0".into()), None, Some(vec![doc]));
    assert_eq!(f.verify(&vp), Err(FailureReason::InvalidPresentation));
}

#[test]
fn a_response_without_a_document_is_a_missing_credential() {
    let f = fixture();
    assert_eq!(
        f.verify(&response(Value::Text("1.0".into()), Some(0), None)),
        Err(FailureReason::MissingCredential)
    );
    assert_eq!(
        f.verify(&response(Value::Text("1.0".into()), Some(0), Some(vec![]))),
        Err(FailureReason::MissingCredential)
    );
}

#[test]
fn a_response_with_two_documents_is_invalid() {
    let f = fixture();
    let doc = document_of(&f, &f.issued(), DOCTYPE);
    let vp = response(
        Value::Text("1.0".into()),
        Some(0),
        Some(vec![doc.clone(), doc]),
    );
    assert_eq!(f.verify(&vp), Err(FailureReason::InvalidPresentation));
}

#[test]
fn a_document_of_another_type_than_asked_is_invalid() {
    let f = fixture();
    let vp = f.present(&f.issued());
    let expect = verify::Expectations {
        doctype: "eu.europa.ec.av.1",
        ..f.expect()
    };
    assert_eq!(
        verify::verify_presentation(&vp, &expect).map_err(|r| r.reason),
        Err(FailureReason::InvalidPresentation)
    );
}

#[test]
fn a_map_with_a_key_twice_is_invalid() {
    let f = fixture();
    let doc = document_of(&f, &f.issued(), DOCTYPE);
    let twice = Value::Map(vec![
        (Value::Text("version".into()), Value::Text("1.0".into())),
        (Value::Text("documents".into()), Value::Array(vec![doc])),
        (Value::Text("status".into()), Value::Integer(0.into())),
        (Value::Text("status".into()), Value::Integer(0.into())),
    ]);
    assert_eq!(
        f.verify(&b64url_encode(cbor::encode(&twice))),
        Err(FailureReason::InvalidPresentation)
    );
}

// --- issuerAuth -------------------------------------------------------------

#[test]
fn issuer_auth_that_is_not_cose_sign1_is_invalid() {
    let f = fixture();
    let broken = cbor::encode(&issue::issuer_signed(vec![], Value::Text("nope".into())));
    assert_eq!(
        f.verify(&f.present(&broken)),
        Err(FailureReason::InvalidPresentation)
    );
}

#[test]
fn issuer_auth_with_another_algorithm_than_es256_is_a_bad_signature() {
    use coset::{AsCborValue, CoseSign1Builder, HeaderBuilder, iana};
    let f = fixture();
    let unsigned = f.unsigned();
    let payload = cbor::encode(&cbor::embed(&unsigned.mso));
    let auth = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES384)
                .build(),
        )
        .unprotected(
            HeaderBuilder::new()
                .value(cose::X5CHAIN, Value::Bytes(f.issuer.chain()[0].clone()))
                .build(),
        )
        .payload(payload)
        .create_signature(b"", |d| {
            use p256::ecdsa::signature::Signer;
            let key = SigningKey::random(&mut OsRng);
            let s: p256::ecdsa::Signature = key.sign(d);
            s.to_bytes().to_vec()
        })
        .build()
        .to_cbor_value()
        .unwrap();
    let broken = cbor::encode(&issue::issuer_signed(unsigned.namespaces, auth));
    assert_eq!(
        f.verify(&f.present(&broken)),
        Err(FailureReason::InvalidSignature)
    );
}

#[test]
fn issuer_auth_without_x5chain_is_an_untrusted_issuer() {
    let f = fixture();
    let unsigned = f.unsigned();
    let key = SigningKey::random(&mut OsRng);
    let unchained = MdocIssuer::new(key, vec![]).sign(unsigned);
    assert_eq!(
        f.verify(&f.present(&unchained)),
        Err(FailureReason::UntrustedIssuer)
    );
}

#[test]
fn an_issuer_outside_the_trust_anchors_is_untrusted() {
    let f = fixture();
    let stranger = fixture();
    let credential =
        stranger
            .issuer
            .issue(DOCTYPE, &elements(), f.device.verifying_key(), validity());
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::UntrustedIssuer)
    );
}

#[test]
fn a_document_signer_that_breaks_the_path_rules_is_untrusted() {
    use rcgen::KeyUsagePurpose;
    let f = fixture();
    let validity_x509 = x509::Validity::days_from(NOW, 365);
    let iaca = CertificateAuthority::new("IACA", validity_x509).unwrap();
    let ds_key = SigningKey::random(&mut OsRng);
    let mut params = x509::certificate_params("DS", validity_x509, false).unwrap();
    params.key_usages = vec![KeyUsagePurpose::KeyAgreement];
    let ds = iaca
        .issue_with(&p256::PublicKey::from(ds_key.verifying_key()), params)
        .unwrap();
    let issuer = MdocIssuer::new(ds_key, vec![ds]);
    let credential = issuer.issue(DOCTYPE, &elements(), f.device.verifying_key(), validity());
    let expect = verify::Expectations {
        trust: &TrustAnchors::from_der([iaca.certificate_der().as_slice()]).unwrap(),
        ..f.expect()
    };
    assert_eq!(
        verify::verify_presentation(&f.present(&credential), &expect).map_err(|r| r.reason),
        Err(FailureReason::UntrustedIssuer)
    );
}

#[test]
fn an_mso_signed_by_another_key_than_the_certificates_is_a_bad_signature() {
    let f = fixture();
    let impostor = MdocIssuer::new(SigningKey::random(&mut OsRng), f.issuer.chain().to_vec());
    let credential = impostor.sign(f.unsigned());
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidSignature)
    );
}

#[test]
fn an_mso_changed_after_signing_is_a_bad_signature() {
    let f = fixture();
    let issued = cbor::decode(&f.issued()).unwrap();
    let mut issued = issued;
    let auth = issue::map_entry_mut(&mut issued, "issuerAuth").unwrap();
    let Value::Array(parts) = auth else { panic!() };
    // Sign1 = [protected, unprotected, payload, signature]: change one payload byte.
    let Value::Bytes(payload) = &mut parts[2] else {
        panic!()
    };
    let last = payload.len() - 1;
    payload[last] ^= 0x01;
    assert_eq!(
        f.verify(&f.present(&cbor::encode(&issued))),
        Err(FailureReason::InvalidSignature)
    );
}

// --- The MSO ----------------------------------------------------------------

fn with_mso_entry(f: &Fixture, key: &str, value: Value) -> Vec<u8> {
    let mut unsigned = f.unsigned();
    *issue::map_entry_mut(&mut unsigned.mso, key).unwrap() = value;
    f.issuer.sign(unsigned)
}

#[test]
fn an_mso_of_another_doctype_than_the_document_is_invalid() {
    let f = fixture();
    let credential = with_mso_entry(&f, "docType", Value::Text("eu.europa.ec.av.1".into()));
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidPresentation)
    );
}

#[test]
fn an_mso_of_another_version_is_invalid() {
    let f = fixture();
    let credential = with_mso_entry(&f, "version", Value::Text("0.9".into()));
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidPresentation)
    );
}

#[test]
fn digests_other_than_sha_256_are_invalid() {
    let f = fixture();
    let credential = with_mso_entry(&f, "digestAlgorithm", Value::Text("SHA-512".into()));
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidPresentation)
    );
}

fn with_validity(f: &Fixture, validity: Validity) -> Vec<u8> {
    f.issuer
        .issue(DOCTYPE, &elements(), f.device.verifying_key(), validity)
}

#[test]
fn an_expired_mdoc_is_an_expired_credential() {
    let f = fixture();
    let expired = with_validity(
        &f,
        Validity {
            signed: NOW - 1000,
            valid_from: NOW - 1000,
            valid_until: NOW - verify::LEEWAY_SECS - 1,
        },
    );
    assert_eq!(
        f.verify(&f.present(&expired)),
        Err(FailureReason::ExpiredCredential)
    );
    let just = with_validity(
        &f,
        Validity {
            signed: NOW - 1000,
            valid_from: NOW - 1000,
            valid_until: NOW - verify::LEEWAY_SECS + 1,
        },
    );
    assert!(f.verify(&f.present(&just)).is_ok());
}

#[test]
fn an_mdoc_not_yet_valid_or_signed_in_the_future_is_an_expired_credential() {
    let f = fixture();
    let future = with_validity(
        &f,
        Validity {
            signed: NOW,
            valid_from: NOW + verify::LEEWAY_SECS + 1,
            valid_until: NOW + 9999,
        },
    );
    assert_eq!(
        f.verify(&f.present(&future)),
        Err(FailureReason::ExpiredCredential)
    );
    let signed_later = with_validity(
        &f,
        Validity {
            signed: NOW + verify::LEEWAY_SECS + 1,
            valid_from: NOW,
            valid_until: NOW + 9999,
        },
    );
    assert_eq!(
        f.verify(&f.present(&signed_later)),
        Err(FailureReason::ExpiredCredential)
    );
}

#[test]
fn validity_that_ends_before_it_starts_is_invalid() {
    let f = fixture();
    let backwards = with_validity(
        &f,
        Validity {
            signed: NOW,
            valid_from: NOW,
            valid_until: NOW - 1,
        },
    );
    assert_eq!(
        f.verify(&f.present(&backwards)),
        Err(FailureReason::InvalidPresentation)
    );
}

// --- The disclosed items ----------------------------------------------------

/// The issued mdoc with its first item replaced by `replacement(item)`.
fn with_first_item(f: &Fixture, replacement: impl Fn(&Value) -> Vec<Value>) -> Vec<u8> {
    let mut unsigned = f.unsigned();
    let items = &mut unsigned.namespaces[0].1;
    let first = items.remove(0);
    for (i, item) in replacement(&first).into_iter().enumerate() {
        items.insert(i, item);
    }
    f.issuer.sign(unsigned)
}

fn fields_of(item: &Value) -> (u64, Vec<u8>, String) {
    let (_, decoded) = cbor::embedded(item, "item").unwrap();
    let map = cbor::TextMap::of(&decoded, "item").unwrap();
    (
        cbor::uint(map.get("digestID").unwrap()).unwrap(),
        cbor::bytes(map.get("random").unwrap(), "r")
            .unwrap()
            .to_vec(),
        cbor::text(map.get("elementIdentifier").unwrap(), "e")
            .unwrap()
            .to_owned(),
    )
}

#[test]
fn an_element_value_changed_after_signing_is_invalid() {
    let f = fixture();
    let credential = with_first_item(&f, |item| {
        let (id, random, element) = fields_of(item);
        vec![issue::item(
            id,
            random,
            &element,
            Value::Text("someone else".into()),
        )]
    });
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidPresentation)
    );
}

#[test]
fn an_element_with_a_digest_id_the_mso_lacks_is_invalid() {
    let f = fixture();
    let credential = with_first_item(&f, |item| {
        let (_, random, element) = fields_of(item);
        vec![issue::item(999, random, &element, Value::Bool(true))]
    });
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidPresentation)
    );
}

#[test]
fn an_element_disclosed_twice_is_invalid() {
    let f = fixture();
    let credential = with_first_item(&f, |item| vec![item.clone(), item.clone()]);
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidPresentation)
    );
}

#[test]
fn a_namespace_the_mso_lacks_is_invalid() {
    let f = fixture();
    let mut unsigned = f.unsigned();
    unsigned.namespaces[0].0 = "org.example.other".into();
    let credential = f.issuer.sign(unsigned);
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidPresentation)
    );
}

// --- Device authentication --------------------------------------------------

fn with_device_signed(f: &Fixture, device_signed: Value) -> String {
    let doc = present::document(
        DOCTYPE,
        present::select(&f.issued(), |_, _| true).unwrap(),
        device_signed,
    );
    b64url_encode(present::device_response(vec![doc]))
}

#[test]
fn a_device_signature_over_another_transcript_is_an_invalid_key_binding() {
    let f = fixture();
    for other in [
        transcript::redirect("x509_hash:abc", "nonce-2", &[7; 32], "https://v.example/r"),
        transcript::redirect("x509_hash:xyz", "nonce-1", &[7; 32], "https://v.example/r"),
        transcript::redirect("x509_hash:abc", "nonce-1", &[8; 32], "https://v.example/r"),
        transcript::redirect(
            "x509_hash:abc",
            "nonce-1",
            &[7; 32],
            "https://evil.example/r",
        ),
        transcript::dc_api("https://v.example", "nonce-1", &[7; 32]),
    ] {
        let vp = with_device_signed(&f, present::device_signed(&other, DOCTYPE, &f.device));
        assert_eq!(f.verify(&vp), Err(FailureReason::InvalidKeyBinding));
    }
}

#[test]
fn a_device_signature_by_another_key_than_the_msos_is_an_invalid_key_binding() {
    let f = fixture();
    let stranger = SigningKey::random(&mut OsRng);
    let vp = with_device_signed(
        &f,
        present::device_signed(&f.transcript, DOCTYPE, &stranger),
    );
    assert_eq!(f.verify(&vp), Err(FailureReason::InvalidKeyBinding));
}

#[test]
fn a_device_signature_over_another_doctype_is_an_invalid_key_binding() {
    let f = fixture();
    let vp = with_device_signed(
        &f,
        present::device_signed(&f.transcript, "eu.europa.ec.av.1", &f.device),
    );
    assert_eq!(f.verify(&vp), Err(FailureReason::InvalidKeyBinding));
}

#[test]
fn a_device_mac_is_refused_as_an_invalid_key_binding() {
    let f = fixture();
    let mac = Value::Array(vec![
        Value::Bytes(vec![0xa1, 0x01, 0x05]),
        Value::Map(vec![]),
        Value::Null,
        Value::Bytes(vec![0; 32]),
    ]);
    let device_signed = Value::Map(vec![
        (
            Value::Text("nameSpaces".into()),
            cbor::embed(&Value::Map(vec![])),
        ),
        (
            Value::Text("deviceAuth".into()),
            Value::Map(vec![(Value::Text("deviceMac".into()), mac)]),
        ),
    ]);
    assert_eq!(
        f.verify(&with_device_signed(&f, device_signed)),
        Err(FailureReason::InvalidKeyBinding)
    );
}

#[test]
fn no_device_authentication_is_an_invalid_key_binding() {
    let f = fixture();
    let device_signed = Value::Map(vec![(
        Value::Text("nameSpaces".into()),
        cbor::embed(&Value::Map(vec![])),
    )]);
    assert_eq!(
        f.verify(&with_device_signed(&f, device_signed)),
        Err(FailureReason::InvalidKeyBinding)
    );
}

#[test]
fn an_mso_without_a_usable_device_key_is_an_invalid_key_binding() {
    let f = fixture();
    let credential = with_mso_entry(&f, "deviceKeyInfo", Value::Map(vec![]));
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidKeyBinding)
    );
}

// --- ISO/IEC 18013-5 Annex D ------------------------------------------------

const ANNEX_D_RESPONSE: &[u8] = include_bytes!("vectors/annex_d_device_response.cbor");
const ANNEX_D_IACA: &[u8] = include_bytes!("vectors/annex_d_iaca.der");
/// 2021-01-01, inside the Annex D mdoc's validity (2020-10-01 to 2021-10-01).
const ANNEX_D_NOW: i64 = 1_609_459_200;

fn annex_d(now: i64) -> Result<serde_json::Value, crate::oid4vp::Rejection> {
    let trust = TrustAnchors::from_der([ANNEX_D_IACA]).unwrap();
    let t = transcript::redirect("any", "any", &[0; 32], "any");
    verify::verify_presentation(
        &b64url_encode(ANNEX_D_RESPONSE),
        &verify::Expectations {
            trust: &trust,
            doctype: DOCTYPE,
            transcript: &t,
            now,
        },
    )
    .map(|v| v.claims)
}

#[test]
fn the_annex_d_response_passes_every_issuer_check_and_is_refused_for_its_device_mac() {
    // Every check before device authentication passes on data made by
    // others: version, status, document, ES256, the x5chain to the IACA
    // under the path rules, the signature, the MSO, every digest, validity.
    // Annex D authenticates the device with a MAC, which is refused.
    let rejection = annex_d(ANNEX_D_NOW).unwrap_err();
    assert_eq!(rejection.reason, FailureReason::InvalidKeyBinding);
    assert!(
        rejection.detail.contains("deviceMac"),
        "{}",
        rejection.detail
    );
}

#[test]
fn the_annex_d_elements_match_their_published_digests() {
    let response = verify::decode_response(&b64url_encode(ANNEX_D_RESPONSE)).unwrap();
    let response = cbor::TextMap::of(&response, "r").unwrap();
    let document = verify::single_document(&response).unwrap();
    let auth = verify::issuer_auth(&document).unwrap();
    let mso = verify::mobile_security_object(&auth).unwrap();
    let mso = cbor::TextMap::of(&mso, "mso").unwrap();
    let claims = verify::check_disclosed_items(&document, &mso).unwrap();
    let mdl = &claims[NS];
    assert_eq!(mdl["family_name"], "Doe");
    assert_eq!(mdl["document_number"], "123456789");
    assert_eq!(mdl["issue_date"], "2019-10-20");
    assert_eq!(mdl["expiry_date"], "2024-10-20");
    assert!(
        mdl["portrait"]
            .as_str()
            .unwrap()
            .starts_with("data:image/jpeg;base64,/9j/")
    );
    assert_eq!(mdl["driving_privileges"][1]["vehicle_category_code"], "B");
}

#[test]
fn the_annex_d_response_outside_its_validity_is_refused() {
    // A year after it ended, the document signer's certificate has expired too.
    assert_eq!(
        annex_d(ANNEX_D_NOW + 365 * 86_400).unwrap_err().reason,
        FailureReason::UntrustedIssuer
    );
    // Trusting another root, the same response is untrusted.
    let other =
        CertificateAuthority::new("Other", x509::Validity::days_from(ANNEX_D_NOW, 30)).unwrap();
    let trust = TrustAnchors::from_der([other.certificate_der().as_slice()]).unwrap();
    let t = transcript::redirect("any", "any", &[0; 32], "any");
    let result = verify::verify_presentation(
        &b64url_encode(ANNEX_D_RESPONSE),
        &verify::Expectations {
            trust: &trust,
            doctype: DOCTYPE,
            transcript: &t,
            now: ANNEX_D_NOW,
        },
    );
    assert_eq!(result.unwrap_err().reason, FailureReason::UntrustedIssuer);
}

#[test]
fn the_annex_d_mso_with_one_bit_changed_no_longer_verifies() {
    // Find the MSO's signature (the last 64-byte string before
    // "deviceSigned") and flip a bit: the issuer signature must fail.
    let mut bytes = ANNEX_D_RESPONSE.to_vec();
    let marker = b"deviceSigned";
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap();
    bytes[at - 2] ^= 0x01;
    let trust = TrustAnchors::from_der([ANNEX_D_IACA]).unwrap();
    let t = transcript::redirect("any", "any", &[0; 32], "any");
    let result = verify::verify_presentation(
        &b64url_encode(&bytes),
        &verify::Expectations {
            trust: &trust,
            doctype: DOCTYPE,
            transcript: &t,
            now: ANNEX_D_NOW,
        },
    );
    assert_eq!(result.unwrap_err().reason, FailureReason::InvalidSignature);
}

// --- The status reference -----------------------------------------------------

/// A credential whose MSO carries `status`, signed with it.
fn with_mso_status(f: &Fixture, status: Value) -> Vec<u8> {
    let mut unsigned = f.unsigned();
    if let Value::Map(entries) = &mut unsigned.mso {
        entries.push((Value::Text("status".into()), status));
    }
    f.issuer.sign(unsigned)
}

fn status_list(idx: Value, uri: &str) -> Value {
    Value::Map(vec![(
        Value::Text("status_list".into()),
        Value::Map(vec![
            (Value::Text("idx".into()), idx),
            (Value::Text("uri".into()), Value::Text(uri.into())),
        ]),
    )])
}

#[test]
fn the_msos_status_reference_comes_with_the_claims_and_the_issuer_key() {
    let f = fixture();
    let credential = with_mso_status(
        &f,
        status_list(Value::Integer(412.into()), "https://issuer.example/lists/3"),
    );
    let verified = verify::verify_presentation(&f.present(&credential), &f.expect()).unwrap();
    assert_eq!(
        verified.status,
        Some(crate::oid4vp::status_list::StatusReference {
            idx: 412,
            uri: "https://issuer.example/lists/3".into()
        })
    );
    let signer = crate::oid4vp::x509::verify_chain(f.issuer.chain(), &f.trust, NOW).unwrap();
    assert_eq!(verified.issuer_key, signer);
    let plain = verify::verify_presentation(&f.present(&f.issued()), &f.expect()).unwrap();
    assert_eq!(plain.status, None);
}

#[test]
fn a_malformed_mso_status_is_an_invalid_presentation() {
    let f = fixture();
    let credential = with_mso_status(
        &f,
        status_list(Value::Text("412".into()), "https://issuer.example/lists/3"),
    );
    assert_eq!(
        f.verify(&f.present(&credential)),
        Err(FailureReason::InvalidPresentation)
    );
}
