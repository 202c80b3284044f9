//! Verification of an SD-JWT VC presentation with key binding (RFC 9901,
//! SD-JWT VC), as DESIGN 4a profiles it: `<issuer-jwt>~<disclosure>~…~<kb-jwt>`.
//!
//! Each rule is one small function below, run in this order by
//! [`verify_presentation`]; each has a test that fails without it.
//!
//! Choices the specifications leave open:
//! - `nbf` or `iat` of the credential in the future (beyond the leeway) gives
//!   `expired_credential`: the credential is outside its validity period.
//! - An issuer certificate that is expired gives `untrusted_issuer` (the
//!   chain is not valid now); a leaf key that is not P-256 gives
//!   `invalid_signature` (it cannot have made an ES256 signature).
//! - A missing key-binding JWT gives `invalid_key_binding`.
//!
//! A [`Rejection`]'s `detail` names the rule, never a claim value.

use super::failure::FailureReason;
use super::jose::{JoseError, Jwk, Jws, b64url_decode, b64url_encode, parse_json};
use super::status_list::{StatusReference, reference_from_json};
use super::x509::{ChainError, TrustAnchors, decode_x5c, verify_chain};
use p256::ecdsa::VerifyingKey;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// The longest presentation accepted.
pub const MAX_PRESENTATION_LEN: usize = 256 * 1024;
/// The most disclosures a presentation may carry.
pub const MAX_DISCLOSURES: usize = 256;
/// The deepest nesting of objects and arrays (through disclosures too) resolved.
pub const MAX_DEPTH: usize = 32;
/// Clock skew allowed on `exp`, `nbf`, `iat`.
pub const LEEWAY_SECS: i64 = 60;
/// How old a key-binding JWT may be.
pub const KB_MAX_AGE_SECS: i64 = 300;

pub const TYP_SD_JWT_VC: &str = "dc+sd-jwt";
/// What wallets sent before the media type was renamed.
pub const TYP_SD_JWT_VC_LEGACY: &str = "vc+sd-jwt";
pub const TYP_KB_JWT: &str = "kb+jwt";
pub const SD_ALG: &str = "sha-256";

/// What the presentation must match.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    pub trust: &'a TrustAnchors,
    pub vct_values: &'a [String],
    pub nonce: &'a str,
    /// The verifier's `client_id`.
    pub audience: &'a str,
    /// Unix seconds.
    pub now: i64,
}

pub use super::outcome::{Rejection, Verified};
use super::outcome::{invalid, reject};

/// Runs every check of DESIGN 4a on `presentation`.
pub fn verify_presentation(
    presentation: &str,
    expect: &Expectations<'_>,
) -> Result<Verified, Rejection> {
    let parts = split_presentation(presentation)?;
    let issuer_jwt = parse_issuer_jwt(parts.issuer_jwt)?;
    check_issuer_typ(issuer_jwt.header())?;
    let issuer_key = issuer_key(issuer_jwt.header(), expect.trust, expect.now)?;
    check_issuer_signature(&issuer_jwt, &issuer_key)?;
    let payload = issuer_jwt.payload();
    check_vct(payload, expect.vct_values)?;
    check_validity(payload, expect.now)?;
    check_sd_alg(payload)?;
    let holder_key = holder_key(payload)?;
    let disclosures = parse_disclosures(&parts.disclosures)?;
    let status = status_reference(payload)?;
    let claims = resolve_disclosures(payload, disclosures)?;
    check_status_not_disclosed(payload, &claims)?;
    let kb = parse_kb_jwt(parts.kb_jwt)?;
    check_kb_typ(kb.header())?;
    check_kb_signature(&kb, &holder_key)?;
    check_kb_nonce(kb.payload(), expect.nonce)?;
    check_kb_audience(kb.payload(), expect.audience)?;
    check_kb_iat(kb.payload(), expect.now)?;
    check_sd_hash(kb.payload(), parts.sd_hash_input)?;
    Ok(Verified {
        claims,
        status,
        issuer_key,
    })
}

/// The issuer's `status` claim (draft-ietf-oauth-status-list §6.2), read
/// from what the issuer signed in the clear.
pub fn status_reference(
    payload: &Map<String, Value>,
) -> Result<Option<StatusReference>, Rejection> {
    match payload.get("status") {
        None => Ok(None),
        Some(status) => {
            reference_from_json(status).map_err(|e| invalid(format!("status claim: {e}")))
        }
    }
}

/// SD-JWT VC requires `status` in the clear: one a holder could withhold
/// would let a revoked credential pass as one without a status.
pub fn check_status_not_disclosed(
    payload: &Map<String, Value>,
    claims: &Value,
) -> Result<(), Rejection> {
    if !payload.contains_key("status") && claims.get("status").is_some() {
        return Err(invalid("status is selectively disclosable"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Shape

/// A presentation cut at its `~` separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts<'a> {
    pub issuer_jwt: &'a str,
    pub disclosures: Vec<&'a str>,
    pub kb_jwt: &'a str,
    /// Everything up to and including the last `~`: what `sd_hash` covers.
    pub sd_hash_input: &'a str,
}

pub fn split_presentation(presentation: &str) -> Result<Parts<'_>, Rejection> {
    if presentation.len() > MAX_PRESENTATION_LEN {
        return Err(invalid("presentation too large"));
    }
    let Some(last) = presentation.rfind('~') else {
        return Err(invalid("not an SD-JWT: no ~ separator"));
    };
    let (sd_hash_input, kb_jwt) = presentation.split_at(last + 1);
    let mut segments = presentation[..last].split('~');
    let issuer_jwt = segments.next().unwrap_or_default();
    if issuer_jwt.is_empty() {
        return Err(invalid("the issuer-signed JWT is empty"));
    }
    let disclosures: Vec<&str> = segments.collect();
    if disclosures.len() > MAX_DISCLOSURES {
        return Err(invalid("too many disclosures"));
    }
    if disclosures.iter().any(|d| d.is_empty()) {
        return Err(invalid("empty disclosure (~~)"));
    }
    if kb_jwt.is_empty() {
        return Err(reject(
            FailureReason::InvalidKeyBinding,
            "no key-binding JWT after the last ~",
        ));
    }
    Ok(Parts {
        issuer_jwt,
        disclosures,
        kb_jwt,
        sd_hash_input,
    })
}

// ---------------------------------------------------------------------------
// The issuer-signed JWT

/// Parses the issuer JWT; an algorithm outside the allow-list (`none`
/// included) is a signature failure, anything else malformed is invalid.
pub fn parse_issuer_jwt(compact: &str) -> Result<Jws, Rejection> {
    Jws::parse(compact).map_err(|e| match e {
        JoseError::UnsupportedAlgorithm => reject(
            FailureReason::InvalidSignature,
            "issuer JWT algorithm not allowed",
        ),
        other => invalid(format!("issuer JWT: {other}")),
    })
}

pub fn check_issuer_typ(header: &Map<String, Value>) -> Result<(), Rejection> {
    match header.get("typ").and_then(Value::as_str) {
        Some(TYP_SD_JWT_VC | TYP_SD_JWT_VC_LEGACY) => Ok(()),
        _ => Err(invalid("issuer JWT typ is not dc+sd-jwt")),
    }
}

/// The key of the issuer certificate, after its `x5c` chain is validated
/// against `trust` at `now`.
pub fn issuer_key(
    header: &Map<String, Value>,
    trust: &TrustAnchors,
    now: i64,
) -> Result<VerifyingKey, Rejection> {
    let chain = decode_x5c(header.get("x5c")).map_err(|e| match e {
        ChainError::Empty => reject(FailureReason::UntrustedIssuer, "issuer JWT has no x5c"),
        other => invalid(format!("issuer JWT: {other}")),
    })?;
    verify_chain(&chain, trust, now).map_err(|e| match e {
        ChainError::UnsupportedKey => reject(FailureReason::InvalidSignature, e.to_string()),
        other => reject(FailureReason::UntrustedIssuer, other.to_string()),
    })
}

pub fn check_issuer_signature(jws: &Jws, key: &VerifyingKey) -> Result<(), Rejection> {
    jws.verify(key).map_err(|_| {
        reject(
            FailureReason::InvalidSignature,
            "issuer JWT signature does not verify with the certificate's key",
        )
    })
}

pub fn check_vct(payload: &Map<String, Value>, expected: &[String]) -> Result<(), Rejection> {
    match payload.get("vct").and_then(Value::as_str) {
        Some(vct) if expected.iter().any(|e| e == vct) => Ok(()),
        Some(_) => Err(invalid("vct is not one of the requested types")),
        None => Err(invalid("vct is missing")),
    }
}

/// A JWT NumericDate: a number of seconds, possibly fractional (rounded
/// down). Status List Tokens read theirs with it too.
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, &'static str> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else {
                match n.as_f64() {
                    // Saturating: far-off dates compare correctly without overflow.
                    Some(f) if f.is_finite() => Ok(Some(f.floor() as i64)),
                    _ => Err("a date claim is out of range"),
                }
            }
        }
        Some(_) => Err("a date claim is not a number"),
    }
}

