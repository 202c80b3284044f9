//! The published contract, `GET /v1/openapi.json`. Each operation is
//! documented on its handler; this file adds what they share: the words the
//! API uses (as enums), the answers every operation can give, the servers,
//! the contact and the one security requirement.

use serde_json::{Value, json};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContactBuilder, RefOr, ServerBuilder};
use utoipa::{Modify, OpenApi};

use super::error::{PROBLEM_JSON, Problem};
use super::identifications;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Proofme API",
        description = "Create identification intents, send customers to MyPage, read the outcome.\n\n\
            Authenticate every request with an API key: `Authorization: Bearer test_…` (or `live_…`). \
            Every error is `application/problem+json` (RFC 9457).",
        contact(name = "Proofme support"),
    ),
    paths(
        identifications::create::create,
        identifications::list::list,
        identifications::get::get,
        identifications::revoke::revoke,
        identifications::test_outcome::test_outcome,
        identifications::history::history,
        identifications::webhooks::webhooks,
        identifications::data::get_data,
        identifications::data::delete_data,
    ),
    // The words only query parameters use are not collected by themselves.
    components(schemas(
        Problem,
        word::SortColumn,
        word::SortDirection,
        word::StatusFilter,
        word::Mode,
        identifications::test_outcome::TestOutcomeForm,
    )),
    modifiers(&BearerAuth, &EveryOperation),
    security(("bearer" = [])),
    tags((name = "identifications", description = "Identification intents"))
)]
pub struct ApiDoc;

/// The document as served by a deployment reachable at `public_url`.
pub fn document(public_url: &str) -> Value {
    let mut doc = ApiDoc::openapi();
    doc.servers = Some(vec![
        ServerBuilder::new()
            .url(public_url)
            .description(Some("This deployment"))
            .build(),
    ]);
    if let Some(contact) = doc.info.contact.take() {
        doc.info.contact = Some(
            ContactBuilder::new()
                .name(contact.name)
                .url(Some(public_url))
                .build(),
        );
    }
    doc.info.license = None;
    let mut doc = serde_json::to_value(doc).unwrap_or_else(|_| json!({}));
    mark_required_headers(&mut doc);
    no_null_parameters(&mut doc);
    link_from_create(&mut doc);
    doc
}

/// The operations that take the `id` a create answers with.
const TAKE_THE_CREATED_ID: &[&str] = &[
    "getIdentification",
    "revokeIdentification",
    "setTestOutcome",
    "getStatusHistory",
    "listWebhookAttempts",
    "getIdentificationData",
    "deleteIdentificationData",
];

/// Links from a created identification to what can be done with it, for
/// tools that follow them (and for people reading the reference).
fn link_from_create(doc: &mut Value) {
    let links: serde_json::Map<String, Value> = TAKE_THE_CREATED_ID
        .iter()
        .map(|op| {
            let link = json!({
                "operationId": op,
                "parameters": { "id": "$response.body#/id" },
                "description": "The identification just created",
            });
            ((*op).to_owned(), link)
        })
        .collect();
    if let Some(created) = doc.pointer_mut("/paths/~1v1~1identification/post/responses/201") {
        created["links"] = Value::Object(links);
    }
}

/// An optional parameter is left out, never null: utoipa writes an
/// `Option` as nullable, which a parameter cannot be. A query parameter with
/// an empty value is the same as one left out (query strings are read as
/// forms are), which `allowEmptyValue` says.
fn no_null_parameters(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for param in params {
                if param["in"] == "query" {
                    param["allowEmptyValue"] = json!(true);
                }
                if let Some(types) = param.pointer_mut("/schema/type") {
                    if let Some([one, null]) = types.as_array().map(Vec::as_slice) {
                        if null == "null" {
                            *types = one.clone();
                        }
                    }
                }
            }
        }
    }
}

/// Headers every response of that status carries. utoipa's header object
/// has no `required`, so it is added to the JSON.
const ALWAYS_SENT: &[(&str, &str)] = &[
    ("201", "Location"),
    ("405", "Allow"),
    ("429", "Retry-After"),
    ("503", "Retry-After"),
];

fn mark_required_headers(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut() {
            for (status, name) in ALWAYS_SENT {
                if let Some(header) = op.pointer_mut(&format!("/responses/{status}/headers/{name}"))
                {
                    header["required"] = json!(true);
                }
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: test_… or live_…"))
                    .build(),
            ),
        );
    }
}

/// The answers any operation can give, whatever it does: from the
/// authentication and rate-limit layers, the router, the timeout, the header
/// limit and the store.
const EVERY_OPERATION: &[(u16, &str, Option<ResponseHeader>)] = &[
    (
        401,
        "No API key, or one that is not valid or was revoked",
        None,
    ),
    (
        405,
        "The path does not take this method",
        Some(("Allow", "The methods the path takes")),
    ),
    (408, "The request took too long", None),
    (
        429,
        "Too many requests for this API key, or too many failed authentications from this address",
        Some(("Retry-After", "Seconds to wait before trying again")),
    ),
    (
        431,
        "The request headers are larger than 32 KiB (more than 100 header lines get this \
         status from the HTTP layer, without a body)",
        None,
    ),
    (500, "Something went wrong on our side", None),
    (
        503,
        "The service cannot answer right now (for example its storage); try again later",
        Some(("Retry-After", "Seconds to wait before trying again")),
    ),
];

/// A response header: its name and what it says.
type ResponseHeader = (&'static str, &'static str);

