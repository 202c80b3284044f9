//! JOSE building blocks, each check written out: base64url, strict JSON
//! objects, EC P-256 JWKs, compact JWS (ES256 only) and compact JWE (`ECDH-ES`
//! with AES-GCM, RFC 7518 §4.6).
//!
//! Nothing here trusts input: every decoder rejects what the specifications
//! do not allow instead of repairing it, and errors never echo the input
//! (a payload may hold personal data).

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce, Tag};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::sec1::{EncodedPoint, FromEncodedPoint, ToEncodedPoint};
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::json::{self, StrictJsonError};

/// The longest compact JWS or JWE accepted. A presentation is capped well
/// below this; the cap only keeps hostile input from costing memory and time.
pub const MAX_COMPACT_LEN: usize = 1024 * 1024;

/// Why a JOSE object was refused. Messages name the rule, never the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    #[error("malformed: {0}")]
    Malformed(&'static str),
    #[error("invalid base64url")]
    Base64,
    #[error("invalid JSON")]
    Json,
    #[error("duplicate member in a JSON object")]
    DuplicateMember,
    #[error("JSON is not an object")]
    NotAnObject,
    #[error("algorithm not allowed")]
    UnsupportedAlgorithm,
    #[error("header parameter {0} is not supported")]
    UnsupportedHeader(&'static str),
    #[error("signature does not verify")]
    BadSignature,
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    #[error("decryption failed")]
    Decryption,
    #[error("input too large")]
    TooLarge,
}

// ---------------------------------------------------------------------------
// base64url

/// base64url without padding (RFC 7515 §2).
pub fn b64url_encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url: no padding, only the URL-safe alphabet, no whitespace,
/// and unused trailing bits must be zero (one encoding per byte string).
pub fn b64url_decode(s: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD.decode(s).map_err(|_| JoseError::Base64)
}

// ---------------------------------------------------------------------------
// Strict JSON

/// Parses JSON with [`json::parse_strict`]: duplicate members refused at
/// every depth (`serde_json` keeps the last one silently; two readers of the
/// same token could then see different claims), trailing data, invalid UTF-8
/// and deep nesting too.
pub fn parse_json(bytes: &[u8]) -> Result<Value, JoseError> {
    json::parse_strict(bytes).map_err(|e| match e {
        StrictJsonError::DuplicateMember(_) => JoseError::DuplicateMember,
        StrictJsonError::TooDeep | StrictJsonError::Invalid(_) => JoseError::Json,
    })
}

/// [`parse_json`], and the document must be an object.
pub fn parse_json_object(bytes: &[u8]) -> Result<Map<String, Value>, JoseError> {
    match parse_json(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(JoseError::NotAnObject),
    }
}

// ---------------------------------------------------------------------------
// JWK

/// A public EC P-256 JSON Web Key (RFC 7517, RFC 7518 §6.2). Members other
/// than these are ignored when reading.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// Byte length of a P-256 field element, so of each JWK coordinate.
const COORDINATE_LEN: usize = 32;

impl Jwk {
    pub fn from_public_key(key: &PublicKey) -> Jwk {
        let point = key.to_encoded_point(false);
        // An uncompressed point of a valid public key always has both coordinates.
        let (x, y) = match (point.x(), point.y()) {
            (Some(x), Some(y)) => (b64url_encode(x), b64url_encode(y)),
            _ => (String::new(), String::new()),
        };
        Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x,
            y,
            kid: None,
            key_use: None,
            alg: None,
        }
    }

    pub fn from_verifying_key(key: &VerifyingKey) -> Jwk {
        Jwk::from_public_key(&PublicKey::from(key))
    }

    /// Reads a JWK from JSON; the key itself is checked by [`Jwk::to_public_key`].
    pub fn from_value(value: &Value) -> Result<Jwk, JoseError> {
        if !value.is_object() {
            return Err(JoseError::InvalidKey("a JWK is a JSON object"));
        }
        Jwk::deserialize(value).map_err(|_| JoseError::InvalidKey("missing or non-string member"))
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The key, after checking `kty`, `crv`, coordinate encoding and length,
    /// and that the point lies on the curve.
    pub fn to_public_key(&self) -> Result<PublicKey, JoseError> {
        if self.kty != "EC" {
            return Err(JoseError::InvalidKey("kty must be EC"));
        }
        if self.crv != "P-256" {
            return Err(JoseError::InvalidKey("crv must be P-256"));
        }
        let x = b64url_decode(&self.x).map_err(|_| JoseError::InvalidKey("x is not base64url"))?;
        let y = b64url_decode(&self.y).map_err(|_| JoseError::InvalidKey("y is not base64url"))?;
        if x.len() != COORDINATE_LEN || y.len() != COORDINATE_LEN {
            return Err(JoseError::InvalidKey("coordinates must be 32 bytes"));
        }
        let point = EncodedPoint::<p256::NistP256>::from_affine_coordinates(
            x.as_slice().into(),
            y.as_slice().into(),
            false,
        );
        Option::from(PublicKey::from_encoded_point(&point))
            .ok_or(JoseError::InvalidKey("not a point on P-256"))
    }

    pub fn to_verifying_key(&self) -> Result<VerifyingKey, JoseError> {
        Ok(VerifyingKey::from(self.to_public_key()?))
    }

    /// The JWK SHA-256 Thumbprint (RFC 7638): the hash of the required
    /// members only, in lexicographic order, without white space.
    pub fn thumbprint(&self) -> [u8; 32] {
        // Written out, not left to a map's order (which a serde_json
        // feature, enabled anywhere in the build, could change).
        let quoted = |s: &str| Value::from(s).to_string();
        let canonical = format!(
            r#"{{"crv":{},"kty":{},"x":{},"y":{}}}"#,
            quoted(&self.crv),
            quoted(&self.kty),
            quoted(&self.x),
            quoted(&self.y)
        );
        Sha256::digest(canonical.as_bytes()).into()
    }
}

// ---------------------------------------------------------------------------
// JWS

/// The JWS algorithms accepted. Anything else (`none`, `HS256`, RSA, …) is
/// refused before any signature work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlg {
    Es256,
}

