//! The DCQL query for a proofme's credentials and the map back from a
//! verified presentation to shared data keyed by credential (DESIGN 4a, 4b).
//!
//! One request offers every credential type that holds all the proofme asks
//! for, as the options of one credential set; the wallet answers with one.

use super::failure::FailureReason;
use super::outcome::Verified;
use crate::domain::{Credential, CredentialKey};
use serde_json::{Map, Value, json};

/// The SD-JWT PID query's id (kept from before there were others).
pub const CREDENTIAL_QUERY_ID: &str = "pid";
pub const FORMAT: &str = "dc+sd-jwt";
pub const MDOC_FORMAT: &str = "mso_mdoc";

/// A kind of credential a wallet can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialType {
    /// The EUDI PID as SD-JWT VC.
    PidSdJwt,
    /// The EUDI PID as an mdoc.
    PidMdoc,
    /// An ISO 18013-5 mobile driving licence.
    Mdl,
    /// The EU age-verification app's Proof of Age attestation.
    AgeAttestation,
}

pub const PID_DOCTYPE: &str = "eu.europa.ec.eudi.pid.1";
pub const MDL_DOCTYPE: &str = "org.iso.18013.5.1.mDL";
/// The mDL's elements live in this namespace, not one named after the doctype.
pub const MDL_NAMESPACE: &str = "org.iso.18013.5.1";
pub const AV_DOCTYPE: &str = "eu.europa.ec.av.1";

impl CredentialType {
    /// In the order the request offers them: the PID first.
    pub const ALL: [CredentialType; 4] = [
        CredentialType::PidSdJwt,
        CredentialType::PidMdoc,
        CredentialType::Mdl,
        CredentialType::AgeAttestation,
    ];

    /// The credential query's id; the `vp_token` answers under it.
    pub fn query_id(self) -> &'static str {
        match self {
            CredentialType::PidSdJwt => CREDENTIAL_QUERY_ID,
            CredentialType::PidMdoc => "pid_mdoc",
            CredentialType::Mdl => "mdl",
            CredentialType::AgeAttestation => "age",
        }
    }

    pub fn from_query_id(id: &str) -> Option<CredentialType> {
        CredentialType::ALL.into_iter().find(|t| t.query_id() == id)
    }

    pub fn format(self) -> &'static str {
        match self {
            CredentialType::PidSdJwt => FORMAT,
            _ => MDOC_FORMAT,
        }
    }

    /// The mdoc document type, for mdoc types.
    pub fn doctype(self) -> Option<&'static str> {
        match self {
            CredentialType::PidSdJwt => None,
            CredentialType::PidMdoc => Some(PID_DOCTYPE),
            CredentialType::Mdl => Some(MDL_DOCTYPE),
            CredentialType::AgeAttestation => Some(AV_DOCTYPE),
        }
    }

    /// The namespace of the elements, for mdoc types.
    pub fn namespace(self) -> Option<&'static str> {
        match self {
            CredentialType::Mdl => Some(MDL_NAMESPACE),
            other => other.doctype(),
        }
    }

    /// The claim path of `key` in this type, or `None` if it doesn't hold it.
    pub fn path(self, key: CredentialKey) -> Option<Vec<&'static str>> {
        match self {
            CredentialType::PidSdJwt => Some(claim_path(key).to_vec()),
            _ => {
                let element = mdoc_element(self, key)?;
                Some(vec![self.namespace()?, element])
            }
        }
    }

    /// Holds every credential asked for, required or optional. The age
    /// attestation holds ages only, so it answers age-only proofmes only.
    pub fn answers(self, credentials: &[Credential]) -> bool {
        if self == CredentialType::AgeAttestation && credentials.is_empty() {
            return false;
        }
        credentials.iter().all(|c| self.path(c.key).is_some())
    }
}

/// Where each credential sits in an SD-JWT PID.
pub fn claim_path(key: CredentialKey) -> &'static [&'static str] {
    match key {
        CredentialKey::OlderThan18 => &["age_equal_or_over", "18"],
        CredentialKey::OlderThan21 => &["age_equal_or_over", "21"],
        CredentialKey::FirstName => &["given_name"],
        CredentialKey::LastName => &["family_name"],
        CredentialKey::DateOfBirth => &["birthdate"],
        CredentialKey::Nationality => &["nationalities"],
        CredentialKey::DocumentNumber => &["document_number"],
        CredentialKey::Photo => &["picture"],
        CredentialKey::Email => &["email"],
        CredentialKey::PhoneNumber => &["phone_number"],
    }
}

