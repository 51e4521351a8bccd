//! The stack's event bus: where the sync tells other systems, and people through the bus's
//! rules, what happened. What the events are (names, versioned details) is the service's
//! business (`sync_service::events`); this port only carries them.

use crate::error::{StoreError, StoreResult};
use async_trait::async_trait;
use serde::Serialize;

/// The `source` of every event the sync publishes; the template's rules match on it.
pub const EVENT_SOURCE: &str = "zammad-kimai-sync";

/// PutEvents takes at most ten entries per call.
pub const MAX_EVENTS_PER_CALL: usize = 10;

/// PutEvents refuses an entry (and a whole call) over 256 KB, counting the source, the detail
/// type and the detail. The emulator takes more, so the adapters check it themselves.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// One event as the bus takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusEvent {
    /// What happened, e.g. `SyncRun Finished`: rules match on it.
    pub detail_type: String,
    pub detail: serde_json::Value,
}

impl BusEvent {
    /// Its size as PutEvents counts it.
    pub fn size(&self) -> usize {
        EVENT_SOURCE.len() + self.detail_type.len() + self.detail.to_string().len()
    }

    /// An event the bus would refuse for its size, named in the error.
    pub fn check_size(&self) -> StoreResult<()> {
        let size = self.size();
        if size > MAX_EVENT_BYTES {
            return Err(StoreError::Invalid(format!(
                "event {:?} is {size} bytes; the bus takes at most {MAX_EVENT_BYTES}",
                self.detail_type
            )));
        }
        Ok(())
    }
}

#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes every event. An event the bus refused (after retries) is an error that names
    /// it; the events before it may have been published.
    async fn publish(&self, events: &[BusEvent]) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_over_256_kb_is_refused_with_its_name() {
        let small = BusEvent {
            detail_type: "SyncRun Finished".into(),
            detail: serde_json::json!({"version": 1}),
        };
        assert!(small.check_size().is_ok());
        let big = BusEvent {
            detail_type: "Conflict Opened".into(),
            detail: serde_json::json!({"x": "a".repeat(MAX_EVENT_BYTES)}),
        };
        let err = big.check_size().unwrap_err().to_string();
        assert!(err.contains("Conflict Opened"), "{err}");
    }
}
