//! kimai-writer: the `kimai-write` consumer. Each record is one planned operation, applied to
//! Kimai exactly once by the writer protocol (`sync_service::writer`). Records that fail
//! retryably (or cannot be read) are reported as batch item failures; Kimai's refusals become
//! conflicts and are acknowledged.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use std::sync::Arc;
use sync_service::batch::{QueueRecord, process_batch};
use sync_service::connections::Connections;
use sync_service::sync_stores::SyncStores;
use sync_service::writer::{Writer, WriterCache};

/// Writes at once per invocation. The function's reserved concurrency times this bounds the
/// load on Kimai.
pub const CONCURRENCY: usize = 2;

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
}

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

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let records = records(event);
    let kimai = match deps.connections.kimai().await {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, retryable = e.is_retryable(), "cannot build the Kimai client");
            return response(records.into_iter().map(|r| r.message_id).collect());
        }
    };
    let writer = Arc::new(
        Writer::new(kimai, deps.stores.clone(), deps.holder.clone())
            .with_max_receive_count(deps.max_receive_count),
    );
    let cache = deps.cache.clone();
    let failed = process_batch(records, deps.concurrency, move |record| {
        let writer = writer.clone();
        let cache = cache.clone();
        async move {
            writer
                .apply_record(&cache, &record)
                .await
                .map(|outcome| tracing::info!(?outcome, "operation applied"))
        }
    })
    .await;
    response(failed)
}

/// A claim holder name that differs between function instances.
pub fn holder_name() -> String {
    let instance = std::env::var("AWS_LAMBDA_LOG_STREAM_NAME")
        .unwrap_or_else(|_| format!("pid-{}", std::process::id()));
    format!("kimai-writer/{instance}")
}
