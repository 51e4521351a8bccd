//! The console API over in-memory stores, with a known admin, for the api function's tests.

use chrono::Duration;
use console_api::{ApiState, ConsoleSecrets};
use std::sync::Arc;
use sync_store::audit::AuditRetention;
use sync_store::clock::SystemClock;
use sync_store::control::ControlStore;
use sync_store::memory::{
    MemoryAuditLog, MemoryConflicts, MemoryControl, MemoryEntries, MemoryQueue, MemorySchedule,
    MemorySecrets,
};
use sync_store::secrets::{CachedSecrets, SecretString};

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct horse battery";

/// In-memory state whose control store is `control`; `admin` exists with [`PASSWORD`].
pub async fn state_with(control: Arc<dyn ControlStore>) -> ApiState {
    let secrets = Arc::new(MemorySecrets::new());
    secrets.set("signing-key", "0123456789abcdef0123456789abcdef-test-key");
    let cached = Arc::new(CachedSecrets::new(
        secrets,
        Arc::new(SystemClock),
        Duration::minutes(5),
    ));
    ApiState {
        control,
        audit: Arc::new(MemoryAuditLog::new(AuditRetention::default())),
        conflicts: Arc::new(MemoryConflicts::new()),
        entries: Arc::new(MemoryEntries::new()),
        ticket_sync: Arc::new(MemoryQueue::new()),
        kimai_write: Arc::new(MemoryQueue::new()),
        dead_letters: console_api::DeadLetterQueues {
            ticket_sync: Arc::new(MemoryQueue::new()),
            kimai_write: Arc::new(MemoryQueue::new()),
        },
        schedule: Arc::new(MemorySchedule::new()),
        secrets: cached.clone(),
        secret_writer: cached,
        secret_names: ConsoleSecrets {
            zammad_token: "zammad-token".into(),
            kimai_token: "kimai-token".into(),
            signing_key: "signing-key".into(),
        },
        clock: Arc::new(SystemClock),
        health_timeout: std::time::Duration::from_secs(2),
        upstream_timeout: std::time::Duration::from_secs(5),
    }
}

pub async fn state() -> ApiState {
    let state = state_with(Arc::new(MemoryControl::new())).await;
    let created = console_api::auth::bootstrap_admin(&state, ADMIN, &SecretString::new(PASSWORD))
        .await
        .unwrap();
    assert!(created, "a fresh store has no admin yet");
    state
}
