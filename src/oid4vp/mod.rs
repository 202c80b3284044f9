//! The cryptographic core of the OpenID4VP verifier (DESIGN 4a, 4b): JOSE,
//! X.509 trust, SD-JWT VC and ISO mdoc presentation checks, the DCQL query
//! and claim map, and the issuer and wallet side used by the test issuer,
//! the wallet command and tests.
//!
//! No I/O but the system random source (keys, salts, IVs), and no clock:
//! every check takes `now` (Unix seconds) from the caller.

pub mod dcql;
pub mod failure;
pub mod holder;
pub mod jose;
pub mod mdoc;
pub mod outcome;
pub mod sdjwt;
pub mod status_list;
pub mod x509;

pub use failure::FailureReason;
pub use outcome::{Rejection, Verified};
pub use sdjwt::{Expectations, verify_presentation};
pub use x509::TrustAnchors;