/// `exp` required and not passed, `nbf` and `iat` (optional) not in the
/// future; each with [`LEEWAY_SECS`].
pub fn check_validity(payload: &Map<String, Value>, now: i64) -> Result<(), Rejection> {
    let exp = numeric_date(payload, "exp")
        .map_err(invalid)?
        .ok_or_else(|| invalid("exp is missing"))?;
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err(reject(
            FailureReason::ExpiredCredential,
            "credential expired",
        ));
    }
    if let Some(nbf) = numeric_date(payload, "nbf").map_err(invalid)? {
        if nbf > now.saturating_add(LEEWAY_SECS) {
            return Err(reject(
                FailureReason::ExpiredCredential,
                "credential not yet valid (nbf)",
            ));
        }
    }
    if let Some(iat) = numeric_date(payload, "iat").map_err(invalid)? {
        if iat > now.saturating_add(LEEWAY_SECS) {
            return Err(reject(
                FailureReason::ExpiredCredential,
                "credential issued in the future (iat)",
            ));
        }
    }
    Ok(())
}

pub fn check_sd_alg(payload: &Map<String, Value>) -> Result<(), Rejection> {
    match payload.get("_sd_alg") {
        None => Ok(()),
        Some(Value::String(alg)) if alg == SD_ALG => Ok(()),
        Some(_) => Err(invalid("_sd_alg is not sha-256")),
    }
}

/// The holder's key from `cnf.jwk`.
pub fn holder_key(payload: &Map<String, Value>) -> Result<VerifyingKey, Rejection> {
    let jwk = payload
        .get("cnf")
        .and_then(|cnf| cnf.get("jwk"))
        .ok_or_else(|| {
            reject(
                FailureReason::InvalidKeyBinding,
                "credential has no cnf.jwk",
            )
        })?;
    Jwk::from_value(jwk)
        .and_then(|jwk| jwk.to_verifying_key())
        .map_err(|e| reject(FailureReason::InvalidKeyBinding, format!("cnf.jwk: {e}")))
}

// ---------------------------------------------------------------------------
// Disclosures

/// What a disclosure reveals.
#[derive(Debug, Clone, PartialEq)]
pub enum DisclosureKind {
    /// `[salt, name, value]`: an object member.
    Property { name: String, value: Value },
    /// `[salt, value]`: an array element.
    Element { value: Value },
}

/// One disclosure, as received or as made by an issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    /// The base64url text exactly as it appears in the SD-JWT.
    pub encoded: String,
    /// base64url(SHA-256(ASCII of `encoded`)): what the payload references.
    pub digest: String,
    pub salt: String,
    pub kind: DisclosureKind,
}

/// The SD-JWT digest of a disclosure or of a presentation prefix:
/// base64url(SHA-256(ASCII of the text)).
pub fn sd_digest(text: &str) -> String {
    b64url_encode(Sha256::digest(text.as_bytes()))
}

impl Disclosure {
    pub fn property(salt: &str, name: &str, value: &Value) -> Disclosure {
        let array = Value::Array(vec![salt.into(), name.into(), value.clone()]);
        Disclosure::encode(
            &array,
            salt,
            DisclosureKind::Property {
                name: name.to_owned(),
                value: value.clone(),
            },
        )
    }

    pub fn element(salt: &str, value: &Value) -> Disclosure {
        let array = Value::Array(vec![salt.into(), value.clone()]);
        Disclosure::encode(
            &array,
            salt,
            DisclosureKind::Element {
                value: value.clone(),
            },
        )
    }

    fn encode(array: &Value, salt: &str, kind: DisclosureKind) -> Disclosure {
        let encoded = b64url_encode(array.to_string());
        Disclosure {
            digest: sd_digest(&encoded),
            encoded,
            salt: salt.to_owned(),
            kind,
        }
    }

    /// Reads a received disclosure; the digest is over the text as received.
    pub fn parse(encoded: &str) -> Result<Disclosure, Rejection> {
        let bytes = b64url_decode(encoded).map_err(|_| invalid("disclosure is not base64url"))?;
        let Value::Array(items) =
            parse_json(&bytes).map_err(|e| invalid(format!("disclosure: {e}")))?
        else {
            return Err(invalid("disclosure is not a JSON array"));
        };
        let (salt, kind) = match <[Value; 3]>::try_from(items) {
            Ok([Value::String(salt), Value::String(name), value]) => {
                check_disclosed_name(&name)?;
                (salt, DisclosureKind::Property { name, value })
            }
            Ok(_) => return Err(invalid("disclosure salt or claim name is not a string")),
            Err(items) => match <[Value; 2]>::try_from(items) {
                Ok([Value::String(salt), value]) => (salt, DisclosureKind::Element { value }),
                Ok(_) => return Err(invalid("disclosure salt is not a string")),
                Err(_) => return Err(invalid("disclosure has neither 2 nor 3 elements")),
            },
        };
        Ok(Disclosure {
            encoded: encoded.to_owned(),
            digest: sd_digest(encoded),
            salt,
            kind,
        })
    }
}

/// `_sd` and `...` are SD-JWT's own keys; a disclosure naming them would
/// smuggle digests past the checks.
pub fn check_disclosed_name(name: &str) -> Result<(), Rejection> {
    if name == "_sd" || name == "..." {
        return Err(invalid("disclosure uses a reserved claim name"));
    }
    Ok(())
}

/// Parses every disclosure, indexed by digest; the same disclosure twice is
/// refused.
pub fn parse_disclosures(encoded: &[&str]) -> Result<HashMap<String, Disclosure>, Rejection> {
    let mut by_digest = HashMap::with_capacity(encoded.len());
    for text in encoded {
        let disclosure = Disclosure::parse(text)?;
        if by_digest
            .insert(disclosure.digest.clone(), disclosure)
            .is_some()
        {
            return Err(invalid("the same disclosure is sent twice"));
        }
    }
    Ok(by_digest)
}

