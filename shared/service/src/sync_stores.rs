//! The store ports the two pipeline steps after discovery (reconcile, kimai-writer) share, and
//! the two things both do with them: open a conflict once, and write a sync audit event.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use sync_core::ids::TicketId;
use sync_core::plan::Conflict;
use sync_store::StoreResult;
use sync_store::audit::{AuditEvent, AuditKind, AuditLog};
use sync_store::clock::Clock;
use sync_store::conflicts::{ConflictId, ConflictsStore, OpenOutcome};
use sync_store::control::{
    ControlStore, DeadLetterRecord, FinishOutcome, RunCounters, RunId, RunState, RunTrigger,
    TicketCount,
};
use sync_store::entries::{EntriesStore, EntryStatus};

use crate::events::{
    BacklogCrossed, DeadLettersArrived, DomainEvent, OpenedConflict, Publisher, RunEnded,
};
use crate::settings;
use sync_store::conflicts::{ConflictFilter, ConflictStatus};
use sync_store::page::{MAX_PAGE_SIZE, PageRequest};

/// Actor of every event the pipeline writes itself.
pub const SYSTEM_ACTOR: &str = "system";

/// A message on its way to its dead-letter queue, as [`SyncStores::dead_lettered`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetter<'a> {
    /// The queue it came from (`ticket-sync`, `kimai-write`).
    pub queue: &'a str,
    pub message_id: &'a str,
    pub body: &'a str,
    /// Why its last delivery failed.
    pub error: &'a str,
}

