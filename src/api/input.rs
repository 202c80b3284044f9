//! The API's side of reading requests: its body limit, reading a body into
//! fields (see `crate::http_common`) with the API's errors, the `Idempotency-Key`
//! header, and the `{id}` of a path.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};

use super::error::ApiError;
use crate::http_common::{BodyFormat, Fields};

/// The largest request body we read.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A form or JSON body (by its content type) as fields; `known` are the
/// fields the endpoint reads.
pub fn read_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    known: &[&'static str],
) -> Result<Fields, ApiError> {
    let format = BodyFormat::from_headers(headers)?;
    let body = body.map_err(|rej| match rej.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(BODY_LIMIT),
        _ => ApiError::BadRequest("The request body could not be read.".into()),
    })?;
    Ok(Fields::from_body(format, &body, known)?)
}

/// An `Idempotency-Key` header value: 1 to 255 printable ASCII characters.
pub fn parse_idempotency_key(value: &[u8]) -> Result<String, ApiError> {
    if value.is_empty() || value.len() > 255 {
        return Err(ApiError::BadRequest(
            "Idempotency-Key must be 1 to 255 characters.".into(),
        ));
    }
    if !value.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(ApiError::BadRequest(
            "Idempotency-Key must be printable ASCII.".into(),
        ));
    }
    // Checked above: every byte is printable ASCII.
    Ok(value.iter().map(|b| char::from(*b)).collect())
}

/// The `{id}` of a path. A segment that cannot even be decoded names nothing
/// we have, so it is a 404 like any other unknown id, not a 400.
pub struct IdPath(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|p| IdPath(p.0))
            .map_err(|_| ApiError::NotFound("There is no identification with this id.".into()))
    }
}
