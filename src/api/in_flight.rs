//! Idempotency keys whose first request is still being handled, so that a
//! concurrent duplicate gets 409 instead of racing the first one.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Clone, Default)]
pub struct InFlight {
    keys: Arc<Mutex<HashSet<(String, String)>>>,
}

/// Holds a claimed key; dropping it (on any return path) releases the key.
pub struct Claim {
    owner: InFlight,
    entry: (String, String),
}

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, HashSet<(String, String)>> {
        // The set stays consistent even if a holder panicked: recover it.
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `None` when the same API key's request with this idempotency key is running.
    pub fn claim(&self, api_key_id: &str, key: &str) -> Option<Claim> {
        let entry = (api_key_id.to_owned(), key.to_owned());
        self.lock().insert(entry.clone()).then(|| Claim {
            owner: self.clone(),
            entry,
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.owner.lock().remove(&self.entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_can_be_claimed_once_until_released() {
        let f = InFlight::default();
        let first = f.claim("key_a", "k1");
        assert!(first.is_some());
        assert!(f.claim("key_a", "k1").is_none());
        assert!(f.claim("key_b", "k1").is_some(), "keys are per API key");
        drop(first);
        assert!(f.claim("key_a", "k1").is_some());
    }
}
