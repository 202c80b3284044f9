//! Personal data at rest: what a customer shares is stored only encrypted.
//!
//! Each identification's data gets its own random key (AES-256-GCM); that key
//! is stored wrapped by the deployment key, which lives in a file
//! (`PROOFME_DATA_KEY_FILE`) and never in the database. Erasing the row erases
//! the data and its key together. An organisation that registered an age
//! recipient gets its data encrypted end to end instead: the service keeps
//! only the armored age file and cannot read it.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use rand::rngs::OsRng;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
/// The first byte of every sealed blob, so the format can change later.
const FORMAT_V1: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("data key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("data key file {0} does not hold a base64 key of 32 bytes")]
    KeyFormat(PathBuf),
    /// Wrong key, tampered or truncated ciphertext. Says nothing more on purpose.
    #[error("sealed data could not be opened")]
    Open,
    #[error("age encryption failed: {0}")]
    Age(String),
}

/// The deployment key. Cheap to clone; never printed.
#[derive(Clone)]
pub struct DataKey(Arc<[u8; KEY_LEN]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// Data sealed under a fresh per-record key, and that key wrapped by the
/// deployment key. Both belong to one record and are deleted with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// `version || nonce || AES-256-GCM(key, nonce, plaintext, aad)`.
fn encrypt(key: &[u8; KEY_LEN], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let nonce: [u8; NONCE_LEN] = random();
    // Encryption with a valid key and in-memory buffers cannot fail.
    let body = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default();
    let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
    out.push(FORMAT_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out
}

fn decrypt(key: &[u8; KEY_LEN], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    let (version, rest) = sealed.split_first().ok_or(VaultError::Open)?;
    if *version != FORMAT_V1 || rest.len() < NONCE_LEN + 16 {
        return Err(VaultError::Open);
    }
    let (nonce, body) = rest.split_at(NONCE_LEN);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| VaultError::Open)
}

impl DataKey {
    /// A key that lives only in memory (in-memory databases and tests).
    pub fn ephemeral() -> DataKey {
        DataKey(Arc::new(random()))
    }

    /// Reads the key file, or creates it (mode 0600, never overwriting one that
    /// appeared meanwhile) when it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<DataKey, VaultError> {
        let io = |source| VaultError::KeyFile {
            path: path.to_owned(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::parse(text.trim(), path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let key: [u8; KEY_LEN] = random();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                writeln!(file, "{}", STANDARD.encode(key)).map_err(io)?;
                file.sync_all().map_err(io)?;
                tracing::info!(path = %path.display(), "created a new data key file");
                Ok(DataKey(Arc::new(key)))
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(io)?;
                Self::parse(text.trim(), path)
            }
            Err(e) => Err(io(e)),
        }
    }

    fn parse(text: &str, path: &Path) -> Result<DataKey, VaultError> {
        let bytes = STANDARD
            .decode(text)
            .map_err(|_| VaultError::KeyFormat(path.to_owned()))?;
        let key: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| VaultError::KeyFormat(path.to_owned()))?;
        Ok(DataKey(Arc::new(key)))
    }

    /// Encrypts `plaintext` under a new key of its own and wraps that key.
    /// `context` (the record's id) is bound into both, so a sealed blob
    /// moved to another record does not open.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Sealed {
        let record_key: [u8; KEY_LEN] = random();
        Sealed {
            ciphertext: encrypt(&record_key, plaintext, context.as_bytes()),
            wrapped_key: encrypt(&self.0, &record_key, context.as_bytes()),
        }
    }

    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<Vec<u8>, VaultError> {
        let key = decrypt(&self.0, &sealed.wrapped_key, context.as_bytes())?;
        let key: [u8; KEY_LEN] = key.try_into().map_err(|_| VaultError::Open)?;
        decrypt(&key, &sealed.ciphertext, context.as_bytes())
    }

    /// Encrypts a small secret (a response key) directly under the deployment key.
    pub fn wrap(&self, secret: &[u8], context: &str) -> Vec<u8> {
        encrypt(&self.0, secret, context.as_bytes())
    }

    pub fn unwrap_secret(&self, wrapped: &[u8], context: &str) -> Result<Vec<u8>, VaultError> {
        decrypt(&self.0, wrapped, context.as_bytes())
    }
}

/// An organisation's age X25519 recipient (`age1…`), for end-to-end encryption.
#[derive(Clone)]
pub struct DataRecipient(age::x25519::Recipient);

