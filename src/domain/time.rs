//! Timestamps: stored as Unix milliseconds, written as `2022-01-01T12:00:00+00:00`.

use chrono::{DateTime, SecondsFormat, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where the service reads the time: every deadline (expiry, retention,
/// response windows, sessions, rate limits) asks one of these, so that a
/// test can move time forward instead of waiting for it.
///
/// The system clock is the real one. A manual clock runs with it, plus
/// however far it has been moved on: the time still passes (so that ids
/// stay ordered and timers fire), and a test jumps past a deadline at once.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None` for the system clock; else milliseconds moved on so far.
    moved_on: Option<Arc<AtomicU64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { moved_on: None }
    }

    /// A clock that tests move on with `advance`.
    pub fn manual() -> Clock {
        Clock {
            moved_on: Some(Arc::new(AtomicU64::new(0))),
        }
    }

    /// Moves a manual clock on by `by`; the system clock can't be moved, so
    /// on it this does nothing.
    pub fn advance(&self, by: Duration) {
        if let Some(moved_on) = &self.moved_on {
            let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
            moved_on.fetch_add(ms, Ordering::SeqCst);
        }
    }

    fn moved_on(&self) -> Duration {
        self.moved_on.as_ref().map_or(Duration::ZERO, |m| {
            Duration::from_millis(m.load(Ordering::SeqCst))
        })
    }

    /// The time of day, for what is stored and shown.
    pub fn now(&self) -> Timestamp {
        Timestamp::now().plus(self.moved_on())
    }

    /// A monotonic instant, for what only measures intervals (rate limits).
    pub fn instant(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.moved_on()).unwrap_or(now)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The system clock's time. The service reads time from its `Clock`;
    /// this is for what no deadline depends on (id ordering) and for tests.
    pub fn now() -> Self {
        Self(Utc::now().timestamp_millis())
    }

    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(ms))
    }

    pub fn minus(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_sub(ms))
    }

    /// Whole seconds since the Unix epoch (JWT `iat`, `exp`).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// RFC 3339 in UTC with whole seconds and an explicit `+00:00`, as the seed shows.
    pub fn to_rfc3339(self) -> String {
        self.with_rfc3339(str::to_owned)
    }

    /// Hands the RFC 3339 text to `f` without allocating for years 0 to 9999.
    fn with_rfc3339<R>(self, f: impl FnOnce(&str) -> R) -> R {
        match self.rfc3339_bytes() {
            // Digits and punctuation only: always UTF-8.
            Some(text) => f(std::str::from_utf8(&text).unwrap_or_default()),
            None => f(&self.rfc3339_by_chrono()),
        }
    }

    fn rfc3339_by_chrono(self) -> String {
        DateTime::<Utc>::from_timestamp_millis(self.0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    }

    /// The same text for years 0 to 9999, computed in place: every API
    /// object carries three or four timestamps, and chrono's formatter cost
    /// more than the rest of a cached read's serialisation. Days to a civil
    /// date by the era arithmetic of the proleptic Gregorian calendar (eras
    /// of 400 years, 146,097 days, with years counted from March).
    fn rfc3339_bytes(self) -> Option<[u8; 25]> {
        let secs = self.0.div_euclid(1000);
        let (days, second_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let z = days + 719_468; // days since 0000-03-01
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
        let month = if month_from_march < 10 {
            month_from_march + 3
        } else {
            month_from_march - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        if !(0..=9999).contains(&year) {
            return None;
        }
        let mut out = *b"0000-00-00T00:00:00+00:00";
        let mut put = |at: usize, width: usize, mut n: i64| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, second_of_day / 3_600);
        put(14, 2, second_of_day / 60 % 60);
        put(17, 2, second_of_day % 60);
        Some(out)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.with_rfc3339(|text| s.serialize_str(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_on_and_its_clones_with_it() {
        let clock = Clock::manual();
        let copy = clock.clone();
        let before = copy.now();
        let instant = copy.instant();
        clock.advance(Duration::from_secs(3600));
        assert!(copy.now().millis() - before.millis() >= 3_600_000);
        assert!(copy.instant().duration_since(instant) >= Duration::from_secs(3600));
    }

    #[test]
    fn the_system_clock_is_not_moved() {
        let clock = Clock::system();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now().millis() - Timestamp::now().millis() < 3_600_000);
    }

    #[test]
    fn formats_like_the_seed() {
        let t = Timestamp::from_millis(1_641_038_400_123);
        assert_eq!(t.to_rfc3339(), "2022-01-01T12:00:00+00:00");
    }

    proptest::proptest! {
        /// The in-place formatter writes what chrono writes, over years 0
        /// to 9999, both sides of every epoch and leap-year boundary.
        #[test]
        fn formats_as_chrono_does(ms in -62_167_219_200_000i64..253_402_300_800_000) {
            let t = Timestamp::from_millis(ms);
            proptest::prop_assert_eq!(t.to_rfc3339(), t.rfc3339_by_chrono());
            proptest::prop_assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.rfc3339_by_chrono())
            );
        }
    }

    #[test]
    fn formats_boundaries_as_chrono_does() {
        for ms in [
            -62_167_219_200_000, // 0000-01-01
            -1,
            0,
            951_782_400_000, // 2000-02-29
            951_868_799_999,
            4_107_542_400_000,   // 2100-03-01
            253_402_300_799_999, // 9999-12-31T23:59:59
        ] {
            let t = Timestamp::from_millis(ms);
            assert_eq!(t.to_rfc3339(), t.rfc3339_by_chrono(), "{ms}");
            assert!(t.rfc3339_bytes().is_some(), "{ms}");
        }
        // Beyond year 9999 chrono answers.
        let far = Timestamp::from_millis(253_402_300_800_000);
        assert!(far.rfc3339_bytes().is_none());
        assert_eq!(far.to_rfc3339(), far.rfc3339_by_chrono());
    }

    #[test]
    fn plus_adds_durations() {
        let t = Timestamp::from_millis(1_000).plus(Duration::from_secs(86_400));
        assert_eq!(t.millis(), 86_401_000);
    }
}
