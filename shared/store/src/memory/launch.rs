use crate::error::{StoreError, StoreResult};
use crate::launch::Launcher;
use async_trait::async_trait;
use std::sync::Mutex;

/// Keeps the payloads it was given, so a test can run them (or not: a hand-off whose function
/// never ran is what a crash looks like). `refuse` makes every launch fail.
#[derive(Default)]
pub struct MemoryLauncher {
    launched: Mutex<Vec<serde_json::Value>>,
    refuse: Mutex<bool>,
}

impl MemoryLauncher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every payload launched so far, oldest first.
    pub fn launched(&self) -> Vec<serde_json::Value> {
        self.launched
            .lock()
            .expect("launcher lock poisoned")
            .clone()
    }

    pub fn refuse(&self, refuse: bool) {
        *self.refuse.lock().expect("launcher lock poisoned") = refuse;
    }
}

#[async_trait]
impl Launcher for MemoryLauncher {
    async fn launch(&self, payload: &serde_json::Value) -> StoreResult<()> {
        if *self.refuse.lock().expect("launcher lock poisoned") {
            return Err(StoreError::Unavailable(
                "the launcher refuses (test)".into(),
            ));
        }
        self.launched
            .lock()
            .expect("launcher lock poisoned")
            .push(payload.clone());
        Ok(())
    }
}
