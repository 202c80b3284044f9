//! A sample holder's data for each mdoc type, as JSON a person can read and
//! override (`age_over_18=false`), and its conversion into data elements.
//! Used by the test issuer and the wallet command.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ciborium::Value;
use serde_json::{Map, Value as Json, json};

use super::cbor;
use crate::oid4vp::dcql::{AV_DOCTYPE, CredentialType, MDL_DOCTYPE, PID_DOCTYPE};

/// A 1×1 transparent PNG: the shape of a photo, nobody's face.
const PORTRAIT: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/// Elements whose text is a `full-date`.
const DATE_ELEMENTS: &[&str] = &["birth_date", "issue_date", "expiry_date"];

/// The namespace of a doctype this service verifies, or `None`.
pub fn namespace_of(doctype: &str) -> Option<&'static str> {
    CredentialType::ALL
        .into_iter()
        .find(|t| t.doctype() == Some(doctype))
        .and_then(CredentialType::namespace)
}

/// The sample holder's elements for `doctype`, or `None` for another doctype.
pub fn sample_claims(doctype: &str) -> Option<Map<String, Json>> {
    let claims = match doctype {
        PID_DOCTYPE => json!({
            "given_name": "Sanne",
            "family_name": "de Vries",
            "birth_date": "1990-05-17",
            "age_over_18": true,
            "age_over_21": true,
            "nationality": ["NL"],
            "document_number": "NX4L2K7P9",
            "portrait": PORTRAIT,
            "email_address": "sanne.devries@example.com",
            "mobile_phone_number": "+31612345678",
            "issuing_country": "NL",
        }),
        MDL_DOCTYPE => json!({
            "given_name": "Sanne",
            "family_name": "de Vries",
            "birth_date": "1990-05-17",
            "age_over_18": true,
            "age_over_21": true,
            "nationality": "NL",
            "document_number": "DL-5518230",
            "portrait": PORTRAIT,
            "issue_date": "2024-03-01",
            "expiry_date": "2034-03-01",
            "issuing_country": "NL",
        }),
        AV_DOCTYPE => json!({ "age_over_18": true }),
        _ => return None,
    };
    match claims {
        Json::Object(map) => Some(map),
        _ => None,
    }
}

/// `(namespace, element, value)` for each claim, in `namespace`.
pub fn elements(
    namespace: &str,
    claims: &Map<String, Json>,
) -> Result<Vec<(String, String, Value)>, String> {
    claims
        .iter()
        .map(|(name, value)| {
            Ok((
                namespace.to_owned(),
                name.clone(),
                element_value(name, value)?,
            ))
        })
        .collect()
}

/// A JSON claim as the CBOR an issuer would write: dates as `full-date`,
/// `data:` URLs (portraits) as byte strings, the rest as it is.
pub fn element_value(name: &str, value: &Json) -> Result<Value, String> {
    Ok(match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i.into()),
            None => Value::Float(n.as_f64().ok_or("number out of range")?),
        },
        Json::String(s) if DATE_ELEMENTS.contains(&name) => {
            cbor::full_date_value(s).ok_or_else(|| format!("{name} must be a date (YYYY-MM-DD)"))?
        }
        Json::String(s) => match s
            .strip_prefix("data:")
            .and_then(|r| r.split_once(";base64,"))
        {
            Some((_, data)) => Value::Bytes(
                STANDARD
                    .decode(data)
                    .map_err(|_| format!("{name}: the data URL is not base64"))?,
            ),
            None => Value::Text(s.clone()),
        },
        Json::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| element_value(name, v))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| Ok((Value::Text(k.clone()), element_value(k, v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_portraits_become_their_cbor_types() {
        assert_eq!(
            element_value("birth_date", &json!("1990-05-17")).unwrap(),
            cbor::full_date_value("1990-05-17").unwrap()
        );
        assert!(element_value("birth_date", &json!("17 May")).is_err());
        let Value::Bytes(png) = element_value("portrait", &json!(PORTRAIT)).unwrap() else {
            panic!("the portrait is not a byte string");
        };
        assert!(png.starts_with(b"\x89PNG"));
        // And back: the verifier's JSON is the same data URL.
        assert_eq!(cbor::to_json(&Value::Bytes(png)), Some(json!(PORTRAIT)));
    }

    #[test]
    fn every_verified_doctype_has_a_sample_in_its_namespace() {
        for t in CredentialType::ALL {
            let Some(doctype) = t.doctype() else { continue };
            let claims = sample_claims(doctype).unwrap();
            assert_eq!(claims["age_over_18"], json!(true));
            assert_eq!(namespace_of(doctype), t.namespace());
        }
        assert_eq!(sample_claims("org.example.other"), None);
    }
}
