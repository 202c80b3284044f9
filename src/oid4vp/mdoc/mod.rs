//! ISO/IEC 18013-5 mdocs presented over OpenID4VP 1.0 (Appendix B.2): the
//! format of the EU age-verification app, the mdoc PID and mobile driving
//! licences.
//!
//! CBOR is read and written by ciborium and COSE by coset (RFC 9052; both
//! maintained, and what the Rust COSE ecosystem shares); signatures are
//! RustCrypto's P-256 and certificate chains go through [`super::x509`]
//! like SD-JWT's. What is ours is the mdoc structure on top, each rule of
//! it a function in [`verify`] with its own test.

pub mod cbor;
pub mod cose;
pub mod issue;
pub mod present;
pub mod sample;
pub mod transcript;
pub mod verify;

#[cfg(test)]
mod tests;

pub use verify::{Expectations, verify_presentation};
