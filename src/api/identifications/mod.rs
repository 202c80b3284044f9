//! `/v1/identification`: the resource and everything done to it, one file
//! per action. What several actions share lives here: the response shape,
//! finding the caller's own identification, and changing its status.

pub mod create;
pub mod data;
pub mod get;
pub mod history;
pub mod list;
pub mod revoke;
pub mod test_outcome;
pub mod webhooks;

use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use std::sync::Arc;

use super::authenticated;
use super::error::ApiError;
use crate::AppState;
use crate::api::openapi::word;
use crate::domain::{Identification, IdentificationId, Timestamp};
use crate::store::{ApiKey, Change, Refusal};

pub fn router(state: &AppState) -> Router<AppState> {
    let gate = Arc::new(super::auth::Gate {
        store: state.store.clone(),
        limits: state.limits.clone(),
    });
    let authed = |endpoint| authenticated(endpoint, &gate);
    Router::new()
        .route(
            "/v1/identification",
            authed(get(list::list).post(create::create)),
        )
        .route(
            "/v1/identification/{id}",
            authed(get(get::get).delete(revoke::revoke)),
        )
        .route(
            "/v1/identification/{id}/test-outcome",
            authed(post(test_outcome::test_outcome)),
        )
        .route(
            "/v1/identification/{id}/history",
            authed(get(history::history)),
        )
        .route(
            "/v1/identification/{id}/webhooks",
            authed(get(webhooks::webhooks)),
        )
        .route(
            "/v1/identification/data/{id}",
            authed(get(data::get_data).delete(data::delete_data)),
        )
}

/// An identification, as every endpoint returns it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentificationResponse {
    /// Always `identification`.
    #[schema(value_type = IdentificationResource)]
    pub resource: &'static str,
    #[schema(example = "id_4Fq9ZtK2mB7xL0pR8sV3wY")]
    pub id: String,
    #[schema(value_type = word::Mode)]
    pub mode: &'static str,
    #[schema(example = "pr_12345")]
    pub proofme_id: String,
    /// The proofme's revision this identification was created with: what it
    /// asks for and why, however the proofme was edited since.
    #[schema(minimum = 1, example = 1)]
    pub proofme_revision: i64,
    #[schema(example = "org_12345")]
    pub organisation_id: String,
    #[schema(value_type = word::StatusCode)]
    pub status: &'static str,
    #[schema(value_type = word::StatusName)]
    pub status_name: &'static str,
    /// Null unless the customer's wallet presentation failed the
    /// identification.
    #[schema(value_type = Option<word::FailureReasonName>, required = true)]
    pub failure_reason: Option<&'static str>,
    #[schema(required = true, example = "Identification #12345")]
    pub description: Option<String>,
    /// True for identifications created through the API.
    pub is_request: bool,
    /// Whatever the integrator stored, as the JSON it sent (compact); null
    /// when none was sent.
    #[schema(value_type = Value, example = json!({"my-data": 12345}))]
    pub metadata: Option<Box<serde_json::value::RawValue>>,
    #[schema(format = "uri")]
    pub redirect_url: String,
    #[schema(required = true, format = "uri")]
    pub webhook_url: Option<String>,
    /// Where to send the customer.
    #[schema(format = "uri")]
    pub my_page_url: String,
    #[schema(required = true, example = "nl_NL")]
    pub locale: Option<String>,
    /// When the customer's wallet connected.
    #[schema(required = true, format = DateTime)]
    pub scanned_at: Option<String>,
    #[schema(format = DateTime, example = "2022-01-02T12:00:00+00:00")]
    pub expires_at: String,
    #[schema(format = DateTime, example = "2022-01-01T12:00:00+00:00")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2022-01-01T12:00:00+00:00")]
    pub updated_at: String,
}

/// The kind of object.
#[allow(dead_code)] // documents `resource`
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IdentificationResource {
    Identification,
}

impl IdentificationResponse {
    pub fn new(i: &Identification, public_url: &str) -> Self {
        IdentificationResponse {
            resource: "identification",
            id: i.id.to_string(),
            mode: i.mode.as_str(),
            proofme_id: i.proofme_id.to_string(),
            proofme_revision: i.proofme_revision,
            organisation_id: i.organisation_id.to_string(),
            status: i.status.code(),
            status_name: i.status.name(),
            failure_reason: i.failure_reason.map(|r| r.as_str()),
            description: i.description.as_ref().map(|d| d.as_str().to_owned()),
            is_request: i.is_request,
            metadata: i.metadata.as_ref().map(|m| m.raw().to_owned()),
            redirect_url: i.redirect_url.to_string(),
            webhook_url: i.webhook_url.as_ref().map(ToString::to_string),
            my_page_url: format!("{public_url}/{}", i.id),
            locale: i.locale.as_ref().map(ToString::to_string),
            scanned_at: i.scanned_at.map(Timestamp::to_rfc3339),
            expires_at: i.expires_at.to_rfc3339(),
            created_at: i.created_at.to_rfc3339(),
            updated_at: i.updated_at.to_rfc3339(),
        }
    }
}

/// A short confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    /// `REVOKE_SUCCESSFUL` or `DELETED_SUCCESSFULLY`.
    #[schema(value_type = ConfirmationMessage)]
    pub message: &'static str,
    /// How many records were affected, where that is meaningful.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// What an action confirms.
#[allow(dead_code)] // documents `message`
#[derive(ToSchema)]
pub enum ConfirmationMessage {
    #[serde(rename = "REVOKE_SUCCESSFUL")]
    Revoked,
    #[serde(rename = "DELETED_SUCCESSFULLY")]
    Deleted,
}

pub(super) fn not_found() -> ApiError {
    ApiError::NotFound("There is no identification with this id.".into())
}

pub(super) fn parse_id(id: &str) -> Result<IdentificationId, ApiError> {
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
    key: &ApiKey,
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

pub(super) async fn change(
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
