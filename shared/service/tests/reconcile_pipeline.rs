//! Reconcile and the writer end to end against the real Zammad and Kimai simulators.

use sync_core::desired::EntryKey;
use sync_core::plan::ConflictReason;
use sync_service::reconcile::{InvocationCache, ReconcileError};
use sync_service::writer::WriteOutcome;
use sync_store::entries::{EntriesStore, EntryStatus};
use sync_store::queue::{SyncReason, TicketSyncMessage};
use test_support::datasets::{kimai::acme_two_activities, zammad::printer_jam_two_accountings};
use test_support::pipeline::{Harness, TICKET, policy};
use test_support::stores::audit_today_of;
use zammad_sim::AccountingChange;

fn sheet_with_marker<'a>(
    sheets: &'a [kimai_sim::AdminTimesheet],
    marker: &str,
) -> &'a kimai_sim::AdminTimesheet {
    sheets
        .iter()
        .find(|s| s.description.as_deref().unwrap_or("").contains(marker))
        .unwrap_or_else(|| panic!("no timesheet with {marker}: {sheets:?}"))
}

#[tokio::test]
async fn accountings_become_timesheets_for_the_right_user_project_activity_and_zone() {
    let h = Harness::start().await;
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!((report.creates, report.conflicts), (2, 0), "{report:?}");
    assert_eq!(h.queued().len(), 2);

    let results = h.run_writer().await;
    assert_eq!(results.len(), 2);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(WriteOutcome::Created { .. }))),
        "{results:?}"
    );

    let sheets = h.kimai_sheets();
    assert_eq!(sheets.len(), 2);
    // 30 minutes logged at 10:00Z by Anna (Berlin, UTC+1): it ended then, 10:30–11:00 local,
    // although the API user that POSTed it lives in UTC.
    let typed = sheet_with_marker(&sheets, "[zammad:ta=100]");
    assert_eq!(typed.user, 2);
    assert_eq!(typed.project, 1);
    assert_eq!(typed.activity, 1, "type Remote maps to activity 1");
    assert_eq!(typed.timezone, "Europe/Berlin");
    assert_eq!(typed.begin, "2026-03-02T10:30:00+0100");
    assert_eq!(typed.end.as_deref(), Some("2026-03-02T11:00:00+0100"));
    assert_eq!(typed.duration, 1800);
    assert_eq!(
        typed.description.as_deref(),
        Some("[zammad:ta=100] #31010 Printer jam")
    );
    assert_eq!(
        typed.tags,
        vec!["zammad".to_owned()],
        "the tag was created first"
    );

    let untyped = sheet_with_marker(&sheets, "[zammad:ta=101]");
    assert_eq!(untyped.activity, 2, "no type: the default activity");
    assert_eq!(untyped.begin, "2026-03-02T14:45:00+0100");
    assert_eq!(untyped.duration, 900);

    // Both keys are linked with Kimai's echo as the base.
    let records = h.entries.load_ticket(TICKET).await.unwrap();
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r.status, EntryStatus::Synced, "{r:?}");
        let base = r.base.as_ref().expect("linked");
        assert!(sheets.iter().any(|s| s.id == base.kimai_id.0));
    }
    assert!(h.open_conflicts().await.is_empty());
}

#[tokio::test]
async fn a_second_reconcile_of_an_unchanged_ticket_makes_no_writes_and_one_list_call() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let writes = h.kimai_writes();
    let lists = h.kimai_calls("GET /api/timesheets");
    let reads = h.kimai_calls("GET /api/timesheets/{id}");
    assert_eq!(writes, 2);

    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.enqueued, 0, "{report:?}");
    assert!(report.plan.operations.is_empty());
    assert!(h.queued().is_empty());
    assert!(h.run_writer().await.is_empty());
    assert_eq!(h.kimai_writes(), writes, "no POST, PATCH or DELETE");
    assert_eq!(
        h.kimai_calls("GET /api/timesheets"),
        lists + 1,
        "one list call for the one agent's days; no marker or duplicate searches"
    );
    assert_eq!(
        h.kimai_calls("GET /api/timesheets/{id}"),
        reads,
        "no read per timesheet"
    );
}

#[tokio::test]
async fn a_linked_timesheet_moved_out_of_its_days_by_hand_is_read_by_id() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let sheet = sheet_with_marker(&h.kimai_sheets(), "[zammad:ta=100]").clone();
    h.kimai
        .admin()
        .edit_by_hand(
            sheet.id,
            kimai_sim::HandEdit {
                begin: Some("2026-03-09T10:30:00+0100".into()),
                end: Some("2026-03-09T11:00:00+0100".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let reads = h.kimai_calls("GET /api/timesheets/{id}");
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(h.kimai_calls("GET /api/timesheets/{id}"), reads + 1);
    // Found, so it is a respected hand edit, not "deleted in Kimai".
    assert_eq!(report.kimai_edits_respected, 1, "{report:?}");
    assert!(h.open_conflicts().await.is_empty());
}

#[tokio::test]
async fn edited_and_deleted_accountings_update_and_delete_their_timesheets() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let zammad = h.zammad.sim();
    zammad
        .change_accounting(
            100,
            serde_json::from_value::<AccountingChange>(serde_json::json!({"time_unit": "45"}))
                .unwrap(),
        )
        .unwrap();
    zammad.delete_accounting(101).unwrap();

    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!((report.updates, report.deletes), (1, 1), "{report:?}");
    let results = h.run_writer().await;
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Ok(WriteOutcome::Updated { .. })))
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Ok(WriteOutcome::Deleted { .. })))
    );

    let sheets = h.kimai_sheets();
    assert_eq!(sheets.len(), 1, "{sheets:?}");
    let updated = sheet_with_marker(&sheets, "[zammad:ta=100]");
    assert_eq!(updated.duration, 2700);
    // The end stays where it was logged; the begin moves earlier.
    assert_eq!(updated.begin, "2026-03-02T10:15:00+0100");
    assert_eq!(updated.end.as_deref(), Some("2026-03-02T11:00:00+0100"));

    let gone = h
        .entries
        .get(TICKET, &EntryKey("ta:101".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.status, EntryStatus::Deleted);
    // And once more: nothing left to do.
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.enqueued, 0, "{report:?}");
}

