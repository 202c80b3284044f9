//! Absolute `http`/`https` URLs given by integrators (redirect and webhook targets).

use std::fmt;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(Url);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUrl {
    #[error("must be an absolute http or https URL")]
    NotAbsoluteHttp,
    #[error("must be at most {} characters", HttpUrl::MAX_LEN)]
    TooLong,
}

impl HttpUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(s: &str) -> Result<Self, InvalidUrl> {
        if s.len() > Self::MAX_LEN {
            return Err(InvalidUrl::TooLong);
        }
        // The URL parser forgives surrounding white space and control characters;
        // an integrator who sends them has a bug we should point out instead.
        if s.trim() != s || s.chars().any(char::is_control) {
            return Err(InvalidUrl::NotAbsoluteHttp);
        }
        // The WHATWG parser repairs `https:///host` and `https:\\host`; insist on
        // the plain `scheme://authority` form so what we store is what was meant.
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        let rest = if lower.starts_with("https://") {
            &s[8..]
        } else if lower.starts_with("http://") {
            &s[7..]
        } else {
            return Err(InvalidUrl::NotAbsoluteHttp);
        };
        if rest.starts_with(['/', '\\']) {
            return Err(InvalidUrl::NotAbsoluteHttp);
        }
        let url = Url::parse(s).map_err(|_| InvalidUrl::NotAbsoluteHttp)?;
        let host_ok = url.host_str().is_some_and(|h| !h.is_empty());
        if !matches!(url.scheme(), "http" | "https") || !host_ok {
            return Err(InvalidUrl::NotAbsoluteHttp);
        }
        if url.as_str().len() > Self::MAX_LEN {
            return Err(InvalidUrl::TooLong);
        }
        Ok(Self(url))
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl serde::Serialize for HttpUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_urls_unchanged() {
        for ok in [
            "https://your-application.example.org/identification/12345/",
            "http://shop.example.com/return?order=1&x=%20",
            "https://example.com:8443/a#frag",
        ] {
            assert_eq!(HttpUrl::parse(ok).map(|u| u.to_string()), Ok(ok.to_owned()));
        }
    }

    #[test]
    fn rejects_relative_and_other_schemes() {
        for bad in [
            "",
            "/relative",
            "example.com/path",
            "ftp://example.com/",
            "javascript:alert(1)",
            "mailto:a@example.com",
            "http://",
            "https:///nohost",
            " https://example.com/",
            "https://example.com/\n",
            "https:\\\\example.com/",
            "http:example.com",
        ] {
            assert_eq!(
                HttpUrl::parse(bad),
                Err(InvalidUrl::NotAbsoluteHttp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rejects_overlong_urls() {
        let long = format!("https://example.com/{}", "a".repeat(2100));
        assert_eq!(HttpUrl::parse(&long), Err(InvalidUrl::TooLong));
    }
}
