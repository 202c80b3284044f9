//! The cryptographic core of the OpenID4VP verifier (DESIGN 4a).

pub mod jose;
