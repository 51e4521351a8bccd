//! Measures reconcile and the writer on one ticket with many accountings, against the Zammad
//! and Kimai simulators in this process and the in-memory stores:
//!
//! ```text
//! cargo run -p sync-service --example reconcile_throughput -- 500
//! ```
//!
//! Prints the time and the Kimai calls of: the first reconcile (all creates), the writer
//! applying them, and a second reconcile of the unchanged ticket. Results are written down in
//! `docs/pipeline.md`; nothing here asserts a time.

use std::time::Instant;
use test_support::datasets::{kimai::acme_two_activities, zammad::printer_jam_two_accountings};
use test_support::pipeline::{Harness, TICKET, policy};

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("a number of accountings"))
        .unwrap_or(500);
    let mut zammad = printer_jam_two_accountings();
    // n accountings of 10 minutes, one every 15 minutes from 2026-03-02 07:00 UTC.
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T07:00:00Z").unwrap();
    zammad.accountings = (0..n)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "id": 1000 + i, "ticket_id": 10, "time_unit": "10", "created_by_id": 2,
                "created_at": (start + chrono::Duration::minutes(15 * i as i64)).to_rfc3339()
            }))
            .expect("accounting")
        })
        .collect();
    let h = Harness::start_with(zammad, acme_two_activities(), policy(false)).await;

    let calls = |h: &Harness| {
        [
            "GET /api/timesheets",
            "GET /api/timesheets/{id}",
            "POST /api/timesheets",
        ]
        .map(|r| h.kimai_calls(r))
    };
    let report_step = |name: &str, t: Instant, before: [u64; 3], after: [u64; 3]| {
        println!(
            "{name:<28} {:>8.1} ms   list {:>4}  get {:>4}  post {:>4}",
            t.elapsed().as_secs_f64() * 1000.0,
            after[0] - before[0],
            after[1] - before[1],
            after[2] - before[2],
        );
    };
    println!("{n} accountings on one ticket");

    let before = calls(&h);
    let t = Instant::now();
    let first = h.reconcile(TICKET).await.expect("reconcile");
    report_step("first reconcile (plan)", t, before, calls(&h));
    assert_eq!(first.creates, n);

    let before = calls(&h);
    let t = Instant::now();
    let results = h.run_writer().await;
    report_step("writer (creates)", t, before, calls(&h));
    assert!(results.iter().all(Result::is_ok));

    let before = calls(&h);
    let t = Instant::now();
    let second = h.reconcile(TICKET).await.expect("reconcile");
    report_step("second reconcile (no change)", t, before, calls(&h));
    assert_eq!(second.enqueued, 0);
}
