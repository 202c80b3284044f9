//! Verification of an mdoc presentation: a base64url `DeviceResponse` in a
//! `vp_token` (OpenID4VP 1.0 Appendix B.2, ISO/IEC 18013-5 §9.1).
//!
//! Each rule is one small function below, run in this order by
//! [`verify_presentation`]; each has a test that fails without it. The
//! shapes are read strictly before any cryptography: one CBOR item, no map
//! key twice, bounded nesting and counts.
//!
//! Choices the specifications leave open (the same as for SD-JWT):
//! - a `DeviceResponse` status other than 0 (OK) is the wallet reporting an
//!   error: `wallet_error`; one without a document: `missing_credential`;
//! - `validFrom` or `signed` in the future, or `validUntil` past (60 s
//!   leeway): `expired_credential`; an expired certificate: `untrusted_issuer`;
//! - no device signature, a `deviceMac`, or a device signature that does not
//!   verify over this request's transcript: `invalid_key_binding`.

use ciborium::Value;
use p256::ecdsa::VerifyingKey;
use std::collections::HashSet;

use super::cbor::{self, TextMap};
use super::{cose, present};
use crate::oid4vp::failure::FailureReason;
use crate::oid4vp::jose::b64url_decode;
use crate::oid4vp::outcome::{Rejection, Verified, invalid, reject};
use crate::oid4vp::status_list::{StatusReference, reference_from_cbor};
use crate::oid4vp::x509::{ChainError, TrustAnchors, verify_chain};

/// The longest `vp_token` entry read (base64url text): a PID with a portrait
/// is tens of kilobytes.
pub const MAX_PRESENTATION_LEN: usize = 384 * 1024;
/// The most disclosed elements read.
pub const MAX_ITEMS: usize = 256;
/// Clock skew allowed on the MSO's validity.
pub const LEEWAY_SECS: i64 = crate::oid4vp::sdjwt::LEEWAY_SECS;
pub const DIGEST_ALGORITHM: &str = "SHA-256";

/// What the presentation must match.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    pub trust: &'a TrustAnchors,
    /// The document type the credential query asked for.
    pub doctype: &'a str,
    /// This request's SessionTranscript (`transcript::redirect` or `dc_api`).
    pub transcript: &'a Value,
    /// Unix seconds.
    pub now: i64,
}

/// Runs every check on `vp_token`, the base64url of a DeviceResponse.
pub fn verify_presentation(
    vp_token: &str,
    expect: &Expectations<'_>,
) -> Result<Verified, Rejection> {
    let response = decode_response(vp_token)?;
    let response = TextMap::of(&response, "DeviceResponse").map_err(shape)?;
    check_version(&response)?;
    check_status(&response)?;
    let document = single_document(&response)?;
    check_doctype(&document, expect.doctype)?;
    let issuer_auth = issuer_auth(&document)?;
    check_issuer_alg(&issuer_auth)?;
    let issuer_key = issuer_key(&issuer_auth, expect.trust, expect.now)?;
    check_issuer_signature(&issuer_auth, &issuer_key)?;
    let mso = mobile_security_object(&issuer_auth)?;
    let mso = TextMap::of(&mso, "MobileSecurityObject").map_err(shape)?;
    check_mso_version(&mso)?;
    check_mso_doctype(&mso, &document)?;
    check_digest_algorithm(&mso)?;
    check_validity(&mso, expect.now)?;
    let status = status_reference(&mso)?;
    let claims = check_disclosed_items(&document, &mso)?;
    let device_key = device_key(&mso)?;
    check_device_signature(&document, &device_key, expect.transcript)?;
    Ok(Verified {
        claims,
        status,
        issuer_key,
    })
}

/// The MSO's `status` (draft-ietf-oauth-status-list §6.3), signed with it.
pub fn status_reference(mso: &TextMap<'_>) -> Result<Option<StatusReference>, Rejection> {
    match mso.get("status") {
        None => Ok(None),
        Some(status) => {
            reference_from_cbor(status).map_err(|e| invalid(format!("MSO status: {e}")))
        }
    }
}

fn shape(e: cbor::CborError) -> Rejection {
    invalid(format!("mdoc: {e}"))
}

// ---------------------------------------------------------------------------
// The DeviceResponse

