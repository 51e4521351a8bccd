//! The sync benchmark's readings of the simulators, against both simulators running on
//! loopback with a generated dataset.

use chrono::NaiveDate;
use stack_bench::dataset;
use stack_bench::error::BenchError;
use stack_bench::sync_run::{Targets, calls, timesheet_count};

fn targets(zammad_url: String, kimai_url: String) -> Targets {
    Targets {
        zammad_url,
        kimai_url,
        fetch_function: "unused".into(),
        control_table: "unused".into(),
        work_queues: vec![],
        dead_letter_queues: vec![],
        aws_files: None,
    }
}

#[tokio::test]
async fn reads_timesheets_and_counts_calls_of_both_simulators() {
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let (_, zammad_data, kimai_data) =
        dataset::exact(50, 2, start, demo_data::cast::NAMED_AGENTS).unwrap();
    let existing = kimai_data.timesheets.len();
    let zammad = zammad_sim::serve(
        zammad_sim::SimConfig {
            port: 0,
            ..Default::default()
        },
        zammad_data,
    )
    .await
    .unwrap();
    let kimai = kimai_sim::serve(kimai_sim::SimConfig { port: 0, seed: 0 }, kimai_data)
        .await
        .unwrap();
    let t = targets(
        zammad.base_url().trim_end_matches('/').to_owned(),
        kimai.base_url().trim_end_matches('/').to_owned(),
    );
    let http = reqwest::Client::new();

    assert_eq!(
        timesheet_count(&http, &t.kimai_url).await.unwrap(),
        existing
    );
    let before = calls(&http, &t).await.unwrap();
    // One real API call to each.
    let k = http
        .get(format!("{}/api/users/me", t.kimai_url))
        .bearer_auth("demo-admin-token")
        .send()
        .await
        .unwrap();
    assert!(k.status().is_success());
    let z = http
        .get(format!("{}/api/v1/users/me", t.zammad_url))
        .header("Authorization", "Token token=demo-admin-token")
        .send()
        .await
        .unwrap();
    assert!(z.status().is_success());
    let after = calls(&http, &t).await.unwrap();
    let d = after.since(&before);
    assert_eq!(d.kimai.values().sum::<u64>(), 1, "{d:?}");
    assert_eq!(d.zammad.values().sum::<u64>(), 1, "{d:?}");
    // Reading the counters is not itself counted.
    assert_eq!(calls(&http, &t).await.unwrap(), after);
}

#[tokio::test]
async fn an_unreachable_simulator_is_an_http_error_naming_the_url() {
    // Bind and drop: a loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let err = timesheet_count(&http, &url).await.unwrap_err();
    assert!(matches!(err, BenchError::Http { .. }), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
}
