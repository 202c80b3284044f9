//! Strict reading of CBOR values (ciborium): one item with nothing after it,
//! bounded nesting, maps without duplicate keys, the embedded-CBOR tag 24
//! and the date tags mdoc uses. The bytes are parsed by ciborium; this file
//! only walks what it parsed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDate};
use ciborium::Value;

/// The deepest nesting read. A DeviceResponse needs about a dozen levels.
pub const MAX_DEPTH: usize = 32;
/// Tag 24: a byte string holding an encoded CBOR data item (RFC 8949 §3.4.5.1).
pub const TAG_ENCODED_CBOR: u64 = 24;
/// Tag 0: an RFC 3339 date-time string (`tdate`).
pub const TAG_DATE_TIME: u64 = 0;
/// Tag 1004: an RFC 3339 full-date string (`full-date`, RFC 8943).
pub const TAG_FULL_DATE: u64 = 1004;

/// Why CBOR was refused. Messages name the rule, never the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    #[error("not well-formed CBOR, or nested too deep")]
    Malformed,
    #[error("bytes after the CBOR item")]
    Trailing,
    #[error("{0}")]
    Shape(&'static str),
    #[error("a map has the key {0} twice")]
    DuplicateKey(String),
}

/// The one CBOR item in `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Value, CborError> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH)
        .map_err(|_| CborError::Malformed)?;
    if !rest.is_empty() {
        return Err(CborError::Trailing);
    }
    Ok(value)
}

/// The encoding of `value` (ciborium writes the shortest form of every head).
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

/// `#6.24(bstr .cbor value)`.
pub fn embed(value: &Value) -> Value {
    Value::Tag(TAG_ENCODED_CBOR, Box::new(Value::Bytes(encode(value))))
}

/// The bytes inside a `#6.24(bstr)` and the item they hold.
pub fn embedded<'a>(value: &'a Value, what: &'static str) -> Result<(&'a [u8], Value), CborError> {
    match value {
        Value::Tag(TAG_ENCODED_CBOR, inner) => match inner.as_ref() {
            Value::Bytes(bytes) => Ok((bytes.as_slice(), decode(bytes)?)),
            _ => Err(CborError::Shape(what)),
        },
        _ => Err(CborError::Shape(what)),
    }
}

/// A map whose keys are all text and all different.
#[derive(Debug, Clone, Copy)]
pub struct TextMap<'a>(&'a [(Value, Value)]);

impl<'a> TextMap<'a> {
    pub fn of(value: &'a Value, what: &'static str) -> Result<TextMap<'a>, CborError> {
        let Value::Map(entries) = value else {
            return Err(CborError::Shape(what));
        };
        let mut seen = std::collections::HashSet::new();
        for (key, _) in entries {
            let Value::Text(key) = key else {
                return Err(CborError::Shape(what));
            };
            if !seen.insert(key.as_str()) {
                return Err(CborError::DuplicateKey(key.clone()));
            }
        }
        Ok(TextMap(entries))
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.iter().find_map(|(k, v)| match k {
            Value::Text(k) if k == key => Some(v),
            _ => None,
        })
    }

    pub fn require(&self, key: &'static str) -> Result<&'a Value, CborError> {
        self.get(key).ok_or(CborError::Shape(key))
    }

    pub fn entries(&self) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.0.iter().filter_map(|(k, v)| match k {
            Value::Text(k) => Some((k.as_str(), v)),
            _ => None,
        })
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A map from unsigned integers, such as the MSO's digest IDs, each key once.
pub fn uint_map<'a>(
    value: &'a Value,
    what: &'static str,
) -> Result<Vec<(u64, &'a Value)>, CborError> {
    let Value::Map(entries) = value else {
        return Err(CborError::Shape(what));
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let key = uint(key).ok_or(CborError::Shape(what))?;
        if !seen.insert(key) {
            return Err(CborError::DuplicateKey(key.to_string()));
        }
        out.push((key, value));
    }
    Ok(out)
}

