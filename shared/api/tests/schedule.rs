//! Schedule: cron (EventBridge six fields or the common five), zone, enabled, concurrency in
//! the fetch policy, and the next runs in the zone.

mod support;

use chrono::{DateTime, Offset, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::*;
use sync_store::clock::Clock;
use sync_store::control::{ControlStore, DocumentKind, ExpectedVersion};
use sync_store::schedule::{ScheduleSettings, ScheduleStore};

#[tokio::test]
async fn a_schedule_is_written_through_the_store_and_read_back_with_next_runs() {
    let app = App::start().await;
    let admin = app.admin().await;
    // The fetch policy has other fields; they survive the concurrency edit.
    app.control
        .put_document(
            DocumentKind::Policy,
            "fetch",
            &json!({"overlap_minutes": 20}),
            ExpectedVersion::New,
            app.clock.now(),
        )
        .await
        .unwrap();
    let empty = app
        .call(Method::GET, "/api/schedule", Some(&admin), None)
        .await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert_eq!(empty.json["configured"], false);
    assert_eq!(empty.json["concurrency"], "skip");

    let reply = app
        .call(
            Method::PUT,
            "/api/schedule",
            Some(&admin),
            Some(json!({
                "cron": "*/15 7-18 * * 1-5",
                "time_zone": "Europe/Berlin",
                "enabled": true,
                "concurrency": "queue"
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["cron"], "*/15 7-18 ? * 2-6 *");
    assert_eq!(
        app.schedule.get_schedule().await.unwrap(),
        Some(ScheduleSettings {
            cron: "*/15 7-18 ? * 2-6 *".into(),
            time_zone: "Europe/Berlin".into(),
            enabled: true,
        })
    );
    let fetch = app
        .control
        .get_document(DocumentKind::Policy, "fetch")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        fetch.body,
        json!({"overlap_minutes": 20, "concurrency": "queue"})
    );
    // The pipeline reads what the console wrote.
    let settings = sync_service::settings::load_fetch(app.control.as_ref())
        .await
        .unwrap();
    assert_eq!(
        settings.concurrency,
        sync_service::settings::ConcurrencyPolicy::Queue
    );

    let viewer = app.viewer().await;
    let read = app
        .call(Method::GET, "/api/schedule", Some(&viewer), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json["concurrency"], "queue");
    let runs: Vec<DateTime<chrono::FixedOffset>> = read.json["next_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| DateTime::parse_from_rfc3339(r.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(runs.len(), 3);
    let zone: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let now = app.clock.now();
    for (i, run) in runs.iter().enumerate() {
        assert!(run.with_timezone(&Utc) > now);
        let local = run.with_timezone(&zone);
        // Shown in the zone's own offset, on a weekday between 07:00 and 18:45.
        assert_eq!(
            run.offset().local_minus_utc(),
            local.offset().fix().local_minus_utc()
        );
        assert!((7..=18).contains(&chrono::Timelike::hour(&local)));
        assert_eq!(chrono::Timelike::minute(&local) % 15, 0);
        assert!(chrono::Datelike::weekday(&local).number_from_monday() <= 5);
        if i > 0 {
            assert!(run > &runs[i - 1]);
        }
    }

    let audit = app.audit_records().await;
    let update = audit
        .iter()
        .find(|r| r.event.action == "schedule.update")
        .expect("audited");
    assert_eq!(update.event.actor, ADMIN);
    assert_eq!(update.event.detail["cron"], "*/15 7-18 ? * 2-6 *");

    // Disabled: stored as such, no next runs; an omitted concurrency stays.
    let off = app
        .call(
            Method::PUT,
            "/api/schedule",
            Some(&admin),
            Some(json!({"cron": "0 6 ? * MON-FRI *", "time_zone": "UTC", "enabled": false})),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert_eq!(off.json["enabled"], false);
    assert_eq!(off.json["next_runs"], json!([]));
    assert_eq!(off.json["concurrency"], "queue");
    assert!(!app.schedule.get_schedule().await.unwrap().unwrap().enabled);
}

#[tokio::test]
async fn next_runs_cross_a_dst_change_in_the_zone() {
    let app = App::start().await;
    // Move the clock to the Friday before the 2027 spring change in Berlin (28 March).
    let target: DateTime<Utc> = "2027-03-26T12:00:00Z".parse().unwrap();
    app.clock.advance(target - app.clock.now());
    let admin = app.admin().await;
    let reply = app
        .call(
            Method::PUT,
            "/api/schedule",
            Some(&admin),
            Some(json!({"cron": "0 9 * * *", "time_zone": "Europe/Berlin", "enabled": true})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json["next_runs"],
        json!([
            "2027-03-27T09:00:00+01:00",
            "2027-03-28T09:00:00+02:00",
            "2027-03-29T09:00:00+02:00"
        ])
    );
}

#[tokio::test]
async fn bad_schedules_are_400_per_field_and_change_nothing() {
    let app = App::start().await;
    let admin = app.admin().await;
    let cases: &[(Value, &str)] = &[
        (
            json!({"cron": "0 6 * *", "time_zone": "UTC", "enabled": true}),
            "cron",
        ),
        (
            json!({"cron": "0 25 * * *", "time_zone": "UTC", "enabled": true}),
            "cron",
        ),
        (
            json!({"cron": "0 6 1 * 1", "time_zone": "UTC", "enabled": true}),
            "cron",
        ),
        (
            json!({"cron": "0 6 1 * MON *", "time_zone": "UTC", "enabled": true}),
            "cron",
        ),
        (
            json!({"cron": "0 6 * * *", "time_zone": "Europe/Atlantis", "enabled": true}),
            "time_zone",
        ),
        (
            json!({"cron": "0 6 * * *", "time_zone": "UTC", "enabled": true, "concurrency": "wait"}),
            "concurrency",
        ),
        (
            // Who is told lives on the Notifications page now (policy/notifications).
            json!({"cron": "0 6 * * *", "time_zone": "UTC", "enabled": true,
                   "notifications": {"on_failure": true}}),
            "body",
        ),
        (json!({"cron": "0 6 * * *", "time_zone": "UTC"}), "body"),
        (
            json!({"cron": "0 6 * * *", "time_zone": "UTC", "enabled": true, "extra": 1}),
            "body",
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .call(
                Method::PUT,
                "/api/schedule",
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
    assert_eq!(app.schedule.get_schedule().await.unwrap(), None);
    assert!(
        app.control
            .get_document(DocumentKind::Policy, "fetch")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_schedule_needs_a_login_and_changes_need_an_admin() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    let body = json!({"cron": "0 6 * * *", "time_zone": "UTC", "enabled": true});
    app.call(
        Method::PUT,
        "/api/schedule",
        Some(&viewer),
        Some(body.clone()),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    app.call(Method::PUT, "/api/schedule", None, Some(body))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    app.call(Method::GET, "/api/schedule", None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(app.schedule.get_schedule().await.unwrap(), None);
}
