//! Reconcile's modes against the real simulators: a dry run counts its plan on the run and
//! writes nothing, approval mode switched on later holds new time, and an unchanged ticket
//! never opens a second conflict for the same key and reason.

use chrono::Utc;
use rust_decimal::Decimal;
use sync_core::plan::{Conflict, ConflictReason};
use sync_store::conflicts::{ConflictId, ConflictsStore, OpenOutcome};
use sync_store::control::{ControlStore, RunCounters, RunState, RunTrigger};
use sync_store::entries::{EntriesStore, EntryStatus};
use sync_store::queue::{SyncReason, TicketSyncMessage};
use test_support::datasets::{kimai::acme_two_activities, zammad::printer_jam_two_accountings};
use test_support::pipeline::{Harness, TICKET, policy};
use zammad_sim::NewAccounting;

/// A manual run of one ticket, as the console's "Sync now" records it.
async fn manual_run(h: &Harness, dry_run: bool) -> sync_store::control::RunId {
    let run = h
        .control
        .create_run(
            RunTrigger::Manual,
            &serde_json::json!({"tickets": [TICKET.0], "dry_run": dry_run}),
            Utc::now(),
        )
        .await
        .unwrap();
    h.control
        .add_to_run(
            &run.id,
            &RunCounters {
                tickets_queued: 1,
                ..RunCounters::default()
            },
        )
        .await
        .unwrap();
    run.id
}

fn dry_message(run: &sync_store::control::RunId) -> TicketSyncMessage {
    let mut m = TicketSyncMessage::new(TICKET, SyncReason::Manual, Some(run.clone()));
    m.dry_run = true;
    m
}

#[tokio::test]
async fn a_dry_run_counts_the_creates_it_would_make_on_its_run_and_writes_nothing() {
    let h = Harness::start().await;
    let run = manual_run(&h, true).await;

    let report = h.reconcile_message(&dry_message(&run)).await.unwrap();
    assert_eq!(report.creates, 2, "{report:?}");

    let stored = h.control.get_run(&run).await.unwrap().unwrap();
    assert_eq!(
        stored.counters,
        RunCounters {
            tickets_queued: 1,
            tickets_done: 1,
            created: 2,
            ..RunCounters::default()
        }
    );
    assert_eq!(stored.state, RunState::Succeeded, "its only ticket is done");
    assert!(h.queued().is_empty(), "nothing for the writer");
    assert_eq!(h.kimai_writes(), 0);
    assert!(h.entries.load_ticket(TICKET).await.unwrap().is_empty());
    assert!(h.open_conflicts().await.is_empty());
}

#[tokio::test]
async fn a_dry_run_counts_adoptions_updates_and_the_conflicts_it_would_open() {
    let mut kimai = acme_two_activities();
    kimai.timesheets = serde_json::from_value(serde_json::json!([
        // Written by the older tool for accounting 100: adopted, and its marker rewritten.
        {"id": 50, "user": 2, "project": 1, "activity": 1,
         "begin": "2026-03-02T10:30:00+0100", "end": "2026-03-02T11:00:00+0100",
         "description": "ZAM:T10|TA:100\nPrinter jam", "tags": [], "exported": false,
         "billable": true, "modified_at": "2026-03-02T10:00:00Z"},
        // Typed by hand like accounting 101: a probable duplicate.
        {"id": 51, "user": 2, "project": 1, "activity": 2,
         "begin": "2026-03-02T16:00:00+0100", "end": "2026-03-02T16:15:00+0100",
         "description": "printer", "tags": [], "exported": false,
         "billable": true, "modified_at": "2026-03-02T15:00:00Z"}
    ]))
    .unwrap();
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, policy(false)).await;
    let run = manual_run(&h, true).await;

    let report = h.reconcile_message(&dry_message(&run)).await.unwrap();
    assert_eq!(report.conflicts_opened, 1, "would open: {report:?}");
    let c = h.control.get_run(&run).await.unwrap().unwrap().counters;
    assert_eq!(
        (c.created, c.updated, c.deleted, c.adopted, c.conflicts),
        (0, 1, 0, 1, 1),
        "{c:?}"
    );
    assert!(h.open_conflicts().await.is_empty(), "a dry run opens none");
    assert!(h.queued().is_empty());
    assert_eq!(h.kimai_writes(), 0);
    assert!(h.entries.load_ticket(TICKET).await.unwrap().is_empty());

    // Once the conflict is open, a dry run no longer counts it as one it would open.
    h.reconcile(TICKET).await.unwrap();
    assert_eq!(h.open_conflicts().await.len(), 1);
    let again = manual_run(&h, true).await;
    h.reconcile_message(&dry_message(&again)).await.unwrap();
    let c = h.control.get_run(&again).await.unwrap().unwrap().counters;
    assert_eq!(c.conflicts, 0, "{c:?}");
}

