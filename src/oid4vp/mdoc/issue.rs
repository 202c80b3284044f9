//! The issuer's side of an mdoc (ISO 18013-5 §9.1.2): each element as an
//! `IssuerSignedItem` with its own salt and digest ID, the Mobile Security
//! Object with every digest, and the `issuerAuth` COSE_Sign1 over it. Used
//! by the test issuer, the wallet command and tests.

use ciborium::Value;
use p256::ecdsa::{SigningKey, VerifyingKey};
use rand::RngCore;
use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use sha2::{Digest, Sha256};

use super::{cbor, cose};
use crate::oid4vp::status_list::StatusReference;

/// Validity of an mdoc, Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub signed: i64,
    pub valid_from: i64,
    pub valid_until: i64,
}

/// An mdoc issuer: a document signer key and its certificate chain (leaf
/// first), such as a DS certificate under an IACA root.
pub struct MdocIssuer {
    key: SigningKey,
    chain: Vec<Vec<u8>>,
}

impl MdocIssuer {
    pub fn new(key: SigningKey, chain: Vec<Vec<u8>>) -> MdocIssuer {
        MdocIssuer { key, chain }
    }

    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// `IssuerSigned` for `doctype` holding `elements` (namespace, element
    /// identifier, value), bound to `device_key`: the CBOR a wallet keeps.
    pub fn issue(
        &self,
        doctype: &str,
        elements: &[(String, String, Value)],
        device_key: &VerifyingKey,
        validity: Validity,
    ) -> Vec<u8> {
        let unsigned = prepare(doctype, elements, device_key, validity);
        self.sign(unsigned)
    }

    /// [`MdocIssuer::issue`] with the MSO's `status` pointing at the
    /// document's entry in a Token Status List
    /// (draft-ietf-oauth-status-list §6.3).
    pub fn issue_with_status(
        &self,
        doctype: &str,
        elements: &[(String, String, Value)],
        device_key: &VerifyingKey,
        validity: Validity,
        status: &StatusReference,
    ) -> Vec<u8> {
        let mut unsigned = prepare(doctype, elements, device_key, validity);
        if let Value::Map(mso) = &mut unsigned.mso {
            mso.push((Value::Text("status".into()), status.to_cbor()));
        }
        self.sign(unsigned)
    }

    /// Signs a prepared mdoc, as it is (tests change it first).
    pub fn sign(&self, unsigned: UnsignedMdoc) -> Vec<u8> {
        let issuer_auth = cose::sign(
            cbor::encode(&cbor::embed(&unsigned.mso)),
            &self.key,
            &self.chain,
        );
        cbor::encode(&issuer_signed(unsigned.namespaces, issuer_auth))
    }
}

/// `{"nameSpaces": …, "issuerAuth": …}`.
pub fn issuer_signed(namespaces: Vec<(String, Vec<Value>)>, issuer_auth: Value) -> Value {
    let namespaces = namespaces
        .into_iter()
        .map(|(ns, items)| (Value::Text(ns), Value::Array(items)))
        .collect();
    Value::Map(vec![
        (Value::Text("nameSpaces".into()), Value::Map(namespaces)),
        (Value::Text("issuerAuth".into()), issuer_auth),
    ])
}

/// An mdoc before its MSO is signed: the items (each `#6.24(bstr)`) by
/// namespace, and the MSO.
#[derive(Debug, Clone)]
pub struct UnsignedMdoc {
    pub namespaces: Vec<(String, Vec<Value>)>,
    pub mso: Value,
}

/// The digest of an `IssuerSignedItemBytes` as the MSO lists it: SHA-256
/// over the whole tagged byte string.
pub fn item_digest(item_bytes: &Value) -> Vec<u8> {
    Sha256::digest(cbor::encode(item_bytes)).to_vec()
}

/// `#6.24(bstr .cbor IssuerSignedItem)`.
pub fn item(digest_id: u64, random: Vec<u8>, element: &str, value: Value) -> Value {
    cbor::embed(&Value::Map(vec![
        (
            Value::Text("digestID".into()),
            Value::Integer(digest_id.into()),
        ),
        (Value::Text("random".into()), Value::Bytes(random)),
        (
            Value::Text("elementIdentifier".into()),
            Value::Text(element.to_owned()),
        ),
        (Value::Text("elementValue".into()), value),
    ]))
}

