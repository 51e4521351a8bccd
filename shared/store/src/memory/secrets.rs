use crate::error::{StoreError, StoreResult};
use crate::secrets::{SecretSource, SecretString, SecretWriter};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Secrets held in a map; counts reads so tests can see the cache working.
#[derive(Default)]
pub struct MemorySecrets {
    values: Mutex<HashMap<String, String>>,
    reads: AtomicUsize,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates or rotates a secret.
    pub fn set(&self, id: &str, value: &str) {
        self.values
            .lock()
            .expect("secrets lock poisoned")
            .insert(id.into(), value.into());
    }

    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SecretSource for MemorySecrets {
    async fn get_secret(&self, id: &str) -> StoreResult<SecretString> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let values = self.values.lock().expect("secrets lock poisoned");
        values
            .get(id)
            .map(SecretString::new)
            .ok_or_else(|| StoreError::NotFound(format!("secret {id}")))
    }
}

#[async_trait]
impl SecretWriter for MemorySecrets {
    async fn put_secret(&self, id: &str, value: &SecretString) -> StoreResult<()> {
        self.set(id, value.expose());
        Ok(())
    }
}
