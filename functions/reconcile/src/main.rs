//! Lambda entry point of reconcile: build the adapters once (Init), then serve SQS batches.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use std::sync::Arc;
use sync_service::connections::Connections;
use sync_service::sync_stores::SyncStores;
use sync_store::aws::{
    DynamoAuditLog, DynamoConflicts, DynamoControl, DynamoEntries, SecretsManagerSource, SqsQueue,
};
use sync_store::clock::{Clock, SystemClock};
use sync_store::env;
use sync_store::queue::KimaiWriteMessage;
use sync_store::secrets::CachedSecrets;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();

    let config = sync_store::aws::load_config().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let control = Arc::new(DynamoControl::from_env(&config)?);
    let secrets = Arc::new(CachedSecrets::new(
        SecretsManagerSource::from_config(&config),
        clock.clone(),
        sync_service::runtime::SECRET_CACHE_TTL,
    ));
    let deps = reconcile::Deps {
        stores: SyncStores {
            entries: Arc::new(DynamoEntries::from_env(&config)?),
            conflicts: Arc::new(DynamoConflicts::from_env(&config)?),
            audit: Arc::new(DynamoAuditLog::from_env(&config)?),
            control: control.clone(),
            clock,
        },
        writes: Arc::new(SqsQueue::<KimaiWriteMessage>::from_env(
            &config,
            env::KIMAI_WRITE_QUEUE_URL,
        )?),
        connections: Connections::new(
            control,
            secrets,
            Some(env::required(env::ZAMMAD_TOKEN_SECRET)?),
            Some(env::required(env::KIMAI_TOKEN_SECRET)?),
        ),
        concurrency: reconcile::CONCURRENCY,
        max_receive_count: sync_service::runtime::max_receive_count(
            sync_store::schema::TICKET_SYNC_QUEUE.max_receive_count,
        )?,
    };
    let deps = &deps;

    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(reconcile::handle(deps, event.payload).await)
    }))
    .await
}
