use super::{Engine, Store, StoreError, corrupt};
use crate::domain::{
    ApiKeyId, Description, FailureReason, HttpUrl, Identification, IdentificationId, Locale,
    Metadata, Mode, OrganisationId, ProofmeId, Status, Timestamp,
};
use sqlx::{Database, QueryBuilder};
use std::time::Duration;

// SQLite's group commit (see `sqlite::group_commit`) runs these.
pub(super) use super::tx::on_sqlite::{idempotent_outcome, insert_idempotency, insert_new};

/// How long an idempotency key holds its first response.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// The response stored under an idempotency key, written in the same transaction
/// as the identification it describes: either both exist or neither does.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub api_key_id: ApiKeyId,
    pub key: String,
    pub request_sha256: String,
    pub response_status: u16,
    pub response_body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The key was used before with the same request: here is the first response.
    Replay {
        status: u16,
        body: String,
    },
    /// The key was used before with a different request.
    KeyReused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Id,
    Description,
    Status,
    IsRequest,
    CreatedAt,
    UpdatedAt,
}

impl SortColumn {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "id" => Self::Id,
            "description" => Self::Description,
            "status" => Self::Status,
            "isRequest" => Self::IsRequest,
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            _ => return None,
        })
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Description => "description",
            Self::Status => "status",
            Self::IsRequest => "is_request",
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Asc,
    Desc,
}

impl SortDirection {
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("asc") {
            Some(Self::Asc)
        } else if s.eq_ignore_ascii_case("desc") {
            Some(Self::Desc)
        } else {
            None
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Asc => "ASC",
            Self::Desc => "DESC",
        }
    }
}

/// A page of one organisation's identifications.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub limit: i64,
    pub offset: i64,
    pub sort_column: SortColumn,
    pub sort_direction: SortDirection,
    pub search: Option<String>,
    pub status: Option<Status>,
    pub mode: Option<Mode>,
}

#[derive(sqlx::FromRow)]
pub(super) struct IdentificationRow {
    id: String,
    organisation_id: String,
    proofme_id: String,
    proofme_revision: i64,
    mode: String,
    status: i64,
    description: Option<StoredText>,
    is_request: bool,
    metadata: Option<String>,
    redirect_url: String,
    webhook_url: Option<String>,
    locale: Option<String>,
    scanned_at: Option<i64>,
    failure_reason: Option<String>,
    expires_at: i64,
    created_at: i64,
    updated_at: i64,
}

/// A row as `json_array({COLUMNS})` writes it (booleans are 0 or 1 there).
#[derive(serde::Deserialize)]
struct JsonRow(
    String,
    String,
    String,
    i64,
    String,
    i64,
    Option<String>,
    i64,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
    i64,
    i64,
);

impl From<JsonRow> for IdentificationRow {
    fn from(r: JsonRow) -> Self {
        IdentificationRow {
            id: r.0,
            organisation_id: r.1,
            proofme_id: r.2,
            proofme_revision: r.3,
            mode: r.4,
            status: r.5,
            description: r.6.map(StoredText),
            is_request: r.7 != 0,
            metadata: r.8,
            redirect_url: r.9,
            webhook_url: r.10,
            locale: r.11,
            scanned_at: r.12,
            failure_reason: r.13,
            expires_at: r.14,
            created_at: r.15,
            updated_at: r.16,
        }
    }
}

/// A description as stored: TEXT on SQLite; BYTEA on PostgreSQL, whose text
/// cannot hold the NUL a description may contain (it is kept as sent).
pub(super) struct StoredText(String);

impl sqlx::Type<sqlx::Sqlite> for StoredText {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for StoredText {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(StoredText(<String as sqlx::Decode<sqlx::Sqlite>>::decode(
            value,
        )?))
    }
}

impl sqlx::Type<sqlx::Postgres> for StoredText {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <Vec<u8> as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for StoredText {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let bytes = <Vec<u8> as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Ok(StoredText(String::from_utf8(bytes)?))
    }
}

/// Text with ASCII letters in lower case, as bytes: what a search compares on
/// PostgreSQL (SQLite's `lower()` also changes ASCII only).
pub(super) fn folded(s: &str) -> Vec<u8> {
    s.as_bytes().to_ascii_lowercase()
}

