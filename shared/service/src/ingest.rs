//! webhook-ingest: a Zammad trigger posts a ticket; we verify it and enqueue the ticket.
//!
//! Order of checks, each answering at once:
//! 1. body size (over [`MAX_BODY_BYTES`] → 413; also before decoding base64 or hashing);
//! 2. `isBase64Encoded` bodies are decoded (bad base64 → 400);
//! 3. `X-Hub-Signature: sha1=<hex>` over the exact raw bytes, compared in constant time
//!    (missing, wrong prefix, bad hex, wrong value → 401);
//! 4. JSON with a positive `ticket.id` (→ 400 otherwise);
//! 5. the `X-Zammad-Delivery` id is claimed (a finished one → 200, nothing enqueued; one still
//!    being processed → 409 so Zammad retries later);
//! 6. one [`TicketSyncMessage`] with reason `webhook` is sent → 202. If the send fails, the claim
//!    is released and we answer 503: Zammad retries and the retry is processed, so nothing is lost.
//!
//! The delivery id is claimed only after the signature is verified, so forged requests cannot
//! burn ids. It never calls Zammad or Kimai. Every rejection is written to the audit log with
//! the caller's IP and user agent.
//!
//! Why a lease and not `record_delivery`: a recorded delivery id cannot be forgotten, but after
//! a failed enqueue it must be (or Zammad's retry would be dropped as a duplicate). A lease
//! named after the delivery id can be released. It is taken for [`DELIVERY_IN_FLIGHT`] while we
//! work and extended to [`DELIVERY_KEEP`] once the message is on the queue, so "held for long"
//! means done and "held briefly" means in progress (or crashed: it then lapses by itself).

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha1::Sha1;
use sync_core::ids::TicketId;
use sync_store::StoreError;
use sync_store::audit::{AuditEvent, AuditKind, AuditLog};
use sync_store::clock::Clock;
use sync_store::control::{ControlStore, Lease, LeaseOutcome};
use sync_store::queue::{MessageQueue, SyncReason, TicketSyncMessage};
use sync_store::secrets::SecretSource;

/// Largest webhook body accepted. Zammad's default payload for a ticket with a note is a few KiB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// How long a processed delivery id is remembered (replays within it are dropped).
pub const DELIVERY_KEEP: Duration = Duration::days(7);
/// How long a claim of a delivery id lasts while the request is being processed.
pub const DELIVERY_IN_FLIGHT: Duration = Duration::seconds(60);
/// Longest delivery id accepted (Zammad sends a UUID).
pub const MAX_DELIVERY_ID_LEN: usize = 128;

pub const SIGNATURE_HEADER: &str = "x-hub-signature";
pub const DELIVERY_HEADER: &str = "x-zammad-delivery";
/// Audit actor for everything arriving on the webhook route.
pub const AUDIT_ACTOR: &str = "zammad-webhook";

/// One webhook request, as API Gateway (payload 2.0) hands it over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Header names in any case; looked up case-insensitively.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// API Gateway base64-encodes bodies it does not treat as text.
    pub is_base64_encoded: bool,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// API Gateway's request id, echoed in problem responses.
    pub request_id: Option<String>,
}

impl WebhookRequest {
    /// The first value of a header, whatever the case of its name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request was refused. Each is the caller's fault; retrying the same request fails again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    BodyTooLarge,
    BadBase64,
    SignatureMissing,
    /// Not `sha1=<hex>`.
    SignatureMalformed,
    SignatureMismatch,
    NotJson,
    NoTicketId,
    BadDeliveryId,
}

impl Rejection {
    pub fn status(self) -> u16 {
        match self {
            Rejection::BodyTooLarge => 413,
            Rejection::SignatureMissing
            | Rejection::SignatureMalformed
            | Rejection::SignatureMismatch => 401,
            Rejection::BadBase64
            | Rejection::NotJson
            | Rejection::NoTicketId
            | Rejection::BadDeliveryId => 400,
        }
    }

