//! End-to-end suite on the deployed local stack (`make up`: template.yaml on the AWS emulator,
//! both simulators, demo settings). Run by `infra/local-stack/e2e.sh` (smoke.sh calls it);
//! behind the `e2e` feature so a plain workspace test run does not need the stack. Without a
//! stack every case FAILS, naming what is missing.
//!
//! Each case makes its own Zammad tickets, so cases never share data; they still run one at a
//! time (a lock in `Stack::open`) because some change global simulator state or count calls.
//! Waiting is always polling with a deadline.

#![cfg(feature = "e2e")]

#[path = "e2e/stack.rs"]
mod stack;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use stack::{Stack, at, eventually, marker};
use std::time::Duration;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::plan::ConflictReason;
use sync_lambda::reconcile::PANIC_TICKET;
use sync_store::PageRequest;
use sync_store::audit::{AuditFilter, AuditLog};
use sync_store::conflicts::{ConflictFilter, ConflictStatus, ConflictsStore};
use sync_store::control::{ControlStore, RunId, RunState, SyncRun};
use sync_store::entries::EntryStatus;
use sync_store::queue::{SyncReason, TicketSyncMessage, encode};

/// Long enough for a cold function start in the emulator and one queue retry (10 s locally).
const SYNC: Duration = Duration::from_secs(60);

/// Zammad agents of the demo data and the Kimai users the demo policy maps them to.
const ANNA: u64 = 3; // → Kimai user 2, Europe/Berlin
const BEN: u64 = 4; // → Kimai user 3, America/New_York

/// The one timesheet of an accounting, once the pipeline has written it.
async fn synced_timesheet(s: &Stack, accounting: u64) -> Value {
    eventually(
        SYNC,
        &format!("the timesheet of accounting {accounting}"),
        || async {
            let found = s.timesheets_of(accounting).await;
            match found.len() {
                1 => Ok(found[0].clone()),
                n => Err(format!("{n} timesheets carry {}", marker(accounting))),
            }
        },
    )
    .await
}

/// Waits until every entry of the ticket has the wanted status (and there are `count`).
async fn entries_settle(s: &Stack, ticket: u64, count: usize, status: EntryStatus) {
    eventually(
        SYNC,
        &format!("{count} entries of ticket {ticket} to be {status:?}"),
        || async {
            let entries = s.entries_of(ticket).await;
            let statuses: Vec<EntryStatus> = entries.iter().map(|e| e.status).collect();
            (statuses.len() == count && statuses.iter().all(|st| *st == status))
                .then_some(())
                .ok_or(format!("{statuses:?}"))
        },
    )
    .await
}

async fn open_conflicts(s: &Stack, ticket: u64) -> Vec<ConflictReason> {
    open_conflict_records(s, ticket)
        .await
        .iter()
        .map(|c| c.conflict.reason)
        .collect()
}

async fn open_conflict_records(
    s: &Stack,
    ticket: u64,
) -> Vec<sync_store::conflicts::ConflictRecord> {
    let filter = ConflictFilter {
        status: ConflictStatus::Open,
        reason: None,
        ticket_id: Some(sync_core::ids::TicketId(ticket)),
    };
    let mut records = Vec::new();
    let mut page = PageRequest::first(100);
    loop {
        let found = s
            .conflicts
            .list(&filter, &page)
            .await
            .expect("list conflicts");
        records.extend(found.items);
        match found.next {
            Some(next) => page = PageRequest::next(100, next),
            None => return records,
        }
    }
}

/// Today's audit events with this action (every page).
async fn audited(s: &Stack, action: &str) -> Vec<sync_store::audit::AuditRecord> {
    let today = Utc::now().date_naive();
    let filter = AuditFilter {
        action: Some(action.to_owned()),
        ..Default::default()
    };
    let mut records = Vec::new();
    let mut page = PageRequest::first(200);
    loop {
        let found = s
            .audit
            .query(today, today, &filter, &page)
            .await
            .expect("read the audit log");
        records.extend(found.items);
        match found.next {
            Some(next) => page = PageRequest::next(200, next),
            None => return records,
        }
    }
}

fn rfc3339(kimai_time: &Value) -> String {
    chrono::DateTime::parse_from_str(kimai_time.as_str().expect("a time"), "%Y-%m-%dT%H:%M:%S%z")
        .expect("Kimai's time format")
        .to_rfc3339()
}