/// The data element of `key` in an mdoc type (ISO 18013-5 §7.2.1 for the
/// mDL, the PID rulebook for the PID, the age-verification blueprint).
pub fn mdoc_element(kind: CredentialType, key: CredentialKey) -> Option<&'static str> {
    use CredentialKey as K;
    use CredentialType as T;
    let element = match key {
        K::OlderThan18 => "age_over_18",
        K::OlderThan21 => "age_over_21",
        _ if kind == T::AgeAttestation || kind == T::PidSdJwt => return None,
        K::FirstName => "given_name",
        K::LastName => "family_name",
        K::DateOfBirth => "birth_date",
        K::Nationality => "nationality",
        K::DocumentNumber => "document_number",
        K::Photo => "portrait",
        K::Email if kind == T::PidMdoc => "email_address",
        K::PhoneNumber if kind == T::PidMdoc => "mobile_phone_number",
        K::Email | K::PhoneNumber => return None,
    };
    Some(element)
}

fn is_age(key: CredentialKey) -> bool {
    matches!(key, CredentialKey::OlderThan18 | CredentialKey::OlderThan21)
}

/// The types that can answer a proofme asking for `credentials`.
pub fn offered(credentials: &[Credential]) -> Vec<CredentialType> {
    CredentialType::ALL
        .into_iter()
        .filter(|t| t.answers(credentials))
        .collect()
}

/// The `dcql_query` request parameter: a credential query per offered type,
/// and one credential set whose options are those types, one each.
pub fn dcql_query(credentials: &[Credential], vct_values: &[String]) -> Value {
    let offered = offered(credentials);
    let queries: Vec<Value> = offered
        .iter()
        .map(|t| query_for(*t, credentials, vct_values))
        .collect();
    let options: Vec<Value> = offered.iter().map(|t| json!([t.query_id()])).collect();
    json!({
        "credentials": queries,
        "credential_sets": [{ "options": options }],
    })
}

/// The SD-JWT PID's credential query.
pub fn query(credentials: &[Credential], vct_values: &[String]) -> Value {
    query_for(CredentialType::PidSdJwt, credentials, vct_values)
}

/// One credential query with a claim per credential, its id the credential
/// key. When some credentials are optional, `claim_sets` offers all claims
/// first, then the required ones only. When none is required there is no
/// smaller set to offer (DCQL has no empty claim set), so all are asked for
/// and the wallet's user may still decline.
pub fn query_for(kind: CredentialType, credentials: &[Credential], vct_values: &[String]) -> Value {
    let claims: Vec<Value> = credentials
        .iter()
        .filter_map(|c| {
            let path = kind.path(c.key)?;
            let mut claim = json!({ "id": c.key.as_str(), "path": path });
            if kind.format() == MDOC_FORMAT {
                // Nothing is kept but the shared data, and that only until erased.
                claim["intent_to_retain"] = Value::Bool(false);
            }
            Some(claim)
        })
        .collect();
    let meta = match kind.doctype() {
        None => json!({ "vct_values": vct_values }),
        Some(doctype) => json!({ "doctype_value": doctype }),
    };
    let mut credential = json!({
        "id": kind.query_id(),
        "format": kind.format(),
        "meta": meta,
    });
    if !claims.is_empty() {
        credential["claims"] = Value::Array(claims);
    }
    let all: Vec<&str> = credentials.iter().map(|c| c.key.as_str()).collect();
    let required: Vec<&str> = credentials
        .iter()
        .filter(|c| c.required)
        .map(|c| c.key.as_str())
        .collect();
    if !required.is_empty() && required.len() < all.len() {
        credential["claim_sets"] = json!([all, required]);
    }
    credential
}

fn lookup<'a>(claims: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(claims, |value, name| value.get(*name))
        .filter(|value| !value.is_null())
}

/// One shape whatever the format, the API's: `NATIONALITY` is a string.
/// The PID lists nationalities (an mDL has one); several are joined with
/// commas, which no ISO 3166 code holds (`NL,DE`).
fn normalise(key: CredentialKey, value: &Value) -> Result<Value, FailureReason> {
    match (key, value) {
        (CredentialKey::Nationality, Value::Array(list)) => {
            let codes: Option<Vec<&str>> = list.iter().map(Value::as_str).collect();
            match codes {
                Some(codes) if !codes.is_empty() => Ok(Value::String(codes.join(","))),
                _ => Err(FailureReason::InvalidPresentation),
            }
        }
        _ => Ok(value.clone()),
    }
}

