//! `GET /{id}/events`: the identification's status as Server-Sent Events.
//!
//! The page learns of changes made in this process at once (a broadcast); a
//! slower re-read of the database covers changes made by another instance and
//! expiry. The stream ends after the first final status.

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::AppState;
use crate::domain::{Identification, IdentificationId};
use crate::lifecycle::StatusEvent;

/// How often an open stream re-reads the status. Changes made in this process
/// (including expiry) arrive at once by broadcast; this only catches changes
/// made elsewhere.
const RECHECK_EVERY: Duration = Duration::from_secs(5);

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

struct Watch {
    state: AppState,
    closing: tokio::sync::watch::Receiver<bool>,
    changes: broadcast::Receiver<StatusEvent>,
    last: Identification,
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
    state: AppState,
    first: Identification,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watch = Watch {
        changes: state.events.subscribe(),
        closing: state.events.closing(),
        state,
        last: first,
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
                _ = tokio::time::timeout(RECHECK_EVERY, announced(&mut w.changes, &id)) => {}
                _ = w.closing.changed() => return None,
            }
            let current = match w.state.store.find_identification(&id).await {
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