impl JwsAlg {
    pub const ALLOWED: [JwsAlg; 1] = [JwsAlg::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlg::Es256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<JwsAlg> {
        JwsAlg::ALLOWED.into_iter().find(|a| a.as_str() == s)
    }
}

/// The byte length of an ES256 signature in JOSE form: `r || s`, not DER.
const ES256_SIGNATURE_LEN: usize = 64;

/// A parsed compact JWS whose algorithm is allowed. Its signature is not yet
/// checked: call [`Jws::verify`] before trusting the payload.
#[derive(Debug, Clone)]
pub struct Jws {
    header: Map<String, Value>,
    payload: Map<String, Value>,
    alg: JwsAlg,
    signing_input: String,
    signature: Signature,
}

impl Jws {
    pub fn parse(compact: &str) -> Result<Jws, JoseError> {
        if compact.len() > MAX_COMPACT_LEN {
            return Err(JoseError::TooLarge);
        }
        let parts: Vec<&str> = compact.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
            return Err(JoseError::Malformed("a compact JWS has three parts"));
        };
        let header = parse_json_object(&b64url_decode(header_b64)?)?;
        // The algorithm is checked first, so `none` (with its empty
        // signature) is refused as a disallowed algorithm.
        let alg = header_alg(&header)?;
        if header.contains_key("crit") {
            return Err(JoseError::UnsupportedHeader("crit"));
        }
        let payload = parse_json_object(&b64url_decode(payload_b64)?)?;
        let signature = b64url_decode(signature_b64)?;
        if signature.len() != ES256_SIGNATURE_LEN {
            return Err(JoseError::Malformed("an ES256 signature is 64 bytes r||s"));
        }
        let signature = Signature::from_slice(&signature)
            .map_err(|_| JoseError::Malformed("signature scalars out of range"))?;
        Ok(Jws {
            header,
            payload,
            alg,
            signing_input: format!("{header_b64}.{payload_b64}"),
            signature,
        })
    }

    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The claims. Not authentic until [`Jws::verify`] succeeded.
    pub fn payload(&self) -> &Map<String, Value> {
        &self.payload
    }

    pub fn alg(&self) -> JwsAlg {
        self.alg
    }

    pub fn verify(&self, key: &VerifyingKey) -> Result<(), JoseError> {
        match self.alg {
            JwsAlg::Es256 => key
                .verify(self.signing_input.as_bytes(), &self.signature)
                .map_err(|_| JoseError::BadSignature),
        }
    }
}

fn header_alg(header: &Map<String, Value>) -> Result<JwsAlg, JoseError> {
    header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(JwsAlg::parse)
        .ok_or(JoseError::UnsupportedAlgorithm)
}

/// Signs `claims` as a compact JWS with ES256; `alg` in `header` is set to
/// `ES256` whatever it was.
pub fn sign_es256(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    key: &SigningKey,
) -> String {
    let mut header = header.clone();
    header.insert("alg".into(), Value::from(JwsAlg::Es256.as_str()));
    sign_es256_as_is(&header, claims, key)
}

/// Signs with ES256 without touching the header: for building deliberately
/// wrong tokens in tests (an `alg` that does not match the signature).
pub fn sign_es256_as_is(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    key: &SigningKey,
) -> String {
    let input = format!(
        "{}.{}",
        b64url_encode(Value::Object(header.clone()).to_string()),
        b64url_encode(Value::Object(claims.clone()).to_string())
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64url_encode(signature.to_bytes()))
}

// ---------------------------------------------------------------------------
// JWE

/// The only JWE key management algorithm: direct key agreement.
pub const JWE_ALG: &str = "ECDH-ES";

/// Content encryption algorithms accepted for JWE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncryption {
    A128Gcm,
    A256Gcm,
}

impl ContentEncryption {
    pub const ALLOWED: [ContentEncryption; 2] =
        [ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

    pub fn as_str(self) -> &'static str {
        match self {
            ContentEncryption::A128Gcm => "A128GCM",
            ContentEncryption::A256Gcm => "A256GCM",
        }
    }

    pub fn parse(s: &str) -> Option<ContentEncryption> {
        ContentEncryption::ALLOWED
            .into_iter()
            .find(|e| e.as_str() == s)
    }

    /// The content encryption key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            ContentEncryption::A128Gcm => 16,
            ContentEncryption::A256Gcm => 32,
        }
    }
}

const GCM_IV_LEN: usize = 12;
const GCM_TAG_LEN: usize = 16;

