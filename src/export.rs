//! The CSV exports of an organisation's identifications and of its audit
//! log: the dashboard table's filter and order, every row, streamed. Rows are
//! read in keyset pages of `EXPORT_PAGE_ROWS`, each query on its own pooled
//! connection, and each page becomes one chunk of the body: memory stays the
//! same however many rows there are, and no connection is held while the
//! client reads.

use axum::body::Bytes;
use futures::Stream;

use crate::domain::{Identification, OrganisationId};
use crate::store::{
    AuditCursor, AuditEvent, AuditFilter, Cursor, IdentificationFilter, Page, Sort, Store,
    StoreError,
};

/// The header row (RFC 4180 ends every row with CRLF). Columns are only
/// ever added at the end, so that a reader by position keeps working.
pub const CSV_HEADER: &str = "id,description,status,statusName,mode,createdAt,updatedAt,metadata,\
     failureReason,proofmeId,proofmeRevision";

/// Rows per query, and so per chunk.
pub const EXPORT_PAGE_ROWS: i64 = 500;

/// The content type of the export.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// The CSV of the organisation's identifications that match `filter`, in
/// `sort` order: the header row, then one row per identification. Each item
/// is one page of rows (the first also holds the header), ready for
/// `axum::body::Body::from_stream`. An error ends the stream.
pub fn identifications_csv(
    store: Store,
    organisation_id: OrganisationId,
    filter: IdentificationFilter,
    sort: Sort,
) -> impl Stream<Item = Result<Bytes, StoreError>> + Send + 'static {
    // `None` once the last page was sent.
    let start: Option<Option<Cursor>> = Some(None);
    futures::stream::try_unfold(start, move |state| {
        let store = store.clone();
        let organisation_id = organisation_id.clone();
        let filter = filter.clone();
        async move {
            let Some(after) = state else {
                return Ok(None);
            };
            let first = after.is_none();
            let page = store
                .search_identifications(
                    &organisation_id,
                    &filter,
                    sort,
                    &Page {
                        after,
                        offset: 0,
                        limit: EXPORT_PAGE_ROWS,
                    },
                )
                .await?;
            let mut out = String::with_capacity(page.rows.len() * 160 + 80);
            if first {
                out.push_str(CSV_HEADER);
                out.push_str("\r\n");
            }
            for ident in &page.rows {
                push_row(&mut out, ident);
            }
            let next = page.next.map(Some);
            Ok(Some((Bytes::from(out), next)))
        }
    })
}

/// The header row of the audit log export.
pub const AUDIT_CSV_HEADER: &str = "at,actorEmail,actorUserId,action,target,detail";

/// The CSV of the organisation's audit events that match `filter`, newest
/// first, streamed in keyset pages as `identifications_csv` is.
pub fn audit_csv(
    store: Store,
    organisation_id: OrganisationId,
    filter: AuditFilter,
) -> impl Stream<Item = Result<Bytes, StoreError>> + Send + 'static {
    // `None` once the last page was sent.
    let start: Option<Option<AuditCursor>> = Some(None);
    futures::stream::try_unfold(start, move |state| {
        let store = store.clone();
        let organisation_id = organisation_id.clone();
        let filter = filter.clone();
        async move {
            let Some(after) = state else {
                return Ok(None);
            };
            let first = after.is_none();
            let rows = store
                .audit()
                .list(&organisation_id, &filter, after, 0, EXPORT_PAGE_ROWS)
                .await?;
            let mut out = String::with_capacity(rows.len() * 120 + 64);
            if first {
                out.push_str(AUDIT_CSV_HEADER);
                out.push_str("\r\n");
            }
            for event in &rows {
                push_audit_row(&mut out, event);
            }
            let full = rows.len() as i64 == EXPORT_PAGE_ROWS;
            let next = rows.last().filter(|_| full).map(|e| Some(e.cursor()));
            Ok(Some((Bytes::from(out), next)))
        }
    })
}

/// One audit event as a CSV row.
fn push_audit_row(out: &mut String, e: &AuditEvent) {
    let at = e.at.to_rfc3339();
    let cells = [
        at.as_str(),
        e.actor.email.as_deref().unwrap_or(""),
        e.actor.user_id.as_ref().map_or("", |u| u.as_str()),
        e.action.as_str(),
        e.target.as_deref().unwrap_or(""),
        &e.detail,
    ];
    for (n, cell) in cells.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_cell(out, cell);
    }
    out.push_str("\r\n");
}

/// One identification as a CSV row.
fn push_row(out: &mut String, i: &Identification) {
    let metadata = i
        .metadata
        .as_ref()
        .map(|m| m.to_json_string())
        .unwrap_or_default();
    let cells = [
        i.id.as_str(),
        i.description.as_ref().map_or("", |d| d.as_str()),
        i.status.code(),
        i.status.name(),
        i.mode.as_str(),
        &i.created_at.to_rfc3339(),
        &i.updated_at.to_rfc3339(),
        &metadata,
        i.failure_reason.map_or("", |r| r.as_str()),
        i.proofme_id.as_str(),
        &i.proofme_revision.to_string(),
    ];
    for (n, cell) in cells.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_cell(out, cell);
    }
    out.push_str("\r\n");
}

/// A cell, safe to open in a spreadsheet: text that a spreadsheet would take
/// for a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return)
/// gets a leading `'`; a cell holding a comma, quote or line break is quoted,
/// with its quotes doubled (RFC 4180).
pub fn push_cell(out: &mut String, cell: &str) {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = cell.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    if quoted {
        for c in cell.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

#[cfg(test)]
mod tests {
    use super::push_cell;

    fn cell(s: &str) -> String {
        let mut out = String::new();
        push_cell(&mut out, s);
        out
    }

    #[test]
    fn plain_text_stays_as_it_is() {
        assert_eq!(cell("Order 42"), "Order 42");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("{\"a\":1,\"b\":2}"), "\"{\"\"a\"\":1,\"\"b\"\":2}\"");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@cmd"), "'@cmd");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(
            cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
    }
}
