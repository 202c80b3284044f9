//! X.509: the verifier's identity (a P-256 key and its certificate), the
//! `x509_hash` client id, a small PKI for the test issuer and tests, and
//! issuer trust: an `x5c` chain checked against configured trust anchors.
//!
//! Path building, signatures, validity periods, basic constraints and
//! pathLen are left to rustls-webpki. The usage policy is ours (DESIGN 4b's
//! path rules): the leaf may sign (keyUsage digitalSignature) and is no CA;
//! every certificate that issues another, the trust anchor included, is a CA
//! with keyCertSign. webpki ignores keyUsage, so those rules are checked on
//! the path it built, read with the RustCrypto `x509-cert` parser. Any
//! extended key usage is accepted: issuer certificates are not TLS
//! certificates.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::SecretKey;
use p256::ecdsa::VerifyingKey;
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, LineEnding};
use rand::RngCore;
use rand::rngs::OsRng;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PublicKeyData, SerialNumber, SignatureAlgorithm,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, TrustAnchor, UnixTime};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The most certificates an `x5c` may carry (leaf and intermediates).
pub const MAX_CHAIN_LEN: usize = 8;

/// Why certificates or keys could not be read or made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    #[error("invalid PEM")]
    Pem,
    #[error("invalid certificate ({0})")]
    Certificate(String),
    #[error("no P-256 private key in PKCS#8 or SEC1 PEM")]
    PrivateKey,
    #[error("certificate generation failed ({0})")]
    Generate(String),
}

/// Why an `x5c` chain was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("x5c is missing or empty")]
    Empty,
    #[error("x5c has more than {MAX_CHAIN_LEN} certificates")]
    TooLong,
    #[error("x5c is not an array of base64 DER certificates")]
    Malformed,
    #[error("a certificate in the chain is expired or not yet valid")]
    Expired,
    #[error("the chain does not lead to a trust anchor ({0})")]
    Untrusted(String),
    #[error("the leaf certificate's key is not a P-256 key")]
    UnsupportedKey,
    #[error("the chain breaks a path rule: {0}")]
    Usage(PathRule),
}

/// The X.509 path rules of DESIGN 4b that webpki leaves to us, one each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathRule {
    #[error("the leaf certificate has no keyUsage digitalSignature")]
    LeafCannotSign,
    #[error("the leaf certificate is a CA")]
    LeafIsCa,
    #[error("an issuing certificate is not a CA")]
    IssuerNotCa,
    #[error("an issuing certificate has no keyUsage keyCertSign")]
    IssuerCannotCertify,
    #[error("an issuing certificate has more CAs below it than its pathLenConstraint allows")]
    PathTooLong,
    #[error("a certificate's extensions cannot be read")]
    Unreadable,
}

/// A validity period in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

impl Validity {
    /// From `now - 1 hour` (clock skew between machines) for `days`.
    pub fn days_from(now: i64, days: i64) -> Validity {
        Validity {
            not_before: now.saturating_sub(3600),
            not_after: now.saturating_add(days.saturating_mul(86_400)),
        }
    }
}

// ---------------------------------------------------------------------------
// Reading and writing PEM

/// Every `CERTIFICATE` block of a PEM bundle, each checked to parse as X.509.
/// Other blocks and text between blocks are skipped; no block gives an empty list.
pub fn parse_certificates_pem(pem: &str) -> Result<Vec<Vec<u8>>, X509Error> {
    let mut out = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|_| X509Error::Pem)?;
        webpki::EndEntityCert::try_from(&cert)
            .map_err(|e| X509Error::Certificate(format!("{e:?}")))?;
        out.push(cert.to_vec());
    }
    Ok(out)
}

/// The first private key of a PEM file: PKCS#8 (`PRIVATE KEY`) or SEC1
/// (`EC PRIVATE KEY`), on curve P-256. Blocks such as `EC PARAMETERS` are skipped.
pub fn parse_private_key_pem(pem: &str) -> Result<SecretKey, X509Error> {
    match PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| X509Error::PrivateKey)? {
        PrivateKeyDer::Pkcs8(der) => {
            SecretKey::from_pkcs8_der(der.secret_pkcs8_der()).map_err(|_| X509Error::PrivateKey)
        }
        PrivateKeyDer::Sec1(der) => {
            SecretKey::from_sec1_der(der.secret_sec1_der()).map_err(|_| X509Error::PrivateKey)
        }
        _ => Err(X509Error::PrivateKey),
    }
}

/// The key as PKCS#8 PEM, for keeping a generated identity.
pub fn private_key_to_pem(key: &SecretKey) -> Result<Zeroizing<String>, X509Error> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| X509Error::PrivateKey)
}

pub fn certificate_to_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// `x509_hash:` and the base64url SHA-256 of the certificate's DER: the
/// verifier's `client_id` (OpenID4VP 1.0 §5.9.3).
pub fn client_id_for(cert_der: &[u8]) -> String {
    format!(
        "x509_hash:{}",
        super::jose::b64url_encode(Sha256::digest(cert_der))
    )
}

