//! The plan's operations on the `kimai-write` queue, one message each. A message's id is derived
//! from the operation and Zammad's revision of it, so a retried or repeated reconcile of an
//! unchanged ticket enqueues the same ids, which the writer has claimed or done already.

use super::decisions::Decided;
use super::{ReconcileError, Reconciler};
use crate::kimai_write;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use sync_core::ids::AccountingId;
use sync_core::plan::{Operation, Plan};
use sync_core::zammad::TimeAccounting;
use sync_store::queue::{BatchReport, KimaiWriteMessage, SendFailure, TicketSyncMessage};

impl Reconciler {
    /// Answers how many messages were sent.
    pub(super) async fn enqueue(
        &self,
        message: &TicketSyncMessage,
        accountings: &[TimeAccounting],
        planned: &Plan,
        decided: &Decided,
    ) -> Result<usize, ReconcileError> {
        if planned.operations.is_empty() {
            return Ok(0);
        }
        let updated: HashMap<AccountingId, DateTime<Utc>> =
            accountings.iter().map(|a| (a.id, a.updated_at)).collect();
        let messages: Vec<KimaiWriteMessage> = planned
            .operations
            .iter()
            .map(|op| {
                let revision = decided.revision(op.key(), revision_of(op, &updated));
                kimai_write::message(
                    message.ticket_id,
                    message.run_id.clone(),
                    op.clone(),
                    &revision,
                )
            })
            .collect();
        let report = self.writes.send_many(&messages).await;
        if report.all_sent() {
            return Ok(report.sent);
        }
        Err(not_sent(&report))
    }
}

/// Op ids are deterministic: resending the whole plan on retry cannot double a write, so any
/// failure SQS may get over is worth a retry of the ticket.
fn not_sent(report: &BatchReport) -> ReconcileError {
    let retryable = report.failed.iter().any(|(_, f)| match f {
        SendFailure::TooLarge { .. } => false,
        SendFailure::Rejected { sender_fault, .. } => !sender_fault,
        SendFailure::Unavailable(_) => true,
    });
    ReconcileError::Enqueue {
        failed: report.failed.len(),
        retryable,
        first: format!("{:?}", report.failed[0].1),
    }
}

/// Zammad's revision of what an operation writes: the newest `updated_at` of its accountings.
fn revision_of(op: &Operation, updated: &HashMap<AccountingId, DateTime<Utc>>) -> String {
    match op {
        Operation::Create { desired } | Operation::Update { desired, .. } => desired
            .accounting_ids
            .iter()
            .filter_map(|id| updated.get(id))
            .max()
            .map_or_else(|| "-".to_owned(), |t| t.to_rfc3339()),
        // A delete names the timesheet and its expected state; that is unique enough.
        Operation::Delete { .. } => "-".to_owned(),
    }
}
