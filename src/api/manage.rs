//! The rest of `/v1/identification/{id}`: test outcomes, revoke, status
//! history, webhook deliveries, and the shared data with its erasure.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{ApiError, Problem};
use super::identifications::IdentificationResponse;
use super::input::{IdPath, read_body};
use crate::AppState;
use crate::domain::{ChangeCause, Identification, IdentificationId, Mode, Status, Timestamp};
use crate::store::{Change, Refusal, SealedData};

fn not_found() -> ApiError {
    ApiError::NotFound("There is no identification with this id.".into())
}

fn parse_id(id: &str) -> Result<IdentificationId, ApiError> {
    IdentificationId::parse(id).map_err(|_| not_found())
}

fn already_final(i: &Identification) -> ApiError {
    ApiError::Conflict(format!(
        "The identification is already {} and can no longer change.",
        i.status.name()
    ))
}

/// The caller's identification with this id: 404 for a malformed id, an
/// unknown one, another organisation's, or a live one to a test key.
pub(super) async fn own_identification(
    state: &AppState,
    key: &crate::store::ApiKey,
    id: &str,
) -> Result<Identification, ApiError> {
    let id = parse_id(id)?;
    state
        .store
        .get_identification(&key.organisation_id, &id)
        .await?
        .filter(|i| key.sees(i.mode))
        .ok_or_else(not_found)
}

async fn change(
    state: &AppState,
    caller: &Caller,
    id: &IdentificationId,
    change: Change,
) -> Result<Identification, ApiError> {
    let next = change.next;
    // Organisation and mode never change, so checking them first is enough.
    own_identification(state, &caller.0, id.as_str()).await?;
    match state
        .lifecycle
        .change_status(id, Some(&caller.0.organisation_id), change)
        .await?
    {
        Ok(i) => Ok(i),
        Err(Refusal::NotFound) => Err(not_found()),
        Err(Refusal::AlreadyFinal(i)) => Err(already_final(&i)),
        Err(Refusal::NotAllowed(i)) => Err(ApiError::Conflict(format!(
            "The identification is {} and cannot become {}.",
            i.status.name(),
            next.name()
        ))),
    }
}

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

/// A short confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    #[schema(example = "REVOKE_SUCCESSFUL")]
    pub message: &'static str,
    /// How many records were affected, where that is meaningful.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// Revoke an identification: it can no longer be completed.
#[utoipa::path(
    delete,
    path = "/v1/identification/{id}",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "Revoked", body = MessageResponse,
         example = json!({"message": "REVOKE_SUCCESSFUL"})),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already final", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
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

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptResponse {
    pub attempt: i64,
    pub attempted_at: String,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// Why the attempt failed without (or despite) an answer.
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// One webhook: the message for one status change, with its attempts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryResponse {
    /// The `webhook-id` header, the same on every retry.
    #[schema(example = "msg_2KWPBgLlAfxdpx2AI54pPJ")]
    pub id: String,
    /// The status the change led to, as in the history.
    pub status: &'static str,
    pub url: String,
    /// `pending`, `delivered`, `failed` (retries exhausted) or `gone` (410).
    pub state: &'static str,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub attempts: Vec<AttemptResponse>,
}

/// Webhook deliveries of an identification.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveriesResponse {
    pub id: String,
    pub rows: Vec<DeliveryResponse>,
}

/// The webhooks sent (or being sent) for an identification, with every attempt,
/// so you can see why one did not arrive.
#[utoipa::path(
    get,
    path = "/v1/identification/{id}/webhooks",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "Deliveries, oldest first", body = DeliveriesResponse),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub async fn webhooks(
    State(state): State<AppState>,
    Caller(key): Caller,
    IdPath(id): IdPath,
) -> Result<Json<DeliveriesResponse>, ApiError> {
    let id = own_identification(&state, &key, &id).await?.id;
    let history = state.store.status_history(&id).await?;
    let status_of = |seq: i64| {
        history
            .iter()
            .find(|c| c.seq == seq)
            .map_or("", |c| c.to.code())
    };
    let rows = state
        .store
        .webhook_deliveries(&id)
        .await?
        .into_iter()
        .map(|d| DeliveryResponse {
            status: status_of(d.seq),
            id: d.id,
            url: d.url,
            state: d.state.as_str(),
            next_attempt_at: d.next_attempt_at.map(Timestamp::to_rfc3339),
            created_at: d.created_at.to_rfc3339(),
            attempts: d
                .attempts
                .into_iter()
                .map(|a| AttemptResponse {
                    attempt: a.attempt,
                    attempted_at: a.attempted_at.to_rfc3339(),
                    status_code: a.status_code,
                    error: a.error,
                    duration_ms: a.duration_ms,
                })
                .collect(),
        })
        .collect();
    Ok(Json(DeliveriesResponse {
        id: id.to_string(),
        rows,
    }))
}

/// The attributes the customer shared.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataResponse {
    pub id: String,
    /// The status code.
    pub status: &'static str,
    /// The shared attributes by credential once verified; null before, after
    /// erasure, and when they are encrypted end to end (`encryptedData`).
    #[schema(value_type = Option<Object>, example = json!({"OLDER_THAN_18": true}))]
    pub data: Option<serde_json::Value>,
    /// For an organisation with an age recipient: the same JSON as an armored
    /// age file that only its identity opens (`age -d -i key.txt`); else null.
    #[schema(
        example = "-----BEGIN AGE ENCRYPTED FILE-----\n…\n-----END AGE ENCRYPTED FILE-----\n"
    )]
    pub encrypted_data: Option<String>,
}

/// The attributes the customer shared (null until verified).
#[utoipa::path(
    get,
    path = "/v1/identification/data/{id}",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "The shared data", body = DataResponse),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
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
        data,
        encrypted_data,
    }))
}

/// Erase the shared attributes for good (right to erasure).
#[utoipa::path(
    delete,
    path = "/v1/identification/data/{id}",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "Erased; count is how many records went (0 if none were held)", body = MessageResponse,
         example = json!({"message": "DELETED_SUCCESSFULLY", "count": 1})),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
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
