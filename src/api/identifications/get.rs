//! `GET /v1/identification/{id}`: one identification.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use super::{IdentificationResponse, own_identification};
use crate::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::input::IdPath;
use crate::domain::{FailureReason, Identification, IdentificationId, Status, Timestamp};

/// Identifications as last written out, by id: writing the JSON was a sixth
/// of a cached read. An entry serves only the version it was written from;
/// the rest of an identification never changes after it is created.
pub struct BodyCache(moka::sync::Cache<IdentificationId, Arc<CachedBody>>);

pub struct CachedBody {
    version: Version,
    body: Bytes,
}

/// What of an identification can change (`Identification::as_of` included):
/// every status change sets these together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    status: Status,
    scanned_at: Option<Timestamp>,
    failure_reason: Option<FailureReason>,
    updated_at: Timestamp,
}

impl Version {
    fn of(i: &Identification) -> Version {
        Version {
            status: i.status,
            scanned_at: i.scanned_at,
            failure_reason: i.failure_reason,
            updated_at: i.updated_at,
        }
    }
}

impl BodyCache {
    /// Holding at most `max_bytes` of JSON.
    pub fn new(max_bytes: u64) -> BodyCache {
        BodyCache(
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, c: &Arc<CachedBody>| {
                    u32::try_from(c.body.len() + 64).unwrap_or(u32::MAX)
                })
                .build(),
        )
    }

    /// The identification as JSON, from the cache when it holds this version.
    fn body(&self, ident: &Identification, public_url: &str) -> Result<Bytes, ApiError> {
        let version = Version::of(ident);
        if let Some(c) = self.0.get(&ident.id) {
            if c.version == version {
                return Ok(c.body.clone());
            }
        }
        let body = Bytes::from(
            serde_json::to_vec(&IdentificationResponse::new(ident, public_url))
                .map_err(super::unwritable)?,
        );
        let entry = CachedBody {
            version,
            body: body.clone(),
        };
        self.0.insert(ident.id.clone(), Arc::new(entry));
        Ok(body)
    }
}

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
    let body = state.api_bodies.body(&ident, &state.config.public_url)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}
