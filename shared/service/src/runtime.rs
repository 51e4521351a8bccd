//! Builds the AWS adapters and the other long-lived dependencies of a function from the
//! environment, once per Lambda instance (the Init phase). Handlers then borrow them.

use chrono::Duration;
use std::sync::Arc;
use sync_store::StoreResult;
use sync_store::audit::AuditLog;
use sync_store::aws::{
    DynamoAuditLog, DynamoControl, DynamoEntries, SecretsManagerSource, SqsQueue,
};
use sync_store::clock::{Clock, SystemClock};
use sync_store::control::ControlStore;
use sync_store::entries::EntriesStore;
use sync_store::env;
use sync_store::queue::{MessageQueue, TicketSyncMessage};
use sync_store::secrets::{CachedSecrets, SecretSource};

/// How long a secret is kept in memory before it is read again (rotation shows within this).
pub const SECRET_CACHE_TTL: Duration = Duration::minutes(5);

/// The ports a pipeline function uses, on their AWS adapters.
pub struct AwsPorts {
    pub control: Arc<dyn ControlStore>,
    pub entries: Arc<dyn EntriesStore>,
    pub audit: Arc<dyn AuditLog>,
    pub ticket_queue: Arc<dyn MessageQueue<TicketSyncMessage>>,
    pub secrets: Arc<dyn SecretSource>,
    pub clock: Arc<dyn Clock>,
}

impl AwsPorts {
    /// Reads `CONTROL_TABLE`, `ENTRIES_TABLE`, `AUDIT_TABLE`, `TICKET_SYNC_QUEUE_URL` (and
    /// `AUDIT_SYNC_RETENTION_DAYS`); a missing one is `StoreError::MissingConfig(name)`.
    pub async fn from_env() -> StoreResult<Self> {
        let config = sync_store::aws::load_config().await;
        Self::from_config(&config)
    }

    pub fn from_config(config: &aws_config::SdkConfig) -> StoreResult<Self> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Ok(AwsPorts {
            control: Arc::new(DynamoControl::from_env(config)?),
            entries: Arc::new(DynamoEntries::from_env(config)?),
            audit: Arc::new(DynamoAuditLog::from_env(config)?),
            ticket_queue: Arc::new(SqsQueue::<TicketSyncMessage>::from_env(
                config,
                env::TICKET_SYNC_QUEUE_URL,
            )?),
            secrets: Arc::new(CachedSecrets::new(
                SecretsManagerSource::from_config(config),
                clock.clone(),
                SECRET_CACHE_TTL,
            )),
            clock,
        })
    }
}