#[tokio::test]
async fn approval_switched_on_later_holds_new_time_and_queues_no_write() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    assert_eq!(h.kimai_sheets().len(), 2);
    let writes = h.kimai_writes();

    // The console switches approval on; Zammad gets new time on the same ticket.
    h.set_policy(policy(true)).await;
    let new = h
        .zammad
        .sim()
        .add_accounting(NewAccounting {
            ticket_id: TICKET.0,
            created_by_id: 2,
            time_unit: Decimal::from(20),
            type_id: Some(1),
            with_article: false,
            article_body: None,
            created_at: Some("2026-03-02T16:00:00Z".parse().unwrap()),
        })
        .unwrap();
    let key = sync_core::desired::EntryKey(format!("ta:{}", new["id"]));

    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(
        (report.awaiting_approval, report.creates),
        (1, 0),
        "{report:?}"
    );
    assert_eq!(report.enqueued, 0);
    assert!(h.queued().is_empty(), "no write is queued");
    let record = h.entries.get(TICKET, &key).await.unwrap().expect("entry");
    assert_eq!(record.status, EntryStatus::AwaitingApproval);
    assert!(record.desired.is_some(), "kept for the approval");
    // A second reconcile (a retry, the next schedule) still holds it.
    h.reconcile(TICKET).await.unwrap();
    assert!(h.queued().is_empty());
    h.run_writer().await;
    assert_eq!(h.kimai_writes(), writes, "nothing reached Kimai");
    assert_eq!(h.kimai_sheets().len(), 2);
}

#[tokio::test]
async fn an_unchanged_ticket_never_opens_a_second_conflict_for_the_same_key_and_reason() {
    let mut kimai = acme_two_activities();
    kimai.users[1].email = "someone-else@example.com".into();
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, policy(false)).await;

    let first = h.reconcile(TICKET).await.unwrap();
    assert_eq!(first.conflicts_opened, 2, "one per accounting: {first:?}");
    for _ in 0..2 {
        let again = h.reconcile(TICKET).await.unwrap();
        assert_eq!(again.conflicts_opened, 0, "{again:?}");
    }
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 2);
    assert!(
        open.iter()
            .all(|c| c.conflict.reason == ConflictReason::UnmappedUser)
    );
    let keys: std::collections::BTreeSet<_> = open.iter().map(|c| &c.conflict.key).collect();
    assert_eq!(keys.len(), 2, "two keys, one conflict each");
}

#[tokio::test]
async fn a_conflict_open_under_another_id_is_not_opened_a_second_time() {
    let mut kimai = acme_two_activities();
    kimai.users[1].email = "someone-else@example.com".into();
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, policy(false)).await;
    // Conflicts opened by an older version, whose ids were made another way.
    let key_of = |id: u64| sync_core::desired::EntryKey(format!("ta:{id}"));
    for accounting in [100, 101] {
        let old = Conflict {
            ticket_id: TICKET,
            key: key_of(accounting),
            reason: ConflictReason::UnmappedUser,
            detail: "opened by an older version".into(),
            desired: None,
            base: None,
            kimai: None,
            candidates: Vec::new(),
            subject: None,
        };
        let outcome = h
            .conflicts
            .open(&ConflictId(format!("c-old-{accounting}")), &old, Utc::now())
            .await
            .unwrap();
        assert_eq!(outcome, OpenOutcome::Opened);
    }

    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.conflicts, 2, "{report:?}");
    assert_eq!(report.conflicts_opened, 0, "{report:?}");
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(open.iter().all(|c| c.id.0.starts_with("c-old-")));
    let records = h.entries.load_ticket(TICKET).await.unwrap();
    assert!(records.iter().all(|r| r.status == EntryStatus::Conflict));
}

#[tokio::test]
async fn creates_held_for_approval_are_told_once_per_run_and_not_again_by_a_replan() {
    let h = Harness::start_with(
        printer_jam_two_accountings(),
        acme_two_activities(),
        policy(true),
    )
    .await;
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.awaiting_approval, 2, "{report:?}");
    h.sync_stores.flush_events().await;
    let told = h.bus.of_type("Approval Awaiting");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].detail["entries"], 2);
    assert_eq!(told[0].detail["tickets"], serde_json::json!([TICKET.0]));
    assert_eq!(told[0].detail["version"], 1);

    // The same held creates planned again (a verify sweep): nothing new to approve.
    let again = h.reconcile(TICKET).await.unwrap();
    assert_eq!(again.awaiting_approval, 2, "{again:?}");
    h.sync_stores.flush_events().await;
    assert_eq!(h.bus.of_type("Approval Awaiting").len(), 1);
}
