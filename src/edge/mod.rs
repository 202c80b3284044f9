//! The HTTP edge shared by the API, MyPage and the verifier: reading forms,
//! query strings and JSON objects into named fields. Each caller turns an
//! `InputError` into its own answer (problem+json, a page, an OAuth error).

pub mod fields;

pub use fields::{BodyFormat, FieldValue, Fields, InputError};
