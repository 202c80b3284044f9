//! Revocation: a presented credential's status in its issuer's Token Status
//! List (draft-ietf-oauth-status-list), fetched, checked and kept a while.
//!
//! - Fetching goes through the guarded client, as webhooks do: a credential
//!   names the URL, so it must not reach into our own network. Only `https`
//!   unless the guard is off for development.
//! - A fetched list is kept until its `ttl`, its `exp` or
//!   `PROOFME_STATUS_LIST_MAX_AGE_SECS`, whichever comes first, in a cache
//!   bounded by bytes. Verifications that miss at once share one fetch.
//! - Lists are kept per URI and mode: a test identification trusts the test
//!   issuers and a live one does not, so a list verified for one is not
//!   taken for the other.
//! - A token without an `x5c` chain must verify with the key of the
//!   credential's issuer; a list kept from one issuer's credential is checked
//!   again with the next one's key, without fetching it again.
//!
//! Lists of our own test issuer are read in process, never fetched: see
//! [`status_in_own_list`].
//!
//! Logs name the list's host, never its index: together they would follow
//! one credential across presentations.

use moka::Expiry;
use moka::future::Cache;
use p256::ecdsa::VerifyingKey;
use reqwest::Client;
use reqwest::header::{ACCEPT, CONTENT_LENGTH};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use url::Url;

use crate::config::{Config, StatusListPolicy};
use crate::domain::Mode;
use crate::oid4vp::jose;
use crate::oid4vp::status_list::{
    StatusList, StatusListError, StatusReference, TokenKey, VerifiedList, verify_token,
};
use crate::oid4vp::x509::TrustAnchors;
use crate::outbound::client::{Redirects, blocked_in, check_target, guarded_builder};

/// The media type of a Status List Token in JWT form (§5.1).
pub const MEDIA_TYPE: &str = "application/statuslist+jwt";
/// A whole fetch, from connecting to the last byte of the token.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest token read (the largest JWS we parse): a list of a million
/// 1-bit entries compresses to well under this, even when they are random.
pub const MAX_TOKEN_BYTES: usize = jose::MAX_COMPACT_LEN;
/// The largest expanded list: 128 million 1-bit entries.
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;
/// What the kept lists may weigh together, in bytes.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
const USER_AGENT: &str = "Proofme-Verifier/1";

/// What a credential's entry in its status list says (§7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    /// 0: valid.
    Valid,
    /// 1 (invalid, revoked for good) or 2 (suspended), or any other value:
    /// the issuer does not vouch for the credential now.
    NotValid(u8),
    /// The index is past the end of the list: nothing can be concluded, so
    /// the credential is not taken as valid.
    OutOfRange,
}

/// Why a credential's list could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Unavailable {
    #[error("status list fetch failed: {0}")]
    Fetch(String),
    #[error(transparent)]
    Token(#[from] StatusListError),
}

