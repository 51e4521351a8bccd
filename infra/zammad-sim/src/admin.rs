//! `/__admin/...`: read and change the simulator's state from tests and scripts.
//! Not part of Zammad; no authentication (the server listens on loopback only).

use crate::Sim;
use crate::faults::FaultConfig;
use crate::store::{AccountingChange, NewAccounting, NewAgent, NewTicket, StoreError};
use crate::webhook::WebhookConfig;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

type Shared = Arc<Sim>;

pub fn router(sim: Shared) -> Router {
    Router::new()
        .route("/__admin/dataset", get(dataset))
        .route("/__admin/tickets", post(add_ticket))
        .route("/__admin/agents", post(add_agent))
        .route(
            "/__admin/accountings",
            get(accountings).post(add_accounting),
        )
        .route(
            "/__admin/accountings/{id}",
            patch(change_accounting)
                .put(change_accounting)
                .delete(delete_accounting),
        )
        .route("/__admin/counters", get(counters).delete(reset_counters))
        .route(
            "/__admin/concurrency",
            get(concurrency).delete(reset_concurrency),
        )
        .route(
            "/__admin/faults",
            get(faults).put(set_faults).delete(clear_faults),
        )
        .route(
            "/__admin/webhook",
            get(webhook).put(set_webhook).delete(clear_webhook),
        )
        .route("/__admin/webhook/deliveries", get(deliveries))
        .with_state(sim)
}

struct AdminError(StoreError);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = match self.0 {
            StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            StoreError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let message = self.0.to_string();
        (
            status,
            Json(json!({ "error": message, "error_human": message })),
        )
            .into_response()
    }
}

async fn dataset(State(sim): State<Shared>) -> impl IntoResponse {
    Json(sim.dataset())
}

async fn accountings(State(sim): State<Shared>) -> impl IntoResponse {
    Json(sim.accountings())
}

async fn add_agent(
    State(sim): State<Shared>,
    Json(new): Json<NewAgent>,
) -> Result<impl IntoResponse, AdminError> {
    let created = sim.add_agent(new).map_err(AdminError)?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn add_ticket(
    State(sim): State<Shared>,
    Json(new): Json<NewTicket>,
) -> Result<impl IntoResponse, AdminError> {
    let created = sim.add_ticket(new).map_err(AdminError)?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn add_accounting(
    State(sim): State<Shared>,
    Json(new): Json<NewAccounting>,
) -> Result<impl IntoResponse, AdminError> {
    let created = sim.add_accounting(new).map_err(AdminError)?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn change_accounting(
    State(sim): State<Shared>,
    Path(id): Path<u64>,
    Json(change): Json<AccountingChange>,
) -> Result<impl IntoResponse, AdminError> {
    sim.change_accounting(id, change)
        .map(Json)
        .map_err(AdminError)
}

async fn delete_accounting(
    State(sim): State<Shared>,
    Path(id): Path<u64>,
) -> Result<impl IntoResponse, AdminError> {
    sim.delete_accounting(id).map(Json).map_err(AdminError)
}

async fn counters(State(sim): State<Shared>) -> impl IntoResponse {
    Json(sim.counters())
}

async fn reset_counters(State(sim): State<Shared>) -> StatusCode {
    sim.reset_counters();
    StatusCode::NO_CONTENT
}

async fn concurrency(State(sim): State<Shared>) -> impl IntoResponse {
    Json(sim.concurrency())
}

async fn reset_concurrency(State(sim): State<Shared>) -> impl IntoResponse {
    Json(sim.reset_concurrency())
}

async fn faults(State(sim): State<Shared>) -> impl IntoResponse {
    Json(sim.faults())
}

async fn set_faults(State(sim): State<Shared>, Json(config): Json<FaultConfig>) -> StatusCode {
    sim.set_faults(config);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(sim): State<Shared>) -> StatusCode {
    sim.set_faults(FaultConfig::default());
    StatusCode::NO_CONTENT
}

async fn webhook(State(sim): State<Shared>) -> impl IntoResponse {
    Json(sim.webhook())
}

async fn set_webhook(State(sim): State<Shared>, Json(config): Json<WebhookConfig>) -> StatusCode {
    sim.set_webhook(Some(config));
    StatusCode::NO_CONTENT
}

async fn clear_webhook(State(sim): State<Shared>) -> StatusCode {
    sim.set_webhook(None);
    StatusCode::NO_CONTENT
}

async fn deliveries(State(sim): State<Shared>) -> impl IntoResponse {
    Json(sim.deliveries())
}
