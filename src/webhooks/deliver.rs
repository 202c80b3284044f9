//! One delivery attempt over HTTP, through the guarded client
//! ([`crate::outbound::client`]): the address guard holds on the addresses
//! actually connected to and on every redirect hop.

use reqwest::Client;
use std::io;
use std::time::{Duration, Instant};
use url::Url;

use crate::config::WEBHOOK_ATTEMPT_TIMEOUT;
use crate::domain::HttpUrl;
use crate::outbound::client::{Redirects, blocked_in, causes, check_target, guarded_builder};

/// Connecting (resolving, TCP and TLS) gets a smaller share, so an address
/// that swallows packets fails fast and with a clearer message.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Error texts are stored with the attempt and shown to integrators; a long
/// TLS or I/O message is cut to keep them short.
const MAX_ERROR_LEN: usize = 200;

const USER_AGENT: &str = "Proofme-Webhooks/1";

/// Sends webhook requests. Cheap to share: it holds one pooled HTTP client.
#[derive(Debug, Clone)]
pub struct Deliverer {
    client: Client,
    allow_private: bool,
    timeout: Duration,
}

/// The HTTP client could not be set up (for example, no TLS roots).
#[derive(Debug, thiserror::Error)]
#[error("could not build the webhook HTTP client")]
pub struct BuildError(#[from] reqwest::Error);

/// The Standard Webhooks headers of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `webhook-id`: the same for every retry of one delivery.
    pub id: String,
    /// `webhook-timestamp`: Unix seconds when this attempt was signed.
    pub timestamp: i64,
    /// `webhook-signature`: `v1,<base64>`, see [`super::signing::sign`].
    pub signature: String,
}

/// What happened on one attempt, as recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// The final HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// A short human description of why the attempt failed without a usable
    /// status (or of a redirect not followed); `None` when a status says it all.
    pub error: Option<String>,
    /// Wall-clock time of the attempt.
    pub duration_ms: i64,
}

/// How the delivery should proceed after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Any 2xx: done.
    Delivered,
    /// 410 Gone: the receiver asks us to stop; no more retries.
    Gone,
    /// Anything else: retry on the schedule.
    Failed,
}

impl AttemptResult {
    /// Classifies the attempt by its status.
    pub fn outcome(&self) -> Outcome {
        match self.status {
            Some(s) if (200..300).contains(&s) => Outcome::Delivered,
            Some(410) => Outcome::Gone,
            _ => Outcome::Failed,
        }
    }
}

impl Deliverer {
    /// A deliverer with the standard 15 s timeout. With `allow_private`, the
    /// address guard is off (local development and tests only).
    pub fn new(allow_private: bool) -> Result<Deliverer, BuildError> {
        Self::with_timeout(allow_private, WEBHOOK_ATTEMPT_TIMEOUT)
    }

    /// A deliverer whose attempts give up after `timeout` (tests use a short one).
    pub fn with_timeout(allow_private: bool, timeout: Duration) -> Result<Deliverer, BuildError> {
        let client = guarded_builder(
            allow_private,
            Redirects::KeepingTheBody,
            timeout,
            CONNECT_TIMEOUT,
        )
        .user_agent(USER_AGENT)
        .build()?;
        Ok(Deliverer {
            client,
            allow_private,
            timeout,
        })
    }

    /// POSTs `body` as JSON with the Standard Webhooks headers. Never fails:
    /// every problem is recorded in the result.
    pub async fn send(
        &self,
        url: &HttpUrl,
        headers: WebhookHeaders,
        body: Vec<u8>,
    ) -> AttemptResult {
        let started = Instant::now();
        let (status, error) = self.attempt(url.url(), headers, body).await;
        AttemptResult {
            status,
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        }
    }

    async fn attempt(
        &self,
        url: &Url,
        headers: WebhookHeaders,
        body: Vec<u8>,
    ) -> (Option<u16>, Option<String>) {
        if let Err(blocked) = check_target(url, self.allow_private) {
            return (None, Some(blocked.to_string()));
        }
        let sent = self
            .client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", headers.id)
            .header("webhook-timestamp", headers.timestamp.to_string())
            .header("webhook-signature", headers.signature)
            .body(body)
            .send()
            .await;
        // The response body is never read: the status is the whole answer, and
        // dropping the response closes the connection instead of buffering
        // whatever the receiver chooses to send.
        match sent {
            Ok(response) => {
                let status = response.status();
                let error = status
                    .is_redirection()
                    .then(|| format!("redirect {} not followed", status.as_u16()));
                (Some(status.as_u16()), error)
            }
            Err(e) => (None, Some(self.describe(&e))),
        }
    }

