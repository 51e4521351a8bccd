//! Forgetting a person (an agent): what the sync holds about them, the purge that deletes it
//! in the background, and the suppression that keeps them forgotten.
//!
//! - [`find`]: what is "about them" in every store (the console's export and the purge share it);
//! - [`purge`]: the purge job, step by step; every step is idempotent, so a retried or repeated
//!   job finishes what an earlier attempt began;
//! - [`job`]: the job's record in the control store, its progress and final report (counts
//!   only: no id, name or address of the person);
//! - [`suppression`]: the purged person as a hash of their Zammad user id. Reconcile reads it
//!   and leaves their time alone, so their timesheets in Kimai are not adopted back by marker
//!   and their entries do not come back.
//!
//! The console API validates the request, asks Zammad for the person's identifiers, writes the
//! job and hands it to the gdpr-purge function (`console::gdpr`); that function runs
//! [`purge::run_purge`].

pub mod find;
pub mod job;
pub mod purge;
pub mod suppression;

use std::sync::Arc;
use sync_core::ids::ZammadUserId;
use sync_store::audit::AuditLog;
use sync_store::clock::Clock;
use sync_store::conflicts::ConflictsStore;
use sync_store::control::ControlStore;
use sync_store::entries::EntriesStore;
use sync_store::queue::{KimaiWriteMessage, MessageQueue, TicketSyncMessage};

/// Every store that can hold something about a person.
#[derive(Clone)]
pub struct PrivacyPorts {
    pub entries: Arc<dyn EntriesStore>,
    pub conflicts: Arc<dyn ConflictsStore>,
    /// Decision documents, dead-letter records, suppressions and the jobs themselves.
    pub control: Arc<dyn ControlStore>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
    pub ticket_sync: Arc<dyn MessageQueue<TicketSyncMessage>>,
    pub ticket_sync_dead: Arc<dyn MessageQueue<TicketSyncMessage>>,
    pub kimai_write: Arc<dyn MessageQueue<KimaiWriteMessage>>,
    pub kimai_write_dead: Arc<dyn MessageQueue<KimaiWriteMessage>>,
}

/// The person: their Zammad user id, and every identifier (e-mail, login, name) their data is
/// searched by, lower-cased and at least [`find::MIN_IDENTIFIER_LEN`] characters long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub agent_id: ZammadUserId,
    pub identifiers: Vec<String>,
}
