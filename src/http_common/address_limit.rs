//! Requests per client address, for endpoints anyone may call (public links,
//! the test issuer), with governor's GCRA; the clock is a parameter so tests
//! can move time.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::{NoOpMiddleware, RateLimitingMiddleware};
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter as Gcra};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub(crate) type Keyed<K, C> =
    Gcra<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Whole seconds to put in `Retry-After`: at least 1, rounded up.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Requests per client address: `per_minute`, in bursts of at most
/// `max_burst`. Requests whose address is unknown share one allowance.
/// Addresses whose allowance is whole again are swept out every so many
/// checks, so a flood from many addresses cannot grow the map for good.
pub struct AddressLimiter<C: Clock = DefaultClock> {
    gcra: Option<Keyed<Option<IpAddr>, C>>,
    clock: C,
    checks: AtomicU64,
}

/// How many checks between sweeps of an `AddressLimiter`.
const SWEEP_EVERY: u64 = 4096;

impl AddressLimiter {
    /// 0 per minute turns limiting off.
    pub fn new(per_minute: u32, max_burst: u32) -> AddressLimiter {
        AddressLimiter::with_clock(per_minute, max_burst, DefaultClock::default())
    }
}

impl<C: Clock + Clone> AddressLimiter<C> {
    pub fn with_clock(per_minute: u32, max_burst: u32, clock: C) -> AddressLimiter<C> {
        let gcra = NonZeroU32::new(per_minute).map(|n| {
            let burst = NonZeroU32::new(n.get().min(max_burst)).unwrap_or(n);
            Gcra::dashmap_with_clock(Quota::per_minute(n).allow_burst(burst), clock.clone())
        });
        AddressLimiter {
            gcra,
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` to go ahead, or how long until `client` may come again.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let Some(gcra) = &self.gcra else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            forget_recent(gcra);
        }
        gcra.check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// Drops the entries whose bucket is full again; returns how many.
pub(crate) fn forget_recent<
    K: Eq + Hash + Clone,
    C: Clock,
    M: RateLimitingMiddleware<C::Instant>,
>(
    gcra: &Gcra<K, DashMapStateStore<K>, C, M>,
) -> usize {
    let before = gcra.len();
    gcra.retain_recent();
    gcra.shrink_to_fit();
    before.saturating_sub(gcra.len())
}