    /// Stable code, used in the audit log and the problem body.
    pub fn code(self) -> &'static str {
        match self {
            Rejection::BodyTooLarge => "body_too_large",
            Rejection::BadBase64 => "bad_base64",
            Rejection::SignatureMissing => "signature_missing",
            Rejection::SignatureMalformed => "signature_malformed",
            Rejection::SignatureMismatch => "signature_mismatch",
            Rejection::NotJson => "not_json",
            Rejection::NoTicketId => "no_ticket_id",
            Rejection::BadDeliveryId => "bad_delivery_id",
        }
    }

    fn detail(self) -> String {
        match self {
            Rejection::BodyTooLarge => format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            Rejection::BadBase64 => "the base64-encoded body cannot be decoded".into(),
            Rejection::SignatureMissing => "X-Hub-Signature is missing".into(),
            Rejection::SignatureMalformed => "X-Hub-Signature is not sha1=<hex>".into(),
            Rejection::SignatureMismatch => {
                "X-Hub-Signature does not match the body and the configured secret".into()
            }
            Rejection::NotJson => "the body is not JSON".into(),
            Rejection::NoTicketId => "the body has no positive integer ticket.id".into(),
            Rejection::BadDeliveryId => format!(
                "X-Zammad-Delivery must be 1..={MAX_DELIVERY_ID_LEN} visible ASCII characters"
            ),
        }
    }
}

/// Our side could not take the request; Zammad should retry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The secret, the control store or the queue is unavailable right now (503).
    Unavailable(String),
    /// The deployment is wrong (secret missing or empty, access denied): 500 until fixed.
    Misconfigured(String),
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Enqueued (202).
    Accepted {
        ticket_id: TicketId,
        message_id: String,
    },
    /// This delivery id was processed before; nothing enqueued (200).
    Duplicate {
        ticket_id: TicketId,
    },
    /// The same delivery id is being processed right now (409, Zammad retries later).
    InProgress {
        ticket_id: TicketId,
    },
    Rejected(Rejection),
    Failed(Failure),
}

/// An HTTP answer, independent of the Lambda event types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl IngestOutcome {
    pub fn status(&self) -> u16 {
        match self {
            IngestOutcome::Accepted { .. } => 202,
            IngestOutcome::Duplicate { .. } => 200,
            IngestOutcome::InProgress { .. } => 409,
            IngestOutcome::Rejected(r) => r.status(),
            IngestOutcome::Failed(Failure::Unavailable(_)) => 503,
            IngestOutcome::Failed(Failure::Misconfigured(_)) => 500,
        }
    }

    /// JSON for successes, `application/problem+json` for everything else. Failure details
    /// stay in the logs: the caller learns only that it should retry.
    pub fn response(&self, request_id: Option<&str>) -> WebhookResponse {
        let status = self.status();
        let ok = |body: Value| WebhookResponse {
            status,
            content_type: "application/json",
            body: body.to_string(),
        };
        let problem = |title: &str, code: &str, detail: String| WebhookResponse {
            status,
            content_type: "application/problem+json",
            body: json!({
                "type": "about:blank",
                "title": title,
                "status": status,
                "code": code,
                "detail": detail,
                "request_id": request_id,
            })
            .to_string(),
        };
        match self {
            IngestOutcome::Accepted {
                ticket_id,
                message_id,
            } => ok(json!({"status": "queued", "ticket_id": ticket_id, "message_id": message_id})),
            IngestOutcome::Duplicate { ticket_id } => {
                ok(json!({"status": "duplicate", "ticket_id": ticket_id}))
            }
            IngestOutcome::InProgress { .. } => problem(
                "Delivery in progress",
                "delivery_in_progress",
                "this delivery is being processed; retry later".into(),
            ),
            IngestOutcome::Rejected(r) => problem(title_of(r.status()), r.code(), r.detail()),
            IngestOutcome::Failed(Failure::Unavailable(_)) => problem(
                "Service unavailable",
                "unavailable",
                "the webhook could not be queued; retry later".into(),
            ),
            IngestOutcome::Failed(Failure::Misconfigured(_)) => problem(
                "Misconfigured",
                "misconfigured",
                "the webhook receiver is not configured correctly".into(),
            ),
        }
    }
}

fn title_of(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        401 => "Unauthorized",
        413 => "Payload too large",
        _ => "Error",
    }
}

/// Rejected webhooks go to the audit log by sample, so that a flood of forged requests costs a
/// bounded number of writes: the first [`REJECTIONS_IN_FULL`] rejections of each minute are
/// written in full (reason, address, user agent, delivery id), the others of that minute are
/// counted, and their counts by reason go out as one `webhook.reject_sampled` row with the next
/// minute's first rejection. At most eleven rows a minute per function instance, however many
/// requests arrive; every rejection is still logged. Counts of a minute with no rejection
/// after it stay in the log lines only.
pub const REJECTIONS_IN_FULL: u64 = 10;

#[derive(Default)]
pub struct RejectionSampler {
    window: std::sync::Mutex<Option<SampleWindow>>,
}

struct SampleWindow {
    minute: i64,
    written: u64,
    suppressed: std::collections::BTreeMap<&'static str, u64>,
}