/// Puts every disclosure in place of its digest (recursively: a disclosed
/// value may hold further digests), removes undisclosed digests, `_sd` and
/// `_sd_alg`, and refuses: a digest seen twice anywhere, a disclosure no
/// digest references, a disclosed name already present at its level, an
/// element disclosure referenced from `_sd` or a property disclosure from an
/// array, a malformed `_sd` or `...`, and nesting beyond [`MAX_DEPTH`].
pub fn resolve_disclosures(
    payload: &Map<String, Value>,
    disclosures: HashMap<String, Disclosure>,
) -> Result<Value, Rejection> {
    let mut resolver = Resolver {
        disclosures,
        seen: HashSet::new(),
    };
    let mut claims = resolver.object(payload, 0)?;
    if !resolver.disclosures.is_empty() {
        return Err(invalid("a disclosure is not referenced by any digest"));
    }
    claims.remove("_sd_alg");
    Ok(Value::Object(claims))
}

struct Resolver {
    /// Not yet used; each is taken out when its digest is met.
    disclosures: HashMap<String, Disclosure>,
    /// Every digest met so far, disclosed or not.
    seen: HashSet<String>,
}

impl Resolver {
    fn value(&mut self, value: &Value, depth: usize) -> Result<Value, Rejection> {
        match value {
            Value::Object(map) => Ok(Value::Object(self.object(map, depth + 1)?)),
            Value::Array(items) => Ok(Value::Array(self.array(items, depth + 1)?)),
            other => Ok(other.clone()),
        }
    }

    fn see(&mut self, digest: &str) -> Result<Option<Disclosure>, Rejection> {
        if !self.seen.insert(digest.to_owned()) {
            return Err(invalid("a digest appears more than once"));
        }
        Ok(self.disclosures.remove(digest))
    }

