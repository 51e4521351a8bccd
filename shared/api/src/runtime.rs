//! Building the API from the environment (the Lambda's init phase; a local run against the
//! emulator): AWS adapters from the store's variables, the console's secret names, the first
//! admin.
//!
//! | variable | meaning |
//! |---|---|
//! | `CONTROL_TABLE`, `AUDIT_TABLE`, `CONFLICTS_TABLE`, `AUDIT_SYNC_RETENTION_DAYS` | the store's (see docs/storage.md) |
//! | `ENTRIES_TABLE`, `TICKET_SYNC_QUEUE_URL` | sync runs and conflict resolutions |
//! | `KIMAI_WRITE_QUEUE_URL` | approved entries' writes |
//! | `TICKET_SYNC_DLQ_URL`, `KIMAI_WRITE_DLQ_URL` | dead letters (list, replay) |
//! | `SCHEDULE_NAME`, `SCHEDULE_GROUP`, `SCHEDULE_TARGET_ARN`, `SCHEDULE_ROLE_ARN` | the schedule |
//! | `ZAMMAD_TOKEN_SECRET`, `KIMAI_TOKEN_SECRET`, `CONSOLE_SIGNING_KEY_SECRET` | secret names or ARNs |
//! | `CONSOLE_ADMIN_PASSWORD_SECRET` | optional: secret holding the first admin's password |
//! | `CONSOLE_ADMIN_USER` | optional: the first admin's name (default `admin`) |

use crate::auth;
use crate::problem::ApiError;
use crate::state::{ApiState, ConsoleSecrets, DeadLetterQueues};
use chrono::Duration;
use std::sync::Arc;
use sync_store::StoreError;
use sync_store::aws::{
    DynamoAuditLog, DynamoConflicts, DynamoControl, DynamoEntries, SchedulerSchedule,
    SecretsManagerSource, SqsQueue,
};
use sync_store::clock::SystemClock;
use sync_store::env;
use sync_store::secrets::CachedSecrets;

pub const CONSOLE_ADMIN_USER: &str = "CONSOLE_ADMIN_USER";
pub const CONSOLE_ADMIN_PASSWORD_SECRET: &str = "CONSOLE_ADMIN_PASSWORD_SECRET";
pub const DEFAULT_ADMIN_USER: &str = "admin";
/// Secrets are re-read after this, so a rotation is picked up without a redeploy.
pub const SECRET_TTL_MINUTES: i64 = 5;

impl ConsoleSecrets {
    /// The three secret names from `lookup` (the environment in production); a missing one is
    /// named in the error.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StoreError> {
        let get = |name: &'static str| lookup(name).ok_or(StoreError::MissingConfig(name));
        Ok(ConsoleSecrets {
            zammad_token: get(env::ZAMMAD_TOKEN_SECRET)?,
            kimai_token: get(env::KIMAI_TOKEN_SECRET)?,
            signing_key: get(env::CONSOLE_SIGNING_KEY_SECRET)?,
        })
    }
}

/// The API over DynamoDB and Secrets Manager, configured from the environment.
pub fn from_aws(config: &aws_config::SdkConfig) -> Result<ApiState, StoreError> {
    let secrets = Arc::new(CachedSecrets::new(
        SecretsManagerSource::from_config(config),
        Arc::new(SystemClock),
        Duration::minutes(SECRET_TTL_MINUTES),
    ));
    Ok(ApiState {
        control: Arc::new(DynamoControl::from_env(config)?),
        audit: Arc::new(DynamoAuditLog::from_env(config)?),
        conflicts: Arc::new(DynamoConflicts::from_env(config)?),
        entries: Arc::new(DynamoEntries::from_env(config)?),
        ticket_sync: Arc::new(SqsQueue::from_env(config, env::TICKET_SYNC_QUEUE_URL)?),
        kimai_write: Arc::new(SqsQueue::from_env(config, env::KIMAI_WRITE_QUEUE_URL)?),
        dead_letters: DeadLetterQueues {
            ticket_sync: Arc::new(SqsQueue::from_env(config, env::TICKET_SYNC_DLQ_URL)?),
            kimai_write: Arc::new(SqsQueue::from_env(config, env::KIMAI_WRITE_DLQ_URL)?),
        },
        schedule: Arc::new(SchedulerSchedule::from_env(config)?),
        secrets: secrets.clone(),
        secret_writer: secrets,
        secret_names: ConsoleSecrets::from_lookup(env::optional)?,
        clock: Arc::new(SystemClock),
        health_timeout: std::time::Duration::from_secs(2),
        upstream_timeout: std::time::Duration::from_secs(10),
    })
}

/// Creates the first admin from the password secret named by `CONSOLE_ADMIN_PASSWORD_SECRET`
/// (read through `lookup`), unless that user exists. `Ok(false)`: nothing to do (no secret
/// configured, or the user exists).
pub async fn bootstrap_admin(
    state: &ApiState,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<bool, ApiError> {
    let Some(secret) = lookup(CONSOLE_ADMIN_PASSWORD_SECRET) else {
        return Ok(false);
    };
    let user = lookup(CONSOLE_ADMIN_USER).unwrap_or_else(|| DEFAULT_ADMIN_USER.to_owned());
    if state.control.get_user(&user).await?.is_some() {
        return Ok(false);
    }
    let password =
        state.secrets.get_secret(&secret).await.map_err(|e| {
            ApiError::Internal(format!("first admin password secret {secret}: {e}"))
        })?;
    auth::bootstrap_admin(state, &user, &password).await
}
