//! Integrator metadata: any JSON value of at most 1024 bytes as compact JSON,
//! kept as the JSON text that was sent (white space between tokens removed),
//! so numbers keep every digit and strings every escape: parsing into
//! `serde_json::Value` would round numbers beyond 64 bits through `f64`.

use serde_json::value::RawValue;

use super::json::{StrictJsonError, check_strict, minify};

/// Stored and returned as given. Never JSON `null` (that reads as absent).
#[derive(Debug, Clone)]
pub struct Metadata(Box<RawValue>);

impl PartialEq for Metadata {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMetadata {
    #[error("must be at most 1024 bytes as compact JSON (it is {0} bytes)")]
    TooLarge(usize),
    #[error("has the member `{0}` more than once")]
    DuplicateMember(String),
    #[error("must be JSON")]
    NotJson,
}

impl Metadata {
    pub const MAX_BYTES: usize = 1024;

    /// A JSON value as sent. `None` for JSON `null`: null counts as absent.
    pub fn from_json_text(text: &str) -> Result<Option<Self>, InvalidMetadata> {
        match check_strict(text) {
            Ok(()) => Self::compact(minify(text)),
            Err(StrictJsonError::DuplicateMember(name)) => {
                Err(InvalidMetadata::DuplicateMember(name))
            }
            Err(StrictJsonError::TooDeep | StrictJsonError::Invalid(_)) => {
                Err(InvalidMetadata::NotJson)
            }
        }
    }

    /// A form field: a string that parses as JSON is that JSON, otherwise the
    /// string. JSON with a member given twice is refused, not taken for a string.
    pub fn from_form(s: &str) -> Result<Option<Self>, InvalidMetadata> {
        match Self::from_json_text(s) {
            Err(InvalidMetadata::NotJson) => Self::compact(serde_json::Value::from(s).to_string()),
            other => other,
        }
    }

    /// Compact JSON as stored by `to_json_string`.
    pub fn from_stored(text: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text).map(Self)
    }

    fn compact(text: String) -> Result<Option<Self>, InvalidMetadata> {
        if text == "null" {
            return Ok(None);
        }
        if text.len() > Self::MAX_BYTES {
            return Err(InvalidMetadata::TooLarge(text.len()));
        }
        RawValue::from_string(text)
            .map(|raw| Some(Self(raw)))
            .map_err(|_| InvalidMetadata::NotJson)
    }

    /// The JSON, for a response to embed as it is.
    pub fn raw(&self) -> &RawValue {
        &self.0
    }

    /// Compact JSON, as stored.
    pub fn to_json_string(&self) -> String {
        self.0.get().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: Option<Metadata>) -> String {
        m.expect("metadata").to_json_string()
    }

    #[test]
    fn form_strings_that_parse_as_json_become_json() {
        let m = Metadata::from_form(r#"{"my-data": 12345}"#).unwrap();
        assert_eq!(text(m), r#"{"my-data":12345}"#);
        assert_eq!(text(Metadata::from_form("42").unwrap()), "42");
    }

    #[test]
    fn other_form_strings_stay_strings() {
        assert_eq!(
            text(Metadata::from_form("order 12345").unwrap()),
            r#""order 12345""#
        );
        assert_eq!(
            text(Metadata::from_form("{not json").unwrap()),
            r#""{not json""#
        );
        assert_eq!(
            text(Metadata::from_form("say \"hi\"\n").unwrap()),
            r#""say \"hi\"\n""#
        );
    }

    #[test]
    fn null_is_absent() {
        assert_eq!(Metadata::from_json_text("null"), Ok(None));
        assert_eq!(Metadata::from_json_text(" null "), Ok(None));
        assert_eq!(Metadata::from_form("null"), Ok(None));
    }

    #[test]
    fn numbers_and_strings_are_kept_exactly() {
        for exact in [
            "18446744073709551617",
            "-0.000000000000000000000000001",
            "1.50e+3",
            r#"{"big":[18446744073709551617,1e400]}"#,
            r#""caf\u00e9 \/""#,
        ] {
            assert_eq!(text(Metadata::from_json_text(exact).unwrap()), exact);
            assert_eq!(text(Metadata::from_form(exact).unwrap()), exact);
        }
    }

    #[test]
    fn duplicate_members_are_refused_even_in_forms() {
        let dup = r#"{"a": {"b": 1, "b": 2}}"#;
        assert_eq!(
            Metadata::from_json_text(dup),
            Err(InvalidMetadata::DuplicateMember("b".into()))
        );
        assert_eq!(
            Metadata::from_form(dup),
            Err(InvalidMetadata::DuplicateMember("b".into()))
        );
    }

    #[test]
    fn the_limit_is_1024_bytes_of_compact_json() {
        // A string of n chars is n + 2 bytes with its quotes.
        assert!(Metadata::from_form(&"a".repeat(1022)).is_ok());
        assert_eq!(
            Metadata::from_form(&"a".repeat(1023)),
            Err(InvalidMetadata::TooLarge(1025))
        );
        // White space in the input does not count: compact JSON does.
        let spaced = format!("[{}1]", " ".repeat(2000));
        assert_eq!(text(Metadata::from_form(&spaced).unwrap()), "[1]");
        // Multibyte characters count in bytes.
        assert!(Metadata::from_form(&"é".repeat(512)).is_err());
    }

    #[test]
    fn stored_text_reads_back_the_same() {
        let m = Metadata::from_json_text(r#"{ "n": 18446744073709551617 }"#)
            .unwrap()
            .unwrap();
        assert_eq!(Metadata::from_stored(m.to_json_string()).unwrap(), m);
    }
}
