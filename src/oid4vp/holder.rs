//! The issuer and wallet side of SD-JWT VC: issue a credential with every
//! claim selectively disclosable, and present chosen claims with a
//! key-binding JWT. Used by the built-in test issuer, the wallet command and
//! tests; the pieces are public so tests can build broken presentations.

use super::jose::{JoseError, Jwk, Jws, b64url_encode, sign_es256};
use super::sdjwt::{Disclosure, DisclosureKind, SD_ALG, TYP_KB_JWT, TYP_SD_JWT_VC, sd_digest};
use super::status_list::StatusReference;
use super::x509::encode_x5c;
use p256::ecdsa::{SigningKey, VerifyingKey};
use rand::RngCore;
use rand::rngs::OsRng;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HolderError {
    #[error("not an SD-JWT")]
    NotAnSdJwt,
    #[error("issuer JWT: {0}")]
    Jose(#[from] JoseError),
    #[error("a disclosure cannot be read")]
    Disclosure,
    #[error("claim override {0:?}: expected path=value with a dotted path into objects")]
    Override(String),
}

/// 128 random bits, base64url: a disclosure salt.
pub fn random_salt() -> String {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    b64url_encode(salt)
}

/// A digest that matches no disclosure, to hide how many claims there are.
pub fn decoy_digest() -> String {
    sd_digest(&random_salt())
}

/// An issuer JWT before signing, with its disclosures: tests change any part
/// of it and sign it with [`Issuer::sign`].
#[derive(Debug, Clone, PartialEq)]
pub struct UnsignedSdJwt {
    pub header: Map<String, Value>,
    pub payload: Map<String, Value>,
    /// Encoded disclosures, in the order they will be sent.
    pub disclosures: Vec<String>,
}

/// An SD-JWT VC issuer: a P-256 key and its certificate chain (leaf first).
#[derive(Debug, Clone)]
pub struct Issuer {
    key: SigningKey,
    x5c: Vec<Vec<u8>>,
    iss: Option<String>,
    decoys: usize,
}

impl Issuer {
    pub fn new(key: SigningKey, x5c: Vec<Vec<u8>>) -> Issuer {
        Issuer {
            key,
            x5c,
            iss: None,
            decoys: 2,
        }
    }

    /// Sets the optional `iss` claim.
    pub fn with_iss(mut self, iss: impl Into<String>) -> Issuer {
        self.iss = Some(iss.into());
        self
    }

    /// Decoy digests added to each `_sd` (default 2).
    pub fn with_decoys(mut self, decoys: usize) -> Issuer {
        self.decoys = decoys;
        self
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        *self.key.verifying_key()
    }

    /// `typ: dc+sd-jwt` and the `x5c` chain (`alg` is set when signing).
    pub fn header(&self) -> Map<String, Value> {
        let mut header = Map::new();
        header.insert("typ".into(), Value::from(TYP_SD_JWT_VC));
        header.insert("x5c".into(), encode_x5c(&self.x5c));
        header
    }

    /// The credential before signing: `vct`, `iat`, `exp`, `cnf.jwk`,
    /// `_sd_alg`, and every claim selectively disclosable (objects both as a
    /// whole and member by member, arrays element by element).
    pub fn prepare(
        &self,
        claims: &Map<String, Value>,
        holder: &Jwk,
        vct: &str,
        iat: i64,
        exp: i64,
    ) -> UnsignedSdJwt {
        let mut disclosures = Vec::new();
        let mut payload = match self.conceal_object(claims, &mut disclosures) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        if let Some(iss) = &self.iss {
            payload.insert("iss".into(), Value::from(iss.as_str()));
        }
        payload.insert("vct".into(), Value::from(vct));
        payload.insert("iat".into(), Value::from(iat));
        payload.insert("exp".into(), Value::from(exp));
        payload.insert("cnf".into(), json!({ "jwk": holder.to_value() }));
        payload.insert("_sd_alg".into(), Value::from(SD_ALG));
        UnsignedSdJwt {
            header: self.header(),
            payload,
            disclosures,
        }
    }

    /// Signs an issuer JWT (ES256) and appends its disclosures:
    /// `<jwt>~<d1>~…~<dn>~`, an SD-JWT without key binding.
    pub fn sign(&self, sd_jwt: &UnsignedSdJwt) -> String {
        let jwt = sign_es256(&sd_jwt.header, &sd_jwt.payload, &self.key);
        let mut out = jwt;
        out.push('~');
        for disclosure in &sd_jwt.disclosures {
            out.push_str(disclosure);
            out.push('~');
        }
        out
    }

    /// An SD-JWT VC for `holder`, ending with `~` (no key binding).
    pub fn issue(
        &self,
        claims: &Map<String, Value>,
        holder: &Jwk,
        vct: &str,
        iat: i64,
        exp: i64,
    ) -> String {
        self.sign(&self.prepare(claims, holder, vct, iat, exp))
    }

    /// [`Issuer::issue`] with a plain `status` claim pointing at the
    /// credential's entry in a Token Status List. Plain, never selectively
    /// disclosable: a verifier must be able to check the status of every
    /// presentation.
    pub fn issue_with_status(
        &self,
        claims: &Map<String, Value>,
        holder: &Jwk,
        vct: &str,
        iat: i64,
        exp: i64,
        status: &StatusReference,
    ) -> String {
        let mut sd_jwt = self.prepare(claims, holder, vct, iat, exp);
        sd_jwt.payload.insert("status".into(), status.to_json());
        self.sign(&sd_jwt)
    }

    /// A JWT of `claims` with header `typ` and this issuer's `x5c` chain,
    /// signed with ES256: how the issuer signs its Status List Tokens.
    pub fn sign_jwt(&self, typ: &str, claims: &Map<String, Value>) -> String {
        let mut header = Map::new();
        header.insert("typ".into(), Value::from(typ));
        header.insert("x5c".into(), encode_x5c(&self.x5c));
        sign_es256(&header, claims, &self.key)
    }

    /// `{"_sd": [...]}` holding a digest per member (plus decoys), sorted so
    /// the order reveals nothing.
    fn conceal_object(&self, claims: &Map<String, Value>, out: &mut Vec<String>) -> Value {
        let mut digests: Vec<String> = Vec::with_capacity(claims.len() + self.decoys);
        for (name, value) in claims {
            let value = self.conceal_value(value, out);
            let disclosure = Disclosure::property(&random_salt(), name, &value);
            out.push(disclosure.encoded);
            digests.push(disclosure.digest);
        }
        digests.extend((0..self.decoys).map(|_| decoy_digest()));
        digests.sort();
        json!({ "_sd": digests })
    }

    fn conceal_value(&self, value: &Value, out: &mut Vec<String>) -> Value {
        match value {
            Value::Object(map) => self.conceal_object(map, out),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| {
                        let item = self.conceal_value(item, out);
                        let disclosure = Disclosure::element(&random_salt(), &item);
                        out.push(disclosure.encoded);
                        json!({ "...": disclosure.digest })
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The SD-JWT with only the disclosures needed for the claim paths `select`
/// accepts: a disclosure is kept when its own path is selected, when an
/// ancestor's is (a whole object or array), or when a descendant is kept
/// (the parents of a nested claim). Array elements' paths end with their
/// index in the issued array. Ends with `~`, ready for key binding.
pub fn select_disclosures(
    sd_jwt: &str,
    select: impl Fn(&[String]) -> bool,
) -> Result<String, HolderError> {
    let (jwt, rest) = sd_jwt.split_once('~').ok_or(HolderError::NotAnSdJwt)?;
    let payload = Jws::parse(jwt)?.payload().clone();
    let mut by_digest = HashMap::new();
    let mut order = Vec::new();
    for encoded in rest.split('~').filter(|d| !d.is_empty()) {
        let disclosure = Disclosure::parse(encoded).map_err(|_| HolderError::Disclosure)?;
        order.push(disclosure.digest.clone());
        by_digest.insert(disclosure.digest.clone(), disclosure);
    }
    let mut walk = Selection {
        select: &select,
        by_digest: &by_digest,
        keep: HashSet::new(),
    };
    walk.object(&payload, &mut Vec::new(), false);
    let mut out = format!("{jwt}~");
    for digest in order.iter().filter(|d| walk.keep.contains(*d)) {
        if let Some(d) = by_digest.get(digest) {
            out.push_str(&d.encoded);
            out.push('~');
        }
    }
    Ok(out)
}

struct Selection<'a, F: Fn(&[String]) -> bool> {
    select: &'a F,
    by_digest: &'a HashMap<String, Disclosure>,
    keep: HashSet<String>,
}

impl<F: Fn(&[String]) -> bool> Selection<'_, F> {
    /// Walks `value` at `path`; true when anything beneath it is kept.
    fn value(&mut self, value: &Value, path: &mut Vec<String>, inherited: bool) -> bool {
        match value {
            Value::Object(map) => self.object(map, path, inherited),
            Value::Array(items) => self.array(items, path, inherited),
            _ => false,
        }
    }

    fn object(
        &mut self,
        map: &Map<String, Value>,
        path: &mut Vec<String>,
        inherited: bool,
    ) -> bool {
        let mut any = false;
        for (name, value) in map {
            if name == "_sd" {
                continue;
            }
            path.push(name.clone());
            let selected = inherited || (self.select)(path);
            any |= self.value(value, path, selected);
            path.pop();
        }
        let digests = map
            .get("_sd")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for digest in digests.iter().filter_map(Value::as_str) {
            let Some(Disclosure {
                kind: DisclosureKind::Property { name, value },
                ..
            }) = self.by_digest.get(digest)
            else {
                continue;
            };
            path.push(name.clone());
            any |= self.disclosed(digest, value, path, inherited);
            path.pop();
        }
        any
    }

    fn array(&mut self, items: &[Value], path: &mut Vec<String>, inherited: bool) -> bool {
        let mut any = false;
        for (index, item) in items.iter().enumerate() {
            path.push(index.to_string());
            let digest = item.get("...").and_then(Value::as_str);
            match digest.and_then(|d| self.by_digest.get(d).map(|disc| (d, disc))) {
                Some((
                    digest,
                    Disclosure {
                        kind: DisclosureKind::Element { value },
                        ..
                    },
                )) => {
                    any |= self.disclosed(digest, value, path, inherited);
                }
                _ => {
                    let selected = inherited || (self.select)(path);
                    any |= self.value(item, path, selected);
                }
            }
            path.pop();
        }
        any
    }

    /// Keeps the disclosure `digest` at `path` if it or anything beneath it
    /// is selected.
    fn disclosed(
        &mut self,
        digest: &str,
        value: &Value,
        path: &mut Vec<String>,
        inherited: bool,
    ) -> bool {
        let selected = inherited || (self.select)(path);
        let beneath = self.value(value, path, selected);
        if selected || beneath {
            self.keep.insert(digest.to_owned());
            true
        } else {
            false
        }
    }
}

/// A key-binding JWT (`typ: kb+jwt`) over `sd_hash`.
pub fn key_binding_jwt(
    holder_key: &SigningKey,
    sd_hash: &str,
    nonce: &str,
    audience: &str,
    iat: i64,
) -> String {
    let header = Map::from_iter([("typ".to_owned(), Value::from(TYP_KB_JWT))]);
    let claims = Map::from_iter([
        ("iat".to_owned(), Value::from(iat)),
        ("nonce".to_owned(), Value::from(nonce)),
        ("aud".to_owned(), Value::from(audience)),
        ("sd_hash".to_owned(), Value::from(sd_hash)),
    ]);
    sign_es256(&header, &claims, holder_key)
}

/// A presentation: the disclosures `select` needs (see
/// [`select_disclosures`]) and a key-binding JWT for `nonce` and `audience`.
pub fn present(
    sd_jwt: &str,
    select: impl Fn(&[String]) -> bool,
    holder_key: &SigningKey,
    nonce: &str,
    audience: &str,
    iat: i64,
) -> Result<String, HolderError> {
    let selected = select_disclosures(sd_jwt, select)?;
    let kb = key_binding_jwt(holder_key, &sd_digest(&selected), nonce, audience, iat);
    Ok(selected + &kb)
}

/// A realistic test PID, with `overrides` such as `given_name=Alice` or
/// `age_equal_or_over.18=false` (a dotted path into objects; the value is
/// JSON when it parses as JSON, else a string).
pub fn pid_claims<S: AsRef<str>>(overrides: &[S]) -> Result<Map<String, Value>, HolderError> {
    let mut claims = match json!({
        "given_name": "Sanne",
        "family_name": "de Vries",
        "birthdate": "1990-05-17",
        "age_equal_or_over": { "18": true, "21": true },
        "nationalities": ["NL"],
        "document_number": "NX4L2K7P9",
        // A 1×1 transparent PNG: the shape of a photo, nobody's face.
        "picture": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
        "email": "sanne.devries@example.com",
        "phone_number": "+31612345678",
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for item in overrides {
        apply_override(&mut claims, item.as_ref())?;
    }
    Ok(claims)
}

pub fn apply_override(claims: &mut Map<String, Value>, item: &str) -> Result<(), HolderError> {
    let bad = || HolderError::Override(item.to_owned());
    let (path, raw) = item.split_once('=').ok_or_else(bad)?;
    let names: Vec<&str> = path.split('.').collect();
    if names.iter().any(|n| n.is_empty()) {
        return Err(bad());
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    let (last, parents) = names.split_last().ok_or_else(bad)?;
    let mut target = claims;
    for name in parents {
        target = target
            .entry(name.to_string())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(bad)?;
    }
    target.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oid4vp::jose::b64url_decode;

    fn issuer() -> Issuer {
        Issuer::new(SigningKey::random(&mut OsRng), vec![vec![1, 2, 3]])
    }

    fn holder() -> (SigningKey, Jwk) {
        let key = SigningKey::random(&mut OsRng);
        let jwk = Jwk::from_verifying_key(key.verifying_key());
        (key, jwk)
    }

    fn disclosures_of(sd_jwt: &str) -> Vec<Disclosure> {
        sd_jwt
            .split('~')
            .skip(1)
            .filter(|d| !d.is_empty() && !d.contains('.'))
            .map(|d| Disclosure::parse(d).unwrap())
            .collect()
    }

    fn names(sd_jwt: &str) -> Vec<String> {
        let mut names: Vec<String> = disclosures_of(sd_jwt)
            .into_iter()
            .map(|d| match d.kind {
                DisclosureKind::Property { name, .. } => name,
                DisclosureKind::Element { value } => format!("[{value}]"),
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn pid_claims_have_the_pid_shape_and_take_overrides() {
        let pid = pid_claims::<&str>(&[]).unwrap();
        assert_eq!(pid["age_equal_or_over"], json!({"18": true, "21": true}));
        assert_eq!(pid["nationalities"], json!(["NL"]));
        for name in [
            "given_name",
            "family_name",
            "birthdate",
            "document_number",
            "picture",
            "email",
            "phone_number",
        ] {
            assert!(pid[name].is_string(), "{name}");
        }
        let changed = pid_claims(&[
            "given_name=Alice",
            "age_equal_or_over.18=false",
            "extra.n=5",
            "nationalities=[\"DE\",\"NL\"]",
        ])
        .unwrap();
        assert_eq!(changed["given_name"], "Alice");
        assert_eq!(
            changed["age_equal_or_over"],
            json!({"18": false, "21": true})
        );
        assert_eq!(changed["extra"], json!({"n": 5}));
        assert_eq!(changed["nationalities"], json!(["DE", "NL"]));
    }

    #[test]
    fn malformed_overrides_are_refused() {
        for bad in ["given_name", "=x", "a..b=1", "given_name.x=1"] {
            assert_eq!(
                pid_claims(&[bad]),
                Err(HolderError::Override(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn issued_credential_hides_every_claim_behind_digests() {
        let (_, jwk) = holder();
        let issuer = issuer().with_iss("https://issuer.example").with_decoys(3);
        let claims = pid_claims::<&str>(&[]).unwrap();
        let sd_jwt = issuer.issue(&claims, &jwk, "urn:eudi:pid:1", 100, 200);
        assert!(sd_jwt.ends_with('~'));
        let jws = Jws::parse(sd_jwt.split('~').next().unwrap()).unwrap();
        jws.verify(&issuer.verifying_key()).unwrap();
        assert_eq!(jws.header()["typ"], "dc+sd-jwt");
        assert_eq!(jws.header()["x5c"], json!(["AQID"]));
        let payload = jws.payload();
        for name in claims.keys() {
            assert!(!payload.contains_key(name), "{name} is visible");
        }
        assert_eq!(payload["vct"], "urn:eudi:pid:1");
        assert_eq!(payload["iss"], "https://issuer.example");
        assert_eq!(
            (payload["iat"].as_i64(), payload["exp"].as_i64()),
            (Some(100), Some(200))
        );
        assert_eq!(payload["cnf"]["jwk"], jwk.to_value());
        assert_eq!(payload["_sd_alg"], "sha-256");
        let sd: Vec<&str> = payload["_sd"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        assert_eq!(sd.len(), claims.len() + 3);
        let mut sorted = sd.clone();
        sorted.sort();
        assert_eq!(sd, sorted);
        // 9 claims, 2 age members, 1 nationality element.
        let expected: Vec<String> = {
            let mut n: Vec<String> = claims.keys().cloned().collect();
            n.extend(["18".to_owned(), "21".to_owned(), "[\"NL\"]".to_owned()]);
            n.sort();
            n
        };
        assert_eq!(names(&sd_jwt), expected);
    }

    #[test]
    fn object_claims_are_disclosable_whole_and_member_by_member() {
        let (_, jwk) = holder();
        let sd_jwt = issuer().issue(&pid_claims::<&str>(&[]).unwrap(), &jwk, "v", 0, 1);
        let age = disclosures_of(&sd_jwt)
            .into_iter()
            .find_map(|d| match d.kind {
                DisclosureKind::Property { name, value } if name == "age_equal_or_over" => {
                    Some(value)
                }
                _ => None,
            })
            .unwrap();
        // The object's value is itself only digests.
        assert_eq!(age.as_object().unwrap().keys().collect::<Vec<_>>(), ["_sd"]);
        assert_eq!(age["_sd"].as_array().unwrap().len(), 2 + 2);
    }

    #[test]
    fn salts_are_128_random_bits() {
        let a = random_salt();
        assert_eq!(b64url_decode(&a).unwrap().len(), 16);
        assert_ne!(a, random_salt());
    }

    #[test]
    fn presenting_keeps_only_the_selected_claims_and_their_parents() {
        let (key, jwk) = holder();
        let sd_jwt = issuer().issue(&pid_claims::<&str>(&[]).unwrap(), &jwk, "v", 0, 1);
        let wanted = [vec!["age_equal_or_over", "18"], vec!["given_name"]];
        let presentation = present(
            &sd_jwt,
            |p| wanted.iter().any(|w| w.as_slice() == p),
            &key,
            "n",
            "aud",
            5,
        )
        .unwrap();
        assert_eq!(
            names(&presentation),
            ["18", "age_equal_or_over", "given_name"]
        );
    }

    #[test]
    fn selecting_an_object_or_array_keeps_everything_beneath_it() {
        let (_, jwk) = holder();
        let sd_jwt = issuer().issue(&pid_claims::<&str>(&[]).unwrap(), &jwk, "v", 0, 1);
        let selected = select_disclosures(&sd_jwt, |p| {
            p == ["age_equal_or_over"] || p == ["nationalities"]
        })
        .unwrap();
        assert_eq!(
            names(&selected),
            ["18", "21", "[\"NL\"]", "age_equal_or_over", "nationalities"]
        );
        let none = select_disclosures(&sd_jwt, |_| false).unwrap();
        assert_eq!(none, format!("{}~", sd_jwt.split('~').next().unwrap()));
    }

    #[test]
    fn key_binding_jwt_covers_the_selected_sd_jwt() {
        let (key, jwk) = holder();
        let sd_jwt = issuer().issue(&pid_claims::<&str>(&[]).unwrap(), &jwk, "v", 0, 1);
        let presentation = present(
            &sd_jwt,
            |p| p == ["email"],
            &key,
            "nonce-1",
            "x509_hash:abc",
            42,
        )
        .unwrap();
        let (prefix, kb) = presentation.rsplit_once('~').unwrap();
        let kb = Jws::parse(kb).unwrap();
        kb.verify(key.verifying_key()).unwrap();
        assert_eq!(kb.header()["typ"], "kb+jwt");
        assert_eq!(kb.payload()["nonce"], "nonce-1");
        assert_eq!(kb.payload()["aud"], "x509_hash:abc");
        assert_eq!(kb.payload()["iat"], 42);
        assert_eq!(kb.payload()["sd_hash"], sd_digest(&format!("{prefix}~")));
    }

    #[test]
    fn presenting_something_that_is_not_an_sd_jwt_fails() {
        let (key, _) = holder();
        assert_eq!(
            present("abc", |_| true, &key, "n", "a", 0),
            Err(HolderError::NotAnSdJwt)
        );
        assert!(matches!(
            present("a.b.c~", |_| true, &key, "n", "a", 0),
            Err(HolderError::Jose(_))
        ));
    }

    #[test]
    fn a_status_is_a_plain_signed_claim_never_a_disclosure() {
        let issuer = issuer();
        let (_, jwk) = holder();
        let claims = pid_claims::<&str>(&[]).unwrap();
        let reference = StatusReference {
            idx: 65_536,
            uri: "https://proofme.example/oid4vp/test-issuer/status-lists/1".into(),
        };

        let sd_jwt = issuer.issue_with_status(&claims, &jwk, "urn:eudi:pid:1", 1, 2, &reference);

        let jwt = sd_jwt.split('~').next().unwrap();
        let jws = Jws::parse(jwt).unwrap();
        jws.verify(&issuer.verifying_key()).unwrap();
        let status = &jws.payload()["status"];
        assert_eq!(
            crate::oid4vp::status_list::reference_from_json(status),
            Ok(Some(reference))
        );
        assert!(!names(&sd_jwt).contains(&"status".to_owned()));
        assert_eq!(
            names(&sd_jwt),
            names(&issuer.issue(&claims, &jwk, "urn:eudi:pid:1", 1, 2))
        );
    }

    #[test]
    fn a_jwt_signed_by_the_issuer_carries_its_typ_and_chain() {
        let issuer = issuer();
        let claims = Map::from_iter([("sub".to_owned(), json!("https://x.example/1"))]);

        let jwt = issuer.sign_jwt("statuslist+jwt", &claims);

        let jws = Jws::parse(&jwt).unwrap();
        jws.verify(&issuer.verifying_key()).unwrap();
        assert_eq!(jws.header()["typ"], "statuslist+jwt");
        assert_eq!(jws.header()["x5c"], encode_x5c(&[vec![1, 2, 3]]));
        assert_eq!(jws.payload(), &claims);
    }
}
