//! The Zammad simulator's real trigger posting to ingest over HTTP on loopback: the signature
//! Zammad computes over its exact bytes verifies, a failed enqueue is retried by Zammad with
//! the same delivery id and then goes through once, and a trigger with another token is refused.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use sync_service::ingest::{IngestDeps, WebhookRequest, ingest};
use sync_store::audit::AuditRetention;
use sync_store::aws::SqsQueue;
use sync_store::clock::SystemClock;
use sync_store::memory::{MemoryAuditLog, MemoryControl, MemoryQueue, MemorySecrets};
use sync_store::queue::{MessageQueue, TicketSyncMessage, decode};
use test_support::datasets;
use test_support::sims;
use test_support::stores::audit_today;
use zammad_sim::{DeliveryAttempt, NewAccounting, RunningSim, WebhookConfig, ZammadVersion};

const SECRET: &str = "trigger-token";

/// Stands in for API Gateway: hands the raw request to `ingest`, like the Lambda handler does.
struct Receiver {
    control: MemoryControl,
    queue: MemoryQueue<TicketSyncMessage>,
    down_queue: SqsQueue<TicketSyncMessage>,
    audit: MemoryAuditLog,
    secrets: MemorySecrets,
    clock: SystemClock,
    /// The next N requests find the queue unreachable.
    fail_next: AtomicU32,
}

async fn receive(
    State(r): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let queue_down = r
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let queue: &dyn MessageQueue<TicketSyncMessage> =
        if queue_down { &r.down_queue } else { &r.queue };
    let deps = IngestDeps {
        control: &r.control,
        queue,
        audit: &r.audit,
        secrets: &r.secrets,
        secret_id: "webhook",
        clock: &r.clock,
        rejections: &sync_service::ingest::RejectionSampler::default(),
    };
    let request = WebhookRequest {
        headers: headers
            .iter()
            .filter_map(|(n, v)| Some((n.to_string(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: Some(String::from_utf8(body.to_vec()).expect("Zammad sends UTF-8 JSON")),
        source_ip: Some("127.0.0.1".into()),
        ..Default::default()
    };
    let answer = ingest(&deps, &request).await.response(None);
    (StatusCode::from_u16(answer.status).unwrap(), answer.body)
}

async fn start_receiver() -> (Arc<Receiver>, String) {
    let secrets = MemorySecrets::new();
    secrets.set("webhook", SECRET);
    let receiver = Arc::new(Receiver {
        control: MemoryControl::new(),
        queue: MemoryQueue::new(),
        down_queue: test_support::aws::unreachable_queue("ticket-sync"),
        audit: MemoryAuditLog::new(AuditRetention::default()),
        secrets,
        clock: SystemClock,
        fail_next: AtomicU32::new(0),
    });
    let app = Router::new()
        .route("/webhooks/zammad", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/zammad", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, url)
}

async fn start_sim(url: &str, token: &str) -> RunningSim {
    let sim = sims::zammad(ZammadVersion::V6_5, datasets::zammad::demo()).await;
    sim.sim().set_webhook(Some(WebhookConfig {
        url: url.to_owned(),
        signature_token: Some(token.to_owned()),
        trigger_name: "time changed".into(),
        // 10/20/30/40 s between attempts become 10/20/30/40 ms.
        time_scale: 1000.0,
    }));
    sim
}

fn book(sim: &RunningSim, ticket: u64) {
    sim.sim()
        .add_accounting(NewAccounting {
            ticket_id: ticket,
            created_by_id: 4,
            time_unit: Decimal::from(20),
            type_id: None,
            with_article: true,
            article_body: Some("Remote session".into()),
            created_at: None,
        })
        .unwrap();
}

/// Waits until the simulator's deliveries satisfy `done`.
async fn deliveries_until(
    sim: &RunningSim,
    done: impl Fn(&[DeliveryAttempt]) -> bool,
) -> Vec<DeliveryAttempt> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let seen = sim.sim().deliveries();
        if done(&seen) {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries so far: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn zammads_retry_after_a_failed_enqueue_is_queued_exactly_once() {
    let (receiver, url) = start_receiver().await;
    receiver.fail_next.store(1, Ordering::SeqCst);
    let sim = start_sim(&url, SECRET).await;

    book(&sim, 101);
    let seen = deliveries_until(&sim, |d| d.iter().any(|a| a.status == Some(202))).await;
    assert_eq!(
        seen.iter().map(|a| a.status).collect::<Vec<_>>(),
        vec![Some(503), Some(202)]
    );
    assert_eq!(
        seen[0].delivery_id, seen[1].delivery_id,
        "a retry of one delivery"
    );

    let queued: Vec<TicketSyncMessage> = receiver
        .queue
        .waiting_bodies()
        .iter()
        .map(|b| decode(b).unwrap())
        .collect();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].ticket_id.0, 101);
    let audit = audit_today(&receiver.audit).await;
    assert!(audit.iter().any(|r| r.event.action == "webhook.failed"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_trigger_with_another_token_is_refused_on_every_attempt() {
    let (receiver, url) = start_receiver().await;
    let sim = start_sim(&url, "someone-elses-token").await;

    book(&sim, 103);
    let seen = deliveries_until(&sim, |d| d.len() == 5).await;
    assert!(seen.iter().all(|a| a.status == Some(401)), "{seen:?}");
    assert!(receiver.queue.waiting_bodies().is_empty());
    let audit = audit_today(&receiver.audit).await;
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.event.detail["reason"] == "signature_mismatch")
            .count(),
        5
    );
    sim.shutdown().await;
}
