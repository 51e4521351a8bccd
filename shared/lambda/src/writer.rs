//! kimai-writer: the `kimai-write` consumer. Each record is one planned operation, applied to
//! Kimai exactly once by the writer protocol (`sync_service::writer`). Records that fail
//! retryably (or cannot be read) are reported as batch item failures ([`crate::sqs`]); Kimai's
//! refusals become conflicts and are acknowledged.

use crate::deadline::Deadline;
use crate::sqs::{Record, all_failed, process_batch};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use std::sync::Arc;
use sync_service::connections::Connections;
use sync_service::outage::WaitForKimai;
use sync_service::privacy::suppression::Suppressed;
use sync_service::sync_stores::SyncStores;
use sync_service::writer::{Writer, WriterCache};
use sync_store::queue::{KimaiWriteMessage, MessageQueue};

/// Writes at once per invocation. The function's reserved concurrency times this bounds the
/// load on Kimai.
pub const CONCURRENCY: usize = 2;

/// Everything the handler needs, built once per Lambda instance ([`crate::adapters::writer`]).
pub struct Deps {
    pub stores: SyncStores,
    pub connections: Connections,
    /// Who claims operations: unique per function instance.
    pub holder: String,
    pub concurrency: usize,
    /// The kimai-write queue's deployed `maxReceiveCount` (`QUEUE_MAX_RECEIVE_COUNT`).
    pub max_receive_count: u32,
    /// Kept for the life of the instance: the API user and the tags known to exist (with a
    /// short expiry), so a warm instance does not look them up again per batch.
    pub cache: Arc<WriterCache>,
    /// The kimai-write queue itself: records wait there, delayed, while Kimai is down.
    pub queue: Arc<dyn MessageQueue<KimaiWriteMessage>>,
}

/// Serves SQS batches until the runtime stops.
pub async fn run(deps: Deps) -> Result<(), Error> {
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let deadline = Deadline::of(&event.context);
        let response = handle(deps, event.payload, Some(deadline)).await;
        crate::metrics::flush();
        Ok::<_, Error>(response)
    }))
    .await
}

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
/// `deadline`: when the invocation's work must end (`None`: no limit, in tests).
pub async fn handle(deps: &Deps, event: SqsEvent, deadline: Option<Deadline>) -> SqsBatchResponse {
    let kimai = match deps.connections.kimai().await {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, retryable = e.is_retryable(), "cannot build the Kimai client");
            return all_failed(event);
        }
    };
    let wait = WaitForKimai::read(
        deps.queue.clone(),
        deps.stores.control.clone(),
        deps.stores.now(),
    )
    .await;
    // Read per batch, so a purge is heeded by the next batch (one query).
    let suppressed = match Suppressed::load(deps.stores.control.as_ref()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the purged people");
            return all_failed(event);
        }
    };
    let writer = Arc::new(
        Writer::new(kimai, deps.stores.clone(), deps.holder.clone())
            .with_max_receive_count(deps.max_receive_count)
            .with_wait(wait)
            .with_suppressed(suppressed),
    );
    let cache = deps.cache.clone();
    let response = process_batch(
        event,
        deps.concurrency,
        deadline,
        move |record: Record<KimaiWriteMessage>| {
            let writer = writer.clone();
            let cache = cache.clone();
            async move {
                // The service reads the delivery itself: it audits an undecodable message and
                // dead-letters a record on its last delivery.
                writer
                    .apply_record(&cache, &record.delivery)
                    .await
                    .map(|outcome| tracing::info!(?outcome, "operation handled"))
            }
        },
    )
    .await;
    // The conflicts this invocation opened go out as one event per run, and the backlog is
    // checked against its threshold.
    deps.stores.flush_events().await;
    response
}

/// A claim holder name that differs between function instances.
pub fn holder_name() -> String {
    let instance = std::env::var("AWS_LAMBDA_LOG_STREAM_NAME")
        .unwrap_or_else(|_| format!("pid-{}", std::process::id()));
    format!("kimai-writer/{instance}")
}
