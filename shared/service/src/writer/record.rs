//! Step 5: Kimai's echo of a write becomes the key's new base, linked conditionally, so a key
//! relinked meanwhile keeps its new link and the write is parked for a human instead.

use super::park::{Parked, parked};
use super::{Step, WriteError, WriteOutcome, Writer};
use sync_core::desired::DesiredTimesheet;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::kimai::Timesheet;
use sync_core::plan::{Base, ConflictReason};
use sync_store::StoreError;
use sync_store::entries::{EntryRecord, EntryStatus, ExpectedLink, LinkOutcome};
use sync_store::queue::KimaiWriteMessage;

impl Writer {
    /// Step 5 for a create: link the key to the new timesheet unless someone linked it first
    /// (`expected`: unlinked, or the dead timesheet a recreate replaces).
    pub(super) async fn record_create(
        &self,
        message: &KimaiWriteMessage,
        desired: &DesiredTimesheet,
        echoed: Timesheet,
        expected: ExpectedLink,
        outcome: impl Fn(TimesheetId) -> WriteOutcome,
    ) -> Result<Step, WriteError> {
        let id = echoed.id;
        let base = Base {
            key: desired.key.clone(),
            kimai_id: id,
            written: Some(desired.clone()),
            echoed,
        };
        match self
            .link(message.ticket_id, expected, &base, Some(desired))
            .await?
        {
            LinkOutcome::Linked(_) => Ok(Step::Done(outcome(id))),
            LinkOutcome::LostRace { current } if current == Some(id) => Ok(Step::Done(outcome(id))),
            // Decision: two timesheets now carry this key. Deleting ours automatically would be
            // a second unplanned write; a human picks (the other one is already linked).
            LinkOutcome::LostRace { current } => Ok(Step::Park(Parked {
                reason: ConflictReason::ProbableDuplicate,
                detail: format!(
                    "created Kimai timesheet {id}, but the key was meanwhile linked to {}; one of them is a duplicate",
                    current.map_or_else(|| "another timesheet".to_owned(), |c| c.to_string())
                ),
                kimai: Some(base.echoed),
                candidates: current.into_iter().chain([id]).collect(),
            })),
            LinkOutcome::NoSuchEntry => unreachable_no_entry(),
        }
    }

    /// Step 5 for an update: the key stays linked to the timesheet, now with its new state.
    pub(super) async fn record_update(
        &self,
        message: &KimaiWriteMessage,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        echoed: Timesheet,
    ) -> Result<Step, WriteError> {
        let base = Base {
            key: desired.key.clone(),
            kimai_id,
            written: Some(desired.clone()),
            echoed,
        };
        match self
            .link(
                message.ticket_id,
                ExpectedLink::LinkedTo(kimai_id),
                &base,
                Some(desired),
            )
            .await?
        {
            LinkOutcome::Linked(_) => Ok(Step::Done(WriteOutcome::Updated { kimai_id })),
            // Decision: the key was relinked to another timesheet while we wrote this one.
            // The new link stands; a human checks the timesheet we just changed.
            LinkOutcome::LostRace { current } => Ok(Step::Park(parked(
                ConflictReason::BothChanged,
                format!(
                    "updated Kimai timesheet {kimai_id}, but the key was meanwhile linked to {}",
                    current.map_or_else(|| "nothing".to_owned(), |c| c.to_string())
                ),
                Some(base.echoed),
            ))),
            LinkOutcome::NoSuchEntry => unreachable_no_entry(),
        }
    }

    /// Links conditionally; a missing entry (e.g. its state was lost) is first saved from the
    /// desired timesheet, so a write that reached Kimai is never left unrecorded.
    async fn link(
        &self,
        ticket: TicketId,
        expected: ExpectedLink,
        base: &Base,
        desired: Option<&DesiredTimesheet>,
    ) -> Result<LinkOutcome, WriteError> {
        let now = self.stores.now();
        let entries = &self.stores.entries;
        let outcome = entries
            .link(ticket, &base.key, expected, base, EntryStatus::Synced, now)
            .await?;
        if outcome != LinkOutcome::NoSuchEntry {
            return Ok(outcome);
        }
        let Some(d) = desired else {
            return Ok(outcome);
        };
        entries
            .save(&EntryRecord {
                ticket_id: ticket,
                key: base.key.clone(),
                agent_id: d.agent_id,
                day: d.day,
                status: EntryStatus::Pending,
                desired: Some(d.clone()),
                base: None,
                updated_at: now,
                create_sent_at: None,
            })
            .await?;
        let again = entries
            .link(ticket, &base.key, expected, base, EntryStatus::Synced, now)
            .await?;
        Ok(again)
    }
}

/// `link` saves a missing entry before linking again, so a second `NoSuchEntry` means the
/// store lost a record it just wrote.
fn unreachable_no_entry() -> Result<Step, WriteError> {
    Err(WriteError::Store(StoreError::Corrupt(
        "entry vanished between save and link".into(),
    )))
}
