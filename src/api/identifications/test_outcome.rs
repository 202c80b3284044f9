//! `POST /v1/identification/{id}/test-outcome`: the customer's side, simulated.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use utoipa::ToSchema;

use super::{IdentificationResponse, change, own_identification, parse_id};
use crate::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::input::{IdPath, read_body};
use crate::domain::{ChangeCause, Mode, Status};

/// Simulate the customer's side in test mode.
///
/// `pending` simulates the wallet connecting; the others end the
/// identification as MyPage's test panel would. Sends the webhook as a real
/// change would.
#[utoipa::path(
    post,
    path = "/v1/identification/{id}/test-outcome",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    request_body(content(
        (TestOutcomeRequest = "application/json"),
        (TestOutcomeRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The updated identification", body = IdentificationResponse),
        (status = 403, description = "Live identifications cannot be completed this way", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already final", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown outcome", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub async fn test_outcome(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IdentificationResponse>, ApiError> {
    let id = parse_id(&id)?;
    let fields = read_body(&headers, body, &["status"])?;
    let next = fields
        .text("status")?
        .ok_or_else(|| ApiError::invalid("status", "status is required"))?;
    let next = Status::parse(next)
        .filter(|s| {
            matches!(
                s,
                Status::Pending
                    | Status::Verified
                    | Status::Failed
                    | Status::Canceled
                    | Status::Expired
            )
        })
        .ok_or_else(|| {
            ApiError::invalid(
                "status",
                "status must be pending, verified, failed, canceled or expired",
            )
        })?;
    let current = own_identification(&state, &caller.0, id.as_str()).await?;
    if current.mode == Mode::Live {
        return Err(ApiError::Forbidden(
            "Test outcomes are only for test identifications; a live one is completed by the customer's wallet.".into(),
        ));
    }
    let outcome = state
        .lifecycle
        .test_outcome_change(&current, next, ChangeCause::ApiTestOutcome)
        .await?;
    let updated = change(&state, &caller, &id, outcome).await?;
    Ok(Json(IdentificationResponse::new(
        &updated,
        &state.config.public_url,
    )))
}

/// The body of a test outcome.
#[allow(dead_code)] // documents the body; it is read by `Fields`
#[derive(ToSchema)]
pub struct TestOutcomeRequest {
    /// `pending`, `verified`, `failed`, `canceled` or `expired`.
    #[schema(example = "verified")]
    status: String,
}
