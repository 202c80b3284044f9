//! The accept loop: every connection is counted per client address and in
//! total, idle ones are closed, and when the total is reached the longest-idle
//! connection makes room for a new client. Slow or silent clients therefore
//! cannot use up the process's file descriptors.
//!
//! HTTP/1.1 only (as before). hyper's header read timer starts as soon as a
//! connection waits for a request head: on a new connection and again after
//! every response. An idle keep-alive connection is therefore closed by that
//! timer (`header_read_timeout`) already; `idle_timeout` is the bound when it is
//! the smaller of the two, and the bound on connections that stop reading.

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// The address limits are counted by: an IPv4 address, or the /64 an IPv6
/// address is in (one subscriber usually holds a whole /64). IPv4-mapped IPv6
/// addresses count as their IPv4 address.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The client address of a request (see `client_key`), when the server knows
/// it. Every connection served by `serve_connections` carries it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    pub fn of(extensions: &axum::http::Extensions) -> ClientAddr {
        ClientAddr(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| client_key(c.0.ip())),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(ClientAddr::of(&parts.extensions))
    }
}

/// File descriptors kept free for everything that is not a client
/// connection: the database files, webhook deliveries, name lookups, the
/// runtime itself. A fixed part and an eighth of the limit.
const RESERVED_FDS: u64 = 64;

/// The soft open-files limit of this process, if it has one.
pub fn open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The connection limits in force.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_total: usize,
    pub max_per_address: usize,
}

impl ConnectionLimits {
    /// From the configuration, with the total capped below `open_files`.
    pub fn new(config: &crate::config::Config, open_files: Option<u64>) -> ConnectionLimits {
        let below_fd_limit = open_files.map(|n| {
            let usable = n.saturating_sub(RESERVED_FDS + n / 8).max(16);
            usize::try_from(usable).unwrap_or(usize::MAX)
        });
        let max_total = match (config.max_connections, below_fd_limit) {
            (Some(c), Some(l)) => c.min(l),
            (Some(c), None) => c,
            (None, Some(l)) => l,
            (None, None) => 10_000,
        };
        ConnectionLimits {
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
            max_total,
            max_per_address: config.max_connections_per_address.min(max_total),
        }
    }
}

/// What one connection is doing, for the idle timeout and for eviction.
struct Activity {
    /// Requests whose response has not been completely sent.
    in_flight: AtomicUsize,
    /// Milliseconds after `epoch` of the last request start or response end.
    last_active_ms: AtomicU64,
    /// Requests started on this connection.
    requests: AtomicU64,
    /// Told when a request finishes, so the idle deadline is looked at again.
    finished: Notify,
    epoch: Instant,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            in_flight: AtomicUsize::new(0),
            last_active_ms: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            finished: Notify::new(),
            epoch: Instant::now(),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_active_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn last_active(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last_active_ms.load(Ordering::Relaxed))
    }

    /// Since when the connection has had nothing to do, if it is idle now.
    fn idle_since(&self) -> Option<Instant> {
        (self.in_flight.load(Ordering::Acquire) == 0).then(|| self.last_active())
    }

    /// When the connection should be closed if nothing happens before: a new
    /// connection must bring its first request within the header timeout, a
    /// kept-alive one its next within the idle timeout.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        let since = self.idle_since()?;
        Some(if self.requests.load(Ordering::Relaxed) == 0 {
            since + limits.header_read_timeout
        } else {
            since + limits.idle_timeout
        })
    }
}

/// Held while a request is being answered; dropped when its response body
/// has been sent (or abandoned).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> InFlight {
        activity.requests.fetch_add(1, Ordering::Relaxed);
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.finished.notify_one();
    }
}

struct Entry {
    addr: IpAddr,
    activity: Arc<Activity>,
    close: Arc<Notify>,
    /// Already asked to make room: not asked again.
    evicted: bool,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    per_address: HashMap<IpAddr, usize>,
    entries: HashMap<u64, Entry>,
}

