//! `GET /v1/identification/{id}`: one identification.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::{IdentificationResponse, own_identification};
use crate::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::input::IdPath;

/// Get an identification.
///
/// The identification as it is now; an open or pending one past `expiresAt`
/// reads as expired.
#[utoipa::path(
    get,
    path = "/v1/identification/{id}",
    operation_id = "getIdentification",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id (`id_…`)")),
    responses(
        (status = 200, description = "The identification", body = IdentificationResponse),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(key): Caller,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let ident = own_identification(&state, &key, &id).await?;
    Ok(Json(IdentificationResponse::new(
        &ident,
        &state.config.public_url,
    ))
    .into_response())
}
