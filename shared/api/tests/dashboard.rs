//! KPIs and the detailed health check.

mod support;

use chrono::{Days, Duration};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;
use sync_core::desired::EntryKey;
use sync_core::ids::{AccountingId, TicketId};
use sync_core::plan::{Conflict, ConflictReason};
use sync_store::clock::Clock;
use sync_store::conflicts::{ConflictId, ConflictsStore};
use sync_store::control::{ControlStore, RunCounters, RunTrigger};
use sync_store::entries::{EntriesStore, EntryRecord, EntryStatus};

fn conflict(ticket: u64) -> Conflict {
    Conflict {
        key: EntryKey::for_accounting(AccountingId(ticket)),
        ticket_id: TicketId(ticket),
        reason: ConflictReason::BothChanged,
        detail: "both changed".into(),
        desired: None,
        base: None,
        kimai: None,
        candidates: vec![],
        subject: None,
    }
}

#[tokio::test]
async fn kpis_count_conflicts_minutes_runs_and_errors() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    let now = app.clock.now();
    let today = now.date_naive();
    let empty = app
        .call(Method::GET, "/api/kpis", Some(&viewer), None)
        .await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert_eq!(empty.json["open_conflicts"], 0);
    assert!(empty.json["last_run"].is_null());
    assert!(empty.json["error_rate"]["rate"].is_null());
    assert_eq!(empty.json["minutes_per_day"].as_array().unwrap().len(), 30);

    for t in 1..=3 {
        app.conflicts
            .open(&ConflictId(format!("k{t}")), &conflict(t), now)
            .await
            .unwrap();
    }
    // 45 minutes synced today and 6 days ago, 45 synced 20 days ago; pending ones do not count.
    for (ticket, back, status) in [
        (1, 0, EntryStatus::Synced),
        (2, 6, EntryStatus::Synced),
        (3, 20, EntryStatus::Synced),
        (4, 0, EntryStatus::Pending),
        (5, 40, EntryStatus::Synced),
    ] {
        let day = today.checked_sub_days(Days::new(back)).unwrap();
        let record: EntryRecord = entry_record(ticket, ticket, 5, day, status, now);
        app.entries.save(&record).await.unwrap();
    }
    // Runs of 9 days ago (outside the window), 2 days ago and an hour ago, newest last.
    let mut newest = String::new();
    for (back, created, failed) in [
        (Duration::days(9), 100, 100),
        (Duration::days(2), 7, 1),
        (Duration::hours(1), 2, 0),
    ] {
        let run = app
            .control
            .create_run(RunTrigger::Schedule, &json!({}), now - back)
            .await
            .unwrap();
        app.control
            .add_to_run(
                &run.id,
                &RunCounters {
                    created,
                    failed,
                    ..RunCounters::default()
                },
            )
            .await
            .unwrap();
        newest = run.id.0;
    }

    let k = app
        .call(Method::GET, "/api/kpis", Some(&viewer), None)
        .await;
    assert_eq!(k.status, StatusCode::OK, "{}", k.text);
    assert_eq!(k.json["open_conflicts"], 3);
    assert_eq!(k.json["open_conflicts_capped"], false);
    let days = k.json["minutes_per_day"].as_array().unwrap();
    assert_eq!(days.last().unwrap()["day"], today.to_string());
    assert_eq!(days.last().unwrap()["minutes"], 45.0);
    assert_eq!(days[0]["day"], (today - Days::new(29)).to_string());
    assert_eq!(k.json["minutes_7d"], 90.0);
    assert_eq!(k.json["minutes_30d"], 135.0);
    assert_eq!(k.json["last_run"]["id"], newest);
    let rate = &k.json["error_rate"];
    assert_eq!(
        rate["runs"], 2,
        "the run of 9 days ago is outside the window"
    );
    assert_eq!(rate["failed"], 1);
    assert_eq!(rate["processed"], 10);
    assert_eq!(rate["rate"], 0.1);

    app.call(Method::GET, "/api/kpis", None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_details_reports_each_part_and_never_fails() {
    let app = App::start().await;
    let admin = app.admin().await;
    let viewer = app.viewer().await;

    let unconfigured = app
        .call(Method::GET, "/api/health/details", Some(&viewer), None)
        .await;
    assert_eq!(unconfigured.status, StatusCode::OK, "{}", unconfigured.text);
    assert_eq!(unconfigured.json["status"], "degraded");
    assert_eq!(unconfigured.json["store"]["status"], "ok");
    assert_eq!(unconfigured.json["zammad"]["status"], "not_configured");
    assert_eq!(unconfigured.json["kimai"]["status"], "not_configured");

    app.configure(&admin).await;
    let healthy = app
        .call(Method::GET, "/api/health/details", Some(&viewer), None)
        .await;
    assert_eq!(healthy.json["status"], "ok", "{}", healthy.text);
    for part in ["store", "zammad", "kimai"] {
        assert_eq!(healthy.json[part]["status"], "ok", "{part}");
        assert!(healthy.json[part]["latency_ms"].is_u64(), "{part}");
    }

    // Kimai goes away: reported, still a 200.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let put = app
        .call(
            Method::PUT,
            "/api/connections/kimai",
            Some(&admin),
            Some(json!({"base_url": gone, "token": KIMAI_TOKEN})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let down = app
        .call(Method::GET, "/api/health/details", Some(&viewer), None)
        .await;
    assert_eq!(down.status, StatusCode::OK);
    assert_eq!(down.json["status"], "degraded");
    assert_eq!(down.json["zammad"]["status"], "ok");
    assert_eq!(down.json["kimai"]["status"], "unavailable");
    assert!(down.json["kimai"]["detail"].is_string());

    app.call(Method::GET, "/api/health/details", None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    // The public health check keeps its shape.
    let public = app.call(Method::GET, "/api/health", None, None).await;
    assert_eq!(public.json, json!({"status": "ok", "store": "ok"}));
}

#[tokio::test]
async fn health_details_show_a_kimai_outage_with_the_messages_waiting_for_it() {
    let app = App::start().await;
    let admin = app.admin().await;
    let viewer = app.viewer().await;
    app.configure(&admin).await;
    let quiet = app
        .call(Method::GET, "/api/health/details", Some(&viewer), None)
        .await;
    assert_eq!(quiet.json["kimai_outage"], serde_json::Value::Null);

    // The functions found Kimai unreachable: two records wait, one of them delayed.
    let since = app.clock.now() - Duration::minutes(40);
    app.control
        .record_outage("kimai", since, "Kimai answered 503 (server error)")
        .await
        .unwrap();
    app.control
        .record_outage(
            "kimai",
            since + Duration::minutes(39),
            "Kimai answered 502 (server error)",
        )
        .await
        .unwrap();
    let waiting = sync_store::queue::TicketSyncMessage::new(
        TicketId(5),
        sync_store::queue::SyncReason::Webhook,
        None,
    );
    use sync_store::queue::MessageQueue;
    app.ticket_sync.send(&waiting).await.unwrap();
    app.ticket_sync
        .send_delayed(&waiting, std::time::Duration::from_secs(600))
        .await
        .unwrap();
    let down = app
        .call(Method::GET, "/api/health/details", Some(&viewer), None)
        .await;
    assert_eq!(down.status, StatusCode::OK);
    assert_eq!(down.json["status"], "degraded", "{}", down.text);
    let outage = &down.json["kimai_outage"];
    assert_eq!(
        outage["since"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        since
    );
    assert_eq!(outage["detail"], "Kimai answered 502 (server error)");
    assert_eq!(outage["messages_waiting"], 2);

    // Kimai answers a record again: the outage is over.
    app.control.end_outage("kimai").await.unwrap();
    let back = app
        .call(Method::GET, "/api/health/details", Some(&viewer), None)
        .await;
    assert_eq!(back.json["kimai_outage"], serde_json::Value::Null);
    assert_eq!(back.json["status"], "ok", "{}", back.text);
}

#[tokio::test]
async fn the_dashboards_today_is_the_service_desks_day_not_utcs() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await; // default zone Europe/Berlin
    // Move the clock to 23:30 UTC: already tomorrow in Berlin.
    let now = app.clock.now();
    let late = now.date_naive().and_hms_opt(23, 30, 0).unwrap().and_utc();
    let ahead = if late > now {
        late - now
    } else {
        late + Duration::days(1) - now
    };
    app.clock.advance(ahead);
    // Up to a day later: the first login's token may have expired meanwhile.
    let admin = app.admin().await;
    let utc_day = app.clock.now().date_naive();
    let k = app.call(Method::GET, "/api/kpis", Some(&admin), None).await;
    assert_eq!(k.status, StatusCode::OK, "{}", k.text);
    let days = k.json["minutes_per_day"].as_array().unwrap();
    assert_eq!(
        days.last().unwrap()["day"],
        (utc_day + Days::new(1)).to_string(),
        "Berlin's today"
    );
}
