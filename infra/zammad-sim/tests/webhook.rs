//! The webhook trigger against a real receiver on loopback: headers, signature, payload, retries.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zammad_sim::webhook::signature;
use zammad_sim::{
    AccountingChange, Dataset, NewAccounting, RunningSim, SimConfig, WebhookConfig, ZammadVersion,
};

const SIGNING_KEY: &str = "hook-secret";

#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    /// Answer 500 to this many requests first.
    failures_left: Arc<Mutex<u32>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.received.lock().unwrap().push(Received { headers, body });
    let mut left = r.failures_left.lock().unwrap();
    if *left > 0 {
        *left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn start_receiver(fail_first: u32) -> (String, Receiver) {
    let receiver = Receiver {
        received: Arc::default(),
        failures_left: Arc::new(Mutex::new(fail_first)),
    };
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, receiver)
}

async fn start_sim(url: &str) -> RunningSim {
    let sim = zammad_sim::serve(
        SimConfig {
            port: 0,
            version: ZammadVersion::V6_5,
        },
        Dataset::demo(),
    )
    .await
    .unwrap();
    sim.sim().set_webhook(Some(WebhookConfig {
        url: url.to_owned(),
        signature_token: Some(SIGNING_KEY.to_owned()),
        trigger_name: "sync time".to_owned(),
        // 10/20/30/40 s become 10/20/30/40 ms.
        time_scale: 1000.0,
    }));
    sim
}

async fn wait_for(receiver: &Receiver, count: usize) -> Vec<Received> {
    for _ in 0..500 {
        if receiver.received.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    receiver.received.lock().unwrap().clone()
}

fn booking(ticket_id: u64, time_unit: &str) -> NewAccounting {
    serde_json::from_value(
        json!({"ticket_id": ticket_id, "created_by_id": 4, "time_unit": time_unit, "type_id": 3}),
    )
    .unwrap()
}

#[tokio::test]
async fn booking_time_posts_a_signed_default_payload() {
    let (url, receiver) = start_receiver(0).await;
    let sim = start_sim(&url).await;
    let created = sim.sim().add_accounting(booking(105, "1.75")).unwrap();

    let received = wait_for(&receiver, 1).await;
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(r.headers["user-agent"], "Zammad User Agent");
    assert_eq!(r.headers["x-zammad-trigger"], "sync time");
    let delivery = r.headers["x-zammad-delivery"].to_str().unwrap();
    assert_eq!(delivery.len(), 36, "a UUID: {delivery}");
    // The signature covers the exact bytes received.
    assert_eq!(
        r.headers["x-hub-signature"].to_str().unwrap(),
        signature(SIGNING_KEY, &r.body)
    );
    assert!(
        r.headers["x-hub-signature"]
            .to_str()
            .unwrap()
            .starts_with("sha1=")
    );

    let payload: Value = serde_json::from_slice(&r.body).unwrap();
    let ticket = &payload["ticket"];
    assert_eq!(ticket["id"], 105);
    assert_eq!(ticket["time_unit"], "331.75", "240 + 60 + 30 + 1.75");
    assert_eq!(ticket["owner"]["login"], "-");
    assert_eq!(ticket["customer"]["email"], "it@stadtwerke.example");
    assert!(
        ticket["customer"].get("preferences").is_none(),
        "private user keys are removed"
    );
    assert_eq!(ticket["organization"]["name"], "Stadtwerke Beispielstadt");
    assert_eq!(ticket["group"]["name"], "Projects");
    assert_eq!(
        ticket["ticket_time_accounting_ids"],
        json!([10, 11, 12, 16])
    );
    let keys: Vec<&String> = ticket.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ticket keys are sorted, as Zammad sends them");

    let article = &payload["article"];
    assert_eq!(article["id"], created["ticket_article_id"]);
    assert_eq!(
        article["accounted_time"], 1,
        "1.75 is truncated to an integer"
    );
    assert_eq!(article["created_by"]["login"], "bkoch");
    sim.shutdown().await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_delivery_id() {
    let (url, receiver) = start_receiver(2).await;
    let sim = start_sim(&url).await;
    sim.sim().add_accounting(booking(101, "30")).unwrap();
    let received = wait_for(&receiver, 3).await;
    assert_eq!(received.len(), 3, "two failures, then success");
    let ids: Vec<_> = received
        .iter()
        .map(|r| r.headers["x-zammad-delivery"].clone())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one job, one delivery id: {ids:?}"
    );
    assert!(received.iter().all(|r| r.body == received[0].body));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        receiver.received.lock().unwrap().len(),
        3,
        "no attempt after a success"
    );
    let log = sim.sim().deliveries();
    let statuses: Vec<Option<u16>> = log.iter().map(|d| d.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(500), Some(200)]);
    sim.shutdown().await;
}

