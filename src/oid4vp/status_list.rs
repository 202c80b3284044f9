//! Token Status List (draft-ietf-oauth-status-list): the reference a
//! credential carries in its `status` claim, the Status List it points to,
//! and the checks on the Status List Token (a JWT) that carries that list.
//!
//! Fetching the token and acting on a status are the caller's. Nothing here
//! reads the clock (`now` is Unix seconds from the caller), and the expanded
//! list is capped by the caller's `max_bytes`, so a small token cannot make
//! us allocate much.
//!
//! Choices the draft leaves open:
//! - `exp` and `nbf` get the same clock skew as credentials
//!   ([`LEEWAY_SECS`]).
//! - `ttl` must be a whole, positive number of seconds.
//! - A ZLIB stream must end where `lst` ends: trailing bytes are refused.
//!
//! Errors name the rule that failed, never the input. Section numbers (§)
//! are those of draft-ietf-oauth-status-list-20.

use super::jose::{JoseError, Jws, b64url_decode, b64url_encode};
use super::sdjwt::{self, LEEWAY_SECS};
use super::x509::{ChainError, TrustAnchors, decode_x5c, verify_chain};
use ciborium::Value as Cbor;
use flate2::Compression;
use flate2::bufread::ZlibDecoder;
use flate2::write::ZlibEncoder;
use p256::ecdsa::VerifyingKey;
use serde_json::{Map, Value};
use std::io::{ErrorKind, Read, Write};

/// The `typ` a Status List Token must carry (§5.1).
pub const TYP_STATUS_LIST_JWT: &str = "statuslist+jwt";

/// How much of the expanded list is read from the decoder at a time.
const INFLATE_CHUNK: usize = 8 * 1024;

/// Why a status reference, a Status List or a Status List Token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    #[error("malformed status reference: {0}")]
    BadReference(&'static str),
    #[error("malformed status list token: {0}")]
    Malformed(String),
    #[error("status list token typ is not {TYP_STATUS_LIST_JWT}")]
    WrongType,
    #[error("status list token algorithm not allowed")]
    UnsupportedAlgorithm,
    #[error("status list token signature does not verify")]
    BadSignature,
    #[error("status list token issuer is not trusted: {0}")]
    UntrustedIssuer(ChainError),
    #[error("status list token sub is not the referenced uri")]
    WrongSubject,
    #[error("status list token expired")]
    Expired,
    #[error("status list token not yet valid (nbf)")]
    NotYetValid,
    #[error("status list token has no iat")]
    MissingIssuedAt,
    #[error("status list token ttl is not a positive whole number of seconds")]
    BadTtl,
    #[error("status list bits is not 1, 2, 4 or 8")]
    BadBits,
    #[error("status list is larger than allowed")]
    TooLarge,
    #[error("status list lst is not a valid ZLIB stream")]
    BadCompression,
}

use StatusListError as E;

// ---------------------------------------------------------------------------
// The reference in a credential

/// Where a credential's status is kept: entry `idx` of the list whose Status
/// List Token has `sub` equal to `uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReference {
    pub idx: u64,
    pub uri: String,
}

/// Reads the value of an SD-JWT VC's `status` claim (§6.2). `Ok(None)` when
/// it holds no `status_list` (another status mechanism); an error when the
/// `status_list` it holds is malformed.
pub fn reference_from_json(status: &Value) -> Result<Option<StatusReference>, StatusListError> {
    let Value::Object(status) = status else {
        return Err(E::BadReference("status is not an object"));
    };
    let Some(list) = status.get("status_list") else {
        return Ok(None);
    };
    let Value::Object(list) = list else {
        return Err(E::BadReference("status_list is not an object"));
    };
    let idx = list
        .get("idx")
        .ok_or(E::BadReference("idx is missing"))?
        .as_u64()
        .ok_or(E::BadReference("idx is not a non-negative integer"))?;
    let uri = list
        .get("uri")
        .ok_or(E::BadReference("uri is missing"))?
        .as_str()
        .ok_or(E::BadReference("uri is not a string"))?;
    Ok(Some(StatusReference {
        idx,
        uri: checked_uri(uri)?,
    }))
}

/// Reads the `status` entry of an mdoc's Mobile Security Object, or a CWT's
/// status claim (§6.3): a map whose `status_list` is `{"idx": uint, "uri":
/// tstr}`. `Ok(None)` when it holds no `status_list`.
pub fn reference_from_cbor(status: &Cbor) -> Result<Option<StatusReference>, StatusListError> {
    let Cbor::Map(status) = status else {
        return Err(E::BadReference("status is not a map"));
    };
    let Some(list) = cbor_entry(status, "status_list")? else {
        return Ok(None);
    };
    let Cbor::Map(list) = list else {
        return Err(E::BadReference("status_list is not a map"));
    };
    let idx = match cbor_entry(list, "idx")? {
        Some(Cbor::Integer(idx)) => {
            u64::try_from(*idx).map_err(|_| E::BadReference("idx is not a non-negative integer"))?
        }
        Some(_) => return Err(E::BadReference("idx is not a non-negative integer")),
        None => return Err(E::BadReference("idx is missing")),
    };
    let uri = match cbor_entry(list, "uri")? {
        Some(Cbor::Text(uri)) => uri,
        Some(_) => return Err(E::BadReference("uri is not a text string")),
        None => return Err(E::BadReference("uri is missing")),
    };
    Ok(Some(StatusReference {
        idx,
        uri: checked_uri(uri)?,
    }))
}

/// The value under text key `key`. A CBOR map may repeat a key; two readers
/// could then pick different entries, so a repeated key is refused.
fn cbor_entry<'a>(map: &'a [(Cbor, Cbor)], key: &str) -> Result<Option<&'a Cbor>, StatusListError> {
    let mut values = map
        .iter()
        .filter(|(k, _)| matches!(k, Cbor::Text(k) if k == key))
        .map(|(_, v)| v);
    let first = values.next();
    if values.next().is_some() {
        return Err(E::BadReference("a key appears twice in a status map"));
    }
    Ok(first)
}

