//! Steps 2 and 4 for a delete: the timesheet is read again and compared with the expected
//! state (a hand edit since planning is `orphaned`: not deleted; a timesheet that is gone is
//! done), then deleted, and the entry marked deleted.

use super::compare::kimai_edited;
use super::park::{parked, refusal};
use super::{Step, WriteError, WriteOutcome, Writer};
use kimai_client::{KimaiError, Retries};
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::kimai::Timesheet;
use sync_core::plan::ConflictReason;
use sync_store::entries::EntryStatus;
use sync_store::queue::KimaiWriteMessage;

impl Writer {
    pub(super) async fn delete(
        &self,
        message: &KimaiWriteMessage,
        key: &EntryKey,
        kimai_id: TimesheetId,
        expected: &Timesheet,
    ) -> Result<Step, WriteError> {
        let current = match self.kimai.timesheet(kimai_id).await {
            Ok(t) => t,
            Err(KimaiError::NotFound) => {
                self.mark_deleted(message.ticket_id, key).await?;
                return Ok(Step::Done(WriteOutcome::AlreadyGone { kimai_id }));
            }
            Err(e) => return Err(WriteError::Kimai(e)),
        };
        if kimai_edited(&current, expected) {
            match self
                .own_later_write(message.ticket_id, key, kimai_id, &current)
                .await?
            {
                // Our own newer write, and the time is still gone: delete it.
                Some(None) => {}
                Some(Some(_)) => return Ok(Step::Done(WriteOutcome::Superseded { kimai_id })),
                None => {
                    return Ok(Step::Park(parked(
                        ConflictReason::Orphaned,
                        format!(
                            "the Zammad time is gone but Kimai timesheet {kimai_id} was edited by hand; not deleted"
                        ),
                        Some(current),
                    )));
                }
            }
        }
        self.delete_now(message, key, kimai_id, current).await
    }

    /// Deletes the timesheet (`current`, as just read) and records that it is gone.
    async fn delete_now(
        &self,
        message: &KimaiWriteMessage,
        key: &EntryKey,
        kimai_id: TimesheetId,
        current: Timesheet,
    ) -> Result<Step, WriteError> {
        match self
            .kimai
            .delete_timesheet(kimai_id, Retries::Allowed)
            .await
        {
            // 404 after a retried DELETE: the first one went through.
            Ok(()) | Err(KimaiError::NotFound) => {
                self.stores
                    .audit(
                        "timesheet.delete",
                        serde_json::json!({
                            "operation_id": message.operation_id.0,
                            "ticket_id": message.ticket_id.0,
                            "key": key.0,
                            "kimai_id": kimai_id.0,
                        }),
                    )
                    .await?;
                self.mark_deleted(message.ticket_id, key).await?;
                Ok(Step::Done(WriteOutcome::Deleted { kimai_id }))
            }
            Err(e) => match refusal(&e, ConflictReason::KimaiRejected) {
                Some(mut p) => {
                    p.kimai = Some(current);
                    Ok(Step::Park(p))
                }
                None => Err(WriteError::Kimai(e)),
            },
        }
    }

    async fn mark_deleted(&self, ticket: TicketId, key: &EntryKey) -> Result<(), WriteError> {
        self.stores
            .entries
            .set_status(ticket, key, EntryStatus::Deleted, self.stores.now())
            .await?;
        Ok(())
    }
}
