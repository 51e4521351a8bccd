//! Names of the environment variables that tell the adapters which resources to use. The SAM
//! template sets them; nothing else chooses a resource.

use crate::error::{StoreError, StoreResult};

pub const ENTRIES_TABLE: &str = "ENTRIES_TABLE";
pub const CONFLICTS_TABLE: &str = "CONFLICTS_TABLE";
pub const AUDIT_TABLE: &str = "AUDIT_TABLE";
pub const CONTROL_TABLE: &str = "CONTROL_TABLE";
pub const TICKET_SYNC_QUEUE_URL: &str = "TICKET_SYNC_QUEUE_URL";
pub const KIMAI_WRITE_QUEUE_URL: &str = "KIMAI_WRITE_QUEUE_URL";
/// The dead-letter queues, for the console's list and replay of dead letters.
pub const TICKET_SYNC_DLQ_URL: &str = "TICKET_SYNC_DLQ_URL";
pub const KIMAI_WRITE_DLQ_URL: &str = "KIMAI_WRITE_DLQ_URL";
/// Days to keep sync events in the audit log (access events: always 90).
pub const AUDIT_SYNC_RETENTION_DAYS: &str = "AUDIT_SYNC_RETENTION_DAYS";
/// Name or ARN of the stack's event bus, where the sync publishes its domain events.
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
pub const SCHEDULE_NAME: &str = "SCHEDULE_NAME";
/// Optional; `default` when unset.
pub const SCHEDULE_GROUP: &str = "SCHEDULE_GROUP";
/// ARN of what the schedule invokes (the scheduled-fetch function).
pub const SCHEDULE_TARGET_ARN: &str = "SCHEDULE_TARGET_ARN";
/// The function that carries out GDPR purge jobs (invoked by the api).
pub const GDPR_PURGE_FUNCTION: &str = "GDPR_PURGE_FUNCTION";
/// Role EventBridge Scheduler assumes to invoke the target.
pub const SCHEDULE_ROLE_ARN: &str = "SCHEDULE_ROLE_ARN";
/// Secret ids (names or ARNs) of the four secrets.
pub const ZAMMAD_TOKEN_SECRET: &str = "ZAMMAD_TOKEN_SECRET";
pub const KIMAI_TOKEN_SECRET: &str = "KIMAI_TOKEN_SECRET";
pub const WEBHOOK_SECRET: &str = "WEBHOOK_SECRET";
pub const CONSOLE_SIGNING_KEY_SECRET: &str = "CONSOLE_SIGNING_KEY_SECRET";
/// Optional: the secret CloudFront sends in `X-Origin-Verify` with every console API request.
/// When set, the API answers only requests that carry it (no direct execute-api access) and
/// takes the client's address from CloudFront's `CloudFront-Viewer-Address`.
pub const CONSOLE_ORIGIN_SECRET: &str = "CONSOLE_ORIGIN_SECRET";
/// The `maxReceiveCount` of both queues' redrive policies, as the template deploys it (short
/// for the local stack, the schema's value on AWS): the consumers need it to know which failure
/// is the last one. Optional; the schema's value when unset.
pub const QUEUE_MAX_RECEIVE_COUNT: &str = "QUEUE_MAX_RECEIVE_COUNT";
/// Optional: calls per second Zammad and Kimai may receive from all functions together (the
/// template's `ZammadCallsPerSecond`, `KimaiCallsPerSecond`); unset or 0 is no shared limit.
pub const ZAMMAD_CALLS_PER_SECOND: &str = "ZAMMAD_CALLS_PER_SECOND";
pub const KIMAI_CALLS_PER_SECOND: &str = "KIMAI_CALLS_PER_SECOND";
/// Optional: the secret holding the console's first admin's password.
pub const CONSOLE_ADMIN_PASSWORD_SECRET: &str = "CONSOLE_ADMIN_PASSWORD_SECRET";
/// Optional: the console's first admin's name (default `admin`).
pub const CONSOLE_ADMIN_USER: &str = "CONSOLE_ADMIN_USER";

/// The value of a variable that must be set and non-empty.
pub fn required(name: &'static str) -> StoreResult<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(StoreError::MissingConfig(name)),
    }
}

/// The value of an optional variable (unset and empty are the same).
pub fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let err = required("SYNC_STORE_TEST_VARIABLE_NEVER_SET").unwrap_err();
        assert!(matches!(
            err,
            StoreError::MissingConfig("SYNC_STORE_TEST_VARIABLE_NEVER_SET")
        ));
        assert_eq!(optional("SYNC_STORE_TEST_VARIABLE_NEVER_SET"), None);
    }
}
