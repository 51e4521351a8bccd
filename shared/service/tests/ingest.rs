//! webhook-ingest on the in-memory adapters (and the real SQS adapter with its endpoint down,
//! for the enqueue failure): every acceptance and rejection path.

use base64::Engine;
use chrono::Utc;
use std::sync::Arc;
use sync_core::ids::TicketId;
use sync_service::ingest::{
    DELIVERY_IN_FLIGHT, Failure, IngestDeps, IngestOutcome, MAX_BODY_BYTES, Rejection,
    WebhookRequest, delivery_lease_name, ingest, signature_for,
};
use sync_store::audit::{AuditKind, AuditLog, AuditRetention};
use sync_store::clock::{Clock, ManualClock};
use sync_store::control::{ControlStore, LeaseOutcome};
use sync_store::memory::{MemoryAuditLog, MemoryControl, MemoryQueue, MemorySecrets};
use sync_store::queue::{MessageQueue, SyncReason, TicketSyncMessage, decode};
use test_support::stores::audit_today;

const SECRET_ID: &str = "webhook-hmac";
const SECRET: &str = "zammad-trigger-secret";

struct World {
    control: MemoryControl,
    queue: MemoryQueue<TicketSyncMessage>,
    audit: MemoryAuditLog,
    secrets: MemorySecrets,
    clock: Arc<ManualClock>,
    rejections: sync_service::ingest::RejectionSampler,
}

impl World {
    fn new() -> Self {
        let secrets = MemorySecrets::new();
        secrets.set(SECRET_ID, SECRET);
        World {
            control: MemoryControl::new(),
            queue: MemoryQueue::new(),
            audit: MemoryAuditLog::new(AuditRetention::default()),
            secrets,
            clock: Arc::new(ManualClock::new(Utc::now())),
            rejections: Default::default(),
        }
    }

    fn deps(&self) -> IngestDeps<'_> {
        self.deps_with_queue(&self.queue)
    }

    fn deps_with_queue<'a>(
        &'a self,
        queue: &'a dyn MessageQueue<TicketSyncMessage>,
    ) -> IngestDeps<'a> {
        IngestDeps {
            control: &self.control,
            queue,
            audit: &self.audit,
            secrets: &self.secrets,
            secret_id: SECRET_ID,
            clock: self.clock.as_ref(),
            rejections: &self.rejections,
        }
    }

    async fn send(&self, request: &WebhookRequest) -> IngestOutcome {
        ingest(&self.deps(), request).await
    }

    fn queued(&self) -> Vec<TicketSyncMessage> {
        self.queue
            .waiting_bodies()
            .iter()
            .map(|b| decode(b).expect("queued bodies decode"))
            .collect()
    }
}

fn zammad_body(ticket: u64) -> String {
    // The shape of Zammad's default trigger payload, cut down.
    format!(
        r#"{{"ticket":{{"id":{ticket},"number":"31{ticket}","title":"VPN drops","time_unit":"15.0"}},"article":{{"id":7,"accounted_time":15}}}}"#
    )
}

/// A request as Zammad sends it, signed with `secret`.
fn request(body: &str, secret: &str, delivery: &str) -> WebhookRequest {
    WebhookRequest {
        headers: vec![
            (
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            ),
            (
                "x-hub-signature".into(),
                signature_for(secret, body.as_bytes()),
            ),
            ("x-zammad-delivery".into(), delivery.into()),
            ("x-zammad-trigger".into(), "time changed".into()),
        ],
        body: Some(body.to_owned()),
        is_base64_encoded: false,
        source_ip: Some("203.0.113.9".into()),
        user_agent: Some("Zammad User Agent".into()),
        request_id: Some("req-1".into()),
    }
}

fn without_header(mut r: WebhookRequest, name: &str) -> WebhookRequest {
    r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    r
}

fn with_header(mut r: WebhookRequest, name: &str, value: &str) -> WebhookRequest {
    r = without_header(r, name);
    r.headers.push((name.into(), value.into()));
    r
}

