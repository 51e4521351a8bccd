//! The shared call pace, end to end: clients built as the functions build them, two of them
//! standing for two Lambda instances, paced through one control store, calling the
//! simulators. The store's own contract (DynamoDB and in memory) is in `sync-store`.

use kimai_client::KimaiError;
use kimai_sim::{FaultKind, FaultRule, RouteFaults};
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_service::settings::KimaiConnection;
use sync_service::upstream::{CallRates, Timeouts, kimai_client, zammad_client};
use sync_store::control::ControlStore;
use sync_store::memory::MemoryControl;
use test_support::datasets;
use test_support::pipeline::zammad_connection;
use test_support::sims::{self, RunningKimai, ZammadVersion};

async fn kimai_sim() -> RunningKimai {
    sims::kimai(7, datasets::kimai::acme_one_activity()).await
}

/// A Kimai client of one "instance", paced by `rates` through `control`.
fn instance(
    sim: &RunningKimai,
    control: &Arc<dyn ControlStore>,
    rates: CallRates,
) -> kimai_client::KimaiClient {
    kimai_client(
        &KimaiConnection::new(sim.base_url()),
        datasets::kimai::ACME_TOKEN,
        Timeouts::Unattended {
            pace: rates.kimai_pacer(control),
        },
    )
    .unwrap()
}

fn kimai_at(per_second: u32) -> CallRates {
    CallRates {
        kimai: Some(per_second),
        zammad: None,
    }
}

#[tokio::test]
async fn two_instances_share_one_calls_per_second_limit() {
    let sim = kimai_sim().await;
    let control: Arc<dyn ControlStore> = Arc::new(MemoryControl::new());
    let clients = [
        instance(&sim, &control, kimai_at(4)),
        instance(&sim, &control, kimai_at(4)),
    ];
    // 13 calls at 4 a second start in at least 4 different seconds: the last starts more than
    // 2 s after the first, wherever in its second the first one fell. Unpaced they take
    // milliseconds.
    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..13 {
        let client = clients[i % 2].clone();
        calls.spawn(async move { client.ping().await });
    }
    while let Some(done) = calls.join_next().await {
        done.unwrap().unwrap();
    }
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sim.admin().call_count("GET /api/ping"), 13);
}

#[tokio::test]
async fn a_429_to_one_instance_pauses_the_other_for_its_retry_after() {
    let sim = kimai_sim().await;
    sim.admin().set_faults(
        "GET /api/ping",
        RouteFaults {
            latency_ms: 0,
            rules: vec![FaultRule {
                kind: FaultKind::RateLimit {
                    retry_after_secs: 2,
                },
                probability: 1.0,
                times: Some(1),
                skip: 0,
            }],
        },
    );
    let control: Arc<dyn ControlStore> = Arc::new(MemoryControl::new());
    let first = instance(&sim, &control, kimai_at(100));
    let second = instance(&sim, &control, kimai_at(100));
    let turned_away = tokio::spawn(async move { first.ping().await });
    // The first instance has had its 429 when the second starts.
    while sim.admin().call_count("GET /api/ping") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    second.ping().await.unwrap();
    assert!(
        started.elapsed() > Duration::from_millis(1500),
        "the second instance waited for the pause: {:?}",
        started.elapsed()
    );
    turned_away.await.unwrap().unwrap();
    assert_eq!(
        sim.admin().call_count("GET /api/ping"),
        3,
        "one 429, then one call each"
    );
}

#[tokio::test]
async fn a_slot_too_late_for_the_invocation_is_a_rate_limit_the_caller_gets_back() {
    let sim = kimai_sim().await;
    let control: Arc<dyn ControlStore> = Arc::new(MemoryControl::new());
    let client = instance(&sim, &control, kimai_at(1));
    // Fill this second, and the next: a long-running neighbour.
    client.ping().await.unwrap();
    control
        .pause_calls("kimai", chrono::Utc::now() + chrono::Duration::seconds(5))
        .await
        .unwrap();
    let started = Instant::now();
    let err = call_deadline::run_until(
        tokio::time::Instant::now() + Duration::from_secs(2),
        client.ping(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, KimaiError::RateLimited { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up at once instead of outliving the invocation"
    );
    assert_eq!(sim.admin().call_count("GET /api/ping"), 1);
}

#[tokio::test]
async fn zammad_calls_keep_their_own_pace() {
    let sim = sims::zammad(
        ZammadVersion::V6_5,
        datasets::zammad::printer_jam_two_accountings(),
    )
    .await;
    let control: Arc<dyn ControlStore> = Arc::new(MemoryControl::new());
    let rates = CallRates {
        zammad: Some(3),
        kimai: None,
    };
    let client = zammad_client(
        &zammad_connection(&sim),
        datasets::zammad::TWO_ACCOUNTINGS_TOKEN,
        Timeouts::Unattended {
            pace: rates.zammad_pacer(&control),
        },
    )
    .unwrap();
    // 7 calls at 3 a second span at least 3 seconds: more than 1 s from first to last.
    let started = Instant::now();
    for _ in 0..7 {
        client.connection_test().await.unwrap();
    }
    assert!(
        started.elapsed() > Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}
