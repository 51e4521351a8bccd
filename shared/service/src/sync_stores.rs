//! The store ports the two pipeline steps after discovery (reconcile, kimai-writer) share, and
//! the two things both do with them: open a conflict once, and write a sync audit event.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use sync_core::plan::Conflict;
use sync_store::StoreResult;
use sync_store::audit::{AuditEvent, AuditKind, AuditLog};
use sync_store::clock::Clock;
use sync_store::conflicts::{ConflictId, ConflictsStore, OpenOutcome};
use sync_store::control::{ControlStore, RunCounters, RunId};
use sync_store::entries::{EntriesStore, EntryStatus};

/// Actor of every event the pipeline writes itself.
pub const SYSTEM_ACTOR: &str = "system";

#[derive(Clone)]
pub struct SyncStores {
    pub entries: Arc<dyn EntriesStore>,
    pub conflicts: Arc<dyn ConflictsStore>,
    pub audit: Arc<dyn AuditLog>,
    pub control: Arc<dyn ControlStore>,
    pub clock: Arc<dyn Clock>,
}

impl SyncStores {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Appends a sync event (actor `system`).
    pub async fn audit(&self, action: &str, detail: serde_json::Value) -> StoreResult<()> {
        let event = AuditEvent {
            at: self.now(),
            kind: AuditKind::Sync,
            action: action.to_owned(),
            actor: SYSTEM_ACTOR.to_owned(),
            ip: None,
            detail,
        };
        self.audit.append(&event).await.map(|_| ())
    }

    /// Opens `conflict` under `id` unless it is open (or was resolved) already, marks its entry
    /// as blocked, and audits a newly opened one. `true` if it was opened now.
    pub async fn open_conflict(&self, id: &ConflictId, conflict: &Conflict) -> StoreResult<bool> {
        let now = self.now();
        let opened = self.conflicts.open(id, conflict, now).await? == OpenOutcome::Opened;
        // The entry may not exist (a key that never got that far); then there is nothing to mark.
        self.entries
            .set_status(
                conflict.ticket_id,
                &conflict.key,
                EntryStatus::Conflict,
                now,
            )
            .await?;
        if opened {
            self.audit(
                "conflict.open",
                serde_json::json!({
                    "conflict_id": id.0,
                    "ticket_id": conflict.ticket_id.0,
                    "key": conflict.key.0,
                    "reason": conflict.reason.as_str(),
                    "detail": conflict.detail,
                }),
            )
            .await?;
        }
        Ok(opened)
    }

    /// A message failed on its last delivery and goes to the dead-letter queue: counted once as
    /// `failed` in its run and audited (`message.dead_letter`), so the run's progress adds up.
    /// Best effort: the message fails either way, so errors here are only logged.
    pub async fn dead_lettered(
        &self,
        queue: &str,
        message_id: &str,
        run: Option<&RunId>,
        error: &str,
    ) {
        let failed = RunCounters {
            failed: 1,
            ..RunCounters::default()
        };
        if let Err(e) = self.count(run, &failed).await {
            tracing::warn!(error = %e, "could not count the dead letter in its run");
        }
        let detail = serde_json::json!({
            "queue": queue,
            "message_id": message_id,
            "run_id": run,
            "error": error,
        });
        if let Err(e) = self.audit("message.dead_letter", detail).await {
            tracing::warn!(error = %e, "could not audit the dead letter");
        }
    }

    /// Adds to a run's counters when the message belongs to a run. A run that does not exist
    /// (deleted, or a message from a test) is logged and otherwise ignored.
    pub async fn count(&self, run: Option<&RunId>, delta: &RunCounters) -> StoreResult<()> {
        let Some(run) = run else { return Ok(()) };
        if !self.control.add_to_run(run, delta).await? {
            tracing::warn!(run_id = %run, "run not found; counters not updated");
        }
        Ok(())
    }
}