/// Fetches, checks and keeps Status List Tokens. Cheap to share.
pub struct StatusLists {
    client: Client,
    allow_private: bool,
    policy: StatusListPolicy,
    max_age: Duration,
    cache: Cache<ListKey, Arc<KeptList>>,
    fetches: AtomicU64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ListKey {
    uri: String,
    mode: Mode,
}

/// A verified list, with what it was verified by and how long to keep it.
struct KeptList {
    token: String,
    list: VerifiedList,
    verified_by: VerifiedBy,
    keep_for: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum VerifiedBy {
    /// Its `x5c` chain, to the anchors of the key's mode.
    Chain,
    /// This issuer key (SEC1, compressed).
    IssuerKey(Box<[u8]>),
}

/// Each kept list expires when it stops being fresh.
struct KeepFor;

impl Expiry<ListKey, Arc<KeptList>> for KeepFor {
    fn expire_after_create(
        &self,
        _key: &ListKey,
        value: &Arc<KeptList>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.keep_for)
    }
}

impl StatusLists {
    pub fn new(config: &Config) -> Result<StatusLists, reqwest::Error> {
        let allow_private = config.allow_private_webhooks;
        let client = guarded_builder(
            allow_private,
            Redirects::Any,
            FETCH_TIMEOUT,
            CONNECT_TIMEOUT,
        )
        .user_agent(USER_AGENT)
        .build()?;
        let cache = Cache::builder()
            .max_capacity(CACHE_BYTES)
            .weigher(|key: &ListKey, kept: &Arc<KeptList>| {
                let bytes = key.uri.len() + kept.token.len() + kept.list.list.as_bytes().len();
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .expire_after(KeepFor)
            .build();
        Ok(StatusLists {
            client,
            allow_private,
            policy: config.status_list_policy,
            max_age: config.status_list_max_age,
            cache,
            fetches: AtomicU64::new(0),
        })
    }

    pub fn policy(&self) -> StatusListPolicy {
        self.policy
    }

    /// Requests sent for status lists since start.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The status of the credential `reference` points to, for an
    /// identification in `mode` (whose issuers are `trust`) presenting a
    /// credential signed by `issuer_key`. `now` is Unix seconds.
    pub async fn check(
        &self,
        reference: &StatusReference,
        mode: Mode,
        trust: &TrustAnchors,
        issuer_key: &VerifyingKey,
        now: i64,
    ) -> Result<EntryStatus, Unavailable> {
        let key = ListKey {
            uri: reference.uri.clone(),
            mode,
        };
        let kept = self
            .cache
            .try_get_with(
                key,
                self.fetch_and_verify(&reference.uri, trust, issuer_key, now),
            )
            .await
            .map_err(|e| (*e).clone())?;
        let list = match &kept.verified_by {
            VerifiedBy::IssuerKey(by) if **by != *sec1(issuer_key) => {
                // Kept from another issuer's credential: it must verify with this one's key too.
                verify_token(
                    &kept.token,
                    &reference.uri,
                    TokenKey::Key(issuer_key),
                    now,
                    MAX_LIST_BYTES,
                )?
                .list
            }
            _ => kept.list.list.clone(),
        };
        Ok(entry_status(&list, reference.idx))
    }

    async fn fetch_and_verify(
        &self,
        uri: &str,
        trust: &TrustAnchors,
        issuer_key: &VerifyingKey,
        now: i64,
    ) -> Result<Arc<KeptList>, Unavailable> {
        let token = self.fetch(uri).await?;
        let (key, verified_by) = if has_chain(&token) {
            (TokenKey::Anchors(trust), VerifiedBy::Chain)
        } else {
            (
                TokenKey::Key(issuer_key),
                VerifiedBy::IssuerKey(sec1(issuer_key)),
            )
        };
        let list = verify_token(&token, uri, key, now, MAX_LIST_BYTES)?;
        let keep_for = keep_for(&list, now, self.max_age);
        Ok(Arc::new(KeptList {
            token,
            list,
            verified_by,
            keep_for,
        }))
    }

    /// GETs the token at `uri`, reading at most [`MAX_TOKEN_BYTES`].
    async fn fetch(&self, uri: &str) -> Result<String, Unavailable> {
        let fail = |why: &str| Unavailable::Fetch(why.to_owned());
        let url = Url::parse(uri).map_err(|_| fail("the uri is not a URL"))?;
        if url.scheme() != "https" && !self.allow_private {
            return Err(fail("the uri is not https"));
        }
        check_target(&url, self.allow_private).map_err(|b| Unavailable::Fetch(b.to_string()))?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let host = url.host_str().unwrap_or_default().to_owned();
        let mut response = self
            .client
            .get(url)
            .header(ACCEPT, MEDIA_TYPE)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(host, error = %e, "status list fetch failed");
                match blocked_in(&e) {
                    Some(blocked) => Unavailable::Fetch(blocked.to_string()),
                    None if e.is_timeout() => fail("timed out"),
                    None => fail("could not connect"),
                }
            })?;
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(
                host,
                status = status.as_u16(),
                "status list answered an error"
            );
            return Err(Unavailable::Fetch(format!("answered {}", status.as_u16())));
        }
        let announced = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > MAX_TOKEN_BYTES as u64) {
            return Err(StatusListError::TooLarge.into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| fail("the answer broke off"))?
        {
            if body.len() + chunk.len() > MAX_TOKEN_BYTES {
                return Err(StatusListError::TooLarge.into());
            }
            body.extend_from_slice(&chunk);
        }
        let token = String::from_utf8(body)
            .map_err(|_| StatusListError::Malformed("the token is not text".into()))?;
        Ok(token.trim().to_owned())
    }
}