/// The Concat KDF of RFC 7518 §4.6.2 with SHA-256, for direct key agreement:
/// AlgorithmID is the `enc` value, PartyUInfo/PartyVInfo the decoded
/// `apu`/`apv` (empty when absent), each prefixed with its 32-bit big-endian
/// length, and SuppPubInfo the key length in bits as 32-bit big-endian.
pub fn derive_content_key(
    shared_secret: &[u8],
    enc: ContentEncryption,
    apu: &[u8],
    apv: &[u8],
) -> Result<Vec<u8>, JoseError> {
    let mut other_info = Vec::new();
    for field in [enc.as_str().as_bytes(), apu, apv] {
        let len = u32::try_from(field.len()).map_err(|_| JoseError::TooLarge)?;
        other_info.extend_from_slice(&len.to_be_bytes());
        other_info.extend_from_slice(field);
    }
    let key_bits = u32::try_from(enc.key_len() * 8).map_err(|_| JoseError::TooLarge)?;
    other_info.extend_from_slice(&key_bits.to_be_bytes());
    let mut key = vec![0u8; enc.key_len()];
    concat_kdf::derive_key_into::<Sha256>(shared_secret, &other_info, &mut key)
        .map_err(|_| JoseError::Malformed("key derivation failed"))?;
    Ok(key)
}

/// Encrypts to `recipient` as a compact JWE (`ECDH-ES`, `enc`), with a fresh
/// ephemeral key in `epk`: the wallet side of `direct_post.jwt`.
pub fn encrypt(
    plaintext: &[u8],
    recipient: &Jwk,
    enc: ContentEncryption,
    kid: Option<&str>,
) -> Result<String, JoseError> {
    encrypt_with_party_info(plaintext, recipient, enc, kid, None, None)
}

/// [`encrypt`] with `apu` / `apv` (raw bytes; written base64url in the header).
pub fn encrypt_with_party_info(
    plaintext: &[u8],
    recipient: &Jwk,
    enc: ContentEncryption,
    kid: Option<&str>,
    apu: Option<&[u8]>,
    apv: Option<&[u8]>,
) -> Result<String, JoseError> {
    let recipient = recipient.to_public_key()?;
    let ephemeral = SecretKey::random(&mut OsRng);
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(JWE_ALG));
    header.insert("enc".into(), Value::from(enc.as_str()));
    if let Some(kid) = kid {
        header.insert("kid".into(), Value::from(kid));
    }
    header.insert(
        "epk".into(),
        Jwk::from_public_key(&ephemeral.public_key()).to_value(),
    );
    if let Some(apu) = apu {
        header.insert("apu".into(), Value::from(b64url_encode(apu)));
    }
    if let Some(apv) = apv {
        header.insert("apv".into(), Value::from(b64url_encode(apv)));
    }
    let shared = p256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), recipient.as_affine());
    let key = derive_content_key(
        shared.raw_secret_bytes().as_slice(),
        enc,
        apu.unwrap_or_default(),
        apv.unwrap_or_default(),
    )?;
    let mut iv = [0u8; GCM_IV_LEN];
    OsRng.fill_bytes(&mut iv);
    Ok(seal(&header, enc, &key, &iv, plaintext))
}

/// Builds the compact form: protected header, empty encrypted key, IV,
/// ciphertext, tag; the AAD is the ASCII of the encoded header.
fn seal(
    header: &Map<String, Value>,
    enc: ContentEncryption,
    key: &[u8],
    iv: &[u8; GCM_IV_LEN],
    plaintext: &[u8],
) -> String {
    let header_b64 = b64url_encode(Value::Object(header.clone()).to_string());
    let mut buffer = plaintext.to_vec();
    let nonce = Nonce::from_slice(iv);
    let aad = header_b64.as_bytes();
    let tag = match enc {
        ContentEncryption::A128Gcm => Aes128Gcm::new_from_slice(key)
            .ok()
            .and_then(|c| c.encrypt_in_place_detached(nonce, aad, &mut buffer).ok()),
        ContentEncryption::A256Gcm => Aes256Gcm::new_from_slice(key)
            .ok()
            .and_then(|c| c.encrypt_in_place_detached(nonce, aad, &mut buffer).ok()),
    };
    // Key lengths come from `enc` and AES-GCM takes any message this size,
    // so encryption does not fail; an empty tag would fail every decryption.
    let tag = tag.map(|t| t.to_vec()).unwrap_or_default();
    format!(
        "{header_b64}..{}.{}.{}",
        b64url_encode(iv),
        b64url_encode(&buffer),
        b64url_encode(&tag)
    )
}

/// The protected header of a compact JWE, before anything is authenticated:
/// only for choosing the decryption key by `kid`. `decrypt` then
/// authenticates the header as part of the ciphertext.
pub fn jwe_header(compact: &str) -> Result<Map<String, Value>, JoseError> {
    if compact.len() > MAX_COMPACT_LEN {
        return Err(JoseError::TooLarge);
    }
    let header = compact
        .split('.')
        .next()
        .ok_or(JoseError::Malformed("a compact JWE has five parts"))?;
    parse_json_object(&b64url_decode(header)?)
}

