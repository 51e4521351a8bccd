//! What the writer remembers for the life of a function instance: the API user and the tags
//! known to exist, each for a short expiry ([`crate::expiring`]), and one lock per entry key.
//!
//! Records of one batch that need the same value wait for one call to Kimai (before, a batch
//! of records with the same tag checked and searched that tag concurrently, and every
//! invocation looked the API user up).

use crate::expiring::{Expiring, Fetched, Slot};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use sync_core::desired::EntryKey;
use sync_core::ids::KimaiUserId;
use sync_core::ids::TicketId;
use sync_store::clock::{Clock, SystemClock};

/// How long the API user and a tag lookup are trusted. Short, because both can change in
/// Kimai behind our back; as long as the Kimai token's own cache, so a changed token is seen
/// within two of these.
pub const DEFAULT_CACHE_TTL: Duration = Duration::minutes(5);

/// The API user as the writer needs it: who it is (a create for anyone else names the user)
/// and its zone (Kimai reads POSTed times in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUser {
    pub id: KimaiUserId,
    pub zone: Tz,
}

/// What one lookup of a tag found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagState {
    /// Found or created: Kimai keeps it on a timesheet.
    Exists,
    /// Neither found nor creatable (e.g. no `create_tag` permission): Kimai will drop it.
    Unavailable,
}

type KeyLocks = HashMap<(TicketId, EntryKey), Arc<tokio::sync::Mutex<()>>>;

/// Kept for the life of a function instance (or a test); scoped to one Kimai.
pub struct WriterCache {
    clock: Arc<dyn Clock>,
    ttl: Duration,
    /// The Kimai the values came from (its base URL); another one empties the cache.
    scope: Mutex<Option<String>>,
    api_user: Expiring<(), ApiUser>,
    /// By lower-cased name: Kimai's tag names are case-insensitive.
    tags: Expiring<String, TagState>,
    /// One lock per key: two operations of the same key in one batch (two plans queued before
    /// either was written) run one after the other, so the re-read of the second sees the
    /// first's result instead of both writing from the same stale state.
    keys: Mutex<KeyLocks>,
}

impl Default for WriterCache {
    fn default() -> Self {
        Self::new()
    }
}

impl WriterCache {
    /// The wall clock and [`DEFAULT_CACHE_TTL`].
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock), DEFAULT_CACHE_TTL)
    }

    pub fn with_clock(clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        WriterCache {
            clock,
            ttl,
            scope: Mutex::new(None),
            api_user: Expiring::new(),
            tags: Expiring::new(),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Empties the cache when the values came from another Kimai than `base_url`.
    pub(crate) fn use_kimai(&self, base_url: &str) {
        let mut scope = self.scope.lock().unwrap_or_else(|p| p.into_inner());
        if scope.as_deref() != Some(base_url) {
            if scope.is_some() {
                tracing::info!(
                    base_url,
                    "the Kimai connection changed; forgetting what it told"
                );
            }
            self.api_user.clear();
            self.tags.clear();
            *scope = Some(base_url.to_owned());
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn fetched<T>(&self, value: T) -> Fetched<T> {
        Fetched::new(value, self.now())
    }

    pub(crate) fn api_user_slot(&self) -> Slot<ApiUser> {
        self.api_user.current(&(), self.now(), self.ttl)
    }

    pub(crate) fn tag_slot(&self, name: &str) -> Slot<TagState> {
        self.tags.current(&tag_key(name), self.now(), self.ttl)
    }

    pub(crate) fn forget_tag(&self, name: &str, used: &Slot<TagState>) {
        self.tags.forget(&tag_key(name), used);
    }

    pub(crate) fn key_lock(&self, ticket: TicketId, key: &EntryKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.entry((ticket, key.clone())).or_default().clone()
    }

    /// Drops a key's lock once nobody else waits for it, so an instance-long cache does not
    /// keep one lock per key it ever wrote.
    pub(crate) fn release_key(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        lock: Arc<tokio::sync::Mutex<()>>,
    ) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        // Clones are only taken under this map lock: the map's and ours means no one else.
        if Arc::strong_count(&lock) == 2 {
            keys.remove(&(ticket, key.clone()));
        }
    }

    /// Keys with a live lock (for tests of the pruning).
    pub fn locked_keys(&self) -> usize {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

pub(crate) fn tag_key(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_store::clock::ManualClock;

    fn cache(clock: &Arc<ManualClock>) -> WriterCache {
        WriterCache::with_clock(clock.clone(), Duration::minutes(5))
    }

    #[test]
    fn a_value_is_kept_until_it_expires() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let c = cache(&clock);
        let slot = c.tag_slot("Zammad");
        slot.set(c.fetched(TagState::Exists)).unwrap();
        clock.advance(Duration::minutes(4));
        let again = c.tag_slot("zammad");
        assert!(
            Arc::ptr_eq(&slot, &again),
            "same tag, case-insensitive, not expired"
        );
        clock.advance(Duration::minutes(1));
        let expired = c.tag_slot("zammad");
        assert!(expired.get().is_none(), "expired: looked up again");
    }

    #[test]
    fn forgetting_a_stale_value_twice_causes_one_new_lookup() {
        let c = WriterCache::new();
        let stale = c.tag_slot("zammad");
        stale.set(c.fetched(TagState::Exists)).unwrap();
        c.forget_tag("zammad", &stale);
        let fresh = c.tag_slot("zammad");
        fresh.set(c.fetched(TagState::Exists)).unwrap();
        // A second record that saw the stale value leaves the fresh one alone.
        c.forget_tag("zammad", &stale);
        assert!(Arc::ptr_eq(&fresh, &c.tag_slot("zammad")));
    }

    #[test]
    fn another_kimai_empties_the_cache() {
        let c = WriterCache::new();
        c.use_kimai("http://127.0.0.1:1/");
        c.tag_slot("zammad")
            .set(c.fetched(TagState::Exists))
            .unwrap();
        c.use_kimai("http://127.0.0.1:1/");
        assert!(c.tag_slot("zammad").get().is_some());
        c.use_kimai("http://127.0.0.1:2/");
        assert!(c.tag_slot("zammad").get().is_none());
    }

    #[test]
    fn a_key_lock_is_dropped_when_its_last_user_releases_it() {
        let c = WriterCache::new();
        let key = EntryKey("ta:1".into());
        let a = c.key_lock(TicketId(1), &key);
        let b = c.key_lock(TicketId(1), &key);
        assert!(Arc::ptr_eq(&a, &b));
        c.release_key(TicketId(1), &key, a);
        assert_eq!(c.locked_keys(), 1, "b still holds it");
        c.release_key(TicketId(1), &key, b);
        assert_eq!(c.locked_keys(), 0);
    }
}