#[tokio::test]
async fn a_retried_reconcile_enqueues_the_same_operations_and_kimai_gets_each_once() {
    let h = Harness::start().await;
    h.reconcile(TICKET).await.unwrap();
    h.reconcile(TICKET).await.unwrap();
    let queued = h.queued();
    assert_eq!(queued.len(), 4);
    let ids: std::collections::BTreeSet<_> = queued.iter().map(|m| &m.operation_id).collect();
    assert_eq!(
        ids.len(),
        2,
        "same ticket, same content: same operation ids"
    );

    let results = h.run_writer().await;
    let done = results
        .iter()
        .filter(|r| matches!(r, Ok(WriteOutcome::AlreadyDone)))
        .count();
    assert_eq!(done, 2, "{results:?}");
    assert_eq!(h.kimai_sheets().len(), 2);
    assert_eq!(h.kimai_calls("POST /api/timesheets"), 2);
}

#[tokio::test]
async fn a_hand_edit_in_kimai_is_respected_and_a_later_zammad_change_becomes_a_conflict() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let sheet = sheet_with_marker(&h.kimai_sheets(), "[zammad:ta=100]").clone();
    h.kimai
        .admin()
        .edit_by_hand(
            sheet.id,
            kimai_sim::HandEdit {
                description: Some("[zammad:ta=100] printer replaced, see invoice".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let writes = h.kimai_writes();

    // Zammad unchanged: the edit stands and becomes the recorded echo.
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.kimai_edits_respected, 1, "{report:?}");
    assert_eq!(report.enqueued, 0);
    let base = h
        .entries
        .get(TICKET, &EntryKey("ta:100".into()))
        .await
        .unwrap()
        .unwrap()
        .base
        .unwrap();
    assert_eq!(
        base.echoed.description.as_deref(),
        Some("[zammad:ta=100] printer replaced, see invoice")
    );

    // Zammad changes too, after the edit was recorded: that is an update again (K = B).
    // Edit Kimai once more without telling us, then change Zammad: both changed.
    h.kimai
        .admin()
        .edit_by_hand(
            sheet.id,
            kimai_sim::HandEdit {
                billable: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    h.zammad
        .sim()
        .change_accounting(
            100,
            serde_json::from_value(serde_json::json!({"time_unit": "60"})).unwrap(),
        )
        .unwrap();
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.enqueued, 0, "{report:?}");
    let conflicts = h.open_conflicts().await;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].conflict.reason, ConflictReason::BothChanged);
    assert_eq!(h.kimai_writes(), writes, "the hand edit is not overwritten");
    let now = h.kimai.admin().timesheet(sheet.id).unwrap();
    assert_eq!(now.duration, 1800);
    assert!(!now.billable);
    let record = h
        .entries
        .get(TICKET, &EntryKey("ta:100".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, EntryStatus::Conflict);

    // A retry of the same reconcile opens no second conflict.
    let again = h.reconcile(TICKET).await.unwrap();
    assert_eq!(again.conflicts_opened, 0);
    assert_eq!(h.open_conflicts().await.len(), 1);
}

#[tokio::test]
async fn an_exported_timesheet_is_not_changed() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let sheet = sheet_with_marker(&h.kimai_sheets(), "[zammad:ta=100]").clone();
    h.kimai.admin().set_exported(sheet.id, true).unwrap();
    h.zammad
        .sim()
        .change_accounting(
            100,
            serde_json::from_value(serde_json::json!({"time_unit": "60"})).unwrap(),
        )
        .unwrap();
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.enqueued, 0, "{report:?}");
    let conflicts = h.open_conflicts().await;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        conflicts[0].conflict.reason,
        ConflictReason::LockedOrExported
    );
    assert_eq!(h.kimai.admin().timesheet(sheet.id).unwrap().duration, 1800);
}

#[tokio::test]
async fn a_dry_run_plans_but_persists_and_enqueues_nothing() {
    let h = Harness::start().await;
    let mut message = TicketSyncMessage::new(TICKET, SyncReason::Manual, None);
    message.dry_run = true;
    let report = h.reconcile_message(&message).await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.creates, 2);
    assert_eq!(report.plan.operations.len(), 2, "the plan is returned");
    assert!(h.queued().is_empty());
    assert!(h.entries.load_ticket(TICKET).await.unwrap().is_empty());
    assert!(h.open_conflicts().await.is_empty());
    assert_eq!(h.kimai_writes(), 0);
}

#[tokio::test]
async fn approval_mode_parks_creates_as_awaiting_approval() {
    let h = Harness::start_with(
        printer_jam_two_accountings(),
        acme_two_activities(),
        policy(true),
    )
    .await;
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.awaiting_approval, 2, "{report:?}");
    assert_eq!(report.enqueued, 0);
    assert!(h.queued().is_empty());
    let records = h.entries.load_ticket(TICKET).await.unwrap();
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| r.status == EntryStatus::AwaitingApproval && r.desired.is_some())
    );
    assert_eq!(h.kimai_writes(), 0);
}

#[tokio::test]
async fn an_unmapped_agent_becomes_a_conflict_and_nothing_is_written() {
    let mut kimai = acme_two_activities();
    kimai.users[1].email = "someone-else@example.com".into();
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, policy(false)).await;
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.enqueued, 0, "{report:?}");
    let conflicts = h.open_conflicts().await;
    assert_eq!(conflicts.len(), 2);
    assert!(
        conflicts
            .iter()
            .all(|c| c.conflict.reason == ConflictReason::UnmappedUser)
    );
    let records = h.entries.load_ticket(TICKET).await.unwrap();
    assert!(records.iter().all(|r| r.status == EntryStatus::Conflict));
    // Whose time and which ticket, in Zammad's words: what the person deciding needs.
    let subject = conflicts[0].conflict.subject.as_ref().expect("a subject");
    assert_eq!(subject.agent_name, "Anna Agent");
    assert_eq!(subject.agent_email.as_deref(), Some("anna@example.com"));
    assert_eq!(subject.agent_id.0, 2);
    assert_eq!(
        (
            subject.ticket_number.as_str(),
            subject.ticket_title.as_str()
        ),
        ("31010", "Printer jam")
    );

    // The blocked time of accounting 101 is deleted in Zammad: its entry is done with, and
    // its mapping conflict no longer applies.
    h.zammad.sim().delete_accounting(101).unwrap();
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.conflicts_closed, 1, "{report:?}");
    let gone = h
        .entries
        .get(TICKET, &EntryKey("ta:101".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.status, EntryStatus::Deleted);
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].conflict.key, EntryKey("ta:100".into()));
}

