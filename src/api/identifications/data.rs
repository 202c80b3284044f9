//! `GET` and `DELETE /v1/identification/data/{id}`: the shared attributes,
//! and their erasure.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::{MessageResponse, not_found, own_identification, parse_id};
use crate::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::input::IdPath;
use crate::api::openapi::word;
use crate::domain::Status;
use crate::store::SealedData;

/// The attributes the customer shared.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataResponse {
    #[schema(example = "id_4Fq9ZtK2mB7xL0pR8sV3wY")]
    pub id: String,
    #[schema(value_type = word::StatusCode)]
    pub status: &'static str,
    #[schema(value_type = word::StatusName)]
    pub status_name: &'static str,
    /// The shared attributes by credential once verified; null before, after
    /// erasure, and when they are encrypted end to end (`encryptedData`).
    #[schema(value_type = Option<word::SharedData>, required = true,
        example = json!({"OLDER_THAN_18": true}))]
    pub data: Option<serde_json::Value>,
    /// For an organisation with an age recipient: the same JSON as an armored
    /// age file that only its identity opens (`age -d -i key.txt`); else null.
    #[schema(
        required = true,
        example = "-----BEGIN AGE ENCRYPTED FILE-----\n…\n-----END AGE ENCRYPTED FILE-----\n"
    )]
    pub encrypted_data: Option<String>,
}

/// Get the attributes the customer shared.
///
/// Null until the identification is verified, and after erasure.
#[utoipa::path(
    get,
    path = "/v1/identification/data/{id}",
    operation_id = "getIdentificationData",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "The shared data", body = DataResponse),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_data(
    State(state): State<AppState>,
    Caller(key): Caller,
    IdPath(id): IdPath,
) -> Result<Json<DataResponse>, ApiError> {
    let id = parse_id(&id)?;
    let (ident, data) = state
        .store
        .shared_data(&key.organisation_id, &id)
        .await?
        .filter(|(ident, _)| key.sees(ident.mode))
        .ok_or_else(not_found)?;
    let (data, encrypted_data) = match data.filter(|_| ident.status == Status::Verified) {
        None => (None, None),
        Some(SealedData::Age(armored)) => (None, Some(armored)),
        Some(SealedData::DataKey(sealed)) => {
            let plaintext = state
                .data_key
                .open(&sealed, ident.id.as_str())
                .map_err(|e| ApiError::Internal(format!("shared data: {e}")))?;
            let value = serde_json::from_slice(&plaintext)
                .map_err(|e| ApiError::Internal(format!("shared data is not JSON: {e}")))?;
            (Some(value), None)
        }
    };
    Ok(Json(DataResponse {
        id: ident.id.to_string(),
        status: ident.status.code(),
        status_name: ident.status.name(),
        data,
        encrypted_data,
    }))
}

/// Erase the attributes the customer shared.
///
/// Erases them for good, with their key (right to erasure).
#[utoipa::path(
    delete,
    path = "/v1/identification/data/{id}",
    operation_id = "deleteIdentificationData",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "Erased; count is how many records went (0 if none were held)", body = MessageResponse,
         example = json!({"message": "DELETED_SUCCESSFULLY", "count": 1})),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete_data(
    State(state): State<AppState>,
    Caller(key): Caller,
    IdPath(id): IdPath,
) -> Result<Json<MessageResponse>, ApiError> {
    let id = own_identification(&state, &key, &id).await?.id;
    let count = state.store.erase_shared_data(&id).await?;
    tracing::info!(id = %id.for_log(), count, "shared data erased");
    Ok(Json(MessageResponse {
        message: "DELETED_SUCCESSFULLY",
        count: Some(count),
    }))
}