#[tokio::test]
async fn delivery_gives_up_after_five_attempts() {
    let (url, receiver) = start_receiver(100).await;
    let sim = start_sim(&url).await;
    sim.sim().add_accounting(booking(101, "30")).unwrap();
    // Waits 10 + 20 + 30 + 40 ms between the five attempts.
    let received = wait_for(&receiver, 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(received.len(), 5);
    assert_eq!(
        receiver.received.lock().unwrap().len(),
        5,
        "no sixth attempt"
    );
    let attempts: Vec<u32> = sim.sim().deliveries().iter().map(|d| d.attempt).collect();
    assert_eq!(attempts, vec![1, 2, 3, 4, 5]);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_type_only_change_fires_nothing_but_a_sum_change_does() {
    let (url, receiver) = start_receiver(0).await;
    let sim = start_sim(&url).await;
    let type_only = AccountingChange {
        time_unit: None,
        type_id: Some(Some(2)),
    };
    sim.sim().change_accounting(1, type_only).unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        receiver.received.lock().unwrap().is_empty(),
        "type-only edits do not touch the ticket"
    );

    let sum_change = AccountingChange {
        time_unit: Some("20".parse().unwrap()),
        type_id: None,
    };
    sim.sim().change_accounting(1, sum_change).unwrap();
    let received = wait_for(&receiver, 1).await;
    assert_eq!(received.len(), 1);
    let payload: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(payload["ticket"]["time_unit"], "62.5");
    assert_eq!(
        payload["article"],
        json!({}),
        "no article belongs to an edit"
    );

    sim.sim().delete_accounting(2).unwrap();
    let received = wait_for(&receiver, 2).await;
    assert_eq!(received.len(), 2, "a delete moves the sum too");
    let payload: Value = serde_json::from_slice(&received[1].body).unwrap();
    assert_eq!(payload["ticket"]["time_unit"], "32.5");
    sim.shutdown().await;
}

#[tokio::test]
async fn without_a_signature_token_there_is_no_signature_header() {
    let (url, receiver) = start_receiver(0).await;
    let sim = start_sim(&url).await;
    sim.sim().set_webhook(Some(WebhookConfig {
        url,
        signature_token: None,
        trigger_name: "t".into(),
        time_scale: 1000.0,
    }));
    sim.sim().add_accounting(booking(101, "5")).unwrap();
    let received = wait_for(&receiver, 1).await;
    assert_eq!(received.len(), 1);
    assert!(received[0].headers.get("x-hub-signature").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn webhook_is_configured_over_the_admin_api() {
    let (url, receiver) = start_receiver(0).await;
    let sim = zammad_sim::serve(
        SimConfig {
            port: 0,
            version: ZammadVersion::V6_5,
        },
        Dataset::demo(),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let base = sim.base_url();
    let response = http
        .put(format!("{base}/__admin/webhook"))
        .json(&json!({"url": url, "signature_token": SIGNING_KEY, "time_scale": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = http
        .post(format!("{base}/__admin/accountings"))
        .json(&json!({"ticket_id": 104, "created_by_id": 5, "time_unit": "-5"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let received = wait_for(&receiver, 1).await;
    assert_eq!(received.len(), 1);
    let payload: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(payload["article"]["accounted_time"], -5);
    assert_eq!(
        received[0].headers["x-zammad-trigger"],
        "time accounting changed"
    );
    let deliveries: Value = http
        .get(format!("{base}/__admin/webhook/deliveries"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deliveries[0]["status"], 200);
    http.delete(format!("{base}/__admin/webhook"))
        .send()
        .await
        .unwrap();
    sim.sim().add_accounting(booking(101, "5")).unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        receiver.received.lock().unwrap().len(),
        1,
        "no webhook once removed"
    );
    sim.shutdown().await;
}