    /// A short text for a failed request, most specific cause first.
    fn describe(&self, err: &reqwest::Error) -> String {
        if let Some(blocked) = blocked_in(err) {
            return blocked.to_string();
        }
        if err.is_timeout() {
            return if err.is_connect() {
                format!(
                    "connecting timed out after {}",
                    seconds(CONNECT_TIMEOUT.min(self.timeout))
                )
            } else {
                format!("timed out after {}", seconds(self.timeout))
            };
        }
        let io_kind = causes(err).find_map(|e| e.downcast_ref::<io::Error>().map(io::Error::kind));
        match io_kind {
            Some(io::ErrorKind::ConnectionRefused) => return "connection refused".into(),
            Some(io::ErrorKind::ConnectionReset) => return "connection reset".into(),
            Some(io::ErrorKind::ConnectionAborted) => return "connection aborted".into(),
            Some(io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable) => {
                return "network unreachable".into();
            }
            _ => {}
        }
        // The innermost cause is usually the informative one ("invalid peer
        // certificate: Expired"); the outer layers only say where it happened.
        let detail = causes(err)
            .last()
            .map(ToString::to_string)
            .unwrap_or_default();
        let what = if err.is_connect() {
            "could not connect"
        } else if err.is_redirect() {
            "redirect failed"
        } else {
            "request failed"
        };
        truncate(format!("{what}: {detail}"), MAX_ERROR_LEN)
    }
}

