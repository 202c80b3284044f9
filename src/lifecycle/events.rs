//! Fan-out of committed status changes within this process: open MyPages
//! (status streams) and the webhook worker listen here.

use std::sync::Arc;
use tokio::sync::{Notify, broadcast, watch};

use crate::domain::{Identification, IdentificationId, Status};

/// A committed status change, for whoever is watching.
#[derive(Debug, Clone)]
pub struct StatusEvent {
    pub id: IdentificationId,
    pub status: Status,
}

/// Fan-out of committed status changes within this process.
#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<StatusEvent>,
    /// Wakes the webhook worker when an outbox row was written.
    pub webhooks_due: Arc<Notify>,
    /// Turns true when the server starts shutting down, so long-lived
    /// responses (status streams) end and the drain can finish.
    closing: Arc<watch::Sender<bool>>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            sender: broadcast::channel(1024).0,
            webhooks_due: Arc::new(Notify::new()),
            closing: Arc::new(watch::channel(false).0),
        }
    }
}

impl Events {
    pub fn subscribe(&self) -> broadcast::Receiver<StatusEvent> {
        self.sender.subscribe()
    }

    /// Resolves once the server has begun shutting down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Tells long-lived responses to finish.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Announces a change another instance committed (heard through the
    /// database): open pages follow it, and the webhook worker looks for the
    /// outbox row it may have written.
    pub fn committed_elsewhere(&self, id: IdentificationId, status: Status) {
        let _ = self.sender.send(StatusEvent { id, status });
        self.webhooks_due.notify_one();
    }

    /// Announces a change that is already committed.
    pub fn committed(&self, ident: &Identification) {
        // No receivers is fine: nobody has the page open.
        let _ = self.sender.send(StatusEvent {
            id: ident.id.clone(),
            status: ident.status,
        });
        if ident.webhook_url.is_some() {
            self.webhooks_due.notify_one();
        }
    }
}