impl DataRecipient {
    pub fn parse(s: &str) -> Result<DataRecipient, String> {
        s.trim()
            .parse::<age::x25519::Recipient>()
            .map(DataRecipient)
            .map_err(|e| format!("not an age X25519 recipient (age1…): {e}"))
    }

    /// The armored age file (`-----BEGIN AGE ENCRYPTED FILE-----`) of `plaintext`.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, VaultError> {
        let age_err = |e: &dyn std::fmt::Display| VaultError::Age(e.to_string());
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&self.0 as &dyn age::Recipient))
                .map_err(|e| age_err(&e))?;
        let mut out = Vec::new();
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .map_err(|e| age_err(&e))?;
        let mut writer = encryptor.wrap_output(armor).map_err(|e| age_err(&e))?;
        writer.write_all(plaintext).map_err(|e| age_err(&e))?;
        writer
            .finish()
            .and_then(|armor| armor.finish())
            .map_err(|e| age_err(&e))?;
        String::from_utf8(out).map_err(|e| age_err(&e))
    }
}

impl std::fmt::Display for DataRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Debug for DataRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataRecipient({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_with_its_context_only() {
        let key = DataKey::ephemeral();
        let sealed = key.seal(b"{\"FIRST_NAME\":\"Canary\"}", "id_a");
        assert_eq!(
            key.open(&sealed, "id_a").unwrap(),
            b"{\"FIRST_NAME\":\"Canary\"}"
        );
        assert!(key.open(&sealed, "id_b").is_err());
        assert!(
            !sealed.ciphertext.windows(6).any(|w| w == b"Canary"),
            "plaintext must not show through"
        );
    }

    #[test]
    fn another_deployment_key_cannot_open_it() {
        let sealed = DataKey::ephemeral().seal(b"secret", "id_a");
        assert!(DataKey::ephemeral().open(&sealed, "id_a").is_err());
    }

    #[test]
    fn tampering_is_detected() {
        let key = DataKey::ephemeral();
        let mut sealed = key.seal(b"secret", "id_a");
        let last = sealed.ciphertext.len() - 1;
        sealed.ciphertext[last] ^= 1;
        assert!(key.open(&sealed, "id_a").is_err());
        let mut sealed = key.seal(b"secret", "id_a");
        sealed.wrapped_key[5] ^= 1;
        assert!(key.open(&sealed, "id_a").is_err());
        assert!(key.unwrap_secret(&[], "x").is_err());
    }

    #[test]
    fn each_record_gets_its_own_key() {
        let key = DataKey::ephemeral();
        let a = key.seal(b"same", "id");
        let b = key.seal(b"same", "id");
        assert_ne!(a.wrapped_key, b.wrapped_key);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn the_key_file_is_created_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("proofme.db.data-key");
        let first = DataKey::load_or_create(&path).unwrap();
        let again = DataKey::load_or_create(&path).unwrap();
        let sealed = first.seal(b"x", "c");
        assert_eq!(again.open(&sealed, "c").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_malformed_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "not base64!").unwrap();
        assert!(matches!(
            DataKey::load_or_create(&path),
            Err(VaultError::KeyFormat(_))
        ));
        std::fs::write(&path, STANDARD.encode([1u8; 16])).unwrap();
        assert!(DataKey::load_or_create(&path).is_err());
    }

    #[test]
    fn age_recipients_encrypt_to_the_identity_only() {
        use std::io::Read;
        let identity = age::x25519::Identity::generate();
        let recipient = DataRecipient::parse(&identity.to_public().to_string()).unwrap();
        let armored = recipient.encrypt(b"{\"EMAIL\":\"a@b.c\"}").unwrap();
        assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));

        let open = |id: &age::x25519::Identity| -> Option<Vec<u8>> {
            let reader = age::armor::ArmoredReader::new(armored.as_bytes());
            let decryptor = age::Decryptor::new(reader).ok()?;
            let mut r = decryptor
                .decrypt(std::iter::once(id as &dyn age::Identity))
                .ok()?;
            let mut out = Vec::new();
            r.read_to_end(&mut out).ok()?;
            Some(out)
        };
        assert_eq!(open(&identity).unwrap(), b"{\"EMAIL\":\"a@b.c\"}");
        assert!(open(&age::x25519::Identity::generate()).is_none());
        assert!(DataRecipient::parse("age1nope").is_err());
    }
}