/// Every open connection, by client address.
#[derive(Default)]
struct Registry {
    table: Mutex<Table>,
    emptied: Notify,
}

/// Why a connection was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    AddressFull,
    ServerFull,
}

/// A connection's place in the registry; gives it back when dropped.
struct Slot {
    registry: Arc<Registry>,
    id: u64,
    activity: Arc<Activity>,
    close: Arc<Notify>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Takes a place for a connection from `addr`. At the total limit the
    /// connection that has been idle longest is told to close to make room;
    /// it goes within moments, so the total overshoots only briefly.
    fn admit(self: &Arc<Self>, addr: IpAddr, limits: &ConnectionLimits) -> Result<Slot, Refusal> {
        let mut table = self.lock();
        if table.per_address.get(&addr).copied().unwrap_or(0) >= limits.max_per_address {
            return Err(Refusal::AddressFull);
        }
        if table.entries.len() >= limits.max_total {
            let victim = table
                .entries
                .values_mut()
                .filter(|e| !e.evicted)
                .filter_map(|e| e.activity.idle_since().map(|since| (since, e)))
                .min_by_key(|(since, _)| *since)
                .map(|(_, e)| e);
            match victim {
                Some(entry) => {
                    entry.evicted = true;
                    entry.close.notify_one();
                }
                None => return Err(Refusal::ServerFull),
            }
        }
        let id = table.next_id;
        table.next_id += 1;
        *table.per_address.entry(addr).or_default() += 1;
        let activity = Arc::new(Activity::new());
        let close = Arc::new(Notify::new());
        table.entries.insert(
            id,
            Entry {
                addr,
                activity: activity.clone(),
                close: close.clone(),
                evicted: false,
            },
        );
        Ok(Slot {
            registry: self.clone(),
            id,
            activity,
            close,
        })
    }

    /// Resolves once no connection is left.
    async fn drained(&self) {
        loop {
            let emptied = self.emptied.notified();
            if self.len() == 0 {
                return;
            }
            emptied.await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self.registry.lock();
        if let Some(entry) = table.entries.remove(&self.id) {
            if let Some(n) = table.per_address.get_mut(&entry.addr) {
                *n -= 1;
                if *n == 0 {
                    table.per_address.remove(&entry.addr);
                }
            }
        }
        if table.entries.is_empty() {
            self.registry.emptied.notify_waiters();
        }
    }
}

/// Accept errors that concern one connection only; anything else (such as
/// running out of file descriptors) is worth a pause before the next try.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Serves `router` on `listener` until `shutdown` resolves, then asks every
/// connection to finish its request in flight and close, and returns once all
/// have. (The caller bounds that wait.)
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let registry = Arc::new(Registry::default());
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let http = Arc::new(http);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match registry.admit(client_key(peer.ip()), &limits) {
            Ok(slot) => slot,
            Err(refusal) => {
                // Dropping the stream closes it at once; a log line per refusal
                // would let a flood fill the log instead.
                tracing::debug!(?refusal, "connection refused");
                continue;
            }
        };
        // Without TCP_NODELAY small responses wait on Nagle + delayed ACK (~40 ms).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
        tokio::spawn(serve_one(
            http.clone(),
            tcp,
            peer,
            router.clone(),
            slot,
            limits.clone(),
            closing_rx.clone(),
        ));
    }
    drop(listener);
    closing_tx.send_replace(true);
    registry.drained().await;
}

