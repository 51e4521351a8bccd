//! The writer protocol step by step (design §5) against the real Kimai simulator: what happens
//! when Kimai changes between planning and writing, refuses, or fails half way.

use chrono::{Duration, Utc};
use sync_core::desired::EntryKey;
use sync_core::plan::{ConflictReason, Operation};
use sync_service::writer::{WriteError, WriteOutcome, WriterCache};
use sync_store::control::{ClaimOutcome, ControlStore};
use sync_store::entries::{EntriesStore, EntryStatus};
use test_support::pipeline::{Harness, TICKET, policy_with_users};

fn faults(json: serde_json::Value) -> kimai_sim::RouteFaults {
    serde_json::from_value(json).expect("faults")
}

fn marker_sheet(h: &Harness, marker: &str) -> kimai_sim::AdminTimesheet {
    h.kimai_sheets()
        .into_iter()
        .find(|s| s.description.as_deref().unwrap_or("").contains(marker))
        .unwrap_or_else(|| panic!("no timesheet with {marker}"))
}

fn change_accounting(h: &Harness, id: u64, units: &str) {
    h.zammad
        .sim()
        .change_accounting(
            id,
            serde_json::from_value(serde_json::json!({ "time_unit": units })).unwrap(),
        )
        .unwrap();
}

