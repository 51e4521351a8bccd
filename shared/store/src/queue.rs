//! The two work queues and their typed messages.
//!
//! Every message carries `schema_version`, so a consumer deployed before a producer change
//! rejects (and dead-letters) what it cannot read instead of misreading it.

use crate::control::{OperationId, RunId};
use crate::error::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sync_core::ids::TicketId;
use sync_core::plan::Operation;
use thiserror::Error;

/// Largest message body we send. SQS accepts more today, but a batch whose total passes the
/// service limit fails as a whole, and older limits (and the emulator) say 256 KiB.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Entries per `SendMessageBatch` (an SQS limit).
pub const MAX_BATCH_ENTRIES: usize = 10;

/// The longest a message can be held back when it is sent (SQS's `DelaySeconds` ceiling).
pub const MAX_DELAY_SECS: u64 = 900;

/// The delay in whole seconds, refused beyond [`MAX_DELAY_SECS`].
pub(crate) fn delay_secs(delay: std::time::Duration) -> StoreResult<i32> {
    let secs = delay.as_secs();
    if secs > MAX_DELAY_SECS {
        return Err(crate::error::StoreError::Invalid(format!(
            "a delay of {secs} s is longer than {MAX_DELAY_SECS} s"
        )));
    }
    Ok(secs as i32)
}

/// A message type of one queue.
pub trait QueueMessage: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The version this code writes and the only one it reads.
    const SCHEMA_VERSION: u32;
    fn schema_version(&self) -> u32;
    /// How long the message has been waiting for an upstream to come back, if it has.
    fn waiting(&self) -> Option<&Waiting>;
    fn set_waiting(&mut self, waiting: Waiting);
}

/// A message sent again, delayed, because an upstream could not be reached
/// (`sync_service::outage`): since when it waits, and how often it was sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub since: DateTime<Utc>,
    pub times: u32,
}

/// Why a ticket is (re)synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncReason {
    Webhook,
    Schedule,
    Verify,
    Manual,
    Backfill,
    /// A conflict resolution asks for a new plan.
    Resolution,
}

/// `ticket-sync` queue: plan one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSyncMessage {
    pub schema_version: u32,
    pub ticket_id: TicketId,
    pub reason: SyncReason,
    pub run_id: Option<RunId>,
    /// Plan and record, but enqueue no writes.
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
    /// The days a verify sweep or backfill covers: reconcile reads Kimai once for the whole
    /// window and plans every ticket of the run against that read. `None` (a webhook, an
    /// incremental run): each ticket reads its own days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<SyncWindow>,
}

/// A run's stretch of time, `from..to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SyncWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl TicketSyncMessage {
    pub fn new(ticket_id: TicketId, reason: SyncReason, run_id: Option<RunId>) -> Self {
        TicketSyncMessage {
            schema_version: Self::SCHEMA_VERSION,
            ticket_id,
            reason,
            run_id,
            dry_run: false,
            waiting: None,
            window: None,
        }
    }
}

impl QueueMessage for TicketSyncMessage {
    const SCHEMA_VERSION: u32 = 1;
    fn schema_version(&self) -> u32 {
        self.schema_version
    }
    fn waiting(&self) -> Option<&Waiting> {
        self.waiting.as_ref()
    }
    fn set_waiting(&mut self, waiting: Waiting) {
        self.waiting = Some(waiting);
    }
}

/// `kimai-write` queue: apply one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KimaiWriteMessage {
    pub schema_version: u32,
    /// Idempotency key of the write (claimed in the control store).
    pub operation_id: OperationId,
    pub ticket_id: TicketId,
    pub run_id: Option<RunId>,
    pub operation: Operation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
}

impl KimaiWriteMessage {
    pub fn new(
        operation_id: OperationId,
        ticket_id: TicketId,
        run_id: Option<RunId>,
        operation: Operation,
    ) -> Self {
        KimaiWriteMessage {
            schema_version: Self::SCHEMA_VERSION,
            operation_id,
            ticket_id,
            run_id,
            operation,
            waiting: None,
        }
    }
}

impl QueueMessage for KimaiWriteMessage {
    const SCHEMA_VERSION: u32 = 1;
    fn schema_version(&self) -> u32 {
        self.schema_version
    }
    fn waiting(&self) -> Option<&Waiting> {
        self.waiting.as_ref()
    }
    fn set_waiting(&mut self, waiting: Waiting) {
        self.waiting = Some(waiting);
    }
}