/// The entry `reference` points to in `token`, a list of our own test
/// issuer's read in process (always current, so never kept): it must pass
/// the same checks as a fetched one, under the anchors of `trust`.
pub fn status_in_own_list(
    token: &str,
    reference: &StatusReference,
    trust: &TrustAnchors,
    now: i64,
) -> Result<EntryStatus, Unavailable> {
    let verified = verify_token(
        token,
        &reference.uri,
        TokenKey::Anchors(trust),
        now,
        MAX_LIST_BYTES,
    )?;
    Ok(entry_status(&verified.list, reference.idx))
}

fn entry_status(list: &StatusList, idx: u64) -> EntryStatus {
    match list.status(idx) {
        Some(0) => EntryStatus::Valid,
        Some(other) => EntryStatus::NotValid(other),
        None => EntryStatus::OutOfRange,
    }
}

/// How long a verified list is used: until its `ttl`, its `exp` or
/// `max_age`, whichever comes first (zero: not kept at all).
fn keep_for(list: &VerifiedList, now: i64, max_age: Duration) -> Duration {
    let mut secs = max_age.as_secs();
    if let Some(ttl) = list.ttl {
        secs = secs.min(ttl);
    }
    if let Some(exp) = list.exp {
        secs = secs.min(u64::try_from(exp.saturating_sub(now)).unwrap_or(0));
    }
    Duration::from_secs(secs)
}

/// Whether the token's header carries an `x5c` (its signature is then
/// checked against the chain, never against a key it does not name).
/// Only the header is read here; `verify_token` then checks all of it.
fn has_chain(token: &str) -> bool {
    token
        .split('.')
        .next()
        .and_then(|header| jose::b64url_decode(header).ok())
        .and_then(|header| jose::parse_json_object(&header).ok())
        .is_some_and(|header| header.contains_key("x5c"))
}

fn sec1(key: &VerifyingKey) -> Box<[u8]> {
    key.to_encoded_point(true).as_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(ttl: Option<u64>, exp: Option<i64>) -> VerifiedList {
        VerifiedList {
            list: StatusList::new(1, vec![0]).unwrap(),
            iat: 1_000,
            exp,
            ttl,
        }
    }

    fn lists(allow_private: bool) -> StatusLists {
        let mut config = Config::with_database("sqlite::memory:");
        config.allow_private_webhooks = allow_private;
        StatusLists::new(&config).unwrap()
    }

    fn refusal(result: Result<String, Unavailable>) -> String {
        match result {
            Err(Unavailable::Fetch(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_guard_refuses_private_addresses_and_plain_http_before_sending() {
        let lists = lists(false);
        assert_eq!(
            refusal(lists.fetch("https://127.0.0.1:9/lists/1").await),
            "address 127.0.0.1 is not public"
        );
        assert_eq!(
            refusal(lists.fetch("https://[::ffff:10.0.0.1]/l").await),
            "address ::ffff:10.0.0.1 is not public"
        );
        assert_eq!(
            refusal(lists.fetch("https://localhost/l").await),
            "host localhost names this machine"
        );
        assert_eq!(
            refusal(lists.fetch("http://8.8.8.8/l").await),
            "the uri is not https"
        );
        assert_eq!(lists.fetches(), 0);
    }

    #[tokio::test]
    async fn with_the_development_switch_loopback_and_http_are_fetched() {
        let lists = lists(true);
        // Nobody listens on port 9 here: the request is sent, and fails.
        assert_eq!(
            refusal(lists.fetch("http://127.0.0.1:9/lists/1").await),
            "could not connect"
        );
        assert_eq!(lists.fetches(), 1);
    }

    #[test]
    fn a_list_is_kept_until_the_first_of_ttl_exp_and_the_maximum() {
        let max = Duration::from_secs(300);
        assert_eq!(keep_for(&verified(None, None), 1_000, max).as_secs(), 300);
        assert_eq!(
            keep_for(&verified(Some(60), None), 1_000, max).as_secs(),
            60
        );
        assert_eq!(
            keep_for(&verified(Some(600), Some(1_100)), 1_000, max).as_secs(),
            100
        );
        assert_eq!(
            keep_for(&verified(Some(600), None), 1_000, Duration::ZERO).as_secs(),
            0
        );
        // Already past `exp` (within the leeway the token was accepted in):
        // used for this check, kept for none.
        assert_eq!(
            keep_for(&verified(None, Some(990)), 1_000, max).as_secs(),
            0
        );
    }
}
