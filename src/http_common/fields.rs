//! Request bodies and query strings read into named fields.
//!
//! Form bodies are parsed here rather than with serde: the contract needs to know
//! when a field is given twice, to read raw `curl -d` bodies, and to refuse
//! percent-encoded bytes that are not UTF-8 instead of silently replacing them.

use axum::http::{HeaderMap, header};
use percent_encoding::percent_decode;
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::HashMap;

use crate::domain::json::{self, StrictJsonError};

/// Why input could not be read into fields. Each layer answers it in its own
/// way: problem+json for the API, a page for MyPage, an OAuth error for the
/// verifier. The messages are written for the integrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A body that is neither JSON nor a form.
    #[error("Send application/json or application/x-www-form-urlencoded.")]
    UnsupportedMediaType,
    /// A percent-encoded form value whose bytes are not UTF-8.
    #[error("The form body is not valid UTF-8.")]
    NotUtf8,
    /// A JSON body that is not JSON.
    #[error("The body is not valid JSON: {0}.")]
    NotJson(String),
    /// A JSON body that is not an object.
    #[error("The body must be a JSON object.")]
    NotAnObject,
    /// A field (or a member inside a field's JSON value) given more than
    /// once; `field` names it when the endpoint reads it.
    #[error("{detail}")]
    Repeated {
        field: Option<&'static str>,
        detail: String,
    },
    /// A field whose value has the wrong type.
    #[error("{detail}")]
    WrongType { field: &'static str, detail: String },
}

/// The media types a write endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Form,
    Json,
}

impl BodyFormat {
    pub fn from_headers(headers: &HeaderMap) -> Result<BodyFormat, InputError> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .ok_or(InputError::UnsupportedMediaType)?
            .to_str()
            .map_err(|_| InputError::UnsupportedMediaType)?;
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/x-www-form-urlencoded" => Ok(BodyFormat::Form),
            "application/json" => Ok(BodyFormat::Json),
            _ => Err(InputError::UnsupportedMediaType),
        }
    }
}

/// One value of a field as sent: a form gives text, JSON any value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(String),
    Json(Value),
    /// JSON holding a number beyond what `Value` represents (such as `1e400`);
    /// its text is in `Fields::json_text`.
    JsonBeyondValue,
}

/// The fields of a body or query string, by name. Absent (and JSON `null`)
/// fields are simply missing.
#[derive(Debug, Default)]
pub struct Fields {
    values: HashMap<String, FieldValue>,
    /// For a JSON body: each member's JSON text, as sent.
    json_texts: HashMap<String, Box<RawValue>>,
}

