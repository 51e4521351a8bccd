//! Values a function instance keeps between invocations for a short expiry: the writer's API
//! user and tags, reconcile's Kimai catalog, Zammad agents and organisations, and Kimai
//! snapshots of a run's window.
//!
//! Every lookup is single-flight: callers that need the same value at once wait for one call
//! upstream instead of each making its own.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::OnceCell;

/// Above this many keys, expired ones are dropped before a new one is added.
const PRUNE_AT: usize = 1024;

/// A value and when it was looked up.
#[derive(Debug)]
pub(crate) struct Fetched<T> {
    pub(crate) value: T,
    pub(crate) at: DateTime<Utc>,
}

impl<T> Fetched<T> {
    pub(crate) fn new(value: T, at: DateTime<Utc>) -> Self {
        Fetched { value, at }
    }
}

/// One lookup: the first caller runs it, the others wait for its answer. A failed lookup
/// leaves the cell empty, so the next caller tries again.
pub(crate) type Slot<T> = Arc<OnceCell<Fetched<T>>>;

/// Values by key, each looked up at most once at a time and kept until it expires.
pub(crate) struct Expiring<K, T> {
    slots: Mutex<HashMap<K, Slot<T>>>,
}

impl<K: Eq + Hash + Clone, T> Default for Expiring<K, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Eq + Hash + Clone, T> Expiring<K, T> {
    pub(crate) fn new() -> Self {
        Expiring {
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<K, Slot<T>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The slot to read or fill for `key`: a fresh one when the stored value has expired.
    pub(crate) fn current(&self, key: &K, now: DateTime<Utc>, ttl: Duration) -> Slot<T> {
        let mut slots = self.slots();
        if slots.len() >= PRUNE_AT {
            // Keys asked once (an agent, an organisation) would otherwise stay for the life of
            // the instance.
            slots.retain(|_, s| s.get().is_none_or(|f| now - f.at < ttl));
        }
        let slot = slots.entry(key.clone()).or_default();
        if slot.get().is_some_and(|f| now - f.at >= ttl) {
            *slot = Slot::default();
        }
        slot.clone()
    }

    /// The value of `key`: the stored one while it has not expired, else what `fetch` answers
    /// (one caller fetches, the others wait for it). A failed fetch stores nothing.
    pub(crate) async fn get_or_fetch<E, Fut>(
        &self,
        key: &K,
        now: DateTime<Utc>,
        ttl: Duration,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<T, E>
    where
        T: Clone,
        Fut: Future<Output = Result<T, E>>,
    {
        let slot = self.current(key, now, ttl);
        let fetched = slot
            .get_or_try_init(|| async { Ok(Fetched::new(fetch().await?, now)) })
            .await?;
        Ok(fetched.value.clone())
    }

    /// Drops the value a caller found wrong, unless someone has replaced it already: of many
    /// records that saw the same stale value, only the first causes a new lookup.
    pub(crate) fn forget(&self, key: &K, used: &Slot<T>) {
        let mut slots = self.slots();
        if slots.get(key).is_some_and(|s| Arc::ptr_eq(s, used)) {
            slots.remove(key);
        }
    }

    pub(crate) fn clear(&self) {
        self.slots().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minute)
    }

    #[tokio::test]
    async fn a_value_is_fetched_once_until_it_expires() {
        let cache: Expiring<u32, u32> = Expiring::new();
        let ttl = Duration::minutes(5);
        let calls = std::sync::atomic::AtomicU32::new(0);
        let fetch =
            || async { Ok::<_, ()>(calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 10) };
        assert_eq!(cache.get_or_fetch(&1, at(0), ttl, fetch).await, Ok(10));
        assert_eq!(cache.get_or_fetch(&1, at(4), ttl, fetch).await, Ok(10));
        assert_eq!(cache.get_or_fetch(&1, at(5), ttl, fetch).await, Ok(11));
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_kept() {
        let cache: Expiring<u32, u32> = Expiring::new();
        let ttl = Duration::minutes(5);
        let failed = cache.get_or_fetch(&1, at(0), ttl, || async { Err("down") });
        assert_eq!(failed.await, Err("down"));
        let ok = cache.get_or_fetch(&1, at(0), ttl, || async { Ok::<_, &str>(7) });
        assert_eq!(ok.await, Ok(7));
    }

    #[tokio::test]
    async fn expired_keys_are_pruned_once_there_are_many() {
        let cache: Expiring<usize, usize> = Expiring::new();
        let ttl = Duration::minutes(5);
        for k in 0..PRUNE_AT {
            cache
                .get_or_fetch(&k, at(0), ttl, || async { Ok::<_, ()>(k) })
                .await
                .unwrap();
        }
        assert_eq!(cache.slots().len(), PRUNE_AT);
        cache
            .get_or_fetch(&PRUNE_AT, at(6), ttl, || async { Ok::<_, ()>(0) })
            .await
            .unwrap();
        assert_eq!(cache.slots().len(), 1, "the expired ones went");
    }
}
