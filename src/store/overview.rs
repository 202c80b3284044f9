//! How verification is going for one organisation: the numbers behind the
//! dashboard's overview, each computed by the database over a window of
//! days, on both engines alike. Every query reads the organisation's rows of
//! the window through the `(organisation_id, created_at, id)` index.

use super::{Store, StoreError, corrupt};
use crate::domain::{FailureReason, Mode, OrganisationId, Status, Timestamp};

const DAY_MS: i64 = 86_400_000;

/// A day of the window, a status, and how many had it.
type DayRow = (i64, i64, i64);
/// A failure reason (none for a failure without one) and how many.
type ReasonRow = (Option<String>, i64);

/// The overview of `days` UTC days ending with today's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// Midnight (UTC) of the first day.
    pub first_day: Timestamp,
    /// Identifications created each day, oldest day first, by their status
    /// as it reads now (an open one past its expiry is expired).
    pub days: Vec<DayCounts>,
    /// Failed identifications of the window by reason, most first; those
    /// failed without a reason are not counted.
    pub failure_reasons: Vec<(FailureReason, i64)>,
    /// The median time from creation to verified, of the window's verified
    /// identifications; `None` when none was verified.
    pub median_ms_to_verify: Option<i64>,
}

/// One day's identifications by status (indexed by the status's code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub by_status: [i64; 7],
}

impl DayCounts {
    pub fn total(&self) -> i64 {
        self.by_status.iter().sum()
    }

    pub fn of(&self, status: Status) -> i64 {
        self.by_status[status.as_i64() as usize]
    }
}

impl Overview {
    /// How many of the window's identifications have this status.
    pub fn total_of(&self, status: Status) -> i64 {
        self.days.iter().map(|d| d.of(status)).sum()
    }

    pub fn total(&self) -> i64 {
        self.days.iter().map(DayCounts::total).sum()
    }

    /// Verified out of those that came to an end a customer could reach
    /// (verified, failed, canceled or expired): revoked ones were stopped by
    /// the organisation and open ones have not ended. `None` with none.
    pub fn verification_rate(&self) -> Option<f64> {
        let verified = self.total_of(Status::Verified);
        let ended = verified
            + self.total_of(Status::Failed)
            + self.total_of(Status::Canceled)
            + self.total_of(Status::Expired);
        (ended > 0).then(|| verified as f64 / ended as f64)
    }
}

impl Store {
    /// The overview of the organisation's identifications of `mode` created
    /// in the `days` UTC days up to and including today's.
    pub async fn overview(
        &self,
        organisation_id: &OrganisationId,
        mode: Mode,
        days: i64,
    ) -> Result<Overview, StoreError> {
        let days = days.clamp(1, 366);
        let now = self.clock.now().millis();
        let first_day = (now.div_euclid(DAY_MS) - (days - 1)) * DAY_MS;
        let (daily, reasons, verify_times): (Vec<DayRow>, Vec<ReasonRow>, Vec<i64>) = on_db!(&self.db, db, on => {
            // The status as it reads now: open or pending past expiry is expired.
            let daily = sqlx::query_as(&on::sql(
                "SELECT CAST((created_at - ?) / 86400000 AS BIGINT) AS day, \
                        CAST(CASE WHEN status IN (0, 1) AND expires_at <= ? THEN 5 ELSE status END AS BIGINT) AS shown, \
                        CAST(COUNT(*) AS BIGINT) \
                 FROM identifications \
                 WHERE organisation_id = ? AND mode = ? AND created_at >= ? \
                 GROUP BY 1, 2",
            ))
            .bind(first_day)
            .bind(now)
            .bind(organisation_id.as_str())
            .bind(mode.as_str())
            .bind(first_day)
            .fetch_all(&db.reader)
            .await?;
            let reasons = sqlx::query_as(&on::sql(
                "SELECT failure_reason, CAST(COUNT(*) AS BIGINT) FROM identifications \
                 WHERE organisation_id = ? AND mode = ? AND created_at >= ? AND status = 3 \
                 GROUP BY failure_reason",
            ))
            .bind(organisation_id.as_str())
            .bind(mode.as_str())
            .bind(first_day)
            .fetch_all(&db.reader)
            .await?;
            // The middle one (or two) of the sorted times to verify, read
            // without sending the others over.
            let verified: i64 = sqlx::query_scalar(&on::sql(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM identifications \
                 WHERE organisation_id = ? AND mode = ? AND created_at >= ? AND status = 2",
            ))
            .bind(organisation_id.as_str())
            .bind(mode.as_str())
            .bind(first_day)
            .fetch_one(&db.reader)
            .await?;
            let middle: Vec<i64> = if verified == 0 {
                Vec::new()
            } else {
                sqlx::query_scalar(&on::sql(
                    "SELECT CAST(s.changed_at - i.created_at AS BIGINT) AS took \
                     FROM identifications i \
                     JOIN status_changes s ON s.identification_id = i.id AND s.to_status = 2 \
                     WHERE i.organisation_id = ? AND i.mode = ? AND i.created_at >= ? AND i.status = 2 \
                     ORDER BY took LIMIT ? OFFSET ?",
                ))
                .bind(organisation_id.as_str())
                .bind(mode.as_str())
                .bind(first_day)
                .bind(if verified % 2 == 0 { 2_i64 } else { 1 })
                .bind((verified - 1) / 2)
                .fetch_all(&db.reader)
                .await?
            };
            (daily, reasons, middle)
        });
        let mut counts = vec![DayCounts::default(); days as usize];
        for (day, status, n) in daily {
            let Some(status) = Status::from_i64(status) else {
                return Err(corrupt("status", status));
            };
            // A row created after `now` (another instance's clock ahead of
            // ours) has no day of the window; it is left out.
            if let Some(d) = usize::try_from(day).ok().and_then(|d| counts.get_mut(d)) {
                d.by_status[status.as_i64() as usize] += n;
            }
        }
        let mut failure_reasons = Vec::new();
        for (reason, n) in reasons {
            let Some(reason) = reason else { continue };
            let parsed =
                FailureReason::parse(&reason).ok_or_else(|| corrupt("failure_reason", &reason))?;
            failure_reasons.push((parsed, n));
        }
        failure_reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_str().cmp(b.0.as_str())));
        let median_ms_to_verify = match verify_times.as_slice() {
            [one] => Some(*one),
            [a, b] => Some((a + b) / 2),
            _ => None,
        };
        Ok(Overview {
            first_day: Timestamp::from_millis(first_day),
            days: counts,
            failure_reasons,
            median_ms_to_verify,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_only_what_a_customer_could_end() {
        let mut day = DayCounts::default();
        day.by_status[Status::Verified.as_i64() as usize] = 3;
        day.by_status[Status::Failed.as_i64() as usize] = 1;
        day.by_status[Status::Revoked.as_i64() as usize] = 5;
        day.by_status[Status::Open.as_i64() as usize] = 7;
        let overview = Overview {
            first_day: Timestamp::from_millis(0),
            days: vec![day],
            failure_reasons: Vec::new(),
            median_ms_to_verify: None,
        };
        assert_eq!(overview.verification_rate(), Some(0.75));
        assert_eq!(overview.total(), 16);
        let empty = Overview {
            days: vec![DayCounts::default()],
            ..overview
        };
        assert_eq!(empty.verification_rate(), None);
    }
}
