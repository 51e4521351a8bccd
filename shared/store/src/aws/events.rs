use super::sdk_error;
use crate::env;
use crate::error::{StoreError, StoreResult};
use crate::events::{BusEvent, EVENT_SOURCE, EventBus, MAX_EVENTS_PER_CALL};
use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use std::time::Duration;

/// Rounds of PutEvents for the entries a call left failed (EventBridge may refuse single
/// entries, throttled or on an internal error, while taking the rest).
const ROUNDS: u32 = 4;

/// The stack's EventBridge bus (`EVENT_BUS_NAME`).
#[derive(Clone)]
pub struct EventBridgeBus {
    client: Client,
    bus: String,
}

impl EventBridgeBus {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        EventBridgeBus {
            client,
            bus: bus.into(),
        }
    }

    pub fn from_env(config: &aws_config::SdkConfig) -> StoreResult<Self> {
        Ok(Self::new(
            Client::new(config),
            env::required(env::EVENT_BUS_NAME)?,
        ))
    }

    fn entry(&self, event: &BusEvent) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(&event.detail_type)
            .detail(event.detail.to_string())
            .build()
    }

    /// One call's worth (at most ten), with the entries it refused sent again.
    async fn put(&self, events: &[BusEvent]) -> StoreResult<()> {
        let mut pending: Vec<&BusEvent> = events.iter().collect();
        let mut last_error = String::new();
        for round in 0..ROUNDS {
            if round > 0 {
                tokio::time::sleep(Duration::from_millis(100 << round)).await;
            }
            let out = self
                .client
                .put_events()
                .set_entries(Some(pending.iter().map(|e| self.entry(e)).collect()))
                .send()
                .await
                .map_err(|e| sdk_error("PutEvents", e))?;
            if out.failed_entry_count == 0 {
                return Ok(());
            }
            // The result entries are in the order of the request; a failed one has an error code.
            let mut refused = Vec::new();
            for (event, result) in pending.iter().zip(out.entries()) {
                if let Some(code) = result.error_code() {
                    last_error = format!(
                        "{:?}: {code}: {}",
                        event.detail_type,
                        result.error_message().unwrap_or_default()
                    );
                    refused.push(*event);
                }
            }
            pending = refused;
        }
        Err(StoreError::Unavailable(format!(
            "{} events refused by bus {} after {ROUNDS} tries (last: {last_error})",
            pending.len(),
            self.bus
        )))
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[BusEvent]) -> StoreResult<()> {
        for event in events {
            event.check_size()?;
        }
        for chunk in events.chunks(MAX_EVENTS_PER_CALL) {
            self.put(chunk).await?;
        }
        Ok(())
    }
}
