//! `/v1/identification`: create, get and list.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, Problem};
use super::input::{BODY_LIMIT, IdPath};
use crate::AppState;
use crate::domain::{
    Description, HttpUrl, Identification, IdentificationId, Locale, Metadata, Mode, OrganisationId,
    ProofmeId, Status, Timestamp,
};
use crate::edge::{BodyFormat, FieldValue, Fields};
use crate::store::{CreateOutcome, IdempotencyRecord, ListQuery, SortColumn, SortDirection};
use crate::webhooks::guard;

/// An identification, as every endpoint returns it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentificationResponse {
    /// Always `identification`.
    #[schema(example = "identification")]
    pub resource: &'static str,
    #[schema(example = "id_4Fq9ZtK2mB7xL0pR8sV3wY")]
    pub id: String,
    /// `test` or `live`.
    #[schema(example = "test")]
    pub mode: &'static str,
    pub proofme_id: String,
    pub organisation_id: String,
    /// The status code: `"0"` open, `"1"` pending, `"2"` verified, `"3"` failed,
    /// `"4"` canceled, `"5"` expired, `"6"` revoked.
    #[schema(example = "0")]
    pub status: &'static str,
    /// The status as a word.
    #[schema(example = "open")]
    pub status_name: &'static str,
    /// Why the customer's wallet presentation failed the identification:
    /// `untrusted_issuer`, `invalid_signature`, `expired_credential`,
    /// `invalid_key_binding`, `invalid_presentation`, `missing_credential`,
    /// `age_requirement_not_met` or `wallet_error`. Null unless it failed that way.
    #[schema(example = json!(null))]
    pub failure_reason: Option<&'static str>,
    pub description: Option<String>,
    /// True for identifications created through the API.
    pub is_request: bool,
    /// Whatever the integrator stored, as the JSON it sent (compact).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Box<serde_json::value::RawValue>>,
    pub redirect_url: String,
    pub webhook_url: Option<String>,
    /// Where to send the customer.
    pub my_page_url: String,
    pub locale: Option<String>,
    /// When the customer's wallet connected.
    pub scanned_at: Option<String>,
    #[schema(example = "2022-01-02T12:00:00+00:00")]
    pub expires_at: String,
    #[schema(example = "2022-01-01T12:00:00+00:00")]
    pub created_at: String,
    #[schema(example = "2022-01-01T12:00:00+00:00")]
    pub updated_at: String,
}