/// What to write for one rejection.
struct Sampled {
    /// This rejection in full.
    write: bool,
    /// The counts of the window this rejection closed: (its minute, by reason).
    closed: Option<(i64, std::collections::BTreeMap<&'static str, u64>)>,
}

impl RejectionSampler {
    fn note(&self, now: chrono::DateTime<chrono::Utc>, reason: &'static str) -> Sampled {
        let minute = now.timestamp().div_euclid(60);
        let mut window = self.window.lock().unwrap();
        match &mut *window {
            Some(w) if w.minute == minute => {
                let write = w.written < REJECTIONS_IN_FULL;
                if write {
                    w.written += 1;
                } else {
                    *w.suppressed.entry(reason).or_default() += 1;
                }
                Sampled {
                    write,
                    closed: None,
                }
            }
            other => {
                let closed = other
                    .take()
                    .filter(|w| !w.suppressed.is_empty())
                    .map(|w| (w.minute, w.suppressed));
                *other = Some(SampleWindow {
                    minute,
                    written: 1,
                    suppressed: Default::default(),
                });
                Sampled {
                    write: true,
                    closed,
                }
            }
        }
    }
}

/// What ingest needs; built once per Lambda instance.
pub struct IngestDeps<'a> {
    pub control: &'a dyn ControlStore,
    pub queue: &'a dyn MessageQueue<TicketSyncMessage>,
    pub audit: &'a dyn AuditLog,
    /// Wrap the real source in `CachedSecrets`, so warm invocations do not call Secrets Manager.
    pub secrets: &'a dyn SecretSource,
    /// Name or ARN of the webhook HMAC secret (`WEBHOOK_SECRET`).
    pub secret_id: &'a str,
    pub clock: &'a dyn Clock,
    /// Kept for the instance's life: which rejections reach the audit log.
    pub rejections: &'a RejectionSampler,
}

/// Handles one webhook request end to end (see the module docs for the order of checks).
#[tracing::instrument(skip_all, fields(request_id = request.request_id.as_deref(), delivery = request.header(DELIVERY_HEADER)))]
pub async fn ingest(deps: &IngestDeps<'_>, request: &WebhookRequest) -> IngestOutcome {
    let outcome = match accept(deps, request).await {
        Ok(outcome) | Err(outcome) => outcome,
    };
    match &outcome {
        IngestOutcome::Accepted { ticket_id, .. } => {
            tracing::info!(ticket = ticket_id.0, "webhook queued");
        }
        IngestOutcome::Duplicate { ticket_id } => {
            tracing::info!(ticket = ticket_id.0, "duplicate delivery dropped");
            audit(
                deps,
                request,
                "webhook.duplicate",
                AuditKind::Access,
                json!({}),
            )
            .await;
        }
        IngestOutcome::InProgress { ticket_id } => {
            tracing::info!(ticket = ticket_id.0, "delivery still in progress");
        }
        IngestOutcome::Rejected(r) => {
            tracing::warn!(
                reason = r.code(),
                ip = request.source_ip.as_deref(),
                "webhook rejected"
            );
            let sampled = deps.rejections.note(deps.clock.now(), r.code());
            if let Some((minute, counts)) = sampled.closed {
                let from = chrono::DateTime::from_timestamp(minute * 60, 0);
                let detail = json!({"minute": from, "not_written": counts});
                audit(
                    deps,
                    request,
                    "webhook.reject_sampled",
                    AuditKind::Access,
                    detail,
                )
                .await;
            }
            if sampled.write {
                let detail = json!({"reason": r.code(), "status": r.status()});
                audit(deps, request, "webhook.reject", AuditKind::Access, detail).await;
            }
        }
        IngestOutcome::Failed(f) => {
            tracing::error!(failure = ?f, "webhook not queued");
            let reason = match f {
                Failure::Unavailable(m) | Failure::Misconfigured(m) => m.clone(),
            };
            let detail = json!({"status": outcome.status(), "error": reason});
            audit(deps, request, "webhook.failed", AuditKind::Sync, detail).await;
        }
    }
    outcome
}

