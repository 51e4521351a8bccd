//! Lambda entry point of kimai-writer: build the adapters once (Init), then serve SQS batches.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use std::sync::Arc;
use sync_service::connections::Connections;
use sync_service::sync_stores::SyncStores;
use sync_store::aws::{
    DynamoAuditLog, DynamoConflicts, DynamoControl, DynamoEntries, SecretsManagerSource,
};
use sync_store::clock::{Clock, SystemClock};
use sync_store::env;
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
    let deps = kimai_writer::Deps {
        stores: SyncStores {
            entries: Arc::new(DynamoEntries::from_env(&config)?),
            conflicts: Arc::new(DynamoConflicts::from_env(&config)?),
            audit: Arc::new(DynamoAuditLog::from_env(&config)?),
            control: control.clone(),
            clock,
        },
        connections: Connections::new(
            control,
            secrets,
            None,
            Some(env::required(env::KIMAI_TOKEN_SECRET)?),
        ),
        holder: kimai_writer::holder_name(),
        concurrency: kimai_writer::CONCURRENCY,
        max_receive_count: sync_service::runtime::max_receive_count(
            sync_store::schema::KIMAI_WRITE_QUEUE.max_receive_count,
        )?,
        cache: Arc::new(sync_service::writer::WriterCache::new()),
    };
    let deps = &deps;

    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(kimai_writer::handle(deps, event.payload).await)
    }))
    .await
}