/// A body that is not a message of this queue. Never retryable: dead-letter it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("message body is not valid JSON for this queue: {0}")]
    Malformed(String),
    #[error("message schema version {found} is not {expected}")]
    WrongVersion { found: u64, expected: u32 },
}

/// The body of one message sent on its own, refused when larger than [`MAX_MESSAGE_BYTES`].
pub(crate) fn encode_sendable<M: QueueMessage>(message: &M) -> StoreResult<String> {
    let body = encode(message);
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(crate::error::StoreError::Invalid(format!(
            "message of {} bytes is too large",
            body.len()
        )));
    }
    Ok(body)
}

/// Serialises a message; the body every adapter sends.
pub fn encode<M: QueueMessage>(message: &M) -> String {
    // Our message types hold only strings, numbers and maps with string keys.
    serde_json::to_string(message).expect("queue messages always serialise")
}

/// Parses a body, checking the schema version before the shape.
pub fn decode<M: QueueMessage>(body: &str) -> Result<M, DecodeError> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let found = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| DecodeError::Malformed("schema_version is missing".into()))?;
    if found != u64::from(M::SCHEMA_VERSION) {
        return Err(DecodeError::WrongVersion {
            found,
            expected: M::SCHEMA_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// Why one message of a batch was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// The body is larger than [`MAX_MESSAGE_BYTES`]; never sent.
    TooLarge { bytes: usize },
    /// The queue refused it (after retries when the fault was the service's).
    Rejected {
        code: String,
        message: String,
        sender_fault: bool,
    },
    /// The whole request failed on every attempt (network, throttling).
    Unavailable(String),
}

/// What a batch send finally achieved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchReport {
    pub sent: usize,
    /// Index into the input slice and why that message was not sent.
    pub failed: Vec<(usize, SendFailure)>,
}

impl BatchReport {
    pub fn all_sent(&self) -> bool {
        self.failed.is_empty()
    }
}

/// A received message, with the body decoded if it could be (dead letters may not decode).
#[derive(Debug, Clone, PartialEq)]
pub struct Received<M> {
    pub message_id: String,
    /// Pass back to [`MessageQueue::delete`].
    pub receipt: String,
    pub body: String,
    pub message: Result<M, DecodeError>,
}

#[async_trait]
pub trait MessageQueue<M: QueueMessage>: Send + Sync {
    /// Sends one message and returns its message id.
    async fn send(&self, message: &M) -> StoreResult<String>;

    /// Sends a body as it is, without encoding or checking it: replaying a dead letter, which
    /// may be a body this code cannot decode, exactly as it was sent.
    async fn send_raw(&self, body: &str) -> StoreResult<String>;
    /// Sends `message` to be received no sooner than `delay` from now (at most
    /// [`MAX_DELAY_SECS`]: SQS's ceiling).
    async fn send_delayed(&self, message: &M, delay: std::time::Duration) -> StoreResult<String>;

    /// Sends many in batches of ten, retrying only the entries that failed through no fault of
    /// ours; reports per message what finally failed.
    async fn send_many(&self, messages: &[M]) -> BatchReport;

    /// Receives up to `max` (1..=10) messages, waiting at most `wait_secs` for the first.
    async fn receive(&self, max: u32, wait_secs: u32) -> StoreResult<Vec<Received<M>>>;

    /// Acknowledges a received message.
    async fn delete(&self, receipt: &str) -> StoreResult<()>;

    /// Makes a received message visible again at once (e.g. after listing dead letters).
    async fn release(&self, receipt: &str) -> StoreResult<()>;

    /// Messages waiting to be received (approximate on SQS: for dashboards and alarms only).
    async fn approximate_depth(&self) -> StoreResult<u64>;
}

/// One entry of a batch that the queue refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryFailure {
    pub index: usize,
    pub code: String,
    pub message: String,
    /// The service says the entry itself is bad: resending it cannot help.
    pub sender_fault: bool,
}

/// Sends one batch of (input index, body); answers the entries that failed.
#[async_trait]
pub(crate) trait BatchTransport: Send + Sync {
    async fn send_batch(&self, entries: &[(usize, &str)]) -> StoreResult<Vec<EntryFailure>>;
}