/// The `x5c` header value: standard base64 with padding (RFC 7515 §4.1.6,
/// unlike the rest of JOSE).
pub fn encode_x5c(chain: &[Vec<u8>]) -> Value {
    Value::Array(
        chain
            .iter()
            .map(|der| Value::String(STANDARD.encode(der)))
            .collect(),
    )
}

/// Reads an `x5c` header value strictly (canonical standard base64).
pub fn decode_x5c(value: Option<&Value>) -> Result<Vec<Vec<u8>>, ChainError> {
    let items = match value {
        None => return Err(ChainError::Empty),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ChainError::Malformed),
    };
    if items.is_empty() {
        return Err(ChainError::Empty);
    }
    if items.len() > MAX_CHAIN_LEN {
        return Err(ChainError::TooLong);
    }
    items
        .iter()
        .map(|item| {
            item.as_str()
                .and_then(|s| STANDARD.decode(s).ok())
                .ok_or(ChainError::Malformed)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Generating certificates

/// The P-256 public key of a certificate to be issued, for rcgen.
struct SubjectKey(Vec<u8>);

impl PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl SubjectKey {
    fn of(key: &p256::PublicKey) -> SubjectKey {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        SubjectKey(key.to_encoded_point(false).as_bytes().to_vec())
    }
}

fn rcgen_key(key: &SecretKey) -> Result<KeyPair, X509Error> {
    let der = key
        .to_pkcs8_der()
        .map_err(|e| X509Error::Generate(e.to_string()))?;
    KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(der.as_bytes()),
        &rcgen::PKCS_ECDSA_P256_SHA256,
    )
    .map_err(|e| X509Error::Generate(e.to_string()))
}

/// The parameters of the certificates made here: a CA (any path length,
/// keyCertSign and cRLSign) or an end entity (digitalSignature).
pub fn certificate_params(
    common_name: &str,
    validity: Validity,
    ca: bool,
) -> Result<CertificateParams, X509Error> {
    let time = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t).map_err(|e| X509Error::Generate(e.to_string()))
    };
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.not_before = time(validity.not_before)?;
    params.not_after = time(validity.not_after)?;
    // 128 random bits, high bit cleared so the DER integer stays positive.
    let mut serial = [0u8; 16];
    OsRng.fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    } else {
        // An explicit "not a CA" also makes rcgen write the extensions at
        // all: a keyUsage alone is silently left out.
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
    }
    Ok(params)
}

/// A self-signed end-entity certificate for `key`: the verifier's identity
/// when none is configured, or the built-in test issuer (trusted by listing
/// this very certificate as a trust anchor).
pub fn self_signed_certificate(
    key: &SecretKey,
    common_name: &str,
    validity: Validity,
) -> Result<Vec<u8>, X509Error> {
    let mut params = certificate_params(common_name, validity, false)?;
    params.use_authority_key_identifier_extension = false;
    let cert = params
        .self_signed(&rcgen_key(key)?)
        .map_err(|e| X509Error::Generate(e.to_string()))?;
    Ok(cert.der().to_vec())
}

/// A certificate authority that issues intermediates and P-256 leaves: a
/// small PKI for tests and for a test issuer trusted through an anchor.
pub struct CertificateAuthority {
    key: KeyPair,
    cert: rcgen::Certificate,
}

impl CertificateAuthority {
    /// A self-signed root CA with a fresh P-256 key.
    pub fn new(common_name: &str, validity: Validity) -> Result<Self, X509Error> {
        let key = rcgen_key(&SecretKey::random(&mut OsRng))?;
        let cert = certificate_params(common_name, validity, true)?
            .self_signed(&key)
            .map_err(|e| X509Error::Generate(e.to_string()))?;
        Ok(CertificateAuthority { key, cert })
    }

    /// A self-signed root made from `params` as they are (with a fresh key).
    pub fn from_params(params: CertificateParams) -> Result<Self, X509Error> {
        let key = rcgen_key(&SecretKey::random(&mut OsRng))?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| X509Error::Generate(e.to_string()))?;
        Ok(CertificateAuthority { key, cert })
    }

    /// An intermediate CA signed by this one.
    pub fn issue_intermediate(
        &self,
        common_name: &str,
        validity: Validity,
    ) -> Result<CertificateAuthority, X509Error> {
        let mut params = certificate_params(common_name, validity, true)?;
        params.use_authority_key_identifier_extension = true;
        self.issue_intermediate_with(params)
    }

    /// An intermediate signed by this CA from `params` as they are, even
    /// ones that break the path rules (for tests of those rules).
    pub fn issue_intermediate_with(
        &self,
        params: CertificateParams,
    ) -> Result<CertificateAuthority, X509Error> {
        let key = rcgen_key(&SecretKey::random(&mut OsRng))?;
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .map_err(|e| X509Error::Generate(e.to_string()))?;
        Ok(CertificateAuthority { key, cert })
    }

    /// A certificate for `subject` signed by this CA from `params` as they
    /// are, even ones that break the path rules (for tests of those rules).
    pub fn issue_with(
        &self,
        subject: &p256::PublicKey,
        params: CertificateParams,
    ) -> Result<Vec<u8>, X509Error> {
        let cert = params
            .signed_by(&SubjectKey::of(subject), &self.cert, &self.key)
            .map_err(|e| X509Error::Generate(e.to_string()))?;
        Ok(cert.der().to_vec())
    }

    /// An end-entity certificate for `subject`, signed by this CA.
    pub fn issue_leaf(
        &self,
        subject: &p256::PublicKey,
        common_name: &str,
        validity: Validity,
    ) -> Result<Vec<u8>, X509Error> {
        self.issue_with(subject, certificate_params(common_name, validity, false)?)
    }

    pub fn certificate_der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }
}

