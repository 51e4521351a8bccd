//! The contract tests against the in-memory adapters.

#[macro_use]
mod contract;

use async_trait::async_trait;
use std::sync::Arc;
use sync_store::audit::AuditRetention;
use sync_store::memory::*;
use sync_store::queue::{
    BatchReport, KimaiWriteMessage, MessageQueue, Received, SendFailure, TicketSyncMessage,
};
use sync_store::{StoreError, StoreResult};

async fn entries() -> MemoryEntries {
    MemoryEntries::new()
}
async fn conflicts() -> MemoryConflicts {
    MemoryConflicts::new()
}
async fn audit() -> MemoryAuditLog {
    MemoryAuditLog::new(AuditRetention::default())
}
async fn control() -> MemoryControl {
    MemoryControl::new()
}
async fn ticket_queue() -> MemoryQueue<TicketSyncMessage> {
    MemoryQueue::new()
}
async fn write_queue() -> MemoryQueue<KimaiWriteMessage> {
    MemoryQueue::new()
}
async fn schedule() -> MemorySchedule {
    MemorySchedule::new()
}

/// A `ticket-sync` queue whose sends all fail, as a queue that is down would.
struct BrokenQueue(MemoryQueue<TicketSyncMessage>);

#[async_trait]
impl MessageQueue<TicketSyncMessage> for BrokenQueue {
    async fn send(&self, _: &TicketSyncMessage) -> StoreResult<String> {
        Err(StoreError::Unavailable("queue is down".into()))
    }
    async fn send_raw(&self, _: &str) -> StoreResult<String> {
        Err(StoreError::Unavailable("queue is down".into()))
    }
    async fn send_delayed(
        &self,
        _: &TicketSyncMessage,
        _: std::time::Duration,
    ) -> StoreResult<String> {
        Err(StoreError::Unavailable("queue is down".into()))
    }
    async fn send_many(&self, messages: &[TicketSyncMessage]) -> BatchReport {
        BatchReport {
            sent: 0,
            failed: (0..messages.len())
                .map(|i| (i, SendFailure::Unavailable("queue is down".into())))
                .collect(),
        }
    }
    async fn receive(&self, max: u32, wait: u32) -> StoreResult<Vec<Received<TicketSyncMessage>>> {
        self.0.receive(max, wait).await
    }
    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        self.0.delete(receipt).await
    }
    async fn release(&self, receipt: &str) -> StoreResult<()> {
        self.0.release(receipt).await
    }
    async fn approximate_depth(&self) -> StoreResult<u64> {
        self.0.approximate_depth().await
    }
}

async fn dead_letter_queue() -> MemoryQueue<TicketSyncMessage> {
    MemoryQueue::new()
}
async fn broken_ticket_queue() -> Arc<dyn MessageQueue<TicketSyncMessage>> {
    Arc::new(BrokenQueue(MemoryQueue::new()))
}

struct Admin(Arc<MemorySecrets>);

#[async_trait]
impl contract::SecretAdmin for Admin {
    async fn put(&self, id: &str, value: &str) {
        self.0.set(id, value);
    }
}

async fn secrets() -> (Arc<MemorySecrets>, Admin, String) {
    let source = Arc::new(MemorySecrets::new());
    (source.clone(), Admin(source), "zammad-token".to_string())
}

contract_tests!();

#[tokio::test]
async fn secret_writer_creates_and_rotates() {
    let (source, _admin, id) = secrets().await;
    contract::secret_writer_creates_and_rotates(source, &format!("{id}-written")).await;
}

#[tokio::test]
async fn cache_reads_the_source_once_per_ttl() {
    use chrono::Duration;
    use sync_store::clock::{Clock, ManualClock};
    use sync_store::secrets::{CachedSecrets, SecretSource};
    let source = Arc::new(MemorySecrets::new());
    source.set("k", "v");
    let clock = Arc::new(ManualClock::new(contract::data::now()));
    let cached = CachedSecrets::new(
        source.clone(),
        clock.clone() as Arc<dyn Clock>,
        Duration::minutes(5),
    );
    for _ in 0..10 {
        cached.get_secret("k").await.unwrap();
    }
    assert_eq!(source.reads(), 1);
    clock.advance(Duration::minutes(5));
    cached.get_secret("k").await.unwrap();
    assert_eq!(source.reads(), 2, "expiry is inclusive of the ttl");
}
