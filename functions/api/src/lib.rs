//! The console's REST API under `/api`, as an axum router. `main` runs it inside `lambda_http`;
//! tests serve the same router on a loopback port.
//!
//! Today: `GET /api/health` (the store is reachable) and `GET /api/version`. Every error,
//! including unknown paths and methods, is `application/problem+json` with the request id.

pub mod health;
pub mod problem;
pub mod request_id;
pub mod version;

use axum::Router;
use axum::http::Uri;
use axum::routing::get;
use problem::Problem;
use std::sync::Arc;
use std::time::Duration;
use sync_store::control::ControlStore;

#[derive(Clone)]
pub struct AppState {
    pub control: Arc<dyn ControlStore>,
    /// Upper bound for the health probe's store read.
    pub health_timeout: Duration,
}

impl AppState {
    pub fn new(control: Arc<dyn ControlStore>) -> Self {
        AppState {
            control,
            health_timeout: health::DEFAULT_TIMEOUT,
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health::health))
        .route("/api/version", get(version::version))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(request_id::middleware))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Problem {
    Problem::not_found(uri.path())
}

async fn method_not_allowed() -> Problem {
    Problem::method_not_allowed()
}
