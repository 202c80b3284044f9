//! One organisation's identifications as its dashboard reads them: a free-text
//! search with status and mode filters, the API's sort columns, and keyset
//! pages (a cursor after the last row) so that page n costs what page 1 does,
//! which is what the CSV export walks through.

use super::identifications::{COLUMNS, IdentificationRow, SortColumn, SortDirection, folded};
use super::{Store, StoreError};
use crate::domain::{
    FailureReason, Identification, Mode, OrganisationId, ProofmeId, Status, Timestamp,
};
use base64::Engine as _;
use sqlx::{Database, QueryBuilder};

/// The longest search text, in characters: as long as a description can be.
pub const MAX_SEARCH_CHARS: usize = 255;

/// The most rows one page may hold.
pub const MAX_PAGE_ROWS: i64 = 1000;

/// Which identifications: everything given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentificationFilter {
    /// Matches an id exactly or by its beginning (case as written), or any
    /// part of the description ignoring ASCII case. Taken literally: `%`, `_`
    /// and `\` are plain characters. At most `MAX_SEARCH_CHARS` are used.
    pub q: Option<String>,
    /// As the status reads now: an open one past its expiry is expired.
    pub status: Option<Status>,
    /// `None` for both modes.
    pub mode: Option<Mode>,
    /// Created at or after this moment.
    pub created_from: Option<Timestamp>,
    /// Created before this moment.
    pub created_before: Option<Timestamp>,
    /// Made from this proofme (any revision).
    pub proofme: Option<ProofmeId>,
    /// Failed for this reason.
    pub failure_reason: Option<FailureReason>,
}

impl IdentificationFilter {
    /// True when only the organisation and mode narrow the rows: the running
    /// counts can answer how many there are.
    fn by_mode_only(&self) -> bool {
        self.status.is_none()
            && self.search().is_none()
            && self.created_from.is_none()
            && self.created_before.is_none()
            && self.proofme.is_none()
            && self.failure_reason.is_none()
    }

    /// The search text as it is compared: `None` when empty.
    fn search(&self) -> Option<&str> {
        let q = self.q.as_deref()?;
        let end = q
            .char_indices()
            .nth(MAX_SEARCH_CHARS)
            .map_or(q.len(), |(i, _)| i);
        Some(&q[..end]).filter(|q| !q.is_empty())
    }
}

/// The order of the rows: a column of the API's list, ties broken by id in
/// the same direction. No description sorts as an empty one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: SortColumn,
    pub direction: SortDirection,
}

impl Default for Sort {
    /// Newest first, as the API lists.
    fn default() -> Self {
        Sort {
            column: SortColumn::CreatedAt,
            direction: SortDirection::Desc,
        }
    }
}

/// Where a page begins: after the row a cursor names, then `offset` rows on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// `next` of the previous page; valid only with the same sort.
    pub after: Option<Cursor>,
    /// Rows to skip (after the cursor, if any), as the API's `offset`.
    pub offset: i64,
    /// 1 to `MAX_PAGE_ROWS`; clamped into that range.
    pub limit: i64,
}

impl Default for Page {
    /// The first 50 rows, as the API's list.
    fn default() -> Self {
        Page {
            after: None,
            offset: 0,
            limit: 50,
        }
    }
}

/// The sort value and id of the last row of a page: the next page begins
/// after it. Opaque to callers (`encode`, `parse`).
#[derive(Clone, PartialEq, Eq)]
pub struct Cursor {
    sort: Sort,
    value: CursorValue,
    id: String,
}

/// Without the id or description it holds: a cursor may end up in a log.
impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("sort", &self.sort)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum CursorValue {
    Number(i64),
    Text(String),
}

