//! `POST /v1/identification`: create an identification.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::IdentificationResponse;
use crate::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::input::{BODY_LIMIT, parse_idempotency_key};
use crate::domain::identification::Opening;
use crate::domain::{
    Description, HttpUrl, Identification, Locale, Metadata, Mode, OrganisationId, ProofmeId,
};
use crate::http_common::{BodyFormat, FieldValue, Fields};
use crate::outbound::guard;
use crate::store::{CreateOutcome, IdempotencyRecord};

/// The body of `POST /v1/identification` as JSON.
#[allow(dead_code)] // documents the body; the fields are read by `Fields`
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateIdentificationJson {
    /// A proofme of `organisationId`.
    #[schema(example = "pr_12345")]
    proofme_id: String,
    /// The API key's organisation.
    #[schema(example = "org_12345")]
    organisation_id: String,
    /// Shown to the customer; longer than 255 characters is truncated.
    #[schema(example = "Identification #12345")]
    description: Option<String>,
    /// Absolute http(s) URL the customer returns to.
    #[schema(
        format = "uri",
        pattern = "^[hH][tT][tT][pP][sS]?://",
        example = "https://your-application.example.org/identification/12345/"
    )]
    redirect_url: String,
    /// Absolute http(s) URL on a public address that receives status changes.
    #[schema(
        format = "uri",
        pattern = "^[hH][tT][tT][pP][sS]?://",
        example = "https://your-application.example.org/webhook/"
    )]
    webhook_url: Option<String>,
    /// `xx_XX`; MyPage speaks en_US, en_GB, nl_NL and nl_BE.
    #[schema(pattern = "^[a-z]{2}_[A-Z]{2}$", example = "nl_NL")]
    locale: Option<String>,
    /// Any JSON value of at most 1024 bytes as compact JSON, stored and
    /// returned exactly as sent.
    #[schema(value_type = Value, required = false, example = json!({"my-data": 12345}))]
    metadata: Option<serde_json::Value>,
    /// Create a test identification with a live key.
    testmode: Option<bool>,
}

/// The body of `POST /v1/identification` as a form: every field is text, and
/// an empty field is the same as one left out.
#[allow(dead_code)] // documents the body; the fields are read by `Fields`
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateIdentificationForm {
    /// A proofme of `organisationId`.
    #[schema(example = "pr_12345")]
    proofme_id: String,
    /// The API key's organisation.
    #[schema(example = "org_12345")]
    organisation_id: String,
    /// Shown to the customer; longer than 255 characters is truncated.
    #[schema(nullable = false, example = "Identification #12345")]
    description: Option<String>,
    /// Absolute http(s) URL the customer returns to.
    #[schema(
        format = "uri",
        pattern = "^[hH][tT][tT][pP][sS]?://",
        example = "https://your-application.example.org/identification/12345/"
    )]
    redirect_url: String,
    /// Absolute http(s) URL on a public address that receives status changes.
    #[schema(
        format = "uri",
        pattern = "^[hH][tT][tT][pP][sS]?://",
        nullable = false,
        example = "https://your-application.example.org/webhook/"
    )]
    webhook_url: Option<String>,
    /// `xx_XX`; MyPage speaks en_US, en_GB, nl_NL and nl_BE. Empty is the
    /// same as none.
    #[schema(
        nullable = false,
        pattern = "^([a-z]{2}_[A-Z]{2})?$",
        example = "nl_NL"
    )]
    locale: Option<String>,
    /// Text that parses as JSON is stored as that JSON; anything else as a
    /// string. At most 1024 bytes as compact JSON.
    #[schema(nullable = false, example = "{\"my-data\": 12345}")]
    metadata: Option<String>,
    /// `true` creates a test identification with a live key; `false` or
    /// empty does not.
    #[schema(nullable = false, pattern = "^(true|false)?$", example = "true")]
    testmode: Option<String>,
}

/// The fields a create request is read for: those of both bodies.
pub const CREATE_FIELDS: &[&str] = &[
    "proofmeId",
    "organisationId",
    "description",
    "redirectUrl",
    "webhookUrl",
    "locale",
    "metadata",
    "testmode",
];

