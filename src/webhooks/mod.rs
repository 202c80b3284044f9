//! Webhooks: signing (Standard Webhooks), one attempt over HTTP (through the
//! guarded client of [`crate::outbound`]), the worker that drains the outbox, and the
//! test webhook an organisation sends itself.

pub mod deliver;
pub mod signing;
pub mod test_webhook;
pub mod worker;
