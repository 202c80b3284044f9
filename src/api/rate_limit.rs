//! Rate limits on the API, with governor's GCRA (a token bucket without a
//! timer): per API key, `rate` requests per second in bursts of twice that,
//! so one integrator cannot starve the rest; and per client address, failed
//! authentications, so a flood of wrong keys is refused before any database
//! work. Both take their clock as a parameter, so tests can move time.

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter as Gcra};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use crate::http_common::address_limit::{AddressLimiter, retry_after_secs};
use crate::http_common::address_limit::{Keyed, forget_recent};

/// A keyed limiter whose checks tell how much allowance is left.
type KeyedWithState<K, C> = Gcra<K, DashMapStateStore<K>, C, StateInformationMiddleware>;

/// The service's clock as governor reads it: its monotonic instants, moved
/// on with it, so a test that moves the clock refills the buckets too.
#[derive(Debug, Clone)]
pub struct LimitClock(pub crate::domain::Clock);

impl Clock for LimitClock {
    type Instant = std::time::Instant;

    fn now(&self) -> std::time::Instant {
        self.0.instant()
    }
}

/// The API's limits, shared by its middleware and the housekeeping job.
#[derive(Clone)]
pub struct Limits {
    pub per_key: Arc<RateLimiter<LimitClock>>,
    pub auth_failures: Arc<FailedAuthLimiter<LimitClock>>,
}

impl Limits {
    /// `rate` requests per second per key and `auth_failure_limit` failed
    /// authentications per minute per address; 0 turns either off.
    pub fn new(rate: u32, auth_failure_limit: u32, clock: crate::domain::Clock) -> Limits {
        let clock = LimitClock(clock);
        Limits {
            per_key: Arc::new(RateLimiter::with_clock(rate, clock.clone())),
            auth_failures: Arc::new(FailedAuthLimiter::with_clock(auth_failure_limit, clock)),
        }
    }

    /// Forgets idle entries; returns how many keys and addresses went.
    pub fn forget_idle(&self) -> (usize, usize) {
        (self.per_key.forget_idle(), self.auth_failures.forget_idle())
    }
}

/// Requests per API key.
pub struct RateLimiter<C: Clock = DefaultClock> {
    gcra: Option<Keyed<String, C>>,
    clock: C,
}

