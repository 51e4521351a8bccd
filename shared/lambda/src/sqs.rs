//! The one SQS-batch helper of the two queue consumers (reconcile, kimai-writer), in the shape
//! of the Lambda runtime's partial-batch-failure example: each record is read as its queue's
//! typed message, the records run concurrently up to a bound, each in a tracing span named by
//! its message id, and the response names the records that failed, so SQS retries only those
//! (and dead-letters them after `maxReceiveCount`).
//!
//! Unlike the example, a record whose body is not a message is not failed here on its own: it
//! reaches the consumer like any other (its [`Record::message`] is the decode error), because
//! the service audits an undecodable message and dead-letters it on its last delivery. It is
//! reported as failed either way, never dropped. A record that panics fails only itself.
//!
//! Records run until the invocation's deadline ([`Deadline`]): their upstream calls end by
//! then ([`call_deadline`]), and a record still running a moment later is stopped and reported
//! as failed, so the invocation answers instead of being killed at its time limit (which
//! would send the whole batch back, finished records included).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use std::future::Future;
use std::sync::Arc;
use sync_store::queue::{DecodeError, QueueMessage, decode};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::deadline::Deadline;
use tracing::Instrument;

pub use sync_service::batch::QueueRecord;

/// One record of a batch, as the consumer gets it.
#[derive(Debug)]
pub struct Record<M> {
    /// Id, body and receive count: what the service's consumers take, and what tells the last
    /// delivery (`QueueRecord::is_last_attempt`).
    pub delivery: QueueRecord,
    /// The body read as the queue's message, or why it is not one.
    pub message: Result<M, DecodeError>,
}

/// Runs `process` on every record of `event` as its message type `M`, at most `concurrency` at
/// once, until `deadline`, and answers with the records whose processing failed (or panicked,
/// or was stopped at the deadline).
pub async fn process_batch<M, F, Fut, E>(
    event: SqsEvent,
    concurrency: usize,
    deadline: Option<Deadline>,
    process: F,
) -> SqsBatchResponse
where
    M: QueueMessage,
    F: Fn(Record<M>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let failed = process_records(records(event), concurrency, deadline, move |delivery| {
        let message = decode::<M>(&delivery.body);
        process(Record { delivery, message })
    })
    .await;
    response(failed)
}

/// The response that sends every record of `event` back to the queue: used when none of
/// them can be processed (the upstream clients cannot be built).
pub fn all_failed(event: SqsEvent) -> SqsBatchResponse {
    response(records(event).into_iter().map(|r| r.message_id).collect())
}

/// The deliveries of the event's records. A record without a body is processed as an empty
/// body: it fails to decode and is reported, never dropped.
pub fn records(event: SqsEvent) -> Vec<QueueRecord> {
    event
        .records
        .into_iter()
        .map(|m| QueueRecord {
            receive_count: m
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1),
            message_id: m.message_id.unwrap_or_default(),
            body: m.body.unwrap_or_default(),
        })
        .collect()
}

/// The partial batch response naming the failed records.
pub fn response(failed: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// Runs `process` on every record, at most `concurrency` at once, each in a span named by its
/// message id, and returns the message ids of the records whose processing failed (or
/// panicked, or was still running at `deadline.stop`), in input order.
pub async fn process_records<F, Fut, E>(
    records: Vec<QueueRecord>,
    concurrency: usize,
    deadline: Option<Deadline>,
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
                let work = process(record);
                let result = match deadline {
                    Some(d) => call_deadline::run_until(d.calls, work).await,
                    None => work.await,
                };
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "record failed");
                }
                (index, result.is_ok())
            }
            .instrument(span),
        );
    }
    let mut ok = vec![false; ids.len()];
    loop {
        let next = match deadline {
            Some(d) => match tokio::time::timeout_at(d.stop, tasks.join_next()).await {
                Ok(next) => next,
                Err(_) => {
                    // Like a crash of this instance, which the write protocol is made for:
                    // the records go back to the queue and are retried whole.
                    tracing::error!(
                        unfinished = tasks.len(),
                        "records still running at the invocation's deadline: stopped and reported as failed"
                    );
                    tasks.abort_all();
                    break;
                }
            },
            None => tasks.join_next().await,
        };
        match next {
            None => break,
            Some(Ok((index, success))) => ok[index] = success,
            // A panicking record counts as failed; the others are unaffected.
            Some(Err(e)) => tracing::error!(error = %e, "record task panicked"),
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
    use aws_lambda_events::event::sqs::SqsMessage;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use sync_store::queue::{SyncReason, TicketSyncMessage, encode};
    use tokio::time::Instant;

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
        let failed = process_records(records(6), 3, None, |r: QueueRecord| async move {
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
        let failed = process_records(records(10), 2, None, move |_| {
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

    #[tokio::test]
    async fn records_see_the_calls_deadline_and_those_running_past_the_stop_fail_alone() {
        let deadline = Deadline {
            calls: Instant::now() + Duration::from_millis(300),
            stop: Instant::now() + Duration::from_millis(600),
        };
        let started = std::time::Instant::now();
        let failed = process_records(records(4), 4, Some(deadline), move |r| async move {
            assert_eq!(call_deadline::current(), Some(deadline.calls));
            match r.body.as_str() {
                // Hangs past the stop (an upstream call that ignores the deadline).
                "1" => tokio::time::sleep(Duration::from_secs(60)).await,
                // Gives up at the calls' deadline, as the clients do, and fails.
                "2" => {
                    tokio::time::sleep(call_deadline::remaining().unwrap()).await;
                    return Err("out of time".to_owned());
                }
                _ => {}
            }
            Ok(())
        })
        .await;
        assert_eq!(failed, vec!["m1", "m2"]);
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "answered at the stop, not after the hang: {took:?}"
        );
    }

    fn message(id: &str, body: Option<String>, receive_count: Option<&str>) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = body;
        if let Some(count) = receive_count {
            m.attributes
                .insert("ApproximateReceiveCount".into(), count.into());
        }
        m
    }

    #[tokio::test]
    async fn records_arrive_typed_with_their_receive_count_and_undecodable_ones_fail() {
        let good = encode(&TicketSyncMessage::new(
            sync_core::ids::TicketId(7),
            SyncReason::Webhook,
            None,
        ));
        let mut event = SqsEvent::default();
        event.records = vec![
            message("good", Some(good), Some("3")),
            message("garbage", Some("not json".into()), None),
            message("empty", None, None),
        ];
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let response = process_batch(event, 2, None, move |r: Record<TicketSyncMessage>| {
            let log = log.clone();
            async move {
                let ticket = r.message.as_ref().ok().map(|m| m.ticket_id.0);
                log.lock().unwrap().push((
                    r.delivery.message_id.clone(),
                    r.delivery.receive_count,
                    ticket,
                ));
                r.message.map(|_| ())
            }
        })
        .await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, vec!["garbage", "empty"]);
        let mut seen = seen.lock().unwrap().clone();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                ("empty".to_owned(), 1, None),
                ("garbage".to_owned(), 1, None),
                ("good".to_owned(), 3, Some(7)),
            ]
        );
    }
}
