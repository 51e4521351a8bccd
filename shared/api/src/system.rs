//! `GET /api/health` (the control store answers in time) and `GET /api/version`. No login:
//! load balancers and the deploy script call them.

use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sync_store::control::DocumentKind;
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: String,
    /// `ok`, `unavailable` or `timeout`.
    pub store: String,
}

/// Whether the control store answers.
#[utoipa::path(get, path = "/api/health", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<ApiState>) -> (StatusCode, Json<Health>) {
    let probe = state
        .control
        .get_document(DocumentKind::Connection, "zammad");
    let store = match tokio::time::timeout(state.health_timeout, probe).await {
        Ok(Ok(_)) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health: store unavailable");
            "unavailable"
        }
        Err(_) => "timeout",
    };
    let ok = store == "ok";
    (
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(Health {
            status: if ok { "ok" } else { "degraded" }.into(),
            store: store.into(),
        }),
    )
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
