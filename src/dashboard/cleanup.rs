//! The dashboard's background job: ended sessions and sign-in failures too
//! old to count are deleted now and then, so that neither table grows
//! without bound.

use std::time::Duration;
use tower_sessions::session_store::ExpiredDeletion;

use super::login::FAILURE_WINDOW;
use crate::background::{Failures, every};
use crate::store::Store;

/// How often ended sessions and old sign-in failures are deleted.
pub const CLEANUP_EVERY: Duration = Duration::from_secs(600);

pub async fn cleanup(store: Store, period: Duration) {
    const JOB: &str = "dashboard session cleanup";
    let mut tick = every(period);
    let mut failures = Failures::default();
    loop {
        tick.tick().await;
        let cutoff = store.clock().now().minus(FAILURE_WINDOW);
        if let Err(e) = store.sessions().delete_expired().await {
            tracing::warn!(error = %e, "ended dashboard sessions could not be deleted");
        }
        match store.prune_login_failures(cutoff).await {
            Ok(_) => failures.succeeded(JOB),
            Err(e) => failures.failed(JOB, &e),
        }
    }
}
