//! The holder's side: a `DeviceResponse` presenting some elements of an
//! mdoc, signed with the device key over the `DeviceAuthentication` for the
//! request's SessionTranscript (ISO 18013-5 §9.1.3). Used by the wallet
//! command and tests.

use ciborium::Value;
use p256::ecdsa::SigningKey;

use super::cbor::{self, CborError, TextMap};
use super::cose;

/// `#6.24(bstr .cbor ["DeviceAuthentication", SessionTranscript, DocType,
/// DeviceNameSpacesBytes])`, encoded: what the device signature covers.
pub fn device_authentication_bytes(
    transcript: &Value,
    doctype: &str,
    device_namespaces: &Value,
) -> Vec<u8> {
    cbor::encode(&cbor::embed(&Value::Array(vec![
        Value::Text("DeviceAuthentication".into()),
        transcript.clone(),
        Value::Text(doctype.to_owned()),
        device_namespaces.clone(),
    ])))
}

/// The device-signed part with no device-signed elements, and its signature.
pub fn device_signed(transcript: &Value, doctype: &str, device_key: &SigningKey) -> Value {
    let namespaces = cbor::embed(&Value::Map(vec![]));
    let payload = device_authentication_bytes(transcript, doctype, &namespaces);
    Value::Map(vec![
        (Value::Text("nameSpaces".into()), namespaces),
        (
            Value::Text("deviceAuth".into()),
            Value::Map(vec![(
                Value::Text("deviceSignature".into()),
                cose::sign_detached(&payload, device_key),
            )]),
        ),
    ])
}

/// `issuer_signed` with only the items `keep(namespace, element)` keeps.
pub fn select(issuer_signed: &[u8], keep: impl Fn(&str, &str) -> bool) -> Result<Value, CborError> {
    let value = cbor::decode(issuer_signed)?;
    let map = TextMap::of(&value, "IssuerSigned")?;
    let issuer_auth = map.require("issuerAuth")?.clone();
    let mut namespaces = Vec::new();
    if let Some(ns_value) = map.get("nameSpaces") {
        for (ns, items) in TextMap::of(ns_value, "nameSpaces")?.entries() {
            let mut kept = Vec::new();
            for item in cbor::array(items, "IssuerSignedItems")? {
                let (_, decoded) = cbor::embedded(item, "IssuerSignedItemBytes")?;
                let element = cbor::text(
                    TextMap::of(&decoded, "IssuerSignedItem")?.require("elementIdentifier")?,
                    "elementIdentifier",
                )?;
                if keep(ns, element) {
                    kept.push(item.clone());
                }
            }
            if !kept.is_empty() {
                namespaces.push((Value::Text(ns.to_owned()), Value::Array(kept)));
            }
        }
    }
    Ok(Value::Map(vec![
        (Value::Text("nameSpaces".into()), Value::Map(namespaces)),
        (Value::Text("issuerAuth".into()), issuer_auth),
    ]))
}

/// One document for a DeviceResponse.
pub fn document(doctype: &str, issuer_signed: Value, device_signed: Value) -> Value {
    Value::Map(vec![
        (
            Value::Text("docType".into()),
            Value::Text(doctype.to_owned()),
        ),
        (Value::Text("issuerSigned".into()), issuer_signed),
        (Value::Text("deviceSigned".into()), device_signed),
    ])
}

/// `{"version": "1.0", "documents": [...], "status": 0}`, encoded.
pub fn device_response(documents: Vec<Value>) -> Vec<u8> {
    cbor::encode(&Value::Map(vec![
        (Value::Text("version".into()), Value::Text("1.0".into())),
        (Value::Text("documents".into()), Value::Array(documents)),
        (Value::Text("status".into()), Value::Integer(0.into())),
    ]))
}

/// The whole presentation: the kept elements of `issuer_signed`, signed by
/// `device_key` for `transcript`, as the encoded DeviceResponse.
pub fn present(
    issuer_signed: &[u8],
    doctype: &str,
    keep: impl Fn(&str, &str) -> bool,
    device_key: &SigningKey,
    transcript: &Value,
) -> Result<Vec<u8>, CborError> {
    let issuer_signed = select(issuer_signed, keep)?;
    let device_signed = device_signed(transcript, doctype, device_key);
    Ok(device_response(vec![document(
        doctype,
        issuer_signed,
        device_signed,
    )]))
}
