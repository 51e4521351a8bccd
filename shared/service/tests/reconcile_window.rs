//! What a function instance of reconcile reads once and shares: the Kimai snapshot of a run's
//! window, the Kimai catalog, Zammad's agents and organisations. Against both simulators, with
//! one `ReconcileCache` standing for one warm instance and one `InvocationCache` per batch.

use std::sync::Arc;
use sync_core::ids::TicketId;
use sync_service::reconcile::{InvocationCache, ReconcileCache, ReconcileReport};
use sync_service::writer::WriteOutcome;
use sync_store::queue::{SyncReason, SyncWindow, TicketSyncMessage};
use test_support::pipeline::{Harness, TICKET, policy};
use zammad_sim::AccountingChange;

/// The week of the printer-jam datasets' accountings (2 March 2026).
fn window() -> SyncWindow {
    SyncWindow {
        from: "2026-03-01T00:00:00Z".parse().unwrap(),
        to: "2026-03-08T00:00:00Z".parse().unwrap(),
    }
}

fn backfill(ticket: TicketId) -> TicketSyncMessage {
    let mut m = TicketSyncMessage::new(ticket, SyncReason::Backfill, None);
    m.window = Some(window());
    m
}

/// One invocation of the instance that keeps `instance`.
async fn reconcile_in(
    h: &Harness,
    instance: &Arc<ReconcileCache>,
    message: &TicketSyncMessage,
) -> ReconcileReport {
    let cache = InvocationCache::within(instance.clone());
    h.reconciler.reconcile(&cache, message).await.unwrap()
}

/// Anna's `minutes` on a new ticket of the same organisation, logged at `at` (UTC).
fn book_on_new_ticket(h: &Harness, minutes: i64, at: &str) -> TicketId {
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
    zammad
        .add_accounting(zammad_sim::NewAccounting {
            ticket_id: id,
            created_by_id: 2,
            time_unit: rust_decimal::Decimal::from(minutes),
            type_id: Some(1),
            with_article: false,
            article_body: None,
            created_at: Some(at.parse().unwrap()),
        })
        .unwrap();
    TicketId(id)
}

fn lists(h: &Harness) -> u64 {
    h.kimai_calls("GET /api/timesheets")
}

#[tokio::test]
async fn tickets_of_a_backfill_are_planned_against_one_read_of_its_window() {
    let h = Harness::start().await;
    let second = book_on_new_ticket(&h, 20, "2026-03-02T09:40:00Z");
    let instance = Arc::new(ReconcileCache::new());
    let before = lists(&h);

    let first = reconcile_in(&h, &instance, &backfill(TICKET)).await;
    let other = reconcile_in(&h, &instance, &backfill(second)).await;
    assert_eq!(first.creates, 2, "{first:?}");
    assert_eq!(other.creates, 1, "{other:?}");
    assert_eq!(
        lists(&h) - before,
        1,
        "one list of the window for both tickets: no list per agent, no marker search"
    );

    let written = h.run_writer().await;
    assert!(written.iter().all(Result::is_ok), "{written:?}");
    let mut sheets = h.kimai_sheets();
    sheets.sort_by(|a, b| a.begin.cmp(&b.begin));
    assert_eq!(sheets.len(), 3);
    for pair in sheets.windows(2) {
        let end = pair[0].end.as_deref().unwrap();
        let end: chrono::DateTime<chrono::FixedOffset> =
            chrono::DateTime::parse_from_str(end, "%Y-%m-%dT%H:%M:%S%z").unwrap();
        let next: chrono::DateTime<chrono::FixedOffset> =
            chrono::DateTime::parse_from_str(&pair[1].begin, "%Y-%m-%dT%H:%M:%S%z").unwrap();
        assert!(end <= next, "no overlap: {sheets:?}");
    }
}

#[tokio::test]
async fn a_legacy_marker_in_the_window_is_adopted_without_a_search() {
    let mut kimai = test_support::datasets::kimai::acme_two_activities();
    kimai.timesheets = serde_json::from_value(serde_json::json!([
        {"id": 50, "user": 2, "project": 1, "activity": 1,
         "begin": "2026-03-02T10:30:00+0100", "end": "2026-03-02T11:00:00+0100",
         "description": "ZAM:T10|TA:100\nPrinter jam", "tags": [], "exported": false,
         "billable": true, "modified_at": "2026-03-02T10:00:00Z"}
    ]))
    .unwrap();
    let h = Harness::start_with(
        test_support::datasets::zammad::printer_jam_two_accountings(),
        kimai,
        policy(false),
    )
    .await;
    let instance = Arc::new(ReconcileCache::new());
    let report = reconcile_in(&h, &instance, &backfill(TICKET)).await;
    assert_eq!(report.adopted, 1, "{report:?}");
    assert_eq!(report.creates, 1, "{report:?}");
    assert_eq!(
        lists(&h),
        1,
        "the window's read found the older tool's marker"
    );
}