fn conflict_reasons(results: &[Result<WriteOutcome, WriteError>]) -> Vec<ConflictReason> {
    results
        .iter()
        .filter_map(|r| match r {
            Ok(WriteOutcome::Conflict { reason, .. }) => Some(*reason),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_create_committed_then_answered_500_is_adopted_on_the_retry_not_created_twice() {
    let h = Harness::start().await;
    h.kimai.admin().set_faults(
        "POST /api/timesheets",
        kimai_sim::RouteFaults {
            latency_ms: 0,
            rules: vec![kimai_sim::FaultRule {
                kind: kimai_sim::FaultKind::CommitThen500,
                probability: 1.0,
                times: Some(1),
                skip: 0,
            }],
        },
    );
    h.reconcile(TICKET).await.unwrap();
    let first = h.run_writer().await;
    let failed: Vec<_> = first.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failed.len(), 1, "{first:?}");
    assert!(failed[0].is_retryable(), "{}", failed[0]);
    assert_eq!(
        h.kimai_sheets().len(),
        2,
        "Kimai saved the first one although it answered 500; the second went through"
    );

    // SQS redelivers: the claim's attempt 2 searches by marker and adopts.
    let second = h.run_writer().await;
    assert_eq!(second.len(), 1);
    assert!(
        matches!(second[0], Ok(WriteOutcome::Adopted { .. })),
        "{second:?}"
    );
    let sheets = h.kimai_sheets();
    assert_eq!(sheets.len(), 2, "exactly one timesheet per accounting");
    assert_eq!(h.kimai_calls("POST /api/timesheets"), 2, "no third POST");
    let records = h.entries.load_ticket(TICKET).await.unwrap();
    assert!(
        records
            .iter()
            .all(|r| r.status == EntryStatus::Synced && r.base.is_some())
    );
    // And the next plan sees nothing to do.
    assert_eq!(h.reconcile(TICKET).await.unwrap().enqueued, 0);
}

#[tokio::test]
async fn a_validation_error_becomes_kimai_rejected_with_kimais_message_and_is_not_retried() {
    let h = Harness::start().await;
    h.kimai.admin().set_settings(kimai_sim::Settings {
        max_duration_minutes: Some(20),
        ..Default::default()
    });
    h.reconcile(TICKET).await.unwrap();
    let results = h.run_writer().await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        conflict_reasons(&results),
        vec![ConflictReason::KimaiRejected]
    );
    assert_eq!(h.kimai_sheets().len(), 1, "the 15 minutes went through");

    let conflicts = h.open_conflicts().await;
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0].conflict;
    assert_eq!(c.key, EntryKey("ta:100".into()));
    assert!(c.detail.contains("Maximum duration"), "{}", c.detail);
    assert!(c.desired.is_some());
    let record = h
        .entries
        .get(TICKET, &EntryKey("ta:100".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, EntryStatus::Conflict);
    assert!(h.queued().is_empty(), "acked, not retried");

    // The next reconcile plans the same create again; the writer knows it was parked and
    // leaves the entry blocked by its conflict instead of pending.
    assert_eq!(h.reconcile(TICKET).await.unwrap().enqueued, 1);
    let again = h.run_writer().await;
    assert!(
        matches!(again[..], [Ok(WriteOutcome::AlreadyDone)]),
        "{again:?}"
    );
    let record = h
        .entries
        .get(TICKET, &EntryKey("ta:100".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, EntryStatus::Conflict);
    assert_eq!(h.open_conflicts().await.len(), 1);
    assert_eq!(h.kimai_calls("POST /api/timesheets"), 2);
}

#[tokio::test]
async fn a_hand_edit_after_planning_stops_the_update_and_the_delete() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    change_accounting(&h, 100, "45");
    h.zammad.sim().delete_accounting(101).unwrap();
    h.reconcile(TICKET).await.unwrap();
    assert_eq!(h.queued().len(), 2);

    // Someone edits both timesheets in Kimai while the writes wait in the queue.
    for marker in ["[zammad:ta=100]", "[zammad:ta=101]"] {
        let s = marker_sheet(&h, marker);
        h.kimai
            .admin()
            .edit_by_hand(
                s.id,
                kimai_sim::HandEdit {
                    description: Some(format!("{marker} edited by hand")),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    let results = h.run_writer().await;
    let mut reasons = conflict_reasons(&results);
    reasons.sort();
    assert_eq!(
        reasons,
        vec![ConflictReason::BothChanged, ConflictReason::Orphaned],
        "{results:?}"
    );
    assert_eq!(h.kimai_calls("PATCH /api/timesheets/{id}"), 0);
    assert_eq!(h.kimai_calls("DELETE /api/timesheets/{id}"), 0);
    assert_eq!(h.kimai_sheets().len(), 2);
    assert_eq!(marker_sheet(&h, "[zammad:ta=100]").duration, 1800);
}

#[tokio::test]
async fn exported_after_planning_is_locked_or_exported_on_patch_and_delete() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    change_accounting(&h, 100, "45");
    h.zammad.sim().delete_accounting(101).unwrap();
    h.reconcile(TICKET).await.unwrap();
    for s in h.kimai_sheets() {
        h.kimai.admin().set_exported(s.id, true).unwrap();
    }
    let results = h.run_writer().await;
    assert_eq!(
        conflict_reasons(&results),
        vec![
            ConflictReason::LockedOrExported,
            ConflictReason::LockedOrExported
        ],
        "{results:?}"
    );
    assert_eq!(h.kimai_sheets().len(), 2, "nothing deleted");
    assert_eq!(marker_sheet(&h, "[zammad:ta=100]").duration, 1800);
    assert!(h.queued().is_empty(), "refusals are not retried");
}

#[tokio::test]
async fn deleted_in_kimai_after_planning_is_a_conflict_for_update_and_done_for_delete() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    change_accounting(&h, 100, "45");
    h.zammad.sim().delete_accounting(101).unwrap();
    h.reconcile(TICKET).await.unwrap();
    // Delete both timesheets in Kimai through the API, as a person would.
    let kimai = test_support::pipeline::kimai_client(&h.kimai);
    for s in h.kimai_sheets() {
        kimai
            .delete_timesheet(
                sync_core::ids::TimesheetId(s.id),
                kimai_client::Retries::Never,
            )
            .await
            .unwrap();
    }
    let results = h.run_writer().await;
    assert_eq!(
        conflict_reasons(&results),
        vec![ConflictReason::DeletedInKimai]
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Ok(WriteOutcome::AlreadyGone { .. }))),
        "{results:?}"
    );
    let gone = h
        .entries
        .get(TICKET, &EntryKey("ta:101".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.status, EntryStatus::Deleted);
}

#[tokio::test]
async fn a_server_error_on_patch_is_retried_through_the_queue_and_then_succeeds() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    change_accounting(&h, 100, "45");
    h.reconcile(TICKET).await.unwrap();
    // More 503s than the client's own retries: the record fails and SQS redelivers.
    h.kimai.admin().set_faults(
        "PATCH /api/timesheets/{id}",
        faults(serde_json::json!({"latency_ms": 0, "rules": [{"kind": "error", "statuses": [503], "times": 2}]})),
    );
    let first = h.run_writer().await;
    assert!(
        matches!(&first[..], [Err(e)] if e.is_retryable()),
        "{first:?}"
    );
    assert_eq!(h.queued().len(), 1, "back on the queue");
    let second = h.run_writer().await;
    assert!(
        matches!(&second[..], [Ok(WriteOutcome::Updated { .. })]),
        "{second:?}"
    );
    assert_eq!(marker_sheet(&h, "[zammad:ta=100]").duration, 2700);
}