impl Cursor {
    fn of(row: &Row, sort: Sort) -> Cursor {
        let value = match sort.column {
            SortColumn::Id => CursorValue::Text(row.id.as_str().to_owned()),
            SortColumn::Description => CursorValue::Text(
                row.description
                    .as_ref()
                    .map(|d| d.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            // The stored status: a row read as expired may still be open there.
            SortColumn::Status => CursorValue::Number(row.stored_status.as_i64()),
            SortColumn::IsRequest => CursorValue::Number(i64::from(row.ident.is_request)),
            SortColumn::CreatedAt => CursorValue::Number(row.ident.created_at.millis()),
            SortColumn::UpdatedAt => CursorValue::Number(row.ident.updated_at.millis()),
        };
        Cursor {
            sort,
            value,
            id: row.id.as_str().to_owned(),
        }
    }

    /// The cursor as URL-safe text.
    pub fn encode(&self) -> String {
        let json = serde_json::json!([
            sort_name(self.sort.column),
            self.sort.direction == SortDirection::Asc,
            self.value,
            self.id
        ])
        .to_string();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// A cursor from `encode` for the same `sort`; `None` for anything else
    /// (answer it as a bad request).
    pub fn parse(s: &str, sort: Sort) -> Option<Cursor> {
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()?;
        let (column, asc, value, id): (String, bool, CursorValue, String) =
            serde_json::from_slice(&json).ok()?;
        let cursor = Cursor {
            sort: Sort {
                column: SortColumn::parse(&column)?,
                direction: if asc {
                    SortDirection::Asc
                } else {
                    SortDirection::Desc
                },
            },
            value,
            id,
        };
        (cursor.sort == sort && cursor.fits()).then_some(cursor)
    }

    /// Whether the value has the kind its sort column has.
    fn fits(&self) -> bool {
        let text = matches!(self.sort.column, SortColumn::Id | SortColumn::Description);
        matches!(
            (&self.value, text),
            (CursorValue::Text(_), true) | (CursorValue::Number(_), false)
        )
    }
}

/// A page of identifications and where the next one begins.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub rows: Vec<Identification>,
    /// `None` on the last page.
    pub next: Option<Cursor>,
}

/// A row as read, with the status it has in the table (which the sort uses).
struct Row {
    ident: Identification,
    stored_status: Status,
}

impl std::ops::Deref for Row {
    type Target = Identification;
    fn deref(&self) -> &Identification {
        &self.ident
    }
}

/// The sort column as the API names it.
fn sort_name(column: SortColumn) -> &'static str {
    match column {
        SortColumn::Id => "id",
        SortColumn::Description => "description",
        SortColumn::Status => "status",
        SortColumn::IsRequest => "isRequest",
        SortColumn::CreatedAt => "createdAt",
        SortColumn::UpdatedAt => "updatedAt",
    }
}

/// The sort column as SQL: descriptions without one sort as empty.
fn sort_sql(column: SortColumn, postgres: bool) -> &'static str {
    match column {
        SortColumn::Id => "id",
        SortColumn::Description if postgres => "COALESCE(description, ''::bytea)",
        SortColumn::Description => "COALESCE(description, '')",
        SortColumn::Status => "status",
        // Booleans compare as 0 and 1 on both engines this way.
        SortColumn::IsRequest if postgres => "CAST(is_request AS INTEGER)",
        SortColumn::IsRequest => "is_request",
        SortColumn::CreatedAt => "created_at",
        SortColumn::UpdatedAt => "updated_at",
    }
}

/// `WHERE …` for one organisation and `filter`, as the API's list reads
/// statuses (open or pending past expiry is expired).
fn push_filter<'a, DB: Database>(
    b: &mut QueryBuilder<'a, DB>,
    postgres: bool,
    organisation_id: &'a OrganisationId,
    filter: &'a IdentificationFilter,
    now: i64,
) where
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Vec<u8>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    b.push(" WHERE organisation_id = ")
        .push_bind(organisation_id.as_str());
    if let Some(mode) = filter.mode {
        b.push(" AND mode = ").push_bind(mode.as_str());
    }
    if let Some(from) = filter.created_from {
        b.push(" AND created_at >= ").push_bind(from.millis());
    }
    if let Some(before) = filter.created_before {
        b.push(" AND created_at < ").push_bind(before.millis());
    }
    if let Some(proofme) = &filter.proofme {
        b.push(" AND proofme_id = ").push_bind(proofme.as_str());
    }
    if let Some(reason) = filter.failure_reason {
        b.push(" AND failure_reason = ").push_bind(reason.as_str());
    }
    match filter.status {
        None => {}
        Some(s @ (Status::Open | Status::Pending)) => {
            b.push(" AND status = ").push_bind(s.as_i64());
            b.push(" AND expires_at > ").push_bind(now);
        }
        Some(Status::Expired) => {
            b.push(" AND (status = ")
                .push_bind(Status::Expired.as_i64());
            b.push(" OR (status IN (0, 1) AND expires_at <= ")
                .push_bind(now);
            b.push("))");
        }
        Some(s) => {
            b.push(" AND status = ").push_bind(s.as_i64());
        }
    }
    // Compared as plain strings, never as LIKE patterns: a search for `50%`
    // or `a_b` finds exactly that, and a NUL cannot end the pattern early.
    // The id matches by its beginning: a range of the id order (bytes on
    // both engines), as every id that begins with `q` sorts from `q` up to
    // `q` followed by the last character there is. The description matches
    // anywhere with ASCII case folded, the search text folded once here (on
    // PostgreSQL in the description's folded copy, as it is bytes there).
    if let Some(q) = filter.search() {
        b.push(" AND ((id >= ")
            .push_bind(q)
            .push(" AND id < ")
            .push_bind(format!("{q}\u{10FFFF}"))
            .push(")");
        if postgres {
            b.push(" OR position(")
                .push_bind(folded(q))
                .push(" in description_folded) > 0)");
        } else {
            b.push(" OR instr(lower(description), ")
                .push_bind(q.to_ascii_lowercase())
                .push(") > 0)");
        }
    }
}