async fn serve_one(
    http: Arc<hyper::server::conn::http1::Builder>,
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    slot: Slot,
    limits: ConnectionLimits,
    mut closing: watch::Receiver<bool>,
) {
    let activity = slot.activity.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let in_flight = InFlight::begin(&activity);
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        async move {
            let res = router.oneshot(req).await?;
            // The request counts as in flight until its body is sent, so a
            // status stream is never taken for an idle connection.
            Ok::<_, Infallible>(res.map(|body| {
                axum::body::Body::new(body.map_frame(move |frame| {
                    let _ = &in_flight;
                    frame
                }))
            }))
        }
    });
    let conn = http.serve_connection(TokioIo::new(tcp), service);
    tokio::pin!(conn);
    // Once told to close, a connection gets this long to finish what it is
    // sending; a client that stops reading cannot hold it open.
    let mut give_up: Option<Instant> = None;
    loop {
        let deadline = slot.activity.deadline(&limits);
        let mut close = false;
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            () = until(give_up) => break,
            _ = closing.wait_for(|c| *c), if give_up.is_none() => close = true,
            () = slot.close.notified(), if give_up.is_none() => close = true,
            () = slot.activity.finished.notified() => {}
            () = until(deadline), if give_up.is_none() => {
                // A request may have begun meanwhile: look again.
                close = slot
                    .activity
                    .deadline(&limits)
                    .is_some_and(|d| d <= Instant::now());
            }
        }
        if close {
            conn.as_mut().graceful_shutdown();
            give_up = Some(Instant::now() + limits.header_read_timeout);
        }
    }
    drop(slot);
}

/// Resolves at `at`; never without one.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_total: usize, max_per_address: usize) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_total,
            max_per_address,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_mapped_ones_as_ipv4() {
        assert_eq!(client_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
        assert_eq!(client_key(ip("10.0.0.1")), ip("10.0.0.1"));
    }

    #[test]
    fn the_total_stays_below_the_open_files_limit() {
        let config = crate::config::Config::with_database("sqlite::memory:");
        let l = ConnectionLimits::new(&config, Some(256));
        assert!(l.max_total < 256 - 64, "{l:?}");
        assert!(l.max_per_address <= l.max_total);
        let l = ConnectionLimits::new(&config, None);
        assert_eq!(l.max_per_address, 256);
    }

    #[tokio::test]
    async fn an_address_at_its_limit_is_refused_and_others_are_not() {
        let registry = Arc::new(Registry::default());
        let limits = limits(10, 2);
        let _a = registry.admit(ip("10.0.0.1"), &limits).unwrap();
        let _b = registry.admit(ip("10.0.0.1"), &limits).unwrap();
        assert_eq!(
            registry.admit(ip("10.0.0.1"), &limits).err(),
            Some(Refusal::AddressFull)
        );
        let c = registry.admit(ip("10.0.0.2"), &limits).unwrap();
        drop(_a);
        assert!(registry.admit(ip("10.0.0.1"), &limits).is_ok());
        drop(c);
    }

    #[tokio::test]
    async fn at_the_total_the_longest_idle_connection_makes_room() {
        let registry = Arc::new(Registry::default());
        let limits = limits(2, 10);
        let first = registry.admit(ip("10.0.0.1"), &limits).unwrap();
        let second = registry.admit(ip("10.0.0.2"), &limits).unwrap();
        // The second is busy, so only the first may be asked to go.
        let _busy = InFlight::begin(&second.activity);
        let told = first.close.notified();
        tokio::pin!(told);
        told.as_mut().enable();

        let third = registry.admit(ip("10.0.0.3"), &limits);

        assert!(third.is_ok());
        assert!(
            futures::FutureExt::now_or_never(told).is_some(),
            "the idle connection was not told to close"
        );
        // The first is on its way out and the others are busy or new: a
        // fourth client is not let in by asking the first again.
        let _third_busy = InFlight::begin(&third.as_ref().unwrap().activity);
        assert_eq!(
            registry.admit(ip("10.0.0.4"), &limits).err(),
            Some(Refusal::ServerFull)
        );
    }

    #[tokio::test]
    async fn at_the_total_with_every_connection_busy_new_ones_are_refused() {
        let registry = Arc::new(Registry::default());
        let limits = limits(1, 10);
        let only = registry.admit(ip("10.0.0.1"), &limits).unwrap();
        let _busy = InFlight::begin(&only.activity);

        assert_eq!(
            registry.admit(ip("10.0.0.2"), &limits).err(),
            Some(Refusal::ServerFull)
        );
    }
}