/// Decrypts a compact JWE made with `ECDH-ES` and `A128GCM`/`A256GCM` for
/// `key`. Returns the protected header (the caller checks `kid`) and the
/// plaintext.
pub fn decrypt(compact: &str, key: &SecretKey) -> Result<(Map<String, Value>, Vec<u8>), JoseError> {
    if compact.len() > MAX_COMPACT_LEN {
        return Err(JoseError::TooLarge);
    }
    let parts: Vec<&str> = compact.split('.').collect();
    let [header_b64, encrypted_key, iv_b64, ciphertext_b64, tag_b64] = parts.as_slice() else {
        return Err(JoseError::Malformed("a compact JWE has five parts"));
    };
    let header = parse_json_object(&b64url_decode(header_b64)?)?;
    let enc = check_jwe_header(&header)?;
    if !encrypted_key.is_empty() {
        return Err(JoseError::Malformed(
            "ECDH-ES uses no encrypted key: that part must be empty",
        ));
    }
    let iv = b64url_decode(iv_b64)?;
    if iv.len() != GCM_IV_LEN {
        return Err(JoseError::Malformed("the IV must be 96 bits"));
    }
    let tag = b64url_decode(tag_b64)?;
    if tag.len() != GCM_TAG_LEN {
        return Err(JoseError::Malformed("the tag must be 128 bits"));
    }
    let mut buffer = b64url_decode(ciphertext_b64)?;
    let epk = header
        .get("epk")
        .ok_or(JoseError::Malformed("epk is required"))
        .and_then(Jwk::from_value)?
        .to_public_key()?;
    let apu = party_info(&header, "apu")?;
    let apv = party_info(&header, "apv")?;
    let shared = p256::ecdh::diffie_hellman(key.to_nonzero_scalar(), epk.as_affine());
    let content_key = derive_content_key(shared.raw_secret_bytes().as_slice(), enc, &apu, &apv)?;
    let nonce = Nonce::from_slice(&iv);
    let tag = Tag::from_slice(&tag);
    let aad = header_b64.as_bytes();
    let opened = match enc {
        ContentEncryption::A128Gcm => Aes128Gcm::new_from_slice(&content_key)
            .map_err(|_| JoseError::Decryption)?
            .decrypt_in_place_detached(nonce, aad, &mut buffer, tag),
        ContentEncryption::A256Gcm => Aes256Gcm::new_from_slice(&content_key)
            .map_err(|_| JoseError::Decryption)?
            .decrypt_in_place_detached(nonce, aad, &mut buffer, tag),
    };
    opened.map_err(|_| JoseError::Decryption)?;
    Ok((header, buffer))
}

/// `alg` must be `ECDH-ES`, `enc` allowed, and no `zip` (compression
/// before encryption leaks length) or `crit` (we understand no extension).
fn check_jwe_header(header: &Map<String, Value>) -> Result<ContentEncryption, JoseError> {
    if header.get("alg").and_then(Value::as_str) != Some(JWE_ALG) {
        return Err(JoseError::UnsupportedAlgorithm);
    }
    let enc = header
        .get("enc")
        .and_then(Value::as_str)
        .and_then(ContentEncryption::parse)
        .ok_or(JoseError::UnsupportedAlgorithm)?;
    if header.contains_key("zip") {
        return Err(JoseError::UnsupportedHeader("zip"));
    }
    if header.contains_key("crit") {
        return Err(JoseError::UnsupportedHeader("crit"));
    }
    Ok(enc)
}

