//! `GET /{id}/events`: the identification's status as Server-Sent Events.
//!
//! The page learns of changes made in this process at once (a broadcast); a
//! slower re-read of the database covers changes made by another instance and
//! expiry. The stream ends after the first final status.

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::domain::{Identification, IdentificationId};
use crate::lifecycle::{Events, StatusEvent};
use crate::store::Store;

/// A comment this often keeps proxies from closing an idle stream, and is how
/// the server notices a customer who left: writing to a closed connection fails.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(10);

fn status_event(ident: &Identification) -> Event {
    let final_ = ident.status.is_final();
    let data = serde_json::json!({
        "status": ident.status.code(),
        "statusName": ident.status.name(),
        "final": final_,
        "redirectUrl": final_.then(|| ident.redirect_url.as_str()),
    });
    Event::default().event("status").data(data.to_string())
}

/// Counts of open status streams, per identification and per client
/// address, each capped: a stream holds a task, a subscription and a
/// connection for as long as the page is open.
pub struct StreamSlots {
    per_identification: usize,
    per_address: usize,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    by_identification: HashMap<IdentificationId, usize>,
    by_address: HashMap<IpAddr, usize>,
}

fn take<K: Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
    *map.entry(key).or_default() += 1;
}

fn give_back<K: Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            map.remove(key);
        }
    }
}

/// One open stream's place; given back when the stream ends.
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    id: IdentificationId,
    address: Option<IpAddr>,
}

impl StreamSlots {
    pub fn new(per_identification: usize, per_address: usize) -> StreamSlots {
        StreamSlots {
            per_identification,
            per_address,
            counts: Mutex::new(Counts::default()),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more stream, or `None` when the identification or the
    /// address already has its limit.
    pub fn take(
        self: &Arc<Self>,
        id: &IdentificationId,
        address: Option<IpAddr>,
    ) -> Option<StreamSlot> {
        let mut counts = self.counts();
        let for_id = counts.by_identification.get(id).copied().unwrap_or(0);
        let for_address = address
            .and_then(|a| counts.by_address.get(&a).copied())
            .unwrap_or(0);
        if for_id >= self.per_identification || for_address >= self.per_address {
            return None;
        }
        take(&mut counts.by_identification, id.clone());
        if let Some(a) = address {
            take(&mut counts.by_address, a);
        }
        Some(StreamSlot {
            slots: self.clone(),
            id: id.clone(),
            address,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut counts = self.slots.counts();
        give_back(&mut counts.by_identification, &self.id);
        if let Some(a) = &self.address {
            give_back(&mut counts.by_address, a);
        }
    }
}

struct Watch {
    store: Store,
    _slot: StreamSlot,
    closing: tokio::sync::watch::Receiver<bool>,
    changes: broadcast::Receiver<StatusEvent>,
    last: Identification,
    recheck: Duration,
    started: bool,
    done: bool,
}

/// Waits until this identification is announced as changed, or the channel
/// lagged (we may have missed it), whichever comes first.
async fn announced(changes: &mut broadcast::Receiver<StatusEvent>, id: &IdentificationId) {
    loop {
        match changes.recv().await {
            Ok(ev) if ev.id == *id => return,
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// The stream for an identification that exists: its current status, then
/// each change, until a final one. It subscribes before the first status is
/// sent, so no change can fall between the two.
pub fn stream(
    store: Store,
    events: Events,
    first: Identification,
    slot: StreamSlot,
    recheck: Duration,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watch = Watch {
        _slot: slot,
        changes: events.subscribe(),
        closing: events.closing(),
        store,
        last: first,
        recheck,
        started: false,
        done: false,
    };
    let events = futures::stream::unfold(watch, |mut w| async move {
        if w.done {
            return None;
        }
        if !w.started {
            w.started = true;
            w.done = w.last.status.is_final();
            return Some((Ok(status_event(&w.last)), w));
        }
        loop {
            let id = w.last.id.clone();
            // The page script reconnects after a shutdown; a stream must not
            // hold the server's drain open.
            if *w.closing.borrow() {
                return None;
            }
            tokio::select! {
                _ = tokio::time::timeout(w.recheck, announced(&mut w.changes, &id)) => {}
                _ = w.closing.changed() => return None,
            }
            let current = match w.store.find_identification(&id).await {
                Ok(Some(i)) => i,
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "status stream could not read the identification");
                    continue;
                }
            };
            if current.status != w.last.status {
                w.done = current.status.is_final();
                w.last = current;
                return Some((Ok(status_event(&w.last)), w));
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE_EVERY))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn streams_are_capped_per_identification_and_per_address() {
        let slots = Arc::new(StreamSlots::new(2, 3));
        let a = IdentificationId::generate();
        let b = IdentificationId::generate();
        let first = slots.take(&a, ip("10.0.0.1")).expect("first");
        let _second = slots.take(&a, ip("10.0.0.2")).expect("second");
        assert!(
            slots.take(&a, ip("10.0.0.3")).is_none(),
            "a third for one id"
        );
        let _third = slots.take(&b, ip("10.0.0.1")).expect("another id");
        let _fourth = slots.take(&b, ip("10.0.0.1")).expect("another id");
        assert!(
            slots
                .take(&IdentificationId::generate(), ip("10.0.0.1"))
                .is_none(),
            "a fourth for one address"
        );

        drop(first);

        assert!(
            slots.take(&a, ip("10.0.0.3")).is_some(),
            "a place came free"
        );
    }
}
