//! The console REST API under `/api` as one axum [`Router`], so the same code runs inside
//! Lambda (`lambda_http`), in tests and locally ([`serve`]). HTTP only: each handler extracts
//! the request, calls one use case of `sync_service::console` and maps its result to a
//! response ([`state`] hands the use cases their ports; [`problem`] maps their errors).
//!
//! - [`context`]: request id, source IP, user agent (and so the acting user of a use case).
//! - [`problem`]: errors as `application/problem+json`.
//! - [`auth`]: login, tokens, roles, the first admin.
//! - [`connections`], [`pickers`], [`mappings`], [`policies`], [`conflicts`], [`audit_log`]:
//!   the resources.
//! - [`runs`], [`schedule`], [`resolve`]: sync runs, the schedule, conflict resolution.
//! - [`entries`], [`dead_letters`], [`kpis`], [`gdpr`]: the ledger and approvals, dead
//!   letters, dashboard numbers, export and purge of one person's data; health details in
//!   [`system`].
//! - [`openapi`]: the OpenAPI document, generated from the handlers.
//! - [`runtime`]: start-up: the secret names from the environment, the first admin (the state's
//!   AWS adapters are built by `sync_lambda::adapters`).

pub mod audit_log;
pub mod auth;
pub mod conflicts;
pub mod connections;
pub mod context;
pub mod dead_letters;
pub mod entries;
pub mod extract;
pub mod gdpr;
pub mod kpis;
pub mod mappings;
pub mod notifications;
pub mod openapi;
pub mod pickers;
pub mod policies;
pub mod problem;
pub mod resolve;
pub mod runs;
pub mod runtime;
pub mod schedule;
pub mod state;
pub mod system;
pub mod upstream;
pub mod users;

pub use state::{ApiState, ConsoleSecrets, DeadLetterQueues};

use axum::Router;
use axum::http::Uri;
use axum::routing::{get, post, put};
use problem::ApiError;
use std::net::SocketAddr;

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/health", get(system::health))
        .route("/api/version", get(system::version))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/me", get(auth::me))
        .route("/api/auth/password", post(auth::change_password))
        .route("/api/users", get(users::list).post(users::create))
        .route(
            "/api/users/{username}",
            axum::routing::patch(users::change).delete(users::remove),
        )
        .route(
            "/api/users/{username}/reset-password",
            post(users::reset_password),
        )
        .route(
            "/api/connections/zammad",
            get(connections::get_zammad).put(connections::put_zammad),
        )
        .route(
            "/api/connections/zammad/test",
            post(connections::test_zammad),
        )
        .route(
            "/api/connections/kimai",
            get(connections::get_kimai).put(connections::put_kimai),
        )
        .route("/api/connections/kimai/test", post(connections::test_kimai))
        .route("/api/pickers/zammad/types", get(pickers::zammad_types))
        .route(
            "/api/pickers/zammad/organisations",
            get(pickers::zammad_organisations),
        )
        .route(
            "/api/pickers/kimai/activities",
            get(pickers::kimai_activities),
        )
        .route(
            "/api/pickers/kimai/customers",
            get(pickers::kimai_customers),
        )
        .route("/api/pickers/kimai/projects", get(pickers::kimai_projects))
        .route("/api/pickers/kimai/users", get(pickers::kimai_users))
        .route("/api/mappings", get(mappings::list_all))
        .route("/api/mappings/{kind}", get(mappings::list_kind))
        .route(
            "/api/mappings/{kind}/{zammad}",
            put(mappings::put_one).delete(mappings::delete_one),
        )
        .route("/api/mappings/{kind}/import", post(mappings::import_csv))
        .route("/api/mappings/{kind}/export", get(mappings::export_csv))
        .route(
            "/api/policies",
            get(policies::get_policies).put(policies::put_policies),
        )
        .route("/api/conflicts", get(conflicts::list))
        .route("/api/conflicts/resolve", post(resolve::resolve_many))
        .route("/api/conflicts/{id}/resolve", post(resolve::resolve_one))
        .route("/api/sync-runs", get(runs::list).post(runs::start))
        .route("/api/sync-runs/export.csv", get(runs::export_csv))
        .route("/api/sync-runs/{id}", get(runs::get_one))
        .route(
            "/api/schedule",
            get(schedule::get_schedule).put(schedule::put_schedule),
        )
        .route(
            "/api/notifications",
            get(notifications::get_settings).put(notifications::put_settings),
        )
        .route("/api/notifications/test", post(notifications::send_test))
        .route("/api/audit", get(audit_log::list))
        .route("/api/audit/export", get(audit_log::export_csv))
        .route("/api/health/details", get(system::health_details))
        .route("/api/entries", get(entries::list))
        .route("/api/entries/approve", post(entries::approve))
        .route("/api/dead-letters", get(dead_letters::list))
        .route(
            "/api/dead-letters/{queue}/replay",
            post(dead_letters::replay),
        )
        .route("/api/kpis", get(kpis::get_kpis))
        .route("/api/gdpr/export", post(gdpr::export))
        .route("/api/gdpr/purge", post(gdpr::purge))
        .route("/api/gdpr/purges/{id}", get(gdpr::purge_job))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            context::middleware,
        ))
        .with_state(state)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no resource at {}", uri.path()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Serves the router on `listener` with peer addresses (the local source-IP fallback).
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