fn party_info(header: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, JoseError> {
    match header.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => b64url_decode(s),
        Some(_) => Err(JoseError::Malformed("apu and apv are base64url strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn jwk_from(v: Value) -> Jwk {
        Jwk::from_value(&v).unwrap()
    }

    // --- base64url ---

    #[test]
    fn base64url_round_trips_without_padding() {
        let bytes = [0xfbu8, 0xff, 0x00, 0x10];
        let encoded = b64url_encode(bytes);
        assert_eq!(encoded, "-_8AEA");
        assert_eq!(b64url_decode(&encoded).unwrap(), bytes);
    }

    #[test]
    fn base64url_decoding_rejects_padding_other_alphabets_and_noise() {
        assert_eq!(b64url_decode("QQ").unwrap(), b"A");
        assert_eq!(b64url_decode("QQ=="), Err(JoseError::Base64));
        assert_eq!(b64url_decode("+/8A"), Err(JoseError::Base64));
        assert_eq!(b64url_decode("QQ\n"), Err(JoseError::Base64));
        assert_eq!(b64url_decode(" QQ"), Err(JoseError::Base64));
        // "QR" carries non-zero unused bits: a second spelling of "A".
        assert_eq!(b64url_decode("QR"), Err(JoseError::Base64));
        // A single leftover character encodes no whole byte.
        assert_eq!(b64url_decode("QUFBQ"), Err(JoseError::Base64));
    }

    // --- strict JSON ---

    #[test]
    fn json_objects_parse_and_duplicates_are_rejected_at_any_depth() {
        assert_eq!(
            parse_json_object(br#"{"a":1,"b":{"c":[1,{"d":2}]}}"#).unwrap(),
            obj(json!({"a":1,"b":{"c":[1,{"d":2}]}}))
        );
        assert_eq!(
            parse_json_object(br#"{"a":1,"a":2}"#),
            Err(JoseError::DuplicateMember)
        );
        assert_eq!(
            parse_json_object(br#"{"a":{"b":1,"b":1}}"#),
            Err(JoseError::DuplicateMember)
        );
        assert_eq!(
            parse_json_object(br#"{"a":[{"b":1,"b":2}]}"#),
            Err(JoseError::DuplicateMember)
        );
    }

    #[test]
    fn json_that_is_not_one_object_is_rejected() {
        assert_eq!(parse_json_object(b"[1]"), Err(JoseError::NotAnObject));
        assert_eq!(parse_json_object(b"\"x\""), Err(JoseError::NotAnObject));
        assert_eq!(parse_json_object(b"{} {}"), Err(JoseError::Json));
        assert_eq!(parse_json_object(b"{"), Err(JoseError::Json));
        assert_eq!(parse_json_object(b"{\"a\":\"\xff\"}"), Err(JoseError::Json));
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(parse_json(deep.as_bytes()), Err(JoseError::Json));
    }

    // --- JWK ---

    #[test]
    fn jwk_round_trips_a_p256_key() {
        let key = SecretKey::random(&mut OsRng).public_key();
        let jwk = Jwk::from_public_key(&key);
        assert_eq!((jwk.kty.as_str(), jwk.crv.as_str()), ("EC", "P-256"));
        assert_eq!(jwk.to_public_key().unwrap(), key);
        let reread = Jwk::from_value(&jwk.to_value()).unwrap();
        assert_eq!(reread.to_public_key().unwrap(), key);
    }

    #[test]
    fn jwk_serialises_optional_members_only_when_set() {
        let mut jwk = Jwk::from_public_key(&SecretKey::random(&mut OsRng).public_key());
        assert!(jwk.to_value().get("kid").is_none());
        jwk.kid = Some("k1".into());
        jwk.key_use = Some("enc".into());
        jwk.alg = Some("ECDH-ES".into());
        let v = jwk.to_value();
        assert_eq!(v["use"], "enc");
        assert_eq!(v["kid"], "k1");
        assert_eq!(Jwk::from_value(&v).unwrap(), jwk);
    }

    #[test]
    fn jwk_rejects_wrong_kty_crv_length_encoding_and_off_curve_points() {
        let good = Jwk::from_public_key(&SecretKey::random(&mut OsRng).public_key());
        let with = |f: &dyn Fn(&mut Jwk)| {
            let mut j = good.clone();
            f(&mut j);
            j.to_public_key()
        };
        assert!(with(&|_| {}).is_ok());
        assert_eq!(
            with(&|j| j.kty = "RSA".into()),
            Err(JoseError::InvalidKey("kty must be EC"))
        );
        assert_eq!(
            with(&|j| j.crv = "P-384".into()),
            Err(JoseError::InvalidKey("crv must be P-256"))
        );
        assert_eq!(
            with(&|j| j.x = b64url_encode([1u8; 31])),
            Err(JoseError::InvalidKey("coordinates must be 32 bytes"))
        );
        assert_eq!(
            with(&|j| j.y = b64url_encode([1u8; 33])),
            Err(JoseError::InvalidKey("coordinates must be 32 bytes"))
        );
        assert_eq!(
            with(&|j| j.x.push('=')),
            Err(JoseError::InvalidKey("x is not base64url"))
        );
        // Changing y keeps a well-formed JWK whose point is not on the curve.
        assert_eq!(
            with(&|j| {
                let mut y = b64url_decode(&j.y).unwrap();
                y[31] ^= 1;
                j.y = b64url_encode(y);
            }),
            Err(JoseError::InvalidKey("not a point on P-256"))
        );
        assert!(Jwk::from_value(&json!({"kty":"EC","crv":"P-256","x":"AA"})).is_err());
        assert!(Jwk::from_value(&json!("EC")).is_err());
    }

    // --- JWS ---

    fn signing_key() -> SigningKey {
        SigningKey::random(&mut OsRng)
    }

    #[test]
    fn jws_signs_and_verifies_es256_with_raw_signature() {
        let key = signing_key();
        let token = sign_es256(
            &obj(json!({"typ":"x","alg":"none"})),
            &obj(json!({"a":1})),
            &key,
        );
        let jws = Jws::parse(&token).unwrap();
        assert_eq!(jws.header()["alg"], "ES256");
        assert_eq!(jws.header()["typ"], "x");
        assert_eq!(jws.payload()["a"], 1);
        assert_eq!(jws.alg(), JwsAlg::Es256);
        jws.verify(key.verifying_key()).unwrap();
        let signature = token.rsplit('.').next().unwrap();
        assert_eq!(b64url_decode(signature).unwrap().len(), 64);
    }

    #[test]
    fn the_jwk_thumbprint_matches_another_implementation() {
        // RFC 7515 Appendix A.3's P-256 key; its RFC 7638 thumbprint as
        // Python's jwcrypto computes it.
        let jwk = Jwk::from_value(&json!({
            "kty": "EC", "crv": "P-256", "kid": "ignored", "use": "enc",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        }))
        .unwrap();
        assert_eq!(
            b64url_encode(jwk.thumbprint()),
            "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"
        );
    }

    #[test]
    fn jws_signed_by_another_key_or_altered_fails_verification() {
        let key = signing_key();
        let token = sign_es256(&Map::new(), &obj(json!({"a":1})), &key);
        let jws = Jws::parse(&token).unwrap();
        assert_eq!(
            jws.verify(signing_key().verifying_key()),
            Err(JoseError::BadSignature)
        );
        let parts: Vec<&str> = token.split('.').collect();
        let altered = format!("{}.{}.{}", parts[0], b64url_encode(r#"{"a":2}"#), parts[2]);
        assert_eq!(
            Jws::parse(&altered).unwrap().verify(key.verifying_key()),
            Err(JoseError::BadSignature)
        );
    }

    /// ECDSA signatures are malleable: with (r, s) valid, (r, n - s) is too.
    /// P-256 signers (this crate's, secure elements, WebCrypto) do not
    /// normalise s, so about half of genuine signatures are high-S, and
    /// refusing them would refuse half of all wallets. Nothing here relies
    /// on a signature being unique: a transaction is answered once, whatever
    /// the bytes of its answer. So both forms verify, by design.
    #[test]
    fn a_high_s_signature_verifies_like_its_low_s_twin_by_design() {
        let key = signing_key();
        // Signing is deterministic (RFC 6979): vary the claims until one
        // signature comes out high-S.
        let (token, low, high) = (0..)
            .find_map(|n| {
                let token = sign_es256(&Map::new(), &obj(json!({ "n": n })), &key);
                let sig = Signature::from_slice(
                    &b64url_decode(token.rsplit('.').next().unwrap()).unwrap(),
                )
                .unwrap();
                sig.normalize_s().map(|low| (token, low, sig))
            })
            .unwrap();
        let input = token.rsplit_once('.').unwrap().0;
        for sig in [low, high] {
            let jws = Jws::parse(&format!("{input}.{}", b64url_encode(sig.to_bytes()))).unwrap();
            assert_eq!(jws.verify(key.verifying_key()), Ok(()));
        }
    }

    #[test]
    fn jws_algorithms_outside_the_allow_list_are_rejected_before_verification() {
        let key = signing_key();
        let claims = obj(json!({"a":1}));
        for alg in [
            json!("none"),
            json!("HS256"),
            json!("RS256"),
            json!("es256"),
            json!(1),
        ] {
            let token = sign_es256_as_is(&obj(json!({"alg": alg})), &claims, &key);
            assert_eq!(
                Jws::parse(&token).err(),
                Some(JoseError::UnsupportedAlgorithm)
            );
        }
        let no_alg = sign_es256_as_is(&Map::new(), &claims, &key);
        assert_eq!(
            Jws::parse(&no_alg).err(),
            Some(JoseError::UnsupportedAlgorithm)
        );
        // The classic unsigned token: empty signature part.
        let unsigned = format!(
            "{}.{}.",
            b64url_encode(r#"{"alg":"none"}"#),
            b64url_encode(r#"{"a":1}"#)
        );
        assert_eq!(
            Jws::parse(&unsigned).err(),
            Some(JoseError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn jws_with_der_signature_is_rejected() {
        let key = signing_key();
        let token = sign_es256(&Map::new(), &obj(json!({"a":1})), &key);
        let (input, _) = token.rsplit_once('.').unwrap();
        let signature: Signature = key.sign(input.as_bytes());
        let der = format!("{input}.{}", b64url_encode(signature.to_der()));
        assert!(matches!(Jws::parse(&der), Err(JoseError::Malformed(_))));
    }

    #[test]
    fn jws_with_zero_signature_scalars_is_rejected() {
        let token = sign_es256(&Map::new(), &obj(json!({"a":1})), &signing_key());
        let (input, _) = token.rsplit_once('.').unwrap();
        let zeros = format!("{input}.{}", b64url_encode([0u8; 64]));
        assert!(matches!(Jws::parse(&zeros), Err(JoseError::Malformed(_))));
    }

    #[test]
    fn malformed_compact_jws_is_rejected() {
        let token = sign_es256(&Map::new(), &obj(json!({"a":1})), &signing_key());
        let parts: Vec<&str> = token.split('.').collect();
        let h = parts[0];
        let p = parts[1];
        let s = parts[2];
        assert!(matches!(
            Jws::parse(&format!("{h}.{p}")),
            Err(JoseError::Malformed(_))
        ));
        assert!(matches!(
            Jws::parse(&format!("{h}.{p}.{s}.")),
            Err(JoseError::Malformed(_))
        ));
        assert_eq!(
            Jws::parse(&format!("{h}=.{p}.{s}")).err(),
            Some(JoseError::Base64)
        );
        assert_eq!(
            Jws::parse(&format!("{h}.{p}!.{s}")).err(),
            Some(JoseError::Base64)
        );
        let array = b64url_encode("[1]");
        assert_eq!(
            Jws::parse(&format!("{h}.{array}.{s}")).err(),
            Some(JoseError::NotAnObject)
        );
        assert_eq!(
            Jws::parse(&format!("{array}.{p}.{s}")).err(),
            Some(JoseError::NotAnObject)
        );
        let dup_header = b64url_encode(r#"{"alg":"ES256","alg":"ES256"}"#);
        assert_eq!(
            Jws::parse(&format!("{dup_header}.{p}.{s}")).err(),
            Some(JoseError::DuplicateMember)
        );
        let dup_payload = b64url_encode(r#"{"a":1,"a":2}"#);
        assert_eq!(
            Jws::parse(&format!("{h}.{dup_payload}.{s}")).err(),
            Some(JoseError::DuplicateMember)
        );
        let huge = "a".repeat(MAX_COMPACT_LEN + 1);
        assert_eq!(Jws::parse(&huge).err(), Some(JoseError::TooLarge));
    }

    #[test]
    fn jws_with_crit_is_rejected() {
        let token = sign_es256(
            &obj(json!({"crit":["b64"],"b64":false})),
            &obj(json!({"a":1})),
            &signing_key(),
        );
        assert_eq!(
            Jws::parse(&token).err(),
            Some(JoseError::UnsupportedHeader("crit"))
        );
    }

    // --- JWE ---

    /// RFC 7518 Appendix C: Alice's ephemeral key, Bob's key, apu "Alice",
    /// apv "Bob", enc A128GCM.
    const ALICE_D: &str = "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo";
    const ALICE_X: &str = "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0";
    const ALICE_Y: &str = "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps";
    const BOB_D: &str = "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw";
    const BOB_X: &str = "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ";
    const BOB_Y: &str = "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck";

    fn secret(d: &str) -> SecretKey {
        SecretKey::from_slice(&b64url_decode(d).unwrap()).unwrap()
    }

    #[test]
    fn concat_kdf_reproduces_rfc7518_appendix_c() {
        let alice = secret(ALICE_D);
        let bob_public = jwk_from(json!({"kty":"EC","crv":"P-256","x":BOB_X,"y":BOB_Y}))
            .to_public_key()
            .unwrap();
        assert_eq!(secret(BOB_D).public_key(), bob_public);
        let z = p256::ecdh::diffie_hellman(alice.to_nonzero_scalar(), bob_public.as_affine());
        assert_eq!(
            z.raw_secret_bytes().as_slice(),
            [
                158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
                110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196
            ]
        );
        let key = derive_content_key(
            z.raw_secret_bytes().as_slice(),
            ContentEncryption::A128Gcm,
            b"Alice",
            b"Bob",
        )
        .unwrap();
        assert_eq!(b64url_encode(key), "VqqN6vgjbSBcIijNcacQGg");
    }

    #[test]
    fn decrypt_derives_the_rfc7518_appendix_c_key_from_the_header() {
        // A JWE from Appendix C's ephemeral key to Bob, sealed with the
        // published derived key: decrypting proves `decrypt` reads epk, apu
        // and apv and derives the same key.
        let header = obj(json!({
            "alg":"ECDH-ES","enc":"A128GCM","apu":"QWxpY2U","apv":"Qm9i",
            "epk":{"kty":"EC","crv":"P-256","x":ALICE_X,"y":ALICE_Y}
        }));
        let key = b64url_decode("VqqN6vgjbSBcIijNcacQGg").unwrap();
        let compact = seal(
            &header,
            ContentEncryption::A128Gcm,
            &key,
            &[7; 12],
            b"hi Bob",
        );
        let (read, plaintext) = decrypt(&compact, &secret(BOB_D)).unwrap();
        assert_eq!(plaintext, b"hi Bob");
        assert_eq!(read, header);
    }

    fn recipient() -> (SecretKey, Jwk) {
        let key = SecretKey::random(&mut OsRng);
        let jwk = Jwk::from_public_key(&key.public_key());
        (key, jwk)
    }

    #[test]
    fn jwe_round_trips_with_both_content_encryptions() {
        let (key, jwk) = recipient();
        for enc in ContentEncryption::ALLOWED {
            let compact = encrypt(b"{\"vp_token\":{}}", &jwk, enc, Some("k1")).unwrap();
            let parts: Vec<&str> = compact.split('.').collect();
            assert_eq!(parts.len(), 5);
            assert_eq!(parts[1], "");
            let (header, plaintext) = decrypt(&compact, &key).unwrap();
            assert_eq!(plaintext, b"{\"vp_token\":{}}");
            assert_eq!(header["alg"], "ECDH-ES");
            assert_eq!(header["enc"], enc.as_str());
            assert_eq!(header["kid"], "k1");
        }
    }

    #[test]
    fn jwe_round_trips_with_party_info() {
        let (key, jwk) = recipient();
        let compact = encrypt_with_party_info(
            b"x",
            &jwk,
            ContentEncryption::A256Gcm,
            None,
            Some(b"wallet"),
            Some(b"nonce"),
        )
        .unwrap();
        let (header, plaintext) = decrypt(&compact, &key).unwrap();
        assert_eq!(plaintext, b"x");
        assert_eq!(header["apv"], b64url_encode("nonce"));
        assert!(header.get("kid").is_none());
    }

    #[test]
    fn jwe_for_another_key_does_not_decrypt() {
        let (_, jwk) = recipient();
        let (other, _) = recipient();
        let compact = encrypt(b"x", &jwk, ContentEncryption::A128Gcm, None).unwrap();
        assert_eq!(decrypt(&compact, &other), Err(JoseError::Decryption));
    }

    /// Flips one bit of the decoded part `index` and re-encodes it.
    fn flip(compact: &str, index: usize) -> String {
        let mut parts: Vec<String> = compact.split('.').map(str::to_owned).collect();
        let mut bytes = b64url_decode(&parts[index]).unwrap();
        bytes[0] ^= 1;
        parts[index] = b64url_encode(bytes);
        parts.join(".")
    }

    #[test]
    fn jwe_tampering_with_iv_ciphertext_or_tag_fails() {
        let (key, jwk) = recipient();
        let compact = encrypt(b"some plaintext", &jwk, ContentEncryption::A128Gcm, None).unwrap();
        for part in [2, 3, 4] {
            assert_eq!(
                decrypt(&flip(&compact, part), &key),
                Err(JoseError::Decryption),
                "part {part}"
            );
        }
    }

    #[test]
    fn jwe_header_is_authenticated_as_aad() {
        let (key, jwk) = recipient();
        let compact = encrypt(b"x", &jwk, ContentEncryption::A128Gcm, Some("k1")).unwrap();
        let parts: Vec<&str> = compact.split('.').collect();
        let mut header = parse_json_object(&b64url_decode(parts[0]).unwrap()).unwrap();
        header.insert("kid".into(), json!("k2"));
        let mut swapped: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        swapped[0] = b64url_encode(Value::Object(header).to_string());
        assert_eq!(
            decrypt(&swapped.join("."), &key),
            Err(JoseError::Decryption)
        );
    }

    /// A JWE to `jwk` with header members replaced by `changes`.
    fn jwe_with_header(jwk: &Jwk, changes: Value) -> String {
        let ephemeral = SecretKey::random(&mut OsRng);
        let mut header = obj(json!({
            "alg":"ECDH-ES","enc":"A128GCM",
            "epk": Jwk::from_public_key(&ephemeral.public_key()).to_value()
        }));
        for (k, v) in obj(changes) {
            if v.is_null() {
                header.remove(&k);
            } else {
                header.insert(k, v);
            }
        }
        let shared = p256::ecdh::diffie_hellman(
            ephemeral.to_nonzero_scalar(),
            jwk.to_public_key().unwrap().as_affine(),
        );
        let key = derive_content_key(
            shared.raw_secret_bytes().as_slice(),
            ContentEncryption::A128Gcm,
            b"",
            b"",
        )
        .unwrap();
        seal(&header, ContentEncryption::A128Gcm, &key, &[1; 12], b"x")
    }

    #[test]
    fn jwe_headers_outside_the_allow_list_are_rejected() {
        let (key, jwk) = recipient();
        assert!(decrypt(&jwe_with_header(&jwk, json!({})), &key).is_ok());
        for alg in ["ECDH-ES+A128KW", "RSA-OAEP", "dir", "none"] {
            assert_eq!(
                decrypt(&jwe_with_header(&jwk, json!({"alg": alg})), &key),
                Err(JoseError::UnsupportedAlgorithm),
                "{alg}"
            );
        }
        for enc in ["A128CBC-HS256", "A192GCM", "a128gcm"] {
            assert_eq!(
                decrypt(&jwe_with_header(&jwk, json!({"enc": enc})), &key),
                Err(JoseError::UnsupportedAlgorithm),
                "{enc}"
            );
        }
        assert_eq!(
            decrypt(&jwe_with_header(&jwk, json!({"zip":"DEF"})), &key),
            Err(JoseError::UnsupportedHeader("zip"))
        );
        assert_eq!(
            decrypt(&jwe_with_header(&jwk, json!({"crit":["exp"]})), &key),
            Err(JoseError::UnsupportedHeader("crit"))
        );
        assert_eq!(
            decrypt(&jwe_with_header(&jwk, json!({"apu": 5})), &key),
            Err(JoseError::Malformed("apu and apv are base64url strings"))
        );
    }

    #[test]
    fn jwe_epk_must_be_a_valid_p256_point() {
        let (key, jwk) = recipient();
        assert_eq!(
            decrypt(&jwe_with_header(&jwk, json!({"epk": null})), &key),
            Err(JoseError::Malformed("epk is required"))
        );
        let mut off_curve = Jwk::from_public_key(&SecretKey::random(&mut OsRng).public_key());
        off_curve.y = b64url_encode([5u8; 32]);
        assert_eq!(
            decrypt(
                &jwe_with_header(&jwk, json!({"epk": off_curve.to_value()})),
                &key
            ),
            Err(JoseError::InvalidKey("not a point on P-256"))
        );
        let mut wrong_curve = Jwk::from_public_key(&SecretKey::random(&mut OsRng).public_key());
        wrong_curve.crv = "P-384".into();
        assert_eq!(
            decrypt(
                &jwe_with_header(&jwk, json!({"epk": wrong_curve.to_value()})),
                &key
            ),
            Err(JoseError::InvalidKey("crv must be P-256"))
        );
    }

    #[test]
    fn malformed_compact_jwe_is_rejected() {
        let (key, jwk) = recipient();
        let compact = encrypt(b"x", &jwk, ContentEncryption::A128Gcm, None).unwrap();
        let parts: Vec<&str> = compact.split('.').collect();
        let join = |p: &[&str]| p.join(".");
        assert!(matches!(
            decrypt(&join(&parts[..4]), &key),
            Err(JoseError::Malformed(_))
        ));
        let mut with_key = parts.clone();
        with_key[1] = "AAAA";
        assert!(matches!(
            decrypt(&join(&with_key), &key),
            Err(JoseError::Malformed(_))
        ));
        let short_iv = b64url_encode([0u8; 8]);
        let mut bad_iv = parts.clone();
        bad_iv[2] = &short_iv;
        assert_eq!(
            decrypt(&join(&bad_iv), &key),
            Err(JoseError::Malformed("the IV must be 96 bits"))
        );
        let short_tag = b64url_encode([0u8; 12]);
        let mut bad_tag = parts.clone();
        bad_tag[4] = &short_tag;
        assert_eq!(
            decrypt(&join(&bad_tag), &key),
            Err(JoseError::Malformed("the tag must be 128 bits"))
        );
        let mut bad_b64 = parts.clone();
        bad_b64[3] = "a+b";
        assert_eq!(decrypt(&join(&bad_b64), &key), Err(JoseError::Base64));
        assert_eq!(
            decrypt(&"a".repeat(MAX_COMPACT_LEN + 1), &key),
            Err(JoseError::TooLarge)
        );
    }
}
