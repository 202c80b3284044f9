//! The COSE pieces mdoc uses (RFC 9052, via coset): COSE_Sign1 with ES256,
//! the `x5chain` header (RFC 9360, label 33) and EC2 P-256 COSE_Keys.

use ciborium::Value;
use coset::iana::{self, EnumI64};
use coset::{
    AsCborValue, CoseKey, CoseKeyBuilder, CoseSign1, CoseSign1Builder, Header, HeaderBuilder,
    KeyType, Label, RegisteredLabelWithPrivate,
};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};

/// The `x5chain` header parameter (RFC 9360).
pub const X5CHAIN: i64 = 33;
/// COSE_Sign1's tag, which an `issuerAuth` may carry.
const TAG_SIGN1: u64 = 18;

/// Why a COSE structure was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoseError {
    #[error("not a COSE_Sign1")]
    NotSign1,
    #[error("the algorithm is not ES256")]
    Algorithm,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("no x5chain header")]
    NoChain,
    #[error("the x5chain header is not a certificate or an array of them")]
    BadChain,
    #[error("not an EC2 P-256 public COSE_Key")]
    BadKey,
}

/// A COSE_Sign1, tagged (18) or not.
pub fn sign1_from(value: &Value) -> Result<CoseSign1, CoseError> {
    let value = match value {
        Value::Tag(TAG_SIGN1, inner) => inner.as_ref().clone(),
        other => other.clone(),
    };
    CoseSign1::from_cbor_value(value).map_err(|_| CoseError::NotSign1)
}

/// ES256 is the one algorithm accepted, named in the protected header, where
/// the signature covers it.
pub fn check_es256(sign1: &CoseSign1) -> Result<(), CoseError> {
    let alg = &sign1.protected.header.alg;
    if *alg != Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES256)) {
        return Err(CoseError::Algorithm);
    }
    Ok(())
}

/// Verifies the signature over the attached payload.
pub fn verify(sign1: &CoseSign1, key: &VerifyingKey) -> Result<(), CoseError> {
    sign1.verify_signature(b"", |sig, data| verify_es256(key, sig, data))
}

/// Verifies the signature over `payload`, which travels apart from it.
pub fn verify_detached(
    sign1: &CoseSign1,
    payload: &[u8],
    key: &VerifyingKey,
) -> Result<(), CoseError> {
    if sign1.payload.is_some() {
        return Err(CoseError::NotSign1);
    }
    sign1.verify_detached_signature(payload, b"", |sig, data| verify_es256(key, sig, data))
}

/// COSE ES256 signatures are `r || s`, 64 bytes (RFC 9053 §2.1).
fn verify_es256(key: &VerifyingKey, sig: &[u8], data: &[u8]) -> Result<(), CoseError> {
    let sig = Signature::from_slice(sig).map_err(|_| CoseError::BadSignature)?;
    key.verify(data, &sig).map_err(|_| CoseError::BadSignature)
}

/// The certificates of `x5chain` (leaf first), from the unprotected header
/// where ISO 18013-5 puts it, or the protected one.
pub fn x5chain(sign1: &CoseSign1) -> Result<Vec<Vec<u8>>, CoseError> {
    let find = |h: &Header| {
        h.rest
            .iter()
            .find(|(label, _)| *label == Label::Int(X5CHAIN))
            .map(|(_, v)| v.clone())
    };
    let value = find(&sign1.unprotected)
        .or_else(|| find(&sign1.protected.header))
        .ok_or(CoseError::NoChain)?;
    match value {
        Value::Bytes(der) => Ok(vec![der]),
        Value::Array(items) if !items.is_empty() => items
            .into_iter()
            .map(|item| match item {
                Value::Bytes(der) => Ok(der),
                _ => Err(CoseError::BadChain),
            })
            .collect(),
        _ => Err(CoseError::BadChain),
    }
}

/// An EC2 P-256 public COSE_Key (uncompressed coordinates).
pub fn verifying_key(value: &Value) -> Result<VerifyingKey, CoseError> {
    let key = CoseKey::from_cbor_value(value.clone()).map_err(|_| CoseError::BadKey)?;
    if key.kty != KeyType::Assigned(iana::KeyType::EC2) {
        return Err(CoseError::BadKey);
    }
    let param = |p: iana::Ec2KeyParameter| {
        key.params
            .iter()
            .find(|(label, _)| *label == Label::Int(p.to_i64()))
            .map(|(_, v)| v)
    };
    let crv = param(iana::Ec2KeyParameter::Crv).and_then(|v| v.as_integer());
    if crv != Some(iana::EllipticCurve::P_256.to_i64().into()) {
        return Err(CoseError::BadKey);
    }
    let (Some(Value::Bytes(x)), Some(Value::Bytes(y))) = (
        param(iana::Ec2KeyParameter::X),
        param(iana::Ec2KeyParameter::Y),
    ) else {
        return Err(CoseError::BadKey);
    };
    if x.len() != 32 || y.len() != 32 {
        return Err(CoseError::BadKey);
    }
    let point = [&[0x04u8][..], x, y].concat();
    VerifyingKey::from_sec1_bytes(&point).map_err(|_| CoseError::BadKey)
}

/// The COSE_Key of a P-256 public key.
pub fn cose_key(key: &VerifyingKey) -> Value {
    let point = key.to_encoded_point(false);
    let coordinate = |c: Option<&p256::FieldBytes>| c.map(|c| c.to_vec()).unwrap_or_default();
    CoseKeyBuilder::new_ec2_pub_key(
        iana::EllipticCurve::P_256,
        coordinate(point.x()),
        coordinate(point.y()),
    )
    .build()
    .to_cbor_value()
    .unwrap_or(Value::Null)
}