impl RateLimiter {
    /// `rate` requests per second per key, bursts of twice that; 0 turns
    /// limiting off.
    pub fn new(rate: u32) -> RateLimiter {
        RateLimiter::with_clock(rate, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    pub fn with_clock(rate: u32, clock: C) -> RateLimiter<C> {
        let quota = NonZeroU32::new(rate).map(|rate| {
            let burst = NonZeroU32::new(rate.get().saturating_mul(2)).unwrap_or(rate);
            Quota::per_second(rate).allow_burst(burst)
        });
        RateLimiter {
            gcra: quota.map(|q| Gcra::dashmap_with_clock(q, clock.clone())),
            clock,
        }
    }

    /// `Ok` to go ahead, or how long until a request would be allowed.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let Some(gcra) = &self.gcra else {
            return Ok(());
        };
        gcra.check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets keys whose bucket is full again (they carry no information).
    /// Returns how many went.
    pub fn forget_idle(&self) -> usize {
        self.gcra.as_ref().map_or(0, forget_recent)
    }
}

/// Failed authentications per client address. Failures are counted after
/// the fact; the failure that uses up an address's allowance blocks it, so
/// its next request is refused before its key is even looked at, until the
/// allowance has grown back: exactly `per_minute` failures pass.
pub struct FailedAuthLimiter<C: Clock = DefaultClock> {
    gcra: Option<KeyedWithState<IpAddr, C>>,
    blocked: Mutex<HashMap<IpAddr, C::Instant>>,
    clock: C,
}

impl FailedAuthLimiter {
    /// `per_minute` failures per client address, all of which may come at
    /// once; 0 turns limiting off.
    pub fn new(per_minute: u32) -> FailedAuthLimiter {
        FailedAuthLimiter::with_clock(per_minute, DefaultClock::default())
    }
}

impl<C: Clock + Clone> FailedAuthLimiter<C> {
    pub fn with_clock(per_minute: u32, clock: C) -> FailedAuthLimiter<C> {
        FailedAuthLimiter {
            gcra: NonZeroU32::new(per_minute).map(|n| {
                Gcra::dashmap_with_clock(Quota::per_minute(n), clock.clone())
                    .with_middleware::<StateInformationMiddleware>()
            }),
            blocked: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn blocked(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, C::Instant>> {
        self.blocked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long `client` must wait before its next attempt, if it must.
    pub fn wait(&self, client: IpAddr) -> Option<Duration> {
        let mut blocked = self.blocked();
        let until = *blocked.get(&client)?;
        let now = self.clock.now();
        if until > now {
            return Some(until.duration_since(now).into());
        }
        blocked.remove(&client);
        None
    }

    /// Counts a failed authentication from `client`; the one that uses up
    /// its allowance (or any beyond it) blocks it.
    pub fn failed(&self, client: IpAddr) {
        let Some(gcra) = &self.gcra else {
            return;
        };
        let not_until = match gcra.check_key(&client) {
            Ok(left) if left.remaining_burst_capacity() > 0 => return,
            // That was the last one: blocked until one more would pass,
            // which the next check (refused, so not counted) tells.
            Ok(_) => match gcra.check_key(&client) {
                Err(not_until) => not_until,
                Ok(_) => return,
            },
            Err(not_until) => not_until,
        };
        let wait: Duration = not_until.wait_time_from(self.clock.now());
        if self
            .blocked()
            .insert(client, not_until.earliest_possible())
            .is_none()
        {
            tracing::warn!(
                client = %client,
                wait_secs = wait.as_secs(),
                "too many failed authentications: refusing this address for a while"
            );
        }
    }

    /// Forgets addresses whose allowance is whole again. Returns how many went.
    pub fn forget_idle(&self) -> usize {
        let forgotten = self.gcra.as_ref().map_or(0, forget_recent);
        let now = self.clock.now();
        forget_before(&mut self.blocked(), now);
        forgotten
    }
}

fn forget_before<K: Eq + Hash, I: Ord + Copy>(map: &mut HashMap<K, I>, now: I) {
    map.retain(|_, until| *until > now);
}

/// How often rate limiter entries that went quiet are dropped.
pub const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);

/// Rate limiter entries for keys and addresses that went quiet carry no
/// information; dropping them now and then keeps memory flat.
pub async fn housekeeping(limits: Limits, period: Duration) {
    let mut tick = crate::background::every(period);
    loop {
        tick.tick().await;
        let (keys, addresses) = limits.forget_idle();
        if keys + addresses > 0 {
            tracing::debug!(keys, addresses, "idle rate limiter entries forgotten");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allows_a_burst_of_twice_the_rate_then_refuses() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(5, clock.clone());
        for i in 0..10 {
            assert!(limiter.check("k").is_ok(), "request {i}");
        }
        let wait = limiter.check("k").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
    }

    #[test]
    fn refills_over_time() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(5, clock.clone());
        for _ in 0..10 {
            limiter.check("k").unwrap();
        }
        assert!(limiter.check("k").is_err());
        clock.advance(Duration::from_millis(250));
        assert!(limiter.check("k").is_ok());
        assert!(limiter.check("k").is_err());
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let limiter = RateLimiter::with_clock(1, FakeRelativeClock::default());
        limiter.check("a").unwrap();
        limiter.check("a").unwrap();
        assert!(limiter.check("a").is_err());
        assert!(limiter.check("b").is_ok());
    }

    #[test]
    fn zero_turns_limiting_off() {
        let limiter = RateLimiter::with_clock(0, FakeRelativeClock::default());
        for _ in 0..1000 {
            assert!(limiter.check("k").is_ok());
        }
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(5, clock.clone());
        limiter.check("k").unwrap();
        clock.advance(Duration::from_secs(10));
        assert_eq!(limiter.forget_idle(), 1);
        assert_eq!(limiter.gcra.as_ref().map(|g| g.len()), Some(0));
    }

    #[test]
    fn an_address_is_blocked_once_its_failures_are_used_up() {
        let clock = FakeRelativeClock::default();
        let limiter = FailedAuthLimiter::with_clock(3, clock.clone());
        for i in 0..3 {
            assert_eq!(limiter.wait(ip("10.0.0.1")), None, "attempt {}", i + 1);
            limiter.failed(ip("10.0.0.1"));
        }

        // The fourth attempt is the first refused.
        let wait = limiter.wait(ip("10.0.0.1")).expect("blocked");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert_eq!(limiter.wait(ip("10.0.0.2")), None, "another address");
    }

    #[test]
    fn a_blocked_address_may_try_again_after_the_wait() {
        let clock = FakeRelativeClock::default();
        let limiter = FailedAuthLimiter::with_clock(3, clock.clone());
        for _ in 0..4 {
            limiter.failed(ip("10.0.0.1"));
        }
        let wait = limiter.wait(ip("10.0.0.1")).expect("blocked");

        clock.advance(wait);

        assert_eq!(limiter.wait(ip("10.0.0.1")), None);
        limiter.forget_idle();
        assert!(limiter.blocked().is_empty());
    }

    #[test]
    fn zero_turns_the_failure_limit_off() {
        let limiter = FailedAuthLimiter::with_clock(0, FakeRelativeClock::default());
        for _ in 0..1000 {
            limiter.failed(ip("10.0.0.1"));
        }
        assert_eq!(limiter.wait(ip("10.0.0.1")), None);
    }
}