/// "15 s", or "500 ms" for the short timeouts tests use.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::client::redirect_policy;
    use axum::Router;
    use axum::http::{HeaderMap, StatusCode as AxStatus, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use reqwest::redirect::Policy;
    use std::sync::Arc;
    use std::sync::Mutex;
    use tokio::net::TcpListener;

    /// Serves `router` on a fresh loopback port and returns its base URL.
    async fn serve(router: Router) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}")
    }

    /// A server answering every POST with `status`.
    async fn answering(status: u16) -> String {
        let status = AxStatus::from_u16(status).unwrap();
        serve(Router::new().route("/hook", post(move || async move { status }))).await
    }

    /// A server whose `/hop/{n}` redirects with `status` to `/hop/{n-1}`, and
    /// `/hop/0` answers 204; `/to` redirects with `status` to `location`.
    async fn redirecting(status: u16, location: Option<&str>) -> String {
        let status = AxStatus::from_u16(status).unwrap();
        let location = location.map(str::to_owned);
        let router = Router::new()
            .route(
                "/hop/{n}",
                post(
                    move |axum::extract::Path(n): axum::extract::Path<u32>| async move {
                        if n == 0 {
                            AxStatus::NO_CONTENT.into_response()
                        } else {
                            redirect_response(status, &format!("/hop/{}", n - 1))
                        }
                    },
                ),
            )
            .route(
                "/to",
                post(move || async move {
                    redirect_response(status, location.as_deref().unwrap_or("/hop/0"))
                }),
            );
        serve(router).await
    }

    fn redirect_response(status: AxStatus, location: &str) -> Response {
        (status, [(header::LOCATION, location.to_owned())]).into_response()
    }

    /// The headers and body a test receiver saw.
    type Received = (HeaderMap, Vec<u8>);

    fn url(s: &str) -> HttpUrl {
        HttpUrl::parse(s).unwrap()
    }

    fn headers() -> WebhookHeaders {
        WebhookHeaders {
            id: "msg_test".into(),
            timestamp: 1_700_000_000,
            signature: "v1,c2lnbmF0dXJl".into(),
        }
    }

    fn local() -> Deliverer {
        Deliverer::new(true).unwrap()
    }

    fn guarded() -> Deliverer {
        Deliverer::new(false).unwrap()
    }

    async fn post_to(d: &Deliverer, target: &str) -> AttemptResult {
        d.send(&url(target), headers(), br#"{"id":"id_1"}"#.to_vec())
            .await
    }

    #[tokio::test]
    async fn a_2xx_is_delivered_with_the_webhook_headers_and_body() {
        let seen: Arc<Mutex<Option<Received>>> = Arc::default();
        let store = seen.clone();
        let router = Router::new().route(
            "/hook",
            post(move |h: HeaderMap, body: axum::body::Bytes| async move {
                *store.lock().unwrap() = Some((h, body.to_vec()));
                AxStatus::ACCEPTED
            }),
        );
        let base = serve(router).await;

        let result = post_to(&local(), &format!("{base}/hook")).await;

        assert_eq!(result.status, Some(202));
        assert_eq!(result.error, None);
        assert_eq!(result.outcome(), Outcome::Delivered);
        assert!(result.duration_ms >= 0);
        let (h, body) = seen.lock().unwrap().take().expect("request arrived");
        assert_eq!(body, br#"{"id":"id_1"}"#);
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["webhook-id"], "msg_test");
        assert_eq!(h["webhook-timestamp"], "1700000000");
        assert_eq!(h["webhook-signature"], "v1,c2lnbmF0dXJl");
        assert_eq!(h["user-agent"], "Proofme-Webhooks/1");
    }

    #[tokio::test]
    async fn a_500_fails_with_its_status() {
        let base = answering(500).await;
        let result = post_to(&local(), &format!("{base}/hook")).await;
        assert_eq!(result.status, Some(500));
        assert_eq!(result.error, None);
        assert_eq!(result.outcome(), Outcome::Failed);
    }

    #[tokio::test]
    async fn a_410_means_gone() {
        let base = answering(410).await;
        let result = post_to(&local(), &format!("{base}/hook")).await;
        assert_eq!(result.status, Some(410));
        assert_eq!(result.outcome(), Outcome::Gone);
    }

    #[tokio::test]
    async fn a_302_is_not_followed_and_fails() {
        let base = redirecting(302, None).await;
        let result = post_to(&local(), &format!("{base}/to")).await;
        assert_eq!(result.status, Some(302));
        assert_eq!(result.error.as_deref(), Some("redirect 302 not followed"));
        assert_eq!(result.outcome(), Outcome::Failed);
    }

    #[tokio::test]
    async fn a_301_and_303_are_not_followed_either() {
        for status in [301, 303] {
            let base = redirecting(status, None).await;
            let result = post_to(&local(), &format!("{base}/to")).await;
            assert_eq!(result.status, Some(status));
            assert_eq!(result.outcome(), Outcome::Failed);
        }
    }

    #[tokio::test]
    async fn a_chain_of_two_307s_is_followed_to_delivery() {
        let base = redirecting(307, None).await;
        let result = post_to(&local(), &format!("{base}/hop/2")).await;
        assert_eq!(result.status, Some(204));
        assert_eq!(result.outcome(), Outcome::Delivered);
    }

    #[tokio::test]
    async fn three_308_hops_are_allowed() {
        let base = redirecting(308, None).await;
        let result = post_to(&local(), &format!("{base}/hop/3")).await;
        assert_eq!(result.outcome(), Outcome::Delivered);
    }

    #[tokio::test]
    async fn four_hops_are_too_many_redirects() {
        let base = redirecting(307, None).await;
        let result = post_to(&local(), &format!("{base}/hop/4")).await;
        assert_eq!(result.status, None);
        assert_eq!(result.error.as_deref(), Some("too many redirects"));
        assert_eq!(result.outcome(), Outcome::Failed);
    }

    #[tokio::test]
    async fn a_loopback_literal_is_refused_before_connecting() {
        let hits = Arc::new(Mutex::new(0));
        let counter = hits.clone();
        let router = Router::new().route(
            "/hook",
            post(move || async move {
                *counter.lock().unwrap() += 1;
                AxStatus::OK
            }),
        );
        let base = serve(router).await;

        let result = post_to(&guarded(), &format!("{base}/hook")).await;

        assert_eq!(result.status, None);
        assert_eq!(
            result.error.as_deref(),
            Some("address 127.0.0.1 is not public")
        );
        assert_eq!(result.outcome(), Outcome::Failed);
        assert_eq!(*hits.lock().unwrap(), 0);
    }

    #[tokio::test]
    async fn localhost_names_and_mapped_loopback_are_refused_before_connecting() {
        let d = guarded();
        let r = post_to(&d, "http://localhost:9/hook").await;
        assert_eq!(
            r.error.as_deref(),
            Some("host localhost names this machine")
        );
        let r = post_to(&d, "http://api.localhost./hook").await;
        assert_eq!(
            r.error.as_deref(),
            Some("host api.localhost. names this machine")
        );
        let r = post_to(&d, "http://[::ffff:127.0.0.1]:9/hook").await;
        assert_eq!(
            r.error.as_deref(),
            Some("address ::ffff:127.0.0.1 is not public")
        );
    }

    #[tokio::test]
    async fn a_307_to_a_loopback_address_is_not_followed() {
        // Test servers live on loopback, which the guard refuses outright. So
        // the first request skips the up-front check (allow_private) while the
        // client carries the guarded redirect policy: the hop to loopback is
        // then refused by the policy alone.
        let hits = Arc::new(Mutex::new(0));
        let counter = hits.clone();
        let target = serve(Router::new().route(
            "/hook",
            post(move || async move {
                *counter.lock().unwrap() += 1;
                AxStatus::OK
            }),
        ))
        .await;
        let base = redirecting(307, Some(&format!("{target}/hook"))).await;
        let client = Client::builder()
            .no_proxy()
            .redirect(Policy::custom(|attempt| {
                redirect_policy(attempt, false, Redirects::KeepingTheBody)
            }))
            .build()
            .unwrap();
        let d = Deliverer {
            client,
            allow_private: true,
            timeout: WEBHOOK_ATTEMPT_TIMEOUT,
        };

        let result = post_to(&d, &format!("{base}/to")).await;

        assert_eq!(result.status, None);
        assert_eq!(
            result.error.as_deref(),
            Some("address 127.0.0.1 is not public")
        );
        assert_eq!(*hits.lock().unwrap(), 0);
    }

    #[tokio::test]
    async fn a_slow_receiver_times_out() {
        let router = Router::new().route(
            "/hook",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                AxStatus::OK
            }),
        );
        let base = serve(router).await;
        let d = Deliverer::with_timeout(true, Duration::from_millis(500)).unwrap();

        let result = post_to(&d, &format!("{base}/hook")).await;

        assert_eq!(result.status, None);
        assert_eq!(result.error.as_deref(), Some("timed out after 500 ms"));
        assert_eq!(result.outcome(), Outcome::Failed);
        assert!(
            (400..3000).contains(&result.duration_ms),
            "{}",
            result.duration_ms
        );
    }

    #[tokio::test]
    async fn a_closed_port_fails_with_connection_refused() {
        // Bind and drop to find a port nobody listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let result = post_to(&local(), &format!("http://127.0.0.1:{port}/hook")).await;
        assert_eq!(result.status, None);
        assert_eq!(result.error.as_deref(), Some("connection refused"));
        assert_eq!(result.outcome(), Outcome::Failed);
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_through_the_client() {
        // `localhost` is refused by name before the resolver runs, so reach the
        // resolver through the client with the by-name check skipped.
        let base = answering(200).await;
        let port = base.rsplit(':').next().unwrap();
        let d = guarded();

        let result = d
            .client
            .post(format!("http://localhost:{port}/hook"))
            .send()
            .await
            .map(|r| r.status());

        let err = result.expect_err("must not connect");
        let text = d.describe(&err);
        assert!(
            text.starts_with("localhost has no public address"),
            "{text}"
        );
    }

    #[test]
    fn outcomes_follow_the_status() {
        let with = |status| AttemptResult {
            status,
            error: None,
            duration_ms: 1,
        };
        assert_eq!(with(Some(200)).outcome(), Outcome::Delivered);
        assert_eq!(with(Some(299)).outcome(), Outcome::Delivered);
        assert_eq!(with(Some(410)).outcome(), Outcome::Gone);
        assert_eq!(with(Some(404)).outcome(), Outcome::Failed);
        assert_eq!(with(Some(308)).outcome(), Outcome::Failed);
        assert_eq!(with(None).outcome(), Outcome::Failed);
    }

    #[test]
    fn long_error_texts_are_cut_on_a_character_boundary() {
        let cut = truncate("é".repeat(150), MAX_ERROR_LEN);
        assert!(cut.len() <= MAX_ERROR_LEN + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }
}
