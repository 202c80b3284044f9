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

use super::error::ApiError;
use crate::AppState;
use crate::api::openapi::word;
use crate::domain::{Identification, IdentificationId, Timestamp};
use crate::store::{ApiKey, Change, Refusal};

/// Every handler here takes `Caller` as its first fallible extractor, which
/// authenticates (see `auth`); a wrong method is a 405 without a key.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/identification", get(list::list).post(create::create))
        .route(
            "/v1/identification/{id}",
            get(get::get).delete(revoke::revoke),
        )
        .route(
            "/v1/identification/{id}/test-outcome",
            post(test_outcome::test_outcome),
        )
        .route("/v1/identification/{id}/history", get(history::history))
        .route("/v1/identification/{id}/webhooks", get(webhooks::webhooks))
        .route(
            "/v1/identification/data/{id}",
            get(data::get_data).delete(data::delete_data),
        )
}

/// An identification, as every endpoint returns it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentificationResponse<'a> {
    /// Always `identification`.
    #[schema(value_type = IdentificationResource)]
    pub resource: &'static str,
    #[schema(example = "id_4Fq9ZtK2mB7xL0pR8sV3wY")]
    pub id: &'a str,
    #[schema(value_type = word::Mode)]
    pub mode: &'static str,
    #[schema(example = "pr_12345")]
    pub proofme_id: &'a str,
    /// The proofme's revision this identification was created with: what it
    /// asks for and why, however the proofme was edited since.
    #[schema(minimum = 1, example = 1)]
    pub proofme_revision: i64,
    #[schema(example = "org_12345")]
    pub organisation_id: &'a str,
    #[schema(value_type = word::StatusCode)]
    pub status: &'static str,
    #[schema(value_type = word::StatusName)]
    pub status_name: &'static str,
    /// Null unless the customer's wallet presentation failed the
    /// identification.
    #[schema(value_type = Option<word::FailureReasonName>, required = true)]
    pub failure_reason: Option<&'static str>,
    #[schema(required = true, example = "Identification #12345")]
    pub description: Option<&'a str>,
    /// True for identifications created through the API.
    pub is_request: bool,
    /// Whatever the integrator stored, as the JSON it sent (compact); null
    /// when none was sent.
    #[schema(value_type = Value, example = json!({"my-data": 12345}))]
    pub metadata: Option<&'a serde_json::value::RawValue>,
    #[schema(format = "uri")]
    pub redirect_url: &'a str,
    #[schema(required = true, format = "uri")]
    pub webhook_url: Option<&'a str>,
    /// Where to send the customer.
    #[schema(format = "uri")]
    pub my_page_url: String,
    #[schema(required = true, example = "nl_NL")]
    pub locale: Option<&'a str>,
    /// When the customer's wallet connected.
    #[schema(value_type = Option<String>, required = true, format = DateTime)]
    pub scanned_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime, example = "2022-01-02T12:00:00+00:00")]
    pub expires_at: Timestamp,
    #[schema(value_type = String, format = DateTime, example = "2022-01-01T12:00:00+00:00")]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime, example = "2022-01-01T12:00:00+00:00")]
    pub updated_at: Timestamp,
}

/// The kind of object.
#[allow(dead_code)] // documents `resource`
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IdentificationResource {
    Identification,
}

/// An identification that cannot be written as JSON holds something no
/// valid record holds.
pub(super) fn unwritable(e: serde_json::Error) -> ApiError {
    ApiError::Store(crate::store::StoreError::Corrupt(e.to_string()))
}

/// Borrowed from the identification, so a response costs one allocation (the
/// MyPage URL) before it is written.
impl<'a> IdentificationResponse<'a> {
    pub fn new(i: &'a Identification, public_url: &str) -> Self {
        IdentificationResponse {
            resource: "identification",
            id: i.id.as_str(),
            mode: i.mode.as_str(),
            proofme_id: i.proofme_id.as_str(),
            proofme_revision: i.proofme_revision,
            organisation_id: i.organisation_id.as_str(),
            status: i.status.code(),
            status_name: i.status.name(),
            failure_reason: i.failure_reason.map(|r| r.as_str()),
            description: i.description.as_ref().map(|d| d.as_str()),
            is_request: i.is_request,
            metadata: i.metadata.as_ref().map(|m| m.raw()),
            redirect_url: i.redirect_url.as_str(),
            webhook_url: i.webhook_url.as_ref().map(|u| u.as_str()),
            my_page_url: [public_url, "/", i.id.as_str()].concat(),
            locale: i.locale.as_ref().map(|l| l.as_str()),
            scanned_at: i.scanned_at,
            expires_at: i.expires_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
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