impl IdentificationResponse {
    pub fn new(i: &Identification, public_url: &str) -> Self {
        IdentificationResponse {
            resource: "identification",
            id: i.id.to_string(),
            mode: i.mode.as_str(),
            proofme_id: i.proofme_id.to_string(),
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

/// The body of `POST /v1/identification`, as JSON or as a form.
#[allow(dead_code)] // documents the body; the fields are read by `Fields`
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateIdentificationRequest {
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
    #[schema(example = "https://your-application.example.org/identification/12345/")]
    redirect_url: String,
    /// Absolute http(s) URL on a public address that receives status changes.
    #[schema(example = "https://your-application.example.org/webhook/")]
    webhook_url: Option<String>,
    /// `xx_XX`; MyPage speaks en_US, en_GB, nl_NL and nl_BE.
    #[schema(example = "nl_NL")]
    locale: Option<String>,
    /// Any JSON value of at most 1024 bytes as compact JSON, stored exactly as
    /// sent (in a form, a string that parses as JSON is JSON).
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
    /// Create a test identification with a live key.
    testmode: Option<bool>,
}

const CREATE_FIELDS: &[&str] = &[
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
        .map(|v| super::input::parse_idempotency_key(v.as_bytes()))
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

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
    let mut res = json_response(status, body);
    res.headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    res
}

fn key_reused() -> ApiError {
    ApiError::Unprocessable(
        "This Idempotency-Key was already used with a different request body.".into(),
    )
}

/// Create an identification.
///
/// Accepts `application/x-www-form-urlencoded` and `application/json`. Send the
/// customer to `myPageUrl` from the response.
#[utoipa::path(
    post,
    path = "/v1/identification",
    tag = "identifications",
    request_body(content(
        (CreateIdentificationRequest = "application/json"),
        (CreateIdentificationRequest = "application/x-www-form-urlencoded"),
    )),
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Up to 255 characters. The same key with the same body within 24 hours replays the first response."),
    ),
    responses(
        (status = 201, description = "Created", body = IdentificationResponse),
        (status = 400, description = "Unreadable body or header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong API key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with the same Idempotency-Key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body neither JSON nor a form", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or breaks its rule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
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
    let request_sha256 = hex::encode(Sha256::digest(&body));
    let _in_flight = match &idem_key {
        Some(k) => Some(state.in_flight.claim(key.id.as_str(), k).ok_or_else(|| {
            ApiError::Conflict(
                "A request with this Idempotency-Key is still being processed.".into(),
            )
        })?),
        None => None,
    };
    if let Some(k) = &idem_key {
        match state
            .store
            .find_idempotent_response(&key.id, k, &request_sha256)
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
    state
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
    let now = Timestamp::now();
    let ident = Identification {
        id: IdentificationId::generate(),
        organisation_id,
        proofme_id,
        mode,
        status: Status::Open,
        description: input.description,
        is_request: true,
        metadata: input.metadata,
        redirect_url: input.redirect_url,
        webhook_url: input.webhook_url,
        locale: input.locale,
        scanned_at: None,
        failure_reason: None,
        expires_at: now.plus(state.config.identification_ttl),
        created_at: now,
        updated_at: now,
    };
    let body = serde_json::to_string(&IdentificationResponse::new(
        &ident,
        &state.config.public_url,
    ))
    .map_err(|e| ApiError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    let record = idem_key.map(|k| IdempotencyRecord {
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

/// Get an identification.
#[utoipa::path(
    get,
    path = "/v1/identification/{id}",
    tag = "identifications",
    params(("id" = String, Path, description = "The identification id (`id_…`)")),
    responses(
        (status = 200, description = "The identification", body = IdentificationResponse),
        (status = 401, description = "Missing or wrong API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such identification in your organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(key): Caller,
    IdPath(id): IdPath,
) -> Result<Json<IdentificationResponse>, ApiError> {
    let ident = super::manage::own_identification(&state, &key, &id).await?;
    Ok(Json(IdentificationResponse::new(
        &ident,
        &state.config.public_url,
    )))
}

/// Query parameters of the list endpoint.
#[allow(dead_code)] // documents the query; it is read by `Fields`
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ListParams {
    /// 1 to 250; default 50.
    limit: Option<i64>,
    /// Rows to skip; default 0.
    offset: Option<i64>,
    /// `id`, `description`, `status`, `isRequest`, `createdAt` (default) or `updatedAt`.
    sort_column: Option<String>,
    /// `ASC` or `DESC` (default).
    sort_direction: Option<String>,
    /// Matches part of the id or the description, literally (no wildcards),
    /// ignoring ASCII case; at most 255 characters.
    search: Option<String>,
    /// A status code (`"2"`) or name (`verified`).
    status: Option<String>,
    /// `test` or `live`.
    mode: Option<String>,
}

/// A page of identifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse {
    /// All identifications that match, across pages.
    pub count: i64,
    pub rows: Vec<IdentificationResponse>,
}

const LIST_FIELDS: &[&str] = &[
    "limit",
    "offset",
    "sortColumn",
    "sortDirection",
    "search",
    "status",
    "mode",
];

/// The longest `search`: as long as a description can be.
const MAX_SEARCH_CHARS: usize = 255;

fn parse_list_query(fields: &Fields) -> Result<ListQuery, ApiError> {
    let number = |name: &'static str, default: i64, min: i64, max: i64| -> Result<i64, ApiError> {
        match fields.text(name)? {
            None => Ok(default),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        name,
                        format!("{name} must be a whole number from {min} to {max}"),
                    )
                }),
        }
    };
    let choice = |name: &'static str,
                  expected: &str,
                  parse: &dyn Fn(&str) -> bool|
     -> Result<(), ApiError> {
        match fields.text(name)? {
            Some(s) if !parse(s) => Err(ApiError::invalid(
                name,
                format!("{name} must be {expected}"),
            )),
            _ => Ok(()),
        }
    };
    choice(
        "sortColumn",
        "one of id, description, status, isRequest, createdAt, updatedAt",
        &|s| SortColumn::parse(s).is_some(),
    )?;
    choice("sortDirection", "ASC or DESC", &|s| {
        SortDirection::parse(s).is_some()
    })?;
    choice("status", "a status code (0 to 6) or name", &|s| {
        Status::parse(s).is_some()
    })?;
    choice("mode", "test or live", &|s| Mode::parse(s).is_some())?;
    Ok(ListQuery {
        limit: number("limit", 50, 1, 250)?,
        offset: number("offset", 0, 0, i64::MAX)?,
        sort_column: fields
            .text("sortColumn")?
            .and_then(SortColumn::parse)
            .unwrap_or(SortColumn::CreatedAt),
        sort_direction: fields
            .text("sortDirection")?
            .and_then(SortDirection::parse)
            .unwrap_or(SortDirection::Desc),
        search: fields
            .text("search")?
            .map(|s| {
                if s.chars().count() > MAX_SEARCH_CHARS {
                    return Err(ApiError::invalid(
                        "search",
                        format!("search must be at most {MAX_SEARCH_CHARS} characters"),
                    ));
                }
                Ok(s.to_owned())
            })
            .transpose()?,
        status: fields.text("status")?.and_then(Status::parse),
        mode: fields.text("mode")?.and_then(Mode::parse),
    })
}

/// List your organisation's identifications.
#[utoipa::path(
    get,
    path = "/v1/identification",
    tag = "identifications",
    params(ListParams),
    responses(
        (status = 200, description = "A page of identifications", body = ListResponse),
        (status = 401, description = "Missing or wrong API key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter breaks its rule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(key): Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<ListResponse>, ApiError> {
    let fields = Fields::from_form(query.unwrap_or_default().as_bytes(), LIST_FIELDS)?;
    let mut q = parse_list_query(&fields)?;
    // A test key lists test identifications only, counts included.
    if key.mode == Mode::Test {
        if q.mode == Some(Mode::Live) {
            return Ok(Json(ListResponse {
                count: 0,
                rows: Vec::new(),
            }));
        }
        q.mode = Some(Mode::Test);
    }
    let (count, rows) = state
        .store
        .list_identifications(&key.organisation_id, &q)
        .await?;
    let public_url = &state.config.public_url;
    Ok(Json(ListResponse {
        count,
        rows: rows
            .iter()
            .map(|i| IdentificationResponse::new(i, public_url))
            .collect(),
    }))
}