#[tokio::test]
async fn an_operation_in_flight_elsewhere_fails_the_record_and_a_done_one_is_acked() {
    let h = Harness::start().await;
    h.reconcile(TICKET).await.unwrap();
    let message = h.queued().remove(0);
    let claim = h
        .control
        .claim_operation(
            &message.operation_id,
            "another-writer",
            Duration::minutes(5),
            Utc::now(),
        )
        .await
        .unwrap();
    assert!(matches!(claim, ClaimOutcome::Claimed { attempt: 1, .. }));

    let cache = WriterCache::new();
    let err = h.writer.apply(&cache, &message).await.unwrap_err();
    assert!(matches!(err, WriteError::InFlight { .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(h.kimai_calls("POST /api/timesheets"), 0);

    h.control
        .complete_operation(
            &message.operation_id,
            "another-writer",
            &serde_json::json!({"outcome": "created", "kimai_id": 1}),
            Utc::now(),
        )
        .await
        .unwrap();
    let done = h.writer.apply(&cache, &message).await.unwrap();
    assert_eq!(done, WriteOutcome::AlreadyDone);
    assert_eq!(h.kimai_calls("POST /api/timesheets"), 0);
    assert!(matches!(message.operation, Operation::Create { .. }));
}

#[tokio::test]
async fn an_undecodable_write_message_fails_without_panicking() {
    let h = Harness::start().await;
    let cache = WriterCache::new();
    for body in [
        "",
        "{}",
        r#"{"schema_version":1,"operation_id":"x","ticket_id":1,"run_id":null,"operation":{"op":"explode"}}"#,
    ] {
        let err = h.writer.apply_body(&cache, "m-1", body).await.unwrap_err();
        assert!(matches!(err, WriteError::BadMessage(_)), "{err}");
        assert!(!err.is_retryable());
    }
    assert_eq!(h.kimai_writes(), 0);
}

#[tokio::test]
async fn moving_a_timesheet_to_a_user_in_another_zone_keeps_its_instant() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    // Anna's time now belongs to Bob (New York): Kimai reads a PATCH in the record's zone,
    // which is still Berlin while the owner changes.
    h.set_policy(policy_with_users(false, serde_json::json!({"2": 3})))
        .await;
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.updates, 2, "{report:?}");
    let results = h.run_writer().await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(WriteOutcome::Updated { .. }))),
        "{results:?}"
    );
    let moved = marker_sheet(&h, "[zammad:ta=100]");
    assert_eq!(moved.user, 3);
    assert_eq!(moved.timezone, "America/New_York");
    // Still 09:30–10:00 UTC.
    assert_eq!(moved.begin, "2026-03-02T04:30:00-0500");
    assert_eq!(moved.end.as_deref(), Some("2026-03-02T05:00:00-0500"));
    // And the recorded echo matches Kimai: nothing more to do.
    assert_eq!(h.reconcile(TICKET).await.unwrap().enqueued, 0);
}