/// A create request that passed every check that needs no database.
struct CreateInput {
    proofme_id: String,
    organisation_id: String,
    description: Option<Description>,
    redirect_url: HttpUrl,
    webhook_url: Option<HttpUrl>,
    locale: Option<Locale>,
    metadata: Option<Metadata>,
    testmode: Option<bool>,
}

fn required<'a>(fields: &'a Fields, name: &'static str) -> Result<&'a str, ApiError> {
    fields
        .text(name)?
        .ok_or_else(|| ApiError::invalid(name, format!("{name} is required")))
}

fn parse_url(value: &str, name: &'static str) -> Result<HttpUrl, ApiError> {
    HttpUrl::parse(value).map_err(|e| ApiError::invalid(name, format!("{name} {e}")))
}

impl CreateInput {
    fn parse(fields: &Fields) -> Result<CreateInput, ApiError> {
        let proofme_id = required(fields, "proofmeId")?.to_owned();
        let organisation_id = required(fields, "organisationId")?.to_owned();
        let description = fields.text("description")?.map(Description::truncating);
        let redirect_url = parse_url(required(fields, "redirectUrl")?, "redirectUrl")?;
        let webhook_url = fields
            .text("webhookUrl")?
            .map(|u| parse_url(u, "webhookUrl"))
            .transpose()?;
        let locale = fields
            .text("locale")?
            .map(|l| {
                Locale::parse(l).map_err(|e| ApiError::invalid("locale", format!("locale {e}")))
            })
            .transpose()?;
        let metadata = match (fields.get("metadata"), fields.json_text("metadata")) {
            (Some(FieldValue::Text(s)), _) => Metadata::from_form(s),
            (_, Some(json)) => Metadata::from_json_text(json),
            _ => Ok(None),
        }
        .map_err(|e| ApiError::invalid("metadata", format!("metadata {e}")))?;
        let testmode = fields.boolean("testmode")?;
        Ok(CreateInput {
            proofme_id,
            organisation_id,
            description,
            redirect_url,
            webhook_url,
            locale,
            metadata,
            testmode,
        })
    }
}

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get(IDEMPOTENCY_KEY)
        .map(|v| parse_idempotency_key(v.as_bytes()))
        .transpose()
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Where the identification created with this response body lives.
fn location(body: &str) -> Option<HeaderValue> {
    #[derive(serde::Deserialize)]
    struct Created {
        id: String,
    }
    let created: Created = serde_json::from_str(body).ok()?;
    HeaderValue::from_str(&format!("/v1/identification/{}", created.id)).ok()
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
    let location = location(&body).filter(|_| status == StatusCode::CREATED);
    let mut res = json_response(status, body);
    res.headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    if let Some(location) = location {
        res.headers_mut().insert(header::LOCATION, location);
    }
    res
}

fn key_reused() -> ApiError {
    ApiError::Unprocessable(
        "This Idempotency-Key was already used with a different request body.".into(),
    )
}

