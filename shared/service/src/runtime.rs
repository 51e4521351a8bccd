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

/// `QUEUE_MAX_RECEIVE_COUNT`: the `maxReceiveCount` of both queues' redrive policies, as the
/// template deploys it (a parameter: short for the local stack, the schema's value on AWS).
/// The consumers need it to know which failure is the last one (it goes to the DLQ and is
/// counted and audited there). Unset: `default`, the schema's value.
pub const QUEUE_MAX_RECEIVE_COUNT: &str = "QUEUE_MAX_RECEIVE_COUNT";

/// The value of [`QUEUE_MAX_RECEIVE_COUNT`], or `default` when it is unset or empty. Anything
/// but a whole number from 1 to 1000 (SQS's range) is a configuration error.
pub fn max_receive_count(default: u32) -> StoreResult<u32> {
    parse_max_receive_count(env::optional(QUEUE_MAX_RECEIVE_COUNT).as_deref(), default)
}

fn parse_max_receive_count(value: Option<&str>, default: u32) -> StoreResult<u32> {
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| {
            sync_store::StoreError::Invalid(format!(
                "{QUEUE_MAX_RECEIVE_COUNT}={value:?} is not a whole number from 1 to 1000"
            ))
        })
}

/// The wall clock, shared.
pub fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_max_receive_count_defaults_and_rejects_nonsense() {
        assert_eq!(parse_max_receive_count(None, 5).unwrap(), 5);
        assert_eq!(parse_max_receive_count(Some("3"), 5).unwrap(), 3);
        assert_eq!(parse_max_receive_count(Some(" 2 "), 5).unwrap(), 2);
        for bad in ["0", "1001", "-1", "three", "2.5"] {
            let err = parse_max_receive_count(Some(bad), 5).unwrap_err();
            assert!(
                matches!(&err, sync_store::StoreError::Invalid(m) if m.contains(QUEUE_MAX_RECEIVE_COUNT)),
                "{bad}: {err}"
            );
        }
    }
}