/// The snapshot holds a timesheet as it was before our own update: the linked entry changed
/// after the read, so the timesheet is read by id, and the update is not taken for a hand
/// edit.
#[tokio::test]
async fn a_timesheet_we_updated_after_the_read_is_read_again_not_taken_for_a_hand_edit() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let second = book_on_new_ticket(&h, 20, "2026-03-02T14:00:00Z");
    let instance = Arc::new(ReconcileCache::new());
    // The window is read here, with the ticket's two timesheets as they are now.
    reconcile_in(&h, &instance, &backfill(second)).await;

    h.zammad
        .sim()
        .change_accounting(
            100,
            AccountingChange {
                time_unit: Some(rust_decimal::Decimal::from(45)),
                type_id: None,
            },
        )
        .unwrap();
    // The writer also creates the second ticket's timesheet, queued above.
    let written = h.sync(TICKET).await;
    assert!(written.iter().all(Result::is_ok), "{written:?}");
    assert!(
        written
            .iter()
            .any(|w| matches!(w, Ok(WriteOutcome::Updated { .. }))),
        "{written:?}"
    );

    let reads = h.kimai_calls("GET /api/timesheets/{id}");
    let report = reconcile_in(&h, &instance, &backfill(TICKET)).await;
    assert_eq!(report.kimai_edits_respected, 0, "{report:?}");
    assert_eq!(report.enqueued, 0, "{report:?}");
    assert!(h.open_conflicts().await.is_empty());
    assert_eq!(
        h.kimai_calls("GET /api/timesheets/{id}") - reads,
        2,
        "both linked timesheets changed after the read"
    );
}

/// A POST Kimai saved but answered 500: its key is searched by marker, whatever the snapshot
/// (read before the POST) says, and the timesheet is adopted rather than planned again.
#[tokio::test]
async fn a_key_whose_create_was_sent_is_searched_by_marker_despite_the_snapshot() {
    let h = Harness::start().await;
    let instance = Arc::new(ReconcileCache::new());
    reconcile_in(&h, &instance, &backfill(TICKET)).await;
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
    let written = h.run_writer().await;
    assert_eq!(written.iter().filter(|r| r.is_err()).count(), 1);
    assert_eq!(h.kimai_sheets().len(), 2, "both saved, one never linked");

    let report = reconcile_in(&h, &instance, &backfill(TICKET)).await;
    assert_eq!(report.adopted, 1, "{report:?}");
    assert_eq!(report.creates, 0, "{report:?}");
}

#[tokio::test]
async fn a_webhook_reads_its_own_days_even_with_a_snapshot_at_hand() {
    let h = Harness::start().await;
    let instance = Arc::new(ReconcileCache::new());
    reconcile_in(&h, &instance, &backfill(TICKET)).await;
    let before = lists(&h);
    let webhook = TicketSyncMessage::new(TICKET, SyncReason::Webhook, None);
    reconcile_in(&h, &instance, &webhook).await;
    assert!(lists(&h) > before, "a narrow read of its own");
}

#[tokio::test]
async fn the_catalog_is_read_once_per_instance_and_again_when_a_ticket_misses_it() {
    let mut with_billing = policy(false);
    with_billing["mappings"]["project_strategy"] =
        serde_json::json!({"strategy": "per_customer", "name": "Billing"});
    let mut kimai = test_support::datasets::kimai::acme_two_activities();
    // So the test can add the project the way a person would, through the API.
    if let Some(permissions) = kimai.users[0].permissions.as_mut() {
        permissions.push("create_project".into());
    }
    let h = Harness::start_with(
        test_support::datasets::zammad::printer_jam_two_accountings(),
        kimai,
        with_billing,
    )
    .await;
    let instance = Arc::new(ReconcileCache::new());
    let customers = |h: &Harness| h.kimai_calls("GET /api/customers");

    let blocked = reconcile_in(&h, &instance, &backfill(TICKET)).await;
    assert_eq!(blocked.creates, 0, "no Billing project yet: {blocked:?}");
    assert_eq!(customers(&h), 1);

    // Someone adds the project in Kimai; the cached catalog does not know it.
    h.reconciler
        .kimai
        .create_project(&kimai_client::NewProject {
            name: "Billing".into(),
            customer: sync_core::ids::CustomerId(1),
            number: None,
            visible: true,
            global_activities: true,
        })
        .await
        .unwrap();
    let resolved = reconcile_in(&h, &instance, &backfill(TICKET)).await;
    assert_eq!(
        resolved.creates, 2,
        "the miss read the catalog again: {resolved:?}"
    );
    assert_eq!(customers(&h), 2);

    h.run_writer().await;
    let again = reconcile_in(&h, &instance, &backfill(TICKET)).await;
    assert_eq!(again.enqueued, 0, "{again:?}");
    assert_eq!(customers(&h), 2, "resolved from the cached catalog");
}

