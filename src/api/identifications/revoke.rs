//! `DELETE /v1/identification/{id}`: revoke.

use axum::Json;
use axum::extract::State;

use super::{MessageResponse, change, parse_id};
use crate::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::input::IdPath;
use crate::domain::{ChangeCause, Status};
use crate::store::Change;

/// Revoke an identification.
///
/// An open or pending identification becomes revoked and can no longer be
/// completed; a final one cannot be revoked (409).
#[utoipa::path(
    delete,
    path = "/v1/identification/{id}",
    operation_id = "revokeIdentification",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "Revoked", body = MessageResponse,
         example = json!({"message": "REVOKE_SUCCESSFUL"})),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already final", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
) -> Result<Json<MessageResponse>, ApiError> {
    let id = parse_id(&id)?;
    change(
        &state,
        &caller,
        &id,
        Change::to(Status::Revoked, ChangeCause::ApiRevoke),
    )
    .await?;
    Ok(Json(MessageResponse {
        message: "REVOKE_SUCCESSFUL",
        count: None,
    }))
}
