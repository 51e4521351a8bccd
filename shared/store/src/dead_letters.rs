//! Dead letters: reading a dead-letter queue without losing anything, and replaying its
//! messages to the queue they came from. Written once against [`MessageQueue`], so both
//! adapters behave the same (and pass the same contract tests).
//!
//! A DLQ has no "peek": a message is read by receiving it, which hides it for the queue's
//! visibility timeout. [`peek`] therefore receives, then releases (visibility 0) every message
//! it got, newest receipt last, so the queue is as it was. It is for tests and tools: the
//! console lists the control store's dead-letter records instead, because even a receive that
//! is released again hides the message meanwhile and counts a delivery. If a release fails the message
//! reappears by itself when its visibility timeout ends: it is late, never lost.
//!
//! [`replay`] moves a message in three steps: receive from the DLQ, send the body unchanged to
//! the source queue, delete it from the DLQ. The delete only follows a send that succeeded, so
//! a failure in between leaves the message in the DLQ (send failed) or in both queues (delete
//! failed: it may be replayed twice, which the consumers' idempotency absorbs). Never in none.

use crate::error::{StoreError, StoreResult};
use crate::queue::{MessageQueue, QueueMessage, Received};
use std::collections::HashSet;

/// Most messages one [`peek`] returns (and one replay of "all" moves); a DLQ holding more is
/// a deployment problem to look at with the AWS console or CLI, not page by page here.
pub const MAX_PEEK: usize = 200;

/// Long polling of one second per receive: a short poll samples only some SQS servers (and a
/// just-released message may not be visible to it yet), so it can answer "empty" while
/// messages wait. This costs one second at the end of a listing.
const RECEIVE_WAIT_SECS: u32 = 1;

