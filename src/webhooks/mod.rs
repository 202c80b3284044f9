//! Webhooks: signing (Standard Webhooks), where they may be sent (the address
//! guard), one attempt over HTTP, and the worker that drains the outbox.

pub mod deliver;
pub mod guard;
pub mod signing;
pub mod worker;