/// The draft requires a URI (RFC 3986). It is kept as sent: the token's
/// `sub` must equal it exactly, not after normalisation.
fn checked_uri(uri: &str) -> Result<String, StatusListError> {
    url::Url::parse(uri).map_err(|_| E::BadReference("uri is not an absolute URI"))?;
    Ok(uri.to_owned())
}

// ---------------------------------------------------------------------------
// The Status List

/// An expanded Status List (§4.1): `bits` per entry, entries packed from the
/// least significant bit of each byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

impl StatusList {
    pub fn new(bits: u8, bytes: Vec<u8>) -> Result<StatusList, StatusListError> {
        check_bits(bits)?;
        Ok(StatusList { bits, bytes })
    }

    /// The JSON `status_list` object (§4.2): `bits` and `lst`.
    pub fn from_json(status_list: &Value, max_bytes: usize) -> Result<StatusList, StatusListError> {
        let Value::Object(status_list) = status_list else {
            return Err(E::Malformed("status_list is not an object".into()));
        };
        let bits = status_list
            .get("bits")
            .ok_or_else(|| E::Malformed("status_list has no bits".into()))?
            .as_u64()
            .and_then(|bits| u8::try_from(bits).ok())
            .ok_or(E::BadBits)?;
        let lst = status_list
            .get("lst")
            .and_then(Value::as_str)
            .ok_or_else(|| E::Malformed("status_list has no lst string".into()))?;
        StatusList::decode(bits, lst, max_bytes)
    }

    /// `lst`: base64url of the ZLIB-compressed list, expanded to at most
    /// `max_bytes`.
    pub fn decode(bits: u8, lst: &str, max_bytes: usize) -> Result<StatusList, StatusListError> {
        // Before inflating: a list we would refuse anyway costs no work.
        check_bits(bits)?;
        let compressed =
            b64url_decode(lst).map_err(|_| E::Malformed("lst is not base64url".into()))?;
        let bytes = inflate_capped(&compressed, max_bytes)?;
        Ok(StatusList { bits, bytes })
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many entries the list holds, the padding of its last byte included.
    pub fn entries(&self) -> u64 {
        let per_byte = 8 / u64::from(self.bits.max(1));
        u64::try_from(self.bytes.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(per_byte)
    }

    /// The status of entry `idx`; `None` past the end, where the draft says
    /// nothing can be concluded (§8.3, step 6).
    pub fn status(&self, idx: u64) -> Option<u8> {
        let bits = u64::from(self.bits);
        let per_byte = 8u64.checked_div(bits)?;
        let byte = self.bytes.get(usize::try_from(idx / per_byte).ok()?)?;
        let shift = (idx % per_byte) * bits;
        let mask = u8::MAX >> 8u8.saturating_sub(self.bits);
        Some((byte >> shift) & mask)
    }
}

fn check_bits(bits: u8) -> Result<(), StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(()),
        _ => Err(E::BadBits),
    }
}

/// Expands a ZLIB stream (RFC 1950) to at most `max_bytes`. A few hundred
/// compressed bytes can expand to gigabytes, so the decoder is read through
/// a `take` one byte past the cap, and the buffer grows by doubling but
/// never past the cap: memory stays within `max_bytes` plus one chunk.
fn inflate_capped(compressed: &[u8], max_bytes: usize) -> Result<Vec<u8>, StatusListError> {
    let limit = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut reader = ZlibDecoder::new(compressed).take(limit);
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = [0u8; INFLATE_CHUNK];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return Err(E::BadCompression),
        };
        let piece = chunk.get(..n).ok_or(E::BadCompression)?;
        let needed = out.len().saturating_add(n);
        if needed > max_bytes {
            return Err(E::TooLarge);
        }
        if needed > out.capacity() {
            let target = out.capacity().saturating_mul(2).max(needed).min(max_bytes);
            out.reserve_exact(target.saturating_sub(out.len()));
        }
        out.extend_from_slice(piece);
    }
    // The decoder stops at the end of the ZLIB stream; what follows it in
    // `lst` would be ignored by us but perhaps not by another reader.
    if !reader.into_inner().into_inner().is_empty() {
        return Err(E::BadCompression);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// The Status List Token

/// What the Status List Token's signature must verify with.
#[derive(Debug, Clone, Copy)]
pub enum TokenKey<'a> {
    /// The token's `x5c` chain must lead to one of these anchors, under the
    /// same path rules as a credential issuer's chain.
    Anchors(&'a TrustAnchors),
    /// A key known beforehand, such as the credential issuer's own.
    Key(&'a VerifyingKey),
}

/// A Status List Token that passed every check, and its list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedList {
    pub list: StatusList,
    /// Unix seconds.
    pub iat: i64,
    /// Unix seconds.
    pub exp: Option<i64>,
    /// Seconds the token may be cached before a fresh one is fetched.
    pub ttl: Option<u64>,
}

/// Verifies a Status List Token in JWT form (§5.1, §8.3) fetched for
/// `expected_uri` (the reference's `uri`), and expands its list to at most
/// `max_bytes`.
pub fn verify_token(
    token: &str,
    expected_uri: &str,
    key: TokenKey<'_>,
    now: i64,
    max_bytes: usize,
) -> Result<VerifiedList, StatusListError> {
    let jws = Jws::parse(token).map_err(|e| match e {
        JoseError::UnsupportedAlgorithm => E::UnsupportedAlgorithm,
        JoseError::TooLarge => E::TooLarge,
        other => E::Malformed(other.to_string()),
    })?;
    check_typ(jws.header())?;
    check_signature(&jws, key, now)?;
    let claims = jws.payload();
    check_subject(claims, expected_uri)?;
    let exp = check_expiry(claims, now)?;
    check_not_before(claims, now)?;
    let iat = numeric_date(claims, "iat")?.ok_or(E::MissingIssuedAt)?;
    let ttl = ttl(claims)?;
    // Expanded only now, so an unauthenticated token costs no inflating.
    let list = claims
        .get("status_list")
        .ok_or_else(|| E::Malformed("status_list claim is missing".into()))?;
    let list = StatusList::from_json(list, max_bytes)?;
    Ok(VerifiedList {
        list,
        iat,
        exp,
        ttl,
    })
}

fn check_typ(header: &Map<String, Value>) -> Result<(), StatusListError> {
    match header.get("typ").and_then(Value::as_str) {
        Some(TYP_STATUS_LIST_JWT) => Ok(()),
        _ => Err(E::WrongType),
    }
}

fn check_signature(jws: &Jws, key: TokenKey<'_>, now: i64) -> Result<(), StatusListError> {
    match key {
        TokenKey::Key(key) => jws.verify(key).map_err(|_| E::BadSignature),
        TokenKey::Anchors(anchors) => {
            let chain = decode_x5c(jws.header().get("x5c")).map_err(|e| match e {
                ChainError::Empty => E::UntrustedIssuer(e),
                other => E::Malformed(other.to_string()),
            })?;
            let key = verify_chain(&chain, anchors, now).map_err(|e| match e {
                // Not P-256: it cannot have made an ES256 signature.
                ChainError::UnsupportedKey => E::BadSignature,
                other => E::UntrustedIssuer(other),
            })?;
            jws.verify(&key).map_err(|_| E::BadSignature)
        }
    }
}

fn check_subject(claims: &Map<String, Value>, expected_uri: &str) -> Result<(), StatusListError> {
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if sub == expected_uri => Ok(()),
        _ => Err(E::WrongSubject),
    }
}

