//! What one reconcile did (or, in a dry run, would do): the [`ReconcileReport`] the caller gets,
//! and the same facts in the run's counters and the audit log.

use super::{ReconcileError, Reconciler};
use crate::autocreate::AutoCreated;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashSet;
use sync_core::desired::EntryKey;
use sync_core::ids::TicketId;
use sync_core::needed_action::NeededAction;
use sync_core::normalise::TimedEntry;
use sync_core::placement::Moved;
use sync_core::plan::{Operation, Plan};
use sync_store::control::RunCounters;
use sync_store::queue::TicketSyncMessage;

/// What one reconcile did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    pub ticket_id: TicketId,
    pub dry_run: bool,
    /// False when the ticket could not be read from Zammad (then nothing is deleted).
    pub zammad_complete: bool,
    pub creates: usize,
    pub updates: usize,
    pub deletes: usize,
    pub awaiting_approval: usize,
    pub adopted: usize,
    pub kimai_edits_respected: usize,
    pub links_dropped: usize,
    /// Every conflict of the plan (open ones included, also those opened earlier).
    pub conflicts: usize,
    /// Conflicts opened by this run (a retry opens none).
    pub conflicts_opened: usize,
    /// Open `unmapped_*` conflicts closed because the plan no longer reports them.
    pub conflicts_closed: usize,
    pub needed_actions: Vec<NeededAction>,
    /// Kimai customers and projects this run created or found for needed actions (auto-create
    /// `on`), with what happened to each.
    pub auto_created: Vec<(NeededAction, AutoCreated)>,
    /// Messages put on the `kimai-write` queue.
    pub enqueued: usize,
    /// A plan read from Zammad later than this one was recorded meanwhile: this one recorded
    /// nothing (the newer plan saw everything it saw).
    pub out_of_date: bool,
    /// Entries this plan writes away from where their time was logged, and why.
    pub moved: Vec<MovedEntry>,
    pub plan: Plan,
}

/// An entry placed away from its natural interval, as the audit log tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MovedEntry {
    pub key: EntryKey,
    pub why: Moved,
    /// Where it goes, local time of its owner.
    pub begin: String,
    pub end: String,
}

impl MovedEntry {
    /// The moved entries among those `planned` creates or updates (or holds for approval).
    pub(super) fn of(entries: &[TimedEntry], planned: &Plan) -> Vec<MovedEntry> {
        let written: HashSet<&EntryKey> = planned
            .operations
            .iter()
            .chain(&planned.awaiting_approval)
            .filter(|o| !matches!(o, Operation::Delete { .. }))
            .map(Operation::key)
            .collect();
        entries
            .iter()
            .filter(|e| written.contains(&e.key))
            .filter_map(|e| {
                e.moved.map(|why| MovedEntry {
                    key: e.key.clone(),
                    why,
                    begin: e.begin_local().to_string(),
                    end: e.end_local().to_string(),
                })
            })
            .collect()
    }
}

impl ReconcileReport {
    /// The counts of a plan; what persisting and enqueueing did is filled in later, and the
    /// plan itself last.
    pub(super) fn of_plan(
        message: &TicketSyncMessage,
        zammad_complete: bool,
        planned: &Plan,
        auto_created: Vec<(NeededAction, AutoCreated)>,
    ) -> Self {
        ReconcileReport {
            ticket_id: message.ticket_id,
            dry_run: message.dry_run,
            zammad_complete,
            creates: count_ops(planned, |o| matches!(o, Operation::Create { .. })),
            updates: count_ops(planned, |o| matches!(o, Operation::Update { .. })),
            deletes: count_ops(planned, |o| matches!(o, Operation::Delete { .. })),
            awaiting_approval: planned.awaiting_approval.len(),
            adopted: planned.adopted.len(),
            kimai_edits_respected: planned.kimai_edits_respected.len(),
            links_dropped: planned.links_to_drop.len(),
            conflicts: planned.conflicts.len(),
            conflicts_opened: 0,
            conflicts_closed: 0,
            needed_actions: planned.needed_actions.clone(),
            auto_created,
            enqueued: 0,
            out_of_date: false,
            moved: Vec::new(),
            plan: Plan::default(),
        }
    }
}