// ---------------------------------------------------------------------------
// Trust

/// Certificates whose keys are trusted to sign issuer certificates (or, for
/// a self-signed issuer listed here, to sign credentials). Empty trusts nothing.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor<'static>>,
    /// Each anchor's certificate, in the same order: the path rules read
    /// its extensions when it issues a chain's first certificate.
    certificates: Vec<Vec<u8>>,
}

impl TrustAnchors {
    pub fn none() -> TrustAnchors {
        TrustAnchors::default()
    }

    /// A PEM bundle of anchor certificates (`PROOFME_TRUSTED_ISSUERS`).
    pub fn from_pem(pem: &str) -> Result<TrustAnchors, X509Error> {
        let mut anchors = TrustAnchors::none();
        for der in parse_certificates_pem(pem)? {
            anchors.add_der(&der)?;
        }
        Ok(anchors)
    }

    pub fn from_der<'a>(
        certs: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<TrustAnchors, X509Error> {
        let mut anchors = TrustAnchors::none();
        for der in certs {
            anchors.add_der(der)?;
        }
        Ok(anchors)
    }

    pub fn add_der(&mut self, der: &[u8]) -> Result<(), X509Error> {
        let cert = CertificateDer::from(der);
        let anchor = webpki::anchor_from_trusted_cert(&cert)
            .map_err(|e| X509Error::Certificate(format!("{e:?}")))?
            .to_owned();
        self.anchors.push(anchor);
        self.certificates.push(der.to_vec());
        Ok(())
    }

    /// The certificate of `anchor`, matched by subject and key.
    fn certificate_of(&self, anchor: &TrustAnchor<'_>) -> Option<&[u8]> {
        self.anchors
            .iter()
            .position(|a| {
                a.subject.as_ref() == anchor.subject.as_ref()
                    && a.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
            })
            .and_then(|i| self.certificates.get(i))
            .map(Vec::as_slice)
    }