pub fn uint(value: &Value) -> Option<u64> {
    match value {
        Value::Integer(i) => u64::try_from(*i).ok(),
        _ => None,
    }
}

pub fn text<'a>(value: &'a Value, what: &'static str) -> Result<&'a str, CborError> {
    match value {
        Value::Text(t) => Ok(t),
        _ => Err(CborError::Shape(what)),
    }
}

pub fn bytes<'a>(value: &'a Value, what: &'static str) -> Result<&'a [u8], CborError> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => Err(CborError::Shape(what)),
    }
}

pub fn array<'a>(value: &'a Value, what: &'static str) -> Result<&'a [Value], CborError> {
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(CborError::Shape(what)),
    }
}

/// A `tdate` (`#6.0(tstr)`, RFC 3339) as Unix seconds.
pub fn tdate(value: &Value, what: &'static str) -> Result<i64, CborError> {
    match value {
        Value::Tag(TAG_DATE_TIME, inner) => match inner.as_ref() {
            Value::Text(t) => DateTime::parse_from_rfc3339(t)
                .map(|d| d.timestamp())
                .map_err(|_| CborError::Shape(what)),
            _ => Err(CborError::Shape(what)),
        },
        _ => Err(CborError::Shape(what)),
    }
}

/// `#6.0(tstr)` for Unix seconds, in UTC without fractions, as ISO 18013-5 writes it.
pub fn tdate_value(unix_seconds: i64) -> Value {
    let text = DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    Value::Tag(TAG_DATE_TIME, Box::new(Value::Text(text)))
}

/// `#6.1004(tstr)` for a `YYYY-MM-DD` date, or `None` if it is not one.
pub fn full_date_value(date: &str) -> Option<Value> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(Value::Tag(
        TAG_FULL_DATE,
        Box::new(Value::Text(date.to_owned())),
    ))
}

/// A disclosed element value as JSON, for the shared data: text, booleans,
/// numbers, arrays and text-keyed maps as they are; dates (`tdate`,
/// `full-date`) as their text; byte strings (portraits) as a `data:` URL
/// whose media type comes from the image's first bytes. `None` for what JSON
/// cannot hold (other tags, undefined, non-text keys).
pub fn to_json(value: &Value) -> Option<serde_json::Value> {
    use serde_json::Value as Json;
    Some(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Text(t) => Json::String(t.clone()),
        Value::Integer(i) => {
            let i = i128::from(*i);
            match (i64::try_from(i), u64::try_from(i)) {
                (Ok(n), _) => Json::from(n),
                (_, Ok(n)) => Json::from(n),
                _ => return None,
            }
        }
        Value::Float(f) => Json::from(serde_json::Number::from_f64(*f)?),
        Value::Bytes(b) => Json::String(data_url(b)),
        Value::Tag(TAG_DATE_TIME | TAG_FULL_DATE, inner) => match inner.as_ref() {
            Value::Text(t) => Json::String(t.clone()),
            _ => return None,
        },
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect::<Option<_>>()?),
        Value::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                let Value::Text(k) = k else { return None };
                map.insert(k.clone(), to_json(v)?);
            }
            Json::Object(map)
        }
        _ => return None,
    })
}

