//! Integrator metadata: any JSON value of at most 1024 bytes as compact JSON.

use serde_json::Value;

/// Stored and returned as given. Never JSON `null` (that reads as absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata(Value);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be at most 1024 bytes as compact JSON (it is {0} bytes)")]
pub struct MetadataTooLarge(pub usize);

impl Metadata {
    pub const MAX_BYTES: usize = 1024;

    /// `None` for JSON `null`: null counts as absent.
    pub fn from_json(value: Value) -> Result<Option<Self>, MetadataTooLarge> {
        if value.is_null() {
            return Ok(None);
        }
        let len = value.to_string().len();
        if len > Self::MAX_BYTES {
            return Err(MetadataTooLarge(len));
        }
        Ok(Some(Self(value)))
    }

    /// A form field: a string that parses as JSON is that JSON, otherwise the string.
    pub fn from_form(s: &str) -> Result<Option<Self>, MetadataTooLarge> {
        let value = serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()));
        Self::from_json(value)
    }

    pub fn value(&self) -> &Value {
        &self.0
    }

    /// Compact JSON, as stored.
    pub fn to_json_string(&self) -> String {
        self.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_strings_that_parse_as_json_become_json() {
        let m = Metadata::from_form(r#"{"my-data": 12345}"#)
            .unwrap()
            .unwrap();
        assert_eq!(m.value(), &json!({"my-data": 12345}));
        assert_eq!(m.to_json_string(), r#"{"my-data":12345}"#);
        let n = Metadata::from_form("42").unwrap().unwrap();
        assert_eq!(n.value(), &json!(42));
    }

    #[test]
    fn other_form_strings_stay_strings() {
        let m = Metadata::from_form("order 12345").unwrap().unwrap();
        assert_eq!(m.value(), &json!("order 12345"));
        let broken = Metadata::from_form("{not json").unwrap().unwrap();
        assert_eq!(broken.value(), &json!("{not json"));
    }

    #[test]
    fn null_is_absent() {
        assert_eq!(Metadata::from_json(Value::Null), Ok(None));
        assert_eq!(Metadata::from_form("null"), Ok(None));
    }

    #[test]
    fn the_limit_is_1024_bytes_of_compact_json() {
        // A string of n chars serializes to n + 2 bytes with its quotes.
        assert!(Metadata::from_json(json!("a".repeat(1022))).is_ok());
        assert_eq!(
            Metadata::from_json(json!("a".repeat(1023))),
            Err(MetadataTooLarge(1025))
        );
        // Whitespace in the input does not count: compact JSON does.
        let spaced = format!("[{}1]", " ".repeat(2000));
        assert!(Metadata::from_form(&spaced).is_ok());
        // Multibyte characters count in bytes.
        assert!(Metadata::from_json(json!("é".repeat(512))).is_err());
    }
}
