//! Per-API-key rate limiting: a token bucket refilled at `rate` per second
//! holding at most twice that, so short bursts pass and one integrator cannot
//! starve the rest.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `rate` requests per second per key; 0 turns limiting off.
    pub fn new(rate: u32) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate),
            burst: 2.0 * f64::from(rate),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` to go ahead, or how long until a request would be allowed.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        // Full buckets carry no information: drop them now and then, so keys
        // that went quiet do not accumulate.
        if buckets.len() > 10_000 {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.refilled).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_of_twice_the_rate_then_refuses() {
        let limiter = RateLimiter::new(5);
        let now = Instant::now();
        for i in 0..10 {
            assert!(limiter.check_at("k", now).is_ok(), "request {i}");
        }
        let wait = limiter.check_at("k", now).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
    }

    #[test]
    fn refills_over_time() {
        let limiter = RateLimiter::new(5);
        let now = Instant::now();
        for _ in 0..10 {
            limiter.check_at("k", now).unwrap();
        }
        assert!(limiter.check_at("k", now).is_err());
        assert!(
            limiter
                .check_at("k", now + Duration::from_millis(250))
                .is_ok()
        );
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let limiter = RateLimiter::new(1);
        let now = Instant::now();
        limiter.check_at("a", now).unwrap();
        limiter.check_at("a", now).unwrap();
        assert!(limiter.check_at("a", now).is_err());
        assert!(limiter.check_at("b", now).is_ok());
    }

    #[test]
    fn zero_turns_limiting_off() {
        let limiter = RateLimiter::new(0);
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(limiter.check_at("k", now).is_ok());
        }
    }
}
