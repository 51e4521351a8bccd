//! `GET /api/health`: is the store reachable? One real read of the control table, bounded in
//! time, so a misconfigured or unreachable store shows as 503 instead of a hung request.

use crate::AppState;
use crate::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use std::time::{Duration, Instant};
use sync_store::StoreError;
use sync_store::control::DocumentKind;

/// Id of the settings document the probe reads; it need not exist, the read must succeed.
pub const PROBE_DOCUMENT: &str = "health-probe";

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub checks: Checks,
}

#[derive(Debug, Serialize)]
pub struct Checks {
    pub store: Check,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub status: &'static str,
    pub latency_ms: u64,
}

/// What an operator should look at, without internals (table names, endpoints) in the answer.
fn reason(err: &StoreError) -> &'static str {
    match err {
        StoreError::Unavailable(_) => "the store is unavailable; retry later",
        StoreError::NotFound(_) => "a configured table does not exist (deployment fault)",
        StoreError::AccessDenied(_) => "the function may not read the store (deployment fault)",
        StoreError::MissingConfig(_) => "the store is not configured (deployment fault)",
        StoreError::Invalid(_) | StoreError::Corrupt(_) => "the store refused the probe read",
    }
}

pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    let started = Instant::now();
    let read = state
        .control
        .get_document(DocumentKind::Connection, PROBE_DOCUMENT);
    match tokio::time::timeout(state.health_timeout, read).await {
        Ok(Ok(_)) => Ok(Json(Health {
            status: "ok",
            checks: Checks {
                store: Check {
                    status: "ok",
                    latency_ms: elapsed_ms(started),
                },
            },
        })),
        Ok(Err(err)) => {
            tracing::error!(error = %err, "health: store read failed");
            Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("store: {}", reason(&err)),
            ))
        }
        Err(_) => {
            tracing::error!(
                timeout_ms = state.health_timeout.as_millis() as u64,
                "health: store read timed out"
            );
            Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store: no answer in time; retry later".to_owned(),
            ))
        }
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Long enough for a cold SDK connection, short enough to answer before API Gateway gives up.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
