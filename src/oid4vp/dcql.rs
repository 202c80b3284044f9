//! The DCQL query for a proofme's credentials and the map back from a
//! verified presentation to shared data keyed by credential (DESIGN 4a).

use super::failure::FailureReason;
use super::sdjwt::Verified;
use crate::domain::{Credential, CredentialKey};
use serde_json::{Map, Value, json};

/// The credential query's id; the `vp_token` answers under it.
pub const CREDENTIAL_QUERY_ID: &str = "pid";
pub const FORMAT: &str = "dc+sd-jwt";

/// Where each credential sits in a PID.
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

fn is_age(key: CredentialKey) -> bool {
    matches!(key, CredentialKey::OlderThan18 | CredentialKey::OlderThan21)
}

/// The `dcql_query` request parameter: `{"credentials": [`[`query`]`]}`.
pub fn dcql_query(credentials: &[Credential], vct_values: &[String]) -> Value {
    json!({ "credentials": [query(credentials, vct_values)] })
}

/// One credential query (`id: "pid"`) with a claim per credential, its id
/// the credential key. When some credentials are optional, `claim_sets`
/// offers all claims first, then the required ones only. When none is
/// required there is no smaller set to offer (DCQL has no empty claim set),
/// so all are asked for and the wallet's user may still decline.
pub fn query(credentials: &[Credential], vct_values: &[String]) -> Value {
    let claims: Vec<Value> = credentials
        .iter()
        .map(|c| json!({ "id": c.key.as_str(), "path": claim_path(c.key) }))
        .collect();
    let mut credential = json!({
        "id": CREDENTIAL_QUERY_ID,
        "format": FORMAT,
        "meta": { "vct_values": vct_values },
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

/// The shared data: the requested credentials only, keyed by credential key.
///
/// Failure precedence, so the reason is the same whatever the order of the
/// credentials: an age claim that is not a boolean (`invalid_presentation`),
/// then an age claim disclosed as `false` (`age_requirement_not_met`), then
/// a required credential not disclosed (`missing_credential`). An optional
/// credential not disclosed is left out.
pub fn extract(
    credentials: &[Credential],
    verified: &Verified,
) -> Result<Map<String, Value>, FailureReason> {
    let mut data = Map::new();
    let mut age_not_met = false;
    let mut missing = false;
    for credential in credentials {
        match lookup(&verified.claims, claim_path(credential.key)) {
            None => missing |= credential.required,
            Some(value) if is_age(credential.key) => match value {
                Value::Bool(true) => {
                    data.insert(credential.key.as_str().to_owned(), Value::Bool(true));
                }
                Value::Bool(false) => age_not_met = true,
                _ => return Err(FailureReason::InvalidPresentation),
            },
            Some(value) => {
                data.insert(credential.key.as_str().to_owned(), value.clone());
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
        Verified { claims }
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
    fn dcql_query_wraps_the_one_credential_query() {
        let creds = [required(CredentialKey::Photo)];
        assert_eq!(
            dcql_query(&creds, &vct()),
            json!({"credentials": [query(&creds, &vct())]})
        );
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
            &verified(claims),
        )
        .unwrap();
        assert_eq!(
            Value::Object(data),
            json!({"OLDER_THAN_18": true, "FIRST_NAME": "Sanne", "NATIONALITY": ["NL"]})
        );
    }

    #[test]
    fn extract_leaves_out_an_undisclosed_optional_credential() {
        let data = extract(
            &[
                required(CredentialKey::FirstName),
                optional(CredentialKey::Email),
            ],
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
                &verified(json!({"age_equal_or_over": {"18": true}}))
            ),
            Err(FailureReason::MissingCredential)
        );
        assert_eq!(
            extract(
                &creds,
                &verified(json!({"age_equal_or_over": {"21": null}}))
            ),
            Err(FailureReason::MissingCredential)
        );
    }

    #[test]
    fn extract_fails_when_an_age_claim_is_false_required_or_optional() {
        let claims = verified(json!({"age_equal_or_over": {"18": true, "21": false}}));
        assert_eq!(
            extract(&[required(CredentialKey::OlderThan21)], &claims),
            Err(FailureReason::AgeRequirementNotMet)
        );
        assert_eq!(
            extract(
                &[
                    required(CredentialKey::OlderThan18),
                    optional(CredentialKey::OlderThan21)
                ],
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
            extract(&creds, &claims),
            Err(FailureReason::AgeRequirementNotMet)
        );
    }
}