#[tokio::test]
async fn two_plans_queued_before_either_is_written_end_in_the_latest_state_in_either_order() {
    for newest_first in [false, true] {
        let h = Harness::start().await;
        h.sync(TICKET).await;
        change_accounting(&h, 100, "45");
        h.reconcile(TICKET).await.unwrap();
        change_accounting(&h, 100, "60");
        h.reconcile(TICKET).await.unwrap();
        let queued = h.queued();
        assert_eq!(queued.len(), 2, "two updates of the same key");
        assert_ne!(queued[0].operation_id, queued[1].operation_id);

        let cache = WriterCache::new();
        let order: Vec<_> = if newest_first {
            queued.iter().rev().collect()
        } else {
            queued.iter().collect()
        };
        let mut outcomes = Vec::new();
        for m in order {
            outcomes.push(h.writer.apply(&cache, m).await.unwrap());
        }
        assert!(h.open_conflicts().await.is_empty(), "{outcomes:?}");
        // The writer writes only the latest desired value: the older plan's update is not
        // written, in either order.
        let older = if newest_first { 1 } else { 0 };
        assert_eq!(outcomes[older], WriteOutcome::OutOfDate, "{outcomes:?}");
        assert_eq!(h.kimai_calls("PATCH /api/timesheets/{id}"), 1);
        assert_eq!(marker_sheet(&h, "[zammad:ta=100]").duration, 3600);
        assert_eq!(h.reconcile(TICKET).await.unwrap().enqueued, 0);
    }
}

#[tokio::test]
async fn two_plans_of_one_key_in_one_batch_run_one_after_the_other() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    change_accounting(&h, 100, "45");
    h.reconcile(TICKET).await.unwrap();
    change_accounting(&h, 100, "60");
    h.reconcile(TICKET).await.unwrap();
    let queued = h.queued();
    assert_eq!(queued.len(), 2);
    // Delay every PATCH, so two unserialised writes would both read the old state first.
    h.kimai.admin().set_faults(
        "PATCH /api/timesheets/{id}",
        faults(serde_json::json!({"latency_ms": 200, "rules": []})),
    );
    let cache = WriterCache::new();
    let (a, b) = tokio::join!(
        // The newer plan first: unserialised, the older one would land last and win.
        h.writer.apply(&cache, &queued[1]),
        h.writer.apply(&cache, &queued[0])
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    assert!(h.open_conflicts().await.is_empty(), "{outcomes:?}");
    assert_eq!(marker_sheet(&h, "[zammad:ta=100]").duration, 3600);
    assert_eq!(h.reconcile(TICKET).await.unwrap().enqueued, 0);
}

#[tokio::test]
async fn a_create_for_a_key_linked_since_planning_is_superseded_not_duplicated() {
    let h = Harness::start().await;
    h.reconcile(TICKET).await.unwrap();
    let first = h.queued().remove(0);
    // The same create under another operation id (e.g. planned again after a change that
    // does not touch Kimai's fields), applied after the first one linked the key.
    let mut second = first.clone();
    second.operation_id = sync_store::control::OperationId("op-create-other".into());
    let cache = WriterCache::new();
    let created = h.writer.apply(&cache, &first).await.unwrap();
    let WriteOutcome::Created { kimai_id } = created else {
        panic!("{created:?}")
    };
    let again = h.writer.apply(&cache, &second).await.unwrap();
    assert_eq!(again, WriteOutcome::Superseded { kimai_id });
    assert_eq!(h.kimai_calls("POST /api/timesheets"), 1);
    assert!(h.open_conflicts().await.is_empty());
}