/// A COSE_Sign1 over `payload` with ES256 and, when given, `x5chain`.
pub fn sign(payload: Vec<u8>, key: &SigningKey, chain: &[Vec<u8>]) -> Value {
    let builder = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES256)
                .build(),
        )
        .unprotected(chain_header(chain))
        .payload(payload)
        .create_signature(b"", |data| sign_es256(key, data));
    builder.build().to_cbor_value().unwrap_or(Value::Null)
}

/// A COSE_Sign1 with ES256 over `payload`, which is left out of it.
pub fn sign_detached(payload: &[u8], key: &SigningKey) -> Value {
    CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES256)
                .build(),
        )
        .create_detached_signature(payload, b"", |data| sign_es256(key, data))
        .build()
        .to_cbor_value()
        .unwrap_or(Value::Null)
}

fn chain_header(chain: &[Vec<u8>]) -> Header {
    match chain {
        [] => Header::default(),
        [one] => HeaderBuilder::new()
            .value(X5CHAIN, Value::Bytes(one.clone()))
            .build(),
        many => HeaderBuilder::new()
            .value(
                X5CHAIN,
                Value::Array(many.iter().cloned().map(Value::Bytes).collect()),
            )
            .build(),
    }
}

fn sign_es256(key: &SigningKey, data: &[u8]) -> Vec<u8> {
    let signature: Signature = key.sign(data);
    signature.to_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn a_signature_verifies_with_its_key_only() {
        let key = SigningKey::random(&mut OsRng);
        let signed = sign(b"payload".to_vec(), &key, &[vec![1, 2, 3]]);
        let sign1 = sign1_from(&signed).unwrap();
        check_es256(&sign1).unwrap();
        assert_eq!(verify(&sign1, key.verifying_key()), Ok(()));
        let other = SigningKey::random(&mut OsRng);
        assert_eq!(
            verify(&sign1, other.verifying_key()),
            Err(CoseError::BadSignature)
        );
        assert_eq!(x5chain(&sign1).unwrap(), vec![vec![1, 2, 3]]);
    }

    #[test]
    fn a_tagged_sign1_is_read_too() {
        let key = SigningKey::random(&mut OsRng);
        let signed = sign(b"p".to_vec(), &key, &[]);
        let tagged = Value::Tag(18, Box::new(signed));
        assert!(sign1_from(&tagged).is_ok());
        assert_eq!(
            sign1_from(&Value::Text("x".into())).err(),
            Some(CoseError::NotSign1)
        );
    }

    #[test]
    fn a_detached_signature_covers_the_payload_given() {
        let key = SigningKey::random(&mut OsRng);
        let sign1 = sign1_from(&sign_detached(b"transcript", &key)).unwrap();
        assert_eq!(
            verify_detached(&sign1, b"transcript", key.verifying_key()),
            Ok(())
        );
        assert_eq!(
            verify_detached(&sign1, b"another", key.verifying_key()),
            Err(CoseError::BadSignature)
        );
        // An attached payload is not a detached signature.
        let attached = sign1_from(&sign(b"transcript".to_vec(), &key, &[])).unwrap();
        assert!(verify_detached(&attached, b"transcript", key.verifying_key()).is_err());
    }

    #[test]
    fn algorithms_other_than_es256_are_refused() {
        let key = SigningKey::random(&mut OsRng);
        for alg in [iana::Algorithm::ES384, iana::Algorithm::EdDSA] {
            let sign1 = CoseSign1Builder::new()
                .protected(HeaderBuilder::new().algorithm(alg).build())
                .payload(b"p".to_vec())
                .create_signature(b"", |d| sign_es256(&key, d))
                .build();
            assert_eq!(check_es256(&sign1), Err(CoseError::Algorithm));
        }
        // An algorithm only in the unprotected header is not covered by the signature.
        let sign1 = CoseSign1Builder::new()
            .unprotected(
                HeaderBuilder::new()
                    .algorithm(iana::Algorithm::ES256)
                    .build(),
            )
            .payload(b"p".to_vec())
            .create_signature(b"", |d| sign_es256(&key, d))
            .build();
        assert_eq!(check_es256(&sign1), Err(CoseError::Algorithm));
    }

    #[test]
    fn a_chain_of_several_certificates_is_read_in_order() {
        let key = SigningKey::random(&mut OsRng);
        let signed = sign(b"p".to_vec(), &key, &[vec![1], vec![2]]);
        assert_eq!(
            x5chain(&sign1_from(&signed).unwrap()).unwrap(),
            vec![vec![1], vec![2]]
        );
        let unsigned = sign(b"p".to_vec(), &key, &[]);
        assert_eq!(
            x5chain(&sign1_from(&unsigned).unwrap()),
            Err(CoseError::NoChain)
        );
    }

    #[test]
    fn cose_keys_round_trip_and_other_curves_are_refused() {
        let key = SigningKey::random(&mut OsRng);
        let value = cose_key(key.verifying_key());
        assert_eq!(verifying_key(&value).unwrap(), *key.verifying_key());
        let p384 =
            CoseKeyBuilder::new_ec2_pub_key(iana::EllipticCurve::P_384, vec![1; 48], vec![2; 48])
                .build()
                .to_cbor_value()
                .unwrap();
        assert_eq!(verifying_key(&p384), Err(CoseError::BadKey));
        let compressed =
            CoseKeyBuilder::new_ec2_pub_key_y_sign(iana::EllipticCurve::P_256, vec![1; 32], true)
                .build()
                .to_cbor_value()
                .unwrap();
        assert_eq!(verifying_key(&compressed), Err(CoseError::BadKey));
        assert_eq!(verifying_key(&Value::Null), Err(CoseError::BadKey));
    }
}
