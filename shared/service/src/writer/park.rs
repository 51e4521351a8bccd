//! A write that must not happen (a hand edit since planning, a time Kimai would misread) or
//! that Kimai refuses for good (400 validation, 403 locked or exported) is parked: it becomes a
//! conflict for a human, and the claim completes with it, so it is never retried.

use super::{WriteError, WriteOutcome, Writer};
use crate::idempotency::conflict_id;
use kimai_client::KimaiError;
use sync_core::ids::TimesheetId;
use sync_core::kimai::Timesheet;
use sync_core::plan::{Conflict, ConflictReason, Operation};
use sync_store::queue::KimaiWriteMessage;

/// A step ended in a conflict instead of a write.
pub(super) struct Parked {
    pub(super) reason: ConflictReason,
    pub(super) detail: String,
    pub(super) kimai: Option<Timesheet>,
    pub(super) candidates: Vec<TimesheetId>,
}

pub(super) fn parked(
    reason: ConflictReason,
    detail: impl Into<String>,
    kimai: Option<Timesheet>,
) -> Parked {
    Parked {
        reason,
        detail: detail.into(),
        kimai,
        candidates: Vec::new(),
    }
}

impl Writer {
    /// Opens the conflict (once per operation and reason) and reports it as the outcome.
    pub(super) async fn park(
        &self,
        message: &KimaiWriteMessage,
        p: Parked,
    ) -> Result<WriteOutcome, WriteError> {
        let key = message.operation.key().clone();
        let base = self
            .stores
            .entries
            .get(message.ticket_id, &key)
            .await?
            .and_then(|r| r.base);
        let desired = match &message.operation {
            Operation::Create { desired } | Operation::Update { desired, .. } => {
                Some(desired.clone())
            }
            Operation::Delete { .. } => None,
        };
        let conflict = Conflict {
            key: key.clone(),
            ticket_id: message.ticket_id,
            reason: p.reason,
            detail: p.detail.clone(),
            desired,
            base,
            kimai: p.kimai,
            candidates: p.candidates,
            subject: None,
        };
        let id = conflict_id(message.ticket_id, &key, p.reason, &message.operation_id.0);
        self.stores
            .open_conflict(&id, &conflict, message.run_id.as_ref())
            .await?;
        tracing::warn!(reason = p.reason.as_str(), detail = %p.detail, "write parked as a conflict");
        Ok(WriteOutcome::Conflict {
            reason: p.reason,
            conflict_id: id.0,
            detail: p.detail,
        })
    }
}

/// Kimai refusals that a retry cannot change: they become conflicts with Kimai's words.
pub(super) fn refusal(e: &KimaiError, validation_reason: ConflictReason) -> Option<Parked> {
    if let Some(message) = e.project_locked() {
        return Some(parked(
            ConflictReason::ProjectLocked,
            format!("Kimai refuses the timesheet: {message}"),
            None,
        ));
    }
    match e {
        KimaiError::Validation(v) | KimaiError::ExtraFields(v) => Some(parked(
            validation_reason,
            format!("Kimai rejected the timesheet: {v}"),
            None,
        )),
        KimaiError::Locked => Some(parked(
            ConflictReason::LockedOrExported,
            "Kimai refuses the change: the timesheet is exported or in a locked period (403)",
            None,
        )),
        // Decision: a 403 on create is a missing permission (e.g. create_other_timesheet)
        // rather than a lock; it is parked as a rejection a human can act on.
        KimaiError::Forbidden => Some(parked(
            ConflictReason::KimaiRejected,
            "Kimai refused the write (403): the API user lacks a permission for it",
            None,
        )),
        KimaiError::BadRequest { message } => Some(parked(
            ConflictReason::KimaiRejected,
            format!("Kimai answered 400: {message}"),
            None,
        )),
        _ => None,
    }
}