impl Reconciler {
    /// The run shows what a real run would do: the same counters, nothing written.
    pub(super) async fn finish_dry_run(
        &self,
        message: &TicketSyncMessage,
        mut report: ReconcileReport,
        planned: Plan,
    ) -> Result<ReconcileReport, ReconcileError> {
        let would_open = self
            .conflicts_to_open(message.ticket_id, &planned)
            .await?
            .len();
        report.conflicts_opened = would_open;
        // Why a timesheet is rewritten, for whoever asks later: where it is and where it goes.
        for op in &report.plan.operations {
            if let Operation::Update {
                kimai_id,
                desired,
                expected,
            } = op
            {
                tracing::info!(
                    kimai_id = kimai_id.0,
                    key = %desired.key,
                    from_begin = %expected.begin,
                    from_secs = expected.duration_secs,
                    to_begin = %desired.begin_utc,
                    to_secs = desired.duration_secs,
                    same_fields = expected.description.as_deref() == Some(desired.description.as_str())
                        && expected.activity == desired.activity
                        && expected.project == desired.project
                        && expected.user == desired.user,
                    "update planned"
                );
            }
        }
        tracing::info!(
            creates = report.creates,
            updates = report.updates,
            deletes = report.deletes,
            adopted = report.adopted,
            conflicts = would_open,
            "dry run: nothing persisted or enqueued"
        );
        let counters = RunCounters {
            tickets_done: 1,
            created: report.creates as u64,
            updated: report.updates as u64,
            deleted: report.deletes as u64,
            adopted: report.adopted as u64,
            conflicts: would_open as u64,
            ..RunCounters::default()
        };
        self.stores
            .count_ticket(message.run_id.as_ref(), message.ticket_id, &counters)
            .await?;
        report.plan = planned;
        Ok(report)
    }

    /// A newer plan of the ticket was recorded meanwhile: this one records nothing, and the
    /// ticket counts as done in its run (the newer plan's writes are its writes).
    pub(super) async fn out_of_date(
        &self,
        message: &TicketSyncMessage,
        read_at: DateTime<Utc>,
        newer: DateTime<Utc>,
    ) -> Result<ReconcileReport, ReconcileError> {
        tracing::info!(%read_at, %newer, "a plan read later was recorded meanwhile; this one gives up");
        let mut report = ReconcileReport::of_plan(message, true, &Plan::default(), Vec::new());
        report.out_of_date = true;
        let counters = RunCounters {
            tickets_done: 1,
            ..RunCounters::default()
        };
        self.stores
            .count_ticket(message.run_id.as_ref(), message.ticket_id, &counters)
            .await?;
        Ok(report)
    }

    /// Counts the ticket in its run and audits what reconcile did.
    pub(super) async fn record_run(
        &self,
        message: &TicketSyncMessage,
        report: &ReconcileReport,
    ) -> Result<(), ReconcileError> {
        if !report.needed_actions.is_empty() {
            // Auto-create is off (or after review) for these: the keys stay blocked (pending)
            // and the audit log says what is needed.
            tracing::warn!(actions = ?report.needed_actions, "Kimai records must be created before these entries can sync");
        }
        let counters = RunCounters {
            tickets_done: 1,
            // Reconcile links adoptions itself; creates, updates and deletes are
            // counted by the writer once they happened.
            adopted: report.adopted as u64,
            conflicts: report.conflicts_opened as u64,
            ..RunCounters::default()
        };
        self.stores
            .count_ticket(message.run_id.as_ref(), message.ticket_id, &counters)
            .await?;
        self.stores
            .audit(
                "ticket.reconcile",
                serde_json::json!({
                    "ticket_id": message.ticket_id.0,
                    "reason": message.reason,
                    "run_id": message.run_id,
                    "zammad_complete": report.zammad_complete,
                    "creates": report.creates,
                    "updates": report.updates,
                    "deletes": report.deletes,
                    "awaiting_approval": report.awaiting_approval,
                    "adopted": report.adopted,
                    "kimai_edits_respected": report.kimai_edits_respected,
                    "conflicts": report.conflicts,
                    "conflicts_opened": report.conflicts_opened,
                    "conflicts_closed": report.conflicts_closed,
                    "needed_actions": report.needed_actions,
                    "enqueued": report.enqueued,
                    "moved": report.moved,
                }),
            )
            .await?;
        tracing::info!(
            creates = report.creates,
            updates = report.updates,
            deletes = report.deletes,
            conflicts = report.conflicts,
            enqueued = report.enqueued,
            "ticket reconciled"
        );
        Ok(())
    }
}

fn count_ops(plan: &Plan, f: impl Fn(&Operation) -> bool) -> usize {
    plan.operations.iter().filter(|o| f(o)).count()
}