#[tokio::test]
async fn a_zammad_outage_is_a_retryable_failure_and_writes_nothing() {
    let h = Harness::start().await;
    let faults: zammad_sim::FaultConfig = serde_json::from_value(serde_json::json!({
        "rules": [{"route": "GET /api/v1/tickets/{id}/time_accountings", "error_rate": 1.0,
                   "error_statuses": [503]}]
    }))
    .unwrap();
    h.zammad.sim().set_faults(faults);
    let err = h.reconcile(TICKET).await.unwrap_err();
    assert!(matches!(err, ReconcileError::Zammad(_)), "{err}");
    assert!(err.is_retryable());
    assert!(h.queued().is_empty());
    assert!(h.entries.load_ticket(TICKET).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_ticket_zammad_no_longer_shows_deletes_nothing() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    // The ticket answers 404 (deleted or merged): its time is unknown, not gone.
    let faults: zammad_sim::FaultConfig = serde_json::from_value(serde_json::json!({
        "rules": [{"route": "GET /api/v1/tickets/{id}", "error_rate": 1.0,
                   "error_statuses": [404]}]
    }))
    .unwrap();
    h.zammad.sim().set_faults(faults);
    let report = h.reconcile(TICKET).await.unwrap();
    assert!(!report.zammad_complete);
    assert_eq!((report.deletes, report.enqueued), (0, 0), "{report:?}");
    assert!(report.plan.conflicts.is_empty(), "not orphaned either");
    assert_eq!(h.kimai_sheets().len(), 2);
    let records = h.entries.load_ticket(TICKET).await.unwrap();
    assert!(records.iter().all(|r| r.status == EntryStatus::Synced));
}

#[tokio::test]
async fn an_undecodable_message_fails_without_panicking_and_is_audited() {
    let h = Harness::start().await;
    let cache = InvocationCache::new();
    for body in [
        "not json",
        r#"{"schema_version":1}"#,
        r#"{"schema_version":9,"ticket_id":1}"#,
    ] {
        let err = h
            .reconciler
            .reconcile_body(&cache, "msg-1", body)
            .await
            .unwrap_err();
        assert!(matches!(err, ReconcileError::BadMessage(_)), "{err}");
        assert!(!err.is_retryable());
    }
    let events = audit_today_of(h.audit.as_ref(), "message.undecodable").await;
    assert_eq!(events.len(), 3);
}

#[tokio::test]
async fn run_counters_and_the_audit_log_follow_the_work() {
    use sync_store::control::{ControlStore, RunTrigger};
    let h = Harness::start().await;
    let run = h
        .control
        .create_run(
            RunTrigger::Manual,
            &serde_json::json!({}),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let message = TicketSyncMessage::new(TICKET, SyncReason::Manual, Some(run.id.clone()));
    h.reconcile_message(&message).await.unwrap();
    assert!(
        h.queued()
            .iter()
            .all(|m| m.run_id.as_ref() == Some(&run.id))
    );
    h.run_writer().await;

    let counters = h.control.get_run(&run.id).await.unwrap().unwrap().counters;
    assert_eq!(counters.tickets_done, 1);
    assert_eq!(counters.created, 2);
    assert_eq!(
        (counters.updated, counters.deleted, counters.conflicts),
        (0, 0, 0)
    );

    let actions: Vec<String> = test_support::stores::audit_today(h.audit.as_ref())
        .await
        .into_iter()
        .map(|r| r.event.action)
        .collect();
    assert_eq!(
        actions.iter().filter(|a| *a == "timesheet.create").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "ticket.reconcile").count(),
        1
    );
}

#[tokio::test]
async fn a_kimai_outage_while_reading_is_retryable_and_changes_nothing() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    h.zammad.sim().delete_accounting(101).unwrap();
    h.kimai.admin().set_faults(
        "GET /api/timesheets",
        serde_json::from_value(
            serde_json::json!({"latency_ms": 0, "rules": [{"kind": "error", "statuses": [502]}]}),
        )
        .unwrap(),
    );
    let err = h.reconcile(TICKET).await.unwrap_err();
    assert!(matches!(err, ReconcileError::Kimai(_)), "{err}");
    assert!(err.is_retryable());
    assert!(h.queued().is_empty());
    let records = h.entries.load_ticket(TICKET).await.unwrap();
    assert!(records.iter().all(|r| r.status == EntryStatus::Synced));
}

#[tokio::test]
async fn a_legacy_marked_timesheet_is_adopted_and_an_unmarked_lookalike_is_a_probable_duplicate() {
    let mut kimai = acme_two_activities();
    let sheets: Vec<kimai_sim::dataset::TimesheetRecord> =
        serde_json::from_value(serde_json::json!([
            // Written by the older tool for accounting 100, one line marker first.
            {"id": 50, "user": 2, "project": 1, "activity": 1,
             "begin": "2026-03-02T10:30:00+0100", "end": "2026-03-02T11:00:00+0100",
             "description": "ZAM:T10|TA:100\nPrinter jam", "tags": [], "exported": false,
             "billable": true, "modified_at": "2026-03-02T10:00:00Z"},
            // Typed by hand: same user, project, day and 15 minutes as accounting 101.
            {"id": 51, "user": 2, "project": 1, "activity": 2,
             "begin": "2026-03-02T16:00:00+0100", "end": "2026-03-02T16:15:00+0100",
             "description": "printer", "tags": [], "exported": false,
             "billable": true, "modified_at": "2026-03-02T15:00:00Z"}
        ]))
        .unwrap();
    kimai.timesheets = sheets;
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, policy(false)).await;

    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.adopted, 1, "{report:?}");
    assert_eq!(report.creates, 0);
    assert_eq!(report.updates, 1, "the legacy marker is rewritten to ours");
    let conflicts = h.open_conflicts().await;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        conflicts[0].conflict.reason,
        ConflictReason::ProbableDuplicate
    );
    assert_eq!(
        conflicts[0].conflict.candidates,
        vec![sync_core::ids::TimesheetId(51)]
    );

    let results = h.run_writer().await;
    assert!(
        matches!(results[..], [Ok(WriteOutcome::Updated { .. })]),
        "{results:?}"
    );
    let sheets = h.kimai_sheets();
    assert_eq!(sheets.len(), 2, "nothing created next to either");
    let adopted = sheets.iter().find(|s| s.id == 50).unwrap();
    assert_eq!(
        adopted.description.as_deref(),
        Some("[zammad:ta=100] #31010 Printer jam")
    );
    assert_eq!(adopted.tags, vec!["zammad".to_owned()]);
    assert_eq!(h.kimai_calls("POST /api/timesheets"), 0);
}

