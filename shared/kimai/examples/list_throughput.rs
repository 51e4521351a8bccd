//! How long listing N timesheets takes through the client against the local simulator, and how
//! many list calls it needs (expected: ceil(N / 500)).
//!
//! `cargo run -p kimai-client --example list_throughput -- 20000`

use kimai_client::{ApiToken, KimaiClient, KimaiConfig, TimesheetQuery};
use kimai_sim::{Dataset, SimConfig};
use serde_json::json;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let timesheets: Vec<_> = (1..=n)
        .map(|i| {
            json!({"id": i, "user": 1, "project": 1, "activity": 1,
                   "begin": "2026-03-02T09:00:00+0100", "end": "2026-03-02T09:30:00+0100",
                   "description": format!("Ticket work [zammad:ta={i}]"), "tags": ["zammad"]})
        })
        .collect();
    let dataset = json!({
        "users": [{"id": 1, "username": "sync", "email": "s@example.org",
                   "timezone": "Europe/Berlin", "roles": ["ROLE_SUPER_ADMIN"]}],
        "tokens": [{"token": "bench", "user": 1}],
        "customers": [{"id": 1, "name": "Acme"}],
        "projects": [{"id": 1, "customer": 1, "name": "Support"}],
        "activities": [{"id": 1, "name": "Support"}],
        "tags": [{"id": 1, "name": "zammad"}],
        "timesheets": timesheets,
    });
    let sim = kimai_sim::serve(
        SimConfig { port: 0, seed: 0 },
        Dataset::from_json(&dataset.to_string()).expect("dataset"),
    )
    .await
    .expect("simulator");
    let config = KimaiConfig::new(&sim.base_url(), ApiToken::new("bench")).expect("config");
    let kimai = KimaiClient::new(config).expect("client");

    let started = Instant::now();
    let all = kimai
        .list_timesheets(&TimesheetQuery::default())
        .await
        .expect("list");
    let elapsed = started.elapsed();
    println!(
        "listed {} timesheets in {:.1} ms with {} list calls ({:.1} µs per timesheet)",
        all.len(),
        elapsed.as_secs_f64() * 1000.0,
        sim.admin().call_count("GET /api/timesheets"),
        elapsed.as_secs_f64() * 1e6 / all.len().max(1) as f64
    );
}
