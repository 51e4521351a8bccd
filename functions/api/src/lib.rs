//! The `api` Lambda function: the console REST API (`console-api`) behind API Gateway.
//!
//! The router, its state and the first-admin bootstrap live in `console-api`; this crate only
//! wires them to the environment of the deployed function. API Gateway's request context
//! (request id, source IP) reaches the router through `lambda_http`'s request extensions,
//! which `console-api`'s middleware reads.

use axum::Router;
use console_api::problem::ApiError;
use sync_store::StoreError;

/// Why the function could not start. Every variant is a deployment fault: the init phase fails
/// and the first request shows it, instead of a half-working API.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("console API configuration: {0}")]
    Config(#[from] StoreError),
    #[error("first admin: {0}")]
    Admin(#[from] ApiError),
}

/// Builds the console API from the environment (tables, queue, schedule, secret names) and
/// creates the first admin from `CONSOLE_ADMIN_PASSWORD_SECRET` when that user does not exist.
pub async fn init(
    config: &aws_config::SdkConfig,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Router, InitError> {
    let state = console_api::runtime::from_aws(config)?;
    if console_api::runtime::bootstrap_admin(&state, &lookup).await? {
        tracing::info!("first console admin created");
    }
    Ok(console_api::router(state))
}
