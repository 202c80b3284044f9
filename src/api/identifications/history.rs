//! `GET /v1/identification/{id}/history`: every status change.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::own_identification;
use crate::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::input::IdPath;
use crate::api::openapi::word;
use crate::domain::Status;

/// One entry of the status history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChangeResponse {
    /// The status it changed to.
    #[schema(value_type = word::StatusCode)]
    pub status: &'static str,
    #[schema(value_type = word::StatusName)]
    pub status_name: &'static str,
    /// The status before; null for the creation.
    #[schema(value_type = Option<word::StatusCode>, required = true)]
    pub previous_status: Option<&'static str>,
    #[schema(value_type = word::ChangeCauseName)]
    pub cause: &'static str,
    #[schema(format = DateTime)]
    pub changed_at: String,
}

/// The status history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryResponse {
    pub id: String,
    /// Oldest first; the first entry is the creation.
    pub rows: Vec<StatusChangeResponse>,
}

/// Get the status history of an identification.
///
/// Every status change with its time and cause, oldest first; the first entry
/// is the creation.
#[utoipa::path(
    get,
    path = "/v1/identification/{id}/history",
    operation_id = "getStatusHistory",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "The history, oldest first", body = HistoryResponse),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn history(
    State(state): State<AppState>,
    Caller(key): Caller,
    IdPath(id): IdPath,
) -> Result<Json<HistoryResponse>, ApiError> {
    let id = own_identification(&state, &key, &id).await?.id;
    let rows = state
        .store
        .status_history(&id)
        .await?
        .into_iter()
        .map(|c| StatusChangeResponse {
            status: c.to.code(),
            status_name: c.to.name(),
            previous_status: c.from.map(Status::code),
            cause: c.cause.as_str(),
            changed_at: c.at.to_rfc3339(),
        })
        .collect();
    Ok(Json(HistoryResponse {
        id: id.to_string(),
        rows,
    }))
}