    fn object(
        &mut self,
        map: &Map<String, Value>,
        depth: usize,
    ) -> Result<Map<String, Value>, Rejection> {
        if depth > MAX_DEPTH {
            return Err(invalid("claims nested too deeply"));
        }
        let mut out = Map::new();
        for (name, value) in map {
            if name != "_sd" {
                out.insert(name.clone(), self.value(value, depth)?);
            }
        }
        let Some(sd) = map.get("_sd") else {
            return Ok(out);
        };
        let Value::Array(digests) = sd else {
            return Err(invalid("_sd is not an array"));
        };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(invalid("_sd holds a non-string"));
            };
            match self.see(digest)? {
                None => {} // undisclosed or a decoy
                Some(Disclosure {
                    kind: DisclosureKind::Property { name, value },
                    ..
                }) => {
                    if out.contains_key(&name) {
                        return Err(invalid(
                            "a disclosed claim name already exists at its level",
                        ));
                    }
                    let value = self.value(&value, depth)?;
                    out.insert(name, value);
                }
                Some(_) => {
                    return Err(invalid(
                        "an array element disclosure is referenced from _sd",
                    ));
                }
            }
        }
        Ok(out)
    }

    fn array(&mut self, items: &[Value], depth: usize) -> Result<Vec<Value>, Rejection> {
        if depth > MAX_DEPTH {
            return Err(invalid("claims nested too deeply"));
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let digest = match item {
                Value::Object(map) if map.contains_key("...") => {
                    match (map.len(), map.get("...")) {
                        (1, Some(Value::String(digest))) => digest,
                        _ => return Err(invalid("malformed array element digest {\"...\": …}")),
                    }
                }
                other => {
                    out.push(self.value(other, depth)?);
                    continue;
                }
            };
            match self.see(digest)? {
                None => {}
                Some(Disclosure {
                    kind: DisclosureKind::Element { value },
                    ..
                }) => out.push(self.value(&value, depth)?),
                Some(_) => {
                    return Err(invalid(
                        "an object property disclosure is referenced from an array",
                    ));
                }
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Key binding

pub fn parse_kb_jwt(compact: &str) -> Result<Jws, Rejection> {
    Jws::parse(compact).map_err(|e| {
        reject(
            FailureReason::InvalidKeyBinding,
            format!("key-binding JWT: {e}"),
        )
    })
}

pub fn check_kb_typ(header: &Map<String, Value>) -> Result<(), Rejection> {
    match header.get("typ").and_then(Value::as_str) {
        Some(TYP_KB_JWT) => Ok(()),
        _ => Err(reject(
            FailureReason::InvalidKeyBinding,
            "key-binding JWT typ is not kb+jwt",
        )),
    }
}

pub fn check_kb_signature(kb: &Jws, holder_key: &VerifyingKey) -> Result<(), Rejection> {
    kb.verify(holder_key).map_err(|_| {
        reject(
            FailureReason::InvalidKeyBinding,
            "key-binding JWT is not signed by cnf.jwk",
        )
    })
}

pub fn check_kb_nonce(kb: &Map<String, Value>, nonce: &str) -> Result<(), Rejection> {
    match kb.get("nonce").and_then(Value::as_str) {
        Some(n) if n == nonce => Ok(()),
        _ => Err(reject(
            FailureReason::InvalidKeyBinding,
            "key-binding nonce is not the request's",
        )),
    }
}

pub fn check_kb_audience(kb: &Map<String, Value>, audience: &str) -> Result<(), Rejection> {
    match kb.get("aud").and_then(Value::as_str) {
        Some(aud) if aud == audience => Ok(()),
        _ => Err(reject(
            FailureReason::InvalidKeyBinding,
            "key-binding aud is not the verifier's client_id",
        )),
    }
}

/// `iat` required, at most [`KB_MAX_AGE_SECS`] old and at most
/// [`LEEWAY_SECS`] in the future.
pub fn check_kb_iat(kb: &Map<String, Value>, now: i64) -> Result<(), Rejection> {
    let iat = numeric_date(kb, "iat").ok().flatten().ok_or_else(|| {
        reject(
            FailureReason::InvalidKeyBinding,
            "key-binding iat missing or not a number",
        )
    })?;
    if iat > now.saturating_add(LEEWAY_SECS) {
        return Err(reject(
            FailureReason::InvalidKeyBinding,
            "key-binding iat in the future",
        ));
    }
    if now.saturating_sub(iat) > KB_MAX_AGE_SECS {
        return Err(reject(
            FailureReason::InvalidKeyBinding,
            "key-binding JWT too old",
        ));
    }
    Ok(())
}

/// `sd_hash` binds the key-binding JWT to exactly the issuer JWT and the
/// disclosures sent with it.
pub fn check_sd_hash(kb: &Map<String, Value>, sd_hash_input: &str) -> Result<(), Rejection> {
    match kb.get("sd_hash").and_then(Value::as_str) {
        Some(hash) if hash == sd_digest(sd_hash_input) => Ok(()),
        _ => Err(reject(
            FailureReason::InvalidKeyBinding,
            "sd_hash does not match the presentation",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oid4vp::holder::{Issuer, UnsignedSdJwt, pid_claims, present, random_salt};
    use crate::oid4vp::jose::{sign_es256, sign_es256_as_is};
    use crate::oid4vp::x509::{CertificateAuthority, Validity};
    use p256::ecdsa::SigningKey;
    use rand::rngs::OsRng;
    use serde_json::json;

    const NOW: i64 = 1_750_000_000;
    const VCT: &str = "urn:eudi:pid:1";
    const NONCE: &str = "nonce-6tYx0Qe2";
    const AUD: &str = "x509_hash:verifier";

    struct World {
        issuer: Issuer,
        anchors: TrustAnchors,
        holder: SigningKey,
        vct: Vec<String>,
    }

    fn validity() -> Validity {
        Validity::days_from(NOW, 365)
    }

    fn issuer_under(root: &CertificateAuthority, validity: Validity) -> Issuer {
        let key = SigningKey::random(&mut OsRng);
        let leaf = root
            .issue_leaf(
                &p256::PublicKey::from(key.verifying_key()),
                "PID issuer",
                validity,
            )
            .unwrap();
        Issuer::new(key, vec![leaf])
    }

    fn world() -> World {
        let root = CertificateAuthority::new("PID root", validity()).unwrap();
        World {
            issuer: issuer_under(&root, validity()),
            anchors: TrustAnchors::from_der([root.certificate_der().as_slice()]).unwrap(),
            holder: SigningKey::random(&mut OsRng),
            vct: vec![VCT.to_owned()],
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    impl World {
        fn expect(&self) -> Expectations<'_> {
            Expectations {
                trust: &self.anchors,
                vct_values: &self.vct,
                nonce: NONCE,
                audience: AUD,
                now: NOW,
            }
        }

        fn holder_jwk(&self) -> Jwk {
            Jwk::from_verifying_key(self.holder.verifying_key())
        }

        fn unsigned(&self) -> UnsignedSdJwt {
            self.issuer.prepare(
                &pid_claims::<&str>(&[]).unwrap(),
                &self.holder_jwk(),
                VCT,
                NOW - 3600,
                NOW + 86_400,
            )
        }

        /// All disclosures and a valid key-binding JWT.
        fn present(&self, sd_jwt: &str) -> String {
            present(sd_jwt, |_| true, &self.holder, NONCE, AUD, NOW).unwrap()
        }

        /// Signs and sends every disclosure as is, past the wallet's
        /// selection (which would drop a disclosure it cannot place).
        fn send(&self, unsigned: &UnsignedSdJwt) -> String {
            let signed = self.issuer.sign(unsigned);
            self.finish(jwt_of(&signed), &unsigned.disclosures)
        }

        fn valid(&self) -> String {
            self.present(&self.issuer.sign(&self.unsigned()))
        }

        fn with_payload(&self, change: impl FnOnce(&mut Map<String, Value>)) -> String {
            let mut unsigned = self.unsigned();
            change(&mut unsigned.payload);
            self.present(&self.issuer.sign(&unsigned))
        }

        fn with_header(&self, change: impl FnOnce(&mut Map<String, Value>)) -> String {
            let mut unsigned = self.unsigned();
            change(&mut unsigned.header);
            self.present(&self.issuer.sign(&unsigned))
        }

        /// `jwt~d1~…~dn~` with a valid key-binding JWT over it.
        fn finish(&self, jwt: &str, disclosures: &[String]) -> String {
            let mut sd_jwt = format!("{jwt}~");
            for d in disclosures {
                sd_jwt.push_str(d);
                sd_jwt.push('~');
            }
            self.kb_with(&sd_jwt, |_, _| {})
        }

        /// `sd_jwt` (ending with `~`) and a key-binding JWT changed by `change`.
        fn kb_with(
            &self,
            sd_jwt: &str,
            change: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>),
        ) -> String {
            let mut header = obj(json!({"typ": "kb+jwt"}));
            let mut claims = obj(json!({
                "iat": NOW, "nonce": NONCE, "aud": AUD, "sd_hash": sd_digest(sd_jwt)
            }));
            change(&mut header, &mut claims);
            format!("{sd_jwt}{}", sign_es256(&header, &claims, &self.holder))
        }

        fn verify(&self, presentation: &str) -> Result<Verified, Rejection> {
            verify_presentation(presentation, &self.expect())
        }

        fn reason(&self, presentation: &str) -> FailureReason {
            match self.verify(presentation) {
                Ok(_) => panic!("accepted"),
                Err(r) => r.reason,
            }
        }
    }

    /// The issuer JWT of an SD-JWT.
    fn jwt_of(sd_jwt: &str) -> &str {
        sd_jwt.split('~').next().unwrap()
    }

    /// The SD-JWT without key binding: everything up to the last `~`.
    fn without_kb(presentation: &str) -> &str {
        &presentation[..=presentation.rfind('~').unwrap()]
    }

    // --- the whole flow ---

    #[test]
    fn a_status_reference_signed_in_the_clear_comes_with_the_claims_and_the_issuer_key() {
        let w = world();
        let reference = json!({"status_list": {"idx": 7, "uri": "https://issuer.example/lists/1"}});
        let presentation = w.with_payload(|p| {
            p.insert("status".into(), reference);
        });
        let verified = w.verify(&presentation).unwrap();
        assert_eq!(
            verified.status,
            Some(StatusReference {
                idx: 7,
                uri: "https://issuer.example/lists/1".into()
            })
        );
        assert_eq!(verified.issuer_key, w.issuer.verifying_key());
        assert_eq!(w.verify(&w.valid()).unwrap().status, None);
    }

    #[test]
    fn a_malformed_status_reference_is_an_invalid_presentation() {
        let w = world();
        let presentation = w.with_payload(|p| {
            p.insert(
                "status".into(),
                json!({"status_list": {"idx": -1, "uri": "https://issuer.example/l"}}),
            );
        });
        assert_eq!(w.reason(&presentation), FailureReason::InvalidPresentation);
    }

    #[test]
    fn a_selectively_disclosable_status_is_an_invalid_presentation() {
        // A holder could leave it out, and a revoked credential would pass
        // as one without a status.
        let w = world();
        let mut claims = pid_claims::<&str>(&[]).unwrap();
        claims.insert(
            "status".into(),
            json!({"status_list": {"idx": 7, "uri": "https://issuer.example/lists/1"}}),
        );
        let unsigned = w
            .issuer
            .prepare(&claims, &w.holder_jwk(), VCT, NOW - 3600, NOW + 86_400);
        let presentation = w.present(&w.issuer.sign(&unsigned));
        let rejection = w.verify(&presentation).unwrap_err();
        assert_eq!(rejection.reason, FailureReason::InvalidPresentation);
        assert_eq!(rejection.detail, "status is selectively disclosable");
    }

    #[test]
    fn a_valid_presentation_yields_the_disclosed_claims() {
        let w = world();
        let verified = w.verify(&w.valid()).unwrap();
        let claims = verified.claims;
        assert_eq!(claims["given_name"], "Sanne");
        assert_eq!(claims["age_equal_or_over"], json!({"18": true, "21": true}));
        assert_eq!(claims["nationalities"], json!(["NL"]));
        assert_eq!(claims["vct"], VCT);
        assert_eq!(claims["cnf"]["jwk"], w.holder_jwk().to_value());
        let text = claims.to_string();
        assert!(!text.contains("\"_sd\""), "{text}");
        assert!(!text.contains("_sd_alg"), "{text}");
        assert!(!text.contains("\"...\""), "{text}");
    }

    #[test]
    fn a_selective_presentation_reveals_only_what_was_selected() {
        let w = world();
        let sd_jwt = w.issuer.sign(&w.unsigned());
        let presentation = present(
            &sd_jwt,
            |p| p == ["age_equal_or_over", "18"],
            &w.holder,
            NONCE,
            AUD,
            NOW,
        )
        .unwrap();
        let claims = w.verify(&presentation).unwrap().claims;
        assert_eq!(claims["age_equal_or_over"], json!({"18": true}));
        assert!(claims.get("given_name").is_none());
        assert!(claims.get("nationalities").is_none());
    }

    #[test]
    fn undisclosed_digests_and_array_elements_are_removed() {
        let w = world();
        let decoy = sd_digest("decoy");
        let shown = Disclosure::element(&random_salt(), &json!("FR"));
        let presentation = {
            let mut unsigned = w.unsigned();
            unsigned.payload.insert(
                "languages".into(),
                json!(["nl", {"...": decoy}, {"...": shown.digest}]),
            );
            unsigned.disclosures.push(shown.encoded.clone());
            w.present(&w.issuer.sign(&unsigned))
        };
        let claims = w.verify(&presentation).unwrap().claims;
        assert_eq!(claims["languages"], json!(["nl", "FR"]));
    }

    // --- shape and limits ---

    #[test]
    fn presentation_parts_are_split_at_the_last_tilde() {
        let parts = split_presentation("jwt~d1~d2~kb").unwrap();
        assert_eq!(parts.issuer_jwt, "jwt");
        assert_eq!(parts.disclosures, ["d1", "d2"]);
        assert_eq!(parts.kb_jwt, "kb");
        assert_eq!(parts.sd_hash_input, "jwt~d1~d2~");
        let bare = split_presentation("jwt~kb").unwrap();
        assert!(bare.disclosures.is_empty());
    }

    #[test]
    fn malformed_presentations_are_invalid() {
        let w = world();
        for bad in ["", "abc", "~kb", "a.b.c~d1~~kb", "a.b.c~d1~\u{0}~kb"] {
            assert_eq!(w.reason(bad), FailureReason::InvalidPresentation, "{bad:?}");
        }
    }

    #[test]
    fn an_empty_disclosure_is_invalid() {
        let w = world();
        let unsigned = w.unsigned();
        let mut disclosures = unsigned.disclosures.clone();
        disclosures.push(String::new());
        let signed = w.issuer.sign(&unsigned);
        let presentation = w.finish(jwt_of(&signed), &disclosures);
        assert!(presentation.contains("~~"));
        assert_eq!(
            w.verify(&presentation).unwrap_err(),
            reject(FailureReason::InvalidPresentation, "empty disclosure (~~)")
        );
    }

    #[test]
    fn a_presentation_over_the_size_cap_is_invalid() {
        let w = world();
        let valid = w.valid();
        let padded = format!(
            "{}{}",
            "A".repeat(MAX_PRESENTATION_LEN + 1 - valid.len()),
            valid
        );
        let rejection = w.verify(&padded).unwrap_err();
        assert_eq!(rejection.detail, "presentation too large");
    }

    #[test]
    fn too_many_disclosures_are_invalid() {
        let w = world();
        let mut unsigned = w.unsigned();
        let mut digests = Vec::new();
        for i in 0..MAX_DISCLOSURES {
            let d = Disclosure::property(&random_salt(), &format!("extra{i}"), &json!(i));
            digests.push(Value::from(d.digest));
            unsigned.disclosures.push(d.encoded);
        }
        unsigned
            .payload
            .insert("more".into(), json!({"_sd": digests}));
        let rejection = w.verify(&w.present(&w.issuer.sign(&unsigned))).unwrap_err();
        assert_eq!(rejection.reason, FailureReason::InvalidPresentation);
        assert_eq!(rejection.detail, "too many disclosures");
    }

    #[test]
    fn deep_nesting_is_invalid() {
        let w = world();
        let mut deep = json!("bottom");
        for _ in 0..=MAX_DEPTH {
            deep = json!({ "x": deep });
        }
        let presentation = w.with_payload(|p| {
            p.insert("deep".into(), deep);
        });
        assert_eq!(
            w.verify(&presentation).unwrap_err().detail,
            "claims nested too deeply"
        );
    }

    #[test]
    fn deep_nesting_through_disclosures_is_invalid() {
        let w = world();
        let mut unsigned = w.unsigned();
        let mut value = json!("bottom");
        for _ in 0..=MAX_DEPTH {
            let d = Disclosure::property(&random_salt(), "x", &value);
            unsigned.disclosures.push(d.encoded);
            value = json!({ "_sd": [d.digest] });
        }
        unsigned.payload.insert("deep".into(), value);
        let presentation = w.present(&w.issuer.sign(&unsigned));
        assert_eq!(
            w.verify(&presentation).unwrap_err().detail,
            "claims nested too deeply"
        );
    }

    // --- issuer JWT ---

    #[test]
    fn issuer_typ_must_be_dc_sd_jwt_or_legacy_vc_sd_jwt() {
        let w = world();
        let legacy = w.with_header(|h| {
            h.insert("typ".into(), json!("vc+sd-jwt"));
        });
        assert!(w.verify(&legacy).is_ok());
        for typ in [json!("JWT"), json!("kb+jwt"), json!(null)] {
            let p = w.with_header(|h| {
                h.insert("typ".into(), typ.clone());
            });
            assert_eq!(w.reason(&p), FailureReason::InvalidPresentation, "{typ}");
        }
        let no_typ = w.with_header(|h| {
            h.remove("typ");
        });
        assert_eq!(
            w.verify(&no_typ).unwrap_err().detail,
            "issuer JWT typ is not dc+sd-jwt"
        );
    }

    #[test]
    fn issuer_jwt_with_alg_none_is_an_invalid_signature() {
        let w = world();
        let unsigned = w.unsigned();
        let mut header = unsigned.header.clone();
        header.insert("alg".into(), json!("none"));
        let jwt = format!(
            "{}.{}.",
            b64url_encode(Value::Object(header).to_string()),
            b64url_encode(Value::Object(unsigned.payload.clone()).to_string())
        );
        assert_eq!(
            w.reason(&w.finish(&jwt, &unsigned.disclosures)),
            FailureReason::InvalidSignature
        );
    }

    #[test]
    fn issuer_jwt_with_an_hmac_alg_is_an_invalid_signature() {
        let w = world();
        let unsigned = w.unsigned();
        let mut header = unsigned.header.clone();
        header.insert("alg".into(), json!("HS256"));
        let key = SigningKey::random(&mut OsRng);
        let jwt = sign_es256_as_is(&header, &unsigned.payload, &key);
        assert_eq!(
            w.reason(&w.finish(&jwt, &unsigned.disclosures)),
            FailureReason::InvalidSignature
        );
    }

    #[test]
    fn issuer_chained_to_an_unknown_root_is_untrusted() {
        let w = world();
        let stranger = CertificateAuthority::new("Other root", validity()).unwrap();
        let other = World {
            issuer: issuer_under(&stranger, validity()),
            ..world()
        };
        let presentation = World {
            issuer: other.issuer,
            anchors: w.anchors.clone(),
            holder: w.holder.clone(),
            vct: w.vct.clone(),
        }
        .valid();
        assert_eq!(w.reason(&presentation), FailureReason::UntrustedIssuer);
    }

    #[test]
    fn with_no_trust_anchors_every_issuer_is_untrusted() {
        let w = world();
        let presentation = w.valid();
        let nobody = TrustAnchors::none();
        let expect = Expectations {
            trust: &nobody,
            ..w.expect()
        };
        assert_eq!(
            verify_presentation(&presentation, &expect)
                .unwrap_err()
                .reason,
            FailureReason::UntrustedIssuer
        );
    }

    #[test]
    fn issuer_jwt_without_x5c_is_untrusted() {
        let w = world();
        let p = w.with_header(|h| {
            h.remove("x5c");
        });
        assert_eq!(w.reason(&p), FailureReason::UntrustedIssuer);
    }

    #[test]
    fn issuer_jwt_with_malformed_x5c_is_invalid() {
        let w = world();
        let p = w.with_header(|h| {
            h.insert("x5c".into(), json!(["not base64!"]));
        });
        assert_eq!(w.reason(&p), FailureReason::InvalidPresentation);
    }

    #[test]
    fn issuer_with_an_expired_certificate_is_untrusted() {
        let root = CertificateAuthority::new("PID root", validity()).unwrap();
        let w = World {
            issuer: issuer_under(
                &root,
                Validity {
                    not_before: NOW - 1000,
                    not_after: NOW - 10,
                },
            ),
            anchors: TrustAnchors::from_der([root.certificate_der().as_slice()]).unwrap(),
            ..world()
        };
        assert_eq!(w.reason(&w.valid()), FailureReason::UntrustedIssuer);
    }

    #[test]
    fn issuer_jwt_signed_by_a_key_other_than_the_certificates_is_invalid() {
        let w = world();
        let header = w.issuer.header();
        let x5c = decode_x5c(header.get("x5c")).unwrap();
        let forger = Issuer::new(SigningKey::random(&mut OsRng), x5c);
        let presentation = w.present(&forger.sign(&w.unsigned()));
        assert_eq!(w.reason(&presentation), FailureReason::InvalidSignature);
    }

    #[test]
    fn issuer_jwt_with_an_altered_payload_is_invalid() {
        let w = world();
        let valid = w.valid();
        let jwt = jwt_of(&valid);
        let parts: Vec<&str> = jwt.split('.').collect();
        let mut payload =
            crate::oid4vp::jose::parse_json_object(&b64url_decode(parts[1]).unwrap()).unwrap();
        payload.insert("exp".into(), json!(NOW + 10 * 365 * 86_400));
        let altered = format!(
            "{}.{}.{}",
            parts[0],
            b64url_encode(Value::Object(payload).to_string()),
            parts[2]
        );
        let sd_jwt = without_kb(&valid).replacen(jwt, &altered, 1);
        assert_eq!(
            w.reason(&w.kb_with(&sd_jwt, |_, _| {})),
            FailureReason::InvalidSignature
        );
    }

    #[test]
    fn vct_must_be_one_of_the_requested() {
        let w = world();
        let other = w.with_payload(|p| {
            p.insert("vct".into(), json!("urn:other"));
        });
        assert_eq!(w.reason(&other), FailureReason::InvalidPresentation);
        let missing = w.with_payload(|p| {
            p.remove("vct");
        });
        assert_eq!(w.reason(&missing), FailureReason::InvalidPresentation);
        let second = World {
            vct: vec!["urn:a".into(), VCT.into()],
            ..w
        };
        assert!(second.verify(&second.valid()).is_ok());
    }

    #[test]
    fn expired_credentials_are_refused_after_the_leeway() {
        let w = world();
        let at = |exp: i64| {
            w.with_payload(|p| {
                p.insert("exp".into(), json!(exp));
            })
        };
        assert!(w.verify(&at(NOW - LEEWAY_SECS)).is_ok());
        assert_eq!(
            w.reason(&at(NOW - LEEWAY_SECS - 1)),
            FailureReason::ExpiredCredential
        );
    }

    #[test]
    fn exp_is_required_and_must_be_a_number() {
        let w = world();
        let missing = w.with_payload(|p| {
            p.remove("exp");
        });
        assert_eq!(w.verify(&missing).unwrap_err().detail, "exp is missing");
        let text = w.with_payload(|p| {
            p.insert("exp".into(), json!("tomorrow"));
        });
        assert_eq!(w.reason(&text), FailureReason::InvalidPresentation);
        let fractional = w.with_payload(|p| {
            p.insert("exp".into(), json!((NOW + 100) as f64 + 0.5));
        });
        assert!(w.verify(&fractional).is_ok());
    }

    #[test]
    fn credentials_not_yet_valid_are_refused_after_the_leeway() {
        let w = world();
        let at = |nbf: i64| {
            w.with_payload(|p| {
                p.insert("nbf".into(), json!(nbf));
            })
        };
        assert!(w.verify(&at(NOW + LEEWAY_SECS)).is_ok());
        assert_eq!(
            w.reason(&at(NOW + LEEWAY_SECS + 1)),
            FailureReason::ExpiredCredential
        );
    }

    #[test]
    fn credentials_issued_in_the_future_are_refused_after_the_leeway() {
        let w = world();
        let at = |iat: i64| {
            w.with_payload(|p| {
                p.insert("iat".into(), json!(iat));
            })
        };
        assert!(w.verify(&at(NOW + LEEWAY_SECS)).is_ok());
        assert_eq!(
            w.reason(&at(NOW + LEEWAY_SECS + 1)),
            FailureReason::ExpiredCredential
        );
    }

    #[test]
    fn sd_alg_must_be_sha256_or_absent() {
        let w = world();
        let absent = w.with_payload(|p| {
            p.remove("_sd_alg");
        });
        assert!(w.verify(&absent).is_ok());
        for alg in [json!("sha-512"), json!("SHA-256"), json!(1)] {
            let p = w.with_payload(|p| {
                p.insert("_sd_alg".into(), alg.clone());
            });
            assert_eq!(w.reason(&p), FailureReason::InvalidPresentation, "{alg}");
        }
    }

    #[test]
    fn a_credential_without_cnf_jwk_fails_key_binding() {
        let w = world();
        let p = w.with_payload(|p| {
            p.remove("cnf");
        });
        assert_eq!(w.reason(&p), FailureReason::InvalidKeyBinding);
        let p = w.with_payload(|p| {
            p.insert("cnf".into(), json!({"kid": "k"}));
        });
        assert_eq!(w.reason(&p), FailureReason::InvalidKeyBinding);
    }

    #[test]
    fn a_cnf_jwk_that_is_not_a_valid_p256_key_fails_key_binding() {
        let w = world();
        let mut jwk = w.holder_jwk();
        jwk.y = b64url_encode([7u8; 32]);
        let p = w.with_payload(|p| {
            p.insert("cnf".into(), json!({"jwk": jwk.to_value()}));
        });
        assert_eq!(w.reason(&p), FailureReason::InvalidKeyBinding);
    }

    // --- disclosures ---

    fn replace_disclosure(
        w: &World,
        change: impl FnOnce(&mut UnsignedSdJwt),
    ) -> Result<Verified, Rejection> {
        let mut unsigned = w.unsigned();
        let jwt = {
            let signed = w.issuer.sign(&unsigned);
            jwt_of(&signed).to_owned()
        };
        change(&mut unsigned);
        w.verify(&w.finish(&jwt, &unsigned.disclosures))
    }

    #[test]
    fn a_tampered_disclosure_is_not_referenced_and_invalid() {
        let w = world();
        let result = replace_disclosure(&w, |u| {
            let index = u
                .disclosures
                .iter()
                .position(|d| {
                    matches!(&Disclosure::parse(d).unwrap().kind,
                        DisclosureKind::Property { name, .. } if name == "given_name")
                })
                .unwrap();
            let original = Disclosure::parse(&u.disclosures[index]).unwrap();
            u.disclosures[index] =
                Disclosure::property(&original.salt, "given_name", &json!("Mallory")).encoded;
        });
        let rejection = result.unwrap_err();
        assert_eq!(rejection.reason, FailureReason::InvalidPresentation);
        assert_eq!(
            rejection.detail,
            "a disclosure is not referenced by any digest"
        );
    }

    #[test]
    fn an_extra_unreferenced_disclosure_is_invalid() {
        let w = world();
        let result = replace_disclosure(&w, |u| {
            u.disclosures
                .push(Disclosure::property(&random_salt(), "admin", &json!(true)).encoded);
        });
        assert_eq!(
            result.unwrap_err().detail,
            "a disclosure is not referenced by any digest"
        );
    }

    #[test]
    fn the_same_disclosure_twice_is_invalid() {
        let w = world();
        let result = replace_disclosure(&w, |u| {
            let first = u.disclosures[0].clone();
            u.disclosures.push(first);
        });
        assert_eq!(
            result.unwrap_err().detail,
            "the same disclosure is sent twice"
        );
    }

    #[test]
    fn a_digest_appearing_twice_in_the_payload_is_invalid() {
        let w = world();
        let p = w.with_payload(|p| {
            let first = p["_sd"][0].clone();
            p.insert("copy".into(), json!({"_sd": [first]}));
        });
        assert_eq!(
            w.verify(&p).unwrap_err().detail,
            "a digest appears more than once"
        );
        // An undisclosed (decoy) digest repeated is refused as well.
        let decoy = sd_digest("decoy");
        let p = w.with_payload(|p| {
            p.insert("list".into(), json!([{"...": decoy}, {"...": decoy}]));
        });
        assert_eq!(
            w.verify(&p).unwrap_err().detail,
            "a digest appears more than once"
        );
    }

    #[test]
    fn disclosures_of_reserved_names_are_invalid() {
        let w = world();
        for name in ["_sd", "..."] {
            let d = Disclosure::property(&random_salt(), name, &json!(["x"]));
            let p = {
                let mut u = w.unsigned();
                u.payload["_sd"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!(d.digest));
                u.disclosures.push(d.encoded);
                w.send(&u)
            };
            assert_eq!(
                w.verify(&p).unwrap_err().detail,
                "disclosure uses a reserved claim name",
                "{name}"
            );
        }
    }

    #[test]
    fn a_disclosed_name_that_already_exists_is_invalid() {
        let w = world();
        let p = w.with_payload(|p| {
            p.insert("given_name".into(), json!("Plain"));
        });
        assert_eq!(
            w.verify(&p).unwrap_err().detail,
            "a disclosed claim name already exists at its level"
        );
    }

    #[test]
    fn two_disclosures_of_the_same_name_at_one_level_are_invalid() {
        let w = world();
        let d = Disclosure::property(&random_salt(), "given_name", &json!("Twin"));
        let p = {
            let mut u = w.unsigned();
            u.payload["_sd"]
                .as_array_mut()
                .unwrap()
                .push(json!(d.digest));
            u.disclosures.push(d.encoded);
            w.present(&w.issuer.sign(&u))
        };
        assert_eq!(
            w.verify(&p).unwrap_err().detail,
            "a disclosed claim name already exists at its level"
        );
    }

    #[test]
    fn sd_must_be_an_array_of_strings() {
        let w = world();
        let p = w.with_payload(|p| {
            p.insert("nested".into(), json!({"_sd": "abc"}));
        });
        assert_eq!(w.verify(&p).unwrap_err().detail, "_sd is not an array");
        let p = w.with_payload(|p| {
            p.insert("nested".into(), json!({"_sd": [1]}));
        });
        assert_eq!(w.verify(&p).unwrap_err().detail, "_sd holds a non-string");
    }

    #[test]
    fn disclosure_kinds_must_match_where_they_are_referenced() {
        let w = world();
        let element = Disclosure::element(&random_salt(), &json!("x"));
        let p = {
            let mut u = w.unsigned();
            u.payload["_sd"]
                .as_array_mut()
                .unwrap()
                .push(json!(element.digest));
            u.disclosures.push(element.encoded);
            w.send(&u)
        };
        assert_eq!(
            w.verify(&p).unwrap_err().detail,
            "an array element disclosure is referenced from _sd"
        );
        let property = Disclosure::property(&random_salt(), "x", &json!("y"));
        let p = {
            let mut u = w.unsigned();
            u.payload
                .insert("list".into(), json!([{"...": property.digest}]));
            u.disclosures.push(property.encoded);
            w.send(&u)
        };
        assert_eq!(
            w.verify(&p).unwrap_err().detail,
            "an object property disclosure is referenced from an array"
        );
    }

    #[test]
    fn array_digest_objects_have_only_the_dots_member() {
        let w = world();
        for bad in [json!({"...": "abc", "x": 1}), json!({"...": 5})] {
            let p = w.with_payload(|p| {
                p.insert("list".into(), json!([bad]));
            });
            assert_eq!(
                w.verify(&p).unwrap_err().detail,
                "malformed array element digest {\"...\": …}",
                "{bad}"
            );
        }
    }

    #[test]
    fn malformed_disclosures_are_invalid() {
        let bad = [
            "!!".to_owned(),
            b64url_encode("{\"a\":1}"),
            b64url_encode("[\"salt\"]"),
            b64url_encode("[\"salt\",\"a\",1,2]"),
            b64url_encode("[1,\"a\",1]"),
            b64url_encode("[\"salt\",2,1]"),
            b64url_encode("[1,2]"),
            b64url_encode("[\"s\",{\"a\":1,\"a\":2}]"),
            b64url_encode("not json"),
        ];
        for text in bad {
            assert_eq!(
                Disclosure::parse(&text).unwrap_err().reason,
                FailureReason::InvalidPresentation,
                "{text}"
            );
        }
    }

    #[test]
    fn disclosure_digests_are_over_the_text_as_received() {
        // RFC 9901 §4.2.3's example: salt "_26bc4LT-ac6q2KI6cBW5es",
        // claim "family_name", value "Möbius", with its published digest.
        let encoded = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0";
        let d = Disclosure::parse(encoded).unwrap();
        assert_eq!(
            d.kind,
            DisclosureKind::Property {
                name: "family_name".into(),
                value: json!("Möbius")
            }
        );
        assert_eq!(d.digest, "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0");
        // Re-encoding the same array differently gives another digest.
        let reencoded = Disclosure::property(&d.salt, "family_name", &json!("Möbius"));
        assert_ne!(reencoded.encoded, encoded);
        assert_ne!(reencoded.digest, d.digest);
    }

    #[test]
    fn sd_digest_is_base64url_sha256_of_the_ascii() {
        // SHA-256("abc"), FIPS 180-2.
        assert_eq!(
            sd_digest("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    // --- key binding ---

    #[test]
    fn a_presentation_without_key_binding_is_refused() {
        let w = world();
        let sd_jwt = w.issuer.sign(&w.unsigned());
        assert!(sd_jwt.ends_with('~'));
        assert_eq!(w.reason(&sd_jwt), FailureReason::InvalidKeyBinding);
    }

    #[test]
    fn kb_typ_must_be_kb_jwt() {
        let w = world();
        let sd_jwt = w.issuer.sign(&w.unsigned());
        for typ in [json!("JWT"), json!("dc+sd-jwt"), json!(null)] {
            let p = w.kb_with(&sd_jwt, |h, _| {
                h.insert("typ".into(), typ.clone());
            });
            assert_eq!(w.reason(&p), FailureReason::InvalidKeyBinding, "{typ}");
        }
    }

    #[test]
    fn kb_with_alg_none_is_refused() {
        let w = world();
        let sd_jwt = w.issuer.sign(&w.unsigned());
        let kb = format!(
            "{}.{}.",
            b64url_encode(r#"{"alg":"none","typ":"kb+jwt"}"#),
            b64url_encode(
                json!({"iat": NOW, "nonce": NONCE, "aud": AUD, "sd_hash": sd_digest(&sd_jwt)})
                    .to_string()
            )
        );
        assert_eq!(
            w.reason(&format!("{sd_jwt}{kb}")),
            FailureReason::InvalidKeyBinding
        );
    }

    #[test]
    fn kb_signed_by_another_key_is_refused() {
        let w = world();
        let sd_jwt = w.issuer.sign(&w.unsigned());
        let thief = SigningKey::random(&mut OsRng);
        let p = present(&sd_jwt, |_| true, &thief, NONCE, AUD, NOW).unwrap();
        assert_eq!(
            w.verify(&p).unwrap_err(),
            reject(
                FailureReason::InvalidKeyBinding,
                "key-binding JWT is not signed by cnf.jwk"
            )
        );
    }

    #[test]
    fn kb_nonce_must_be_the_requests() {
        let w = world();
        let sd_jwt = w.issuer.sign(&w.unsigned());
        for nonce in [json!("other"), json!(null), json!(5)] {
            let p = w.kb_with(&sd_jwt, |_, c| {
                c.insert("nonce".into(), nonce.clone());
            });
            assert_eq!(
                w.verify(&p).unwrap_err().detail,
                "key-binding nonce is not the request's",
                "{nonce}"
            );
        }
    }

    #[test]
    fn kb_audience_must_be_the_verifiers_client_id() {
        let w = world();
        let sd_jwt = w.issuer.sign(&w.unsigned());
        for aud in [json!("x509_hash:other"), json!([AUD]), json!(null)] {
            let p = w.kb_with(&sd_jwt, |_, c| {
                c.insert("aud".into(), aud.clone());
            });
            assert_eq!(
                w.verify(&p).unwrap_err().detail,
                "key-binding aud is not the verifier's client_id",
                "{aud}"
            );
        }
    }

    #[test]
    fn kb_iat_must_be_recent_and_not_in_the_future() {
        let w = world();
        let sd_jwt = w.issuer.sign(&w.unsigned());
        let at = |iat: Value| {
            w.kb_with(&sd_jwt, |_, c| {
                c.insert("iat".into(), iat);
            })
        };
        assert!(w.verify(&at(json!(NOW - KB_MAX_AGE_SECS))).is_ok());
        assert!(w.verify(&at(json!(NOW + LEEWAY_SECS))).is_ok());
        assert_eq!(
            w.verify(&at(json!(NOW - KB_MAX_AGE_SECS - 1)))
                .unwrap_err()
                .detail,
            "key-binding JWT too old"
        );
        assert_eq!(
            w.verify(&at(json!(NOW + LEEWAY_SECS + 1)))
                .unwrap_err()
                .detail,
            "key-binding iat in the future"
        );
        for bad in [json!(null), json!("now")] {
            assert_eq!(
                w.verify(&at(bad)).unwrap_err().detail,
                "key-binding iat missing or not a number"
            );
        }
    }

    #[test]
    fn kb_sd_hash_must_cover_exactly_the_presentation_sent() {
        let w = world();
        let valid = w.valid();
        // Drop one disclosure after key binding: the claims still resolve,
        // only sd_hash tells.
        let (sd_jwt, kb) = valid.rsplit_once('~').unwrap();
        let mut parts: Vec<&str> = sd_jwt.split('~').collect();
        parts.remove(1);
        let dropped = format!("{}~{kb}", parts.join("~"));
        assert_eq!(
            w.verify(&dropped).unwrap_err(),
            reject(
                FailureReason::InvalidKeyBinding,
                "sd_hash does not match the presentation"
            )
        );
        let sd_jwt = w.issuer.sign(&w.unsigned());
        let without_tilde = w.kb_with(&sd_jwt, |_, c| {
            c.insert(
                "sd_hash".into(),
                json!(sd_digest(&sd_jwt[..sd_jwt.len() - 1])),
            );
        });
        assert_eq!(w.reason(&without_tilde), FailureReason::InvalidKeyBinding);
        let missing = w.kb_with(&sd_jwt, |_, c| {
            c.remove("sd_hash");
        });
        assert_eq!(w.reason(&missing), FailureReason::InvalidKeyBinding);
    }

    #[test]
    fn malformed_kb_jwt_fails_key_binding() {
        let w = world();
        let sd_jwt = w.issuer.sign(&w.unsigned());
        for kb in ["abc", "a.b.c", "a.b"] {
            assert_eq!(
                w.reason(&format!("{sd_jwt}{kb}")),
                FailureReason::InvalidKeyBinding,
                "{kb}"
            );
        }
    }

    // --- hostile input ---

    #[test]
    fn rejection_details_never_hold_claim_values() {
        let w = world();
        let values: Vec<String> = pid_claims::<&str>(&[])
            .unwrap()
            .values()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let valid = w.valid();
        let results = [
            w.verify(&w.with_payload(|p| {
                p.insert("given_name".into(), json!("Sanne"));
            })),
            replace_disclosure(&w, |u| {
                let email = json!("sanne.devries@example.com");
                u.disclosures
                    .push(Disclosure::property(&random_salt(), "email", &email).encoded);
            }),
            w.verify(&valid.replace('~', "~~")),
            w.verify(&valid[..valid.len() - 3]),
        ];
        for result in results {
            let detail = match result {
                Ok(_) => panic!("accepted"),
                Err(r) => r.detail,
            };
            for value in &values {
                assert!(!detail.contains(value.as_str()), "{detail}");
            }
        }
    }

    mod mutations {
        use super::*;
        use proptest::prelude::*;
        use std::sync::OnceLock;

        /// One world and its valid presentation for all cases.
        fn fixture() -> &'static (World, String) {
            static FIXTURE: OnceLock<(World, String)> = OnceLock::new();
            FIXTURE.get_or_init(|| {
                let w = world();
                let p = w.valid();
                (w, p)
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn any_single_byte_change_is_refused_without_panic(
                index in any::<prop::sample::Index>(),
                byte in 0x20u8..0x7f,
            ) {
                let (w, valid) = fixture();
                let mut bytes = valid.clone().into_bytes();
                let i = index.index(bytes.len());
                prop_assume!(bytes[i] != byte);
                bytes[i] = byte;
                let mutated = String::from_utf8(bytes).unwrap();
                prop_assert!(w.verify(&mutated).is_err());
            }

            #[test]
            fn cutting_or_splicing_never_panics(
                start in any::<prop::sample::Index>(),
                len in 0usize..64,
                insert in "[A-Za-z0-9_~.\\-]{0,16}",
            ) {
                let (w, valid) = fixture();
                let s = start.index(valid.len());
                let e = (s + len).min(valid.len());
                let mutated = format!("{}{}{}", &valid[..s], insert, &valid[e..]);
                if mutated != *valid {
                    prop_assert!(w.verify(&mutated).is_err());
                }
            }

            #[test]
            fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
                let (w, _) = fixture();
                prop_assert!(w.verify(&text).is_err());
            }
        }
    }
}
