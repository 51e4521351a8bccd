//! The `api` Lambda function: the console REST API (`console-api`) behind API Gateway.
//!
//! The router and the first-admin bootstrap live in `console-api`, its state is built by
//! [`crate::adapters::console_api`]; this module only puts them together at start-up and
//! serves the router. API Gateway's request context (request id, source IP) reaches the router
//! through `lambda_http`'s request extensions, which `console-api`'s middleware reads; the
//! invocation's deadline reaches the upstream clients the same way ([`within_deadline`]).

use crate::adapters::{self, Aws};
use crate::deadline::Deadline;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use console_api::problem::ApiError;
use lambda_http::RequestExt;
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
pub async fn init(aws: &Aws, lookup: impl Fn(&str) -> Option<String>) -> Result<Router, InitError> {
    let state = adapters::console_api(aws)?;
    if console_api::runtime::bootstrap_admin(&state, &lookup).await? {
        tracing::info!("first console admin created");
    }
    Ok(console_api::router(state))
}

/// Builds the API from the process's environment ([`init`]) and serves requests until the
/// runtime stops. A missing variable or an unreadable admin secret fails the init phase, so a
/// broken deployment shows at once.
pub async fn run(aws: &Aws) -> Result<(), lambda_http::Error> {
    let app = init(aws, sync_store::env::optional).await?;
    lambda_http::run(
        app.layer(middleware::from_fn(within_deadline))
            .layer(middleware::from_fn(flush_metrics)),
    )
    .await
}

/// Writes the request's metrics when it is answered (upstream calls of a connection test or
/// a picker, runs the console ended).
async fn flush_metrics(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    crate::metrics::flush();
    response
}

/// Runs the request with the invocation's deadline (API Gateway's and the function's time
/// limit, minus a margin): a connection test or a catalog read against a slow Kimai or Zammad
/// answers with an error before the function is killed.
async fn within_deadline(request: Request, next: Next) -> Response {
    match request.lambda_context_ref().map(Deadline::of) {
        Some(deadline) => call_deadline::run_until(deadline.calls, next.run(request)).await,
        None => next.run(request).await,
    }
}
