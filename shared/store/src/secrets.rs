//! Secrets (API tokens, the webhook HMAC key, the console signing key), read through a cache.

use crate::clock::Clock;
use crate::error::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use tokio::sync::Mutex;

/// A secret value. `Debug` and `Display` never show it, so it cannot end up in a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The current value of the secret named (or ARN'd) `id`.
    /// A missing secret is [`crate::StoreError::NotFound`].
    async fn get_secret(&self, id: &str) -> StoreResult<SecretString>;
}

/// Keeps each secret for `ttl`, then reads it again (so a rotated secret is picked up within
/// `ttl` without a redeploy, and a warm Lambda does not call Secrets Manager per request).
pub struct CachedSecrets<S> {
    source: S,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    cache: Mutex<HashMap<String, (SecretString, DateTime<Utc>)>>,
}

impl<S: SecretSource> CachedSecrets<S> {
    pub fn new(source: S, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        CachedSecrets {
            source,
            clock,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn source(&self) -> &S {
        &self.source
    }
}

#[async_trait]
impl<S: SecretSource> SecretSource for CachedSecrets<S> {
    async fn get_secret(&self, id: &str) -> StoreResult<SecretString> {
        // Holding the lock across the fetch means concurrent callers wait for one fetch
        // instead of all fetching at once when the entry expires.
        let mut cache = self.cache.lock().await;
        let now = self.clock.now();
        if let Some((value, fetched_at)) = cache.get(id) {
            if now < *fetched_at + self.ttl {
                return Ok(value.clone());
            }
        }
        let value = self.source.get_secret(id).await?;
        cache.insert(id.to_string(), (value.clone(), now));
        Ok(value)
    }
}

#[async_trait]
impl<S: SecretSource + ?Sized> SecretSource for Arc<S> {
    async fn get_secret(&self, id: &str) -> StoreResult<SecretString> {
        (**self).get_secret(id).await
    }
}

/// Writes secret values (the console sets the Zammad and Kimai tokens). A separate port from
/// [`SecretSource`] because only the console may write; the pipeline only reads.
#[async_trait]
pub trait SecretWriter: Send + Sync {
    /// Creates the secret `id` or stores a new value for it.
    async fn put_secret(&self, id: &str, value: &SecretString) -> StoreResult<()>;
}

#[async_trait]
impl<S: SecretWriter + ?Sized> SecretWriter for Arc<S> {
    async fn put_secret(&self, id: &str, value: &SecretString) -> StoreResult<()> {
        (**self).put_secret(id, value).await
    }
}

/// Writing through the cache keeps the new value in it, so this process reads what it just
/// wrote instead of the old token until the TTL runs out.
#[async_trait]
impl<S: SecretSource + SecretWriter> SecretWriter for CachedSecrets<S> {
    async fn put_secret(&self, id: &str, value: &SecretString) -> StoreResult<()> {
        let mut cache = self.cache.lock().await;
        self.source.put_secret(id, value).await?;
        cache.insert(id.to_string(), (value.clone(), self.clock.now()));
        Ok(())
    }
}
