//! Absolute `http`/`https` URLs given by integrators (redirect and webhook targets).

use std::fmt;
use url::{Host, Url};

/// A host name as DNS has them (after IDNA, which the URL parser applies):
/// dot-separated labels of letters, digits and hyphens, no label empty,
/// longer than 63 or starting or ending with a hyphen, 253 characters at most.
/// One trailing dot (a fully qualified name) is allowed.
fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(Url);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUrl {
    #[error("must be an absolute http or https URL")]
    NotAbsoluteHttp,
    #[error("must be at most {} characters", HttpUrl::MAX_LEN)]
    TooLong,
    #[error("must not carry a user name or password")]
    UserInfo,
    #[error("must have a DNS name or an IP address as its host")]
    BadHost,
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
        // Userinfo would be sent to the organisation's server by every browser
        // we redirect; an `@` before the path is refused even when empty.
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if rest[..authority_end].contains('@') {
            return Err(InvalidUrl::UserInfo);
        }
        let url = Url::parse(s).map_err(|_| InvalidUrl::NotAbsoluteHttp)?;
        let host_ok = url.host_str().is_some_and(|h| !h.is_empty());
        if !matches!(url.scheme(), "http" | "https") || !host_ok {
            return Err(InvalidUrl::NotAbsoluteHttp);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InvalidUrl::UserInfo);
        }
        // The WHATWG parser lets through hosts such as `a;script-src` or
        // `a,b`, which end up in headers (MyPage's CSP `form-action`).
        if let Some(Host::Domain(name)) = url.host() {
            if !is_dns_name(name) {
                return Err(InvalidUrl::BadHost);
            }
        }
        if url.as_str().len() > Self::MAX_LEN {
            return Err(InvalidUrl::TooLong);
        }
        Ok(Self(url))
    }

    /// A URL read back from our own database. Rows written before a rule was
    /// added stay readable: only the shape is checked.
    pub fn from_stored(s: &str) -> Result<Self, InvalidUrl> {
        let url = Url::parse(s).map_err(|_| InvalidUrl::NotAbsoluteHttp)?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(InvalidUrl::NotAbsoluteHttp);
        }
        Ok(Self(url))
    }

    /// Whether the host is a DNS name or an IP literal (see `is_dns_name`),
    /// as every URL accepted by `parse` has.
    pub fn has_plain_host(&self) -> bool {
        match self.0.host() {
            Some(Host::Domain(name)) => is_dns_name(name),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => true,
            None => false,
        }
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
    fn rejects_userinfo() {
        for bad in [
            "https://user:pw@example.com/",
            "https://user@example.com/",
            "https://@example.com/",
            "https://:pw@example.com/",
            "http://example.com@evil.example/",
        ] {
            assert_eq!(HttpUrl::parse(bad), Err(InvalidUrl::UserInfo), "{bad:?}");
        }
        assert!(HttpUrl::parse("https://example.com/a@b?c=d@e#f@g").is_ok());
    }

    #[test]
    fn hosts_are_dns_names_or_ip_literals() {
        for ok in [
            "https://shop.example.com/",
            "https://xn--caf-dma.example/",
            "https://a-b.example.com./x",
            "http://127.0.0.1:8080/",
            "http://[2001:db8::1]/",
            "https://localhost/",
        ] {
            let url = HttpUrl::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(url.has_plain_host());
        }
        // The URL parser turns Unicode into its ASCII (punycode) form first.
        assert!(HttpUrl::parse("https://café.example/").is_ok());
        for bad in [
            "https://a;script-src/",
            "https://a,b.example/",
            "https://a'b.example/",
            "https://a*.example/",
            "https://under_score.example/",
            "https://-lead.example/",
            "https://a..b.example/",
            "https://a$b.example/",
            "https://a!b.example/",
            "https://a=b.example/",
            "https://a{b}.example/",
        ] {
            assert_eq!(HttpUrl::parse(bad), Err(InvalidUrl::BadHost), "{bad:?}");
        }
        let long_label = format!("https://{}.example/", "a".repeat(64));
        assert_eq!(HttpUrl::parse(&long_label), Err(InvalidUrl::BadHost));
    }

    #[test]
    fn stored_urls_read_back_even_from_before_the_host_rules() {
        let old = HttpUrl::from_stored("https://a;script-src/").unwrap();
        assert!(!old.has_plain_host());
        assert!(HttpUrl::from_stored("not a url").is_err());
    }

    #[test]
    fn rejects_overlong_urls() {
        let long = format!("https://example.com/{}", "a".repeat(2100));
        assert_eq!(HttpUrl::parse(&long), Err(InvalidUrl::TooLong));
    }
}