/// `exp`, if present, not passed (with [`LEEWAY_SECS`]).
fn check_expiry(claims: &Map<String, Value>, now: i64) -> Result<Option<i64>, StatusListError> {
    let exp = numeric_date(claims, "exp")?;
    match exp {
        Some(exp) if now > exp.saturating_add(LEEWAY_SECS) => Err(E::Expired),
        _ => Ok(exp),
    }
}

/// `nbf`, if present, reached (with [`LEEWAY_SECS`]): RFC 7519 §4.1.5, which
/// the draft applies to the token (§5.1, rule 3).
fn check_not_before(claims: &Map<String, Value>, now: i64) -> Result<(), StatusListError> {
    match numeric_date(claims, "nbf")? {
        Some(nbf) if nbf > now.saturating_add(LEEWAY_SECS) => Err(E::NotYetValid),
        _ => Ok(()),
    }
}

/// A JWT NumericDate claim, read as credentials' are.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, StatusListError> {
    sdjwt::numeric_date(claims, name).map_err(|e| E::Malformed(format!("{name}: {e}")))
}

fn ttl(claims: &Map<String, Value>) -> Result<Option<u64>, StatusListError> {
    match claims.get("ttl") {
        None => Ok(None),
        Some(ttl) => match ttl.as_u64() {
            Some(secs) if secs > 0 => Ok(Some(secs)),
            _ => Err(E::BadTtl),
        },
    }
}

// ---------------------------------------------------------------------------
// Writing a list (the issuer's side)

impl StatusList {
    /// A list of `entries` entries of `bits` each, every one 0 (VALID).
    /// `entries` is rounded up to whole bytes.
    pub fn all_valid(bits: u8, entries: usize) -> Result<StatusList, StatusListError> {
        check_bits(bits)?;
        let per_byte = 8 / usize::from(bits);
        Ok(StatusList {
            bits,
            bytes: vec![0; entries.div_ceil(per_byte)],
        })
    }

    /// Sets entry `idx` to `status`. Refused past the end, or for a status
    /// that does not fit in `bits`.
    pub fn set(&mut self, idx: u64, status: u8) -> Result<(), StatusListError> {
        let bits = u64::from(self.bits);
        let per_byte = 8 / bits;
        let mask = u8::MAX >> (8 - self.bits);
        if status & !mask != 0 {
            return Err(E::Malformed(
                "a status does not fit in the list's bits".into(),
            ));
        }
        let byte = usize::try_from(idx / per_byte)
            .ok()
            .and_then(|i| self.bytes.get_mut(i))
            .ok_or_else(|| E::Malformed("an index past the end of the list".into()))?;
        let shift = (idx % per_byte) * bits;
        *byte = (*byte & !(mask << shift)) | (status << shift);
        Ok(())
    }

    /// `lst` (§4.2): the list ZLIB-compressed (RFC 1950, best compression),
    /// base64url without padding.
    pub fn encode_lst(&self) -> String {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(&self.bytes);
        let compressed = encoder.finish().unwrap_or_default();
        b64url_encode(compressed)
    }
}

