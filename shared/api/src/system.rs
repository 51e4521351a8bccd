//! `GET /api/health` (the control store answers in time) and `GET /api/version`, with no login:
//! load balancers and the deploy script call them; `GET /api/health/details` (logged in) probes
//! the store, Zammad and Kimai (`sync_service::console::health`).

use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sync_service::console::health::{self, Health, HealthDetails, NoClient};
use utoipa::ToSchema;

/// Whether the control store answers.
#[utoipa::path(get, path = "/api/health", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<ApiState>) -> (StatusCode, Json<Health>) {
    let health = health::store_health(state.control.as_ref(), state.health_timeout).await;
    let status = if health.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Version {
    pub name: String,
    pub version: String,
}

/// Name and version of the running build.
#[utoipa::path(get, path = "/api/version", tag = "system", responses((status = 200, body = Version)))]
pub async fn version() -> Json<Version> {
    Json(Version {
        name: env!("CARGO_PKG_NAME").into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// A client that could not be built: a 409 means not configured yet (no settings, no token).
fn no_client(e: ApiError) -> NoClient {
    match e {
        ApiError::Conflict(d) => NoClient::NotConfigured(d),
        other => NoClient::Failed(other.to_string()),
    }
}

/// The store, Zammad and Kimai, each with status and latency. Always 200: a part that is down
/// is reported, not raised.
#[utoipa::path(get, path = "/api/health/details", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = HealthDetails), (status = 401, body = crate::problem::Problem)))]
pub async fn health_details(
    _: crate::auth::Caller,
    State(state): State<ApiState>,
) -> Json<HealthDetails> {
    let zammad = async { crate::upstream::zammad(&state).await.map_err(no_client) };
    let kimai = async { crate::upstream::kimai(&state).await.map_err(no_client) };
    let (control, timeout) = (state.control.as_ref(), state.health_timeout);
    let waiting = async {
        let (sync, write) = tokio::join!(
            state.ticket_sync.approximate_depth(),
            state.kimai_write.approximate_depth()
        );
        Some(sync.ok()? + write.ok()?)
    };
    let outage = health::kimai_outage(control, waiting);
    Json(health::health_details(control, timeout, zammad, kimai, outage).await)
}
