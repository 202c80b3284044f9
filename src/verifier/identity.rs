//! Who the verifier is and whom it trusts: the key and certificate that sign
//! request objects, the issuers' trust anchors, and the built-in test issuer.

use p256::ecdsa::SigningKey;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};

use crate::config::Config;
use crate::domain::Timestamp;
use crate::oid4vp::holder::Issuer;
use crate::oid4vp::mdoc::issue::MdocIssuer;
use crate::oid4vp::x509::{self, TrustAnchors};
use crate::store::{Store, StoreError, StoredSigningKey};
use crate::vault::DataKey;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the {0} key in the database cannot be opened with this data key file")]
    Unwrap(&'static str),
    #[error("{0}")]
    Invalid(String),
}

/// The verifier's signing key and certificate chain (leaf first, DER).
pub struct VerifierIdentity {
    pub key: SigningKey,
    pub chain: Vec<Vec<u8>>,
    /// `x509_hash:<base64url(SHA-256 of the leaf certificate)>`.
    pub client_id: String,
}

/// Everything the verifier needs at run time.
pub struct Verifier {
    pub identity: VerifierIdentity,
    /// Anchors for live identifications: only the configured issuers.
    pub live_trust: TrustAnchors,
    /// Anchors for test identifications: the configured issuers and the test issuer.
    pub test_trust: TrustAnchors,
    /// Signs test PIDs; trusted by test identifications only.
    pub test_issuer: Issuer,
    /// Signs test mdocs (a document signer under a test IACA root);
    /// trusted by test identifications only.
    pub test_mdoc_issuer: MdocIssuer,
    pub vct_values: Vec<String>,
}

const VERIFIER: &str = "verifier";
/// Certificates kept under the earlier name `test_issuer` carry no keyUsage,
/// which the path rules now require; this name gets a fresh one.
const TEST_ISSUER: &str = "test_pid_issuer";
const TEST_MDOC_ISSUER: &str = "test_mdoc_issuer";

impl Verifier {
    /// Loads the configured identity, or the one kept in the database, or
    /// generates and keeps one; the same for the test issuer.
    pub async fn load(
        config: &Config,
        store: &Store,
        data_key: &DataKey,
    ) -> Result<Verifier, IdentityError> {
        let identity = match &config.verifier_identity_pem {
            Some((key_pem, cert_pem)) => configured_identity(key_pem, cert_pem)?,
            None => {
                let (key, cert) =
                    stored_or_new(store, data_key, VERIFIER, "Proofme verifier").await?;
                VerifierIdentity {
                    client_id: x509::client_id_for(&cert),
                    key,
                    chain: vec![cert],
                }
            }
        };
        let (issuer_key, issuer_cert) =
            stored_or_new(store, data_key, TEST_ISSUER, "Proofme test PID issuer").await?;
        let live_trust = TrustAnchors::from_pem(&config.trusted_issuers_pem)
            .map_err(|e| IdentityError::Invalid(format!("PROOFME_TRUSTED_ISSUERS: {e}")))?;
        let (mdoc_key, mdoc_cert, iaca_cert) = stored_or_new_mdoc_issuer(store, data_key).await?;
        let mut test_trust = live_trust.clone();
        for cert in [&issuer_cert, &iaca_cert] {
            test_trust
                .add_der(cert)
                .map_err(|e| IdentityError::Invalid(format!("test issuer certificate: {e}")))?;
        }
        Ok(Verifier {
            identity,
            live_trust,
            test_trust,
            test_issuer: Issuer::new(issuer_key, vec![issuer_cert]),
            test_mdoc_issuer: MdocIssuer::new(mdoc_key, vec![mdoc_cert]),
            vct_values: config.pid_vct_values.clone(),
        })
    }
}

