//! Webhooks: where they may be sent (the address guard).

pub mod deliver;
pub mod guard;
pub mod signing;
