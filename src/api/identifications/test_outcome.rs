//! `POST /v1/identification/{id}/test-outcome`: the customer's side, simulated.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use utoipa::ToSchema;

use super::{IdentificationResponse, change, own_identification, parse_id};
use crate::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::input::{IdPath, read_body};
use crate::api::openapi::word::{TEST_OUTCOMES, TestOutcome};
use crate::domain::{ChangeCause, Mode, Status};

/// Simulate the customer's side of a test identification.
///
/// `pending` simulates the wallet connecting; the others end the
/// identification as MyPage's test panel would. Sends the webhook as a real
/// change would. The body is JSON; the same field as a form
/// (`status=verified`, schema `TestOutcomeForm`) is accepted too.
#[utoipa::path(
    post,
    path = "/v1/identification/{id}/test-outcome",
    operation_id = "setTestOutcome",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    // JSON only: a generated client then takes the body as required. (The
    // form is documented as its own schema, `TestOutcomeForm`.)
    request_body(content((TestOutcomeJson = "application/json"))),
    responses(
        (status = 200, description = "The updated identification", body = IdentificationResponse),
        (status = 400, description = "Unreadable body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Live identifications cannot be completed this way", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already final, or cannot become this status", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body neither JSON nor a form", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No status, or not one of the outcomes", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn test_outcome(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let fields = read_body(&headers, body, TEST_OUTCOME_FIELDS)?;
    let next = fields
        .text("status")?
        .ok_or_else(|| ApiError::invalid("status", "status is required"))?;
    let next = Status::parse(next)
        .filter(|s| TEST_OUTCOMES.contains(s))
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
    ))
    .into_response())
}

/// The fields a test outcome is read for.
pub const TEST_OUTCOME_FIELDS: &[&str] = &["status"];

/// The body of a test outcome as JSON.
#[allow(dead_code)] // documents the body; it is read by `Fields`
#[derive(ToSchema)]
pub struct TestOutcomeJson {
    #[schema(value_type = TestOutcome)]
    status: String,
}

/// The body of a test outcome as a form.
#[allow(dead_code)] // documents the body; it is read by `Fields`
#[derive(ToSchema)]
pub struct TestOutcomeForm {
    #[schema(value_type = TestOutcome)]
    status: String,
}
