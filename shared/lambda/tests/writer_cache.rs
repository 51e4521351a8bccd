//! The writer's instance-long cache of the API user and the tags, against the real Kimai
//! simulator, with the records of a batch processed at once by the functions' batch helper:
//! records of one batch share one lookup, a warm instance reuses it until it expires, and a tag
//! deleted in Kimai meanwhile is created again instead of being lost.

use chrono::{Duration, Utc};
use std::sync::Arc;
use sync_core::ids::TicketId;
use sync_lambda::sqs::{QueueRecord, process_records};
use sync_service::outage::RecordOutcome;
use sync_service::writer::{WriteOutcome, Writer, WriterCache};
use sync_store::clock::ManualClock;
use sync_store::queue::MessageQueue;
use test_support::datasets::{kimai::acme_limited_api_user, zammad::printer_jam_three_tickets};
use test_support::pipeline::{Harness, kimai_client, policy};

/// Accountings per ticket: one batch of creates each.
const PER_TICKET: u64 = 6;
/// How many records the test runs at once (the function runs 2; more makes races likelier).
const CONCURRENCY: usize = 6;

async fn harness(create_tag: bool) -> Harness {
    Harness::start_with(
        printer_jam_three_tickets(PER_TICKET),
        acme_limited_api_user(create_tag),
        policy(false),
    )
    .await
}

/// A writer of its own over the harness's stores, shareable across the batch's tasks.
fn batch_writer(h: &Harness) -> Arc<Writer> {
    Arc::new(Writer::new(
        Arc::new(kimai_client(&h.kimai)),
        h.sync_stores.clone(),
        "batch-writer",
    ))
}

/// What one [`sync_batch`] did.
struct Batch {
    failed: Vec<String>,
    /// `GET /api/users/me` calls of the writer (reconcile makes its own).
    me_calls: u64,
}

/// Reconciles `ticket`, then applies everything it queued as one batch, records at once as
/// the function does. Successful messages are acked.
async fn sync_batch(
    h: &Harness,
    writer: &Arc<Writer>,
    cache: &Arc<WriterCache>,
    ticket: u64,
) -> Batch {
    let report = h.reconcile(TicketId(ticket)).await.expect("reconcile");
    let me_before = h.kimai_calls("GET /api/users/me");
    assert_eq!(report.creates as u64, PER_TICKET, "{report:?}");
    let received = h.writes.receive(10, 0).await.expect("receive");
    assert_eq!(received.len() as u64, PER_TICKET);
    let records: Vec<QueueRecord> = received
        .iter()
        .map(|r| QueueRecord {
            message_id: r.message_id.clone(),
            body: r.body.clone(),
            receive_count: 1,
        })
        .collect();
    let (writer, shared_cache) = (writer.clone(), cache.clone());
    let failed = process_records(records, CONCURRENCY, None, move |record| {
        let (writer, cache) = (writer.clone(), shared_cache.clone());
        async move {
            match writer.apply_record(&cache, &record).await? {
                RecordOutcome::Done(WriteOutcome::Created { .. }) => Ok(()),
                other => Err(sync_service::writer::WriteError::Config(format!(
                    "expected a create, got {other:?}"
                ))),
            }
        }
    })
    .await;
    for r in received.iter().filter(|r| !failed.contains(&r.message_id)) {
        h.writes.delete(&r.receipt).await.expect("ack");
    }
    Batch {
        failed,
        me_calls: h.kimai_calls("GET /api/users/me") - me_before,
    }
}

/// Kimai's timesheets of one ticket (by the `#<number>` in the description).
fn sheets_of(h: &Harness, ticket: u64) -> Vec<kimai_sim::AdminTimesheet> {
    let number = format!("#310{ticket}");
    h.kimai_sheets()
        .into_iter()
        .filter(|s| s.description.as_deref().unwrap_or("").contains(&number))
        .collect()
}

/// Slows every tag search down, so records that each searched would overlap.
fn slow_tag_search(h: &Harness) {
    h.kimai.admin().set_faults(
        "GET /api/tags/find",
        kimai_sim::RouteFaults {
            latency_ms: 150,
            rules: vec![],
        },
    );
}

