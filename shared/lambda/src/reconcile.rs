//! reconcile: the `ticket-sync` consumer. Each record names one ticket; the ticket is planned
//! against Kimai and its writes go to the `kimai-write` queue (`sync_service::reconcile`).
//! Failed records are reported as batch item failures ([`crate::sqs`]), so SQS retries only
//! those and dead-letters them after `maxReceiveCount`.

use crate::deadline::Deadline;
use crate::sqs::{Record, all_failed, process_batch};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use std::sync::Arc;
use sync_service::connections::{ConnectionError, Connections};
use sync_service::outage::WaitForKimai;
use sync_service::reconcile::{InvocationCache, ReconcileCache, Reconciler};
use sync_service::sync_stores::SyncStores;
use sync_store::queue::{KimaiWriteMessage, MessageQueue, TicketSyncMessage};

/// Tickets planned at once per invocation. Each plan makes a handful of Zammad and Kimai
/// reads; the clients bound their own requests in flight too.
pub const CONCURRENCY: usize = 4;

/// Everything the handler needs, built once per Lambda instance
/// ([`crate::adapters::reconcile`]).
pub struct Deps {
    pub stores: SyncStores,
    pub writes: Arc<dyn MessageQueue<KimaiWriteMessage>>,
    /// The ticket-sync queue itself: records wait there, delayed, while Kimai is down.
    pub queue: Arc<dyn MessageQueue<TicketSyncMessage>>,
    pub connections: Connections,
    pub concurrency: usize,
    /// The ticket-sync queue's deployed `maxReceiveCount` (`QUEUE_MAX_RECEIVE_COUNT`).
    pub max_receive_count: u32,
    /// A ticket whose record panics ([`PANIC_TICKET`]); `None` in every real deploy.
    pub panic_ticket: Option<u64>,
    /// What the instance keeps across invocations: the Kimai catalog, window snapshots,
    /// Zammad agents and organisations, each for a short expiry.
    pub cache: Arc<ReconcileCache>,
}

/// Fault injection for the end-to-end suite: a record naming this ticket panics, which proves
/// on the deployed build that a panic fails only its own record. The template never sets it;
/// the suite sets it on the local stack for one test.
pub const PANIC_TICKET: &str = "SYNC_FAULT_PANIC_TICKET";

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
    let clients = async {
        Ok::<_, ConnectionError>((
            deps.connections.zammad().await?,
            deps.connections.kimai().await?,
        ))
    };
    let ((zammad, zammad_settings), kimai) = match clients.await {
        Ok(c) => c,
        Err(e) => {
            // Without clients no record can be planned: all of them go back to the queue.
            tracing::error!(error = %e, retryable = e.is_retryable(), "cannot build the Zammad and Kimai clients");
            return all_failed(event);
        }
    };
    let reconciler = Arc::new(Reconciler {
        zammad,
        zammad_settings,
        kimai,
        stores: deps.stores.clone(),
        writes: deps.writes.clone(),
        max_receive_count: deps.max_receive_count,
        wait: Some(
            WaitForKimai::read(
                deps.queue.clone(),
                deps.stores.control.clone(),
                deps.stores.now(),
            )
            .await,
        ),
    });
    // The policy is read once per batch; the catalog and the rest live in the instance's cache.
    let cache = Arc::new(InvocationCache::within(deps.cache.clone()));
    let panic_ticket = deps.panic_ticket;
    let response = process_batch(
        event,
        deps.concurrency,
        deadline,
        move |record: Record<TicketSyncMessage>| {
            let reconciler = reconciler.clone();
            let cache = cache.clone();
            async move {
                if let (Some(ticket), Ok(message)) = (panic_ticket, &record.message) {
                    if message.ticket_id.0 == ticket {
                        panic!("fault injected: {PANIC_TICKET}={ticket}");
                    }
                }
                // The service reads the delivery itself: it audits an undecodable message and
                // dead-letters a record on its last delivery.
                reconciler
                    .reconcile_record(&cache, &record.delivery)
                    .await
                    .map(|_| ())
            }
        },
    )
    .await;
    // The conflicts this invocation opened go out as one event per run, and the backlog is
    // checked against its threshold.
    deps.stores.flush_events().await;
    response
}