#[tokio::test]
async fn fixing_the_mapping_closes_the_unmapped_conflicts_and_the_time_syncs() {
    let mut kimai = acme_two_activities();
    kimai.users[1].email = "anna.agent@example.com".into();
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, policy(false)).await;
    h.reconcile(TICKET).await.unwrap();
    assert_eq!(h.open_conflicts().await.len(), 2);

    // A person maps agent 2 to Kimai user 2 explicitly.
    h.set_policy(test_support::pipeline::policy_with_users(
        false,
        serde_json::json!({"2": 2}),
    ))
    .await;
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.conflicts_closed, 2, "{report:?}");
    assert_eq!(report.creates, 2);
    assert!(h.open_conflicts().await.is_empty());
    let results = h.run_writer().await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(h.kimai_sheets().len(), 2);

    // Nothing left to close or do.
    let again = h.reconcile(TICKET).await.unwrap();
    assert_eq!((again.conflicts_closed, again.enqueued), (0, 0));
}

#[tokio::test]
async fn a_fixed_user_mapping_closes_its_conflict_when_the_entry_is_blocked_by_another_mapping_now()
{
    let mut kimai = acme_two_activities();
    kimai.users[1].email = "anna.agent@example.com".into();
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, policy(false)).await;
    h.reconcile(TICKET).await.unwrap();
    assert_eq!(h.open_conflicts().await.len(), 2);

    // The agent is mapped now, but the activity is not (no type mapping, no default): the
    // same entries are blocked again, by another mapping. The user conflicts are solved and
    // close; what blocks the entries now opens in their place.
    h.set_policy(serde_json::json!({
        "approval_required": false,
        "mappings": {"user_by_agent": {"2": 2}, "can_book_for_others": true}
    }))
    .await;
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.conflicts_closed, 2, "{report:?}");
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(
        open.iter()
            .all(|c| c.conflict.reason == ConflictReason::UnmappedActivity),
        "{open:?}"
    );
}

#[tokio::test]
async fn a_failure_on_the_last_delivery_is_counted_once_in_the_run_and_audited() {
    use sync_service::batch::QueueRecord;
    use sync_store::control::{ControlStore, RunTrigger};
    let h = Harness::start().await;
    let run = h
        .control
        .create_run(
            RunTrigger::Manual,
            &serde_json::json!({}),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let faults: zammad_sim::FaultConfig = serde_json::from_value(serde_json::json!({
        "rules": [{"route": "GET /api/v1/tickets/{id}", "error_rate": 1.0, "error_statuses": [500]}]
    }))
    .unwrap();
    h.zammad.sim().set_faults(faults);
    let body = sync_store::queue::encode(&TicketSyncMessage::new(
        TICKET,
        SyncReason::Manual,
        Some(run.id.clone()),
    ));
    let cache = InvocationCache::new();
    for receive_count in 1..=5 {
        let record = QueueRecord {
            message_id: "m-1".into(),
            body: body.clone(),
            receive_count,
        };
        assert!(
            h.reconciler
                .reconcile_record(&cache, &record)
                .await
                .is_err()
        );
    }
    let counters = h.control.get_run(&run.id).await.unwrap().unwrap().counters;
    assert_eq!(counters.failed, 1, "only the last delivery counts");
    assert_eq!(counters.tickets_done, 0);
    let dead = audit_today_of(h.audit.as_ref(), "message.dead_letter").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event.detail["queue"], "ticket-sync");
}

#[tokio::test]
async fn a_create_anyway_decision_is_honoured_by_the_next_reconcile() {
    use chrono::Utc;
    use sync_service::decisions::{DECISIONS_KIND, decisions_id};
    use sync_store::control::{ControlStore, ExpectedVersion};

    let mut kimai = acme_two_activities();
    kimai.timesheets = serde_json::from_value(serde_json::json!([
        // Typed by hand: same user, project, day and 15 minutes as accounting 101.
        {"id": 51, "user": 2, "project": 1, "activity": 2,
         "begin": "2026-03-02T16:00:00+0100", "end": "2026-03-02T16:15:00+0100",
         "description": "printer", "tags": [], "exported": false,
         "billable": true, "modified_at": "2026-03-02T15:00:00Z"}
    ]))
    .unwrap();
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, policy(false)).await;
    let first = h.reconcile(TICKET).await.unwrap();
    assert_eq!(first.creates, 1, "only the other accounting: {first:?}");
    let conflicts = h.open_conflicts().await;
    assert_eq!(conflicts.len(), 1);
    let key = conflicts[0].conflict.key.clone();
    assert_eq!(key, EntryKey("ta:101".into()));

    // The same situation again, without a decision: still parked, nothing created.
    let again = h.reconcile(TICKET).await.unwrap();
    assert_eq!(
        again.creates, 1,
        "the first create is re-planned, not the duplicate"
    );

    // A person decides "create anyway" (as the console records it).
    h.control
        .put_document(
            DECISIONS_KIND,
            &decisions_id(TICKET),
            &serde_json::json!({"create_anyway": [key]}),
            ExpectedVersion::Any,
            Utc::now(),
        )
        .await
        .unwrap();
    let decided = h.reconcile(TICKET).await.unwrap();
    assert_eq!(decided.creates, 2, "{decided:?}");
    let results = h.run_writer().await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        h.kimai_sheets().len(),
        3,
        "the hand-typed one and both of ours"
    );
}

