//! The one strict JSON reader: a member given twice in one object is an
//! error at any depth (serde_json would keep the last one, so two readers of
//! the same text could see different values), and nesting is bounded.
//! `check_strict` reads JSON as integrators send it, to be kept as the text
//! that was sent (only without white space): it never turns numbers into
//! `f64`, so none is rounded or refused for its size. `parse_strict` is for
//! readers that need a `Value` (JOSE headers and claims): the same checks,
//! then serde_json's own.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::fmt;

/// As deep as serde_json itself parses.
const MAX_DEPTH: usize = 128;

/// Why a text is not acceptable JSON.
#[derive(Debug, thiserror::Error)]
pub enum StrictJsonError {
    /// An object has this member twice.
    #[error("the member `{0}` is given more than once")]
    DuplicateMember(String),
    /// Arrays and objects nested deeper than serde_json parses.
    #[error("it is nested more than {MAX_DEPTH} levels deep")]
    TooDeep,
    /// Not JSON at all.
    #[error("{0}")]
    Invalid(serde_json::Error),
}

/// Checks that `text` is one JSON value with no object holding a member twice.
pub fn check_strict(text: &str) -> Result<(), StrictJsonError> {
    let raw: &RawValue = serde_json::from_str(text).map_err(StrictJsonError::Invalid)?;
    check_members(raw.get(), 0)
}

/// `bytes` as one JSON value, with the checks of [`check_strict`] and those
/// of serde_json besides: valid UTF-8 throughout, nothing after the value,
/// nesting within serde_json's own limit, and no number beyond an `f64`'s
/// range (an integer beyond 64 bits becomes the nearest `f64`, as in any
/// `Value`).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    // Reading the raw value first checks the UTF-8 and the trailing bytes
    // without building anything; the members are checked before the value
    // is built, so a repeat is refused, never silently dropped.
    let raw: &RawValue = serde_json::from_slice(bytes).map_err(StrictJsonError::Invalid)?;
    check_members(raw.get(), 0)?;
    serde_json::from_str(raw.get()).map_err(StrictJsonError::Invalid)
}

/// The members of an object, or the items of an array, each as its text.
enum Children<'a> {
    Object(Vec<(String, &'a RawValue)>),
    Array(Vec<&'a RawValue>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Children<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ChildrenVisitor;

        impl<'de> Visitor<'de> for ChildrenVisitor {
            type Value = Children<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object or an array")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Children<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    members.push((name, map.next_value::<&'de RawValue>()?));
                }
                Ok(Children::Object(members))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Children<'de>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    items.push(item);
                }
                Ok(Children::Array(items))
            }
        }

        d.deserialize_any(ChildrenVisitor)
    }
}

/// `text` is valid JSON. Each level is read as raw text and its children
/// looked at in turn, so the work is the size times the depth (bounded).
fn check_members(text: &str, depth: usize) -> Result<(), StrictJsonError> {
    if !text.starts_with(['{', '[']) {
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Err(StrictJsonError::TooDeep);
    }
    let children: Children = serde_json::from_str(text).map_err(StrictJsonError::Invalid)?;
    let values = match children {
        Children::Object(members) => {
            let mut seen = HashSet::with_capacity(members.len());
            for (name, _) in &members {
                if !seen.insert(name.as_str()) {
                    return Err(StrictJsonError::DuplicateMember(name.clone()));
                }
            }
            members.into_iter().map(|(_, v)| v).collect::<Vec<_>>()
        }
        Children::Array(items) => items,
    };
    values
        .into_iter()
        .try_for_each(|v| check_members(v.get(), depth + 1))
}

/// The members of a JSON object text, each with its value's text, in order;
/// `None` when the text is JSON but not an object. Only this object's own
/// members are checked for repeats: check each value with `check_strict`.
pub fn object_members(text: &str) -> Result<Option<Vec<(String, &RawValue)>>, StrictJsonError> {
    let raw: &RawValue = serde_json::from_str(text).map_err(StrictJsonError::Invalid)?;
    let Ok(Children::Object(members)) = serde_json::from_str::<Children>(raw.get()) else {
        return Ok(None);
    };
    let mut seen = HashSet::with_capacity(members.len());
    for (name, _) in &members {
        if !seen.insert(name.as_str()) {
            return Err(StrictJsonError::DuplicateMember(name.clone()));
        }
    }
    Ok(Some(members))
}