/// Create an identification.
///
/// Send the body as `application/json` (recommended) or as
/// `application/x-www-form-urlencoded`. Send the customer to `myPageUrl` from
/// the response. With an `Idempotency-Key`, a retry with the same body
/// replays the first response instead of creating a second identification.
#[utoipa::path(
    post,
    path = "/v1/identification",
    operation_id = "createIdentification",
    tag = "identifications",
    request_body(content(
        (CreateIdentificationJson = "application/json"),
        (CreateIdentificationForm = "application/x-www-form-urlencoded"),
    )),
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
         pattern = "^[!-~]([ -~]*[!-~])?$",
         description = "1 to 255 printable ASCII characters. The same key with the same body within 24 hours replays the first response."),
    ),
    responses(
        (status = 201, description = "Created", body = IdentificationResponse,
         headers(
             ("Location" = String, description = "The path of the new identification"),
             ("Idempotent-Replayed" = String, description = "`true` when this is the replay of an earlier request with the same Idempotency-Key"),
         )),
        (status = 400, description = "Unreadable body or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with the same Idempotency-Key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body neither JSON nor a form", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or breaks its rule, or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(key): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let idem_key = idempotency_key(&headers)?;
    let format = BodyFormat::from_headers(&headers)?;
    let body = body.map_err(|rej| match rej.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(BODY_LIMIT),
        _ => ApiError::BadRequest("The request body could not be read.".into()),
    })?;

    // A second request with the same key while the first is still running is a
    // conflict; once the first has finished, it is a replay.
    let request_sha256 = idem_key
        .as_ref()
        .map(|_| hex::encode(Sha256::digest(&body)));
    let _in_flight = match &idem_key {
        Some(k) => Some(state.in_flight.claim(key.id.as_str(), k).ok_or_else(|| {
            ApiError::Conflict(
                "A request with this Idempotency-Key is still being processed.".into(),
            )
        })?),
        None => None,
    };
    if let (Some(k), Some(request_sha256)) = (&idem_key, &request_sha256) {
        match state
            .store
            .find_idempotent_response(&key.id, k, request_sha256)
            .await?
        {
            Some(CreateOutcome::Replay { status, body }) => return Ok(replay(status, body)),
            Some(_) => return Err(key_reused()),
            None => {}
        }
    }

    let fields = Fields::from_body(format, &body, CREATE_FIELDS)?;
    let input = CreateInput::parse(&fields)?;

    let organisation_id = OrganisationId::parse(&input.organisation_id)
        .ok()
        .filter(|o| *o == key.organisation_id)
        .ok_or_else(|| {
            ApiError::invalid(
                "organisationId",
                "organisationId must be the organisation of your API key",
            )
        })?;
    let not_a_proofme = || {
        ApiError::invalid(
            "proofmeId",
            "proofmeId is not a proofme of this organisation",
        )
    };
    let proofme_id = ProofmeId::parse(&input.proofme_id).map_err(|_| not_a_proofme())?;
    let proofme = state
        .store
        .get_proofme(&organisation_id, &proofme_id)
        .await?
        .ok_or_else(not_a_proofme)?;
    if let (Some(url), false) = (&input.webhook_url, state.config.allow_private_webhooks) {
        guard::check_url(url).await.map_err(|e| {
            ApiError::invalid(
                "webhookUrl",
                format!("webhookUrl must be reachable on the public internet: {e}"),
            )
        })?;
    }

    let mode = match (key.mode, input.testmode) {
        (Mode::Live, Some(true)) | (Mode::Test, _) => Mode::Test,
        (Mode::Live, _) => Mode::Live,
    };
    let mut ident = Identification::open(
        &proofme,
        Opening {
            mode,
            is_request: true,
            redirect_url: input.redirect_url,
            webhook_url: input.webhook_url,
        },
        state.config.identification_ttl,
        state.clock.now(),
    );
    ident.description = input.description;
    ident.metadata = input.metadata;
    ident.locale = input.locale;
    let body = serde_json::to_string(&IdentificationResponse::new(
        &ident,
        &state.config.public_url,
    ))
    .map_err(super::unwritable)?;
    let record = idem_key
        .zip(request_sha256)
        .map(|(k, request_sha256)| IdempotencyRecord {
            api_key_id: key.id.clone(),
            key: k,
            request_sha256,
            response_status: StatusCode::CREATED.as_u16(),
            response_body: body.clone(),
        });
    match state
        .store
        .create_identification(&ident, record.as_ref())
        .await?
    {
        CreateOutcome::Created => {
            tracing::info!(id = %ident.id.for_log(), organisation = %ident.organisation_id, mode = %ident.mode, "identification created");
            let mut res = json_response(StatusCode::CREATED, body);
            if let Ok(loc) = HeaderValue::from_str(&format!("/v1/identification/{}", ident.id)) {
                res.headers_mut().insert(header::LOCATION, loc);
            }
            Ok(res)
        }
        CreateOutcome::Replay { status, body } => Ok(replay(status, body)),
        CreateOutcome::KeyReused => Err(key_reused()),
    }
}
