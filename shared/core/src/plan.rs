//! What the planner decides for one ticket: operations to apply to Kimai and conflicts for a human.

use crate::desired::{DesiredTimesheet, EntryKey};
use crate::ids::{AccountingTypeId, GroupId, OrganisationId, TicketId, TimesheetId, ZammadUserId};
use crate::kimai::Timesheet;
use crate::needed_action::NeededAction;
use serde::{Deserialize, Serialize};

/// The base of one key: what we last wrote to (or adopted from) Kimai.
///
/// Both halves are kept because Kimai may round on save: "did Zammad change?" compares the new
/// desired state with `written`; "did someone edit Kimai?" compares Kimai with `echoed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    pub key: EntryKey,
    pub kimai_id: TimesheetId,
    /// What we asked Kimai to hold (`None` for an adopted timesheet we never wrote).
    pub written: Option<DesiredTimesheet>,
    /// What Kimai answered with after that write (or at adoption).
    pub echoed: Timesheet,
}

/// One write to Kimai. Update and delete carry the state we expect to find, so the writer can
/// re-read and refuse to overwrite a hand edit that happened after planning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    Create {
        desired: DesiredTimesheet,
    },
    Update {
        kimai_id: TimesheetId,
        desired: DesiredTimesheet,
        expected: Timesheet,
    },
    Delete {
        key: EntryKey,
        kimai_id: TimesheetId,
        expected: Timesheet,
    },
}

impl Operation {
    pub fn key(&self) -> &EntryKey {
        match self {
            Operation::Create { desired } | Operation::Update { desired, .. } => &desired.key,
            Operation::Delete { key, .. } => key,
        }
    }
}

/// Why the planner (or the writer) could not decide on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictReason {
    /// An unmarked Kimai timesheet with the same user, project, day and duration exists.
    ProbableDuplicate,
    /// The timesheet is exported or in a locked period; Kimai refuses edits.
    LockedOrExported,
    /// Zammad and Kimai both changed since our last write.
    BothChanged,
    /// We linked a timesheet that is gone from Kimai.
    DeletedInKimai,
    /// The Zammad time is gone but the Kimai timesheet was edited by hand.
    Orphaned,
    UnmappedActivity,
    UnmappedUser,
    UnmappedCustomer,
    UnmappedProject,
    /// Kimai answered a write with a validation error.
    KimaiRejected,
    /// Begin or end falls in the repeated hour of a DST fall-back; Kimai reads local times
    /// without offset and would book it an hour off.
    AmbiguousLocalTime,
    /// Kimai holds more than one timesheet for the key (our marker on each, or the linked one
    /// and a marked one): left over from a past failure, billed twice until one is deleted.
    DuplicateTimesheets,
    /// The project is locked up to the timesheet's day in Kimai (`lockedUntil`): nobody may
    /// create, change or delete it there. Closes by itself once the lock is moved back.
    ProjectLocked,
    /// The agent's local day has no free slot as long as the entry (other tickets' time and
    /// time entered by hand fill it): placed nowhere, written nowhere.
    NoRoomOnDay,
}

impl ConflictReason {
    /// Every reason, in declaration order: for the tests and listings that go through them all.
    /// A new reason is added here as well as in `as_str`.
    pub const ALL: [ConflictReason; 14] = [
        ConflictReason::ProbableDuplicate,
        ConflictReason::LockedOrExported,
        ConflictReason::BothChanged,
        ConflictReason::DeletedInKimai,
        ConflictReason::Orphaned,
        ConflictReason::UnmappedActivity,
        ConflictReason::UnmappedUser,
        ConflictReason::UnmappedCustomer,
        ConflictReason::UnmappedProject,
        ConflictReason::KimaiRejected,
        ConflictReason::AmbiguousLocalTime,
        ConflictReason::DuplicateTimesheets,
        ConflictReason::ProjectLocked,
        ConflictReason::NoRoomOnDay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConflictReason::ProbableDuplicate => "probable_duplicate",
            ConflictReason::LockedOrExported => "locked_or_exported",
            ConflictReason::BothChanged => "both_changed",
            ConflictReason::DeletedInKimai => "deleted_in_kimai",
            ConflictReason::Orphaned => "orphaned",
            ConflictReason::UnmappedActivity => "unmapped_activity",
            ConflictReason::UnmappedUser => "unmapped_user",
            ConflictReason::UnmappedCustomer => "unmapped_customer",
            ConflictReason::UnmappedProject => "unmapped_project",
            ConflictReason::KimaiRejected => "kimai_rejected",
            ConflictReason::AmbiguousLocalTime => "ambiguous_local_time",
            ConflictReason::DuplicateTimesheets => "duplicate_timesheets",
            ConflictReason::ProjectLocked => "project_locked",
            ConflictReason::NoRoomOnDay => "no_room_on_day",
        }
    }
}

/// A decision left to a human, with everything needed to show both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub key: EntryKey,
    pub ticket_id: TicketId,
    pub reason: ConflictReason,
    /// Human-readable detail (for `kimai_rejected`, Kimai's message).
    pub detail: String,
    pub desired: Option<DesiredTimesheet>,
    pub base: Option<Base>,
    pub kimai: Option<Timesheet>,
    /// Kimai timesheets that might be the same work (for `probable_duplicate`).
    pub candidates: Vec<TimesheetId>,
    /// Who and what it is about, as Zammad names them (set by the sync after planning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<ConflictSubject>,
}

/// Who and what a conflict is about, in Zammad's words: what a person needs to decide it (the
/// agent's e-mail, the ticket's number and title) and to fix it in place (the ids a mapping
/// takes). Absent on conflicts opened before it existed and on those Kimai's refusal of a write
/// opens (the writer knows the desired timesheet only; it names the agent's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictSubject {
    pub ticket_number: String,
    pub ticket_title: String,
    pub agent_id: ZammadUserId,
    /// First and last name, else login, else e-mail, else `agent <id>`.
    pub agent_name: String,
    pub agent_email: Option<String>,
    pub type_id: Option<AccountingTypeId>,
    pub type_name: Option<String>,
    pub organisation_id: Option<OrganisationId>,
    pub organisation_name: Option<String>,
    /// The ticket's group (what a project mapping maps).
    #[serde(default)]
    pub group_id: Option<GroupId>,
}

/// The planner's output for one ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub operations: Vec<Operation>,
    pub conflicts: Vec<Conflict>,
    /// Keys whose link the planner adopted from a marker match (record as base, no write needed
    /// unless an operation for the same key is also present).
    pub adopted: Vec<Base>,
    /// Keys where Kimai was edited by hand and Zammad did not change: the edit is respected;
    /// the new Kimai state becomes the recorded echo.
    pub kimai_edits_respected: Vec<Base>,
    /// Creates held back in approval mode (apply them once a human approved).
    #[serde(default)]
    pub awaiting_approval: Vec<Operation>,
    /// Kimai records to create before the blocked keys can be resolved (customers, projects).
    #[serde(default)]
    pub needed_actions: Vec<NeededAction>,
    /// Links whose Zammad time and Kimai timesheet are both gone: forget them, nothing to write.
    #[serde(default)]
    pub links_to_drop: Vec<EntryKey>,
}