    /// Both sets: a test identification trusts the configured anchors and
    /// the built-in test issuer.
    pub fn union(&self, other: &TrustAnchors) -> TrustAnchors {
        let mut union = self.clone();
        union.anchors.extend(other.anchors.iter().cloned());
        union
            .certificates
            .extend(other.certificates.iter().cloned());
        union
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// Issuer certificates may carry any extended key usage (or none): they are
/// not TLS certificates, so the TLS purposes webpki offers do not apply.
struct AnyExtendedKeyUsage;

impl webpki::ExtendedKeyUsageValidator for AnyExtendedKeyUsage {
    fn validate(&self, iter: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        // Still refuse a malformed extension.
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

/// What a certificate may do, as its extensions say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Usage {
    is_ca: bool,
    /// The most CA certificates that may follow it on a path.
    path_len: Option<u8>,
    /// `None` when the certificate has no keyUsage extension.
    digital_signature: Option<bool>,
    key_cert_sign: Option<bool>,
}

fn usage_of(der: &[u8]) -> Result<Usage, PathRule> {
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
    let cert = x509_cert::Certificate::from_der(der).map_err(|_| PathRule::Unreadable)?;
    let tbs = &cert.tbs_certificate;
    let constraints = tbs
        .get::<BasicConstraints>()
        .map_err(|_| PathRule::Unreadable)?;
    let key_usage = tbs.get::<KeyUsage>().map_err(|_| PathRule::Unreadable)?;
    Ok(Usage {
        is_ca: constraints.as_ref().is_some_and(|(_, bc)| bc.ca),
        path_len: constraints.and_then(|(_, bc)| bc.path_len_constraint),
        digital_signature: key_usage.as_ref().map(|(_, ku)| ku.digital_signature()),
        key_cert_sign: key_usage.as_ref().map(|(_, ku)| ku.key_cert_sign()),
    })
}

/// The leaf signs, so it must say it may (a keyUsage without
/// digitalSignature, or none at all, is refused), and it is no CA.
fn check_leaf(usage: Usage) -> Result<(), PathRule> {
    if usage.is_ca {
        return Err(PathRule::LeafIsCa);
    }
    if usage.digital_signature != Some(true) {
        return Err(PathRule::LeafCannotSign);
    }
    Ok(())
}

/// A certificate that signed another is a CA whose keyUsage has
/// keyCertSign, with no more CAs below it on the path (`cas_below`) than its
/// pathLenConstraint allows. webpki checks pathLen on intermediates, but not
/// on the trust anchor, which it knows only by name and key.
fn check_issuer(usage: Usage, cas_below: usize) -> Result<(), PathRule> {
    if !usage.is_ca {
        return Err(PathRule::IssuerNotCa);
    }
    if usage.key_cert_sign != Some(true) {
        return Err(PathRule::IssuerCannotCertify);
    }
    if usage
        .path_len
        .is_some_and(|max| cas_below > usize::from(max))
    {
        return Err(PathRule::PathTooLong);
    }
    Ok(())
}

/// The path rules over a path webpki built: the leaf, every intermediate,
/// and the anchor, unless the anchor is the leaf itself (a self-signed
/// issuer trusted as it is, such as the built-in test issuer).
fn check_path_rules(
    leaf_der: &[u8],
    path: &webpki::VerifiedPath<'_>,
    anchors: &TrustAnchors,
) -> Result<(), PathRule> {
    check_leaf(usage_of(leaf_der)?)?;
    // From the leaf's issuer upwards: the i-th has i CAs below it.
    let mut cas_below = 0;
    for intermediate in path.intermediate_certificates() {
        check_issuer(usage_of(intermediate.der().as_ref())?, cas_below)?;
        cas_below += 1;
    }
    let anchor = anchors
        .certificate_of(path.anchor())
        .ok_or(PathRule::Unreadable)?;
    if anchor != leaf_der {
        check_issuer(usage_of(anchor)?, cas_below)?;
    }
    Ok(())
}

/// The P-256 key of a certificate, without judging the certificate: for a
/// wallet checking a request object signed by the certificate whose hash is
/// the `client_id` (the hash, not a chain, is what binds the key there).
pub fn leaf_public_key(der: &[u8]) -> Result<VerifyingKey, ChainError> {
    let cert = CertificateDer::from(der);
    let cert = webpki::EndEntityCert::try_from(&cert).map_err(|_| ChainError::Malformed)?;
    let spki = cert.subject_public_key_info();
    VerifyingKey::from_public_key_der(spki.as_ref()).map_err(|_| ChainError::UnsupportedKey)
}

/// Checks `x5c` (DER, leaf first, then intermediates) leads to one of
/// `anchors` at `now` (Unix seconds) and returns the leaf's P-256 key.
///
/// rustls-webpki builds the path and checks every signature, validity period,
/// basic constraints and name constraints. A self-signed end-entity
/// certificate listed as an anchor and sent alone also passes: webpki finds
/// its issuer (itself) among the anchors and checks its self-signature and
/// validity like any other link (covered by a test below).
pub fn verify_chain(
    x5c: &[Vec<u8>],
    anchors: &TrustAnchors,
    now: i64,
) -> Result<VerifyingKey, ChainError> {
    let (leaf, intermediates) = x5c.split_first().ok_or(ChainError::Empty)?;
    if x5c.len() > MAX_CHAIN_LEN {
        return Err(ChainError::TooLong);
    }
    let leaf = CertificateDer::from(leaf.as_slice());
    let leaf = webpki::EndEntityCert::try_from(&leaf).map_err(|_| ChainError::Malformed)?;
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let leaf_der = x5c.first().map(Vec::as_slice).unwrap_or_default();
    let now = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now).unwrap_or(0)));
    // webpki tries every path it can build; the first path rule a path broke
    // is what we report if none passes.
    let broken = std::cell::Cell::new(None);
    let path_rules = |path: &webpki::VerifiedPath<'_>| {
        check_path_rules(leaf_der, path, anchors).map_err(|rule| {
            if broken.get().is_none() {
                broken.set(Some(rule));
            }
            webpki::Error::UnknownIssuer
        })
    };
    leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors.anchors,
        &intermediates,
        now,
        AnyExtendedKeyUsage,
        None,
        Some(&path_rules),
    )
    .map_err(|e| match (e, broken.get()) {
        (webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }, _) => {
            ChainError::Expired
        }
        (_, Some(rule)) => ChainError::Usage(rule),
        (other, None) => ChainError::Untrusted(format!("{other:?}")),
    })?;
    let spki = leaf.subject_public_key_info();
    VerifyingKey::from_public_key_der(spki.as_ref()).map_err(|_| ChainError::UnsupportedKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;

    fn validity() -> Validity {
        Validity::days_from(NOW, 365)
    }

    fn leaf_key() -> SecretKey {
        SecretKey::random(&mut OsRng)
    }

    fn ca(name: &str) -> CertificateAuthority {
        CertificateAuthority::new(name, validity()).unwrap()
    }

    fn anchors(ders: &[Vec<u8>]) -> TrustAnchors {
        TrustAnchors::from_der(ders.iter().map(Vec::as_slice)).unwrap()
    }

    #[test]
    fn a_certificates_key_is_read_without_judging_it() {
        let key = leaf_key();
        let cert = self_signed_certificate(&key, "V", validity()).unwrap();
        assert_eq!(
            leaf_public_key(&cert).unwrap(),
            VerifyingKey::from(&p256::ecdsa::SigningKey::from(&key))
        );
        assert_eq!(leaf_public_key(b"junk"), Err(ChainError::Malformed));
    }

    #[test]
    fn client_id_is_x509_hash_of_the_der() {
        // SHA-256("abc") from FIPS 180-2, base64url.
        assert_eq!(
            client_id_for(b"abc"),
            "x509_hash:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    #[test]
    fn pem_bundles_parse_to_every_certificate() {
        let a = ca("A").certificate_der();
        let b = ca("B").certificate_der();
        let bundle = format!(
            "anchors\n{}\n{}",
            certificate_to_pem(&a),
            certificate_to_pem(&b)
        );
        assert_eq!(parse_certificates_pem(&bundle).unwrap(), vec![a, b]);
        assert_eq!(parse_certificates_pem("").unwrap(), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn pem_with_a_broken_certificate_is_rejected() {
        assert_eq!(
            parse_certificates_pem("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"),
            Err(X509Error::Pem)
        );
        let not_x509 = certificate_to_pem(b"not a certificate");
        assert!(matches!(
            parse_certificates_pem(&not_x509),
            Err(X509Error::Certificate(_))
        ));
    }

    #[test]
    fn private_keys_parse_from_pkcs8_and_sec1_pem() {
        let key = leaf_key();
        let pkcs8 = private_key_to_pem(&key).unwrap();
        assert_eq!(parse_private_key_pem(&pkcs8).unwrap(), key);
        let sec1 = key.to_sec1_pem(LineEnding::LF).unwrap();
        let with_params = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
            sec1.as_str()
        );
        assert_eq!(parse_private_key_pem(&with_params).unwrap(), key);
    }

    #[test]
    fn private_keys_of_other_curves_or_no_key_are_rejected() {
        let p384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        assert_eq!(
            parse_private_key_pem(&p384.serialize_pem()),
            Err(X509Error::PrivateKey)
        );
        let cert = certificate_to_pem(&ca("A").certificate_der());
        assert_eq!(parse_private_key_pem(&cert), Err(X509Error::PrivateKey));
        assert_eq!(parse_private_key_pem(""), Err(X509Error::PrivateKey));
    }

    #[test]
    fn x5c_round_trips_as_standard_base64() {
        let chain = vec![vec![0xfbu8, 0xff], vec![1, 2, 3]];
        let value = encode_x5c(&chain);
        assert_eq!(value, serde_json::json!(["+/8=", "AQID"]));
        assert_eq!(decode_x5c(Some(&value)).unwrap(), chain);
    }

    #[test]
    fn x5c_that_is_missing_empty_too_long_or_not_base64_is_rejected() {
        use serde_json::json;
        assert_eq!(decode_x5c(None), Err(ChainError::Empty));
        assert_eq!(decode_x5c(Some(&json!([]))), Err(ChainError::Empty));
        assert_eq!(decode_x5c(Some(&json!("AQID"))), Err(ChainError::Malformed));
        assert_eq!(
            decode_x5c(Some(&json!(["-_8"]))),
            Err(ChainError::Malformed)
        );
        assert_eq!(
            decode_x5c(Some(&json!(["+/8"]))),
            Err(ChainError::Malformed)
        );
        assert_eq!(decode_x5c(Some(&json!([1]))), Err(ChainError::Malformed));
        let long = json!(vec!["AQID"; MAX_CHAIN_LEN + 1]);
        assert_eq!(decode_x5c(Some(&long)), Err(ChainError::TooLong));
    }

    #[test]
    fn chain_to_a_trusted_root_gives_the_leaf_key() {
        let root = ca("Root");
        let key = leaf_key();
        let leaf = root
            .issue_leaf(&key.public_key(), "Issuer", validity())
            .unwrap();
        let verified = verify_chain(&[leaf], &anchors(&[root.certificate_der()]), NOW).unwrap();
        assert_eq!(verified, VerifyingKey::from(key.public_key()));
    }

    #[test]
    fn chain_to_an_unknown_anchor_fails() {
        let root = ca("Root");
        let leaf = root
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        let other = ca("Other root");
        assert!(matches!(
            verify_chain(
                std::slice::from_ref(&leaf),
                &anchors(&[other.certificate_der()]),
                NOW
            ),
            Err(ChainError::Untrusted(_))
        ));
        assert!(matches!(
            verify_chain(&[leaf], &TrustAnchors::none(), NOW),
            Err(ChainError::Untrusted(_))
        ));
    }

    #[test]
    fn leaf_signed_by_an_impostor_ca_with_the_same_name_fails() {
        let root = ca("Root");
        let impostor = ca("Root");
        let leaf = impostor
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert!(matches!(
            verify_chain(&[leaf], &anchors(&[root.certificate_der()]), NOW),
            Err(ChainError::Untrusted(_))
        ));
    }

    #[test]
    fn expired_or_not_yet_valid_leaf_fails() {
        let root = ca("Root");
        let trusted = anchors(&[root.certificate_der()]);
        let expired = root
            .issue_leaf(
                &leaf_key().public_key(),
                "Issuer",
                Validity {
                    not_before: NOW - 1000,
                    not_after: NOW - 10,
                },
            )
            .unwrap();
        assert_eq!(
            verify_chain(&[expired], &trusted, NOW),
            Err(ChainError::Expired)
        );
        let future = root
            .issue_leaf(
                &leaf_key().public_key(),
                "Issuer",
                Validity {
                    not_before: NOW + 10,
                    not_after: NOW + 1000,
                },
            )
            .unwrap();
        assert_eq!(
            verify_chain(std::slice::from_ref(&future), &trusted, NOW),
            Err(ChainError::Expired)
        );
        assert!(verify_chain(&[future], &trusted, NOW + 20).is_ok());
    }

    #[test]
    fn intermediates_are_used_when_sent_and_required() {
        let root = ca("Root");
        let intermediate = root.issue_intermediate("Intermediate", validity()).unwrap();
        let key = leaf_key();
        let leaf = intermediate
            .issue_leaf(&key.public_key(), "Issuer", validity())
            .unwrap();
        let trusted = anchors(&[root.certificate_der()]);
        let chain = vec![leaf.clone(), intermediate.certificate_der()];
        assert_eq!(
            verify_chain(&chain, &trusted, NOW).unwrap(),
            VerifyingKey::from(key.public_key())
        );
        let with_root = vec![
            leaf.clone(),
            intermediate.certificate_der(),
            root.certificate_der(),
        ];
        assert!(verify_chain(&with_root, &trusted, NOW).is_ok());
        assert!(matches!(
            verify_chain(&[leaf], &trusted, NOW),
            Err(ChainError::Untrusted(_))
        ));
    }

    #[test]
    fn an_end_entity_certificate_cannot_act_as_intermediate() {
        let root = ca("Root");
        // The root certifies an end-entity key; that key then signs another
        // certificate. rcgen does not stop this, path validation must (the
        // middle certificate has no basicConstraints cA).
        let middle_key = leaf_key();
        let middle_der = root
            .issue_leaf(&middle_key.public_key(), "Middle", validity())
            .unwrap();
        let key = rcgen_key(&middle_key).unwrap();
        let cert = certificate_params("Middle", validity(), false)
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let middle = CertificateAuthority { key, cert };
        let leaf = middle
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert!(matches!(
            verify_chain(
                &[leaf, middle_der],
                &anchors(&[root.certificate_der()]),
                NOW
            ),
            Err(ChainError::Untrusted(_))
        ));
    }

    #[test]
    fn an_expired_intermediate_fails_the_chain() {
        let root = ca("Root");
        let intermediate = root
            .issue_intermediate(
                "Intermediate",
                Validity {
                    not_before: NOW - 1000,
                    not_after: NOW - 10,
                },
            )
            .unwrap();
        let leaf = intermediate
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert_eq!(
            verify_chain(
                &[leaf, intermediate.certificate_der()],
                &anchors(&[root.certificate_der()]),
                NOW
            ),
            Err(ChainError::Expired)
        );
    }

    #[test]
    fn self_signed_issuer_listed_as_anchor_is_trusted_alone() {
        let key = leaf_key();
        let cert = self_signed_certificate(&key, "Test issuer", validity()).unwrap();
        let trusted = anchors(std::slice::from_ref(&cert));
        assert_eq!(
            verify_chain(std::slice::from_ref(&cert), &trusted, NOW).unwrap(),
            VerifyingKey::from(key.public_key())
        );
        assert!(matches!(
            verify_chain(std::slice::from_ref(&cert), &TrustAnchors::none(), NOW),
            Err(ChainError::Untrusted(_))
        ));
        assert_eq!(
            verify_chain(&[cert], &trusted, NOW + 400 * 86_400),
            Err(ChainError::Expired)
        );
    }

    #[test]
    fn a_self_signed_certificate_with_the_anchor_name_but_another_key_fails() {
        let trusted_cert = self_signed_certificate(&leaf_key(), "Test issuer", validity()).unwrap();
        let forged = self_signed_certificate(&leaf_key(), "Test issuer", validity()).unwrap();
        assert!(matches!(
            verify_chain(&[forged], &anchors(&[trusted_cert]), NOW),
            Err(ChainError::Untrusted(_))
        ));
    }

    #[test]
    fn issuer_certificates_with_any_extended_key_usage_are_accepted() {
        let root = ca("Root");
        let key = leaf_key();
        let mut params = certificate_params("Issuer", validity(), false).unwrap();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
        let leaf = params
            .signed_by(&SubjectKey::of(&key.public_key()), &root.cert, &root.key)
            .unwrap();
        assert!(
            verify_chain(
                &[leaf.der().to_vec()],
                &anchors(&[root.certificate_der()]),
                NOW
            )
            .is_ok()
        );
    }

    #[test]
    fn a_leaf_with_a_key_other_than_p256_is_refused() {
        let root = ca("Root");
        let p384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let leaf = certificate_params("Issuer", validity(), false)
            .unwrap()
            .signed_by(&p384, &root.cert, &root.key)
            .unwrap();
        assert_eq!(
            verify_chain(
                &[leaf.der().to_vec()],
                &anchors(&[root.certificate_der()]),
                NOW
            ),
            Err(ChainError::UnsupportedKey)
        );
    }

    #[test]
    fn empty_overlong_or_garbage_chains_are_rejected() {
        let root = ca("Root");
        let trusted = anchors(&[root.certificate_der()]);
        assert_eq!(verify_chain(&[], &trusted, NOW), Err(ChainError::Empty));
        assert_eq!(
            verify_chain(&[b"garbage".to_vec()], &trusted, NOW),
            Err(ChainError::Malformed)
        );
        let leaf = root
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        let long = vec![leaf; MAX_CHAIN_LEN + 1];
        assert_eq!(verify_chain(&long, &trusted, NOW), Err(ChainError::TooLong));
    }

    #[test]
    fn trust_anchors_from_pem_and_union() {
        let a = ca("A");
        let b = ca("B");
        let only_a = TrustAnchors::from_pem(&certificate_to_pem(&a.certificate_der())).unwrap();
        let only_b = anchors(&[b.certificate_der()]);
        assert_eq!(TrustAnchors::from_pem("").unwrap().len(), 0);
        let leaf_b = b
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert!(verify_chain(std::slice::from_ref(&leaf_b), &only_a, NOW).is_err());
        let both = only_a.union(&only_b);
        assert_eq!(both.len(), 2);
        assert!(verify_chain(&[leaf_b], &both, NOW).is_ok());
    }

    // --- The path rules (DESIGN 4b), one test each ---

    fn leaf_params(usages: Vec<KeyUsagePurpose>, ca: IsCa) -> CertificateParams {
        let mut params = certificate_params("Issuer", validity(), false).unwrap();
        params.key_usages = usages;
        params.is_ca = ca;
        params
    }

    fn ca_params(usages: Vec<KeyUsagePurpose>, constraints: BasicConstraints) -> CertificateParams {
        let mut params = certificate_params("CA", validity(), true).unwrap();
        params.key_usages = usages;
        params.is_ca = IsCa::Ca(constraints);
        params.use_authority_key_identifier_extension = true;
        params
    }

    fn rule_broken(result: Result<VerifyingKey, ChainError>) -> PathRule {
        match result {
            Err(ChainError::Usage(rule)) => rule,
            other => panic!("expected a broken path rule, got {other:?}"),
        }
    }

    /// The path rule `chain` (leaf first) breaks under the anchor `root`.
    fn rule_broken_under(root: &CertificateAuthority, chain: &[Vec<u8>]) -> PathRule {
        rule_broken(verify_chain(
            chain,
            &anchors(&[root.certificate_der()]),
            NOW,
        ))
    }

    /// A leaf with these usages, issued straight by `root`.
    fn leaf_of(root: &CertificateAuthority, usages: Vec<KeyUsagePurpose>, ca: IsCa) -> Vec<u8> {
        root.issue_with(&leaf_key().public_key(), leaf_params(usages, ca))
            .unwrap()
    }

    #[test]
    fn a_leaf_that_may_only_agree_keys_is_refused() {
        let root = ca("Root");
        let leaf = leaf_of(&root, vec![KeyUsagePurpose::KeyAgreement], IsCa::NoCa);
        assert_eq!(rule_broken_under(&root, &[leaf]), PathRule::LeafCannotSign);
    }

    #[test]
    fn a_leaf_without_key_usage_is_refused() {
        let root = ca("Root");
        let leaf = leaf_of(&root, vec![], IsCa::NoCa);
        assert_eq!(rule_broken_under(&root, &[leaf]), PathRule::LeafCannotSign);
    }

    #[test]
    fn a_non_ca_leaf_that_may_only_sign_certificates_is_refused() {
        let root = ca("Root");
        let leaf = leaf_of(
            &root,
            vec![KeyUsagePurpose::KeyCertSign],
            IsCa::ExplicitNoCa,
        );
        assert_eq!(rule_broken_under(&root, &[leaf]), PathRule::LeafCannotSign);
    }

    #[test]
    fn a_ca_certificate_as_leaf_is_refused() {
        let root = ca("Root");
        let leaf = leaf_of(
            &root,
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyCertSign,
            ],
            IsCa::Ca(BasicConstraints::Unconstrained),
        );
        // webpki refuses a CA as end entity before our rules run; either
        // way the chain is not trusted.
        assert!(matches!(
            verify_chain(&[leaf], &anchors(&[root.certificate_der()]), NOW),
            Err(ChainError::Untrusted(_) | ChainError::Usage(PathRule::LeafIsCa))
        ));
        let usage = Usage {
            is_ca: true,
            path_len: None,
            digital_signature: Some(true),
            key_cert_sign: Some(true),
        };
        assert_eq!(check_leaf(usage), Err(PathRule::LeafIsCa));
    }

    #[test]
    fn an_intermediate_ca_without_key_cert_sign_is_refused() {
        let root = ca("Root");
        let intermediate = root
            .issue_intermediate_with(ca_params(
                vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign],
                BasicConstraints::Unconstrained,
            ))
            .unwrap();
        let leaf = intermediate
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert_eq!(
            rule_broken_under(&root, &[leaf, intermediate.certificate_der()]),
            PathRule::IssuerCannotCertify
        );
    }

    #[test]
    fn an_intermediate_ca_without_key_usage_is_refused() {
        let root = ca("Root");
        let intermediate = root
            .issue_intermediate_with(ca_params(vec![], BasicConstraints::Unconstrained))
            .unwrap();
        let leaf = intermediate
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert_eq!(
            rule_broken_under(&root, &[leaf, intermediate.certificate_der()]),
            PathRule::IssuerCannotCertify
        );
    }

    #[test]
    fn a_trust_anchor_without_key_cert_sign_is_refused_as_issuer() {
        let mut params = ca_params(
            vec![KeyUsagePurpose::DigitalSignature],
            BasicConstraints::Unconstrained,
        );
        params.use_authority_key_identifier_extension = false;
        let root = CertificateAuthority::from_params(params).unwrap();
        let leaf = root
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert_eq!(
            rule_broken_under(&root, &[leaf]),
            PathRule::IssuerCannotCertify
        );
    }

    #[test]
    fn a_trust_anchor_that_is_no_ca_cannot_issue() {
        // A self-signed end-entity certificate listed as anchor signs
        // another certificate with its key: it is no CA.
        let key = leaf_key();
        let mut params = certificate_params("Not a CA", validity(), false).unwrap();
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.use_authority_key_identifier_extension = false;
        let rk = rcgen_key(&key).unwrap();
        let cert = params.self_signed(&rk).unwrap();
        let not_a_ca = CertificateAuthority { key: rk, cert };
        let leaf = not_a_ca
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert_eq!(rule_broken_under(&not_a_ca, &[leaf]), PathRule::IssuerNotCa);
    }

    #[test]
    fn a_path_longer_than_path_len_allows_is_refused() {
        let root = CertificateAuthority::from_params({
            let mut p = ca_params(
                vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
                BasicConstraints::Constrained(0),
            );
            p.use_authority_key_identifier_extension = false;
            p
        })
        .unwrap();
        let intermediate = root.issue_intermediate("Intermediate", validity()).unwrap();
        let leaf = intermediate
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        let trusted = anchors(&[root.certificate_der()]);
        assert_eq!(
            rule_broken(verify_chain(
                &[leaf, intermediate.certificate_der()],
                &trusted,
                NOW
            )),
            PathRule::PathTooLong
        );
        // The same root issues leaves directly.
        let direct = root
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert!(verify_chain(&[direct], &trusted, NOW).is_ok());
    }

    #[test]
    fn an_intermediate_with_path_len_zero_cannot_have_a_ca_below() {
        let root = ca("Root");
        let first = root
            .issue_intermediate_with(ca_params(
                vec![KeyUsagePurpose::KeyCertSign],
                BasicConstraints::Constrained(0),
            ))
            .unwrap();
        let second = first.issue_intermediate("Second", validity()).unwrap();
        let leaf = second
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert!(
            verify_chain(
                &[leaf, second.certificate_der(), first.certificate_der()],
                &anchors(&[root.certificate_der()]),
                NOW
            )
            .is_err()
        );
        let usage = Usage {
            is_ca: true,
            path_len: Some(0),
            digital_signature: None,
            key_cert_sign: Some(true),
        };
        assert_eq!(check_issuer(usage, 1), Err(PathRule::PathTooLong));
        assert_eq!(check_issuer(usage, 0), Ok(()));
    }

    #[test]
    fn a_good_path_passes_every_rule() {
        let root = ca("Root");
        let intermediate = root.issue_intermediate("Intermediate", validity()).unwrap();
        let leaf = intermediate
            .issue_leaf(&leaf_key().public_key(), "Issuer", validity())
            .unwrap();
        assert!(
            verify_chain(
                &[leaf, intermediate.certificate_der()],
                &anchors(&[root.certificate_der()]),
                NOW
            )
            .is_ok()
        );
    }
}
