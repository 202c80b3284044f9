//! The cryptographic core of the OpenID4VP verifier (DESIGN 4a).

pub mod jose;
pub mod x509;