#[tokio::test]
async fn a_manual_run_of_a_ticket_list_finishes_when_its_tickets_are_reconciled() {
    use sync_store::control::{ControlStore, RunCounters, RunState, RunTrigger};
    let h = Harness::start().await;
    // What the console does for "sync tickets 10 and 11": a run, then the queued count.
    let run = h
        .control
        .create_run(
            RunTrigger::Manual,
            &serde_json::json!({"tickets": [10, 11]}),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let queued = RunCounters {
        tickets_queued: 2,
        ..RunCounters::default()
    };
    h.control.add_to_run(&run.id, &queued).await.unwrap();
    let message = |ticket: u64| {
        TicketSyncMessage::new(
            sync_core::ids::TicketId(ticket),
            SyncReason::Manual,
            Some(run.id.clone()),
        )
    };

    h.reconcile_message(&message(10)).await.unwrap();
    let after_one = h.control.get_run(&run.id).await.unwrap().unwrap();
    assert_eq!(after_one.state, RunState::Running, "{after_one:?}");
    // Ticket 10's message again, as after an invocation killed before it deleted the message:
    // it reconciles again, but counts once; the run still waits for ticket 11.
    h.reconcile_message(&message(10)).await.unwrap();
    let again = h.control.get_run(&run.id).await.unwrap().unwrap();
    assert_eq!(again.state, RunState::Running, "{again:?}");
    assert_eq!(again.counters.tickets_done, 1);
    // Ticket 11 does not exist in Zammad: an incomplete read, still reconciled (nothing to do).
    h.reconcile_message(&message(11)).await.unwrap();
    let done = h.control.get_run(&run.id).await.unwrap().unwrap();
    assert_eq!(done.state, RunState::Succeeded, "{done:?}");
    assert_eq!(done.counters.tickets_done, 2);
    assert!(done.finished_at.is_some());
}

/// Writes the decisions document as the console does after a resolution.
async fn decide(h: &Harness, key: &str, action: &str, kimai_id: Option<u64>) {
    use sync_service::decisions::{DECISIONS_KIND, decisions_id};
    use sync_store::conflicts::{ConflictsStore, Resolution, ResolutionEffect};
    use sync_store::control::{ControlStore, ExpectedVersion};
    // The console resolves the key's open conflicts and records the decision together.
    for open in h.open_conflicts().await {
        if open.conflict.key.as_str() == key {
            let resolution = Resolution {
                action: ResolutionEffect::Dismiss,
                actor: "admin".into(),
                note: Some(action.into()),
                resolved_at: chrono::Utc::now(),
            };
            h.conflicts.resolve(&open.id, &resolution).await.unwrap();
        }
    }
    h.control
        .put_document(
            DECISIONS_KIND,
            &decisions_id(TICKET),
            &serde_json::json!({"ticket": TICKET, "create_anyway": [], "ignored": [],
                "decisions": [{"key": key, "action": action, "kimai_id": kimai_id,
                               "actor": "admin", "at": chrono::Utc::now()}]}),
            ExpectedVersion::Any,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_link_decision_links_the_key_to_the_chosen_timesheet_instead_of_creating_one() {
    let mut kimai = acme_two_activities();
    kimai.timesheets = serde_json::from_value(serde_json::json!([
        // Typed by hand: same user, project, day and 15 minutes as accounting 101.
        {"id": 51, "user": 2, "project": 1, "activity": 2,
         "begin": "2026-03-02T16:00:00+0100", "end": "2026-03-02T16:15:00+0100",
         "description": "printer", "tags": [], "exported": false,
         "billable": true, "modified_at": "2026-03-02T15:00:00Z"}
    ]))
    .unwrap();
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, policy(false)).await;
    h.reconcile(TICKET).await.unwrap();
    let conflicts = h.open_conflicts().await;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        conflicts[0].conflict.reason,
        ConflictReason::ProbableDuplicate
    );

    // "This hand-typed timesheet is that accounting": link it.
    decide(&h, "ta:101", "link", Some(51)).await;
    let decided = h.reconcile(TICKET).await.unwrap();
    assert_eq!(
        (decided.creates, decided.updates),
        (1, 1),
        "the other accounting is created, the linked one brought to Zammad's version: {decided:?}"
    );
    let record = h
        .entries
        .get(TICKET, &EntryKey("ta:101".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.kimai_id(), Some(sync_core::ids::TimesheetId(51)));
    let results = h.run_writer().await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let sheets = h.kimai_sheets();
    assert_eq!(sheets.len(), 2, "no third timesheet: {sheets:?}");
    let linked = h.kimai.admin().timesheet(51).unwrap();
    assert!(
        linked
            .description
            .as_deref()
            .unwrap_or("")
            .contains("[zammad:ta=101]"),
        "{linked:?}"
    );

    // Applied once: the next reconcile has nothing to do.
    let again = h.reconcile(TICKET).await.unwrap();
    assert_eq!(again.enqueued, 0, "{again:?}");
}

#[tokio::test]
async fn an_apply_zammad_decision_overwrites_the_hand_edit_once() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let sheet = sheet_with_marker(&h.kimai_sheets(), "[zammad:ta=100]").clone();
    h.kimai
        .admin()
        .edit_by_hand(
            sheet.id,
            kimai_sim::HandEdit {
                description: Some("[zammad:ta=100] edited by hand".into()),
                ..Default::default()
            },
        )
        .unwrap();
    h.zammad
        .sim()
        .change_accounting(
            100,
            serde_json::from_value(serde_json::json!({"time_unit": "60"})).unwrap(),
        )
        .unwrap();
    let parked = h.reconcile(TICKET).await.unwrap();
    assert_eq!(parked.enqueued, 0, "{parked:?}");
    assert_eq!(
        h.open_conflicts().await[0].conflict.reason,
        ConflictReason::BothChanged
    );

    decide(&h, "ta:100", "apply_zammad", None).await;
    let decided = h.reconcile(TICKET).await.unwrap();
    assert_eq!(decided.updates, 1, "{decided:?}");
    let results = h.run_writer().await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(WriteOutcome::Updated { .. }))),
        "{results:?}"
    );
    let now = h.kimai.admin().timesheet(sheet.id).unwrap();
    assert_eq!(now.duration, 3600, "Zammad's 60 minutes");
    assert!(
        !now.description.as_deref().unwrap_or("").contains("by hand"),
        "{now:?}"
    );
    let synced = h.reconcile(TICKET).await.unwrap();
    assert_eq!(synced.enqueued, 0, "{synced:?}");

    // The decision was for that edit only: a new hand edit and a Zammad change conflict again.
    let writes = h.kimai_writes();
    h.kimai
        .admin()
        .edit_by_hand(
            sheet.id,
            kimai_sim::HandEdit {
                billable: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
    h.zammad
        .sim()
        .change_accounting(
            100,
            serde_json::from_value(serde_json::json!({"time_unit": "75"})).unwrap(),
        )
        .unwrap();
    let again = h.reconcile(TICKET).await.unwrap();
    assert_eq!(
        (again.updates, again.conflicts, again.conflicts_opened),
        (0, 1, 1),
        "a new conflict, not hidden behind the resolved one: {again:?}"
    );
    h.run_writer().await;
    assert_eq!(h.kimai_writes(), writes, "the new hand edit stands");
}

#[tokio::test]
async fn apply_zammad_after_a_kimai_rejection_sends_the_create_again() {
    let h = Harness::start().await;
    // Kimai refuses the 30 minutes of accounting 100 (max duration 20).
    h.kimai.admin().set_settings(kimai_sim::Settings {
        max_duration_minutes: Some(20),
        ..Default::default()
    });
    h.sync(TICKET).await;
    assert_eq!(h.kimai_sheets().len(), 1, "only the 15 minutes");
    // Someone raises the limit in Kimai. A plain reconcile plans the same operation id again,
    // which the writer knows as done (parked): nothing happens.
    h.kimai.admin().set_settings(kimai_sim::Settings::default());
    let results = h.sync(TICKET).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(WriteOutcome::AlreadyDone))),
        "{results:?}"
    );
    assert_eq!(h.kimai_sheets().len(), 1);

    // "Apply Zammad" on the rejection: a new operation, and the create goes through.
    decide(&h, "ta:100", "apply_zammad", None).await;
    let results = h.sync(TICKET).await;
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Ok(WriteOutcome::Created { .. }))),
        "{results:?}"
    );
    assert_eq!(h.kimai_sheets().len(), 2);
    sheet_with_marker(&h.kimai_sheets(), "[zammad:ta=100]");
    // Stable from then on: no further write.
    let again = h.sync(TICKET).await;
    assert!(again.is_empty(), "{again:?}");
}