/// A problem response, as operations document theirs.
fn problem_response(description: &str, header: Option<ResponseHeader>) -> Value {
    let mut res = json!({
        "description": description,
        "content": { PROBLEM_JSON: { "schema": { "$ref": "#/components/schemas/Problem" } } },
    });
    if let Some((name, about)) = header {
        res["headers"] = json!({ name: { "description": about, "schema": { "type": "integer", "minimum": 0 } } });
        if name == "Allow" {
            res["headers"][name]["schema"] = json!({ "type": "string" });
        }
    }
    res
}

struct EveryOperation;

impl Modify for EveryOperation {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                for (status, description, header) in EVERY_OPERATION {
                    let response = problem_response(description, *header);
                    if let Ok(response) = serde_json::from_value(response) {
                        op.responses
                            .responses
                            .entry(status.to_string())
                            .or_insert(RefOr::T(response));
                    }
                }
            }
        }
    }
}

/// A string schema with a fixed set of values.
fn words(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// The words of the API, each a schema of its own with its values taken
/// from the domain, so the document cannot list a value the code lacks.
pub mod word {
    use super::words;
    use crate::domain::{ChangeCause, CredentialKey, FailureReason, Status};
    use crate::store::DeliveryState;
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
    use utoipa::openapi::{RefOr, SchemaFormat};
    use utoipa::{PartialSchema, ToSchema};

    macro_rules! word {
        ($name:ident, $description:literal, $values:expr) => {
            #[doc = $description]
            pub struct $name;

            impl PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    words($description, $values)
                }
            }

            impl ToSchema for $name {}
        };
    }

    /// What `test-outcome` accepts.
    pub const TEST_OUTCOMES: [Status; 5] = [
        Status::Pending,
        Status::Verified,
        Status::Failed,
        Status::Canceled,
        Status::Expired,
    ];

    /// The columns a list can be sorted by.
    pub const SORT_COLUMNS: [&str; 6] = [
        "id",
        "description",
        "status",
        "isRequest",
        "createdAt",
        "updatedAt",
    ];

    word!(
        StatusCode,
        "The status as a code: `0` open, `1` pending, `2` verified, `3` failed, `4` canceled, `5` expired, `6` revoked.",
        Status::ALL.map(Status::code)
    );
    word!(
        StatusName,
        "The status as a word.",
        Status::ALL.map(Status::name)
    );
    word!(
        StatusFilter,
        "A status code or word.",
        Status::ALL
            .map(Status::code)
            .into_iter()
            .chain(Status::ALL.map(Status::name))
    );
    word!(
        Mode,
        "`test` identifications are completed by hand; `live` ones by a wallet.",
        ["test", "live"]
    );
    word!(
        ChangeCauseName,
        "Why the status changed: `created` for the first entry.",
        ChangeCause::ALL.map(ChangeCause::as_str)
    );
    word!(
        FailureReasonName,
        "Why the customer's wallet presentation failed the identification.",
        FailureReason::ALL.map(FailureReason::as_str)
    );
    word!(
        DeliveryStateName,
        "`pending` (being tried), `delivered`, `failed` (retries exhausted) or `gone` (the receiver answered 410).",
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
            DeliveryState::Gone
        ]
        .map(DeliveryState::as_str)
    );
    word!(SortColumn, "The column to sort by.", SORT_COLUMNS);
    word!(SortDirection, "The sort direction.", ["ASC", "DESC"]);
    word!(
        TestOutcome,
        "The outcome to simulate: `pending` is the wallet connecting; the others end the identification.",
        TEST_OUTCOMES.map(Status::name)
    );

    /// The shared attributes, keyed by credential.
    pub struct SharedData;

    impl PartialSchema for SharedData {
        fn schema() -> RefOr<Schema> {
            let mut object = ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(
                    "The attributes the customer shared, keyed by credential; only the proofme's credentials are present.",
                ))
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            for key in CredentialKey::ALL {
                let value = match key.sample_value() {
                    serde_json::Value::Bool(_) => ObjectBuilder::new().schema_type(Type::Boolean),
                    _ => ObjectBuilder::new().schema_type(Type::String),
                };
                let value = match key {
                    CredentialKey::DateOfBirth => {
                        value.format(Some(SchemaFormat::Custom("date".into())))
                    }
                    _ => value,
                };
                object = object.property(key.as_str(), value.examples([key.sample_value()]));
            }
            object.into()
        }
    }

    impl ToSchema for SharedData {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_match_what_the_code_parses() {
        for column in word::SORT_COLUMNS {
            assert!(
                crate::store::SortColumn::parse(column).is_some(),
                "{column}"
            );
        }
        let doc = document("http://127.0.0.1:3000");
        let sort = &doc["components"]["schemas"]["SortColumn"]["enum"];
        assert_eq!(sort.as_array().map(Vec::len), Some(6), "{sort}");
    }

    #[test]
    fn every_operation_has_its_id_and_the_shared_answers() {
        let doc = document("http://127.0.0.1:3000");
        let mut ids = Vec::new();
        for item in doc["paths"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            for op in item.as_object().into_iter().flat_map(|o| o.values()) {
                ids.push(op["operationId"].as_str().unwrap_or("").to_owned());
                for status in ["401", "405", "408", "429", "503"] {
                    assert!(op["responses"].get(status).is_some(), "{status} in {op}");
                }
                assert!(op["description"].as_str().is_some_and(|d| !d.is_empty()));
            }
        }
        ids.sort();
        assert_eq!(
            ids,
            [
                "createIdentification",
                "deleteIdentificationData",
                "getIdentification",
                "getIdentificationData",
                "getStatusHistory",
                "listIdentifications",
                "listWebhookAttempts",
                "revokeIdentification",
                "setTestOutcome",
            ]
        );
        assert_eq!(doc["security"], json!([{"bearer": []}]));
        assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:3000");
    }
}
