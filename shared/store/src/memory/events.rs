use crate::error::{StoreError, StoreResult};
use crate::events::{BusEvent, EventBus};
use async_trait::async_trait;
use std::sync::Mutex;

/// Keeps what was published, in order. [`MemoryEventBus::fail`] makes every later publish fail
/// as an unreachable bus would, so tests can show that a sync goes on without it.
#[derive(Default)]
pub struct MemoryEventBus {
    published: Mutex<Vec<BusEvent>>,
    failing: Mutex<bool>,
}

impl MemoryEventBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event published so far.
    pub fn published(&self) -> Vec<BusEvent> {
        self.published.lock().unwrap().clone()
    }

    /// The published events of one detail type.
    pub fn of_type(&self, detail_type: &str) -> Vec<BusEvent> {
        self.published()
            .into_iter()
            .filter(|e| e.detail_type == detail_type)
            .collect()
    }

    /// From now on, every publish fails (`true`) or works again (`false`).
    pub fn fail(&self, failing: bool) {
        *self.failing.lock().unwrap() = failing;
    }
}

#[async_trait]
impl EventBus for MemoryEventBus {
    async fn publish(&self, events: &[BusEvent]) -> StoreResult<()> {
        if *self.failing.lock().unwrap() {
            return Err(StoreError::Unavailable(
                "the event bus is down (test)".into(),
            ));
        }
        for event in events {
            event.check_size()?;
        }
        self.published.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}
