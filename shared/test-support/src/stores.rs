//! Every in-memory store adapter of `sync-store` in one value, on one manual clock, and the
//! pipeline's [`SyncStores`] over them; and today's audit records of any audit log.
//!
//! The fields keep their concrete types, so a test can both hand a store to the code under test
//! and look inside it afterwards (queued bodies, secret reads) through the same `Arc`.

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use sync_service::events::Publisher;
use sync_service::sync_stores::SyncStores;
use sync_store::PageRequest;
use sync_store::audit::{AuditFilter, AuditLog, AuditRecord, AuditRetention};
use sync_store::clock::{Clock, ManualClock};
use sync_store::memory::{
    MemoryAuditLog, MemoryConflicts, MemoryControl, MemoryEntries, MemoryEventBus, MemoryQueue,
    MemorySchedule, MemorySecrets,
};
use sync_store::queue::{KimaiWriteMessage, TicketSyncMessage};

/// How long a test's secret cache keeps a secret it read: the five minutes of the deployed
/// functions and console.
pub const SECRET_CACHE_TTL: Duration = Duration::minutes(5);

/// Fresh, empty in-memory stores and their clock.
#[derive(Clone)]
pub struct MemoryStores {
    pub entries: Arc<MemoryEntries>,
    pub conflicts: Arc<MemoryConflicts>,
    /// Keeps the default retention.
    pub audit: Arc<MemoryAuditLog>,
    pub control: Arc<MemoryControl>,
    pub ticket_sync: Arc<MemoryQueue<TicketSyncMessage>>,
    pub kimai_write: Arc<MemoryQueue<KimaiWriteMessage>>,
    pub ticket_sync_dlq: Arc<MemoryQueue<TicketSyncMessage>>,
    pub kimai_write_dlq: Arc<MemoryQueue<KimaiWriteMessage>>,
    pub schedule: Arc<MemorySchedule>,
    pub secrets: Arc<MemorySecrets>,
    /// The event bus: what was published.
    pub bus: Arc<MemoryEventBus>,
    /// The one publisher over `bus` that every [`SyncStores`] of these shares, as a function's
    /// instance has one.
    pub events: Arc<Publisher>,
    /// Stands still until the test moves it.
    pub clock: Arc<ManualClock>,
}

impl MemoryStores {
    /// The stores a GDPR purge goes through.
    pub fn privacy_ports(&self) -> sync_service::privacy::PrivacyPorts {
        sync_service::privacy::PrivacyPorts {
            entries: self.entries.clone(),
            conflicts: self.conflicts.clone(),
            control: self.control.clone(),
            audit: self.audit.clone(),
            clock: self.clock.clone(),
            ticket_sync: self.ticket_sync.clone(),
            ticket_sync_dead: self.ticket_sync_dlq.clone(),
            kimai_write: self.kimai_write.clone(),
            kimai_write_dead: self.kimai_write_dlq.clone(),
        }
    }

    /// Empty stores whose clock starts at the real current time, so anything checked against
    /// wall time elsewhere (a token's expiry, a TTL) agrees with it.
    pub fn new() -> MemoryStores {
        MemoryStores::at(Utc::now())
    }

    /// Empty stores whose clock starts at `start`.
    pub fn at(start: DateTime<Utc>) -> MemoryStores {
        let bus = Arc::new(MemoryEventBus::new());
        MemoryStores {
            entries: Arc::new(MemoryEntries::new()),
            conflicts: Arc::new(MemoryConflicts::new()),
            audit: Arc::new(MemoryAuditLog::new(AuditRetention::default())),
            control: Arc::new(MemoryControl::new()),
            ticket_sync: Arc::new(MemoryQueue::new()),
            kimai_write: Arc::new(MemoryQueue::new()),
            ticket_sync_dlq: Arc::new(MemoryQueue::new()),
            kimai_write_dlq: Arc::new(MemoryQueue::new()),
            schedule: Arc::new(MemorySchedule::new()),
            secrets: Arc::new(MemorySecrets::new()),
            events: Arc::new(Publisher::new(bus.clone())),
            bus,
            clock: Arc::new(ManualClock::new(start)),
        }
    }

    /// The clock as the ports take it.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The pipeline's stores (reconcile, writer) over these, on the manual clock.
    pub fn sync_stores(&self) -> SyncStores {
        self.sync_stores_on(self.clock())
    }

    /// The pipeline's stores over these, on another clock (the system clock for a test whose
    /// code under test waits for real time to pass).
    pub fn sync_stores_on(&self, clock: Arc<dyn Clock>) -> SyncStores {
        SyncStores {
            entries: self.entries.clone(),
            conflicts: self.conflicts.clone(),
            audit: self.audit.clone(),
            control: self.control.clone(),
            clock,
            events: self.events.clone(),
        }
    }
}

/// Every audit record of today (UTC) in `audit`, newest first (up to 500).
pub async fn audit_today(audit: &dyn AuditLog) -> Vec<AuditRecord> {
    audit_today_matching(audit, &AuditFilter::default()).await
}

/// Today's audit records of `action` (`"message.dead_letter"`), newest first.
pub async fn audit_today_of(audit: &dyn AuditLog, action: &str) -> Vec<AuditRecord> {
    let filter = AuditFilter {
        action: Some(action.into()),
        ..AuditFilter::default()
    };
    audit_today_matching(audit, &filter).await
}

async fn audit_today_matching(audit: &dyn AuditLog, filter: &AuditFilter) -> Vec<AuditRecord> {
    let today = Utc::now().date_naive();
    audit
        .query(today, today, filter, &PageRequest::first(500))
        .await
        .expect("audit query")
        .items
}

impl Default for MemoryStores {
    fn default() -> Self {
        MemoryStores::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use sync_store::queue::MessageQueue;

    #[tokio::test]
    async fn sync_stores_share_the_stores_and_the_manual_clock() {
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let stores = MemoryStores::at(start);
        let sync = stores.sync_stores();
        assert_eq!(sync.now(), start);
        stores.clock.advance(Duration::minutes(5));
        assert_eq!(sync.now(), start + Duration::minutes(5));

        sync.audit("test.event", serde_json::json!({}))
            .await
            .unwrap();
        let day = start.date_naive();
        let page = sync_store::audit::AuditLog::query(
            stores.audit.as_ref(),
            day,
            day,
            &Default::default(),
            &sync_store::PageRequest::first(10),
        )
        .await
        .unwrap();
        assert_eq!(page.items.len(), 1, "written through, read back directly");

        let copy = stores.clone();
        copy.ticket_sync.send_raw("{}").await.unwrap();
        assert_eq!(stores.ticket_sync.waiting_bodies().len(), 1, "clones share");
    }
}
