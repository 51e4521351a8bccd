//! The webhook-ingest handler on API Gateway (payload 2.0) events we wrote by hand, with the in-memory ports.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::encodings::Body;
use sync_service::ingest::IngestDeps;
use sync_store::audit::AuditRetention;
use sync_store::clock::SystemClock;
use sync_store::memory::{MemoryAuditLog, MemoryControl, MemoryQueue, MemorySecrets};
use sync_store::queue::{SyncReason, TicketSyncMessage, decode};

/// The secret the events in `tests/events/` are signed with.
const SECRET: &str = "test-webhook-secret";

fn event(name: &str) -> ApiGatewayV2httpRequest {
    let path = format!("{}/tests/events/ingest/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("event file");
    serde_json::from_str(&text).expect("a payload 2.0 event")
}

struct Ports {
    control: MemoryControl,
    queue: MemoryQueue<TicketSyncMessage>,
    audit: MemoryAuditLog,
    secrets: MemorySecrets,
    clock: SystemClock,
    rejections: sync_service::ingest::RejectionSampler,
}

impl Ports {
    fn new() -> Self {
        let secrets = MemorySecrets::new();
        secrets.set("webhook", SECRET);
        Ports {
            control: MemoryControl::new(),
            queue: MemoryQueue::new(),
            audit: MemoryAuditLog::new(AuditRetention::default()),
            secrets,
            clock: SystemClock,
            rejections: Default::default(),
        }
    }

    fn deps(&self) -> IngestDeps<'_> {
        IngestDeps {
            control: &self.control,
            queue: &self.queue,
            audit: &self.audit,
            secrets: &self.secrets,
            secret_id: "webhook",
            clock: &self.clock,
            rejections: &self.rejections,
        }
    }

    fn queued(&self) -> Vec<TicketSyncMessage> {
        self.queue
            .waiting_bodies()
            .iter()
            .map(|b| decode(b).unwrap())
            .collect()
    }
}

fn body_json(body: &Option<Body>) -> serde_json::Value {
    match body {
        Some(Body::Text(text)) => serde_json::from_str(text).expect("JSON body"),
        other => panic!("expected a text body, got {other:?}"),
    }
}

fn content_type(response: &aws_lambda_events::apigw::ApiGatewayV2httpResponse) -> &str {
    response.headers["content-type"].to_str().unwrap()
}

#[tokio::test]
async fn a_signed_event_is_queued_with_202() {
    let ports = Ports::new();
    let response = sync_lambda::ingest::handle(&ports.deps(), event("signed.json")).await;
    assert_eq!(response.status_code, 202);
    assert_eq!(content_type(&response), "application/json");
    assert_eq!(body_json(&response.body)["ticket_id"], 103);
    let queued = ports.queued();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].ticket_id.0, 103);
    assert_eq!(queued[0].reason, SyncReason::Webhook);

    // The same event again (Zammad retrying a delivery we answered): 200, nothing more queued.
    let again = sync_lambda::ingest::handle(&ports.deps(), event("signed.json")).await;
    assert_eq!(again.status_code, 200);
    assert_eq!(ports.queued().len(), 1);
}

#[tokio::test]
async fn a_base64_event_is_verified_over_the_decoded_body() {
    let ports = Ports::new();
    let e = event("base64.json");
    assert!(e.is_base64_encoded);
    let response = sync_lambda::ingest::handle(&ports.deps(), e).await;
    assert_eq!(response.status_code, 202);
    assert_eq!(ports.queued()[0].ticket_id.0, 103);
}

#[tokio::test]
async fn an_unsigned_event_is_401_problem_json_and_audited_with_the_source_ip() {
    let ports = Ports::new();
    let response = sync_lambda::ingest::handle(&ports.deps(), event("unsigned.json")).await;
    assert_eq!(response.status_code, 401);
    assert_eq!(content_type(&response), "application/problem+json");
    let problem = body_json(&response.body);
    assert_eq!(problem["code"], "signature_missing");
    assert_eq!(problem["request_id"], "req-unsigned");
    assert!(ports.queued().is_empty());

    let audit = test_support::stores::audit_today(&ports.audit).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].event.ip.as_deref(), Some("198.51.100.23"));
    assert_eq!(audit[0].event.detail["user_agent"], "Zammad User Agent");
}

#[tokio::test]
async fn headers_are_read_from_the_event_whatever_their_case() {
    let mut e = event("signed.json");
    let request = sync_lambda::ingest::webhook_request(&e);
    assert_eq!(request.source_ip.as_deref(), Some("198.51.100.23"));
    assert!(
        request
            .header("X-Hub-Signature")
            .unwrap()
            .starts_with("sha1=")
    );

    // A tampered body with the original signature is refused.
    e.body = Some(e.body.unwrap().replace("103", "104"));
    let ports = Ports::new();
    let response = sync_lambda::ingest::handle(&ports.deps(), e).await;
    assert_eq!(response.status_code, 401);
    assert!(ports.queued().is_empty());
}
