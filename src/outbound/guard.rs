//! The address guard: webhooks and status list fetches go only to public
//! addresses, so an integrator or a credential cannot make us call into our
//! own network (SSRF). A webhook URL is checked when it is given, and the
//! addresses actually connected to are checked again on every request.
//!
//! One function decides whether an address is public (`is_public`), and one
//! checks a URL's host before any name is resolved (`check_host`); creation
//! and delivery (every redirect hop, every resolved address) both use them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;
use url::{Host, Url};

use crate::domain::HttpUrl;

/// Why a URL is refused. The messages reach the integrator, so a name's
/// addresses are never in them: they would map our internal DNS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// An address written in the URL itself.
    #[error("{0} is not a public address")]
    Address(IpAddr),
    /// A name with an address that is not public.
    #[error("{0} resolves to an address that is not public")]
    ResolvesToNonPublic(String),
    #[error("{0} names this machine")]
    LocalName(String),
}

/// True for addresses on the public internet; false for loopback, private,
/// link-local, CGNAT, unspecified, multicast, broadcast, documentation,
/// benchmarking and reserved ranges, and IPv6 forms that embed such an IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", includes unspecified
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // Only 2000::/3 is global unicast; everything else (::, ::1, fc00::/7,
    // fe80::/10, ff00::/8, 100::/64 …) is not public.
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    // 2001:db8::/32 documentation; 2001::/23 IETF special purpose, incl. Teredo;
    // 3fff::/20 documentation.
    let refused = (s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] < 0x0200)) || s[0] == 0x3fff;
    !refused
}

/// The IPv4 address inside IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
/// (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || (s[5] == 0 && (s[6] != 0 || s[7] > 1))) {
        return Some(tail(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(tail(s[1], s[2]));
    }
    None
}

/// How long a create request waits for a webhook host's name to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);

/// The checks a URL's host allows before any resolving: a literal address
/// must be public, and a name must not mean this machine (`localhost` and
/// names under it). Returns the name still to be resolved, if the host is one.
pub fn check_host(url: &Url) -> Result<Option<&str>, Refused> {
    match url.host() {
        Some(Host::Ipv4(v4)) => check_ip(IpAddr::V4(v4)).map(|()| None),
        Some(Host::Ipv6(v6)) => check_ip(IpAddr::V6(v6)).map(|()| None),
        Some(Host::Domain(name)) => {
            let lower = name.trim_end_matches('.').to_ascii_lowercase();
            if lower == "localhost" || lower.ends_with(".localhost") {
                return Err(Refused::LocalName(name.to_owned()));
            }
            Ok(Some(name))
        }
        None => Ok(None),
    }
}

/// The create-time check: `check_host`, then every address a name resolves
/// to must be public. A name that does not resolve now is accepted: delivery
/// resolves and checks again.
pub async fn check_url(url: &HttpUrl) -> Result<(), Refused> {
    let Some(name) = check_host(url.url())? else {
        return Ok(());
    };
    let port = url.url().port_or_known_default().unwrap_or(443);
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    let lookup = tokio::net::lookup_host((lower.as_str(), port));
    match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
        Ok(Ok(mut addrs)) => {
            if addrs.all(|a| is_public(a.ip())) {
                Ok(())
            } else {
                Err(Refused::ResolvesToNonPublic(name.to_owned()))
            }
        }
        Ok(Err(_)) | Err(_) => Ok(()),
    }
}

fn check_ip(ip: IpAddr) -> Result<(), Refused> {
    if is_public(ip) {
        Ok(())
    } else {
        Err(Refused::Address(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_non_public_addresses() {
        for s in [
            "0.0.0.0",
            "127.0.0.1",
            "127.255.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001::1",
            "100::1",
            "3fff::1",
        ] {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(is_public(ip(s)), "{s} must be allowed");
        }
    }

    #[tokio::test]
    async fn literal_and_local_hosts_are_checked_without_dns() {
        let url = |s: &str| HttpUrl::parse(s).unwrap();
        assert!(check_url(&url("http://127.0.0.1/hook")).await.is_err());
        assert!(
            check_url(&url("http://[::ffff:127.0.0.1]/hook"))
                .await
                .is_err()
        );
        assert!(check_url(&url("http://localhost:8080/hook")).await.is_err());
        assert!(check_url(&url("http://api.localhost/hook")).await.is_err());
        assert!(check_url(&url("https://8.8.8.8/hook")).await.is_ok());
    }
}