/// How often a batch (or its failed remainder) is sent before its entries count as failed.
pub(crate) const BATCH_ATTEMPTS: u32 = 3;

/// Sends `bodies` in chunks; resends only the entries that failed through no fault of ours, with
/// a short growing pause; reports what finally failed.
pub(crate) async fn send_batched(
    transport: &impl BatchTransport,
    bodies: &[String],
) -> BatchReport {
    let (chunks, mut failed) = plan_batches(bodies);
    let mut sent = 0;
    for chunk in chunks {
        let mut pending: Vec<usize> = chunk;
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let entries: Vec<(usize, &str)> =
                pending.iter().map(|&i| (i, bodies[i].as_str())).collect();
            let last = attempt >= BATCH_ATTEMPTS;
            match transport.send_batch(&entries).await {
                Ok(failures) => {
                    sent += pending.len() - failures.len();
                    let mut retry = Vec::new();
                    for f in failures {
                        if f.sender_fault || last {
                            failed.push((
                                f.index,
                                SendFailure::Rejected {
                                    code: f.code,
                                    message: f.message,
                                    sender_fault: f.sender_fault,
                                },
                            ));
                        } else {
                            retry.push(f.index);
                        }
                    }
                    if !retry.is_empty() {
                        tracing::warn!(
                            entries = retry.len(),
                            attempt,
                            "batch entries refused; resending"
                        );
                    }
                    pending = retry;
                }
                Err(e) if e.is_retryable() && !last => {
                    tracing::warn!(error = %e, attempt, "batch send failed; resending");
                }
                Err(e) => {
                    let text = e.to_string();
                    failed.extend(
                        pending
                            .drain(..)
                            .map(|i| (i, SendFailure::Unavailable(text.clone()))),
                    );
                }
            }
            if !pending.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
        }
    }
    failed.sort_by_key(|(i, _)| *i);
    if !failed.is_empty() {
        tracing::error!(
            sent,
            failed = failed.len(),
            "batch send left messages unsent"
        );
    }
    BatchReport { sent, failed }
}

