//! The contract tests against the in-memory adapters.

#[macro_use]
mod contract;

use async_trait::async_trait;
use std::sync::Arc;
use sync_store::audit::AuditRetention;
use sync_store::memory::*;
use sync_store::queue::{KimaiWriteMessage, TicketSyncMessage};

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
