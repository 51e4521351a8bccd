//! What every handler can reach: the store ports, the secrets, the clock. Built once (Lambda
//! init, test setup, local `main`) and cloned cheaply per request.

use std::sync::Arc;
use std::time::Duration;
use sync_store::audit::AuditLog;
use sync_store::clock::Clock;
use sync_store::conflicts::ConflictsStore;
use sync_store::control::ControlStore;
use sync_store::entries::EntriesStore;
use sync_store::queue::{KimaiWriteMessage, MessageQueue, TicketSyncMessage};
use sync_store::schedule::ScheduleStore;
use sync_store::secrets::{SecretSource, SecretWriter};

/// Names (or ARNs) of the secrets the console uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSecrets {
    pub zammad_token: String,
    pub kimai_token: String,
    /// The HS256 key of login tokens (at least 32 bytes).
    pub signing_key: String,
}

/// The dead-letter queues of `ticket-sync` and `kimai-write`.
#[derive(Clone)]
pub struct DeadLetterQueues {
    pub ticket_sync: Arc<dyn MessageQueue<TicketSyncMessage>>,
    pub kimai_write: Arc<dyn MessageQueue<KimaiWriteMessage>>,
}

#[derive(Clone)]
pub struct ApiState {
    pub control: Arc<dyn ControlStore>,
    pub audit: Arc<dyn AuditLog>,
    pub conflicts: Arc<dyn ConflictsStore>,
    /// Read by a date-range sync run (the fetch step's backfill looks up known entries).
    pub entries: Arc<dyn EntriesStore>,
    /// Where sync runs and conflict resolutions send their `ticket-sync` messages.
    pub ticket_sync: Arc<dyn MessageQueue<TicketSyncMessage>>,
    /// Where approved entries' creates go (approval mode).
    pub kimai_write: Arc<dyn MessageQueue<KimaiWriteMessage>>,
    /// The two dead-letter queues, listed and replayed by the console.
    pub dead_letters: DeadLetterQueues,
    /// The EventBridge schedule of scheduled-fetch.
    pub schedule: Arc<dyn ScheduleStore>,
    /// Reads go through a cache (`CachedSecrets`); pass the same cache as `secret_writer` so a
    /// token the console writes is read back at once.
    pub secrets: Arc<dyn SecretSource>,
    pub secret_writer: Arc<dyn SecretWriter>,
    pub secret_names: ConsoleSecrets,
    pub clock: Arc<dyn Clock>,
    /// Upper bound of the health probe's store read.
    pub health_timeout: Duration,
    /// Timeout of each call to Zammad or Kimai made for the console (test, pickers).
    pub upstream_timeout: Duration,
}
