//! Conflicts: decisions left to a human, from opening to resolution.

use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::plan::{Conflict, ConflictReason};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConflictId(pub String);

impl ConflictId {
    pub fn generate() -> Self {
        ConflictId(uuid::Uuid::new_v4().simple().to_string())
    }
}

impl fmt::Display for ConflictId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictStatus {
    Open,
    Resolved,
}

impl ConflictStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictStatus::Open => "open",
            ConflictStatus::Resolved => "resolved",
        }
    }
}

/// What the human decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ResolutionAction {
    /// Write Zammad's version to Kimai (overwrite, recreate, or create despite a duplicate).
    ApplyZammad,
    /// Keep what Kimai has and record it as the base.
    KeepKimai,
    /// Link the key to an existing Kimai timesheet.
    Link { kimai_id: TimesheetId },
    /// Close without any change.
    Dismiss,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub action: ResolutionAction,
    /// Console user who decided.
    pub actor: String,
    pub note: Option<String>,
    pub resolved_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRecord {
    pub id: ConflictId,
    pub status: ConflictStatus,
    pub opened_at: DateTime<Utc>,
    pub conflict: Conflict,
    pub resolution: Option<Resolution>,
}

/// What the console's conflict list shows: one status, optionally one reason and one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictFilter {
    pub status: ConflictStatus,
    pub reason: Option<ConflictReason>,
    pub ticket_id: Option<TicketId>,
}

impl ConflictFilter {
    pub fn status(status: ConflictStatus) -> Self {
        ConflictFilter {
            status,
            reason: None,
            ticket_id: None,
        }
    }

    pub fn matches(&self, record: &ConflictRecord) -> bool {
        record.status == self.status
            && self.reason.is_none_or(|r| record.conflict.reason == r)
            && self
                .ticket_id
                .is_none_or(|t| record.conflict.ticket_id == t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    Opened,
    /// A conflict with this id exists already (a retried message); nothing was written.
    AlreadyExists,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveOutcome {
    Resolved(ConflictRecord),
    /// Someone resolved it first; this is their resolution, and nothing was written.
    AlreadyResolved(ConflictRecord),
    NotFound,
}

#[async_trait]
pub trait ConflictsStore: Send + Sync {
    /// Stores a new open conflict under `id` (callers derive the id from what they know, so a
    /// retried message does not open it twice).
    async fn open(
        &self,
        id: &ConflictId,
        conflict: &Conflict,
        at: DateTime<Utc>,
    ) -> StoreResult<OpenOutcome>;

    async fn get(&self, id: &ConflictId) -> StoreResult<Option<ConflictRecord>>;

    /// Resolves an open conflict; exactly one of two racing resolvers wins.
    async fn resolve(
        &self,
        id: &ConflictId,
        resolution: &Resolution,
    ) -> StoreResult<ResolveOutcome>;

    /// Conflicts matching `filter`, newest first. With a reason or ticket filter a page may
    /// hold fewer items than asked while `next` is set: keep paging.
    async fn list(
        &self,
        filter: &ConflictFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ConflictRecord>>;

    /// Removes the conflict whatever its status (a GDPR purge); `false` if there was none.
    async fn delete(&self, id: &ConflictId) -> StoreResult<bool>;
}
