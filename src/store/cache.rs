//! The store's in-process caches (moka): for lookups that happen on every
//! request and almost never change (API keys and organisations briefly,
//! proofmes), and for rows only this process writes (identifications).
//!
//! On a database shared by several instances (PostgreSQL), another instance
//! may change any of these rows at any moment, and no read may be older than
//! its last committed change: there only proofme revisions, which never change
//! once created, are cached; everything else is read from the database each time.

use moka::ops::compute::Op;
use moka::sync::Cache;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::api_keys::LAST_USED_RESOLUTION;
use super::{ApiKey, Organisation};
use crate::domain::proofme::Proofme;
use crate::domain::{
    ApiKeyId, Identification, IdentificationId, OrganisationId, ProofmeId, Timestamp,
};

/// How long a looked-up API key is trusted without asking the database again:
/// a key revoked by another process stops working within this time.
pub const API_KEY_CACHE_TTL: Duration = Duration::from_secs(1);

pub(super) struct Caches {
    /// False when other instances write the same database.
    local: bool,
    /// With when each was looked up (see `API_KEY_CACHE_TTL`).
    api_keys: Cache<String, (ApiKey, Timestamp)>,
    organisations: Cache<OrganisationId, Organisation>,
    /// Proofme revisions, which never change once written.
    pub proofmes: Cache<(OrganisationId, ProofmeId, i64), Proofme>,
    /// Which revision of a proofme is current: an edit changes it.
    current_revisions: Cache<(OrganisationId, ProofmeId), i64>,
    identifications: WriteThrough<IdentificationId, Identification>,
    /// Keys whose last use this process wrote within `LAST_USED_RESOLUTION`.
    /// Not a cache of rows (nothing is read from it), so it serves on every
    /// engine: the write itself is conditional in the database.
    pub key_uses: Cache<ApiKeyId, ()>,
}

impl Caches {
    /// For a database other instances write too: only what never changes.
    pub fn shared() -> Caches {
        Caches {
            local: false,
            ..Caches::default()
        }
    }

    /// API keys by secret hash, if they may be cached here.
    pub fn api_keys(&self) -> Option<&Cache<String, (ApiKey, Timestamp)>> {
        self.local.then_some(&self.api_keys)
    }

    /// Organisations by id, if they may be cached here.
    pub fn organisations(&self) -> Option<&Cache<OrganisationId, Organisation>> {
        self.local.then_some(&self.organisations)
    }

    /// Current proofme revisions, if they may be cached here (an edit made
    /// here updates them; see `Store::update_proofme`).
    pub fn current_revisions(&self) -> Option<&Cache<(OrganisationId, ProofmeId), i64>> {
        self.local.then_some(&self.current_revisions)
    }

    /// The cached identification, or the generation to hand to
    /// `identification_read` after reading it from the database.
    pub fn identification(&self, id: &IdentificationId) -> Result<Identification, u64> {
        if self.local {
            self.identifications.get(id)
        } else {
            Err(0)
        }
    }

    /// After a committed write of the identification.
    pub fn identification_written(&self, ident: &Identification) {
        if self.local {
            self.identifications
                .written(ident.id.clone(), ident.clone());
        }
    }

    /// After a read of the identification that began at `generation`.
    pub fn identification_read(&self, generation: u64, ident: &Identification) {
        if self.local {
            self.identifications
                .fill(generation, ident.id.clone(), ident.clone());
        }
    }
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            local: true,
            api_keys: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(API_KEY_CACHE_TTL)
                .build(),
            // Organisations change rarely (the end-to-end recipient), but another
            // process (the admin command) may change them: trust for a second.
            organisations: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(API_KEY_CACHE_TTL)
                .build(),
            proofmes: Cache::new(10_000),
            current_revisions: Cache::new(10_000),
            identifications: WriteThrough::new(50_000),
            key_uses: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(LAST_USED_RESOLUTION)
                .build(),
        }
    }
}

/// A read-through, write-through cache of rows that this process alone writes
/// (identifications: every write goes through the store's single writer).
///
/// A reader that fetched a row from the database may only cache it if no
/// write was recorded since the reader started (`generation`): otherwise it
/// could put back a row older than the one a writer just cached. Writes and
/// fills of one key are serialised by the cache's per-key lock
/// (`and_compute_with`), and a write counts itself before it puts its row.
pub struct WriteThrough<K, V> {
    generation: AtomicU64,
    entries: Cache<K, V>,
}

impl<K, V> WriteThrough<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(capacity: u64) -> Self {
        WriteThrough {
            generation: AtomicU64::new(0),
            entries: Cache::new(capacity),
        }
    }

    /// The cached value, or the generation to hand to `fill` after a read.
    pub fn get(&self, key: &K) -> Result<V, u64> {
        // Read before looking: any write after this point refuses the fill.
        let generation = self.generation.load(Ordering::SeqCst);
        self.entries.get(key).ok_or(generation)
    }

    /// After a committed write: always wins.
    pub fn written(&self, key: K, value: V) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.entry(key).and_compute_with(|_| Op::Put(value));
    }

    /// After a read from the database that began at `generation`.
    pub fn fill(&self, generation: u64, key: K, value: V) {
        self.entries.entry(key).and_compute_with(|_| {
            if self.generation.load(Ordering::SeqCst) == generation {
                Op::Put(value)
            } else {
                Op::Nop
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_their_ttl() {
        let c: Cache<&str, i32> = Cache::builder()
            .max_capacity(10)
            .time_to_live(Duration::from_millis(20))
            .build();
        c.insert("a", 1);
        assert_eq!(c.get(&"a"), Some(1));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(c.get(&"a"), None);
    }

    #[test]
    fn a_full_cache_stays_within_its_capacity() {
        let c: Cache<i32, i32> = Cache::new(100);
        for i in 0..1_000 {
            c.insert(i, i);
        }
        c.run_pending_tasks();
        assert!(c.entry_count() <= 100, "{}", c.entry_count());
    }

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
    fn an_evicted_entry_still_refuses_stale_fills() {
        let c = WriteThrough::new(10);
        let generation = c.get(&"a").unwrap_err();
        c.written("a", "new");
        // Evicted (the cache was full): the written row is gone.
        c.entries.invalidate(&"a");
        c.fill(generation, "a", "old");
        assert!(c.get(&"a").is_err());
    }
}
