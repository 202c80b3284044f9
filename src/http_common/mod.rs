//! What every HTTP handler shares: reading forms, query strings and JSON
//! objects into named fields (each caller turns an `InputError` into its own
//! answer: problem+json, a page, an OAuth error), the headers every answer
//! carries, and rate limiting per client address.

pub mod address_limit;
pub mod fields;
pub mod headers;

pub use fields::{BodyFormat, FieldValue, Fields, InputError};
