//! A reqwest client that connects only where the address guard allows.
//!
//! A URL checked when it was given may resolve elsewhere later (DNS rebinding),
//! so the client resolves names itself, drops every non-public address, and
//! connects only to what is left. Literal addresses never reach a resolver, so
//! callers check them with [`check_target`] before the first request, and the
//! redirect policy checks every hop.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::{Attempt, Policy};
use reqwest::{ClientBuilder, StatusCode};
use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

use super::guard::{self, Refused, is_public};

/// Redirect hops followed per request (DESIGN §5).
pub const MAX_REDIRECTS: usize = 3;

/// A client builder with the guard in place: its own resolver, the redirect
/// policy, no proxy (a proxy would connect on our behalf to addresses we never
/// checked) and no `Referer` (a URL may carry a path its owner keeps private).
/// With `allow_private` the guard is off (local development and tests only).
pub fn guarded_builder(
    allow_private: bool,
    redirects: Redirects,
    timeout: Duration,
    connect_timeout: Duration,
) -> ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect_timeout.min(timeout))
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .redirect(Policy::custom(move |attempt| {
            redirect_policy(attempt, allow_private, redirects)
        }))
        .referer(false)
}

/// The guard's refusal inside a failed request, if that is why it failed.
pub fn blocked_in(err: &reqwest::Error) -> Option<&Blocked> {
    causes(err).find_map(|e| e.downcast_ref::<Blocked>())
}

/// Why a request was refused before it reached its target. Travels inside reqwest's error chain
/// from the resolver and the redirect policy, and is found again by type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Blocked {
    #[error("address {0} is not public")]
    Address(IpAddr),
    #[error("host {0} names this machine")]
    LocalName(String),
    /// The addresses stay out of the message: it is shown to the integrator
    /// (attempts), who could otherwise map our internal names.
    #[error("{0} has no public address")]
    NoPublicAddress(String),
    #[error("could not resolve {0}")]
    Unresolvable(String),
    #[error("redirect to a non-http URL")]
    Scheme,
    #[error("URL has no host")]
    NoHost,
    #[error("too many redirects")]
    TooManyRedirects,
}

/// Resolves with the system resolver and keeps only public addresses, so the
/// connection goes to exactly the addresses that passed the guard.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardedResolver {
    pub(crate) allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_guarded(&host, allow_private).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

async fn resolve_guarded(host: &str, allow_private: bool) -> Result<Vec<SocketAddr>, Blocked> {
    // Port 0: reqwest puts the URL's port (or the scheme's default) in place.
    let all: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|_| Blocked::Unresolvable(host.to_owned()))?
        .collect();
    if all.is_empty() {
        return Err(Blocked::Unresolvable(host.to_owned()));
    }
    if allow_private {
        return Ok(all);
    }
    let public: Vec<SocketAddr> = all.into_iter().filter(|a| is_public(a.ip())).collect();
    if public.is_empty() {
        return Err(Blocked::NoPublicAddress(host.to_owned()));
    }
    Ok(public)
}

/// Which redirects a client follows, each hop checked by the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// Only 307 and 308, which keep the method and body (a signed POST needs
    /// both); any other redirect is returned as the answer.
    KeepingTheBody,
    /// Every redirect status: for GETs, where nothing is lost on the way.
    Any,
}

pub(crate) fn redirect_policy(
    attempt: Attempt<'_>,
    allow_private: bool,
    redirects: Redirects,
) -> reqwest::redirect::Action {
    let keeps_body = matches!(
        attempt.status(),
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
    );
    if redirects == Redirects::KeepingTheBody && !keeps_body {
        return attempt.stop();
    }
    // `previous` holds the first URL and every hop followed so far.
    if attempt.previous().len() > MAX_REDIRECTS {
        return attempt.error(Blocked::TooManyRedirects);
    }
    match check_target(attempt.url(), allow_private) {
        Ok(()) => attempt.follow(),
        Err(blocked) => attempt.error(blocked),
    }
}

impl From<Refused> for Blocked {
    fn from(refused: Refused) -> Blocked {
        match refused {
            Refused::Address(ip) => Blocked::Address(ip),
            Refused::LocalName(name) => Blocked::LocalName(name),
            Refused::ResolvesToNonPublic(name) => Blocked::NoPublicAddress(name),
        }
    }
}

/// The checks the resolver cannot make: the scheme, and the guard's host
/// check (literal addresses are never resolved; names that mean this machine).
pub fn check_target(url: &Url, allow_private: bool) -> Result<(), Blocked> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Blocked::Scheme);
    }
    url.host().ok_or(Blocked::NoHost)?;
    if allow_private {
        return Ok(());
    }
    guard::check_host(url)?;
    Ok(())
}

/// `err` and its sources, outermost first.
pub fn causes<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |e| (*e).source())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_hop_to_a_private_address_or_other_scheme_is_refused() {
        let check = |s: &str| check_target(&Url::parse(s).unwrap(), false);
        assert_eq!(
            check("http://169.254.169.254/latest/meta-data/"),
            Err(Blocked::Address("169.254.169.254".parse().unwrap()))
        );
        assert_eq!(
            check("http://[fd00::1]/"),
            Err(Blocked::Address("fd00::1".parse().unwrap()))
        );
        assert_eq!(check("ftp://8.8.8.8/"), Err(Blocked::Scheme));
        assert_eq!(check("https://8.8.8.8/hook"), Ok(()));
        assert_eq!(
            check("http://LocalHost:8080/"),
            Err(Blocked::LocalName("localhost".into()))
        );
        assert_eq!(check("https://example.com/hook"), Ok(()));
        // With the guard off, only the scheme matters.
        assert_eq!(
            check_target(&Url::parse("http://127.0.0.1/").unwrap(), true),
            Ok(())
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_with_only_private_addresses() {
        let resolver = GuardedResolver {
            allow_private: false,
        };
        let err = match resolver.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let blocked = err.downcast_ref::<Blocked>().expect("a Blocked error");
        assert!(
            matches!(blocked, Blocked::NoPublicAddress(host) if host == "localhost"),
            "{blocked:?}"
        );
        assert_eq!(blocked.to_string(), "localhost has no public address");
    }

    #[tokio::test]
    async fn the_resolver_keeps_private_addresses_when_allowed() {
        let resolver = GuardedResolver {
            allow_private: true,
        };
        let addrs: Vec<SocketAddr> = match resolver.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => addrs.collect(),
            Err(e) => panic!("{e}"),
        };
        assert!(addrs.iter().any(|a| a.ip().is_loopback()), "{addrs:?}");
    }
}
