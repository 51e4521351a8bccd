//! Builds the AWS adapters and the other long-lived dependencies of a function from the
//! environment, once per Lambda instance (the Init phase). Handlers then borrow them.
//!
//! One builder per port, so each function reads only the variables of the ports it uses (the
//! webhook needs no entries table). A missing variable is `StoreError::MissingConfig(name)`.

use chrono::Duration;
use std::sync::Arc;
use sync_store::StoreResult;
use sync_store::aws::{
    DynamoAuditLog, DynamoControl, DynamoEntries, SecretsManagerSource, SqsQueue,
};
use sync_store::clock::{Clock, SystemClock};
use sync_store::env;
use sync_store::queue::TicketSyncMessage;
use sync_store::secrets::CachedSecrets;

/// How long a secret is kept in memory before it is read again (rotation shows within this).
pub const SECRET_CACHE_TTL: Duration = Duration::minutes(5);

/// Region, credentials and endpoint from the standard chain (`AWS_ENDPOINT_URL` locally).
pub async fn aws_config() -> aws_config::SdkConfig {
    sync_store::aws::load_config().await
}

/// `CONTROL_TABLE`.
pub fn control(config: &aws_config::SdkConfig) -> StoreResult<DynamoControl> {
    DynamoControl::from_env(config)
}

/// `ENTRIES_TABLE`.
pub fn entries(config: &aws_config::SdkConfig) -> StoreResult<DynamoEntries> {
    DynamoEntries::from_env(config)
}

/// `AUDIT_TABLE` (and `AUDIT_SYNC_RETENTION_DAYS`, optional).
pub fn audit(config: &aws_config::SdkConfig) -> StoreResult<DynamoAuditLog> {
    DynamoAuditLog::from_env(config)
}

/// `TICKET_SYNC_QUEUE_URL`.
pub fn ticket_queue(config: &aws_config::SdkConfig) -> StoreResult<SqsQueue<TicketSyncMessage>> {
    SqsQueue::from_env(config, env::TICKET_SYNC_QUEUE_URL)
}

/// Secrets Manager behind a cache of [`SECRET_CACHE_TTL`].
pub fn secrets(
    config: &aws_config::SdkConfig,
    clock: Arc<dyn Clock>,
) -> CachedSecrets<SecretsManagerSource> {
    CachedSecrets::new(
        SecretsManagerSource::from_config(config),
        clock,
        SECRET_CACHE_TTL,
    )
}

/// The wall clock, shared.
pub fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
