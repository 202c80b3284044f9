//! Webhooks: signing (Standard Webhooks), where they may be sent (the address
//! guard), one attempt over HTTP, the worker that drains the outbox, and the
//! test webhook an organisation sends itself.

pub mod deliver;
pub mod guard;
pub mod signing;
pub mod test_webhook;
pub mod worker;