impl Fields {
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.values.get(name)
    }

    /// A JSON body member's value exactly as sent (JSON `null` included), for
    /// fields kept as the integrator wrote them.
    pub fn json_text(&self, name: &str) -> Option<&str> {
        self.json_texts.get(name).map(|raw| raw.get())
    }

    /// A text field. JSON must give a string for it.
    pub fn text(&self, name: &'static str) -> Result<Option<&str>, InputError> {
        match self.values.get(name) {
            None => Ok(None),
            Some(FieldValue::Text(s)) => Ok(Some(s)),
            Some(FieldValue::Json(Value::String(s))) => Ok(Some(s)),
            Some(FieldValue::Json(_) | FieldValue::JsonBeyondValue) => Err(InputError::WrongType {
                field: name,
                detail: format!("{name} must be a string"),
            }),
        }
    }

    /// A boolean field: JSON `true`/`false`, or the words in a form.
    pub fn boolean(&self, name: &'static str) -> Result<Option<bool>, InputError> {
        let bad = || InputError::WrongType {
            field: name,
            detail: format!("{name} must be true or false"),
        };
        match self.values.get(name) {
            None => Ok(None),
            Some(FieldValue::Json(Value::Bool(b))) => Ok(Some(*b)),
            Some(FieldValue::Text(s)) => match s.as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(bad()),
            },
            Some(FieldValue::Json(_) | FieldValue::JsonBeyondValue) => Err(bad()),
        }
    }

    /// Reads a body of the given format. `known` are the field names the endpoint
    /// reads: only those are checked for repeats; others are ignored.
    pub fn from_body(
        format: BodyFormat,
        body: &[u8],
        known: &[&'static str],
    ) -> Result<Fields, InputError> {
        match format {
            BodyFormat::Json => Self::from_json(body, known),
            BodyFormat::Form => Self::from_form(body, known),
        }
    }

    /// A JSON object. A member given twice, at any depth, is refused as a
    /// field given twice in a form is (naming the field when it is a known
    /// one); numbers are not rounded on the way (see `json_text`).
    fn from_json(body: &[u8], known: &[&'static str]) -> Result<Fields, InputError> {
        let not_json = |e: &dyn std::fmt::Display| InputError::NotJson(e.to_string());
        let text = std::str::from_utf8(body).map_err(|e| not_json(&e))?;
        let repeated = |member: &str, detail: String| InputError::Repeated {
            field: known.iter().find(|k| **k == member).copied(),
            detail,
        };
        let members = match json::object_members(text) {
            Ok(Some(members)) => members,
            Ok(None) => return Err(InputError::NotAnObject),
            Err(StrictJsonError::DuplicateMember(name)) => {
                return Err(repeated(&name, format!("{name} is given more than once")));
            }
            Err(e) => return Err(not_json(&e)),
        };
        let mut fields = Fields::default();
        for (name, raw) in members {
            match json::check_strict(raw.get()) {
                Ok(()) => {}
                Err(StrictJsonError::DuplicateMember(inner)) => {
                    return Err(repeated(
                        &name,
                        format!("{name} has the member `{inner}` more than once"),
                    ));
                }
                Err(e) => return Err(not_json(&e)),
            }
            let value = match serde_json::from_str::<Value>(raw.get()) {
                Ok(Value::Null) => None,
                Ok(v) => Some(FieldValue::Json(v)),
                Err(_) => Some(FieldValue::JsonBeyondValue),
            };
            if let Some(value) = value {
                fields.values.insert(name.clone(), value);
            }
            fields.json_texts.insert(name, raw.to_owned());
        }
        Ok(fields)
    }

    /// `a=1&b=2`, percent-decoded with `+` as space: a form body or a query
    /// string. Empty values mean absent, as a form has no other way to say
    /// so; a known field given twice is refused.
    pub fn from_form(body: &[u8], known: &[&'static str]) -> Result<Fields, InputError> {
        let mut values = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[..0]),
            };
            let name = decode_component(raw_name)?;
            let Some(known_name) = known.iter().find(|k| **k == name) else {
                continue;
            };
            let value = decode_component(raw_value)?;
            if !seen.insert(name.clone()) {
                return Err(InputError::Repeated {
                    field: Some(known_name),
                    detail: format!("{name} is given more than once"),
                });
            }
            if value.is_empty() {
                continue;
            }
            values.insert(name, FieldValue::Text(value));
        }
        Ok(Fields {
            values,
            json_texts: HashMap::new(),
        })
    }

    /// A query string's fields; no query at all has none.
    pub fn from_query(query: Option<&str>, known: &[&'static str]) -> Result<Fields, InputError> {
        Self::from_form(query.unwrap_or_default().as_bytes(), known)
    }
}

