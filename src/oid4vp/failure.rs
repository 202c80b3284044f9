//! Why a wallet response failed: the identification's `failureReason`. The
//! type is the domain's (it is a member of the identification); the checks
//! here return it.

pub use crate::domain::FailureReason;