/// Sum of the writes Kimai received (create, update, delete of timesheets).
fn writes(calls: &std::collections::BTreeMap<String, u64>) -> u64 {
    calls
        .iter()
        .filter(|(route, _)| {
            route.contains("/api/timesheets")
                && ["POST ", "PATCH ", "DELETE "]
                    .iter()
                    .any(|m| route.starts_with(m))
        })
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn a_signed_webhook_brings_the_tickets_time_into_kimai() {
    let s = Stack::open().await;
    s.prepare(true).await;
    let ticket = s.new_ticket("e2e: webhook to Kimai").await;
    // 09:30 UTC is 10:30 in Berlin; 15:00 UTC is 10:00 in New York (before DST starts).
    let anna = s.book(ticket, ANNA, 45, 1, "2026-03-02T09:30:00Z").await;
    let ben = s.book(ticket, BEN, 30, 3, "2026-03-02T15:00:00Z").await;

    let a = synced_timesheet(&s, anna).await;
    assert_eq!(
        (
            a["user"].as_u64(),
            a["project"].as_u64(),
            a["activity"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{a}"
    );
    // The work ended when it was logged, in the owner's zone.
    assert_eq!(rfc3339(&a["begin"]), "2026-03-02T09:45:00+01:00", "{a}");
    assert_eq!(rfc3339(&a["end"]), "2026-03-02T10:30:00+01:00", "{a}");
    assert_eq!(a["duration"], 45 * 60);
    let b = synced_timesheet(&s, ben).await;
    assert_eq!(
        (
            b["user"].as_u64(),
            b["project"].as_u64(),
            b["activity"].as_u64()
        ),
        (Some(3), Some(1), Some(2)),
        "{b}"
    );
    assert_eq!(rfc3339(&b["begin"]), "2026-03-02T09:30:00-05:00", "{b}");
    assert_eq!(rfc3339(&b["end"]), "2026-03-02T10:00:00-05:00", "{b}");
    for t in [&a, &b] {
        let tags: Vec<&str> = t["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            tags.contains(&"zammad") && tags.contains(&"demo"),
            "tags of {t}"
        );
    }

    entries_settle(&s, ticket, 2, EntryStatus::Synced).await;
    let linked: Vec<u64> = s
        .entries_of(ticket)
        .await
        .iter()
        .filter_map(|e| e.kimai_id())
        .map(|TimesheetId(id)| id)
        .collect();
    for t in [&a, &b] {
        assert!(
            linked.contains(&t["id"].as_u64().unwrap()),
            "entry linked to {t}"
        );
    }
    // Zammad's own deliveries (signed with the deployed secret) were accepted.
    let deliveries = s.deliveries(ticket).await;
    assert!(
        !deliveries.is_empty() && deliveries.iter().all(|d| d["status"] == 202),
        "{deliveries:?}"
    );
}

#[tokio::test]
async fn an_edited_and_a_deleted_accounting_update_and_delete_in_kimai() {
    let s = Stack::open().await;
    s.prepare(true).await;
    let ticket = s.new_ticket("e2e: edit and delete").await;
    let kept = s.book(ticket, ANNA, 30, 1, "2026-03-03T08:00:00Z").await;
    let dropped = s.book(ticket, ANNA, 20, 1, "2026-03-03T12:00:00Z").await;
    let kept_id = synced_timesheet(&s, kept).await["id"].as_u64().unwrap();
    let dropped_id = synced_timesheet(&s, dropped).await["id"].as_u64().unwrap();
    entries_settle(&s, ticket, 2, EntryStatus::Synced).await;

    s.change_minutes(kept, 60).await;
    s.delete_accounting(dropped).await;

    let updated = eventually(SYNC, "the update and the delete in Kimai", || async {
        let kept_now = s.timesheet(kept_id).await;
        let dropped_now = s.timesheet(dropped_id).await;
        match (kept_now, dropped_now) {
            (Some(k), None) if k["duration"] == 3600 => Ok(k),
            (k, d) => Err(format!("kept {k:?}, dropped {d:?}")),
        }
    })
    .await;
    // Updated in place (same id, end unchanged, begin earlier), not recreated.
    assert_eq!(
        rfc3339(&updated["end"]),
        "2026-03-03T09:00:00+01:00",
        "{updated}"
    );
    assert_eq!(
        rfc3339(&updated["begin"]),
        "2026-03-03T08:00:00+01:00",
        "{updated}"
    );
    assert_eq!(s.timesheets_of(kept).await.len(), 1);
    assert!(s.timesheets_of(dropped).await.is_empty());
    eventually(
        SYNC,
        "the entries to record the update and the delete",
        || async {
            let mut statuses: Vec<(u64, EntryStatus)> = s
                .entries_of(ticket)
                .await
                .iter()
                .map(|e| (e.kimai_id().map_or(0, |TimesheetId(id)| id), e.status))
                .collect();
            statuses.sort_by_key(|(id, _)| *id);
            let synced = statuses.contains(&(kept_id, EntryStatus::Synced));
            let deleted = statuses.iter().any(|(_, st)| *st == EntryStatus::Deleted);
            (synced && deleted)
                .then_some(())
                .ok_or(format!("{statuses:?}"))
        },
    )
    .await;
}

#[tokio::test]
async fn hand_edited_and_exported_timesheets_become_conflicts_and_stay_untouched() {
    let s = Stack::open().await;
    s.prepare(true).await;
    let edited_ticket = s.new_ticket("e2e: edited by hand in Kimai").await;
    let edited = s
        .book(edited_ticket, ANNA, 30, 1, "2026-03-04T09:00:00Z")
        .await;
    let exported_ticket = s.new_ticket("e2e: exported in Kimai").await;
    let exported = s
        .book(exported_ticket, ANNA, 30, 1, "2026-03-04T14:00:00Z")
        .await;
    let edited_id = synced_timesheet(&s, edited).await["id"].as_u64().unwrap();
    let exported_id = synced_timesheet(&s, exported).await["id"].as_u64().unwrap();
    entries_settle(&s, edited_ticket, 1, EntryStatus::Synced).await;
    entries_settle(&s, exported_ticket, 1, EntryStatus::Synced).await;

    let hand_description = format!("{} checked and shortened by hand", marker(edited));
    s.edit_by_hand(edited_id, json!({"description": hand_description}))
        .await;
    s.set_exported(exported_id).await;
    let before_edited = s.timesheet(edited_id).await.unwrap();
    let before_exported = s.timesheet(exported_id).await.unwrap();
    let writes_before = writes(&s.kimai_calls().await);

    // Zammad changes on top of both.
    s.change_minutes(edited, 50).await;
    s.change_minutes(exported, 50).await;

    let edited_reasons = eventually(SYNC, "a conflict on the hand-edited timesheet", || async {
        let reasons = open_conflicts(&s, edited_ticket).await;
        (!reasons.is_empty())
            .then_some(reasons.clone())
            .ok_or(format!("{reasons:?}"))
    })
    .await;
    assert_eq!(edited_reasons, vec![ConflictReason::BothChanged]);
    let exported_reasons = eventually(SYNC, "a conflict on the exported timesheet", || async {
        let reasons = open_conflicts(&s, exported_ticket).await;
        (!reasons.is_empty())
            .then_some(reasons.clone())
            .ok_or(format!("{reasons:?}"))
    })
    .await;
    assert_eq!(exported_reasons, vec![ConflictReason::LockedOrExported]);
    entries_settle(&s, edited_ticket, 1, EntryStatus::Conflict).await;
    entries_settle(&s, exported_ticket, 1, EntryStatus::Conflict).await;

    // Nothing overwritten.
    s.wait_queues_idle(SYNC).await;
    assert_eq!(s.timesheet(edited_id).await.unwrap(), before_edited);
    assert_eq!(s.timesheet(exported_id).await.unwrap(), before_exported);
    assert_eq!(
        writes(&s.kimai_calls().await),
        writes_before,
        "no write reached Kimai"
    );
}

/// Starts a date-range run through the deployed console API and waits for scheduled-fetch to
/// finish its discovery; the run as stored then. The API must answer 202 with the run still
/// `running` (it is handed off, not run inside the api's 29 s). Under the default `skip` policy
/// another test's fetch holding the lease cancels the run: that is tried again, a few times.
async fn console_date_range(s: &Stack, from: &str, to: &str) -> SyncRun {
    let token = s.api_token().await;
    for _ in 0..5 {
        let (status, started) = s
            .api(
                &token,
                reqwest::Method::POST,
                "/sync-runs",
                Some(json!({"from": from, "to": to})),
            )
            .await;
        assert_eq!(status, 202, "{started}");
        assert_eq!(started["state"], "running", "{started}");
        let id = RunId(started["id"].as_str().expect("a run id").to_owned());
        let run = eventually(
            Duration::from_secs(60),
            "scheduled-fetch to carry the handed-off run on",
            || async {
                let run = s.control.get_run(&id).await.unwrap().unwrap();
                (run.state != RunState::Running)
                    .then_some(run.clone())
                    .ok_or(format!("{:?}, {:?}", run.state, run.counters))
            },
        )
        .await;
        match run.state {
            RunState::Succeeded => return run,
            RunState::Cancelled => tokio::time::sleep(Duration::from_secs(2)).await,
            other => panic!("the console's date-range run ended {other:?}: {run:?}"),
        }
    }
    panic!("the console's date-range run was skipped 5 times (the fetch lease stayed taken)");
}

/// How far the run's tickets got: (queued, done + failed).
async fn run_progress(s: &Stack, run: &str) -> (u64, u64) {
    let run = s
        .control
        .get_run(&RunId(run.to_owned()))
        .await
        .expect("read the run")
        .expect("the run exists");
    (
        run.counters.tickets_queued,
        run.counters.tickets_done + run.counters.failed,
    )
}

async fn wait_run_settled(s: &Stack, run: &str) {
    eventually(
        Duration::from_secs(120),
        &format!("run {run} to reconcile every ticket"),
        || async {
            let (queued, done) = run_progress(s, run).await;
            (queued > 0 && done >= queued)
                .then_some(())
                .ok_or(format!("{done} of {queued} done"))
        },
    )
    .await;
    s.wait_queues_idle(SYNC).await;
}

#[tokio::test]
async fn a_scheduled_backfill_syncs_50_tickets_and_a_second_run_writes_nothing() {
    let s = Stack::open().await;
    // Only the scheduled run may find these tickets.
    s.prepare(false).await;
    let base = Utc.with_ymd_and_hms(2026, 2, 9, 7, 0, 0).unwrap();
    let mut accountings = Vec::new();
    for i in 0..50 {
        let ticket = s.new_ticket(&format!("e2e: backfill {i}")).await;
        let agent = if i % 2 == 0 { ANNA } else { BEN };
        // Spread over two weeks, 15 to 64 minutes each.
        accountings.push(
            s.book(ticket, agent, 15 + i, 1, &at(base, i64::from(i) * 397))
                .await,
        );
    }
    let request = json!({
        "mode": "backfill",
        "from": "2026-02-01T00:00:00Z",
        "to": "2026-03-01T00:00:00Z",
        // A scheduled incremental run of the emulator's scheduler may hold the lease: wait.
        "concurrency": "queue",
    });

    let first = s.invoke_fetch(request).await;
    assert_eq!(
        (first["outcome"].as_str(), first["state"].as_str()),
        (Some("ran"), Some("succeeded")),
        "{first}"
    );
    assert!(first["enqueued"].as_u64().unwrap() >= 50, "{first}");
    eventually(
        Duration::from_secs(120),
        "all 50 backfilled timesheets",
        || async {
            let all = s.timesheets().await;
            let missing: Vec<u64> = accountings
                .iter()
                .copied()
                .filter(|a| {
                    all.iter()
                        .filter(|t| {
                            t["description"]
                                .as_str()
                                .is_some_and(|d| d.contains(&marker(*a)))
                        })
                        .count()
                        != 1
                })
                .collect();
            missing.is_empty().then_some(()).ok_or(format!(
                "{} not (exactly once) in Kimai: {missing:?}",
                missing.len()
            ))
        },
    )
    .await;
    wait_run_settled(&s, first["run_id"].as_str().unwrap()).await;

    // The second run is started from the console: the api records it, hands it to
    // scheduled-fetch and answers at once; the run then shows the same discovery.
    let calls_before = s.kimai_calls().await;
    let second = console_date_range(&s, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z").await;
    assert_eq!(
        second.counters.tickets_queued,
        first["enqueued"].as_u64().unwrap(),
        "the same tickets again"
    );
    let run = second.id.0.as_str();
    wait_run_settled(&s, run).await;
    let calls_after = s.kimai_calls().await;
    assert_eq!(
        writes(&calls_after),
        writes(&calls_before),
        "no POST/PATCH/DELETE on the second run: {calls_before:?} → {calls_after:?}"
    );
    let counters = s
        .control
        .get_run(&RunId(run.to_owned()))
        .await
        .unwrap()
        .unwrap()
        .counters;
    assert_eq!(
        (
            counters.created,
            counters.updated,
            counters.deleted,
            counters.failed
        ),
        (0, 0, 0, 0),
        "{counters:?}"
    );
}

#[tokio::test]
async fn a_forged_webhook_is_refused_and_a_replayed_delivery_changes_nothing() {
    let s = Stack::open().await;
    s.prepare(false).await;
    let payload = |ticket: u64| json!({"ticket": {"id": ticket, "title": "e2e"}}).to_string();

    let forged_ticket = s.new_ticket("e2e: forged webhook").await;
    let forged_accounting = s
        .book(forged_ticket, ANNA, 25, 1, "2026-03-05T10:00:00Z")
        .await;
    let forged_delivery = uuid::Uuid::new_v4().to_string();
    let wrong = zammad_sim::webhook::signature("not-the-secret", payload(forged_ticket).as_bytes());
    let (status, problem) = s
        .post_webhook(&payload(forged_ticket), &wrong, &forged_delivery)
        .await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["code"], "signature_mismatch", "{problem}");

    let replayed_ticket = s.new_ticket("e2e: replayed delivery").await;
    let first = s
        .book(replayed_ticket, ANNA, 25, 1, "2026-03-05T11:00:00Z")
        .await;
    let delivery = uuid::Uuid::new_v4().to_string();
    let body = payload(replayed_ticket);
    let (status, answer) = s.post_webhook(&body, &s.sign(&body), &delivery).await;
    assert_eq!(status, 202, "{answer}");
    synced_timesheet(&s, first).await;
    // Booked without a trigger; only a processed webhook would bring it to Kimai.
    let later = s
        .book(replayed_ticket, ANNA, 35, 1, "2026-03-05T13:00:00Z")
        .await;
    let (status, answer) = s.post_webhook(&body, &s.sign(&body), &delivery).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("duplicate")),
        "{answer}"
    );

    // A signed webhook for a third ticket, sent last, is the barrier: once it is in Kimai,
    // whatever the two before had enqueued would have been processed too.
    let barrier_ticket = s.new_ticket("e2e: barrier").await;
    let barrier = s
        .book(barrier_ticket, ANNA, 10, 1, "2026-03-05T15:00:00Z")
        .await;
    let body = payload(barrier_ticket);
    let (status, _) = s
        .post_webhook(&body, &s.sign(&body), &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(status, 202);
    synced_timesheet(&s, barrier).await;
    s.wait_queues_idle(SYNC).await;

    assert!(
        s.entries_of(forged_ticket).await.is_empty(),
        "the forged webhook enqueued nothing"
    );
    assert!(s.timesheets_of(forged_accounting).await.is_empty());
    assert!(
        s.timesheets_of(later).await.is_empty(),
        "the replay was not processed"
    );
    assert_eq!(s.entries_of(replayed_ticket).await.len(), 1);

    let rejected = audited(&s, "webhook.reject").await;
    assert!(
        rejected
            .iter()
            .any(|r| r.event.detail.to_string().contains(&forged_delivery)),
        "the forged request is audited"
    );
}

#[tokio::test]
async fn kimai_commit_then_500_on_create_leaves_exactly_one_timesheet() {
    let s = Stack::open().await;
    s.prepare(true).await;
    // The first create is saved by Kimai but answered with a 500; later ones are normal.
    s.set_kimai_fault(
        "POST /api/timesheets",
        json!([{"kind": "commit_then_500", "times": 1}]),
    )
    .await;
    let posts_before = s
        .kimai_calls()
        .await
        .get("POST /api/timesheets")
        .copied()
        .unwrap_or(0);
    let ticket = s.new_ticket("e2e: commit, then 500").await;
    let accounting = s.book(ticket, ANNA, 40, 1, "2026-03-06T10:00:00Z").await;

    // The failed record comes back after the queue's visibility timeout; the retry finds the
    // saved timesheet by its marker and links it instead of posting again.
    entries_settle(&s, ticket, 1, EntryStatus::Synced).await;
    s.wait_queues_idle(SYNC).await;
    let found = s.timesheets_of(accounting).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let linked = s.entries_of(ticket).await[0].kimai_id();
    assert_eq!(linked, Some(TimesheetId(found[0]["id"].as_u64().unwrap())));
    let posts = s
        .kimai_calls()
        .await
        .get("POST /api/timesheets")
        .copied()
        .unwrap_or(0);
    assert_eq!(posts - posts_before, 1, "one POST: the committed one");
    s.prepare(false).await;
}

/// Waits until the ticket-sync DLQ holds a message with this body, then removes it (so the
/// DLQ stays empty for the other cases); its message id in the DLQ.
async fn take_dead_letter(s: &Stack, body: &str, what: &str) -> String {
    let dlq = s.output("TicketSyncDeadLetterQueueUrl").to_owned();
    let dead = eventually(Duration::from_secs(90), what, || async {
        let received = s
            .sqs
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(10)
            .visibility_timeout(1)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        received
            .messages
            .unwrap_or_default()
            .into_iter()
            .find(|m| m.body.as_deref() == Some(body))
            .ok_or_else(|| "not there yet".to_owned())
    })
    .await;
    s.sqs
        .delete_message()
        .queue_url(&dlq)
        .receipt_handle(dead.receipt_handle.unwrap())
        .send()
        .await
        .expect("remove it from the DLQ");
    dead.message_id.expect("a message id")
}

#[tokio::test]
async fn a_poison_message_ends_in_the_dead_letter_queue() {
    let s = Stack::open().await;
    s.prepare(false).await;
    let body = json!({"e2e_poison": uuid::Uuid::new_v4().to_string()}).to_string();
    let chat_before = s.chat_messages().await.len();
    let sent = s
        .sqs
        .send_message()
        .queue_url(s.output("TicketSyncQueueUrl"))
        .message_body(&body)
        .send()
        .await
        .expect("send the poison message");
    let message_id = sent.message_id.expect("a message id");

    // Reconcile fails it on every delivery; on the last one it keeps a record, and SQS moves
    // the message to the DLQ. The console lists it from the record, by reading only.
    let token = s.api_token().await;
    let listed = eventually(SYNC, "the dead letter in the console", || async {
        let (status, list) = s
            .api(&token, reqwest::Method::GET, "/dead-letters", None)
            .await;
        if status != 200 {
            return Err(format!("{status}: {list}"));
        }
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["message_id"] == message_id.as_str())
            .cloned()
            .ok_or_else(|| "not listed yet".to_owned())
    })
    .await;
    assert_eq!(listed["body"], body.as_str());
    assert!(listed["decode_error"].is_string(), "{listed}");
    assert!(
        !listed["error"].as_str().unwrap_or_default().is_empty(),
        "{listed}"
    );
    // Once the message is in the DLQ, a listing leaves it visible: nothing was received.
    let dlq_counts = || async {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let attributes = s
            .sqs
            .get_queue_attributes()
            .queue_url(s.output("TicketSyncDeadLetterQueueUrl"))
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("DLQ attributes")
            .attributes
            .unwrap_or_default();
        let count = |a: A| {
            attributes
                .get(&a)
                .map_or(0, |n| n.parse::<u64>().unwrap_or(0))
        };
        (
            count(A::ApproximateNumberOfMessages),
            count(A::ApproximateNumberOfMessagesNotVisible),
        )
    };
    eventually(SYNC, "the poison message visible in the DLQ", || async {
        match dlq_counts().await {
            (visible, _) if visible > 0 => Ok(()),
            other => Err(format!("(visible, in flight) = {other:?}")),
        }
    })
    .await;
    let (status, list) = s
        .api(&token, reqwest::Method::GET, "/dead-letters", None)
        .await;
    assert_eq!(status, 200);
    assert!(
        list["in_queues"]["ticket_sync"].as_u64() >= Some(1),
        "{list}"
    );
    let (visible, in_flight) = dlq_counts().await;
    assert!(visible >= 1, "still visible after the listing");
    assert_eq!(in_flight, 0, "listing received nothing from the DLQ");

    let dead_id = take_dead_letter(&s, &body, "the poison message in the DLQ").await;
    assert_eq!(dead_id, message_id, "the DLQ keeps the message's id");
    s.control
        .delete_dead_letter("ticket-sync", &message_id)
        .await
        .expect("drop the record with its message");

    // The failure reached a person: the bus's chat rule posted it, through the emulator's API
    // destination, to the local chat receiver, within 10 s of the message reaching the DLQ.
    let told = eventually(
        Duration::from_secs(10),
        "the dead letter's chat message",
        || async {
            let messages = s.chat_messages().await;
            messages[chat_before.min(messages.len())..]
                .iter()
                .find(|m| {
                    m.starts_with("Zammad-Kimai sync, DeadLetters Arrived: a ticket-sync message")
                })
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "{} new messages, none about it",
                        messages.len() - chat_before.min(messages.len())
                    )
                })
        },
    )
    .await;
    assert!(told.contains("dead-letter queue"), "{told}");

    // The last failed delivery was known as the last one (the deployed maxReceiveCount) and
    // audited as a dead letter.
    let dead_letters = audited(&s, "message.dead_letter").await;
    assert!(
        dead_letters
            .iter()
            .any(|r| r.event.detail["message_id"] == message_id.as_str()),
        "message.dead_letter audited for {message_id}"
    );
}

