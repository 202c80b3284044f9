//! Requests we make to addresses that others choose: webhook receivers and
//! credential issuers' status lists. The address guard decides what is
//! public, and the client enforces it on every address actually connected to.

pub mod client;
pub mod guard;
