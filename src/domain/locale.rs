//! Locales as integrators send them (`xx_XX`), and the languages MyPage speaks.

use std::fmt;

/// An `xx_XX` locale: two lowercase letters, `_`, two uppercase letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Locale(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a locale of the form xx_XX, such as en_US or nl_NL")]
pub struct InvalidLocale;

impl Locale {
    pub fn parse(s: &str) -> Result<Self, InvalidLocale> {
        let b = s.as_bytes();
        let ok = b.len() == 5
            && b[0].is_ascii_lowercase()
            && b[1].is_ascii_lowercase()
            && b[2] == b'_'
            && b[3].is_ascii_uppercase()
            && b[4].is_ascii_uppercase();
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidLocale)
        }
    }

    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-letter language part.
    pub fn language(&self) -> &str {
        &self.0[..2]
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_any_xx_xx_locale() {
        for ok in ["en_US", "en_GB", "nl_NL", "nl_BE", "de_DE", "fr_CA"] {
            assert_eq!(Locale::parse(ok).map(|l| l.to_string()), Ok(ok.to_owned()));
        }
        assert_eq!(
            Locale::parse("nl_BE").map(|l| l.language().to_owned()),
            Ok("nl".into())
        );
    }

    #[test]
    fn rejects_malformed_locales() {
        for bad in [
            "", "en", "en-US", "EN_us", "en_us", "eng_US", "en_USA", "e1_US", "én_US", " en_US",
        ] {
            assert_eq!(Locale::parse(bad), Err(InvalidLocale), "{bad:?}");
        }
    }
}