#[tokio::test]
async fn recreate_after_deleted_in_kimai_creates_a_new_timesheet_and_relinks_the_key() {
    use sync_service::decisions::{DECISIONS_KIND, decisions_id};
    use sync_store::control::{ControlStore, ExpectedVersion};
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let gone = sheet_with_marker(&h.kimai_sheets(), "[zammad:ta=100]").id;
    // Someone deletes our timesheet in Kimai.
    test_support::pipeline::kimai_client(&h.kimai)
        .delete_timesheet(
            sync_core::ids::TimesheetId(gone),
            kimai_client::Retries::Never,
        )
        .await
        .unwrap();
    let parked = h.reconcile(TICKET).await.unwrap();
    assert_eq!(parked.enqueued, 0, "{parked:?}");
    assert_eq!(
        h.open_conflicts().await[0].conflict.reason,
        ConflictReason::DeletedInKimai
    );
    // Without a decision it stays that way.
    assert_eq!(h.reconcile(TICKET).await.unwrap().enqueued, 0);

    // "Recreate", as the console records it: the key joins create_anyway.
    h.control
        .put_document(
            DECISIONS_KIND,
            &decisions_id(TICKET),
            &serde_json::json!({"create_anyway": ["ta:100"], "ignored": [],
                "decisions": [{"key": "ta:100", "action": "recreate", "at": chrono::Utc::now()}]}),
            ExpectedVersion::Any,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let results = h.sync(TICKET).await;
    let created = results
        .iter()
        .find_map(|r| match r {
            Ok(WriteOutcome::Created { kimai_id }) => Some(*kimai_id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a create: {results:?}"));
    assert_ne!(created.0, gone);
    let record = h
        .entries
        .get(TICKET, &EntryKey("ta:100".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.kimai_id(),
        Some(created),
        "the dead link is replaced"
    );
    assert_eq!(record.status, EntryStatus::Synced);
    assert_eq!(h.kimai_sheets().len(), 2);
    // Synced again: nothing more to do.
    assert!(h.sync(TICKET).await.is_empty());
}

/// A second timesheet carrying our marker (left by a past failure) is found by the next
/// sweep and shown with the linked one; the key is not written meanwhile, and deleting the
/// extra timesheet in Kimai closes the conflict by itself.
#[tokio::test]
async fn a_second_timesheet_with_our_marker_is_a_conflict_naming_both_until_it_is_deleted() {
    use kimai_client::{NewTimesheet, Retries};
    use sync_core::ids::TimesheetId;
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let linked = sheet_with_marker(&h.kimai_sheets(), "[zammad:ta=100]").clone();
    let kimai = test_support::pipeline::kimai_client(&h.kimai);
    let extra = kimai
        .create_timesheet(&NewTimesheet {
            begin: sync_core::kimai::KimaiLocalDateTime::parse("2026-03-02T09:30:00").unwrap(),
            end: sync_core::kimai::KimaiLocalDateTime::parse("2026-03-02T10:00:00").unwrap(),
            project: sync_core::ids::ProjectId(linked.project),
            activity: sync_core::ids::ActivityId(linked.activity),
            description: linked.description.clone(),
            tags: None,
            user: Some(sync_core::ids::KimaiUserId(linked.user)),
            billable: None,
        })
        .await
        .unwrap();

    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!((report.conflicts, report.enqueued), (1, 0), "{report:?}");
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 1);
    let c = &open[0].conflict;
    assert_eq!(c.reason, ConflictReason::DuplicateTimesheets);
    let mut both = vec![TimesheetId(linked.id), extra.id];
    both.sort();
    assert_eq!(c.candidates, both);

    kimai
        .delete_timesheet(extra.id, Retries::Allowed)
        .await
        .unwrap();
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.conflicts_closed, 1, "{report:?}");
    assert!(h.open_conflicts().await.is_empty());
    assert_eq!(h.kimai_sheets().len(), 2, "the linked timesheets stay");
}

/// Kimai ≥ 2.66 locks a project up to a day: the planner sees the lock in the catalog and
/// opens `project_locked` instead of writing; moving the lock back closes it and books.
#[tokio::test]
async fn a_locked_project_day_is_a_conflict_until_the_lock_moves_back() {
    let h = Harness::start().await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2);
    h.kimai.admin().lock_project(1, day).unwrap();
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!((report.creates, report.enqueued), (0, 0), "{report:?}");
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(
        open.iter()
            .all(|c| c.conflict.reason == ConflictReason::ProjectLocked),
        "{open:?}"
    );
    assert!(open[0].conflict.detail.contains("locked until 2026-03-02"));
    assert_eq!(h.kimai_writes(), 0);

    h.kimai.admin().lock_project(1, None).unwrap();
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(
        (report.creates, report.conflicts_closed),
        (2, 2),
        "{report:?}"
    );
    h.run_writer().await;
    assert_eq!(h.kimai_sheets().len(), 2);

    // Locked again, then Zammad changes: the booked timesheet stays as it is.
    h.kimai.admin().lock_project(1, day).unwrap();
    h.zammad
        .sim()
        .change_accounting(
            100,
            serde_json::from_value::<AccountingChange>(serde_json::json!({"time_unit": "45"}))
                .unwrap(),
        )
        .unwrap();
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!((report.updates, report.enqueued), (0, 0), "{report:?}");
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].conflict.reason, ConflictReason::ProjectLocked);
}