impl Store {
    /// A page of one organisation's identifications matching `filter`, in
    /// `sort` order. Pass the page's `next` as the following page's `after`.
    pub async fn search_identifications(
        &self,
        organisation_id: &OrganisationId,
        filter: &IdentificationFilter,
        sort: Sort,
        page: &Page,
    ) -> Result<SearchPage, StoreError> {
        if page.after.as_ref().is_some_and(|c| c.sort != sort) {
            // A cursor of another order names no place in this one.
            return Ok(SearchPage {
                rows: Vec::new(),
                next: None,
            });
        }
        let limit = page.limit.clamp(1, MAX_PAGE_ROWS);
        let offset = page.offset.max(0);
        let now = self.clock.now().millis();
        let (dir, cmp) = match sort.direction {
            SortDirection::Asc => ("ASC", ">"),
            SortDirection::Desc => ("DESC", "<"),
        };
        let rows: Vec<IdentificationRow> = on_db!(&self.db, db, on => {
            let column = sort_sql(sort.column, on::POSTGRES);
            let mut b = QueryBuilder::<on::Driver>::new(format!(
                "SELECT {COLUMNS} FROM identifications"
            ));
            push_filter(&mut b, on::POSTGRES, organisation_id, filter, now);
            if let Some(after) = &page.after {
                // A row value comparison: (column, id) after the cursor's.
                b.push(format!(" AND ({column}, id) {cmp} ("));
                match (&after.value, sort.column) {
                    (CursorValue::Text(t), SortColumn::Description) if on::POSTGRES => {
                        b.push_bind(t.as_bytes().to_vec());
                    }
                    (CursorValue::Text(t), _) => {
                        b.push_bind(t.as_str());
                    }
                    (CursorValue::Number(n), _) => {
                        b.push_bind(*n);
                    }
                }
                b.push(", ").push_bind(after.id.as_str()).push(")");
            }
            b.push(format!(" ORDER BY {column} {dir}, id {dir}"));
            // One more than asked: whether there is a next page.
            b.push(" LIMIT ").push_bind(limit + 1);
            b.push(" OFFSET ").push_bind(offset);
            b.build_query_as().fetch_all(&db.reader).await?
        });
        let now = Timestamp::from_millis(now);
        let mut rows = rows
            .into_iter()
            .map(|r| {
                Identification::try_from(r).map(|i| Row {
                    stored_status: i.status,
                    ident: i.as_of(now),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = if more {
            rows.last().map(|r| Cursor::of(r, sort))
        } else {
            None
        };
        Ok(SearchPage {
            rows: rows.into_iter().map(|r| r.ident).collect(),
            next,
        })
    }

    /// How many of one organisation's identifications match `filter`.
    pub async fn count_identifications(
        &self,
        organisation_id: &OrganisationId,
        filter: &IdentificationFilter,
    ) -> Result<i64, StoreError> {
        let now = self.clock.now().millis();
        let total = on_db!(&self.db, db, on => {
            if filter.by_mode_only() {
                // Only organisation and mode: the running counts answer that.
                let mut b = QueryBuilder::<on::Driver>::new(
                    "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM identification_counts \
                     WHERE organisation_id = ",
                );
                b.push_bind(organisation_id.as_str());
                if let Some(mode) = filter.mode {
                    b.push(" AND mode = ").push_bind(mode.as_str());
                }
                b.build_query_scalar().fetch_one(&db.reader).await?
            } else {
                let mut b = QueryBuilder::<on::Driver>::new("SELECT COUNT(*) FROM identifications");
                push_filter(&mut b, on::POSTGRES, organisation_id, filter, now);
                b.build_query_scalar().fetch_one(&db.reader).await?
            }
        });
        Ok(total)
    }
}