/// GIVEN a rejected request WHEN it was handled THEN nothing is queued and one audit row names
/// the reason, the caller's IP and user agent.
async fn assert_rejected(world: &World, outcome: IngestOutcome, expected: Rejection) {
    assert_eq!(outcome, IngestOutcome::Rejected(expected));
    let response = outcome.response(Some("req-1"));
    assert_eq!(response.status, expected.status());
    assert_eq!(response.content_type, "application/problem+json");
    let problem: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(problem["code"], expected.code());
    assert_eq!(problem["status"], expected.status());
    assert_eq!(problem["request_id"], "req-1");

    assert!(world.queued().is_empty(), "nothing may be queued");
    let audit = audit_today(&world.audit).await;
    let row = audit
        .iter()
        .find(|r| r.event.action == "webhook.reject")
        .expect("the rejection is audited");
    assert_eq!(row.event.kind, AuditKind::Access);
    assert_eq!(row.event.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(row.event.detail["reason"], expected.code());
    assert_eq!(row.event.detail["user_agent"], "Zammad User Agent");
}

#[tokio::test]
async fn a_signed_webhook_enqueues_its_ticket() {
    let world = World::new();
    let outcome = world.send(&request(&zammad_body(101), SECRET, "d-1")).await;
    assert!(
        matches!(
            &outcome,
            IngestOutcome::Accepted {
                ticket_id: TicketId(101),
                ..
            }
        ),
        "{outcome:?}"
    );
    let response = outcome.response(None);
    assert_eq!(response.status, 202);
    assert_eq!(response.content_type, "application/json");

    let queued = world.queued();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].ticket_id, TicketId(101));
    assert_eq!(queued[0].reason, SyncReason::Webhook);
    assert_eq!(queued[0].run_id, None);
    assert!(audit_today(&world.audit).await.is_empty());
}

#[tokio::test]
async fn header_names_are_matched_in_any_case() {
    let world = World::new();
    let body = zammad_body(5);
    let mut r = request(&body, SECRET, "d-case");
    for (name, _) in r.headers.iter_mut() {
        *name = name.to_ascii_uppercase();
    }
    assert!(matches!(
        world.send(&r).await,
        IngestOutcome::Accepted { .. }
    ));
}

#[tokio::test]
async fn a_missing_signature_is_401() {
    let world = World::new();
    let r = without_header(request(&zammad_body(1), SECRET, "d-1"), "x-hub-signature");
    let outcome = world.send(&r).await;
    assert_rejected(&world, outcome, Rejection::SignatureMissing).await;
}

#[tokio::test]
async fn a_signature_with_another_secret_is_401() {
    let world = World::new();
    let outcome = world
        .send(&request(&zammad_body(1), "not-the-secret", "d-1"))
        .await;
    assert_rejected(&world, outcome, Rejection::SignatureMismatch).await;
}

#[tokio::test]
async fn a_signature_over_other_bytes_is_401() {
    let world = World::new();
    let mut r = request(&zammad_body(1), SECRET, "d-1");
    // Same JSON meaning, different bytes: the signature covers the exact raw body.
    r.body = Some(zammad_body(1).replace(':', ": "));
    let outcome = world.send(&r).await;
    assert_rejected(&world, outcome, Rejection::SignatureMismatch).await;
}

#[tokio::test]
async fn a_wrong_prefix_or_bad_hex_is_401() {
    for header in [
        // A valid SHA-1 HMAC under another scheme name.
        signature_for(SECRET, zammad_body(1).as_bytes()).replace("sha1=", "sha256="),
        signature_for(SECRET, zammad_body(1).as_bytes()).replace("sha1=", ""),
        "sha1=not-hex".to_owned(),
    ] {
        let world = World::new();
        let r = with_header(
            request(&zammad_body(1), SECRET, "d-1"),
            "X-Hub-Signature",
            &header,
        );
        let outcome = world.send(&r).await;
        assert_rejected(&world, outcome, Rejection::SignatureMalformed).await;
    }
    // Right prefix and hex, wrong length.
    let world = World::new();
    let r = with_header(
        request(&zammad_body(1), SECRET, "d-1"),
        "X-Hub-Signature",
        "sha1=abcd",
    );
    let outcome = world.send(&r).await;
    assert_rejected(&world, outcome, Rejection::SignatureMismatch).await;
}

#[tokio::test]
async fn an_oversize_body_is_413_before_anything_else() {
    let world = World::new();
    let big = format!(
        r#"{{"ticket":{{"id":1}},"pad":"{}"}}"#,
        "x".repeat(MAX_BODY_BYTES)
    );
    let outcome = world.send(&request(&big, SECRET, "d-1")).await;
    assert_rejected(&world, outcome, Rejection::BodyTooLarge).await;

    // The same body base64-encoded is refused without decoding it.
    let world = World::new();
    let mut r = request(&big, SECRET, "d-1");
    r.body = Some(base64::engine::general_purpose::STANDARD.encode(big.as_bytes()));
    r.is_base64_encoded = true;
    let outcome = world.send(&r).await;
    assert_rejected(&world, outcome, Rejection::BodyTooLarge).await;

    // Exactly at the limit is fine.
    let world = World::new();
    let head = r#"{"ticket":{"id":1},"pad":""#;
    let pad = "x".repeat(MAX_BODY_BYTES - head.len() - 2);
    let at_limit = format!("{head}{pad}\"}}");
    assert_eq!(at_limit.len(), MAX_BODY_BYTES);
    assert!(matches!(
        world.send(&request(&at_limit, SECRET, "d-1")).await,
        IngestOutcome::Accepted { .. }
    ));
}