#[tokio::test]
async fn agents_and_organisations_are_read_once_per_instance() {
    let h = Harness::start().await;
    let second = book_on_new_ticket(&h, 20, "2026-03-02T14:00:00Z");
    let instance = Arc::new(ReconcileCache::new());
    for ticket in [TICKET, second, TICKET] {
        let webhook = TicketSyncMessage::new(ticket, SyncReason::Webhook, None);
        reconcile_in(&h, &instance, &webhook).await;
    }
    let zammad = h.zammad.sim();
    assert_eq!(zammad.count("GET /api/v1/users/{id}"), 1, "Anna, once");
    assert_eq!(zammad.count("GET /api/v1/organizations/{id}"), 1);
    assert_eq!(
        zammad.count("GET /api/v1/tickets/{id}"),
        3,
        "each ticket, each time"
    );

    // Another instance (a cold start) reads them again.
    let cold = Arc::new(ReconcileCache::new());
    reconcile_in(
        &h,
        &cold,
        &TicketSyncMessage::new(TICKET, SyncReason::Webhook, None),
    )
    .await;
    assert_eq!(zammad.count("GET /api/v1/users/{id}"), 2);
}

/// Kimai too slow for the window's read to end within the wait: the ticket reads its own days
/// meanwhile, and the tickets after the read use the snapshot.
#[tokio::test]
async fn a_ticket_does_not_wait_for_a_slow_window_read() {
    let h = Harness::start().await;
    let second = book_on_new_ticket(&h, 20, "2026-03-02T14:00:00Z");
    h.kimai.admin().set_faults(
        "GET /api/timesheets",
        kimai_sim::RouteFaults {
            latency_ms: 400,
            rules: vec![],
        },
    );
    let instance = Arc::new(ReconcileCache::with_ttl_and_wait(
        chrono::Duration::minutes(5),
        std::time::Duration::from_millis(100),
    ));
    let started = std::time::Instant::now();
    let first = reconcile_in(&h, &instance, &backfill(TICKET)).await;
    assert_eq!(first.creates, 2, "{first:?}");
    assert!(
        lists(&h) >= 2,
        "the window's read and the ticket's own list, both begun"
    );

    // The read goes on without the ticket; once it is done the next ticket uses it.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let before = lists(&h);
    let other = reconcile_in(&h, &instance, &backfill(second)).await;
    assert_eq!(other.creates, 1, "{other:?}");
    assert_eq!(lists(&h), before, "answered by the snapshot");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// Tonight's sweep right after a backfill of the same window, on a warm instance: the sweep
/// reads the window again. Kept from the backfill, the snapshot would predate every timesheet
/// the backfill wrote, and each would be read by id.
#[tokio::test]
async fn a_new_run_of_the_same_window_reads_it_again_rather_than_each_timesheet_by_id() {
    let h = Harness::start().await;
    let instance = Arc::new(ReconcileCache::new());
    let in_run = |run: &str| {
        let mut m = backfill(TICKET);
        m.run_id = Some(sync_store::control::RunId(run.into()));
        m
    };
    let first = reconcile_in(&h, &instance, &in_run("run-1")).await;
    assert_eq!(first.creates, 2, "{first:?}");
    let written = h.run_writer().await;
    assert!(written.iter().all(Result::is_ok), "{written:?}");
    // Entries linked within 5 s of a read are read by id whatever the snapshot holds (clock
    // skew between us and Kimai); the sweep comes later than that.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;

    let (lists_before, reads_before) = (lists(&h), h.kimai_calls("GET /api/timesheets/{id}"));
    let again = reconcile_in(&h, &instance, &in_run("run-2")).await;
    assert_eq!(again.enqueued, 0, "{again:?}");
    assert_eq!(lists(&h) - lists_before, 1, "the new run reads its window");
    assert_eq!(
        h.kimai_calls("GET /api/timesheets/{id}") - reads_before,
        0,
        "no timesheet read by id"
    );
}