fn configured_identity(key_pem: &str, cert_pem: &str) -> Result<VerifierIdentity, IdentityError> {
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        IdentityError::Invalid(format!("PROOFME_VERIFIER_{what}: {e}"))
    };
    let key =
        SigningKey::from(x509::parse_private_key_pem(key_pem).map_err(|e| invalid("KEY", &e))?);
    let chain = x509::parse_certificates_pem(cert_pem).map_err(|e| invalid("CERT", &e))?;
    let leaf = chain
        .first()
        .ok_or_else(|| invalid("CERT", &"holds no certificate"))?;
    let leaf_key = x509::leaf_public_key(leaf).map_err(|e| invalid("CERT", &e))?;
    if leaf_key != *key.verifying_key() {
        return Err(invalid(
            "CERT",
            &"the certificate is not for PROOFME_VERIFIER_KEY",
        ));
    }
    Ok(VerifierIdentity {
        client_id: x509::client_id_for(leaf),
        key,
        chain,
    })
}

/// A key pair and self-signed certificate kept (wrapped) in the database.
async fn stored_or_new(
    store: &Store,
    data_key: &DataKey,
    name: &'static str,
    common_name: &str,
) -> Result<(SigningKey, Vec<u8>), IdentityError> {
    let context = format!("signing_key:{name}");
    let stored = match store.signing_key(name).await? {
        Some(s) => s,
        None => {
            let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
            let key = SigningKey::from(&secret);
            // Long-lived: nothing checks this certificate's dates, and a wallet
            // pins it by its hash.
            let validity = x509::Validity::days_from(Timestamp::now().unix_seconds(), 3650);
            let cert = x509::self_signed_certificate(&secret, common_name, validity)
                .map_err(|e| IdentityError::Invalid(format!("{name} certificate: {e}")))?;
            let der = key
                .to_pkcs8_der()
                .map_err(|e| IdentityError::Invalid(format!("{name} key: {e}")))?;
            let fresh = StoredSigningKey {
                wrapped_private_key: data_key.wrap(der.as_bytes(), &context),
                certificate: cert,
                issuer_certificate: None,
            };
            // Another instance may have stored one first: use whichever is stored.
            store.insert_signing_key(name, &fresh).await?
        }
    };
    let der = data_key
        .unwrap_secret(&stored.wrapped_private_key, &context)
        .map_err(|_| IdentityError::Unwrap(name))?;
    let key = SigningKey::from_pkcs8_der(&der)
        .map_err(|e| IdentityError::Invalid(format!("{name} key: {e}")))?;
    Ok((key, stored.certificate))
}

/// The test mdoc issuer: a document signer key and certificate, and the test
/// IACA root that issued it. The root's key is dropped once it has signed, so
/// nothing else can ever chain to that root.
async fn stored_or_new_mdoc_issuer(
    store: &Store,
    data_key: &DataKey,
) -> Result<(SigningKey, Vec<u8>, Vec<u8>), IdentityError> {
    let name = TEST_MDOC_ISSUER;
    let context = format!("signing_key:{name}");
    let invalid = |e: &dyn std::fmt::Display| IdentityError::Invalid(format!("{name}: {e}"));
    let stored = match store.signing_key(name).await? {
        Some(s) => s,
        None => {
            let validity = x509::Validity::days_from(Timestamp::now().unix_seconds(), 3650);
            let iaca =
                x509::CertificateAuthority::new("Proofme test IACA (test mode only)", validity)
                    .map_err(|e| invalid(&e))?;
            let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
            let cert = iaca
                .issue_leaf(
                    &secret.public_key(),
                    "Proofme test mdoc document signer",
                    validity,
                )
                .map_err(|e| invalid(&e))?;
            let der = SigningKey::from(&secret)
                .to_pkcs8_der()
                .map_err(|e| invalid(&e))?;
            let fresh = StoredSigningKey {
                wrapped_private_key: data_key.wrap(der.as_bytes(), &context),
                certificate: cert,
                issuer_certificate: Some(iaca.certificate_der()),
            };
            store.insert_signing_key(name, &fresh).await?
        }
    };
    let der = data_key
        .unwrap_secret(&stored.wrapped_private_key, &context)
        .map_err(|_| IdentityError::Unwrap(name))?;
    let key = SigningKey::from_pkcs8_der(&der).map_err(|e| invalid(&e))?;
    let iaca = stored
        .issuer_certificate
        .ok_or_else(|| invalid(&"the IACA certificate is missing"))?;
    Ok((key, stored.certificate, iaca))
}
