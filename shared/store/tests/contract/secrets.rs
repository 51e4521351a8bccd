//! The secret sources: the cache's expiry, and the writer that creates and rotates a secret.

use crate::contract::data::*;
use async_trait::async_trait;
use chrono::Duration;
use std::sync::Arc;
use sync_store::StoreError;
use sync_store::clock::{Clock, ManualClock};
use sync_store::secrets::{CachedSecrets, SecretSource, SecretString, SecretWriter};

/// Creates or rotates a secret behind an adapter (test-only admin side).
#[async_trait]
pub trait SecretAdmin: Send + Sync {
    async fn put(&self, id: &str, value: &str);
}

pub async fn secrets_cache_expiry<S: SecretSource + 'static>(
    source: Arc<S>,
    admin: &impl SecretAdmin,
    id: &str,
) {
    admin.put(id, "token-1").await;
    let clock = Arc::new(ManualClock::new(now()));
    let cached = CachedSecrets::new(
        source,
        clock.clone() as Arc<dyn Clock>,
        Duration::minutes(5),
    );
    assert_eq!(cached.get_secret(id).await.unwrap().expose(), "token-1");

    admin.put(id, "token-2").await;
    clock.advance(Duration::minutes(4));
    assert_eq!(
        cached.get_secret(id).await.unwrap().expose(),
        "token-1",
        "still cached"
    );
    clock.advance(Duration::minutes(2));
    assert_eq!(
        cached.get_secret(id).await.unwrap().expose(),
        "token-2",
        "re-read after expiry"
    );
    assert_eq!(
        format!("{:?}", cached.get_secret(id).await.unwrap()),
        "SecretString(***)"
    );

    let missing = cached.get_secret(&format!("{id}-missing")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "got {missing:?}"
    );
}

/// The writer creates a missing secret, rotates an existing one, and a cache it is written
/// through serves the new value at once.
pub async fn secret_writer_creates_and_rotates<S: SecretSource + SecretWriter + 'static>(
    source: Arc<S>,
    id: &str,
) {
    source
        .put_secret(id, &SecretString::new("first"))
        .await
        .unwrap();
    assert_eq!(source.get_secret(id).await.unwrap().expose(), "first");
    source
        .put_secret(id, &SecretString::new("second"))
        .await
        .unwrap();
    assert_eq!(source.get_secret(id).await.unwrap().expose(), "second");

    let clock = Arc::new(ManualClock::new(now()));
    let cached = CachedSecrets::new(source, clock as Arc<dyn Clock>, Duration::minutes(5));
    assert_eq!(cached.get_secret(id).await.unwrap().expose(), "second");
    cached
        .put_secret(id, &SecretString::new("third"))
        .await
        .unwrap();
    assert_eq!(
        cached.get_secret(id).await.unwrap().expose(),
        "third",
        "a write through the cache is read back at once"
    );
    assert_eq!(
        cached.source().get_secret(id).await.unwrap().expose(),
        "third"
    );
}
