//! API errors. Every error leaves as `application/problem+json` (RFC 9457) in the
//! shape Proofme's error documentation uses: status, title, detail, and `field`
//! when one field is at fault. Internal causes are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

use crate::http_common::InputError;
use crate::store::StoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// What every problem's `type` is: the status code says it all (RFC 9457
/// section 4.2.1).
pub const ABOUT_BLANK: &str = "about:blank";

/// An error as the client sees it (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "about:blank", "status": 422, "title": "Unprocessable Entity",
    "detail": "redirectUrl is required", "instance": "/v1/identification",
    "field": "redirectUrl"}))]
pub struct Problem {
    /// The problem type. Always `about:blank`: the status code is the type.
    #[serde(rename = "type")]
    #[schema(value_type = String, format = "uri-reference", default = "about:blank",
        example = "about:blank")]
    pub kind: &'static str,
    /// The HTTP status code, repeated.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// The HTTP reason phrase.
    pub title: String,
    /// What went wrong, for a person.
    pub detail: String,
    /// The path of the request that went wrong. Always sent under `/v1`
    /// (the API fills it in on the way out).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = true, format = "uri-reference",
        example = "/v1/identification")]
    pub instance: Option<String>,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>, field: Option<&str>) -> Problem {
        Problem {
            kind: ABOUT_BLANK,
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            detail: detail.into(),
            instance: None,
            field: field.map(str::to_owned),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }
}

/// Every way an API request can fail, with the status each becomes.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read at all (malformed JSON, bad encoding, bad header).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no API key, or one we do not know (or that was revoked).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: the key may not do this (for example test outcomes in live mode).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such object for this organisation.
    #[error("{0}")]
    NotFound(String),
    /// 409: conflicts with the object's state or a request in flight.
    #[error("{0}")]
    Conflict(String),
    /// 413: body larger than the limit.
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 415: a body in a format we do not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: a field is missing or breaks its rule.
    #[error("{detail}")]
    Invalid { field: &'static str, detail: String },
    /// 422 without a single field at fault.
    #[error("{0}")]
    Unprocessable(String),
    /// 429: this API key sent more than its rate allows.
    #[error("Too many requests for this API key. Retry after {0} seconds.")]
    TooManyRequests(u64),
    /// 429: too many failed authentications from this client address.
    #[error("Too many failed authentications from this address. Retry after {0} seconds.")]
    TooManyFailedAuthentications(u64),
    /// 503 with `Retry-After` when the database is unavailable for a while
    /// (full disk, lock held elsewhere: see `StoreError::is_retryable`);
    /// otherwise 500, our fault. The cause is logged, not sent.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// 500: our fault outside the store; the cause is logged, not sent.
    #[error("{0}")]
    Internal(String),
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        let detail = e.to_string();
        match e {
            InputError::UnsupportedMediaType => ApiError::UnsupportedMediaType(detail),
            InputError::NotUtf8 | InputError::NotJson(_) | InputError::NotAnObject => {
                ApiError::BadRequest(detail)
            }
            InputError::Repeated {
                field: Some(field), ..
            }
            | InputError::WrongType { field, .. } => ApiError::Invalid { field, detail },
            InputError::Repeated { field: None, .. } => ApiError::Unprocessable(detail),
        }
    }
}

impl From<crate::lifecycle::SealError> for ApiError {
    fn from(e: crate::lifecycle::SealError) -> Self {
        match e {
            crate::lifecycle::SealError::Store(e) => ApiError::Store(e),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    pub fn invalid(field: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field,
            detail: detail.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, field) = match &self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, None),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, None),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, None),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, None),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, None),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, None),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, None),
            ApiError::Invalid { field, .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some(*field)),
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, None),
            ApiError::TooManyRequests(_) | ApiError::TooManyFailedAuthentications(_) => {
                (StatusCode::TOO_MANY_REQUESTS, None)
            }
            ApiError::Store(e) if e.is_retryable() => {
                tracing::warn!(error = %e, "request refused: the database is unavailable");
                return unavailable(e.retry_after().unwrap_or(DEFAULT_RETRY_AFTER));
            }
            ApiError::Store(_) | ApiError::Internal(_) => {
                tracing::error!(error = %self, "request failed on our side");
                let problem = Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side. Please try again.",
                    None,
                );
                return problem.into_response();
            }
        };
        let mut res = Problem::new(status, self.to_string(), field).into_response();
        if let ApiError::TooManyRequests(secs) | ApiError::TooManyFailedAuthentications(secs) = self
        {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// `Retry-After` when a fault does not say how long it will last.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// 503 problem+json with `Retry-After`: the request was not carried out, and
/// the same request may be sent again after that many seconds.
pub fn unavailable(retry_after: Duration) -> Response {
    let secs = retry_after.as_secs().max(1);
    let mut res = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "The service cannot reach its storage just now. Please try again in {secs} seconds."
        ),
        None,
    )
    .into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}

/// The detail for an error response some other layer produced (a rejection, a
/// fallback, a limit), so that it too leaves as problem+json.
pub fn generic_detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "The request could not be read.",
        StatusCode::NOT_FOUND => "There is no such resource.",
        StatusCode::METHOD_NOT_ALLOWED => "This resource does not support that method.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "The request body's content type is not supported.",
        StatusCode::REQUEST_TIMEOUT => "The request took too long to arrive.",
        s if s.is_server_error() => "Something went wrong on our side. Please try again.",
        _ => "The request could not be processed.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_common::{BodyFormat, Fields};

    #[test]
    fn a_storage_fault_that_passes_is_503_with_retry_after() {
        let res = ApiError::Store(StoreError::from(sqlx::Error::PoolTimedOut)).into_response();

        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert_eq!(res.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn any_other_storage_failure_is_500_without_retry_after() {
        let res = ApiError::Store(StoreError::from(sqlx::Error::RowNotFound)).into_response();

        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!res.headers().contains_key(header::RETRY_AFTER));
    }

    #[test]
    fn input_errors_become_the_api_errors_they_always_were() {
        let known = &["a"];
        let utf8 = ApiError::from(Fields::from_form(b"a=%FF", known).unwrap_err());
        assert!(matches!(utf8, ApiError::BadRequest(_)), "{utf8:?}");
        let repeated = ApiError::from(Fields::from_form(b"a=1&a=2", known).unwrap_err());
        assert!(
            matches!(repeated, ApiError::Invalid { field: "a", .. }),
            "{repeated:?}"
        );
        let unknown_repeated = ApiError::from(
            Fields::from_body(BodyFormat::Json, br#"{"z": 1, "z": 2}"#, known).unwrap_err(),
        );
        assert!(
            matches!(unknown_repeated, ApiError::Unprocessable(_)),
            "{unknown_repeated:?}"
        );
        let not_object =
            ApiError::from(Fields::from_body(BodyFormat::Json, b"[1]", known).unwrap_err());
        assert!(
            matches!(not_object, ApiError::BadRequest(_)),
            "{not_object:?}"
        );
        let media = ApiError::from(InputError::UnsupportedMediaType);
        assert_eq!(
            media.to_string(),
            "Send application/json or application/x-www-form-urlencoded."
        );
        assert!(matches!(media, ApiError::UnsupportedMediaType(_)));
    }
}
