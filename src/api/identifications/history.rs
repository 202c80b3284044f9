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
use crate::domain::Status;

/// One entry of the status history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChangeResponse {
    /// The status code it changed to.
    #[schema(example = "2")]
    pub status: &'static str,
    #[schema(example = "verified")]
    pub status_name: &'static str,
    /// The status before; null for the creation.
    pub previous_status: Option<&'static str>,
    /// `created`, `api_test_outcome`, `mypage_test_outcome`, `mypage_cancel`,
    /// `api_revoke`, `expiry` or `wallet`.
    #[schema(example = "mypage_test_outcome")]
    pub cause: &'static str,
    pub changed_at: String,
}

/// The status history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryResponse {
    pub id: String,
    /// Oldest first; the first entry is the creation.
    pub rows: Vec<StatusChangeResponse>,
}

/// The status history of an identification: every change with its time and cause.
#[utoipa::path(
    get,
    path = "/v1/identification/{id}/history",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "The history, oldest first", body = HistoryResponse),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
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
