//! Dead letters: listed from their records without touching the queues, replayed one or all
//! to the source queue, audited; a source queue that is down loses nothing.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;
use sync_core::ids::TicketId;
use sync_store::clock::Clock;
use sync_store::control::{ControlStore, DeadLetterRecord};
use sync_store::queue::{MessageQueue, SyncReason, TicketSyncMessage};

/// What the consumers leave behind when messages fail their last delivery: the message in the
/// DLQ (SQS keeps its id) and its record.
async fn dead(app: &App, queue: &str, id: &str, body: &str, minute: i64) {
    let record = DeadLetterRecord {
        queue: queue.into(),
        message_id: id.into(),
        body: body.into(),
        error: format!("failed {minute}"),
        failed_at: app.clock.now() + chrono::Duration::minutes(minute),
    };
    app.control.put_dead_letter(&record).await.unwrap();
}

async fn fill(app: &App) {
    for (i, t) in [101, 102, 103].into_iter().enumerate() {
        let message = TicketSyncMessage::new(TicketId(t), SyncReason::Webhook, None);
        let id = app.ticket_sync_dlq.send(&message).await.unwrap();
        let body = sync_store::queue::encode(&message);
        dead(app, "ticket-sync", &id, &body, i as i64).await;
    }
    let body = "{\"schema_version\":7}";
    let id = app.kimai_write_dlq.send_raw(body).await.unwrap();
    dead(app, "kimai-write", &id, body, 0).await;
}

