//! Timestamps: stored as Unix milliseconds, written as `2022-01-01T12:00:00+00:00`.

use chrono::{DateTime, SecondsFormat, Utc};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
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
        DateTime::<Utc>::from_timestamp_millis(self.0)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_seed() {
        let t = Timestamp::from_millis(1_641_038_400_123);
        assert_eq!(t.to_rfc3339(), "2022-01-01T12:00:00+00:00");
    }

    #[test]
    fn plus_adds_durations() {
        let t = Timestamp::from_millis(1_000).plus(Duration::from_secs(86_400));
        assert_eq!(t.millis(), 86_401_000);
    }
}