/// Splits messages into SendMessageBatch chunks and drops the oversize ones up front.
/// Returns the chunks (as input indexes) and the failures found without sending.
fn plan_batches(bodies: &[String]) -> (Vec<Vec<usize>>, Vec<(usize, SendFailure)>) {
    let mut failed = Vec::new();
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_bytes = 0usize;
    for (i, body) in bodies.iter().enumerate() {
        let bytes = body.len();
        if bytes > MAX_MESSAGE_BYTES {
            failed.push((i, SendFailure::TooLarge { bytes }));
            continue;
        }
        // A batch's total payload has the same limit as one message.
        if current.len() == MAX_BATCH_ENTRIES || current_bytes + bytes > MAX_MESSAGE_BYTES {
            chunks.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(i);
        current_bytes += bytes;
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    (chunks, failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreError;
    use std::sync::Mutex;

    fn message(ticket: u64) -> TicketSyncMessage {
        TicketSyncMessage::new(TicketId(ticket), SyncReason::Webhook, None)
    }

    #[test]
    fn decode_checks_the_schema_version_first() {
        let body = encode(&message(1));
        assert_eq!(decode::<TicketSyncMessage>(&body), Ok(message(1)));
        let newer = body.replace("\"schema_version\":1", "\"schema_version\":2");
        assert_eq!(
            decode::<TicketSyncMessage>(&newer),
            Err(DecodeError::WrongVersion {
                found: 2,
                expected: 1
            })
        );
        assert!(matches!(
            decode::<TicketSyncMessage>(r#"{"ticket_id":1}"#),
            Err(DecodeError::Malformed(m)) if m.contains("schema_version")
        ));
        assert!(matches!(
            decode::<TicketSyncMessage>("not json"),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode::<TicketSyncMessage>(r#"{"schema_version":1,"ticket_id":"x"}"#),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn batches_hold_ten_entries_and_stay_under_the_size_limit() {
        let small: Vec<String> = (0..23).map(|i| format!("m{i}")).collect();
        let (chunks, failed) = plan_batches(&small);
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![10, 10, 3]
        );
        assert!(failed.is_empty());

        let big: Vec<String> = (0..5).map(|_| "x".repeat(100 * 1024)).collect();
        let (chunks, _) = plan_batches(&big);
        assert_eq!(chunks, vec![vec![0, 1], vec![2, 3], vec![4]]);

        let mixed = vec![
            "a".to_string(),
            "x".repeat(MAX_MESSAGE_BYTES + 1),
            "b".to_string(),
        ];
        let (chunks, failed) = plan_batches(&mixed);
        assert_eq!(chunks, vec![vec![0, 2]]);
        assert_eq!(
            failed,
            vec![(
                1,
                SendFailure::TooLarge {
                    bytes: MAX_MESSAGE_BYTES + 1
                }
            )]
        );
    }

    /// Answers each call from a script: per call, the failures to report (or a request error).
    struct ScriptedTransport {
        script: Mutex<Vec<StoreResult<Vec<EntryFailure>>>>,
        calls: Mutex<Vec<Vec<usize>>>,
    }

    impl ScriptedTransport {
        fn new(mut script: Vec<StoreResult<Vec<EntryFailure>>>) -> Self {
            script.reverse();
            ScriptedTransport {
                script: Mutex::new(script),
                calls: Mutex::new(Vec::new()),
            }
        }
        fn calls(&self) -> Vec<Vec<usize>> {
            self.calls.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl BatchTransport for ScriptedTransport {
        async fn send_batch(&self, entries: &[(usize, &str)]) -> StoreResult<Vec<EntryFailure>> {
            self.calls
                .lock()
                .unwrap()
                .push(entries.iter().map(|(i, _)| *i).collect());
            self.script.lock().unwrap().pop().unwrap_or(Ok(Vec::new()))
        }
    }

    fn failure(index: usize, sender_fault: bool) -> EntryFailure {
        EntryFailure {
            index,
            code: if sender_fault {
                "InvalidMessageContents"
            } else {
                "InternalError"
            }
            .into(),
            message: "refused".into(),
            sender_fault,
        }
    }

    fn bodies(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("m{i}")).collect()
    }

    #[tokio::test]
    async fn only_failed_entries_are_resent_and_sender_faults_never() {
        let transport = ScriptedTransport::new(vec![Ok(vec![failure(3, false), failure(5, true)])]);
        let report = send_batched(&transport, &bodies(8)).await;
        assert_eq!(transport.calls(), vec![(0..8).collect(), vec![3]]);
        assert_eq!(report.sent, 7);
        assert_eq!(
            report.failed,
            vec![(
                5,
                SendFailure::Rejected {
                    code: "InvalidMessageContents".into(),
                    message: "refused".into(),
                    sender_fault: true
                }
            )]
        );
    }

    #[tokio::test]
    async fn an_entry_failing_on_every_attempt_is_reported() {
        let transport = ScriptedTransport::new(vec![
            Ok(vec![failure(1, false)]),
            Ok(vec![failure(1, false)]),
            Ok(vec![failure(1, false)]),
        ]);
        let report = send_batched(&transport, &bodies(12)).await;
        // Chunk one (0..10) with two resends of entry 1, then chunk two (10, 11).
        assert_eq!(
            transport.calls(),
            vec![(0..10).collect(), vec![1], vec![1], vec![10, 11]]
        );
        assert_eq!(report.sent, 11);
        assert!(matches!(
            &report.failed[..],
            [(
                1,
                SendFailure::Rejected {
                    sender_fault: false,
                    ..
                }
            )]
        ));
    }

    #[tokio::test]
    async fn a_request_that_keeps_failing_fails_its_chunk_only() {
        let down = || Err(StoreError::Unavailable("connection refused".into()));
        let transport = ScriptedTransport::new(vec![down(), down(), down()]);
        let report = send_batched(&transport, &bodies(11)).await;
        assert_eq!(report.sent, 1, "the second chunk went through");
        assert_eq!(
            report.failed.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        assert!(
            matches!(report.failed[0].1, SendFailure::Unavailable(ref m) if m.contains("refused"))
        );

        let refused = ScriptedTransport::new(vec![Err(StoreError::AccessDenied("no".into()))]);
        let report = send_batched(&refused, &bodies(3)).await;
        assert_eq!(
            refused.calls().len(),
            1,
            "a non-retryable error is not retried"
        );
        assert_eq!(report.failed.len(), 3);
    }
}
