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

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Check {
    /// `ok`; `not_configured` (Zammad/Kimai: no connection or token saved yet); `unavailable`
    /// (an error answer or no connection); `timeout`.
    pub status: String,
    /// How long the probe took, in milliseconds.
    pub latency_ms: u64,
    /// What failed, when something did.
    pub detail: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HealthDetails {
    /// `ok` when all three are `ok`, else `degraded`.
    pub status: String,
    pub store: Check,
    pub zammad: Check,
    pub kimai: Check,
}

/// Runs one probe within the health timeout and measures it.
async fn probe<F>(timeout: std::time::Duration, f: F) -> Check
where
    F: std::future::Future<Output = Result<(), (String, Option<String>)>>,
{
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(timeout, f).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let (status, detail) = match result {
        Ok(Ok(())) => ("ok".to_owned(), None),
        Ok(Err((status, detail))) => (status, detail),
        Err(_) => ("timeout".to_owned(), None),
    };
    Check {
        status,
        latency_ms,
        detail,
    }
}

fn client_error(e: crate::problem::ApiError) -> (String, Option<String>) {
    match e {
        // Not configured yet (no settings, no token): not a fault of Zammad or Kimai.
        crate::problem::ApiError::Conflict(d) => ("not_configured".into(), Some(d)),
        other => ("unavailable".into(), Some(other.to_string())),
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
    let timeout = state.health_timeout;
    let store = probe(timeout, async {
        state
            .control
            .get_document(DocumentKind::Connection, "zammad")
            .await
            .map(|_| ())
            .map_err(|e| ("unavailable".to_owned(), Some(e.to_string())))
    });
    let zammad = probe(timeout, async {
        let client = crate::upstream::zammad(&state)
            .await
            .map_err(client_error)?;
        client
            .connection_test()
            .await
            .map(|_| ())
            .map_err(|e| ("unavailable".to_owned(), Some(e.to_string())))
    });
    let kimai = probe(timeout, async {
        let client = crate::upstream::kimai(&state).await.map_err(client_error)?;
        client
            .ping()
            .await
            .map_err(|e| ("unavailable".to_owned(), Some(e.to_string())))
    });
    let (store, zammad, kimai) = tokio::join!(store, zammad, kimai);
    let ok = [&store, &zammad, &kimai].iter().all(|c| c.status == "ok");
    Json(HealthDetails {
        status: if ok { "ok" } else { "degraded" }.into(),
        store,
        zammad,
        kimai,
    })
}