/// The shared data: the requested credentials only, keyed by credential key.
///
/// Failure precedence, so the reason is the same whatever the order of the
/// credentials: an age claim that is not a boolean (`invalid_presentation`),
/// then an age claim disclosed as `false` (`age_requirement_not_met`), then
/// a required credential not disclosed (`missing_credential`). An optional
/// credential not disclosed is left out.
pub fn extract(
    credentials: &[Credential],
    kind: CredentialType,
    verified: &Verified,
) -> Result<Map<String, Value>, FailureReason> {
    let mut data = Map::new();
    let mut age_not_met = false;
    let mut missing = false;
    for credential in credentials {
        let found = kind
            .path(credential.key)
            .and_then(|path| lookup(&verified.claims, &path));
        match found {
            None => missing |= credential.required,
            Some(value) if is_age(credential.key) => match value {
                Value::Bool(true) => {
                    data.insert(credential.key.as_str().to_owned(), Value::Bool(true));
                }
                Value::Bool(false) => age_not_met = true,
                _ => return Err(FailureReason::InvalidPresentation),
            },
            Some(value) => {
                data.insert(
                    credential.key.as_str().to_owned(),
                    normalise(credential.key, value)?,
                );
            }
        }
    }
    if age_not_met {
        return Err(FailureReason::AgeRequirementNotMet);
    }
    if missing {
        return Err(FailureReason::MissingCredential);
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required(key: CredentialKey) -> Credential {
        Credential {
            key,
            required: true,
        }
    }

    fn optional(key: CredentialKey) -> Credential {
        Credential {
            key,
            required: false,
        }
    }

    fn vct() -> Vec<String> {
        vec!["urn:eudi:pid:1".to_owned()]
    }

    fn verified(claims: Value) -> Verified {
        let key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        Verified {
            claims,
            status: None,
            issuer_key: *key.verifying_key(),
        }
    }

    #[test]
    fn claim_paths_follow_the_design_table() {
        let table: Vec<(&str, &[&str])> = CredentialKey::ALL
            .iter()
            .map(|k| (k.as_str(), claim_path(*k)))
            .collect();
        assert_eq!(
            table,
            vec![
                ("OLDER_THAN_18", &["age_equal_or_over", "18"][..]),
                ("OLDER_THAN_21", &["age_equal_or_over", "21"][..]),
                ("FIRST_NAME", &["given_name"][..]),
                ("LAST_NAME", &["family_name"][..]),
                ("DATE_OF_BIRTH", &["birthdate"][..]),
                ("NATIONALITY", &["nationalities"][..]),
                ("DOCUMENT_NUMBER", &["document_number"][..]),
                ("PHOTO", &["picture"][..]),
                ("EMAIL", &["email"][..]),
                ("PHONE_NUMBER", &["phone_number"][..]),
            ]
        );
    }

    #[test]
    fn query_with_only_required_credentials_has_no_claim_sets() {
        let q = query(
            &[
                required(CredentialKey::OlderThan18),
                required(CredentialKey::FirstName),
            ],
            &vct(),
        );
        assert_eq!(
            q,
            json!({
                "id": "pid",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": ["urn:eudi:pid:1"]},
                "claims": [
                    {"id": "OLDER_THAN_18", "path": ["age_equal_or_over", "18"]},
                    {"id": "FIRST_NAME", "path": ["given_name"]}
                ]
            })
        );
    }

    #[test]
    fn query_with_optional_credentials_offers_all_then_required_claim_sets() {
        let q = query(
            &[
                required(CredentialKey::OlderThan18),
                optional(CredentialKey::Email),
                required(CredentialKey::LastName),
            ],
            &vct(),
        );
        assert_eq!(
            q["claim_sets"],
            json!([
                ["OLDER_THAN_18", "EMAIL", "LAST_NAME"],
                ["OLDER_THAN_18", "LAST_NAME"]
            ])
        );
    }

    #[test]
    fn query_with_only_optional_credentials_asks_for_all() {
        let q = query(&[optional(CredentialKey::Email)], &vct());
        assert!(q.get("claim_sets").is_none());
        assert_eq!(q["claims"][0]["id"], "EMAIL");
    }

    #[test]
    fn an_age_only_proofme_offers_every_type_as_one_option_each() {
        let creds = [required(CredentialKey::OlderThan18)];
        let q = dcql_query(&creds, &vct());
        assert_eq!(
            q["credential_sets"],
            json!([{"options": [["pid"], ["pid_mdoc"], ["mdl"], ["age"]]}])
        );
        assert_eq!(q["credentials"][0], query(&creds, &vct()));
        assert_eq!(
            q["credentials"][1],
            json!({
                "id": "pid_mdoc", "format": "mso_mdoc",
                "meta": {"doctype_value": "eu.europa.ec.eudi.pid.1"},
                "claims": [{"id": "OLDER_THAN_18",
                            "path": ["eu.europa.ec.eudi.pid.1", "age_over_18"],
                            "intent_to_retain": false}]
            })
        );
        assert_eq!(
            q["credentials"][2]["meta"]["doctype_value"],
            "org.iso.18013.5.1.mDL"
        );
        assert_eq!(
            q["credentials"][2]["claims"][0]["path"],
            json!(["org.iso.18013.5.1", "age_over_18"])
        );
        assert_eq!(
            q["credentials"][3]["claims"][0]["path"],
            json!(["eu.europa.ec.av.1", "age_over_18"])
        );
    }

    #[test]
    fn a_type_lacking_something_asked_for_is_left_out_of_the_options() {
        let name = dcql_query(&[required(CredentialKey::FirstName)], &vct());
        assert_eq!(
            name["credential_sets"],
            json!([{"options": [["pid"], ["pid_mdoc"], ["mdl"]]}])
        );
        let email = dcql_query(
            &[
                required(CredentialKey::OlderThan18),
                optional(CredentialKey::Email),
            ],
            &vct(),
        );
        assert_eq!(
            email["credential_sets"],
            json!([{"options": [["pid"], ["pid_mdoc"]]}])
        );
        assert_eq!(
            email["credentials"][1]["claims"][1]["path"],
            json!(["eu.europa.ec.eudi.pid.1", "email_address"])
        );
    }

    #[test]
    fn mdoc_elements_follow_the_design_table() {
        type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let table: Vec<Row> = CredentialKey::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str(),
                    mdoc_element(CredentialType::PidMdoc, *k),
                    mdoc_element(CredentialType::Mdl, *k),
                    mdoc_element(CredentialType::AgeAttestation, *k),
                )
            })
            .collect();
        assert_eq!(
            table,
            vec![
                (
                    "OLDER_THAN_18",
                    Some("age_over_18"),
                    Some("age_over_18"),
                    Some("age_over_18")
                ),
                (
                    "OLDER_THAN_21",
                    Some("age_over_21"),
                    Some("age_over_21"),
                    Some("age_over_21")
                ),
                ("FIRST_NAME", Some("given_name"), Some("given_name"), None),
                ("LAST_NAME", Some("family_name"), Some("family_name"), None),
                (
                    "DATE_OF_BIRTH",
                    Some("birth_date"),
                    Some("birth_date"),
                    None
                ),
                (
                    "NATIONALITY",
                    Some("nationality"),
                    Some("nationality"),
                    None
                ),
                (
                    "DOCUMENT_NUMBER",
                    Some("document_number"),
                    Some("document_number"),
                    None
                ),
                ("PHOTO", Some("portrait"), Some("portrait"), None),
                ("EMAIL", Some("email_address"), None, None),
                ("PHONE_NUMBER", Some("mobile_phone_number"), None, None),
            ]
        );
    }

    #[test]
    fn an_mdoc_is_read_by_its_namespace() {
        let claims = json!({"org.iso.18013.5.1": {
            "age_over_18": true, "given_name": "Sanne", "nationality": "NL"
        }});
        let data = extract(
            &[
                required(CredentialKey::OlderThan18),
                required(CredentialKey::FirstName),
                required(CredentialKey::Nationality),
            ],
            CredentialType::Mdl,
            &verified(claims.clone()),
        )
        .unwrap();
        assert_eq!(
            Value::Object(data),
            json!({"OLDER_THAN_18": true, "FIRST_NAME": "Sanne", "NATIONALITY": "NL"})
        );
        // The same claims under another type's namespace are not found.
        assert_eq!(
            extract(
                &[required(CredentialKey::FirstName)],
                CredentialType::PidMdoc,
                &verified(claims)
            ),
            Err(FailureReason::MissingCredential)
        );
    }

    #[test]
    fn query_ids_round_trip() {
        for t in CredentialType::ALL {
            assert_eq!(CredentialType::from_query_id(t.query_id()), Some(t));
        }
        assert_eq!(CredentialType::from_query_id("other"), None);
    }

    #[test]
    fn query_carries_the_configured_vct_values() {
        let values = vec!["urn:a".to_owned(), "urn:b".to_owned()];
        let q = query(&[required(CredentialKey::Photo)], &values);
        assert_eq!(q["meta"]["vct_values"], json!(["urn:a", "urn:b"]));
    }

    #[test]
    fn extract_keeps_only_requested_credentials_keyed_by_credential() {
        let claims = json!({
            "given_name": "Sanne", "family_name": "de Vries",
            "age_equal_or_over": {"18": true, "21": true},
            "nationalities": ["NL"], "document_number": "X",
            "iss": "https://issuer", "vct": "urn:eudi:pid:1"
        });
        let data = extract(
            &[
                required(CredentialKey::OlderThan18),
                required(CredentialKey::FirstName),
                optional(CredentialKey::Nationality),
            ],
            CredentialType::PidSdJwt,
            &verified(claims),
        )
        .unwrap();
        assert_eq!(
            Value::Object(data),
            json!({"OLDER_THAN_18": true, "FIRST_NAME": "Sanne", "NATIONALITY": "NL"})
        );
    }

    #[test]
    fn several_nationalities_are_one_comma_separated_string_and_a_non_text_one_is_refused() {
        let creds = [required(CredentialKey::Nationality)];
        let data = extract(
            &creds,
            CredentialType::PidSdJwt,
            &verified(json!({"nationalities": ["NL", "DE"]})),
        )
        .unwrap();
        assert_eq!(Value::Object(data), json!({"NATIONALITY": "NL,DE"}));
        for bad in [json!([]), json!([1]), json!(["NL", null])] {
            assert_eq!(
                extract(
                    &creds,
                    CredentialType::PidSdJwt,
                    &verified(json!({"nationalities": bad}))
                ),
                Err(FailureReason::InvalidPresentation)
            );
        }
    }

    #[test]
    fn extract_leaves_out_an_undisclosed_optional_credential() {
        let data = extract(
            &[
                required(CredentialKey::FirstName),
                optional(CredentialKey::Email),
            ],
            CredentialType::PidSdJwt,
            &verified(json!({"given_name": "Sanne"})),
        )
        .unwrap();
        assert_eq!(Value::Object(data), json!({"FIRST_NAME": "Sanne"}));
    }

    #[test]
    fn extract_fails_when_a_required_credential_is_missing() {
        let creds = [required(CredentialKey::OlderThan21)];
        assert_eq!(
            extract(
                &creds,
                CredentialType::PidSdJwt,
                &verified(json!({"age_equal_or_over": {"18": true}}))
            ),
            Err(FailureReason::MissingCredential)
        );
        assert_eq!(
            extract(
                &creds,
                CredentialType::PidSdJwt,
                &verified(json!({"age_equal_or_over": {"21": null}}))
            ),
            Err(FailureReason::MissingCredential)
        );
    }

    #[test]
    fn extract_fails_when_an_age_claim_is_false_required_or_optional() {
        let claims = verified(json!({"age_equal_or_over": {"18": true, "21": false}}));
        assert_eq!(
            extract(
                &[required(CredentialKey::OlderThan21)],
                CredentialType::PidSdJwt,
                &claims
            ),
            Err(FailureReason::AgeRequirementNotMet)
        );
        assert_eq!(
            extract(
                &[
                    required(CredentialKey::OlderThan18),
                    optional(CredentialKey::OlderThan21)
                ],
                CredentialType::PidSdJwt,
                &claims
            ),
            Err(FailureReason::AgeRequirementNotMet)
        );
    }

    #[test]
    fn extract_fails_when_an_age_claim_is_not_a_boolean() {
        for bad in [json!("true"), json!(1), json!({"x": true})] {
            assert_eq!(
                extract(
                    &[optional(CredentialKey::OlderThan18)],
                    CredentialType::PidSdJwt,
                    &verified(json!({"age_equal_or_over": {"18": bad}}))
                ),
                Err(FailureReason::InvalidPresentation)
            );
        }
    }

    #[test]
    fn extract_reports_a_false_age_before_a_missing_credential() {
        let claims = verified(json!({"age_equal_or_over": {"18": false}}));
        let creds = [
            required(CredentialKey::FirstName),
            required(CredentialKey::OlderThan18),
        ];
        assert_eq!(
            extract(&creds, CredentialType::PidSdJwt, &claims),
            Err(FailureReason::AgeRequirementNotMet)
        );
    }
}