/// A lock set between planning and writing: Kimai's 400 "The project is locked until …"
/// parks the create as `project_locked`, not as a generic rejection.
#[tokio::test]
async fn a_lock_set_after_planning_parks_the_write_as_project_locked() {
    let h = Harness::start().await;
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.enqueued, 2);
    h.kimai
        .admin()
        .lock_project(1, chrono::NaiveDate::from_ymd_opt(2026, 3, 31))
        .unwrap();
    let results = h.run_writer().await;
    assert!(
        results.iter().all(|r| matches!(
            r,
            Ok(WriteOutcome::Conflict {
                reason: ConflictReason::ProjectLocked,
                ..
            })
        )),
        "{results:?}"
    );
    assert!(h.kimai_sheets().is_empty());
}

/// Time logged in the repeated hour of the Berlin fall-back night is booked just before it, as
/// long as it was, and the reconcile's audit line says it moved and why.
#[tokio::test]
async fn time_logged_in_the_repeated_hour_is_booked_before_it_and_the_move_is_audited() {
    let h = Harness::start().await;
    // 02:30 CET, the second 02:30 of the night.
    book_anna(&h, TICKET.0, 30, "2026-10-25T01:30:00Z");
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!((report.creates, report.conflicts), (3, 0), "{report:?}");
    assert_eq!(report.moved.len(), 1, "{:?}", report.moved);
    assert_eq!(
        report.moved[0].why,
        sync_core::placement::Moved::RepeatedHour
    );
    h.run_writer().await;
    let sheets = h.kimai_sheets();
    let moved = sheets
        .iter()
        .find(|s| s.begin.starts_with("2026-10-25"))
        .unwrap_or_else(|| panic!("{sheets:?}"));
    assert_eq!(moved.begin, "2026-10-25T02:29:00+0200");
    assert_eq!(moved.end.as_deref(), Some("2026-10-25T02:59:00+0200"));
    assert_eq!(moved.duration, 1800);
    let audited = audit_today_of(h.audit.as_ref(), "ticket.reconcile").await;
    let detail = &audited[0].event.detail;
    assert_eq!(detail["moved"][0]["why"], "repeated_hour", "{detail}");
    assert_eq!(detail["moved"][0]["begin"], "2026-10-25T02:29:00");
}

/// Books `minutes` of Anna's (agent 2, type 1) on `ticket`, logged at `at` (UTC).
fn book_anna(h: &Harness, ticket: u64, minutes: i64, at: &str) {
    h.zammad
        .sim()
        .add_accounting(zammad_sim::NewAccounting {
            ticket_id: ticket,
            created_by_id: 2,
            time_unit: rust_decimal::Decimal::from(minutes),
            type_id: Some(1),
            with_article: false,
            article_body: None,
            created_at: Some(at.parse().unwrap()),
        })
        .unwrap();
}

/// Books `minutes` of Anna's on a new ticket of the same customer, logged at `at` (UTC).
fn book_on_new_ticket(h: &Harness, minutes: i64, at: &str) -> sync_core::ids::TicketId {
    let zammad = h.zammad.sim();
    let ticket = zammad
        .add_ticket(zammad_sim::NewTicket {
            title: "Second printer".into(),
            group_id: 1,
            customer_id: 3,
            organization_id: Some(1),
            owner_id: None,
            state: None,
        })
        .unwrap();
    let id = ticket["id"].as_u64().unwrap();
    book_anna(h, id, minutes, at);
    sync_core::ids::TicketId(id)
}

/// One agent's time on two tickets logged at the same minute: the second ticket's entry is
/// placed beside the first one's timesheet, not on top of it, and the move is reported.
#[tokio::test]
async fn two_tickets_of_one_agent_logged_at_the_same_minute_do_not_overlap() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    // Ticket 10's 30 minutes ended 11:00 Berlin (10:00Z); 15 more on another ticket, same minute.
    let other = book_on_new_ticket(&h, 15, "2026-03-02T10:00:00Z");
    let report = h.reconcile(other).await.unwrap();
    assert_eq!(report.creates, 1, "{report:?}");
    assert_eq!(report.moved.len(), 1, "{:?}", report.moved);
    assert_eq!(report.moved[0].why, sync_core::placement::Moved::Overlap);
    h.run_writer().await;
    let sheets = h.kimai_sheets();
    let first = sheet_with_marker(&sheets, "[zammad:ta=100]");
    assert_eq!(first.begin, "2026-03-02T10:30:00+0100");
    let second = sheets
        .iter()
        .find(|s| s.id != first.id && s.begin.starts_with("2026-03-02T10"))
        .unwrap_or_else(|| panic!("{sheets:?}"));
    assert_eq!(
        second.begin, "2026-03-02T10:15:00+0100",
        "just before the first"
    );
    assert_eq!(second.end.as_deref(), Some("2026-03-02T10:30:00+0100"));
    // Ticket 10 again: its timesheets stay where they are.
    let again = h.reconcile(TICKET).await.unwrap();
    assert_eq!((again.creates, again.updates), (0, 0), "{again:?}");
}