impl StatusReference {
    /// The value of an SD-JWT VC's `status` claim (§6.2): `{"status_list":
    /// {"idx", "uri"}}`, as [`reference_from_json`] reads it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "status_list": { "idx": self.idx, "uri": self.uri } })
    }

    /// The `status` entry of an mdoc's MSO (§6.3), as
    /// [`reference_from_cbor`] reads it.
    pub fn to_cbor(&self) -> Cbor {
        let text = |s: &str| Cbor::Text(s.to_owned());
        Cbor::Map(vec![(
            text("status_list"),
            Cbor::Map(vec![
                (text("idx"), Cbor::Integer(self.idx.into())),
                (text("uri"), text(&self.uri)),
            ]),
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oid4vp::jose::{Jwk, sign_es256, sign_es256_as_is};
    use crate::oid4vp::x509::{CertificateAuthority, Validity, encode_x5c};
    use p256::ecdsa::SigningKey;
    use rand::rngs::OsRng;
    use serde_json::json;

    const NOW: i64 = 1_750_000_000;
    const URI: &str = "https://issuer.example/statuslists/1";
    const MAX: usize = 1024 * 1024;

    // The two examples of draft-ietf-oauth-status-list-20 §4.1 (the byte
    // arrays and their compressed hex) and §4.2 (the same lists as `lst`).
    const LST_1BIT: &str = "eNrbuRgAAhcBXQ";
    const ZLIB_1BIT_HEX: &str = "78dadbb918000217015d";
    const BYTES_1BIT: [u8; 2] = [0xb9, 0xa3];
    const STATUSES_1BIT: [u8; 16] = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
    const LST_2BIT: &str = "eNo76fITAAPfAgc";
    const ZLIB_2BIT_HEX: &str = "78da3be9f2130003df0207";
    const BYTES_2BIT: [u8; 3] = [0xc9, 0x44, 0xf9];
    const STATUSES_2BIT: [u8; 12] = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn header() -> Map<String, Value> {
        obj(json!({ "typ": TYP_STATUS_LIST_JWT }))
    }

    fn claims() -> Map<String, Value> {
        obj(json!({
            "sub": URI,
            "iat": NOW - 60,
            "exp": NOW + 3600,
            "ttl": 43_200,
            "status_list": { "bits": 1, "lst": LST_1BIT },
        }))
    }

    fn validity() -> Validity {
        Validity::days_from(NOW, 365)
    }

    /// A status list signer whose certificate is issued by a root of its own.
    struct Signer {
        key: SigningKey,
        x5c: Value,
        anchors: TrustAnchors,
    }

    fn signer() -> Signer {
        let root = CertificateAuthority::new("Status root", validity()).unwrap();
        let key = SigningKey::random(&mut OsRng);
        let leaf = root
            .issue_leaf(
                &p256::PublicKey::from(key.verifying_key()),
                "Status list signer",
                validity(),
            )
            .unwrap();
        Signer {
            key,
            x5c: encode_x5c(&[leaf]),
            anchors: TrustAnchors::from_der([root.certificate_der().as_slice()]).unwrap(),
        }
    }

    impl Signer {
        /// A valid token with its `x5c`, after `change` to header and claims.
        fn token(
            &self,
            change: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>),
        ) -> String {
            let mut header = header();
            header.insert("x5c".into(), self.x5c.clone());
            let mut claims = claims();
            change(&mut header, &mut claims);
            sign_es256(&header, &claims, &self.key)
        }

        fn verify(&self, token: &str) -> Result<VerifiedList, StatusListError> {
            verify_token(token, URI, TokenKey::Anchors(&self.anchors), NOW, MAX)
        }

        /// Verifies a token changed by `change`, trusting the key itself.
        fn verify_changed(
            &self,
            change: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>),
        ) -> Result<VerifiedList, StatusListError> {
            let token = self.token(change);
            verify_token(
                &token,
                URI,
                TokenKey::Key(self.key.verifying_key()),
                NOW,
                MAX,
            )
        }
    }

    fn statuses(list: &StatusList) -> Vec<u8> {
        (0..list.entries()).filter_map(|i| list.status(i)).collect()
    }

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    // -- The draft's examples

    #[test]
    fn the_drafts_one_bit_example_decodes_to_its_statuses() {
        assert_eq!(
            b64url_decode(LST_1BIT).unwrap(),
            hex::decode(ZLIB_1BIT_HEX).unwrap()
        );
        let list = StatusList::decode(1, LST_1BIT, MAX).unwrap();
        assert_eq!(list.as_bytes(), BYTES_1BIT);
        assert_eq!(statuses(&list), STATUSES_1BIT);
        assert_eq!(list.status(16), None);
    }

    #[test]
    fn the_drafts_two_bit_example_decodes_to_its_statuses() {
        assert_eq!(
            b64url_decode(LST_2BIT).unwrap(),
            hex::decode(ZLIB_2BIT_HEX).unwrap()
        );
        let list = StatusList::from_json(&json!({ "bits": 2, "lst": LST_2BIT }), MAX).unwrap();
        assert_eq!(list.as_bytes(), BYTES_2BIT);
        assert_eq!(statuses(&list), STATUSES_2BIT);
        assert_eq!(list.status(12), None);
    }

    /// Every entry of a list of 2^20 is 0 but those in `set`.
    fn assert_only(list: &StatusList, set: &[(u64, u8)]) {
        assert_eq!(list.entries(), 1 << 20);
        let nonzero: Vec<(u64, u8)> = (0..list.entries())
            .filter_map(|i| list.status(i).filter(|s| *s != 0).map(|s| (i, s)))
            .collect();
        let mut expected = set.to_vec();
        expected.sort_unstable();
        assert_eq!(nonzero, expected);
        assert_eq!(list.status(1 << 20), None);
    }

    #[test]
    fn the_drafts_test_vectors_hold_their_statuses() {
        // draft-ietf-oauth-status-list-20 Appendix C.1, 1-bit Status List.
        let lst = concat!(
            "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogEAAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAA",
            "vhsSAAAAAAAAAAAA7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAA",
            "AACAZC8L2AEb",
        );
        let set = [
            0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345,
        ];
        let set: Vec<(u64, u8)> = set.iter().map(|i| (*i, 1)).collect();
        assert_only(&StatusList::decode(1, lst, MAX).unwrap(), &set);

        // Appendix C.2, 2-bit Status List.
        let lst = concat!(
            "eNrt2zENACEQAEEuoaBABP5VIO01fCjIHTMStt9ovGVIAAAAAABAbiEBAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAEB5WwIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAID0ugQAAAAAAAAAAAAAAAAAQG12SgAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAOCSIQEAAAAAAAAAAAAAAAAAAAAAAAD8ExIAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAwJEuAQAAAAAAAAAAAAAAAAAAAAAAAMB9SwIAAAAAAAAAAAAAAAAAAACoYUoA",
            "AAAAAAAAAAAAAEBqH81gAQw",
        );
        let set = [
            (0, 1),
            (1993, 2),
            (25460, 1),
            (159495, 3),
            (495669, 1),
            (554353, 1),
            (645645, 2),
            (723232, 1),
            (854545, 1),
            (934534, 2),
            (1000345, 3),
        ];
        assert_only(&StatusList::decode(2, lst, MAX).unwrap(), &set);

        // Appendix C.3, 4-bit Status List.
        let lst = concat!(
            "eNrt0EENgDAQADAIHwImkIIEJEwCUpCEBBQRHOy35Li1EjoOQGabAgAAAAAAAAAAAAAAAAAAACC1SQEA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAABADrsCAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADoxaEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIIoCgAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACArpwKAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAGhqVkAzlwIAAAAAiGVRAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAABx3AoAgLpVAQAAAAAAAAAAAAAAwM89rwMAAAAAAAAAAAjsA9xMBMA",
        );
        let set = [
            (0, 1),
            (1993, 2),
            (35460, 3),
            (459495, 4),
            (595669, 5),
            (754353, 6),
            (845645, 7),
            (923232, 8),
            (924445, 9),
            (934534, 10),
            (1004534, 11),
            (1000345, 12),
            (1030203, 13),
            (1030204, 14),
            (1030205, 15),
        ];
        assert_only(&StatusList::decode(4, lst, MAX).unwrap(), &set);
    }

    #[test]
    fn the_drafts_signed_example_token_verifies_with_its_example_key() {
        // The Status List Token of draft-ietf-oauth-status-list-20 §8.2 (the
        // claims of §5.1 plus `iss`), signed with the draft's example key;
        // that key's public half is published with the draft's example
        // sources, not in its text.
        let token = concat!(
            "eyJhbGciOiJFUzI1NiIsImtpZCI6IjEyIiwidHlwIjoic3RhdHVzbGlzdCtqd3QifQ.e",
            "yJleHAiOjIyOTE3MjAxNzAsImlhdCI6MTY4NjkyMDE3MCwiaXNzIjoiaHR0cHM6Ly9le",
            "GFtcGxlLmNvbSIsInN0YXR1c19saXN0Ijp7ImJpdHMiOjEsImxzdCI6ImVOcmJ1UmdBQ",
            "WhjQlhRIn0sInN1YiI6Imh0dHBzOi8vZXhhbXBsZS5jb20vc3RhdHVzbGlzdHMvMSIsI",
            "nR0bCI6NDMyMDB9.2lKUUNG503R9htu4aHAYi7vjmr3sgApbfoDvPrl65N3URUO1EYqq",
            "Ql45Jfzd-Av4QzlKa3oVALpLwOEUOq-U_g",
        );
        let key = Jwk::from_value(&json!({
            "kty": "EC",
            "crv": "P-256",
            "x": "I3HWm_0Ds1dPMI-IWmf4mBmH-YaeAVbPVu7vB27CxXo",
            "y": "6N_d5Elj9bs1htgV3okJKIdbHEpkgTmAluYKJemzn1M",
        }))
        .unwrap()
        .to_verifying_key()
        .unwrap();
        let uri = "https://example.com/statuslists/1";
        let verified = verify_token(token, uri, TokenKey::Key(&key), NOW, MAX).unwrap();
        assert_eq!(statuses(&verified.list), STATUSES_1BIT);
        assert_eq!(verified.iat, 1_686_920_170);
        assert_eq!(verified.exp, Some(2_291_720_170));
        assert_eq!(verified.ttl, Some(43_200));
        let other = SigningKey::random(&mut OsRng);
        assert_eq!(
            verify_token(token, uri, TokenKey::Key(other.verifying_key()), NOW, MAX),
            Err(E::BadSignature)
        );
    }

    // -- Tokens

    #[test]
    fn a_valid_token_verifies_through_its_x5c_chain() {
        let signer = signer();
        let verified = signer.verify(&signer.token(|_, _| {})).unwrap();
        assert_eq!(
            verified.list,
            StatusList::new(1, BYTES_1BIT.to_vec()).unwrap()
        );
        assert_eq!(verified.iat, NOW - 60);
        assert_eq!(verified.exp, Some(NOW + 3600));
        assert_eq!(verified.ttl, Some(43_200));
    }

    #[test]
    fn a_valid_token_verifies_with_the_given_key_without_x5c() {
        let signer = signer();
        let verified = signer
            .verify_changed(|header, claims| {
                header.remove("x5c");
                claims.remove("exp");
                claims.remove("ttl");
                claims.insert("status_list".into(), json!({ "bits": 2, "lst": LST_2BIT }));
            })
            .unwrap();
        assert_eq!(statuses(&verified.list), STATUSES_2BIT);
        assert_eq!((verified.exp, verified.ttl), (None, None));
    }

    #[test]
    fn a_token_whose_typ_is_not_statuslist_jwt_is_refused() {
        let signer = signer();
        for typ in [json!("JWT"), json!("application/statuslist+jwt"), json!(1)] {
            let token = signer.token(|header, _| {
                header.insert("typ".into(), typ);
            });
            assert_eq!(signer.verify(&token), Err(E::WrongType));
        }
        let token = signer.token(|header, _| {
            header.remove("typ");
        });
        assert_eq!(signer.verify(&token), Err(E::WrongType));
    }

    #[test]
    fn a_token_with_an_algorithm_other_than_es256_is_refused() {
        let signer = signer();
        for alg in ["none", "HS256", "ES384"] {
            let mut header = header();
            header.insert("alg".into(), json!(alg));
            header.insert("x5c".into(), signer.x5c.clone());
            let token = sign_es256_as_is(&header, &claims(), &signer.key);
            assert_eq!(signer.verify(&token), Err(E::UnsupportedAlgorithm));
        }
    }

    #[test]
    fn a_token_with_a_bad_signature_is_refused() {
        let signer = signer();
        // Signed by another key than the certificate's.
        let mut header = header();
        header.insert("x5c".into(), signer.x5c.clone());
        let forged = sign_es256(&header, &claims(), &SigningKey::random(&mut OsRng));
        assert_eq!(signer.verify(&forged), Err(E::BadSignature));
        // Claims changed after signing.
        let token = signer.token(|_, _| {});
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut changed = claims();
        changed.insert("sub".into(), json!("https://issuer.example/statuslists/2"));
        parts[1] = b64url_encode(Value::Object(changed).to_string());
        let tampered = parts.join(".");
        let other_uri = "https://issuer.example/statuslists/2";
        assert_eq!(
            verify_token(
                &tampered,
                other_uri,
                TokenKey::Anchors(&signer.anchors),
                NOW,
                MAX
            ),
            Err(E::BadSignature)
        );
        // A key given by the caller that did not sign it.
        let other = SigningKey::random(&mut OsRng);
        assert_eq!(
            verify_token(&token, URI, TokenKey::Key(other.verifying_key()), NOW, MAX),
            Err(E::BadSignature)
        );
    }

    #[test]
    fn a_token_whose_x5c_does_not_chain_to_the_anchors_is_refused() {
        let stranger = signer();
        let signer = signer();
        let token = stranger.token(|_, _| {});
        assert!(matches!(
            signer.verify(&token),
            Err(E::UntrustedIssuer(ChainError::Untrusted(_)))
        ));
        let without_x5c = signer.token(|header, _| {
            header.remove("x5c");
        });
        assert_eq!(
            signer.verify(&without_x5c),
            Err(E::UntrustedIssuer(ChainError::Empty))
        );
        let garbage = signer.token(|header, _| {
            header.insert("x5c".into(), json!(["not base64!"]));
        });
        assert!(matches!(signer.verify(&garbage), Err(E::Malformed(_))));
    }

    #[test]
    fn a_token_for_another_list_is_refused() {
        let signer = signer();
        for sub in [
            json!("https://issuer.example/statuslists/2"),
            json!("https://issuer.example/statuslists/1/"),
            json!(1),
        ] {
            let result = signer.verify_changed(|_, claims| {
                claims.insert("sub".into(), sub);
            });
            assert_eq!(result, Err(E::WrongSubject));
        }
        let result = signer.verify_changed(|_, claims| {
            claims.remove("sub");
        });
        assert_eq!(result, Err(E::WrongSubject));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let signer = signer();
        let result = signer.verify_changed(|_, claims| {
            claims.insert("exp".into(), json!(NOW - LEEWAY_SECS - 1));
        });
        assert_eq!(result, Err(E::Expired));
        let within_leeway = signer.verify_changed(|_, claims| {
            claims.insert("exp".into(), json!(NOW - LEEWAY_SECS));
        });
        assert_eq!(within_leeway.unwrap().exp, Some(NOW - LEEWAY_SECS));
        let not_a_date = signer.verify_changed(|_, claims| {
            claims.insert("exp".into(), json!("tomorrow"));
        });
        assert!(matches!(not_a_date, Err(E::Malformed(_))));
    }

    #[test]
    fn a_token_not_yet_valid_is_refused() {
        let signer = signer();
        let result = signer.verify_changed(|_, claims| {
            claims.insert("nbf".into(), json!(NOW + LEEWAY_SECS + 1));
        });
        assert_eq!(result, Err(E::NotYetValid));
        let valid = signer.verify_changed(|_, claims| {
            claims.insert("nbf".into(), json!(NOW + LEEWAY_SECS));
        });
        assert!(valid.is_ok());
    }

    #[test]
    fn a_token_without_iat_is_refused() {
        let signer = signer();
        let result = signer.verify_changed(|_, claims| {
            claims.remove("iat");
        });
        assert_eq!(result, Err(E::MissingIssuedAt));
        let not_a_date = signer.verify_changed(|_, claims| {
            claims.insert("iat".into(), json!(true));
        });
        assert!(matches!(not_a_date, Err(E::Malformed(_))));
    }

    #[test]
    fn ttl_must_be_a_positive_whole_number_of_seconds() {
        let signer = signer();
        for ttl in [json!(0), json!(-60), json!(1.5), json!("60"), json!(null)] {
            let result = signer.verify_changed(|_, claims| {
                claims.insert("ttl".into(), ttl);
            });
            assert_eq!(result, Err(E::BadTtl));
        }
        let result = signer.verify_changed(|_, claims| {
            claims.insert("ttl".into(), json!(1));
        });
        assert_eq!(result.unwrap().ttl, Some(1));
    }

    #[test]
    fn a_token_without_a_usable_status_list_is_refused() {
        let signer = signer();
        for status_list in [
            None,
            Some(json!("eNrbuRgAAhcBXQ")),
            Some(json!({ "bits": 1 })),
            Some(json!({ "lst": LST_1BIT })),
            Some(json!({ "bits": 1, "lst": 7 })),
        ] {
            let result = signer.verify_changed(|_, claims| match status_list {
                Some(value) => {
                    claims.insert("status_list".into(), value);
                }
                None => {
                    claims.remove("status_list");
                }
            });
            assert!(matches!(result, Err(E::Malformed(_))), "{result:?}");
        }
    }

    // -- Lists

    #[test]
    fn bits_other_than_1_2_4_or_8_are_refused() {
        for bits in [0u8, 3, 5, 16, 255] {
            assert_eq!(StatusList::decode(bits, LST_1BIT, MAX), Err(E::BadBits));
            assert_eq!(StatusList::new(bits, vec![0]), Err(E::BadBits));
        }
        for bits in [
            json!(0),
            json!(3),
            json!(16),
            json!(256),
            json!(-1),
            json!(1.0),
            json!("1"),
        ] {
            let status_list = json!({ "bits": bits, "lst": LST_1BIT });
            assert_eq!(StatusList::from_json(&status_list, MAX), Err(E::BadBits));
        }
        let signer = signer();
        let result = signer.verify_changed(|_, claims| {
            claims.insert("status_list".into(), json!({ "bits": 3, "lst": LST_1BIT }));
        });
        assert_eq!(result, Err(E::BadBits));
        for bits in [1, 2, 4, 8] {
            assert!(StatusList::decode(bits, LST_1BIT, MAX).is_ok());
        }
    }

    #[test]
    fn a_list_expanding_past_the_cap_is_refused() {
        // About 10 KB that expand to 10 MB.
        let bomb = b64url_encode(zlib(&vec![0u8; 10 * 1024 * 1024]));
        assert!(bomb.len() < 20 * 1024);
        assert_eq!(StatusList::decode(1, &bomb, MAX), Err(E::TooLarge));
        let signer = signer();
        let result = signer.verify_changed(|_, claims| {
            claims.insert("status_list".into(), json!({ "bits": 1, "lst": bomb }));
        });
        assert_eq!(result, Err(E::TooLarge));
    }

    #[test]
    fn a_list_of_exactly_the_cap_is_kept_within_it() {
        // Not a power of two: a buffer left to double on its own would
        // reach 2^20 bytes here.
        let cap = 1_000_000;
        let lst = b64url_encode(zlib(&vec![0x55u8; cap]));
        let list = StatusList::decode(2, &lst, cap).unwrap();
        assert_eq!(list.as_bytes().len(), cap);
        assert!(list.bytes.capacity() <= cap);
        assert_eq!(StatusList::decode(2, &lst, cap - 1), Err(E::TooLarge));
        assert_eq!(
            StatusList::decode(1, LST_1BIT, 2).unwrap().as_bytes(),
            BYTES_1BIT
        );
        assert_eq!(StatusList::decode(1, LST_1BIT, 1), Err(E::TooLarge));
    }

    #[test]
    fn lst_that_is_not_base64url_zlib_is_refused() {
        let not_base64url = ["eNrbuRgAAhcBXQ==", "eNrbuRgAAhcBX+", "eNrb uRgAAhcBXQ"];
        for lst in not_base64url {
            assert!(matches!(
                StatusList::decode(1, lst, MAX),
                Err(E::Malformed(_))
            ));
        }
        let stream = hex::decode(ZLIB_1BIT_HEX).unwrap();
        let decode = |bytes: &[u8]| StatusList::decode(1, &b64url_encode(bytes), MAX);
        // Raw DEFLATE, without the ZLIB header and checksum.
        assert_eq!(decode(&stream[2..stream.len() - 4]), Err(E::BadCompression));
        // Cut short.
        assert_eq!(decode(&stream[..stream.len() - 2]), Err(E::BadCompression));
        // A wrong Adler-32 checksum.
        let mut corrupt = stream.clone();
        *corrupt.last_mut().unwrap() ^= 1;
        assert_eq!(decode(&corrupt), Err(E::BadCompression));
        // Bytes after the end of the stream.
        let mut trailing = stream.clone();
        trailing.push(0);
        assert_eq!(decode(&trailing), Err(E::BadCompression));
        assert_eq!(decode(&[]), Err(E::BadCompression));
        assert_eq!(decode(&stream).unwrap().as_bytes(), BYTES_1BIT);
    }

    #[test]
    fn an_index_past_the_end_has_no_status() {
        let list = StatusList::new(1, BYTES_1BIT.to_vec()).unwrap();
        assert_eq!(list.entries(), 16);
        assert_eq!(list.status(15), Some(1));
        assert_eq!(list.status(16), None);
        assert_eq!(list.status(u64::MAX), None);
        let list = StatusList::new(8, vec![7, 255]).unwrap();
        assert_eq!(
            (list.status(0), list.status(1), list.status(2)),
            (Some(7), Some(255), None)
        );
        let list = StatusList::new(4, vec![0x21]).unwrap();
        assert_eq!(
            (list.status(0), list.status(1), list.status(2)),
            (Some(1), Some(2), None)
        );
        assert_eq!(StatusList::new(2, Vec::new()).unwrap().status(0), None);
    }

    // -- References

    #[test]
    fn a_json_status_reference_is_read() {
        // The Referenced Token payload of draft-ietf-oauth-status-list-20 §6.2.
        let payload = json!({
            "status": {
                "status_list": { "idx": 0, "uri": "https://example.com/statuslists/1" }
            }
        });
        assert_eq!(
            reference_from_json(&payload["status"]),
            Ok(Some(StatusReference {
                idx: 0,
                uri: "https://example.com/statuslists/1".into()
            }))
        );
        let large = json!({ "status_list": { "idx": u64::MAX, "uri": URI, "extra": 1 } });
        assert_eq!(reference_from_json(&large).unwrap().unwrap().idx, u64::MAX);
        let other_mechanism = json!({ "identifier_list": { "id": "1", "uri": URI } });
        assert_eq!(reference_from_json(&other_mechanism), Ok(None));
    }

    #[test]
    fn a_malformed_json_status_reference_is_refused() {
        for status in [
            json!({ "status_list": { "idx": -1, "uri": URI } }),
            json!({ "status_list": { "idx": "1", "uri": URI } }),
            json!({ "status_list": { "idx": 1.5, "uri": URI } }),
            json!({ "status_list": { "uri": URI } }),
            json!({ "status_list": { "idx": 1 } }),
            json!({ "status_list": { "idx": 1, "uri": 7 } }),
            json!({ "status_list": { "idx": 1, "uri": "statuslists/1" } }),
            json!({ "status_list": [1, URI] }),
            json!("status"),
        ] {
            assert!(
                matches!(reference_from_json(&status), Err(E::BadReference(_))),
                "{status}"
            );
        }
    }

    fn cbor_text(s: &str) -> Cbor {
        Cbor::Text(s.into())
    }

    fn cbor_status(entries: Vec<(Cbor, Cbor)>) -> Cbor {
        Cbor::Map(vec![(cbor_text("status_list"), Cbor::Map(entries))])
    }

    #[test]
    fn a_cbor_status_reference_is_read() {
        // The Referenced Token CWT of draft-ietf-oauth-status-list-20 §6.3;
        // its claim 65535 holds the status.
        let cwt = hex::decode(concat!(
            "d28443a10126a1044231325866a502653132333435017368747470733a2f2f657861",
            "6d706c652e636f6d061a648c5bea041a8898dfea19ffffa16b7374617475735f6c69",
            "7374a2636964780063757269782168747470733a2f2f6578616d706c652e636f6d2f",
            "7374617475736c697374732f315840340f7efea10f1a36dc4797636a17b4dd4848b6",
            "8997d1d10e8cceb3a38ff33b3dda72964a83989f6cf98560c2fc97a08bc8977cc6b0",
            "f84cfedab93d3e4481e938",
        ))
        .unwrap();
        let Cbor::Tag(18, sign1) = ciborium::from_reader::<Cbor, _>(cwt.as_slice()).unwrap() else {
            panic!("not a COSE_Sign1");
        };
        let Cbor::Array(parts) = *sign1 else {
            panic!("not an array");
        };
        let Cbor::Bytes(payload) = &parts[2] else {
            panic!("no payload");
        };
        let claims = ciborium::from_reader::<Cbor, _>(payload.as_slice()).unwrap();
        let status = claims
            .as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| *k == Cbor::Integer(65535.into()))
            .map(|(_, v)| v)
            .unwrap();
        assert_eq!(
            reference_from_cbor(status),
            Ok(Some(StatusReference {
                idx: 0,
                uri: "https://example.com/statuslists/1".into()
            }))
        );
        let other_mechanism = Cbor::Map(vec![(cbor_text("identifier_list"), Cbor::Map(vec![]))]);
        assert_eq!(reference_from_cbor(&other_mechanism), Ok(None));
    }

    #[test]
    fn a_malformed_cbor_status_reference_is_refused() {
        let idx = |v: Cbor| (cbor_text("idx"), v);
        let uri = |s: &str| (cbor_text("uri"), cbor_text(s));
        for status in [
            cbor_status(vec![idx(Cbor::Integer((-1).into())), uri(URI)]),
            cbor_status(vec![idx(cbor_text("1")), uri(URI)]),
            cbor_status(vec![idx(Cbor::Float(1.0)), uri(URI)]),
            cbor_status(vec![uri(URI)]),
            cbor_status(vec![idx(Cbor::Integer(1.into()))]),
            cbor_status(vec![
                idx(Cbor::Integer(1.into())),
                (cbor_text("uri"), Cbor::Bytes(URI.into())),
            ]),
            cbor_status(vec![idx(Cbor::Integer(1.into())), uri("statuslists/1")]),
            cbor_status(vec![
                idx(Cbor::Integer(1.into())),
                uri(URI),
                uri("https://other.example/1"),
            ]),
            Cbor::Map(vec![(cbor_text("status_list"), cbor_text(URI))]),
            Cbor::Array(vec![]),
        ] {
            assert!(
                matches!(reference_from_cbor(&status), Err(E::BadReference(_))),
                "{status:?}"
            );
        }
    }

    // -- Writing lists

    #[test]
    fn an_encoded_list_decodes_to_the_same_statuses() {
        for (bits, bytes) in [(1, BYTES_1BIT.to_vec()), (2, BYTES_2BIT.to_vec())] {
            let list = StatusList::new(bits, bytes).unwrap();

            let lst = list.encode_lst();

            assert!(!lst.contains(['=', '+', '/']), "{lst}");
            assert_eq!(StatusList::decode(bits, &lst, MAX).unwrap(), list);
        }
    }

    #[test]
    fn set_entries_read_back_and_leave_their_neighbours_alone() {
        let mut list = StatusList::all_valid(2, 1 << 16).unwrap();
        assert_eq!(list.as_bytes().len(), 1 << 14);
        for (idx, status) in [(0, 1), (1, 2), (5, 3), (65_535, 2)] {
            list.set(idx, status).unwrap();
        }
        list.set(5, 1).unwrap();

        let decoded = StatusList::decode(2, &list.encode_lst(), MAX).unwrap();

        let nonzero: Vec<(u64, u8)> = (0..decoded.entries())
            .filter_map(|i| decoded.status(i).filter(|s| *s != 0).map(|s| (i, s)))
            .collect();
        assert_eq!(nonzero, [(0, 1), (1, 2), (5, 1), (65_535, 2)]);
        // A mostly valid list compresses to next to nothing.
        assert!(list.encode_lst().len() < 200);
    }

    #[test]
    fn set_refuses_an_index_past_the_end_or_a_status_too_wide() {
        let mut list = StatusList::all_valid(2, 8).unwrap();
        assert!(matches!(list.set(8, 1), Err(E::Malformed(_))));
        assert!(matches!(list.set(u64::MAX, 1), Err(E::Malformed(_))));
        assert!(matches!(list.set(0, 4), Err(E::Malformed(_))));
        assert_eq!(StatusList::all_valid(3, 8), Err(E::BadBits));
        assert_eq!(list, StatusList::all_valid(2, 8).unwrap());
    }

    #[test]
    fn a_written_reference_reads_back_in_both_forms() {
        let reference = StatusReference {
            idx: 70_000,
            uri: URI.to_owned(),
        };

        let json = reference.to_json();
        let cbor = reference.to_cbor();

        assert_eq!(
            json,
            json!({ "status_list": { "idx": 70_000, "uri": URI } })
        );
        assert_eq!(reference_from_json(&json), Ok(Some(reference.clone())));
        assert_eq!(reference_from_cbor(&cbor), Ok(Some(reference)));
    }
}