/// A newer plan read the key unlinked, then an older plan's create linked it before the newer
/// plan was recorded: the newer plan's create finds the key linked to the older values. It is
/// the key's latest plan, and nothing else may plan the key again, so it writes its values
/// over the linked timesheet (the chaos soak's verify sweep found such a change left behind).
#[tokio::test]
async fn a_newest_plans_create_that_finds_an_older_create_linked_updates_it_to_its_values() {
    let h = Harness::start().await;
    h.reconcile(TICKET).await.unwrap();
    let older = h.run_writer().await;
    assert!(
        older
            .iter()
            .all(|r| matches!(r, Ok(WriteOutcome::Created { .. }))),
        "{older:?}"
    );
    let accounting = h
        .zammad
        .sim()
        .accountings()
        .into_iter()
        .find(|a| a["ticket_id"] == TICKET.0)
        .unwrap();
    change_accounting(&h, accounting["id"].as_u64().unwrap(), "45");
    // The newer plan, recorded now; its write is the create it would have planned had it read
    // the key before the older create linked it.
    let newer = h.reconcile(TICKET).await.unwrap();
    assert_eq!(newer.updates, 1, "{newer:?}");
    let mut message = h.queued().remove(0);
    let Operation::Update {
        kimai_id, desired, ..
    } = message.operation.clone()
    else {
        panic!("{message:?}")
    };
    message.operation = Operation::Create { desired };
    message.operation_id = sync_store::control::OperationId("op-create-newer".into());
    let outcome = h.writer.apply(&WriterCache::new(), &message).await.unwrap();
    assert_eq!(outcome, WriteOutcome::Updated { kimai_id });
    let sheet = h
        .kimai_sheets()
        .into_iter()
        .find(|s| s.id == kimai_id.0)
        .unwrap();
    assert_eq!(sheet.duration, 45 * 60, "{sheet:?}");
    assert_eq!(h.kimai_calls("POST /api/timesheets"), older.len() as u64);
    assert!(h.open_conflicts().await.is_empty());
}

#[tokio::test]
async fn a_newer_plans_create_finds_the_timesheet_an_unanswered_post_left_and_adopts_it() {
    // A newer plan is made while the first plan's POST is on its way: Kimai saves it only
    // after the newer plan read Kimai, and the answer is lost (500 after commit). The newer
    // plan's create of the same key has a new operation id on its first attempt; it must still
    // find the first POST's timesheet by marker, not book it twice.
    let h = Harness::start().await;
    h.kimai.admin().set_faults(
        "POST /api/timesheets",
        kimai_sim::RouteFaults {
            latency_ms: 1000,
            rules: vec![kimai_sim::FaultRule {
                kind: kimai_sim::FaultKind::CommitThen500,
                probability: 1.0,
                times: Some(1),
                skip: 0,
            }],
        },
    );
    h.reconcile(TICKET).await.unwrap();
    let first = h.queued().remove(0);
    let cache = WriterCache::new();
    let (lost, ()) = tokio::join!(h.writer.apply(&cache, &first), async {
        // The POST has reached Kimai (it is counted on arrival) and waits there.
        while h.kimai_calls("POST /api/timesheets") == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        for accounting in h.zammad.sim().accountings() {
            if accounting["ticket_id"] == TICKET.0 {
                change_accounting(&h, accounting["id"].as_u64().unwrap(), "45");
            }
        }
        let newer = h.reconcile(TICKET).await.unwrap();
        assert_eq!(newer.creates, 2, "Kimai had nothing yet: {newer:?}");
    });
    assert!(lost.is_err(), "{lost:?}");
    h.kimai.admin().clear_faults();
    let written = h.run_writer().await;
    assert!(
        written
            .iter()
            .any(|r| matches!(r, Ok(WriteOutcome::Adopted { .. }))),
        "{written:?}"
    );
    assert_eq!(h.kimai_sheets().len(), 2, "no timesheet twice: {written:?}");
    assert_eq!(h.kimai_calls("POST /api/timesheets"), 2, "no third POST");
    // The lost answer's message comes back and finds its key linked; the next plan brings the
    // timesheets to the new time.
    h.run_writer().await;
    h.sync(TICKET).await;
    let records = h.entries.load_ticket(TICKET).await.unwrap();
    assert!(
        records.iter().all(|r| r.status == EntryStatus::Synced),
        "{records:?}"
    );
    assert_eq!(h.kimai_sheets().len(), 2);
}