/// Sets (or, with `None`, removes) one environment variable of a deployed function and waits
/// until the change is in effect.
async fn set_function_env(s: &Stack, function: &str, name: &str, value: Option<String>) {
    let current = s
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .expect("read the function's configuration");
    let mut variables = current
        .environment
        .and_then(|e| e.variables)
        .unwrap_or_default();
    match value {
        Some(v) => variables.insert(name.to_owned(), v),
        None => variables.remove(name),
    };
    s.lambda
        .update_function_configuration()
        .function_name(function)
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .set_variables(Some(variables))
                .build(),
        )
        .send()
        .await
        .expect("update the function's environment");
    eventually(
        Duration::from_secs(30),
        "the configuration update",
        || async {
            let c = s
                .lambda
                .get_function_configuration()
                .function_name(function)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            match c.last_update_status {
                Some(aws_sdk_lambda::types::LastUpdateStatus::InProgress) => {
                    Err("in progress".into())
                }
                _ => Ok(()),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_panicking_record_fails_alone_in_the_deployed_build() {
    let s = Stack::open().await;
    s.prepare(false).await;
    // No Zammad ticket has this id; the deployed reconcile panics on a record naming it.
    const POISON: u64 = 999_999_901;
    let function = s.output("ReconcileFunctionName").to_owned();
    set_function_env(&s, &function, PANIC_TICKET, Some(POISON.to_string())).await;

    let ticket = s.new_ticket("e2e: a panicking record beside it").await;
    let accounting = s.book(ticket, ANNA, 20, 1, "2026-03-03T09:00:00Z").await;
    // The deployed bootstrap gets one batch holding the record that panics and a good one, as
    // the SQS poller would hand it over. (Through the queue the poller may split them into two
    // batches, and a batch of the poison record alone fails either way.)
    let record = |id: &str, ticket: u64| {
        json!({
            "messageId": id,
            "receiptHandle": format!("e2e-{id}"),
            "body": encode(&TicketSyncMessage::new(TicketId(ticket), SyncReason::Manual, None)),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
        })
    };
    let event = json!({"Records": [record("poison", POISON), record("good", ticket)]});
    let (error, body) = s.invoke("ReconcileFunctionName", &event).await;
    set_function_env(&s, &function, PANIC_TICKET, None).await;

    // Had the panic aborted the process, the invocation would have failed whole
    // (Runtime.ExitError) and SQS would retry the good record with the bad one.
    assert_eq!(error, None, "the invocation answered: {body}");
    let response: Value = serde_json::from_str(&body).expect("a batch response");
    assert_eq!(
        response["batchItemFailures"],
        json!([{"itemIdentifier": "poison"}]),
        "{body}"
    );
    let synced = synced_timesheet(&s, accounting).await;
    assert_eq!(synced["duration"], 20 * 60, "{synced}");
}

#[tokio::test]
async fn a_conflict_resolved_in_the_console_writes_zammads_version_over_the_hand_edit() {
    let s = Stack::open().await;
    s.prepare(true).await;
    let ticket = s.new_ticket("e2e: resolved in the console").await;
    let accounting = s.book(ticket, ANNA, 30, 1, "2026-03-09T09:00:00Z").await;
    let id = synced_timesheet(&s, accounting).await["id"]
        .as_u64()
        .unwrap();
    entries_settle(&s, ticket, 1, EntryStatus::Synced).await;
    s.edit_by_hand(
        id,
        json!({"description": format!("{} by hand", marker(accounting))}),
    )
    .await;
    s.change_minutes(accounting, 50).await;
    let conflict = eventually(SYNC, "the both_changed conflict", || async {
        let open = open_conflict_records(&s, ticket).await;
        open.first().cloned().ok_or("none yet".to_owned())
    })
    .await;
    assert_eq!(conflict.conflict.reason, ConflictReason::BothChanged);

    // A person decides in the console: Zammad's version applies.
    let token = s.api_token().await;
    let (status, body) = s
        .api(
            &token,
            reqwest::Method::POST,
            &format!("/conflicts/{}/resolve", conflict.id),
            Some(json!({"action": "apply_zammad", "note": "e2e"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let written = eventually(SYNC, "Zammad's 50 minutes in Kimai", || async {
        let now = s.timesheet(id).await.ok_or("gone".to_owned())?;
        (now["duration"] == 50 * 60)
            .then_some(now.clone())
            .ok_or(format!("{now}"))
    })
    .await;
    assert!(
        !written["description"].as_str().unwrap().contains("by hand"),
        "{written}"
    );
    entries_settle(&s, ticket, 1, EntryStatus::Synced).await;
    assert!(open_conflicts(&s, ticket).await.is_empty());
}

#[tokio::test]
async fn a_manual_run_of_a_ticket_list_started_in_the_console_finishes() {
    let s = Stack::open().await;
    s.prepare(false).await;
    let first = s.new_ticket("e2e: manual run 1").await;
    let second = s.new_ticket("e2e: manual run 2").await;
    let a = s.book(first, ANNA, 20, 1, "2026-03-10T09:00:00Z").await;
    let b = s.book(second, BEN, 25, 1, "2026-03-10T15:00:00Z").await;
    let token = s.api_token().await;
    let (status, run) = s
        .api(
            &token,
            reqwest::Method::POST,
            "/sync-runs",
            Some(json!({"tickets": [first, second]})),
        )
        .await;
    assert_eq!(status, 202, "{run}");
    let run_id = run["id"].as_str().expect("run id").to_owned();
    let finished = eventually(SYNC, "the manual run to finish", || async {
        let (status, run) = s
            .api(
                &token,
                reqwest::Method::GET,
                &format!("/sync-runs/{run_id}"),
                None,
            )
            .await;
        (status == 200 && run["state"] != "running")
            .then_some(run.clone())
            .ok_or(format!("{status} {run}"))
    })
    .await;
    assert_eq!(finished["state"], "succeeded", "{finished}");
    assert_eq!(finished["counters"]["tickets_done"], 2, "{finished}");
    assert!(finished["finished_at"].is_string(), "{finished}");
    synced_timesheet(&s, a).await;
    synced_timesheet(&s, b).await;
}

/// One agent's time on two tickets logged at the same minute: both webhooks are processed by
/// the deployed functions, possibly at once, and the two timesheets land side by side on the
/// same day, never in one slot (docs/core.md "Placement", docs/pipeline.md step 6b).
#[tokio::test]
async fn two_tickets_of_one_agent_logged_at_the_same_minute_land_side_by_side() {
    let s = Stack::open().await;
    s.prepare(true).await;
    let first = s.new_ticket("e2e: same minute, first").await;
    let second = s.new_ticket("e2e: same minute, second").await;
    // A day no other test books Anna on; a rerun on the same stack finds the earlier run's
    // timesheets there, which only moves these further.
    let at = "2026-04-14T08:00:00Z";
    let a = s.book(first, ANNA, 30, 1, at).await;
    let b = s.book(second, ANNA, 20, 1, at).await;
    let a = synced_timesheet(&s, a).await;
    let b = synced_timesheet(&s, b).await;
    let span = |t: &Value| {
        let parse = |v: &Value| {
            chrono::DateTime::parse_from_str(v.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%z").unwrap()
        };
        (parse(&t["begin"]), parse(&t["end"]))
    };
    let ((ab, ae), (bb, be)) = (span(&a), span(&b));
    assert_eq!(
        (a["duration"].as_i64(), b["duration"].as_i64()),
        (Some(1800), Some(1200))
    );
    assert_eq!(ab.date_naive(), bb.date_naive(), "{a} {b}");
    assert!(ae <= bb || be <= ab, "the two overlap: {a} {b}");
    // The rest of Anna's day does not overlap them either.
    let day = ab.date_naive();
    let anna_that_day: Vec<Value> = s
        .timesheets()
        .await
        .into_iter()
        .filter(|t| t["user"] == 2 && span(t).0.date_naive() == day)
        .collect();
    for t in &anna_that_day {
        for mine in [&a, &b] {
            if t["id"] != mine["id"] {
                let ((tb, te), (mb, me)) = (span(t), span(mine));
                assert!(te <= mb || me <= tb, "{t} overlaps {mine}");
            }
        }
    }
}

/// The daily connection check, as its schedule invokes it on the deployed stack: both tokens
/// read from their secrets under the function's own role (the IAM check after the suites
/// evaluates those reads), both systems asked for what the sync needs.
#[tokio::test]
async fn the_daily_connection_check_finds_both_connections_working() {
    let s = Stack::open().await;
    let report = s
        .invoke_fetch(serde_json::from_str(sync_lambda::fetch::CHECK_INPUT).unwrap())
        .await;
    assert_eq!(
        report,
        json!({"zammad": {"state": "ok"}, "kimai": {"state": "ok"}}),
        "{report}"
    );
}

/// A GDPR purge on the deployed stack: the api hands the job to gdpr-purge (an asynchronous
/// invoke; the IAM check after the suites evaluates every call of both functions), the job
/// deletes the person's entry and conflict and suppresses them, and time they book afterwards
/// is left out by the deployed reconcile. The person is a Zammad agent made for this run
/// only (unmapped, so their time waits as a conflict): the demo's agents stay for the other
/// suites.
#[tokio::test]
async fn a_gdpr_purge_runs_in_the_background_and_the_person_stays_out() {
    let s = Stack::open().await;
    s.prepare(true).await;
    let person = s
        .new_agent(&format!("e2e-purge-{}", Utc::now().timestamp_millis()))
        .await;
    let ticket = s.new_ticket("e2e: gdpr purge").await;
    s.book(ticket, person, 15, 1, "2026-04-21T09:00:00Z").await;
    eventually(SYNC, "the unmapped time to wait as a conflict", || async {
        let conflicts = open_conflicts(&s, ticket).await;
        (!conflicts.is_empty() && !s.entries_of(ticket).await.is_empty())
            .then_some(())
            .ok_or(format!("{conflicts:?}"))
    })
    .await;

    let token = s.api_token().await;
    let (status, job) = s
        .api(
            &token,
            reqwest::Method::POST,
            "/gdpr/purge",
            Some(json!({"agent_id": person})),
        )
        .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().expect("job id").to_owned();
    let done = eventually(SYNC, "the purge job to end", || async {
        let (status, job) = s
            .api(
                &token,
                reqwest::Method::GET,
                &format!("/gdpr/purges/{id}"),
                None,
            )
            .await;
        (status == 200 && (job["status"] == "done" || job["status"] == "failed"))
            .then_some(job.clone())
            .ok_or(format!("{status} {job}"))
    })
    .await;
    assert_eq!(done["status"], "done", "{done}");
    assert!(done["counts"]["entries"].as_u64() >= Some(1), "{done}");
    assert!(done["counts"]["conflicts"].as_u64() >= Some(1), "{done}");
    assert!(s.entries_of(ticket).await.is_empty());
    assert!(open_conflicts(&s, ticket).await.is_empty());

    // Their next booking reaches the deployed reconcile (the webhook is accepted) and is left
    // out.
    s.book(ticket, person, 10, 1, "2026-04-21T11:00:00Z").await;
    eventually(SYNC, "the second delivery", || async {
        let deliveries = s.deliveries(ticket).await;
        (deliveries.len() >= 2 && deliveries.iter().all(|d| d["status"] == 202))
            .then_some(())
            .ok_or(format!("{deliveries:?}"))
    })
    .await;
    s.wait_queues_idle(SYNC).await;
    assert!(s.entries_of(ticket).await.is_empty());
    assert!(open_conflicts(&s, ticket).await.is_empty());
}
