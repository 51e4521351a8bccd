//! The writer's instance-long cache against the real Kimai simulator: a failed tag lookup is
//! not cached, so the retry looks again. (How the records of one batch share the cache is
//! tested with the function's batch helper, in `sync-lambda`'s `tests/writer_cache.rs`.)

use sync_core::ids::TicketId;
use sync_service::writer::{WriteOutcome, WriterCache};
use test_support::datasets::{kimai::acme_limited_api_user, zammad::printer_jam_three_tickets};
use test_support::pipeline::{Harness, policy};

/// Accountings per ticket.
const PER_TICKET: u64 = 6;

async fn harness(create_tag: bool) -> Harness {
    Harness::start_with(
        printer_jam_three_tickets(PER_TICKET),
        acme_limited_api_user(create_tag),
        policy(false),
    )
    .await
}

#[tokio::test]
async fn a_failed_tag_lookup_is_not_cached_and_the_retry_looks_again() {
    let h = harness(true).await;
    // Both attempts of the client (one retry) fail: the write fails retryably.
    h.kimai.admin().set_faults(
        "GET /api/tags/find",
        kimai_sim::RouteFaults {
            latency_ms: 0,
            rules: vec![kimai_sim::FaultRule {
                kind: kimai_sim::FaultKind::Error {
                    statuses: vec![503],
                },
                probability: 1.0,
                times: Some(2),
                skip: 0,
            }],
        },
    );
    let cache = WriterCache::new();
    h.reconcile(TicketId(10)).await.unwrap();
    let message = h.queued().remove(0);
    let err = h.writer.apply(&cache, &message).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(h.kimai_calls("POST /api/timesheets"), 0);

    let done = h.writer.apply(&cache, &message).await.unwrap();
    assert!(matches!(done, WriteOutcome::Created { .. }), "{done:?}");
    assert_eq!(
        h.kimai_calls("GET /api/tags/find"),
        3,
        "two failed, one new lookup"
    );
    assert_eq!(h.kimai_sheets()[0].tags, vec!["zammad".to_owned()]);
}