/// A day filled with time entered by hand in Kimai leaves no room: the entry is a
/// `no_room_on_day` conflict naming the day's bookings, and nothing is written over them.
#[tokio::test]
async fn a_day_full_of_bookings_is_a_no_room_conflict_not_an_overlap() {
    use kimai_client::NewTimesheet;
    use sync_core::kimai::KimaiLocalDateTime;
    let h = Harness::start().await;
    let kimai = test_support::pipeline::kimai_client(&h.kimai);
    // Anna (Kimai user 2) is booked all of 2 March, in two halves. The API user reads in UTC.
    for (begin, end) in [
        ("2026-03-01T23:00:00", "2026-03-02T11:00:00"),
        ("2026-03-02T11:00:00", "2026-03-02T23:00:00"),
    ] {
        kimai
            .create_timesheet(&NewTimesheet {
                begin: KimaiLocalDateTime::parse(begin).unwrap(),
                end: KimaiLocalDateTime::parse(end).unwrap(),
                project: sync_core::ids::ProjectId(1),
                activity: sync_core::ids::ActivityId(1),
                description: Some("Workshop".into()),
                tags: None,
                user: Some(sync_core::ids::KimaiUserId(2)),
                billable: None,
            })
            .await
            .unwrap();
    }
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!((report.creates, report.enqueued), (0, 0), "{report:?}");
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 2, "{open:?}");
    for c in &open {
        assert_eq!(c.conflict.reason, ConflictReason::NoRoomOnDay);
        assert!(
            c.conflict
                .detail
                .contains("booked 00:00–12:00, 12:00–00:00"),
            "{}",
            c.conflict.detail
        );
    }
    assert_eq!(h.kimai_sheets().len(), 2, "only the workshop");
}

/// Ticket 10 is planned but not written yet (its timesheet is not in Kimai) when the agent's
/// other ticket, logged at the same minute, is reconciled: the slot ticket 10 claimed is taken
/// all the same, so the two never land on one slot.
#[tokio::test]
async fn a_slot_planned_by_another_ticket_is_taken_before_its_timesheet_exists() {
    let h = Harness::start().await;
    let first = h.reconcile(TICKET).await.unwrap();
    assert_eq!(first.creates, 2);
    let other = book_on_new_ticket(&h, 15, "2026-03-02T10:00:00Z");
    let report = h.reconcile(other).await.unwrap();
    assert_eq!(report.moved.len(), 1, "{report:?}");
    h.run_writer().await;
    let sheets = h.kimai_sheets();
    let first = sheet_with_marker(&sheets, "[zammad:ta=100]");
    let second = sheets
        .iter()
        .find(|s| s.id != first.id && s.begin.starts_with("2026-03-02T10"))
        .unwrap_or_else(|| panic!("{sheets:?}"));
    assert_eq!(
        (
            first.begin.as_str(),
            second.begin.as_str(),
            second.end.as_deref()
        ),
        (
            "2026-03-02T10:30:00+0100",
            "2026-03-02T10:15:00+0100",
            Some("2026-03-02T10:30:00+0100")
        )
    );
    // Ticket 10's 30 minutes go away in Zammad: its claim goes with them, and the slot is free
    // for the other ticket's next change.
    h.zammad.sim().delete_accounting(100).unwrap();
    h.reconcile(TICKET).await.unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let claims = sync_store::control::ControlStore::day_claims(h.control.as_ref(), 2, day)
        .await
        .unwrap();
    assert!(!claims.claims.contains_key("ta:100"), "{claims:?}");
    assert!(claims.claims.contains_key("ta:101"), "{claims:?}");
}

/// Zammad logs time with milliseconds; Kimai keeps whole seconds. A ticket synced once is
/// unchanged on the next run: its timesheet stays where it is without a PATCH, and a hand edit
/// of its description is respected, not a conflict.
#[tokio::test]
async fn time_logged_with_milliseconds_is_not_written_again_on_the_next_run() {
    let h = Harness::start().await;
    book_anna(&h, TICKET.0, 20, "2026-03-02T12:00:00.250Z");
    let written = h.sync(TICKET).await;
    eprintln!("{written:?}");
    let again = h.reconcile(TICKET).await.unwrap();
    assert_eq!(
        (again.creates, again.updates, again.conflicts),
        (0, 0, 0),
        "{again:?}"
    );
    // A description edited by hand in Kimai is respected.
    let sheet = h
        .kimai_sheets()
        .into_iter()
        .find(|s| s.begin.starts_with("2026-03-02T12:40"))
        .unwrap();
    h.kimai
        .admin()
        .edit_by_hand(
            sheet.id,
            serde_json::from_value(serde_json::json!({
                "description": format!("{} (checked)", sheet.description.clone().unwrap())
            }))
            .unwrap(),
        )
        .unwrap();
    let after = h.reconcile(TICKET).await.unwrap();
    assert_eq!(
        (after.updates, after.conflicts, after.kimai_edits_respected),
        (0, 0, 1),
        "{after:?}"
    );
}

/// Kimai set to round to 15 minutes keeps other times than we sent. The next run leaves the
/// timesheets alone: they are where we put them, as far as Kimai keeps it.
#[tokio::test]
async fn timesheets_kimai_rounded_are_not_written_again() {
    let h = Harness::start().await;
    let mut settings = h.kimai.admin().settings();
    settings.rounding_minutes = Some(15);
    h.kimai.admin().set_settings(settings);
    // 20 minutes ending 13:07 Berlin: Kimai keeps 12:45–13:15.
    book_anna(&h, TICKET.0, 20, "2026-03-02T12:07:00Z");
    h.sync(TICKET).await;
    assert!(
        h.kimai_sheets()
            .iter()
            .any(|s| s.begin == "2026-03-02T12:45:00+0100"),
        "{:?}",
        h.kimai_sheets()
    );
    let again = h.reconcile(TICKET).await.unwrap();
    assert_eq!(
        (again.creates, again.updates, again.conflicts),
        (0, 0, 0),
        "{again:?}"
    );
}