pub(super) const COLUMNS: &str = "id, organisation_id, proofme_id, proofme_revision, mode, status, description, is_request, \
    metadata, redirect_url, webhook_url, locale, scanned_at, failure_reason, expires_at, created_at, \
    updated_at";

impl TryFrom<IdentificationRow> for Identification {
    type Error = StoreError;

    fn try_from(r: IdentificationRow) -> Result<Self, StoreError> {
        let metadata = r
            .metadata
            .map(Metadata::from_stored)
            .transpose()
            .map_err(|e| corrupt("metadata", e))?;
        let url = |s: &str| HttpUrl::from_stored(s).map_err(|e| corrupt("url", e));
        Ok(Identification {
            id: IdentificationId::from_trusted(r.id),
            organisation_id: OrganisationId::from_trusted(r.organisation_id),
            proofme_id: ProofmeId::from_trusted(r.proofme_id),
            proofme_revision: r.proofme_revision,
            mode: Mode::parse(&r.mode).ok_or_else(|| corrupt("mode", &r.mode))?,
            status: Status::from_i64(r.status).ok_or_else(|| corrupt("status", r.status))?,
            description: r.description.map(|d| Description::truncating(&d.0)),
            is_request: r.is_request,
            metadata,
            redirect_url: url(&r.redirect_url)?,
            webhook_url: r.webhook_url.as_deref().map(url).transpose()?,
            locale: r.locale.map(Locale::from_trusted),
            scanned_at: r.scanned_at.map(Timestamp::from_millis),
            failure_reason: r
                .failure_reason
                .map(|f| FailureReason::parse(&f).ok_or_else(|| corrupt("failure reason", &f)))
                .transpose()?,
            expires_at: Timestamp::from_millis(r.expires_at),
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

impl Store {
    /// Stores a new identification, and with it the idempotency record if any, in
    /// one transaction. An idempotency key already used within the window is not
    /// stored again: its first response is handed back instead.
    ///
    /// On SQLite, concurrent creates are committed together (group commit, see
    /// `group_commit`): one commit is the expensive part of a write, and many
    /// creates can share it. On PostgreSQL each create is its own transaction,
    /// and the key's primary key settles a race between instances (see
    /// `create_on_postgres`). The answer comes only after the commit.
    pub async fn create_identification(
        &self,
        ident: &Identification,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<CreateOutcome, StoreError> {
        let outcome = match &self.db {
            Engine::Sqlite(db) => {
                db.group_commit
                    .submit(ident.clone(), idempotency.cloned())
                    .await?
            }
            Engine::Postgres(db) => create_on_postgres(db, ident, idempotency).await?,
        };
        if outcome == CreateOutcome::Created {
            self.caches.identification_written(ident);
        }
        Ok(outcome)
    }

    /// The stored outcome of an idempotency key used within the window, if any:
    /// a replay for the same request bytes, `KeyReused` for different ones.
    pub async fn find_idempotent_response(
        &self,
        api_key_id: &ApiKeyId,
        key: &str,
        request_sha256: &str,
    ) -> Result<Option<CreateOutcome>, StoreError> {
        let window_start = self.clock.now().millis() - IDEMPOTENCY_WINDOW.as_millis() as i64;
        let row: Option<(String, i64, String)> = on_db!(&self.db, db, on => {
            sqlx::query_as(&on::sql(
                "SELECT request_sha256, response_status, response_body FROM idempotency_keys \
                 WHERE api_key_id = ? AND idempotency_key = ? AND created_at >= ?",
            ))
            .bind(api_key_id.as_str())
            .bind(key)
            .bind(window_start)
            .fetch_optional(&db.reader)
            .await?
        });
        row.map(|(hash, status, body)| {
            if hash != request_sha256 {
                return Ok(CreateOutcome::KeyReused);
            }
            let status = u16::try_from(status).map_err(|_| corrupt("status", status))?;
            Ok(CreateOutcome::Replay { status, body })
        })
        .transpose()
    }

    /// Stores many identifications in one transaction, each with its creation
    /// history entry, as a bulk import (and the growth benchmark) needs.
    pub async fn insert_identifications(
        &self,
        idents: &[Identification],
    ) -> Result<(), StoreError> {
        on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            on::insert_new(&mut tx, &idents.iter().collect::<Vec<_>>()).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deletes idempotency keys older than the window. Returns how many.
    pub async fn prune_idempotency_keys(&self) -> Result<u64, StoreError> {
        let cutoff = self.clock.now().millis() - IDEMPOTENCY_WINDOW.as_millis() as i64;
        let done = on_db!(&self.db, db, on => {
            sqlx::query(&on::sql("DELETE FROM idempotency_keys WHERE created_at < ?"))
                .bind(cutoff)
                .execute(&db.writer)
                .await?
                .rows_affected()
        });
        Ok(done)
    }

    /// One organisation's identification. Another organisation's is `None`.
    pub async fn get_identification(
        &self,
        organisation_id: &OrganisationId,
        id: &IdentificationId,
    ) -> Result<Option<Identification>, StoreError> {
        Ok(self
            .find_identification(id)
            .await?
            .filter(|i| i.organisation_id == *organisation_id))
    }

    /// Any identification by id: for MyPage, where the id itself is the
    /// credential. As it reads now (see `Identification::as_of`).
    pub async fn find_identification(
        &self,
        id: &IdentificationId,
    ) -> Result<Option<Identification>, StoreError> {
        let generation = match self.caches.identification(id) {
            Ok(i) => return Ok(Some(i.as_of(self.clock.now()))),
            Err(generation) => generation,
        };
        let row: Option<IdentificationRow> = on_db!(&self.db, db, on => {
            sqlx::query_as(&on::sql(&format!(
                "SELECT {COLUMNS} FROM identifications WHERE id = ?"
            )))
            .bind(id.as_str())
            .fetch_optional(&db.reader)
            .await?
        });
        let Some(ident) = row.map(Identification::try_from).transpose()? else {
            return Ok(None);
        };
        self.caches.identification_read(generation, &ident);
        Ok(Some(ident.as_of(self.clock.now())))
    }

    /// The total matching `q` (ignoring paging) and the requested page.
    pub async fn list_identifications(
        &self,
        organisation_id: &OrganisationId,
        q: &ListQuery,
    ) -> Result<(i64, Vec<Identification>), StoreError> {
        fn filters<'a, DB: Database>(
            b: &mut QueryBuilder<'a, DB>,
            postgres: bool,
            organisation_id: &'a OrganisationId,
            q: &'a ListQuery,
            now: i64,
        ) where
            &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            Option<i64>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            Vec<u8>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        {
            b.push(" WHERE organisation_id = ")
                .push_bind(organisation_id.as_str());
            if let Some(mode) = q.mode {
                b.push(" AND mode = ").push_bind(mode.as_str());
            }
            // Open and pending rows past expiry read as expired; filter as they read.
            match q.status {
                None => {}
                Some(Status::Open | Status::Pending) => {
                    b.push(" AND status = ")
                        .push_bind(q.status.map(Status::as_i64));
                    b.push(" AND expires_at > ").push_bind(now);
                }
                Some(Status::Expired) => {
                    b.push(" AND (status = ")
                        .push_bind(Status::Expired.as_i64());
                    b.push(" OR (status IN (0, 1) AND expires_at <= ")
                        .push_bind(now);
                    b.push("))");
                }
                Some(status) => {
                    b.push(" AND status = ").push_bind(status.as_i64());
                }
            }
            // instr, not LIKE: LIKE reads its pattern only up to a NUL (so a
            // NUL matched every row) and refuses patterns over 50,000 bytes.
            // instr compares whole strings byte by byte, without wildcards;
            // lower() keeps LIKE's ASCII case-insensitivity. On PostgreSQL
            // the same is a byte search (position) in the description as
            // written with its ASCII letters in lower case (`folded`, a column
            // of its own there, as descriptions are bytes there).
            match &q.search {
                None => {}
                Some(search) if postgres => {
                    b.push(" AND (position(")
                        .push_bind(folded(search))
                        .push(" in convert_to(lower(id), 'UTF8')) > 0 OR position(")
                        .push_bind(folded(search))
                        .push(" in description_folded) > 0)");
                }
                Some(search) => {
                    b.push(" AND (instr(lower(id), lower(")
                        .push_bind(search.as_str())
                        .push(")) > 0 OR instr(lower(description), lower(")
                        .push_bind(search.as_str())
                        .push(")) > 0)");
                }
            }
        }

        let now = self.clock.now().millis();
        let dir = q.sort_direction.sql();
        // Ties (same second, same status) are broken by id so pages never overlap.
        let order = format!("{} {dir}, id {dir}", q.sort_column.sql());
        let (total, rows): (i64, Vec<IdentificationRow>) = on_db!(&self.db, db, on => {
            let total: i64 = if q.status.is_none() && q.search.is_none() {
                // Only organisation and mode: the running counts answer that.
                let mut count = QueryBuilder::<on::Driver>::new(
                    "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM identification_counts \
                     WHERE organisation_id = ",
                );
                count.push_bind(organisation_id.as_str());
                if let Some(mode) = q.mode {
                    count.push(" AND mode = ").push_bind(mode.as_str());
                }
                count.build_query_scalar().fetch_one(&db.reader).await?
            } else {
                let mut count =
                    QueryBuilder::<on::Driver>::new("SELECT COUNT(*) FROM identifications");
                filters(&mut count, on::POSTGRES, organisation_id, q, now);
                count.build_query_scalar().fetch_one(&db.reader).await?
            };
            let rows = if on::POSTGRES {
                let mut page = QueryBuilder::<on::Driver>::new(format!(
                    "SELECT {COLUMNS} FROM identifications"
                ));
                filters(&mut page, on::POSTGRES, organisation_id, q, now);
                page.push(format!(" ORDER BY {order}"));
                page.push(" LIMIT ").push_bind(q.limit);
                page.push(" OFFSET ").push_bind(q.offset);
                page.build_query_as().fetch_all(&db.reader).await?
            } else {
                // The page comes back as one row holding a JSON array of rows:
                // the SQLite driver hands rows over one by one between threads,
                // and for a page of 50 that hand-over cost more than the query.
                let mut page = QueryBuilder::<on::Driver>::new(format!(
                    "SELECT json_group_array(json_array({COLUMNS}) ORDER BY {order}) FROM \
                     (SELECT {COLUMNS} FROM identifications"
                ));
                filters(&mut page, on::POSTGRES, organisation_id, q, now);
                page.push(format!(" ORDER BY {order}"));
                page.push(" LIMIT ").push_bind(q.limit);
                page.push(" OFFSET ").push_bind(q.offset);
                page.push(")");
                let json: String = page.build_query_scalar().fetch_one(&db.reader).await?;
                let rows: Vec<JsonRow> =
                    serde_json::from_str(&json).map_err(|e| corrupt("page", e))?;
                rows.into_iter().map(IdentificationRow::from).collect()
            };
            (total, rows)
        });
        let now = Timestamp::from_millis(now);
        let rows = rows
            .into_iter()
            .map(|r| Identification::try_from(r).map(|i| i.as_of(now)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((total, rows))
    }
}

/// One create on PostgreSQL. Two instances may take the same idempotency key
/// at once: both find it free, and the second insert of the key waits for the
/// first transaction, then fails on the key's primary key. That create is
/// rolled back whole (its identification too) and tried once more, when it
/// finds the first one's record and answers as a retry would.
async fn create_on_postgres(
    db: &super::postgres::Engine,
    ident: &Identification,
    idempotency: Option<&IdempotencyRecord>,
) -> Result<CreateOutcome, StoreError> {
    use super::tx::on_postgres as on;
    let mut tries = 0;
    loop {
        tries += 1;
        let mut tx = db.begin_write().await?;
        if let Some(rec) = idempotency {
            if let Some(earlier) = on::idempotent_outcome(&mut tx, rec, ident.created_at).await? {
                return Ok(earlier);
            }
        }
        on::insert_new(&mut tx, &[ident]).await?;
        if let Some(rec) = idempotency {
            match on::insert_idempotency(&mut tx, rec, ident.created_at).await {
                Err(StoreError::Database(e)) if tries < 3 && is_unique_violation(&e) => {
                    tx.rollback().await?;
                    continue;
                }
                other => other?,
            }
        }
        tx.commit().await?;
        return Ok(CreateOutcome::Created);
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
