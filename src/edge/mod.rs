//! The HTTP edge shared by the API, MyPage and the verifier: reading forms,
//! query strings and JSON objects into named fields (each caller turns an
//! `InputError` into its own answer: problem+json, a page, an OAuth error),
//! and the headers every answer carries.

pub mod address_limit;
pub mod fields;
pub mod headers;

pub use fields::{BodyFormat, FieldValue, Fields, InputError};