#[tokio::test]
async fn listing_shows_both_queues_and_consumes_nothing() {
    let app = App::start().await;
    fill(&app).await;
    // Died on a delivery that crashed: in the queue, without a record.
    app.ticket_sync_dlq
        .send(&TicketSyncMessage::new(
            TicketId(104),
            SyncReason::Webhook,
            None,
        ))
        .await
        .unwrap();
    let viewer = app.viewer().await;
    for _ in 0..2 {
        let reply = app
            .call(Method::GET, "/api/dead-letters", Some(&viewer), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let items = reply.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(reply.json["truncated"], false);
        let sync: Vec<_> = items
            .iter()
            .filter(|i| i["queue"] == "ticket-sync")
            .collect();
        assert_eq!(sync.len(), 3);
        assert_eq!(sync[0]["ticket_id"], 101);
        assert_eq!(sync[0]["kind"], "webhook");
        assert!(sync[0]["decode_error"].is_null());
        assert_eq!(sync[0]["error"], "failed 0", "why it died");
        assert!(sync[0]["failed_at"].is_string());
        let write = items.iter().find(|i| i["queue"] == "kimai-write").unwrap();
        assert_eq!(write["body"], "{\"schema_version\":7}");
        assert!(write["decode_error"].as_str().unwrap().contains("version"));
        // The queues' counts: one ticket-sync message died without a record.
        assert_eq!(
            reply.json["in_queues"],
            json!({"ticket_sync": 4, "kimai_write": 1})
        );
    }
    // Read, never received: nothing hidden, no delivery counted.
    assert_eq!(app.ticket_sync_dlq.receives(), 0);
    assert_eq!(app.kimai_write_dlq.receives(), 0);
    assert_eq!(app.ticket_sync_dlq.waiting_bodies().len(), 4);
    assert_eq!(app.kimai_write_dlq.waiting_bodies().len(), 1);
}

#[tokio::test]
async fn replay_one_then_all_moves_bodies_unchanged_and_is_audited() {
    let app = App::start().await;
    fill(&app).await;
    let admin = app.admin().await;
    let listed = app
        .call(Method::GET, "/api/dead-letters", Some(&admin), None)
        .await;
    let first = listed.json["items"][0].clone();
    let id = first["message_id"].as_str().unwrap();

    let one = app
        .call(
            Method::POST,
            "/api/dead-letters/ticket-sync/replay",
            Some(&admin),
            Some(json!({"message_id": id})),
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.json["replayed"], json!([id]));
    assert_eq!(
        app.ticket_sync.waiting_bodies(),
        [first["body"].as_str().unwrap()]
    );
    assert_eq!(app.ticket_sync_dlq.waiting_bodies().len(), 2);

    // Gone now: 404, nothing moved.
    let again = app
        .call(
            Method::POST,
            "/api/dead-letters/ticket-sync/replay",
            Some(&admin),
            Some(json!({"message_id": id})),
        )
        .await;
    again.assert_problem(StatusCode::NOT_FOUND);

    let all = app
        .call(
            Method::POST,
            "/api/dead-letters/kimai-write/replay",
            Some(&admin),
            Some(json!({"all": true})),
        )
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json["replayed"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.kimai_write.waiting_bodies(),
        ["{\"schema_version\":7}"],
        "an undecodable body is replayed as it was"
    );
    assert!(app.kimai_write_dlq.waiting_bodies().is_empty());

    let audit: Vec<_> = app
        .audit_records()
        .await
        .into_iter()
        .filter(|r| r.event.action == "dead_letter.replay")
        .collect();
    assert_eq!(audit.len(), 2);
    assert!(
        audit
            .iter()
            .any(|r| r.event.detail["queue"] == "kimai-write"
                && r.event.detail["selection"] == "all")
    );
    assert!(
        audit
            .iter()
            .any(|r| r.event.detail["replayed"] == json!([id]))
    );
}

#[tokio::test]
async fn replay_validation_roles_and_unknown_queues() {
    let app = App::start().await;
    fill(&app).await;
    let admin = app.admin().await;
    let viewer = app.viewer().await;
    for (body, field) in [
        (json!({}), "message_id"),
        (json!({"message_id": "m-1", "all": true}), "message_id"),
        (json!({"message_id": "bad id/../x"}), "message_id"),
        (json!({"message_id": ""}), "message_id"),
        (json!({"every": true}), "body"),
    ] {
        let reply = app
            .call(
                Method::POST,
                "/api/dead-letters/ticket-sync/replay",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(reply.error_fields(), [field], "{body}: {}", reply.text);
    }
    let reply = app
        .call(
            Method::POST,
            "/api/dead-letters/other-queue/replay",
            Some(&admin),
            Some(json!({"all": true})),
        )
        .await;
    reply.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_fields(), ["path"]);
    app.call(
        Method::POST,
        "/api/dead-letters/ticket-sync/replay",
        Some(&viewer),
        Some(json!({"all": true})),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    app.call(
        Method::POST,
        "/api/dead-letters/ticket-sync/replay",
        None,
        Some(json!({"all": true})),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED);
    app.call(Method::GET, "/api/dead-letters", Some("not.a.token"), None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.ticket_sync_dlq.waiting_bodies().len(),
        3,
        "nothing moved"
    );
    assert!(app.ticket_sync.waiting_bodies().is_empty());
}

#[tokio::test]
async fn a_source_queue_that_is_down_loses_nothing() {
    let app = App::start().await;
    fill(&app).await;
    let admin = app.admin().await;
    let mut state = app.state.clone();
    state.ticket_sync = unreachable_queue().await;
    let base = serve_state(state).await;
    let reply = app
        .send(
            app.http
                .post(format!("{base}/api/dead-letters/ticket-sync/replay"))
                .bearer_auth(&admin)
                .json(&json!({"all": true})),
        )
        .await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.ticket_sync_dlq.waiting_bodies().len(),
        3,
        "every dead letter is still in the DLQ"
    );
    let audit = app.audit_records().await;
    let replay = audit
        .iter()
        .find(|r| r.event.action == "dead_letter.replay")
        .expect("the attempt is audited");
    assert_eq!(replay.event.detail["failed"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_unreachable_dlq_is_a_503() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    let mut state = app.state.clone();
    state.dead_letters.kimai_write = std::sync::Arc::new(unreachable().await);
    let base = serve_state(state).await;
    let reply = app
        .send(
            app.http
                .get(format!("{base}/api/dead-letters"))
                .bearer_auth(&viewer),
        )
        .await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_replay_drops_the_record_and_a_record_without_its_message_replays_from_its_body() {
    let app = App::start().await;
    fill(&app).await;
    // Failed its last delivery, not moved to the DLQ yet: only the record exists.
    let body = sync_store::queue::encode(&TicketSyncMessage::new(
        TicketId(105),
        SyncReason::Webhook,
        None,
    ));
    dead(&app, "ticket-sync", "m-on-its-way", &body, 9).await;
    let admin = app.admin().await;
    let before = listed(&app, &admin).await;
    assert_eq!(before.len(), 5);

    let reply = app
        .call(
            Method::POST,
            "/api/dead-letters/ticket-sync/replay",
            Some(&admin),
            Some(json!({"message_id": "m-on-its-way"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["replayed"], json!(["m-on-its-way"]));
    assert_eq!(app.ticket_sync.waiting_bodies(), [body]);

    let reply = app
        .call(
            Method::POST,
            "/api/dead-letters/ticket-sync/replay",
            Some(&admin),
            Some(json!({"all": true})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["replayed"].as_array().unwrap().len(), 3);
    let after = listed(&app, &admin).await;
    assert_eq!(after.len(), 1, "only kimai-write's is left: {after:?}");
    assert!(app.ticket_sync_dlq.waiting_bodies().is_empty());
}

async fn listed(app: &App, token: &str) -> Vec<String> {
    let reply = app
        .call(Method::GET, "/api/dead-letters", Some(token), None)
        .await;
    reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["message_id"].as_str().unwrap().to_owned())
        .collect()
}