#[tokio::test]
async fn a_batch_shares_one_lookup_a_warm_instance_reuses_it_and_it_expires() {
    let h = harness(true).await;
    slow_tag_search(&h);
    let writer = batch_writer(&h);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let cache = Arc::new(WriterCache::with_clock(clock.clone(), Duration::minutes(5)));
    let calls = |route: &str| h.kimai_calls(route);

    // Six records with the tag `zammad` at once: one search, one creation, one API user.
    let first = sync_batch(&h, &writer, &cache, 10).await;
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert_eq!(calls("POST /api/timesheets"), PER_TICKET);
    assert_eq!(calls("GET /api/tags/find"), 1);
    assert_eq!(calls("POST /api/tags"), 1);
    assert_eq!(first.me_calls, 1);
    let sheets = sheets_of(&h, 10);
    assert_eq!(sheets.len() as u64, PER_TICKET);
    assert!(sheets.iter().all(|s| s.tags == vec!["zammad".to_owned()]));

    // The next invocation of the same instance, within the expiry: no lookups at all.
    clock.advance(Duration::minutes(4));
    let second = sync_batch(&h, &writer, &cache, 11).await;
    assert!(second.failed.is_empty(), "{:?}", second.failed);
    assert_eq!(calls("POST /api/timesheets"), 2 * PER_TICKET);
    assert_eq!(calls("GET /api/tags/find"), 1);
    assert_eq!(second.me_calls, 0);

    // After the expiry: looked up once again (the tag exists now: found, not created).
    clock.advance(Duration::minutes(2));
    let third = sync_batch(&h, &writer, &cache, 12).await;
    assert!(third.failed.is_empty(), "{:?}", third.failed);
    assert_eq!(calls("POST /api/timesheets"), 3 * PER_TICKET);
    assert_eq!(calls("GET /api/tags/find"), 2);
    assert_eq!(calls("POST /api/tags"), 1);
    assert_eq!(third.me_calls, 1);
    assert!(
        sheets_of(&h, 12)
            .iter()
            .all(|s| s.tags == vec!["zammad".to_owned()])
    );
    assert_eq!(cache.locked_keys(), 0, "no key lock outlives its write");
}

#[tokio::test]
async fn a_tag_deleted_in_kimai_after_it_was_cached_is_created_again_and_set() {
    let h = harness(true).await;
    slow_tag_search(&h);
    let writer = batch_writer(&h);
    let cache = Arc::new(WriterCache::new());
    assert!(sync_batch(&h, &writer, &cache, 10).await.failed.is_empty());

    // Kimai loses everything written since its seed, the tag `zammad` included; the cache
    // still believes in the tag. Kimai drops an unknown tag from a timesheet without an error.
    h.kimai.admin().reset();
    slow_tag_search(&h);
    let batch = sync_batch(&h, &writer, &cache, 11).await;
    assert!(batch.failed.is_empty(), "{:?}", batch.failed);

    let sheets = sheets_of(&h, 11);
    assert_eq!(sheets.len() as u64, PER_TICKET);
    assert!(
        sheets.iter().all(|s| s.tags == vec!["zammad".to_owned()]),
        "every timesheet carries the tag again: {sheets:?}"
    );
    let calls = |route: &str| h.kimai_calls(route);
    assert_eq!(
        calls("GET /api/tags/find"),
        1,
        "one new lookup for all records"
    );
    assert_eq!(calls("POST /api/tags"), 1, "created again once");
    let patches = calls("PATCH /api/timesheets/{id}");
    assert!(
        (1..=PER_TICKET).contains(&patches),
        "only the records written without the tag set it again: {patches}"
    );
    assert_eq!(batch.me_calls, 0, "the API user is still cached");
    // The recorded echoes carry the tag: nothing left to do.
    assert_eq!(h.reconcile(TicketId(11)).await.unwrap().enqueued, 0);
}

#[tokio::test]
async fn a_tag_the_api_user_may_not_create_is_tried_once_per_expiry_not_per_record() {
    let h = harness(false).await;
    let writer = batch_writer(&h);
    let cache = Arc::new(WriterCache::new());
    assert!(sync_batch(&h, &writer, &cache, 10).await.failed.is_empty());
    let calls = |route: &str| h.kimai_calls(route);
    assert_eq!(calls("GET /api/tags/find"), 1);
    assert_eq!(calls("POST /api/tags"), 1, "refused (403) once");
    assert_eq!(
        calls("PATCH /api/timesheets/{id}"),
        0,
        "a tag that cannot exist is no dropped tag to repair"
    );
    let sheets = sheets_of(&h, 10);
    assert_eq!(sheets.len() as u64, PER_TICKET, "the writes went on");
    assert!(sheets.iter().all(|s| s.tags.is_empty()));
}
