//! Sync runs: start by ticket list and by date range (handed off to the fetch step's backfill,
//! here run in-process against the Zammad simulator), list with filters and paging, one run's progress, CSV export.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::*;
use sync_store::clock::Clock;
use sync_store::control::{ControlStore, RunCounters, RunId, RunState, RunTrigger};
use sync_store::queue::{SyncReason, TicketSyncMessage, decode};

fn queued(app: &App) -> Vec<TicketSyncMessage> {
    app.ticket_sync
        .waiting_bodies()
        .iter()
        .map(|b| decode::<TicketSyncMessage>(b).unwrap())
        .collect()
}

#[tokio::test]
async fn a_ticket_list_queues_one_message_per_ticket_with_the_run_id() {
    let app = App::start().await;
    let admin = app.admin().await;
    let reply = app
        .call(
            Method::POST,
            "/api/sync-runs",
            Some(&admin),
            Some(json!({"tickets": [12, 11, 12], "dry_run": true})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let run_id = reply.json["id"].as_str().unwrap().to_owned();
    assert_eq!(reply.json["trigger"], "manual");
    assert_eq!(reply.json["state"], "running");
    assert_eq!(reply.json["counters"]["tickets_queued"], 2);
    assert_eq!(reply.json["progress"], 0.0);

    let messages = queued(&app);
    let mut tickets: Vec<u64> = messages.iter().map(|m| m.ticket_id.0).collect();
    tickets.sort();
    assert_eq!(tickets, [11, 12]);
    for m in &messages {
        assert_eq!(m.reason, SyncReason::Manual);
        assert_eq!(m.run_id, Some(RunId(run_id.clone())));
        assert!(m.dry_run);
    }

    // Reconcile reports progress through the counters; the run shows it.
    app.control
        .add_to_run(
            &RunId(run_id.clone()),
            &RunCounters {
                tickets_done: 1,
                created: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let viewer = app.viewer().await;
    let one = app
        .call(
            Method::GET,
            &format!("/api/sync-runs/{run_id}"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.json["counters"]["tickets_done"], 1);
    assert_eq!(one.json["counters"]["created"], 3);
    assert_eq!(one.json["progress"], 0.5);
    assert_eq!(one.json["params"]["tickets"], json!([11, 12]));

    let audit = app.audit_records().await;
    let started = audit
        .iter()
        .find(|r| r.event.action == "sync_run.start")
        .expect("audited");
    assert_eq!(started.event.actor, ADMIN);
    assert_eq!(started.event.detail["run_id"], run_id);
}

#[tokio::test]
async fn a_date_range_is_handed_off_and_its_run_shows_the_backfill_discovery() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await;
    let reply = app
        .call(
            Method::POST,
            "/api/sync-runs",
            Some(&admin),
            Some(json!({"from": "2024-03-01T00:00:00Z", "to": "2024-04-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    assert_eq!(reply.json["trigger"], "backfill");
    // Answered once handed off; the discovery runs after (here in-process, on AWS in
    // scheduled-fetch) and the run shows its end.
    assert_eq!(reply.json["state"], "running", "{}", reply.text);
    let run_id = RunId(reply.json["id"].as_str().unwrap().to_owned());
    let mut run = reply.json.clone();
    for _ in 0..100 {
        if run["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        run = app
            .call(
                Method::GET,
                &format!("/api/sync-runs/{}", run_id.0),
                Some(&admin),
                None,
            )
            .await
            .json;
    }
    assert_eq!(run["state"], "succeeded", "{run}");
    let messages = queued(&app);
    // The demo desk has 7 tickets, all changed in March 2024.
    assert!(!messages.is_empty());
    assert_eq!(run["counters"]["tickets_queued"], messages.len() as u64);
    for m in &messages {
        assert_eq!(m.reason, SyncReason::Backfill);
        assert_eq!(m.run_id.as_ref(), Some(&run_id));
        assert!(!m.dry_run);
    }
}

#[tokio::test]
async fn a_date_range_without_a_zammad_connection_is_409() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.call(
        Method::POST,
        "/api/sync-runs",
        Some(&admin),
        Some(json!({"from": "2024-03-01T00:00:00Z", "to": "2024-04-01T00:00:00Z"})),
    )
    .await
    .assert_problem(StatusCode::CONFLICT);
    assert!(queued(&app).is_empty());
}

#[tokio::test]
async fn bad_run_requests_are_400_and_start_nothing() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await;
    let cases: &[(Value, &str)] = &[
        (json!({}), "tickets"),
        (json!({"tickets": []}), "tickets"),
        (json!({"tickets": [0]}), "tickets"),
        (
            json!({"tickets": [1], "from": "2024-03-01T00:00:00Z"}),
            "tickets",
        ),
        (json!({"from": "2024-03-01T00:00:00Z"}), "to"),
        (
            json!({"from": "2024-04-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"}),
            "from",
        ),
        (
            json!({"from": "2022-01-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"}),
            "from",
        ),
        (json!({"tickets": [1], "colour": "red"}), "body"),
        (json!({"tickets": ["one"]}), "body"),
    ];
    for (body, field) in cases {
        let reply = app
            .call(
                Method::POST,
                "/api/sync-runs",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(
            reply.json["errors"][0]["field"], *field,
            "{body}: {}",
            reply.text
        );
    }
    let too_many: Vec<u64> = (1..=1001).collect();
    app.call(
        Method::POST,
        "/api/sync-runs",
        Some(&admin),
        Some(json!({"tickets": too_many})),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST);
    assert!(queued(&app).is_empty());
    let runs = app
        .call(Method::GET, "/api/sync-runs", Some(&admin), None)
        .await;
    assert_eq!(runs.json["items"], json!([]));
}

#[tokio::test]
async fn starting_needs_an_admin_and_reading_a_login() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    app.call(
        Method::POST,
        "/api/sync-runs",
        Some(&viewer),
        Some(json!({"tickets": [1]})),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    app.call(
        Method::POST,
        "/api/sync-runs",
        None,
        Some(json!({"tickets": [1]})),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED);
    assert!(queued(&app).is_empty());
    for path in [
        "/api/sync-runs",
        "/api/sync-runs/x",
        "/api/sync-runs/export.csv",
    ] {
        app.call(Method::GET, path, None, None)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }
    app.call(Method::GET, "/api/sync-runs/nope", Some(&viewer), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn runs_are_listed_newest_first_filtered_paged_and_exported() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    let start = app.clock.now();
    let mut ids = Vec::new();
    for i in 0..5 {
        let run = app
            .control
            .create_run(
                RunTrigger::Manual,
                &json!({"i": i}),
                start + chrono::Duration::minutes(i),
            )
            .await
            .unwrap();
        if i % 2 == 1 {
            app.control
                .finish_run(
                    &run.id,
                    RunState::Failed,
                    start + chrono::Duration::hours(1),
                )
                .await
                .unwrap();
        }
        ids.push(run.id.0);
    }

    let all = app
        .call(Method::GET, "/api/sync-runs", Some(&viewer), None)
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let listed: Vec<&str> = all.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest_first);

    let failed = app
        .call(
            Method::GET,
            "/api/sync-runs?state=failed",
            Some(&viewer),
            None,
        )
        .await;
    let failed: Vec<&str> = failed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, [ids[3].as_str(), ids[1].as_str()]);

    let from =
        (start + chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let to =
        (start + chrono::Duration::minutes(3)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let ranged = app
        .http
        .get(format!("{}/api/sync-runs", app.base))
        .bearer_auth(&viewer)
        .query(&[("from", from.as_str()), ("to", to.as_str())]);
    let ranged = app.send(ranged).await;
    assert_eq!(ranged.status, StatusCode::OK, "{}", ranged.text);
    let ranged: Vec<&str> = ranged.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ranged, [ids[2].as_str(), ids[1].as_str()]);

    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            None => "/api/sync-runs?limit=2".to_owned(),
            Some(a) => format!("/api/sync-runs?limit=2&after={a}"),
        };
        let page = app.call(Method::GET, &path, Some(&viewer), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for r in page.json["items"].as_array().unwrap() {
            paged.push(r["id"].as_str().unwrap().to_owned());
        }
        match page.json["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, newest_first);

    let csv = app
        .call(
            Method::GET,
            "/api/sync-runs/export.csv?state=failed",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(
        lines[0],
        "id,trigger,state,started_at,finished_at,tickets_queued,tickets_done,created,updated,deleted,adopted,conflicts,failed"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with(&format!("{},manual,failed,", ids[3])));

    for bad in [
        "/api/sync-runs?state=done",
        "/api/sync-runs?limit=0",
        "/api/sync-runs?from=yesterday",
        "/api/sync-runs/export.csv?state=done",
    ] {
        app.call(Method::GET, bad, Some(&viewer), None)
            .await
            .assert_problem(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn a_run_whose_messages_cannot_be_queued_is_failed_and_503() {
    let app = App::start().await;
    let admin = app.admin().await;
    let base = app.serve_with_queue(unreachable_queue().await).await;
    let reply = app
        .send(
            app.http
                .post(format!("{base}/api/sync-runs"))
                .bearer_auth(&admin)
                .json(&json!({"tickets": [11, 12]})),
        )
        .await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.json["detail"].as_str().unwrap().contains("try again"));
    let runs = app
        .control
        .list_runs(&sync_store::PageRequest::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].state, RunState::Failed);
    assert_eq!(runs[0].counters.failed, 2);
    assert_eq!(runs[0].counters.tickets_queued, 0);
}