/// Items with fresh salts and digest IDs in random order (so an ID tells
/// nothing about the element), and the MSO over them.
pub fn prepare(
    doctype: &str,
    elements: &[(String, String, Value)],
    device_key: &VerifyingKey,
    validity: Validity,
) -> UnsignedMdoc {
    let mut ids: Vec<u64> = (0..elements.len() as u64).collect();
    ids.shuffle(&mut OsRng);
    let mut namespaces: Vec<(String, Vec<Value>)> = Vec::new();
    let mut digests: Vec<(String, Vec<(Value, Value)>)> = Vec::new();
    for ((ns, element, value), id) in elements.iter().zip(ids) {
        let mut random = vec![0u8; 16];
        OsRng.fill_bytes(&mut random);
        let item = item(id, random, element, value.clone());
        let digest = item_digest(&item);
        match namespaces.iter_mut().position(|(n, _)| n == ns) {
            Some(i) => {
                namespaces[i].1.push(item);
                digests[i]
                    .1
                    .push((Value::Integer(id.into()), Value::Bytes(digest)));
            }
            None => {
                namespaces.push((ns.clone(), vec![item]));
                digests.push((
                    ns.clone(),
                    vec![(Value::Integer(id.into()), Value::Bytes(digest))],
                ));
            }
        }
    }
    let value_digests = Value::Map(
        digests
            .into_iter()
            .map(|(ns, d)| (Value::Text(ns), Value::Map(d)))
            .collect(),
    );
    let mso = Value::Map(vec![
        (Value::Text("version".into()), Value::Text("1.0".into())),
        (
            Value::Text("digestAlgorithm".into()),
            Value::Text("SHA-256".into()),
        ),
        (Value::Text("valueDigests".into()), value_digests),
        (
            Value::Text("deviceKeyInfo".into()),
            Value::Map(vec![(
                Value::Text("deviceKey".into()),
                cose::cose_key(device_key),
            )]),
        ),
        (
            Value::Text("docType".into()),
            Value::Text(doctype.to_owned()),
        ),
        (
            Value::Text("validityInfo".into()),
            Value::Map(vec![
                (
                    Value::Text("signed".into()),
                    cbor::tdate_value(validity.signed),
                ),
                (
                    Value::Text("validFrom".into()),
                    cbor::tdate_value(validity.valid_from),
                ),
                (
                    Value::Text("validUntil".into()),
                    cbor::tdate_value(validity.valid_until),
                ),
            ]),
        ),
    ]);
    UnsignedMdoc { namespaces, mso }
}

/// A field of a map value, for tests that change an MSO before signing it.
pub fn map_entry_mut<'a>(map: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    match map {
        Value::Map(entries) => entries.iter_mut().find_map(|(k, v)| match k {
            Value::Text(k) if k == key => Some(v),
            _ => None,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oid4vp::status_list::reference_from_cbor;

    #[test]
    fn an_mdoc_issued_with_a_status_carries_it_in_its_signed_mso() {
        let key = SigningKey::random(&mut OsRng);
        let issuer = MdocIssuer::new(key.clone(), Vec::new());
        let elements = [(
            "eu.europa.ec.av.1".to_owned(),
            "age_over_18".to_owned(),
            Value::Bool(true),
        )];
        let reference = StatusReference {
            idx: 3,
            uri: "https://proofme.example/oid4vp/test-issuer/status-lists/0".into(),
        };
        let validity = Validity {
            signed: 1_750_000_000,
            valid_from: 1_750_000_000,
            valid_until: 1_750_086_400,
        };

        let issued = issuer.issue_with_status(
            "eu.europa.ec.av.1",
            &elements,
            SigningKey::random(&mut OsRng).verifying_key(),
            validity,
            &reference,
        );

        let issued = cbor::decode(&issued).unwrap();
        let issuer_auth = map_entry_mut(&mut issued.clone(), "issuerAuth")
            .unwrap()
            .clone();
        let sign1 = cose::sign1_from(&issuer_auth).unwrap();
        cose::verify(&sign1, key.verifying_key()).unwrap();
        let payload = cbor::decode(sign1.payload.as_deref().unwrap()).unwrap();
        let (_, mut mso) = cbor::embedded(&payload, "MSO").unwrap();
        let status = map_entry_mut(&mut mso, "status").unwrap();
        assert_eq!(reference_from_cbor(status), Ok(Some(reference)));
    }
}