/// The checks and the enqueue; `Err` carries an early answer.
async fn accept(
    deps: &IngestDeps<'_>,
    request: &WebhookRequest,
) -> Result<IngestOutcome, IngestOutcome> {
    let body = raw_body(request)?;
    verify_signature(deps, request, &body).await?;
    let ticket_id = ticket_id_of(&body)?;
    let delivery = delivery_id_of(request)?;

    let claim = match delivery {
        Some(id) => match claim_delivery(deps, id).await? {
            Claim::Ours(lease) => Some(lease),
            Claim::Done => return Ok(IngestOutcome::Duplicate { ticket_id }),
            Claim::InProgress => return Ok(IngestOutcome::InProgress { ticket_id }),
        },
        // Zammad always sends one; without it there is nothing to deduplicate on. A second
        // message for the same ticket is harmless (planning is idempotent).
        None => None,
    };

    let message = TicketSyncMessage::new(ticket_id, SyncReason::Webhook, None);
    match deps.queue.send(&message).await {
        Ok(message_id) => {
            if let Some(lease) = &claim {
                remember_delivery(deps, lease).await;
            }
            Ok(IngestOutcome::Accepted {
                ticket_id,
                message_id,
            })
        }
        Err(e) => {
            if let Some(lease) = &claim {
                forget_delivery(deps, lease).await;
            }
            Err(IngestOutcome::Failed(failure(
                &format!("enqueue ticket {}", ticket_id.0),
                e,
            )))
        }
    }
}

fn raw_body(request: &WebhookRequest) -> Result<Vec<u8>, IngestOutcome> {
    let reject = |r| Err(IngestOutcome::Rejected(r));
    let text = request.body.as_deref().unwrap_or("");
    if !request.is_base64_encoded {
        if text.len() > MAX_BODY_BYTES {
            return reject(Rejection::BodyTooLarge);
        }
        return Ok(text.as_bytes().to_vec());
    }
    // Check the encoded size first, so an oversize body is never decoded.
    if base64::decoded_len_estimate(text.len()) > MAX_BODY_BYTES + 3 {
        return reject(Rejection::BodyTooLarge);
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text) else {
        return reject(Rejection::BadBase64);
    };
    if bytes.len() > MAX_BODY_BYTES {
        return reject(Rejection::BodyTooLarge);
    }
    Ok(bytes)
}

