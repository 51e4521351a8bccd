//! "Send a test event": an admin's test event goes through the bus like the real ones, is
//! audited, and a bus that refuses it is the answer; a viewer may not send one.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

#[tokio::test]
async fn an_admin_sends_a_test_event_through_the_bus_and_it_is_audited() {
    let app = App::start().await;
    let admin = app.admin().await;
    let reply = app
        .call(Method::POST, "/api/notifications/test", Some(&admin), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["detail_type"], "Notification Test");
    let sent = app.bus.of_type("Notification Test");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].detail["sent_by"], ADMIN);
    assert_eq!(sent[0].detail["summary"], reply.json["summary"]);
    assert!(
        sync_service::events::NOTIFIED.contains(&"Notification Test"),
        "the notification rules deliver it"
    );
    let audited = app.audit_records().await;
    assert!(
        audited
            .iter()
            .any(|r| r.event.action == "notification.test")
    );
}

#[tokio::test]
async fn a_bus_that_refuses_the_test_event_is_a_503_and_a_viewer_may_not_send_one() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    app.call(Method::POST, "/api/notifications/test", Some(&viewer), None)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let admin = app.admin().await;
    app.bus.fail(true);
    app.call(Method::POST, "/api/notifications/test", Some(&admin), None)
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(app.bus.published().is_empty());
}

#[tokio::test]
async fn an_admin_mutes_a_type_and_the_next_event_of_it_is_not_for_people() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    let read = app
        .call(Method::GET, "/api/notifications", Some(&viewer), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json["version"], 0);
    assert_eq!(read.json["backlog_threshold"], 25);
    let types = read.json["types"].as_array().unwrap();
    assert_eq!(types.len(), sync_service::events::NOTIFIED.len());
    assert!(types.iter().all(|t| t["notified"] == true));
    let body = json!({"backlog_threshold": 5, "muted": ["Notification Test"]});
    app.call(Method::PUT, "/api/notifications", Some(&viewer), Some(body))
        .await
        .assert_problem(StatusCode::FORBIDDEN);

    let admin = app.admin().await;
    let refused = app
        .call(
            Method::PUT,
            "/api/notifications",
            Some(&admin),
            Some(json!({"backlog_threshold": 5, "muted": ["Notification Test", "Nope"]})),
        )
        .await;
    refused.assert_problem(StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = refused.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["muted[0]", "muted[1]"]);

    let saved = app
        .send(
            app.request(Method::PUT, "/api/notifications", Some(&admin))
                .header("if-match", "0")
                .json(&json!({"backlog_threshold": 5, "muted": ["Conflict Opened"]})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(saved.json["version"], 1);
    let conflict = saved.json["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["detail_type"] == "Conflict Opened")
        .unwrap();
    assert_eq!(conflict["notified"], false);
    // The pipeline reads what the console wrote.
    let stored = sync_service::settings::load_notifications(app.control.as_ref())
        .await
        .unwrap();
    assert_eq!(stored.backlog_threshold, 5);
    assert_eq!(stored.muted, ["Conflict Opened"]);
    // A second edit from the same stale read is a conflict.
    app.send(
        app.request(Method::PUT, "/api/notifications", Some(&admin))
            .header("if-match", "0")
            .json(&json!({"backlog_threshold": 9})),
    )
    .await
    .assert_problem(StatusCode::CONFLICT);
    let audited = app.audit_records().await;
    let update = audited
        .iter()
        .find(|r| r.event.action == "notifications.update")
        .expect("audited");
    assert_eq!(update.event.detail["muted"], json!(["Conflict Opened"]));
}
