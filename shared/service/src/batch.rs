//! Processing one SQS batch with partial batch failures, for the two queue consumers.
//!
//! Records run concurrently up to a bound, each in a tracing span named by its message id; the
//! ids of the records that failed are returned, so only those are retried by SQS (and land in
//! the dead-letter queue after `maxReceiveCount`). The Lambda event types stay in the
//! functions; this module only sees ids and bodies.

use std::future::Future;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

/// One record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    pub message_id: String,
    pub body: String,
    /// SQS's `ApproximateReceiveCount` (1 on the first delivery): when it reaches the queue's
    /// `maxReceiveCount`, a failure sends the message to the dead-letter queue.
    pub receive_count: u32,
}

impl QueueRecord {
    /// Whether failing now moves the message to the DLQ (no further retry).
    pub fn is_last_attempt(&self, max_receive_count: u32) -> bool {
        self.receive_count >= max_receive_count
    }
}

/// Runs `process` on every record, at most `concurrency` at once, and returns the message ids
/// of the records whose processing failed (or panicked), in input order.
pub async fn process_batch<F, Fut, E>(
    records: Vec<QueueRecord>,
    concurrency: usize,
    process: F,
) -> Vec<String>
where
    F: Fn(QueueRecord) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let process = Arc::new(process);
    let mut tasks = JoinSet::new();
    let ids: Vec<String> = records.iter().map(|r| r.message_id.clone()).collect();
    for (index, record) in records.into_iter().enumerate() {
        let permits = permits.clone();
        let process = process.clone();
        let span = tracing::info_span!("record", message_id = %record.message_id);
        tasks.spawn(
            async move {
                // The semaphore is never closed, so acquiring only waits.
                let _permit = permits.acquire_owned().await;
                let result = process(record).await;
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "record failed");
                }
                (index, result.is_ok())
            }
            .instrument(span),
        );
    }
    let mut ok = vec![false; ids.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, success)) => ok[index] = success,
            // A panicking record counts as failed; the others are unaffected.
            Err(e) => tracing::error!(error = %e, "record task panicked"),
        }
    }
    ids.into_iter()
        .zip(ok)
        .filter(|(_, ok)| !ok)
        .map(|(id, _)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn records(n: usize) -> Vec<QueueRecord> {
        (0..n)
            .map(|i| QueueRecord {
                message_id: format!("m{i}"),
                body: i.to_string(),
                receive_count: 1,
            })
            .collect()
    }

    #[tokio::test]
    async fn failed_and_panicking_records_are_reported_in_input_order() {
        let failed = process_batch(records(6), 3, |r: QueueRecord| async move {
            match r.body.as_str() {
                "1" | "4" => Err(format!("bad {}", r.body)),
                "2" => panic!("boom"),
                _ => Ok(()),
            }
        })
        .await;
        assert_eq!(failed, vec!["m1", "m2", "m4"]);
    }

    #[tokio::test]
    async fn at_most_the_bound_runs_at_once() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (r, p) = (running.clone(), peak.clone());
        let failed = process_batch(records(10), 2, move |_| {
            let (r, p) = (r.clone(), p.clone());
            async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                r.fetch_sub(1, Ordering::SeqCst);
                Ok::<(), String>(())
            }
        })
        .await;
        assert!(failed.is_empty());
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
