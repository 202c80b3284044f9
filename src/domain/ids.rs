//! Identifiers: a type prefix and base62 characters from the OS CSPRNG.

use rand::{Rng, rngs::OsRng};
use std::fmt;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` base62 characters drawn from the operating system's CSPRNG.
/// Rejection-free: `gen_range` is uniform, so every character carries log2(62) bits.
pub fn random_base62(len: usize) -> String {
    let mut rng = OsRng;
    (0..len)
        .map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char)
        .collect()
}

/// `n` in base62, left-padded with `0` to `width` characters. The alphabet is
/// in ASCII order, so these strings sort as the numbers do.
fn base62_fixed(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.into_iter().map(char::from).collect()
}

/// 8 base62 characters of the current Unix time in milliseconds, then `len`
/// random ones. Ids made later sort later, so new rows land at the end of
/// every index on the id instead of at random places in it: inserts stay as
/// cheap at a million rows as at none. The random part alone carries the
/// secrecy (22 characters are 131 bits).
pub fn time_ordered_base62(len: usize) -> String {
    let ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    format!("{}{}", base62_fixed(ms, 8), random_base62(len))
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Why a string is not an id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an id starting with `{prefix}` followed by letters and digits")]
pub struct InvalidId {
    pub prefix: &'static str,
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $random_len:literal, $min_len:literal) => {
        id_type!($(#[$doc])* $name, $prefix, $random_len, $min_len, random_base62);
    };
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $random_len:literal, $min_len:literal, $make:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh random id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, $make($random_len)))
            }

            /// Accepts the prefix followed by base62 characters (at most 64).
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                let rest = s.strip_prefix($prefix).ok_or(InvalidId { prefix: $prefix })?;
                if rest.len() < $min_len || rest.len() > 64 || !is_base62(rest) {
                    return Err(InvalidId { prefix: $prefix });
                }
                Ok(Self(s.to_owned()))
            }

            /// For values read back from our own database.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

id_type!(
    /// An organisation (integrator).
    OrganisationId, "org_", 22, 1
);
id_type!(
    /// An API key's public id (not its secret).
    ApiKeyId, "key_", 22, 1
);
id_type!(
    /// A person who signs in to the dashboard for one organisation.
    UserId, "usr_", 22, 1
);
id_type!(
    /// A proofme: the template an identification follows.
    ProofmeId, "pr_", 22, 1
);
id_type!(
    /// An identification: a time prefix (see `time_ordered_base62`) and 22
    /// random base62 characters, 131 bits: the id is the only secret in the
    /// MyPage URL, so it must not be guessable.
    IdentificationId, "id_", 22, 22, time_ordered_base62
);

/// Characters of an identification id that logs show: `id_`, the 8 of the
/// creation time and 4 of the 22 random ones (24 of its 131 secret bits, so
/// 107 stay secret), enough to find an id's lines and too few to open its
/// MyPage.
const LOGGED_ID_CHARS: usize = 3 + 8 + 4;

/// An identification id as logs may show it (see `IdentificationId::for_log`).
#[derive(Debug, Clone, Copy)]
pub struct LoggedId<'a>(&'a str);

impl fmt::Display for LoggedId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ids are ASCII, so any prefix ends on a character boundary.
        let shown = self.0.get(..LOGGED_ID_CHARS).unwrap_or(self.0);
        write!(f, "{shown}…")
    }
}

impl IdentificationId {
    /// The id as logs may show it: the whole id is the MyPage secret, and logs
    /// must never hold it. Every tracing call that names an identification
    /// uses this.
    pub fn for_log(&self) -> LoggedId<'_> {
        LoggedId(&self.0)
    }
}

/// A URL path with every segment that is an identification id shortened as
/// `for_log` does, for request logs.
pub fn redact_ids(path: &str) -> String {
    path.split('/')
        .map(|segment| match IdentificationId::parse(segment) {
            Ok(id) => id.for_log().to_string(),
            Err(_) => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identification_ids_have_a_time_prefix_and_22_random_base62_chars() {
        let id = IdentificationId::generate();
        let rest = id.as_str().strip_prefix("id_").expect("prefix");
        assert_eq!(rest.len(), 30);
        assert!(is_base62(rest));
        assert_eq!(IdentificationId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn identification_ids_sort_by_creation_time() {
        let first = IdentificationId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = IdentificationId::generate();
        assert!(first.as_str() < second.as_str());
    }

    #[test]
    fn fixed_width_base62_sorts_like_numbers() {
        assert_eq!(base62_fixed(0, 3), "000");
        assert_eq!(base62_fixed(61, 3), "00z");
        assert_eq!(base62_fixed(62, 3), "010");
        let mut v: Vec<String> = [5u64, 3_844, 61, 62, 1_000_000]
            .iter()
            .map(|n| base62_fixed(*n, 8))
            .collect();
        let sorted = {
            let mut s = v.clone();
            s.sort();
            s
        };
        v.sort_by_key(|s| {
            s.bytes().fold(0u64, |acc, b| {
                acc * 62 + BASE62.iter().position(|c| *c == b).unwrap() as u64
            })
        });
        assert_eq!(v, sorted);
    }

    #[test]
    fn generated_ids_differ() {
        assert_ne!(IdentificationId::generate(), IdentificationId::generate());
        assert_ne!(OrganisationId::generate(), OrganisationId::generate());
    }

    #[test]
    fn short_identification_ids_are_rejected_because_they_are_guessable() {
        assert!(IdentificationId::parse("id_12345").is_err());
    }

    #[test]
    fn other_ids_accept_short_suffixes() {
        assert!(ProofmeId::parse("pr_12345").is_ok());
        assert!(OrganisationId::parse("org_12345").is_ok());
    }

    #[test]
    fn ids_with_wrong_prefix_or_characters_are_rejected() {
        assert!(ProofmeId::parse("org_12345").is_err());
        assert!(ProofmeId::parse("pr_").is_err());
        assert!(ProofmeId::parse("pr_12-45").is_err());
        assert!(ProofmeId::parse("pr_ü").is_err());
        assert!(ProofmeId::parse(&format!("pr_{}", "a".repeat(65))).is_err());
    }

    #[test]
    fn logged_ids_keep_the_time_and_four_random_characters() {
        let id = IdentificationId::generate();
        let logged = id.for_log().to_string();
        assert_eq!(logged, format!("{}…", &id.as_str()[..15]));
        assert!(!logged.contains(id.as_str()));
    }

    #[test]
    fn paths_lose_their_identification_ids() {
        let id = IdentificationId::generate();
        let path = format!("/v1/identification/{id}/history");
        let redacted = redact_ids(&path);
        assert_eq!(
            redacted,
            format!("/v1/identification/{}/history", id.for_log())
        );
        assert!(!redacted.contains(id.as_str()));
        assert_eq!(redact_ids("/v1/identification"), "/v1/identification");
    }

    #[test]
    fn random_base62_covers_the_alphabet() {
        let s = random_base62(10_000);
        for c in BASE62 {
            assert!(s.as_bytes().contains(c), "missing {}", *c as char);
        }
    }
}