async fn verify_signature(
    deps: &IngestDeps<'_>,
    request: &WebhookRequest,
    body: &[u8],
) -> Result<(), IngestOutcome> {
    let reject = |r| Err(IngestOutcome::Rejected(r));
    let Some(header) = request.header(SIGNATURE_HEADER) else {
        return reject(Rejection::SignatureMissing);
    };
    let Some(hex_digest) = header.trim().strip_prefix("sha1=") else {
        return reject(Rejection::SignatureMalformed);
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return reject(Rejection::SignatureMalformed);
    };
    let secret = deps
        .secrets
        .get_secret(deps.secret_id)
        .await
        .map_err(|e| IngestOutcome::Failed(failure("read the webhook secret", e)))?;
    // An empty key would make every signature computable by anyone.
    if secret.expose().is_empty() {
        return Err(IngestOutcome::Failed(Failure::Misconfigured(
            "the webhook secret is empty".into(),
        )));
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    // Constant-time comparison; a digest of the wrong length fails here too.
    mac.verify_slice(&expected)
        .or_else(|_| reject(Rejection::SignatureMismatch))
}

fn ticket_id_of(body: &[u8]) -> Result<TicketId, IngestOutcome> {
    let json: Value =
        serde_json::from_slice(body).map_err(|_| IngestOutcome::Rejected(Rejection::NotJson))?;
    let id = match json.get("ticket").and_then(|t| t.get("id")) {
        Some(Value::Number(n)) => n.as_u64(),
        // Some trigger templates render ids as strings.
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match id {
        Some(id) if id > 0 => Ok(TicketId(id)),
        _ => Err(IngestOutcome::Rejected(Rejection::NoTicketId)),
    }
}

fn delivery_id_of(request: &WebhookRequest) -> Result<Option<&str>, IngestOutcome> {
    let Some(id) = request.header(DELIVERY_HEADER).map(str::trim) else {
        return Ok(None);
    };
    let valid = !id.is_empty()
        && id.len() <= MAX_DELIVERY_ID_LEN
        && id.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(Some(id))
    } else {
        Err(IngestOutcome::Rejected(Rejection::BadDeliveryId))
    }
}

enum Claim {
    Ours(Lease),
    Done,
    InProgress,
}

/// The control-store lease that claims one delivery id.
pub fn delivery_lease_name(id: &str) -> String {
    format!("webhook-delivery#{id}")
}

async fn claim_delivery(deps: &IngestDeps<'_>, id: &str) -> Result<Claim, IngestOutcome> {
    let now = deps.clock.now();
    let holder = format!("ingest-{}", uuid::Uuid::new_v4().simple());
    let outcome = deps
        .control
        .acquire_lease(&delivery_lease_name(id), &holder, DELIVERY_IN_FLIGHT, now)
        .await
        .map_err(|e| IngestOutcome::Failed(failure("claim the delivery id", e)))?;
    Ok(match outcome {
        LeaseOutcome::Acquired(lease) => Claim::Ours(lease),
        LeaseOutcome::Held { expires_at, .. } if is_done(expires_at, now) => Claim::Done,
        LeaseOutcome::Held { .. } => Claim::InProgress,
    })
}

/// A claim held past the in-flight window was extended after a successful enqueue.
fn is_done(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    expires_at > now + DELIVERY_IN_FLIGHT
}

async fn remember_delivery(deps: &IngestDeps<'_>, lease: &Lease) {
    let now = deps.clock.now();
    // The message is on the queue: failing here only means a retry could enqueue the ticket
    // again, which planning absorbs. Log it, answer success.
    match deps.control.renew_lease(lease, DELIVERY_KEEP, now).await {
        Ok(sync_store::control::RenewOutcome::Renewed(_)) => {}
        Ok(sync_store::control::RenewOutcome::Lost) => {
            tracing::warn!(lease = %lease.name, "delivery claim lapsed before it was kept");
        }
        Err(e) => tracing::warn!(error = %e, "could not keep the delivery id"),
    }
}

async fn forget_delivery(deps: &IngestDeps<'_>, lease: &Lease) {
    // If this fails too, the claim lapses after DELIVERY_IN_FLIGHT and Zammad's next retry
    // (10 s, 20 s, … later) gets 409 until then, then goes through.
    if let Err(e) = deps.control.release_lease(lease).await {
        tracing::warn!(error = %e, "could not release the delivery claim");
    }
}

fn failure(what: &str, e: StoreError) -> Failure {
    let text = format!("{what}: {e}");
    match e {
        StoreError::Unavailable(_) => Failure::Unavailable(text),
        _ => Failure::Misconfigured(text),
    }
}

async fn audit(
    deps: &IngestDeps<'_>,
    request: &WebhookRequest,
    action: &str,
    kind: AuditKind,
    mut detail: Value,
) {
    if let Value::Object(map) = &mut detail {
        map.insert("user_agent".into(), json!(request.user_agent));
        map.insert("delivery_id".into(), json!(request.header(DELIVERY_HEADER)));
        map.insert("request_id".into(), json!(request.request_id));
    }
    let event = AuditEvent {
        at: deps.clock.now(),
        kind,
        action: action.to_owned(),
        actor: AUDIT_ACTOR.to_owned(),
        ip: request.source_ip.clone(),
        detail,
    };
    // The answer does not depend on the audit write; a lost audit row is logged instead.
    if let Err(e) = deps.audit.append(&event).await {
        tracing::error!(error = %e, action, "audit write failed");
    }
}

/// `sha1=<hex>` of `body` with `secret`: what Zammad sends (for tests and tools).
pub fn signature_for(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_case_insensitive() {
        let request = WebhookRequest {
            headers: vec![("X-Hub-SIGNATURE".into(), "sha1=00".into())],
            ..Default::default()
        };
        assert_eq!(request.header("x-hub-signature"), Some("sha1=00"));
        assert_eq!(request.header(DELIVERY_HEADER), None);
    }

    #[test]
    fn ticket_ids_must_be_positive_integers() {
        assert_eq!(ticket_id_of(br#"{"ticket":{"id":42}}"#), Ok(TicketId(42)));
        assert_eq!(ticket_id_of(br#"{"ticket":{"id":"42"}}"#), Ok(TicketId(42)));
        for bad in [
            &br#"{"ticket":{"id":0}}"#[..],
            br#"{"ticket":{"id":-1}}"#,
            br#"{"ticket":{"id":1.5}}"#,
            br#"{"ticket":{}}"#,
            br#"{"article":{"id":1}}"#,
            br#"[1]"#,
        ] {
            assert_eq!(
                ticket_id_of(bad),
                Err(IngestOutcome::Rejected(Rejection::NoTicketId)),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_known_signature_is_reproduced() {
        // HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog"), a published vector.
        assert_eq!(
            signature_for("key", b"The quick brown fox jumps over the lazy dog"),
            "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
        );
    }

    #[test]
    fn done_and_in_progress_claims_are_told_apart() {
        let now = Utc::now();
        assert!(is_done(now + DELIVERY_KEEP, now));
        assert!(!is_done(now + DELIVERY_IN_FLIGHT, now));
        assert!(!is_done(now + Duration::seconds(5), now));
    }
}