/// The CBOR item behind the base64url text.
pub fn decode_response(vp_token: &str) -> Result<Value, Rejection> {
    if vp_token.len() > MAX_PRESENTATION_LEN {
        return Err(invalid("mdoc presentation too large"));
    }
    let bytes = b64url_decode(vp_token).map_err(|_| invalid("mdoc: not base64url"))?;
    cbor::decode(&bytes).map_err(shape)
}

/// `version` is "1.0" (or a later 1.x).
pub fn check_version(response: &TextMap<'_>) -> Result<(), Rejection> {
    match response.get("version") {
        Some(Value::Text(v)) if v == "1.0" || v.starts_with("1.") => Ok(()),
        _ => Err(invalid("DeviceResponse version is not 1.x")),
    }
}

/// `status` 0 is OK; any other is the wallet reporting an error.
pub fn check_status(response: &TextMap<'_>) -> Result<(), Rejection> {
    match response.get("status").and_then(cbor::uint) {
        Some(0) => Ok(()),
        Some(_) => Err(reject(
            FailureReason::WalletError,
            "DeviceResponse status is not OK",
        )),
        None => Err(invalid("DeviceResponse has no status")),
    }
}

/// A document of the response, read.
pub struct Document<'a> {
    pub doctype: &'a str,
    pub issuer_signed: TextMap<'a>,
    pub device_signed: TextMap<'a>,
}

/// The one document (the query asks for one credential). None at all means
/// the wallet did not share it.
pub fn single_document<'a>(response: &TextMap<'a>) -> Result<Document<'a>, Rejection> {
    let documents = match response.get("documents") {
        None => &[][..],
        Some(d) => cbor::array(d, "documents").map_err(shape)?,
    };
    let document = match documents {
        [] => {
            return Err(reject(
                FailureReason::MissingCredential,
                "DeviceResponse has no document",
            ));
        }
        [one] => one,
        _ => return Err(invalid("DeviceResponse has more than one document")),
    };
    let document = TextMap::of(document, "Document").map_err(shape)?;
    Ok(Document {
        doctype: cbor::text(document.require("docType").map_err(shape)?, "docType")
            .map_err(shape)?,
        issuer_signed: TextMap::of(
            document.require("issuerSigned").map_err(shape)?,
            "issuerSigned",
        )
        .map_err(shape)?,
        device_signed: TextMap::of(
            document.require("deviceSigned").map_err(shape)?,
            "deviceSigned",
        )
        .map_err(shape)?,
    })
}