fn data_url(bytes: &[u8]) -> String {
    let media_type = if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(b"\x00\x00\x00\x0cjP  ")
        || bytes.starts_with(&[0xff, 0x4f, 0xff, 0x51])
    {
        "image/jp2"
    } else {
        "application/octet-stream"
    };
    format!("data:{media_type};base64,{}", STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text_key(k: &str, v: Value) -> (Value, Value) {
        (Value::Text(k.into()), v)
    }

    #[test]
    fn one_item_is_read_and_trailing_bytes_are_refused() {
        assert_eq!(decode(&[0x01]).unwrap(), Value::Integer(1.into()));
        assert_eq!(decode(&[0x01, 0x02]), Err(CborError::Trailing));
        assert_eq!(decode(&[]), Err(CborError::Malformed));
        assert_eq!(decode(&[0x62, b'a']), Err(CborError::Malformed));
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused() {
        let deep = [vec![0x81u8; MAX_DEPTH + 8], vec![0x01]].concat();
        assert_eq!(decode(&deep), Err(CborError::Malformed));
        let fine = [vec![0x81u8; 8], vec![0x01]].concat();
        assert!(decode(&fine).is_ok());
    }

    #[test]
    fn maps_with_a_key_twice_or_a_key_not_text_are_refused() {
        let twice = Value::Map(vec![
            text_key("a", Value::Bool(true)),
            text_key("a", Value::Bool(false)),
        ]);
        assert_eq!(
            TextMap::of(&twice, "m").err(),
            Some(CborError::DuplicateKey("a".into()))
        );
        let int_key = Value::Map(vec![(Value::Integer(1.into()), Value::Null)]);
        assert!(TextMap::of(&int_key, "m").is_err());
        let digests = Value::Map(vec![
            (Value::Integer(1.into()), Value::Null),
            (Value::Integer(1.into()), Value::Null),
        ]);
        assert!(uint_map(&digests, "d").is_err());
    }

    #[test]
    fn tag_24_round_trips_and_other_shapes_are_refused() {
        let inner = Value::Array(vec![Value::Text("x".into())]);
        let wrapped = embed(&inner);
        let (bytes, value) = embedded(&wrapped, "w").unwrap();
        assert_eq!(value, inner);
        assert_eq!(bytes, encode(&inner).as_slice());
        assert!(embedded(&Value::Bytes(encode(&inner)), "w").is_err());
        assert!(embedded(&Value::Tag(24, Box::new(Value::Text("x".into()))), "w").is_err());
    }

    #[test]
    fn dates_are_read_and_written_in_rfc_3339() {
        let v = tdate_value(1_600_000_000);
        assert_eq!(
            v,
            Value::Tag(0, Box::new(Value::Text("2020-09-13T12:26:40Z".into())))
        );
        assert_eq!(tdate(&v, "t").unwrap(), 1_600_000_000);
        let offset = Value::Tag(0, Box::new(Value::Text("2020-09-13T14:26:40+02:00".into())));
        assert_eq!(tdate(&offset, "t").unwrap(), 1_600_000_000);
        assert!(tdate(&Value::Text("2020-09-13T12:26:40Z".into()), "t").is_err());
        assert!(
            tdate(
                &Value::Tag(0, Box::new(Value::Text("yesterday".into()))),
                "t"
            )
            .is_err()
        );
        assert_eq!(
            full_date_value("1990-05-17"),
            Some(Value::Tag(1004, Box::new(Value::Text("1990-05-17".into()))))
        );
        assert_eq!(full_date_value("17-05-1990"), None);
    }

    #[test]
    fn element_values_become_json() {
        let value = Value::Map(vec![
            text_key("name", Value::Text("Sanne".into())),
            text_key("adult", Value::Bool(true)),
            text_key(
                "born",
                Value::Tag(1004, Box::new(Value::Text("1990-05-17".into()))),
            ),
            text_key("n", Value::Integer(7.into())),
            text_key("codes", Value::Array(vec![Value::Text("NL".into())])),
            text_key("jpeg", Value::Bytes(vec![0xff, 0xd8, 0xff, 0xe0])),
        ]);
        assert_eq!(
            to_json(&value).unwrap(),
            json!({
                "name": "Sanne", "adult": true, "born": "1990-05-17", "n": 7,
                "codes": ["NL"], "jpeg": "data:image/jpeg;base64,/9j/4A=="
            })
        );
        assert_eq!(to_json(&Value::Tag(99, Box::new(Value::Null))), None);
    }
}
