//! "Send a test event": an admin's test event goes through the bus like the real ones, is
//! audited, and a bus that refuses it is the answer; a viewer may not send one.

mod support;

use reqwest::{Method, StatusCode};
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