fn decode_component(raw: &[u8]) -> Result<String, InputError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| InputError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["a", "metadata", "flag"];

    #[test]
    fn reads_raw_curl_style_forms() {
        let f = Fields::from_form(
            br#"a=Identification #12345&metadata={"my-data": 12345}"#,
            KNOWN,
        )
        .unwrap();
        assert_eq!(f.text("a").unwrap(), Some("Identification #12345"));
        assert_eq!(f.text("metadata").unwrap(), Some(r#"{"my-data": 12345}"#));
    }

    #[test]
    fn decodes_percent_and_plus() {
        let f = Fields::from_form(b"a=caf%C3%A9+au+lait%2B", KNOWN).unwrap();
        assert_eq!(f.text("a").unwrap(), Some("café au lait+"));
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert_eq!(
            Fields::from_form(b"a=%FF", KNOWN).unwrap_err(),
            InputError::NotUtf8
        );
    }

    #[test]
    fn refuses_repeated_known_fields_and_ignores_unknown_ones() {
        let e = Fields::from_form(b"a=1&a=2", KNOWN).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::Repeated {
                    field: Some("a"),
                    ..
                }
            ),
            "{e:?}"
        );
        let f = Fields::from_form(b"zzz=1&zzz=2&a=1", KNOWN).unwrap();
        assert_eq!(f.text("a").unwrap(), Some("1"));
        assert!(f.get("zzz").is_none());
    }

    #[test]
    fn empty_form_values_are_absent() {
        let f = Fields::from_form(b"a=&flag", KNOWN).unwrap();
        assert_eq!(f.text("a").unwrap(), None);
        assert_eq!(f.boolean("flag").unwrap(), None);
    }

    #[test]
    fn a_missing_query_has_no_fields() {
        let f = Fields::from_query(None, KNOWN).unwrap();
        assert_eq!(f.text("a").unwrap(), None);
        let f = Fields::from_query(Some("a=1"), KNOWN).unwrap();
        assert_eq!(f.text("a").unwrap(), Some("1"));
    }

    #[test]
    fn json_null_is_absent_and_types_are_checked() {
        let f = Fields::from_body(
            BodyFormat::Json,
            br#"{"a": null, "flag": "yes", "metadata": 5}"#,
            KNOWN,
        )
        .unwrap();
        assert_eq!(f.text("a").unwrap(), None);
        assert!(matches!(
            f.boolean("flag"),
            Err(InputError::WrongType { field: "flag", .. })
        ));
        assert!(matches!(
            f.text("metadata"),
            Err(InputError::WrongType {
                field: "metadata",
                ..
            })
        ));
        assert_eq!(f.get("metadata"), Some(&FieldValue::Json(Value::from(5))));
    }

    #[test]
    fn repeated_json_members_are_refused_at_any_depth() {
        let e = Fields::from_body(BodyFormat::Json, br#"{"a": "1", "a": "2"}"#, KNOWN).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::Repeated {
                    field: Some("a"),
                    ..
                }
            ),
            "{e:?}"
        );
        let e = Fields::from_body(
            BodyFormat::Json,
            br#"{"a": "1", "metadata": {"x": [{"y": 1, "y": 2}]}}"#,
            KNOWN,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                InputError::Repeated {
                    field: Some("metadata"),
                    ..
                }
            ),
            "{e:?}"
        );
        let e = Fields::from_body(BodyFormat::Json, br#"{"zzz": 1, "zzz": 2}"#, KNOWN).unwrap_err();
        assert!(
            matches!(e, InputError::Repeated { field: None, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn json_members_keep_their_text() {
        let f = Fields::from_body(
            BodyFormat::Json,
            br#"{"metadata": {"n": 18446744073709551617, "big": 1e400}, "a": null}"#,
            KNOWN,
        )
        .unwrap();
        assert_eq!(
            f.json_text("metadata"),
            Some(r#"{"n": 18446744073709551617, "big": 1e400}"#)
        );
        assert_eq!(f.get("metadata"), Some(&FieldValue::JsonBeyondValue));
        assert_eq!(f.json_text("a"), Some("null"));
        assert_eq!(f.get("a"), None);
    }

    #[test]
    fn json_must_be_an_object() {
        assert_eq!(
            Fields::from_body(BodyFormat::Json, b"[1]", KNOWN).unwrap_err(),
            InputError::NotAnObject
        );
        assert!(matches!(
            Fields::from_body(BodyFormat::Json, b"{", KNOWN),
            Err(InputError::NotJson(_))
        ));
    }

    #[test]
    fn content_types_are_matched_on_their_essence() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert_eq!(BodyFormat::from_headers(&h).unwrap(), BodyFormat::Json);
        h.insert(
            header::CONTENT_TYPE,
            "Application/X-WWW-Form-Urlencoded".parse().unwrap(),
        );
        assert_eq!(BodyFormat::from_headers(&h).unwrap(), BodyFormat::Form);
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert_eq!(
            BodyFormat::from_headers(&h),
            Err(InputError::UnsupportedMediaType)
        );
        assert!(BodyFormat::from_headers(&HeaderMap::new()).is_err());
    }
}
