//! Storage of the sync, behind small ports (one trait per capability):
//!
//! - [`entries::EntriesStore`]: desired timesheets, bases and links per ticket.
//! - [`conflicts::ConflictsStore`]: conflicts from opening to resolution.
//! - [`audit::AuditLog`]: access and sync events with retention.
//! - [`control::ControlStore`]: settings documents, runs, watermarks, leases, delivery ids,
//!   operation claims, console users, login throttling.
//! - [`queue::MessageQueue`]: the `ticket-sync` and `kimai-write` queues;
//!   [`dead_letters`] reads and replays their dead-letter queues over the same port.
//! - [`secrets::SecretSource`] (+ [`secrets::CachedSecrets`]): tokens and keys.
//! - [`schedule::ScheduleStore`]: the EventBridge Scheduler schedule.
//! - [`launch::Launcher`]: hands a long console run to scheduled-fetch.
//! - [`events::EventBus`]: the stack's EventBridge bus, for the sync's domain events.
//!
//! Two adapters implement every port: [`memory`] for fast tests of code above, and [`aws`]
//! (DynamoDB, SQS, Secrets Manager, Scheduler, EventBridge). Both pass the same contract tests.
//! [`schema`] is the one definition of the tables and queues (the SAM template mirrors it).

pub mod audit;
pub mod aws;
pub mod clock;
pub mod conflicts;
pub mod control;
pub mod dead_letters;
pub mod entries;
pub mod env;
pub mod error;
pub mod events;
pub mod launch;
pub mod memory;
pub mod page;
pub mod queue;
pub mod schedule;
pub mod schema;
pub mod secrets;

pub use error::{StoreError, StoreResult};
pub use page::{Page, PageRequest, PageToken};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Service code holds the ports as `Arc<dyn …>`; this fails to compile if one stops being
    /// object safe.
    #[test]
    fn ports_are_object_safe_and_shareable() {
        fn shareable<T: Send + Sync + ?Sized>(_: &Arc<T>) {}
        let entries: Arc<dyn entries::EntriesStore> = Arc::new(memory::MemoryEntries::new());
        let conflicts: Arc<dyn conflicts::ConflictsStore> =
            Arc::new(memory::MemoryConflicts::new());
        let audit: Arc<dyn audit::AuditLog> =
            Arc::new(memory::MemoryAuditLog::new(audit::AuditRetention::default()));
        let control: Arc<dyn control::ControlStore> = Arc::new(memory::MemoryControl::new());
        let queue: Arc<dyn queue::MessageQueue<queue::TicketSyncMessage>> =
            Arc::new(memory::MemoryQueue::new());
        let secrets: Arc<dyn secrets::SecretSource> = Arc::new(memory::MemorySecrets::new());
        let schedule: Arc<dyn schedule::ScheduleStore> = Arc::new(memory::MemorySchedule::new());
        shareable(&entries);
        shareable(&conflicts);
        shareable(&audit);
        shareable(&control);
        shareable(&queue);
        shareable(&secrets);
        shareable(&schedule);
        let launcher: Arc<dyn launch::Launcher> = Arc::new(memory::MemoryLauncher::new());
        shareable(&launcher);
    }
}