/// The document is of the type the query asked for.
pub fn check_doctype(document: &Document<'_>, expected: &str) -> Result<(), Rejection> {
    if document.doctype != expected {
        return Err(invalid("the document is not of the requested docType"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// issuerAuth

pub fn issuer_auth(document: &Document<'_>) -> Result<coset::CoseSign1, Rejection> {
    let value = document
        .issuer_signed
        .require("issuerAuth")
        .map_err(shape)?;
    cose::sign1_from(value).map_err(|e| invalid(format!("issuerAuth: {e}")))
}

/// ES256, named in the protected header; anything else is a signature the
/// verifier will not check.
pub fn check_issuer_alg(issuer_auth: &coset::CoseSign1) -> Result<(), Rejection> {
    cose::check_es256(issuer_auth)
        .map_err(|_| reject(FailureReason::InvalidSignature, "issuerAuth is not ES256"))
}

/// The document signer's key, after its `x5chain` is validated against
/// `trust` at `now` under the X.509 path rules.
pub fn issuer_key(
    issuer_auth: &coset::CoseSign1,
    trust: &TrustAnchors,
    now: i64,
) -> Result<VerifyingKey, Rejection> {
    let chain = cose::x5chain(issuer_auth).map_err(|e| match e {
        cose::CoseError::NoChain => {
            reject(FailureReason::UntrustedIssuer, "issuerAuth has no x5chain")
        }
        other => invalid(format!("issuerAuth: {other}")),
    })?;
    verify_chain(&chain, trust, now).map_err(|e| match e {
        ChainError::UnsupportedKey => reject(FailureReason::InvalidSignature, e.to_string()),
        other => reject(FailureReason::UntrustedIssuer, other.to_string()),
    })
}

pub fn check_issuer_signature(
    issuer_auth: &coset::CoseSign1,
    key: &VerifyingKey,
) -> Result<(), Rejection> {
    if issuer_auth.payload.is_none() {
        return Err(invalid("issuerAuth carries no MSO"));
    }
    cose::verify(issuer_auth, key).map_err(|_| {
        reject(
            FailureReason::InvalidSignature,
            "issuerAuth signature does not verify with the certificate's key",
        )
    })
}

/// The MSO: the signed payload is `#6.24(bstr .cbor MobileSecurityObject)`.
pub fn mobile_security_object(issuer_auth: &coset::CoseSign1) -> Result<Value, Rejection> {
    let payload = issuer_auth
        .payload
        .as_deref()
        .ok_or_else(|| invalid("issuerAuth carries no MSO"))?;
    let wrapped = cbor::decode(payload).map_err(shape)?;
    let (_, mso) = cbor::embedded(&wrapped, "MobileSecurityObjectBytes").map_err(shape)?;
    Ok(mso)
}

pub fn check_mso_version(mso: &TextMap<'_>) -> Result<(), Rejection> {
    match mso.get("version") {
        Some(Value::Text(v)) if v == "1.0" || v.starts_with("1.") => Ok(()),
        _ => Err(invalid("MSO version is not 1.x")),
    }
}

/// The MSO was signed for this document's type.
pub fn check_mso_doctype(mso: &TextMap<'_>, document: &Document<'_>) -> Result<(), Rejection> {
    match mso.get("docType") {
        Some(Value::Text(t)) if t == document.doctype => Ok(()),
        _ => Err(invalid("the MSO's docType is not the document's")),
    }
}

pub fn check_digest_algorithm(mso: &TextMap<'_>) -> Result<(), Rejection> {
    match mso.get("digestAlgorithm") {
        Some(Value::Text(a)) if a == DIGEST_ALGORITHM => Ok(()),
        _ => Err(invalid("the MSO's digestAlgorithm is not SHA-256")),
    }
}

/// `validityInfo`: signed and valid from no later than now, valid until no
/// earlier than now, with the leeway.
pub fn check_validity(mso: &TextMap<'_>, now: i64) -> Result<(), Rejection> {
    let info =
        TextMap::of(mso.require("validityInfo").map_err(shape)?, "validityInfo").map_err(shape)?;
    let date =
        |name: &'static str| cbor::tdate(info.require(name).map_err(shape)?, name).map_err(shape);
    let signed = date("signed")?;
    let valid_from = date("validFrom")?;
    let valid_until = date("validUntil")?;
    if valid_until < valid_from {
        return Err(invalid("validUntil is before validFrom"));
    }
    if signed > now + LEEWAY_SECS || valid_from > now + LEEWAY_SECS {
        return Err(reject(
            FailureReason::ExpiredCredential,
            "the mdoc is not yet valid",
        ));
    }
    if valid_until < now - LEEWAY_SECS {
        return Err(reject(
            FailureReason::ExpiredCredential,
            "the mdoc has expired",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The disclosed items

/// Every disclosed `IssuerSignedItem` matches the digest the MSO holds for
/// its namespace and digest ID; no digest ID or element is disclosed twice.
/// Gives `{namespace: {element: value}}`.
pub fn check_disclosed_items(
    document: &Document<'_>,
    mso: &TextMap<'_>,
) -> Result<serde_json::Value, Rejection> {
    let digests =
        TextMap::of(mso.require("valueDigests").map_err(shape)?, "valueDigests").map_err(shape)?;
    let mut claims = serde_json::Map::new();
    let Some(namespaces) = document.issuer_signed.get("nameSpaces") else {
        return Ok(serde_json::Value::Object(claims));
    };
    let mut count = 0;
    for (ns, items) in TextMap::of(namespaces, "nameSpaces")
        .map_err(shape)?
        .entries()
    {
        let items = cbor::array(items, "IssuerSignedItems").map_err(shape)?;
        count += items.len();
        if count > MAX_ITEMS {
            return Err(invalid("too many disclosed elements"));
        }
        let ns_digests = match digests.get(ns) {
            Some(d) => cbor::uint_map(d, "DigestIDs").map_err(shape)?,
            None => return Err(invalid("a namespace has no digests in the MSO")),
        };
        let mut ids = HashSet::new();
        let mut elements = serde_json::Map::new();
        for item in items {
            let (id, element, value) = read_item(item)?;
            let expected = ns_digests
                .iter()
                .find(|(digest_id, _)| *digest_id == id)
                .map(|(_, d)| *d)
                .ok_or_else(|| invalid("a disclosed element has no digest in the MSO"))?;
            let digest = super::issue::item_digest(item);
            if cbor::bytes(expected, "Digest").map_err(shape)? != digest.as_slice() {
                return Err(invalid("a disclosed element does not match its digest"));
            }
            if !ids.insert(id) {
                return Err(invalid("a digest ID is disclosed twice"));
            }
            if elements.contains_key(&element) {
                return Err(invalid("an element is disclosed twice"));
            }
            let value = cbor::to_json(&value)
                .ok_or_else(|| invalid("an element value has no JSON form"))?;
            elements.insert(element, value);
        }
        claims.insert(ns.to_owned(), serde_json::Value::Object(elements));
    }
    Ok(serde_json::Value::Object(claims))
}

/// `#6.24(bstr .cbor {digestID, random, elementIdentifier, elementValue})`.
fn read_item(item: &Value) -> Result<(u64, String, Value), Rejection> {
    let (_, decoded) = cbor::embedded(item, "IssuerSignedItemBytes").map_err(shape)?;
    let map = TextMap::of(&decoded, "IssuerSignedItem").map_err(shape)?;
    let id = cbor::uint(map.require("digestID").map_err(shape)?)
        .ok_or_else(|| invalid("digestID is not an unsigned integer"))?;
    cbor::bytes(map.require("random").map_err(shape)?, "random").map_err(shape)?;
    let element = cbor::text(
        map.require("elementIdentifier").map_err(shape)?,
        "elementIdentifier",
    )
    .map_err(shape)?
    .to_owned();
    let value = map.require("elementValue").map_err(shape)?.clone();
    Ok((id, element, value))
}

// ---------------------------------------------------------------------------
// Device authentication

/// The device key the issuer bound the mdoc to.
pub fn device_key(mso: &TextMap<'_>) -> Result<VerifyingKey, Rejection> {
    let info = mso
        .get("deviceKeyInfo")
        .and_then(|v| TextMap::of(v, "deviceKeyInfo").ok())
        .and_then(|info| info.get("deviceKey"))
        .ok_or_else(|| reject(FailureReason::InvalidKeyBinding, "the MSO has no deviceKey"))?;
    cose::verifying_key(info)
        .map_err(|e| reject(FailureReason::InvalidKeyBinding, format!("deviceKey: {e}")))
}

/// `deviceSignature`: ES256 by the device key over the DeviceAuthentication
/// of this request's transcript and this document. A `deviceMac` (which
/// needs a reader key agreement that OpenID4VP has not) is refused.
pub fn check_device_signature(
    document: &Document<'_>,
    device_key: &VerifyingKey,
    transcript: &Value,
) -> Result<(), Rejection> {
    let kb = |detail: &str| reject(FailureReason::InvalidKeyBinding, detail.to_owned());
    let namespaces = document
        .device_signed
        .get("nameSpaces")
        .ok_or_else(|| kb("deviceSigned has no nameSpaces"))?;
    cbor::embedded(namespaces, "DeviceNameSpacesBytes")
        .map_err(|_| kb("deviceSigned nameSpaces is not embedded CBOR"))?;
    let auth = document
        .device_signed
        .get("deviceAuth")
        .and_then(|a| TextMap::of(a, "deviceAuth").ok())
        .ok_or_else(|| kb("deviceSigned has no deviceAuth"))?;
    if auth.get("deviceMac").is_some() {
        return Err(kb("deviceMac is not accepted"));
    }
    let signature = auth
        .get("deviceSignature")
        .ok_or_else(|| kb("deviceAuth has no deviceSignature"))?;
    let signature =
        cose::sign1_from(signature).map_err(|_| kb("deviceSignature is not COSE_Sign1"))?;
    cose::check_es256(&signature).map_err(|_| kb("deviceSignature is not ES256"))?;
    let payload = present::device_authentication_bytes(transcript, document.doctype, namespaces);
    cose::verify_detached(&signature, &payload, device_key)
        .map_err(|_| kb("deviceSignature does not verify over this request's transcript"))
}
