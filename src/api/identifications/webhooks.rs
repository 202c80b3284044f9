//! `GET /v1/identification/{id}/webhooks`: the webhooks and every attempt.

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
use crate::domain::Timestamp;

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptResponse {
    /// 1 for the first attempt.
    #[schema(minimum = 1)]
    pub attempt: i64,
    #[schema(format = DateTime)]
    pub attempted_at: String,
    /// The receiver's HTTP status, if it answered.
    #[schema(required = true)]
    pub status_code: Option<u16>,
    /// Why the attempt failed without (or despite) an answer.
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(minimum = 0)]
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
    #[schema(value_type = word::StatusCode)]
    pub status: &'static str,
    #[schema(format = "uri")]
    pub url: String,
    #[schema(value_type = word::DeliveryStateName)]
    pub state: &'static str,
    /// When the next attempt is due; null once delivered or given up.
    #[schema(required = true, format = DateTime)]
    pub next_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub attempts: Vec<AttemptResponse>,
}

/// Webhook deliveries of an identification.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveriesResponse {
    pub id: String,
    pub rows: Vec<DeliveryResponse>,
}

/// List the webhooks of an identification with every delivery attempt.
///
/// The webhooks sent (or being sent) for an identification, oldest first,
/// with every attempt, so you can see why one did not arrive.
#[utoipa::path(
    get,
    path = "/v1/identification/{id}/webhooks",
    operation_id = "listWebhookAttempts",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id")),
    responses(
        (status = 200, description = "Deliveries, oldest first", body = DeliveriesResponse),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
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
