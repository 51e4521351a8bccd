//! Entries: one record per desired timesheet key, grouped by ticket.
//!
//! A record holds what we want Kimai to show (`desired`), what we last wrote or adopted (`base`,
//! which carries the Kimai id: the link), and where the key stands (`status`). The planner loads
//! all records of one ticket at once; the console lists them by status, day, Kimai id or agent.

use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{TicketId, TimesheetId, ZammadUserId};
use sync_core::plan::Base;

/// Where one key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Kimai holds what Zammad wants.
    Synced,
    /// A write is planned or in flight.
    Pending,
    /// Approval mode: planned, waiting for a human to approve.
    AwaitingApproval,
    /// An open conflict blocks this key.
    Conflict,
    /// The Zammad time is gone and so is the Kimai timesheet.
    Deleted,
}

impl EntryStatus {
    pub const ALL: [EntryStatus; 5] = [
        EntryStatus::Synced,
        EntryStatus::Pending,
        EntryStatus::AwaitingApproval,
        EntryStatus::Conflict,
        EntryStatus::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Synced => "synced",
            EntryStatus::Pending => "pending",
            EntryStatus::AwaitingApproval => "awaiting_approval",
            EntryStatus::Conflict => "conflict",
            EntryStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        EntryStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One key of one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub ticket_id: TicketId,
    pub key: EntryKey,
    pub agent_id: ZammadUserId,
    /// Local day the entry is booked on.
    pub day: NaiveDate,
    pub status: EntryStatus,
    /// What Zammad wants now (`None` once the Zammad time is gone).
    pub desired: Option<DesiredTimesheet>,
    /// What we last wrote or adopted; its `kimai_id` is the link.
    pub base: Option<Base>,
    pub updated_at: DateTime<Utc>,
    /// When a create of this key was last sent to Kimai. Once set, a create of the key
    /// searches Kimai by marker before it POSTs, whichever operation it belongs to: the earlier
    /// POST may have been saved without its answer reaching us. Like `base`, only its own
    /// write ([`EntriesStore::note_create_sent`]) changes it; `save` keeps it.
    pub create_sent_at: Option<DateTime<Utc>>,
}

impl EntryRecord {
    pub fn kimai_id(&self) -> Option<TimesheetId> {
        self.base.as_ref().map(|b| b.kimai_id)
    }
}

/// The link a caller expects to replace when it records a new base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedLink {
    /// The key must not be linked yet (first create or adoption).
    Unlinked,
    /// The key must still be linked to this timesheet (update after an update).
    LinkedTo(TimesheetId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    Linked(Box<EntryRecord>),
    /// Somebody else linked (or relinked) the key first; nothing was written.
    LostRace {
        current: Option<TimesheetId>,
    },
    /// No record for this key exists (save it first).
    NoSuchEntry,
}

#[async_trait]
pub trait EntriesStore: Send + Sync {
    /// Creates or replaces the record's planning state (desired, status, day, agent). The base
    /// (link) is never touched here: only [`EntriesStore::link`] changes it, conditionally.
    async fn save(&self, record: &EntryRecord) -> StoreResult<()>;

    async fn get(&self, ticket: TicketId, key: &EntryKey) -> StoreResult<Option<EntryRecord>>;

    /// Every record of one ticket, in key order, with one query.
    async fn load_ticket(&self, ticket: TicketId) -> StoreResult<Vec<EntryRecord>>;

    /// Records the new base (and so the link) if the current link is as expected, and sets the
    /// status. This is the write that decides which Kimai timesheet a key owns.
    async fn link(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        expected: ExpectedLink,
        base: &Base,
        status: EntryStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome>;

    /// Records that a create of this key is about to be sent to Kimai; `false` if there is no
    /// record.
    async fn note_create_sent(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Sets only the status (e.g. pending → awaiting_approval); `false` if there is no record.
    async fn set_status(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        status: EntryStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Records with this status, most recently updated first.
    async fn list_by_status(
        &self,
        status: EntryStatus,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>>;

    /// Records booked on this local day, ordered by ticket and key.
    async fn list_by_day(
        &self,
        day: NaiveDate,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>>;

    /// Records of one agent within a day range (inclusive), oldest day first.
    async fn list_by_agent(
        &self,
        agent: ZammadUserId,
        from: NaiveDate,
        to: NaiveDate,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>>;

    /// The tickets with records booked on this local day (all of them, however many pages).
    async fn tickets_on_day(&self, day: NaiveDate) -> StoreResult<BTreeSet<TicketId>>;

    /// The record linked to this Kimai timesheet, if any.
    async fn find_by_kimai_id(&self, id: TimesheetId) -> StoreResult<Option<EntryRecord>>;

    /// Removes the record (a GDPR purge); `false` if there was none.
    async fn delete(&self, ticket: TicketId, key: &EntryKey) -> StoreResult<bool>;
}