/// Receives up to `max` messages of `dlq` (at most [`MAX_PEEK`]) and releases them again.
/// The bodies are returned as they are; [`Received::message`] says whether they decode.
pub async fn peek<M: QueueMessage>(
    dlq: &dyn MessageQueue<M>,
    max: usize,
) -> StoreResult<Vec<Received<M>>> {
    let max = max.min(MAX_PEEK);
    let mut seen = HashSet::new();
    let mut held: Vec<Received<M>> = Vec::new();
    let mut failure = None;
    while held.len() < max {
        let want = (max - held.len()).min(10) as u32;
        match dlq.receive(want, RECEIVE_WAIT_SECS).await {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => {
                let mut fresh = false;
                for m in batch {
                    if seen.insert(m.message_id.clone()) {
                        fresh = true;
                        held.push(m);
                    } else {
                        // Seen already (its visibility ran out meanwhile): release this copy too.
                        release(dlq, &m).await;
                    }
                }
                if !fresh {
                    break;
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    // Released newest first so a FIFO store puts them back in their old order.
    for m in held.iter().rev() {
        release(dlq, m).await;
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(held),
    }
}

async fn release<M: QueueMessage>(dlq: &dyn MessageQueue<M>, m: &Received<M>) {
    if let Err(e) = dlq.release(&m.receipt).await {
        // Not lost: it becomes visible again when its visibility timeout ends.
        tracing::warn!(message_id = %m.message_id, error = %e, "dead letter not released; it reappears after the visibility timeout");
    }
}

/// Which dead letters to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplaySelection {
    /// The message with this SQS message id.
    One(String),
    /// Every message, up to [`MAX_PEEK`] per call.
    All,
}

/// What one replay achieved, by DLQ message id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplayReport {
    /// Sent to the source queue and deleted from the DLQ.
    pub replayed: Vec<String>,
    /// Sent to the source queue, but the delete from the DLQ failed: it is in both queues and
    /// may run twice (the consumers are idempotent); replaying it again adds another copy.
    pub not_deleted: Vec<(String, String)>,
    /// Could not be sent: still in the DLQ, with the error.
    pub failed: Vec<(String, String)>,
}

impl ReplayReport {
    pub fn is_empty(&self) -> bool {
        self.replayed.is_empty() && self.not_deleted.is_empty() && self.failed.is_empty()
    }
}

/// Replays the selected dead letters of `dlq` to `source`, body unchanged. A receive failure
/// before anything moved is an error; after that the report says what moved. The first send
/// failure stops the replay (the source queue is likely down); the rest stays in the DLQ.
pub async fn replay<M: QueueMessage>(
    dlq: &dyn MessageQueue<M>,
    source: &dyn MessageQueue<M>,
    selection: &ReplaySelection,
) -> StoreResult<ReplayReport> {
    let mut report = ReplayReport::default();
    // Received but not replayed (other ids, or after a failure): released at the end, so a
    // later receive of this call cannot return them again.
    let mut held: Vec<Received<M>> = Vec::new();
    let mut seen = HashSet::new();
    let mut stop = false;
    let mut result = Ok(());
    while !stop && seen.len() < MAX_PEEK {
        let batch = match dlq.receive(10, RECEIVE_WAIT_SECS).await {
            Ok(batch) => batch,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        if batch.is_empty() {
            break;
        }
        let mut fresh = false;
        for m in batch {
            if !seen.insert(m.message_id.clone()) {
                held.push(m);
                continue;
            }
            fresh = true;
            let wanted = match selection {
                ReplaySelection::One(id) => *id == m.message_id,
                ReplaySelection::All => true,
            };
            if stop || !wanted {
                held.push(m);
                continue;
            }
            match source.send_raw(&m.body).await {
                Ok(_) => match dlq.delete(&m.receipt).await {
                    Ok(()) => report.replayed.push(m.message_id.clone()),
                    Err(e) => {
                        tracing::warn!(message_id = %m.message_id, error = %e, "dead letter replayed but not deleted from the DLQ");
                        report
                            .not_deleted
                            .push((m.message_id.clone(), e.to_string()));
                    }
                },
                Err(e) => {
                    tracing::warn!(message_id = %m.message_id, error = %e, "dead letter not replayed; it stays in the DLQ");
                    report.failed.push((m.message_id.clone(), e.to_string()));
                    held.push(m);
                    stop = true;
                }
            }
        }
        if !fresh {
            break;
        }
        if let ReplaySelection::One(id) = selection {
            if report.replayed.contains(id)
                || report.not_deleted.iter().any(|(m, _)| m == id)
                || report.failed.iter().any(|(m, _)| m == id)
            {
                stop = true;
            }
        }
    }
    for m in held.iter().rev() {
        release(dlq, m).await;
    }
    match result {
        Err(e) if report.is_empty() => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "dead-letter replay stopped early: receive failed");
            Ok(report)
        }
        Ok(()) => Ok(report),
    }
}

/// Deletes from `dlq` every message (of the first [`MAX_PEEK`]) whose body `matches`, and
/// releases the others: for a GDPR purge, which must not leave a person's data in a queue.
/// How many were deleted.
pub async fn remove_where<M: QueueMessage>(
    dlq: &dyn MessageQueue<M>,
    matches: impl Fn(&str) -> bool,
) -> StoreResult<usize> {
    let mut held: Vec<Received<M>> = Vec::new();
    let mut seen = HashSet::new();
    let mut removed = 0;
    let mut result = Ok(());
    while seen.len() < MAX_PEEK {
        let batch = match dlq.receive(10, RECEIVE_WAIT_SECS).await {
            Ok(batch) => batch,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        if batch.is_empty() {
            break;
        }
        let mut fresh = false;
        for m in batch {
            fresh |= seen.insert(m.message_id.clone());
            if matches(&m.body) {
                match dlq.delete(&m.receipt).await {
                    Ok(()) => removed += 1,
                    Err(e) => {
                        result = Err(e);
                        held.push(m);
                    }
                }
            } else {
                held.push(m);
            }
        }
        if !fresh {
            break;
        }
    }
    for m in held.iter().rev() {
        release(dlq, m).await;
    }
    result.map(|()| removed)
}

/// A selection's message id, checked: letters, digits, `-` and `_`, up to 128 characters (SQS
/// ids are UUIDs; the memory adapter's ids fit too).
pub fn check_message_id(id: &str) -> StoreResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{id:?} is not a message id (letters, digits, '-', '_'; at most 128)"
        )))
    }
}
