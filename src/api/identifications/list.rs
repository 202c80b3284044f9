//! `GET /v1/identification`: a page of the organisation's identifications.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::IdentificationResponse;
use crate::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::openapi::word;
use crate::domain::{Mode, Status};
use crate::http_common::Fields;
use crate::store::{ListQuery, SortColumn, SortDirection};

/// Query parameters of the list endpoint.
#[allow(dead_code)] // documents the query; it is read by `Fields`
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ListParams {
    /// How many rows to return.
    #[param(minimum = 1, maximum = 250, default = 50)]
    limit: Option<i64>,
    /// Rows to skip.
    #[param(minimum = 0, default = 0)]
    offset: Option<i64>,
    /// The column to sort by; default `createdAt`.
    #[param(value_type = Option<word::SortColumn>)]
    sort_column: Option<String>,
    /// The direction; default `DESC`.
    #[param(value_type = Option<word::SortDirection>)]
    sort_direction: Option<String>,
    /// Matches part of the id or the description, literally (no wildcards),
    /// ignoring ASCII case.
    #[param(max_length = 255)]
    search: Option<String>,
    /// Only identifications with this status, by code (`2`) or word (`verified`).
    #[param(value_type = Option<word::StatusFilter>)]
    status: Option<String>,
    /// Only identifications of this mode (a test key sees test ones only).
    #[param(value_type = Option<word::Mode>)]
    mode: Option<String>,
}

/// A page of identifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<'a> {
    /// All identifications that match, across pages.
    #[schema(minimum = 0)]
    pub count: i64,
    pub rows: Vec<IdentificationResponse<'a>>,
}

const LIST_FIELDS: &[&str] = &[
    "limit",
    "offset",
    "sortColumn",
    "sortDirection",
    "search",
    "status",
    "mode",
];

/// The longest `search`: as long as a description can be.
const MAX_SEARCH_CHARS: usize = 255;

fn parse_list_query(fields: &Fields) -> Result<ListQuery, ApiError> {
    let number = |name: &'static str, default: i64, min: i64, max: i64| -> Result<i64, ApiError> {
        match fields.text(name)? {
            None => Ok(default),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        name,
                        format!("{name} must be a whole number from {min} to {max}"),
                    )
                }),
        }
    };
    let choice = |name: &'static str,
                  expected: &str,
                  parse: &dyn Fn(&str) -> bool|
     -> Result<(), ApiError> {
        match fields.text(name)? {
            Some(s) if !parse(s) => Err(ApiError::invalid(
                name,
                format!("{name} must be {expected}"),
            )),
            _ => Ok(()),
        }
    };
    choice(
        "sortColumn",
        &format!("one of {}", word::SORT_COLUMNS.join(", ")),
        &|s| SortColumn::parse(s).is_some(),
    )?;
    choice("sortDirection", "ASC or DESC", &|s| {
        SortDirection::parse(s).is_some()
    })?;
    choice("status", "a status code (0 to 6) or name", &|s| {
        Status::parse(s).is_some()
    })?;
    choice("mode", "test or live", &|s| Mode::parse(s).is_some())?;
    Ok(ListQuery {
        limit: number("limit", 50, 1, 250)?,
        offset: number("offset", 0, 0, i64::MAX)?,
        sort_column: fields
            .text("sortColumn")?
            .and_then(SortColumn::parse)
            .unwrap_or(SortColumn::CreatedAt),
        sort_direction: fields
            .text("sortDirection")?
            .and_then(SortDirection::parse)
            .unwrap_or(SortDirection::Desc),
        search: fields
            .text("search")?
            .map(|s| {
                if s.chars().count() > MAX_SEARCH_CHARS {
                    return Err(ApiError::invalid(
                        "search",
                        format!("search must be at most {MAX_SEARCH_CHARS} characters"),
                    ));
                }
                Ok(s.to_owned())
            })
            .transpose()?,
        status: fields.text("status")?.and_then(Status::parse),
        mode: fields.text("mode")?.and_then(Mode::parse),
    })
}

/// List your organisation's identifications.
///
/// A page of the identifications your key may see, newest first unless
/// sorted otherwise, with the count of all that match.
#[utoipa::path(
    get,
    path = "/v1/identification",
    operation_id = "listIdentifications",
    tag = "identifications",
    params(ListParams),
    responses(
        (status = 200, description = "A page of identifications", body = ListResponse),
        (status = 400, description = "The query string is not valid UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter breaks its rule", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(key): Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let fields = Fields::from_form(query.unwrap_or_default().as_bytes(), LIST_FIELDS)?;
    let mut q = parse_list_query(&fields)?;
    // A test key lists test identifications only, counts included.
    if key.mode == Mode::Test {
        if q.mode == Some(Mode::Live) {
            return Ok(Json(ListResponse {
                count: 0,
                rows: Vec::new(),
            })
            .into_response());
        }
        q.mode = Some(Mode::Test);
    }
    let (count, rows) = state
        .store
        .list_identifications(&key.organisation_id, &q)
        .await?;
    let public_url = &state.config.public_url;
    Ok(Json(ListResponse {
        count,
        rows: rows
            .iter()
            .map(|i| IdentificationResponse::new(i, public_url))
            .collect(),
    })
    .into_response())
}