#[derive(Clone)]
pub struct SyncStores {
    pub entries: Arc<dyn EntriesStore>,
    pub conflicts: Arc<dyn ConflictsStore>,
    pub audit: Arc<dyn AuditLog>,
    pub control: Arc<dyn ControlStore>,
    pub clock: Arc<dyn Clock>,
    /// The domain events the two steps publish (conflicts opened, dead letters, a manual run
    /// that ended).
    pub events: Arc<Publisher>,
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
    /// as blocked, and audits a newly opened one, which also goes into the next `Conflict
    /// Opened` event of `run`. `true` if it was opened now.
    pub async fn open_conflict(
        &self,
        id: &ConflictId,
        conflict: &Conflict,
        run: Option<&RunId>,
    ) -> StoreResult<bool> {
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
            self.events
                .conflict_opened(run, OpenedConflict::of(&id.0, conflict));
            sync_metrics::conflicts_opened(1);
        }
        Ok(opened)
    }

    /// At the end of an invocation: the conflicts it opened, as one `Conflict Opened` per run;
    /// then `ConflictBacklog ThresholdCrossed` when they took the open conflicts from below
    /// `policy/notifications`' threshold to it or past it. Best effort, like every publish:
    /// a store that fails here is logged. Two invocations crossing at the same moment may both
    /// tell it.
    pub async fn flush_events(&self) {
        let opened = self.events.flush().await as u64;
        if opened == 0 {
            return;
        }
        let threshold = match settings::load_notifications(self.control.as_ref()).await {
            Ok(s) => s.backlog_threshold,
            Err(e) => {
                tracing::warn!(error = %e, "notification settings unreadable; backlog not checked");
                return;
            }
        };
        if threshold == 0 {
            return;
        }
        let open = match self
            .count_open_conflicts(u64::from(threshold) + opened)
            .await
        {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "open conflicts not counted; backlog not checked");
                return;
            }
        };
        let threshold_n = u64::from(threshold);
        if open >= threshold_n && open.saturating_sub(opened) < threshold_n {
            let crossed = BacklogCrossed::of(open, threshold, opened);
            self.events
                .publish(&[DomainEvent::BacklogCrossed(crossed)])
                .await;
        }
    }

    /// Open conflicts, counted up to `limit`.
    async fn count_open_conflicts(&self, limit: u64) -> StoreResult<u64> {
        let filter = ConflictFilter::status(ConflictStatus::Open);
        let mut request = PageRequest::first(MAX_PAGE_SIZE);
        let mut count = 0u64;
        loop {
            let page = self.conflicts.list(&filter, &request).await?;
            count += page.items.len() as u64;
            match page.next {
                Some(next) if count < limit => request = PageRequest::next(MAX_PAGE_SIZE, next),
                _ => return Ok(count.min(limit)),
            }
        }
    }

    /// A message failed on its last delivery and goes to the dead-letter queue: counted once as
    /// `failed` in its run, audited (`message.dead_letter`), told on the bus, and kept as a
    /// dead-letter record (`body` and `error`), which is what the console lists. Best effort:
    /// the message fails either way, so errors here are only logged.
    ///
    /// A ticket-sync message names its `ticket`: a ticket counts once in its run, so one that
    /// was counted done on an earlier delivery is not counted failed as well.
    pub async fn dead_lettered(
        &self,
        dead: DeadLetter<'_>,
        run: Option<&RunId>,
        ticket: Option<TicketId>,
    ) {
        let DeadLetter {
            queue,
            message_id,
            body,
            error,
        } = dead;
        let failed = RunCounters {
            failed: 1,
            ..RunCounters::default()
        };
        let counted = match ticket {
            Some(ticket) => self.count_ticket(run, ticket, &failed).await,
            None => self.count(run, &failed).await,
        };
        if let Err(e) = counted {
            tracing::warn!(error = %e, "could not count the dead letter in its run");
        }
        let record = DeadLetterRecord {
            queue: queue.to_owned(),
            message_id: message_id.to_owned(),
            body: body.to_owned(),
            error: error.to_owned(),
            failed_at: self.now(),
        };
        if let Err(e) = self.control.put_dead_letter(&record).await {
            tracing::warn!(error = %e, "could not keep the dead letter's record; the console will count it without describing it");
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
        let arrived =
            DeadLettersArrived::of(queue, message_id, run.cloned(), ticket.map(|t| t.0), error);
        self.events
            .publish(&[DomainEvent::DeadLettersArrived(arrived)])
            .await;
    }

    /// Adds to a run's counters when the message belongs to a run. A run that does not exist
    /// (deleted, or a message from a test) is logged and otherwise ignored.
    ///
    /// A ticket counted as done or failed may complete a manual run (see [`finish_if_complete`]).
    ///
    /// [`finish_if_complete`]: SyncStores::finish_if_complete
    pub async fn count(&self, run: Option<&RunId>, delta: &RunCounters) -> StoreResult<()> {
        let Some(run) = run else { return Ok(()) };
        if !self.control.add_to_run(run, delta).await? {
            tracing::warn!(run_id = %run, "run not found; counters not updated");
            return Ok(());
        }
        if delta.tickets_done > 0 || delta.failed > 0 {
            self.finish_if_complete(run).await?;
        }
        Ok(())
    }

    /// Adds a ticket's outcome to its run once, however often its message is delivered
    /// ([`ControlStore::count_ticket`]). A delivery after the first adds nothing, but may still
    /// finish the run: the first one may have died between its count and the finish.
    pub async fn count_ticket(
        &self,
        run: Option<&RunId>,
        ticket: TicketId,
        delta: &RunCounters,
    ) -> StoreResult<()> {
        let Some(run) = run else { return Ok(()) };
        match self
            .control
            .count_ticket(run, ticket.0, delta, self.now())
            .await?
        {
            TicketCount::NoRun => {
                tracing::warn!(run_id = %run, "run not found; counters not updated");
                return Ok(());
            }
            TicketCount::AlreadyCounted => {
                tracing::info!(run_id = %run, ticket_id = ticket.0, "the ticket was counted in its run by an earlier delivery");
            }
            TicketCount::Counted => {}
        }
        self.finish_if_complete(run).await
    }

    /// Finishes a manual run (the console's "sync these tickets") once every ticket it queued
    /// is accounted for: reconciled, or failed for good. Nobody else would: the console only
    /// queues, and a scheduled, verify or backfill run is finished by scheduled-fetch itself
    /// right after its messages are sent. `succeeded` if nothing failed, else `failed`.
    /// Racing last tickets both try; the store lets exactly one finish it.
    pub async fn finish_if_complete(&self, run: &RunId) -> StoreResult<()> {
        let Some(current) = self.control.get_run(run).await? else {
            return Ok(());
        };
        let c = &current.counters;
        let complete = current.trigger == RunTrigger::Manual
            && current.state == RunState::Running
            && c.tickets_queued > 0
            && c.tickets_done + c.failed >= c.tickets_queued;
        if !complete {
            return Ok(());
        }
        let state = if c.failed == 0 {
            RunState::Succeeded
        } else {
            RunState::Failed
        };
        if let FinishOutcome::Finished(finished) =
            self.control.finish_run(run, state, self.now()).await?
        {
            tracing::info!(run_id = %run, state = state.as_str(), "manual run finished: every ticket is done");
            self.events
                .publish(&[DomainEvent::RunEnded(RunEnded::of(&finished, None))])
                .await;
            crate::events::measure_run(&finished);
            self.audit(
                "sync_run.finish",
                serde_json::json!({
                    "run_id": run.0,
                    "state": state.as_str(),
                    "tickets_queued": finished.counters.tickets_queued,
                    "tickets_done": finished.counters.tickets_done,
                    "failed": finished.counters.failed,
                }),
            )
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_store::clock::SystemClock;
    use sync_store::memory::{
        MemoryAuditLog, MemoryConflicts, MemoryControl, MemoryEntries, MemoryEventBus,
    };

    fn stores() -> SyncStores {
        stores_and_bus().0
    }

    fn stores_and_bus() -> (SyncStores, Arc<MemoryEventBus>) {
        let bus = Arc::new(MemoryEventBus::new());
        let stores = SyncStores {
            entries: Arc::new(MemoryEntries::new()),
            conflicts: Arc::new(MemoryConflicts::new()),
            audit: Arc::new(MemoryAuditLog::new(Default::default())),
            control: Arc::new(MemoryControl::new()),
            clock: Arc::new(SystemClock),
            events: Arc::new(Publisher::new(bus.clone())),
        };
        (stores, bus)
    }

    async fn run(stores: &SyncStores, trigger: RunTrigger, queued: u64) -> RunId {
        let run = stores
            .control
            .create_run(trigger, &serde_json::json!({}), stores.now())
            .await
            .unwrap();
        let delta = RunCounters {
            tickets_queued: queued,
            ..RunCounters::default()
        };
        stores.control.add_to_run(&run.id, &delta).await.unwrap();
        run.id
    }

    async fn state(stores: &SyncStores, run: &RunId) -> RunState {
        stores.control.get_run(run).await.unwrap().unwrap().state
    }

    const DONE: RunCounters = RunCounters {
        tickets_queued: 0,
        tickets_done: 1,
        created: 0,
        updated: 0,
        deleted: 0,
        adopted: 0,
        conflicts: 0,
        failed: 0,
    };

    #[tokio::test]
    async fn a_manual_run_finishes_when_its_last_ticket_is_done() {
        let (s, bus) = stores_and_bus();
        let id = run(&s, RunTrigger::Manual, 2).await;
        s.count(Some(&id), &DONE).await.unwrap();
        assert_eq!(state(&s, &id).await, RunState::Running, "1 of 2");
        s.count(Some(&id), &DONE).await.unwrap();
        assert_eq!(state(&s, &id).await, RunState::Succeeded);
        let finished = s.control.get_run(&id).await.unwrap().unwrap();
        assert!(finished.finished_at.is_some());
        // A redelivered ticket counts again but finishes nothing a second time.
        s.count(Some(&id), &DONE).await.unwrap();
        assert_eq!(state(&s, &id).await, RunState::Succeeded);
        let today = s.now().date_naive();
        let audited = s
            .audit
            .query(
                today,
                today,
                &sync_store::audit::AuditFilter {
                    action: Some("sync_run.finish".into()),
                    ..Default::default()
                },
                &sync_store::PageRequest::first(10),
            )
            .await
            .unwrap();
        assert_eq!(audited.items.len(), 1);
        assert_eq!(audited.items[0].event.detail["state"], "succeeded");
        let told = bus.of_type("SyncRun Finished");
        assert_eq!(told.len(), 1, "once, however often it is counted");
        assert_eq!(told[0].detail["run_id"], id.0);
        assert_eq!(told[0].detail["counters"]["tickets_done"], 2);
    }

    #[tokio::test]
    async fn a_manual_run_with_a_dead_lettered_ticket_finishes_as_failed() {
        let (s, bus) = stores_and_bus();
        let id = run(&s, RunTrigger::Manual, 2).await;
        s.count_ticket(Some(&id), TicketId(1), &DONE).await.unwrap();
        let dead = DeadLetter {
            queue: sync_store::schema::TICKET_SYNC_QUEUE.logical,
            message_id: "m-1",
            body: r#"{"ticket_id":2}"#,
            error: "Zammad kept failing",
        };
        s.dead_lettered(dead, Some(&id), Some(TicketId(2))).await;
        assert_eq!(state(&s, &id).await, RunState::Failed);
        let dead = bus.of_type("DeadLetters Arrived");
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].detail["ticket_id"], 2);
        assert_eq!(dead[0].detail["error"], "Zammad kept failing");
        let kept = s.control.dead_letters("ticket-sync", 10).await.unwrap();
        assert_eq!(kept.len(), 1, "the console lists it from its record");
        assert_eq!(
            (
                kept[0].message_id.as_str(),
                kept[0].body.as_str(),
                kept[0].error.as_str()
            ),
            ("m-1", r#"{"ticket_id":2}"#, "Zammad kept failing")
        );
        assert_eq!(bus.of_type("SyncRun Failed").len(), 1);
        assert!(bus.of_type("SyncRun Finished").is_empty());
    }

    fn unmapped(ticket: u64) -> Conflict {
        Conflict {
            key: sync_core::desired::EntryKey(format!("ta:{ticket}")),
            ticket_id: TicketId(ticket),
            reason: sync_core::plan::ConflictReason::UnmappedUser,
            detail: String::new(),
            desired: None,
            base: None,
            kimai: None,
            candidates: vec![],
            subject: None,
        }
    }

    async fn open_many(s: &SyncStores, tickets: std::ops::Range<u64>) {
        for t in tickets {
            let id = ConflictId(format!("c-{t}"));
            assert!(s.open_conflict(&id, &unmapped(t), None).await.unwrap());
        }
    }

    #[tokio::test]
    async fn the_backlog_is_told_once_when_new_conflicts_take_it_past_the_threshold() {
        let (s, bus) = stores_and_bus();
        // The default threshold is 25: 24 open, nothing about the backlog.
        open_many(&s, 0..24).await;
        s.flush_events().await;
        assert!(bus.of_type("ConflictBacklog ThresholdCrossed").is_empty());
        // Two more take it from 24 to 26.
        open_many(&s, 24..26).await;
        s.flush_events().await;
        let crossed = bus.of_type("ConflictBacklog ThresholdCrossed");
        assert_eq!(crossed.len(), 1);
        assert_eq!(crossed[0].detail["open_conflicts"], 26);
        assert_eq!(crossed[0].detail["threshold"], 25);
        assert_eq!(crossed[0].detail["opened_now"], 2);
        // Above it already: one more tells nothing new.
        open_many(&s, 26..27).await;
        s.flush_events().await;
        assert_eq!(bus.of_type("ConflictBacklog ThresholdCrossed").len(), 1);
        assert_eq!(bus.of_type("Conflict Opened").len(), 3, "one per flush");
    }

    #[tokio::test]
    async fn a_threshold_of_zero_tells_no_backlog() {
        let (s, bus) = stores_and_bus();
        let off = settings::NotificationSettings {
            backlog_threshold: 0,
            ..Default::default()
        };
        settings::save_notifications(
            s.control.as_ref(),
            &off,
            sync_store::control::ExpectedVersion::Any,
            s.now(),
        )
        .await
        .unwrap();
        open_many(&s, 0..30).await;
        s.flush_events().await;
        assert!(bus.of_type("ConflictBacklog ThresholdCrossed").is_empty());
        assert_eq!(bus.of_type("Conflict Opened")[0].detail["count"], 30);
    }

    #[tokio::test]
    async fn a_conflict_is_told_once_at_the_flush_even_when_opened_again() {
        let (s, bus) = stores_and_bus();
        let run = RunId("r1".into());
        let conflict = Conflict {
            key: sync_core::desired::EntryKey("ta:5".into()),
            ticket_id: TicketId(5),
            reason: sync_core::plan::ConflictReason::UnmappedUser,
            detail: "agent 7 has no Kimai user".into(),
            desired: None,
            base: None,
            kimai: None,
            candidates: vec![],
            subject: None,
        };
        let id = ConflictId("c-5".into());
        assert!(s.open_conflict(&id, &conflict, Some(&run)).await.unwrap());
        assert!(!s.open_conflict(&id, &conflict, Some(&run)).await.unwrap());
        s.events.flush().await;
        let told = bus.of_type("Conflict Opened");
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].detail["count"], 1);
        assert_eq!(told[0].detail["conflicts"][0]["reason"], "unmapped_user");
    }

    #[tokio::test]
    async fn a_ticket_delivered_again_counts_once_in_its_run() {
        let s = stores();
        let id = run(&s, RunTrigger::Manual, 2).await;
        s.count_ticket(Some(&id), TicketId(1), &DONE).await.unwrap();
        // The same message again (its first invocation died before deleting it), then failing
        // on its last delivery: neither counts, and the run waits for ticket 2.
        s.count_ticket(Some(&id), TicketId(1), &DONE).await.unwrap();
        let dead = DeadLetter {
            queue: sync_store::schema::TICKET_SYNC_QUEUE.logical,
            message_id: "m-1",
            body: r#"{"ticket_id":1}"#,
            error: "killed",
        };
        s.dead_lettered(dead, Some(&id), Some(TicketId(1))).await;
        let current = s.control.get_run(&id).await.unwrap().unwrap();
        assert_eq!(current.state, RunState::Running);
        assert_eq!(
            (current.counters.tickets_done, current.counters.failed),
            (1, 0)
        );
        s.count_ticket(Some(&id), TicketId(2), &DONE).await.unwrap();
        assert_eq!(state(&s, &id).await, RunState::Succeeded);
    }

    #[tokio::test]
    async fn other_runs_and_runs_without_a_queued_count_are_left_to_their_starter() {
        let s = stores();
        // scheduled-fetch finishes its own runs.
        let scheduled = run(&s, RunTrigger::Backfill, 1).await;
        s.count(Some(&scheduled), &DONE).await.unwrap();
        assert_eq!(state(&s, &scheduled).await, RunState::Running);
        // The console has not recorded how many it queued yet: not complete.
        let early = run(&s, RunTrigger::Manual, 0).await;
        s.count(Some(&early), &DONE).await.unwrap();
        assert_eq!(state(&s, &early).await, RunState::Running);
        // Counting writes does not finish anything either.
        let manual = run(&s, RunTrigger::Manual, 1).await;
        let created = RunCounters {
            created: 1,
            ..RunCounters::default()
        };
        s.count(Some(&manual), &created).await.unwrap();
        assert_eq!(state(&s, &manual).await, RunState::Running);
        // A run that does not exist is only logged.
        s.count(Some(&RunId("no-such-run".into())), &DONE)
            .await
            .unwrap();
    }
}
