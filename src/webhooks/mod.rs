//! Webhooks: where they may be sent (the address guard).

pub mod guard;
