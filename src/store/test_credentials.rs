//! The statuses of the credentials the test issuer issues: each is one
//! entry of a Token Status List, handed out in order (see the migration
//! `test_credential_statuses`).

use super::{Store, StoreError, corrupt};
use crate::domain::{CredentialStatus, IdentificationId, Timestamp};

/// Entries in every test status list. Fixed: entry n is index n % this of
/// list n / this, and the schema's CHECK holds the same bound.
pub const TEST_STATUS_LIST_ENTRIES: u32 = 1 << 16;

/// The PostgreSQL advisory lock that serialises handing out entries across
/// instances ("test_sl" in ASCII; the login throttle's keys are hashes).
const ALLOCATION_LOCK: i64 = 0x0074_6573_745f_736c;

/// Where a test credential's status is kept: index `idx` of list `list_no`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusEntry {
    pub list_no: u32,
    pub idx: u32,
}

impl StatusEntry {
    /// The entry after this one, in the next list once this one is full.
    fn next(self) -> Option<StatusEntry> {
        if self.idx + 1 < TEST_STATUS_LIST_ENTRIES {
            Some(StatusEntry {
                list_no: self.list_no,
                idx: self.idx + 1,
            })
        } else {
            Some(StatusEntry {
                list_no: self.list_no.checked_add(1)?,
                idx: 0,
            })
        }
    }
}

fn to_u32(what: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(what, value))
}

impl Store {
    /// Hands out the next entry for a credential issued for `id`, with
    /// `status` from the start. One write transaction reads the last entry
    /// and adds the next (SQLite's write lock; on PostgreSQL an advisory
    /// lock), so no two credentials ever share an entry.
    pub async fn allocate_test_credential_status(
        &self,
        id: &IdentificationId,
        status: CredentialStatus,
        issued_at: Timestamp,
    ) -> Result<StatusEntry, StoreError> {
        on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            if on::POSTGRES {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(ALLOCATION_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            let last: Option<(i64, i64)> = sqlx::query_as(
                "SELECT list_no, idx FROM test_credential_statuses \
                 ORDER BY list_no DESC, idx DESC LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            let entry = match last {
                None => StatusEntry { list_no: 0, idx: 0 },
                Some((list_no, idx)) => StatusEntry {
                    list_no: to_u32("test status list number", list_no)?,
                    idx: to_u32("test status list index", idx)?,
                }
                .next()
                .ok_or_else(|| corrupt("test status lists", "every list number is taken"))?,
            };
            sqlx::query(&on::sql(
                "INSERT INTO test_credential_statuses \
                 (list_no, idx, status, identification_id, issued_at) VALUES (?, ?, ?, ?, ?)",
            ))
            .bind(i64::from(entry.list_no))
            .bind(i64::from(entry.idx))
            .bind(i64::from(status.code()))
            .bind(id.as_str())
            .bind(issued_at.millis())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(entry)
        })
    }

    /// Sets the status of every test credential issued for `id`; returns
    /// how many there are.
    pub async fn set_test_credential_status(
        &self,
        id: &IdentificationId,
        status: CredentialStatus,
    ) -> Result<u64, StoreError> {
        on_db!(&self.db, db, on => {
            let done = sqlx::query(&on::sql(
                "UPDATE test_credential_statuses SET status = ? WHERE identification_id = ?",
            ))
            .bind(i64::from(status.code()))
            .bind(id.as_str())
            .execute(&db.writer)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// The entries of test status list `list_no` that are not valid, by
    /// index; `None` while no entry of that list has been handed out.
    pub async fn test_status_list(
        &self,
        list_no: u32,
    ) -> Result<Option<Vec<(u32, CredentialStatus)>>, StoreError> {
        on_db!(&self.db, db, on => {
            // Entries are handed out from index 0: a list exists once its
            // first entry does.
            let exists: Option<i64> = sqlx::query_scalar(&on::sql(
                "SELECT idx FROM test_credential_statuses WHERE list_no = ? AND idx = 0",
            ))
            .bind(i64::from(list_no))
            .fetch_optional(&db.reader)
            .await?;
            if exists.is_none() {
                return Ok(None);
            }
            let rows: Vec<(i64, i64)> = sqlx::query_as(&on::sql(
                "SELECT idx, status FROM test_credential_statuses \
                 WHERE list_no = ? AND status <> 0 ORDER BY idx",
            ))
            .bind(i64::from(list_no))
            .fetch_all(&db.reader)
            .await?;
            rows.into_iter()
                .map(|(idx, status)| {
                    let status = u8::try_from(status)
                        .ok()
                        .and_then(CredentialStatus::from_code)
                        .ok_or_else(|| corrupt("test credential status", status))?;
                    Ok((to_u32("test status list index", idx)?, status))
                })
                .collect::<Result<Vec<_>, StoreError>>()
                .map(Some)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_fill_a_list_before_the_next_begins() {
        let first = StatusEntry { list_no: 0, idx: 0 };
        assert_eq!(first.next(), Some(StatusEntry { list_no: 0, idx: 1 }));
        let last = StatusEntry {
            list_no: 3,
            idx: TEST_STATUS_LIST_ENTRIES - 1,
        };
        assert_eq!(last.next(), Some(StatusEntry { list_no: 4, idx: 0 }));
        let very_last = StatusEntry {
            list_no: u32::MAX,
            idx: TEST_STATUS_LIST_ENTRIES - 1,
        };
        assert_eq!(very_last.next(), None);
    }
}
