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

// The one resolution action, from the console's request through the decisions document that
// reconcile reads (same names in both). It is not what the conflict record stores: that is the
// coarser `ResolutionEffect` (see there, and docs/api.md "Conflict resolution"). The doc line
// below is the API document's description.
/// What a person decided about a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Action))]
#[serde(rename_all = "snake_case")]
pub enum ResolutionAction {
    /// Probable duplicate: the Kimai timesheet `kimai_id` is this entry; link it.
    Link,
    /// Probable duplicate: it is not the same work; create ours anyway.
    CreateAnyway,
    /// Keep Kimai's timesheet as it is and stop syncing this key.
    KeepKimai,
    /// Zammad wins: write Zammad's state again (after a hand edit, an orphan, a rejection).
    ApplyZammad,
    /// Deleted in Kimai: create it again.
    Recreate,
    /// Deleted in Kimai: leave it deleted.
    AcceptDeletion,
    /// Leave this key alone.
    Ignore,
}

impl ResolutionAction {
    /// Every action, in declaration order (the OpenAPI document lists them by reason). A new
    /// action is added here as well as in `as_str`.
    pub const ALL: [ResolutionAction; 7] = [
        ResolutionAction::Link,
        ResolutionAction::CreateAnyway,
        ResolutionAction::KeepKimai,
        ResolutionAction::ApplyZammad,
        ResolutionAction::Recreate,
        ResolutionAction::AcceptDeletion,
        ResolutionAction::Ignore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResolutionAction::Link => "link",
            ResolutionAction::CreateAnyway => "create_anyway",
            ResolutionAction::KeepKimai => "keep_kimai",
            ResolutionAction::ApplyZammad => "apply_zammad",
            ResolutionAction::Recreate => "recreate",
            ResolutionAction::AcceptDeletion => "accept_deletion",
            ResolutionAction::Ignore => "ignore",
        }
    }

    /// The actions that make sense for a reason (`ignore` always does).
    pub fn for_reason(reason: ConflictReason) -> &'static [ResolutionAction] {
        use ResolutionAction::*;
        match reason {
            ConflictReason::ProbableDuplicate => &[Link, CreateAnyway, Ignore],
            ConflictReason::LockedOrExported => &[KeepKimai, Ignore],
            ConflictReason::BothChanged | ConflictReason::Orphaned => {
                &[KeepKimai, ApplyZammad, Ignore]
            }
            ConflictReason::DeletedInKimai => &[Recreate, AcceptDeletion, Ignore],
            ConflictReason::KimaiRejected => &[ApplyZammad, Ignore],
            // Fixing the mapping closes these by itself; a person can only set the key aside.
            ConflictReason::UnmappedActivity
            | ConflictReason::UnmappedUser
            | ConflictReason::UnmappedCustomer
            | ConflictReason::UnmappedProject
            | ConflictReason::AmbiguousLocalTime
            // Deleting the extra timesheets in Kimai closes it by itself.
            | ConflictReason::DuplicateTimesheets
            // Moving the lock back in Kimai closes it by itself.
            | ConflictReason::ProjectLocked
            // Room on the day (a booking removed or shortened) closes it by itself.
            | ConflictReason::NoRoomOnDay => &[Ignore],
        }
    }

    pub fn fits(self, reason: ConflictReason) -> bool {
        Self::for_reason(reason).contains(&self)
    }

    /// What the conflict record keeps of this action (`kimai_id`: the timesheet of a link).
    pub fn effect(self, kimai_id: Option<TimesheetId>) -> ResolutionEffect {
        match (self, kimai_id) {
            (ResolutionAction::Link, Some(kimai_id)) => ResolutionEffect::Link { kimai_id },
            (
                ResolutionAction::CreateAnyway
                | ResolutionAction::Recreate
                | ResolutionAction::ApplyZammad,
                _,
            ) => ResolutionEffect::ApplyZammad,
            (ResolutionAction::KeepKimai, _) => ResolutionEffect::KeepKimai,
            _ => ResolutionEffect::Dismiss,
        }
    }
}

/// "a, b, c": the actions named in a refusal.
pub fn action_names(actions: &[ResolutionAction]) -> String {
    actions
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a resolution did to the key, as the conflict record keeps it. A type of its own because
/// stored records must stay readable: it is coarser than the [`ResolutionAction`] (the exact
/// action is in the note and the decisions document), and `Dismiss` also closes conflicts the
/// sync resolves by itself, which no console action does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ResolutionEffect {
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
    pub action: ResolutionEffect,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_allows_ignore_and_link_only_fits_duplicates() {
        for reason in ConflictReason::ALL {
            let allowed = ResolutionAction::for_reason(reason);
            assert!(allowed.contains(&ResolutionAction::Ignore), "{reason:?}");
            assert_eq!(
                allowed.contains(&ResolutionAction::Link),
                reason == ConflictReason::ProbableDuplicate
            );
            assert_eq!(
                allowed.contains(&ResolutionAction::Recreate),
                reason == ConflictReason::DeletedInKimai
            );
        }
    }

    #[test]
    fn the_names_are_the_serde_names() {
        for action in ResolutionAction::ALL {
            assert_eq!(serde_json::to_value(action).unwrap(), action.as_str());
        }
    }
}