#[tokio::test]
async fn a_signed_body_that_is_not_json_is_400() {
    let world = World::new();
    let outcome = world.send(&request("ticket=1", SECRET, "d-1")).await;
    assert_rejected(&world, outcome, Rejection::NotJson).await;
}

#[tokio::test]
async fn a_signed_body_without_ticket_id_is_400() {
    let world = World::new();
    let outcome = world
        .send(&request(r#"{"ticket":{"number":"31001"}}"#, SECRET, "d-1"))
        .await;
    assert_rejected(&world, outcome, Rejection::NoTicketId).await;
}

#[tokio::test]
async fn a_base64_body_is_verified_over_its_decoded_bytes() {
    let world = World::new();
    let body = zammad_body(103);
    let mut r = request(&body, SECRET, "d-b64");
    r.body = Some(base64::engine::general_purpose::STANDARD.encode(body.as_bytes()));
    r.is_base64_encoded = true;
    assert!(matches!(
        world.send(&r).await,
        IngestOutcome::Accepted {
            ticket_id: TicketId(103),
            ..
        }
    ));

    // A signature over the encoded text is not Zammad's signature.
    let world = World::new();
    let encoded = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
    let mut r = request(&encoded, SECRET, "d-b64");
    r.is_base64_encoded = true;
    let outcome = world.send(&r).await;
    assert_rejected(&world, outcome, Rejection::SignatureMismatch).await;

    // Not base64 at all.
    let world = World::new();
    let mut r = request(&body, SECRET, "d-b64");
    r.body = Some("%%% not base64 %%%".into());
    r.is_base64_encoded = true;
    let outcome = world.send(&r).await;
    assert_rejected(&world, outcome, Rejection::BadBase64).await;
}

#[tokio::test]
async fn a_repeated_delivery_is_200_and_enqueues_nothing() {
    let world = World::new();
    let r = request(&zammad_body(101), SECRET, "d-same");
    assert!(matches!(
        world.send(&r).await,
        IngestOutcome::Accepted { .. }
    ));
    let again = world.send(&r).await;
    assert_eq!(
        again,
        IngestOutcome::Duplicate {
            ticket_id: TicketId(101)
        }
    );
    assert_eq!(again.response(None).status, 200);
    assert_eq!(world.queued().len(), 1);
    // Still a duplicate well after the in-flight window.
    world.clock.advance(chrono::Duration::hours(2));
    assert!(matches!(
        world.send(&r).await,
        IngestOutcome::Duplicate { .. }
    ));
    assert_eq!(world.queued().len(), 1);

    // The clock moved two hours on: after 22:00 UTC the second record is on the next day.
    let first_day = (world.clock.now() - chrono::Duration::hours(2)).date_naive();
    let audit = world
        .audit
        .query(
            first_day,
            world.clock.now().date_naive(),
            &sync_store::audit::AuditFilter::default(),
            &sync_store::PageRequest::first(500),
        )
        .await
        .expect("audit query")
        .items;
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.event.action == "webhook.duplicate")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_forged_request_does_not_burn_the_delivery_id() {
    let world = World::new();
    let forged = world
        .send(&request(&zammad_body(101), "guess", "d-victim"))
        .await;
    assert_eq!(
        forged,
        IngestOutcome::Rejected(Rejection::SignatureMismatch)
    );
    let real = world
        .send(&request(&zammad_body(101), SECRET, "d-victim"))
        .await;
    assert!(matches!(real, IngestOutcome::Accepted { .. }), "{real:?}");
    assert_eq!(world.queued().len(), 1);
}

#[tokio::test]
async fn a_delivery_being_processed_elsewhere_is_409_until_its_claim_lapses() {
    let world = World::new();
    let now = world.clock.now();
    let held = world
        .control
        .acquire_lease(
            &delivery_lease_name("d-busy"),
            "other-instance",
            DELIVERY_IN_FLIGHT,
            now,
        )
        .await
        .unwrap();
    assert!(matches!(held, LeaseOutcome::Acquired(_)));

    let r = request(&zammad_body(9), SECRET, "d-busy");
    let outcome = world.send(&r).await;
    assert_eq!(
        outcome,
        IngestOutcome::InProgress {
            ticket_id: TicketId(9)
        }
    );
    assert_eq!(outcome.response(None).status, 409);
    assert!(world.queued().is_empty());

    // The other instance died: its claim lapses and Zammad's next retry goes through.
    world
        .clock
        .advance(DELIVERY_IN_FLIGHT + chrono::Duration::seconds(1));
    assert!(matches!(
        world.send(&r).await,
        IngestOutcome::Accepted { .. }
    ));
    assert_eq!(world.queued().len(), 1);
}

#[tokio::test]
async fn an_enqueue_failure_is_503_and_the_retry_goes_through() {
    let world = World::new();
    let down = test_support::aws::unreachable_queue::<TicketSyncMessage>("ticket-sync");
    let r = request(&zammad_body(106), SECRET, "d-retry");

    let failed = ingest(&world.deps_with_queue(&down), &r).await;
    assert!(
        matches!(&failed, IngestOutcome::Failed(Failure::Unavailable(m)) if m.contains("enqueue")),
        "{failed:?}"
    );
    let response = failed.response(Some("req-1"));
    assert_eq!(response.status, 503);
    assert_eq!(response.content_type, "application/problem+json");
    let audit = audit_today(&world.audit).await;
    assert!(audit.iter().any(|r| r.event.action == "webhook.failed"));

    // Zammad retries the same delivery a little later; the queue is back.
    world.clock.advance(chrono::Duration::seconds(10));
    let retried = world.send(&r).await;
    assert!(
        matches!(
            retried,
            IngestOutcome::Accepted {
                ticket_id: TicketId(106),
                ..
            }
        ),
        "{retried:?}"
    );
    assert_eq!(world.queued().len(), 1);
}

#[tokio::test]
async fn a_missing_or_empty_secret_is_a_configuration_failure() {
    let world = World::new();
    let deps = IngestDeps {
        secret_id: "no-such-secret",
        ..world.deps()
    };
    let outcome = ingest(&deps, &request(&zammad_body(1), SECRET, "d-1")).await;
    assert!(
        matches!(outcome, IngestOutcome::Failed(Failure::Misconfigured(_))),
        "{outcome:?}"
    );
    assert_eq!(outcome.response(None).status, 500);
    assert!(world.queued().is_empty());

    // With an empty key anyone could sign: refuse everything.
    world.secrets.set(SECRET_ID, "");
    let outcome = world.send(&request(&zammad_body(1), "", "d-2")).await;
    assert!(
        matches!(outcome, IngestOutcome::Failed(Failure::Misconfigured(_))),
        "{outcome:?}"
    );
    assert!(world.queued().is_empty());
}

#[tokio::test]
async fn a_malformed_delivery_id_is_400_and_a_missing_one_is_not_deduplicated() {
    let world = World::new();
    let r = with_header(
        request(&zammad_body(1), SECRET, "x"),
        "X-Zammad-Delivery",
        &"d".repeat(200),
    );
    let outcome = world.send(&r).await;
    assert_rejected(&world, outcome, Rejection::BadDeliveryId).await;

    let world = World::new();
    let r = without_header(request(&zammad_body(2), SECRET, "x"), "x-zammad-delivery");
    assert!(matches!(
        world.send(&r).await,
        IngestOutcome::Accepted { .. }
    ));
    assert!(matches!(
        world.send(&r).await,
        IngestOutcome::Accepted { .. }
    ));
    assert_eq!(world.queued().len(), 2);
}

#[tokio::test]
async fn a_flood_of_forged_webhooks_writes_eleven_audit_rows_a_minute_not_one_each() {
    let world = World::new();
    // Align to the start of a minute, so the flood below stays inside one.
    let now = world.clock.now();
    world.clock.advance(chrono::Duration::seconds(
        60 - now.timestamp().rem_euclid(60),
    ));
    for i in 0..200 {
        let forged = request(&zammad_body(7), "not-the-secret", &format!("f-{i}"));
        assert_eq!(
            world.send(&forged).await,
            IngestOutcome::Rejected(Rejection::SignatureMismatch)
        );
    }
    assert_eq!(
        rows(&world, "webhook.reject").await.len(),
        10,
        "the first ten, in full"
    );
    assert!(rows(&world, "webhook.reject_sampled").await.is_empty());

    // The next minute's first rejection writes itself and the count of the last minute's.
    world.clock.advance(chrono::Duration::seconds(61));
    let forged = request(&zammad_body(7), "not-the-secret", "f-next");
    world.send(&forged).await;
    assert_eq!(rows(&world, "webhook.reject").await.len(), 11);
    let sampled = rows(&world, "webhook.reject_sampled").await;
    assert_eq!(sampled.len(), 1);
    assert_eq!(
        sampled[0].event.detail["not_written"]["signature_mismatch"],
        190
    );
    assert!(world.queued().is_empty(), "nothing was queued");
}

/// The audit rows of `action` over the two days the test's clock may span (it runs minutes
/// ahead of the real time, which may be just before midnight).
async fn rows(world: &World, action: &str) -> Vec<sync_store::audit::AuditRecord> {
    use sync_store::audit::{AuditFilter, AuditLog};
    let today = Utc::now().date_naive();
    let filter = AuditFilter {
        action: Some(action.into()),
        ..AuditFilter::default()
    };
    let page = sync_store::PageRequest::first(500);
    world
        .audit
        .query(today, today + chrono::Duration::days(1), &filter, &page)
        .await
        .unwrap()
        .items
}
