//! Small in-process caches: for lookups that happen on every request and
//! almost never change (API keys briefly, organisations, proofmes), for rows
//! only this process writes (identifications), and for work worth doing once
//! (QR codes, rendered pages).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A bounded map whose entries expire after `ttl` (`None`: never). When full it
/// starts over: simpler than LRU bookkeeping, and a refill costs one query per
/// entry that is still in use.
pub struct Cache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    ttl: Option<Duration>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    pub fn new(capacity: usize, ttl: Option<Duration>) -> Self {
        Cache {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.lock();
        let (value, stored) = entries.get(key)?;
        match self.ttl {
            Some(ttl) if stored.elapsed() >= ttl => None,
            _ => Some(value.clone()),
        }
    }

    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_their_ttl() {
        let c = Cache::new(10, Some(Duration::from_millis(20)));
        c.insert("a", 1);
        assert_eq!(c.get(&"a"), Some(1));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(c.get(&"a"), None);
    }

    #[test]
    fn a_full_cache_starts_over() {
        let c = Cache::new(2, None);
        c.insert(1, "a");
        c.insert(2, "b");
        c.insert(3, "c");
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&3), Some("c"));
    }
}

/// A read-through, write-through cache of rows that this process alone writes
/// (identifications: every write goes through the store's single writer).
///
/// A reader that fetched a row from the database may only cache it if no
/// write was recorded since the reader started (`generation`): otherwise it
/// could put back a row older than the one a writer just cached.
pub struct WriteThrough<K, V> {
    inner: Mutex<WriteThroughInner<K, V>>,
    capacity: usize,
}

struct WriteThroughInner<K, V> {
    generation: u64,
    entries: HashMap<K, V>,
}

impl<K: Eq + Hash, V: Clone> WriteThrough<K, V> {
    pub fn new(capacity: usize) -> Self {
        WriteThrough {
            inner: Mutex::new(WriteThroughInner {
                generation: 0,
                entries: HashMap::new(),
            }),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriteThroughInner<K, V>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached value, or the generation to hand to `fill` after a read.
    pub fn get(&self, key: &K) -> Result<V, u64> {
        let inner = self.lock();
        inner.entries.get(key).cloned().ok_or(inner.generation)
    }

    /// After a committed write: always wins.
    pub fn written(&self, key: K, value: V) {
        let mut inner = self.lock();
        inner.generation += 1;
        if inner.entries.len() >= self.capacity {
            inner.entries.clear();
        }
        inner.entries.insert(key, value);
    }

    /// After a read from the database that began at `generation`.
    pub fn fill(&self, generation: u64, key: K, value: V) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= self.capacity {
            inner.entries.clear();
        }
        inner.entries.insert(key, value);
    }
}

#[cfg(test)]
mod write_through_tests {
    use super::*;

    #[test]
    fn a_read_that_raced_a_write_does_not_overwrite_it() {
        let c = WriteThrough::new(10);
        let generation = c.get(&"id").unwrap_err();
        c.written("id", "new");
        c.fill(generation, "id", "old");
        assert_eq!(c.get(&"id"), Ok("new"));
    }

    #[test]
    fn a_read_without_writes_in_between_is_cached() {
        let c = WriteThrough::new(10);
        let generation = c.get(&"id").unwrap_err();
        c.fill(generation, "id", "row");
        assert_eq!(c.get(&"id"), Ok("row"));
    }

    #[test]
    fn a_cleared_cache_still_refuses_stale_fills() {
        let c = WriteThrough::new(1);
        let generation = c.get(&"a").unwrap_err();
        c.written("a", "new");
        c.written("b", "other"); // full: starts over, "a" is gone
        c.fill(generation, "a", "old");
        assert!(c.get(&"a").is_err());
    }
}
