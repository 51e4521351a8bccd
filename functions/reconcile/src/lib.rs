//! reconcile: the `ticket-sync` consumer. Each record names one ticket; the ticket is planned
//! against Kimai and its writes go to the `kimai-write` queue (`sync_service::reconcile`).
//! Failed records are reported as batch item failures, so SQS retries only those and
//! dead-letters them after `maxReceiveCount`.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use std::sync::Arc;
use sync_service::batch::{QueueRecord, process_batch};
use sync_service::connections::Connections;
use sync_service::reconcile::{InvocationCache, Reconciler};
use sync_service::sync_stores::SyncStores;
use sync_store::queue::{KimaiWriteMessage, MessageQueue};

/// Tickets planned at once per invocation. Each plan makes a handful of Zammad and Kimai
/// reads; the clients bound their own requests in flight too.
pub const CONCURRENCY: usize = 4;

/// Everything the handler needs, built once per Lambda instance.
pub struct Deps {
    pub stores: SyncStores,
    pub writes: Arc<dyn MessageQueue<KimaiWriteMessage>>,
    pub connections: Connections,
    pub concurrency: usize,
    /// The ticket-sync queue's deployed `maxReceiveCount` (`QUEUE_MAX_RECEIVE_COUNT`).
    pub max_receive_count: u32,
}

/// The ids and bodies of the event's records (a record without a body is processed as an
/// empty body: it fails to decode and is reported, never dropped).
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

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let records = records(event);
    let clients = async {
        Ok::<_, sync_service::connections::ConnectionError>((
            deps.connections.zammad().await?,
            deps.connections.kimai().await?,
        ))
    };
    let ((zammad, zammad_settings), kimai) = match clients.await {
        Ok(c) => c,
        Err(e) => {
            // Without clients no record can be planned: all of them go back to the queue.
            tracing::error!(error = %e, retryable = e.is_retryable(), "cannot build the Zammad and Kimai clients");
            return response(records.into_iter().map(|r| r.message_id).collect());
        }
    };
    let reconciler = Arc::new(Reconciler {
        zammad,
        zammad_settings,
        kimai,
        stores: deps.stores.clone(),
        writes: deps.writes.clone(),
        max_receive_count: deps.max_receive_count,
    });
    // One cache per invocation: the Kimai catalog and the policy are read once per batch.
    let cache = Arc::new(InvocationCache::new());
    let failed = process_batch(records, deps.concurrency, move |record| {
        let reconciler = reconciler.clone();
        let cache = cache.clone();
        async move {
            reconciler
                .reconcile_record(&cache, &record)
                .await
                .map(|_| ())
        }
    })
    .await;
    response(failed)
}