/// `text` (valid JSON) without the white space between tokens. Strings and
/// numbers stay exactly as written, escapes included.
pub fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_json_with_distinct_members() {
        for text in [
            r#"{"a": [1, -2, 3.5, "x", true, null, {"b": {}}]}"#,
            "18446744073709551617",
            "1e400",
            r#"{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}"#,
        ] {
            assert!(check_strict(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn refuses_duplicate_members_at_any_depth() {
        for (text, name) in [
            (r#"{"a": 1, "a": 2}"#, "a"),
            (r#"{"a": {"b": 1, "c": 2, "b": 3}}"#, "b"),
            (r#"[1, {"x": [{"y": 0, "y": 0}]}]"#, "y"),
            (r#"{"a": 1, "\u0061": 2}"#, "a"),
        ] {
            match check_strict(text) {
                Err(StrictJsonError::DuplicateMember(n)) => assert_eq!(n, name, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_what_is_not_json_and_what_is_too_deep() {
        for text in ["", "{", "[1,]", "1 2", "{\"a\" 1}"] {
            assert!(
                matches!(check_strict(text), Err(StrictJsonError::Invalid(_))),
                "{text:?}"
            );
        }
        let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
        assert!(matches!(check_strict(&deep), Err(StrictJsonError::TooDeep)));
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(check_strict(&fine).is_ok());
    }

    #[test]
    fn parse_strict_builds_the_value_and_refuses_repeats_at_any_depth() {
        assert_eq!(
            parse_strict(br#" {"a": [1, {"b": "x"}], "c": null} "#).unwrap(),
            json!({"a": [1, {"b": "x"}], "c": null})
        );
        for text in [
            r#"{"a": 1, "a": 2}"#,
            r#"[{"a": {"b": 1, "b": 1}}]"#,
            r#"{"a": 1, "\u0061": 2}"#,
        ] {
            assert!(
                matches!(
                    parse_strict(text.as_bytes()),
                    Err(StrictJsonError::DuplicateMember(_))
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn parse_strict_refuses_bad_utf8_trailing_data_and_deep_nesting() {
        assert!(matches!(
            parse_strict(b"{\"a\": \"\xff\"}"),
            Err(StrictJsonError::Invalid(_))
        ));
        assert!(matches!(
            parse_strict(b"{} {}"),
            Err(StrictJsonError::Invalid(_))
        ));
        // Deeper than either limit: refused before anything recurses.
        let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
        assert!(matches!(
            parse_strict(deep.as_bytes()),
            Err(StrictJsonError::TooDeep)
        ));
        // Within `check_strict`'s bound but at serde_json's own: still refused.
        let at_limit = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(check_strict(&at_limit).is_ok());
        assert!(parse_strict(at_limit.as_bytes()).is_err());
    }

    #[test]
    fn parse_strict_refuses_a_number_no_f64_holds() {
        // `check_strict` keeps the text, so it takes any number; a `Value`
        // would have to hold it as an f64.
        assert!(check_strict("[1e400]").is_ok());
        assert!(matches!(
            parse_strict(b"[1e400]"),
            Err(StrictJsonError::Invalid(_))
        ));
        assert_eq!(parse_strict(b"-1.5e3").unwrap(), json!(-1500.0));
    }

    #[test]
    fn object_members_come_in_order_with_their_text() {
        let members = object_members(r#" {"b": [1, 2], "a": 18446744073709551617} "#)
            .unwrap()
            .unwrap();
        let pairs: Vec<(&str, &str)> = members.iter().map(|(k, v)| (k.as_str(), v.get())).collect();
        assert_eq!(pairs, [("b", "[1, 2]"), ("a", "18446744073709551617")]);
        assert!(object_members("[1]").unwrap().is_none());
        assert!(matches!(
            object_members(r#"{"a": 1, "a": 1}"#),
            Err(StrictJsonError::DuplicateMember(_))
        ));
        // A nested repeat is left to `check_strict` on the member.
        let nested = object_members(r#"{"m": {"x": 1, "x": 2}}"#)
            .unwrap()
            .unwrap();
        assert!(check_strict(nested[0].1.get()).is_err());
    }

    #[test]
    fn minify_drops_white_space_between_tokens_only() {
        let text = "{ \"a b\" :\t[ 1 ,\n18446744073709551617 , \"x \\\" y\" ] ,\r\"c\": 1.50e+3 }";
        assert_eq!(
            minify(text),
            r#"{"a b":[1,18446744073709551617,"x \" y"],"c":1.50e+3}"#
        );
        assert_eq!(minify(r#""\\" "#), r#""\\""#);
        assert!(check_strict(&minify(text)).is_ok());
        assert_eq!(minify(&json!({"k": "v"}).to_string()), r#"{"k":"v"}"#);
    }
}
