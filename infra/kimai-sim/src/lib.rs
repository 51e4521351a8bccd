//! A local simulator of the Kimai 2.x REST API (`docs/kimai.md`).
//!
//! It serves the endpoints our client uses with Kimai's wire formats (offsets like `+0200`,
//! paging headers, both validation error shapes, 401 with an empty body, 403 on exported
//! records, …), seeded from a [`Dataset`], with admin endpoints and deterministic fault
//! injection. It listens on 127.0.0.1 only.

pub mod admin;
// Handlers return `Result<_, Response>` so `?` reads like Kimai's early exits; boxing the
// error response would buy nothing in a test double.
#[allow(clippy::result_large_err)]
mod api;
pub mod dataset;
pub mod faults;
mod respond;
mod state;
mod time;
mod views;

pub use admin::{AdminError, AdminTimesheet, Concurrency, HandEdit, SimAdmin};
pub use dataset::{CustomerRecord, Dataset, DatasetError, ProjectRecord, Settings};
pub use faults::{FaultKind, FaultRule, RouteFaults};

use axum::Router;
use axum::routing::{delete, get};
use state::{Shared, State};
use std::net::{Ipv4Addr, SocketAddr};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Where and how to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Seed of the fault-injection RNG.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 8082,
            seed: 0,
        }
    }
}

fn api_router(shared: Shared) -> Router {
    use api::{catalog, catalog_forms, profiles, timesheets};
    Router::new()
        .route(
            "/api/timesheets",
            get(timesheets::list).post(timesheets::create),
        )
        .route(
            "/api/timesheets/{id}",
            get(timesheets::get_one)
                .patch(timesheets::patch)
                .delete(timesheets::delete),
        )
        .route(
            "/api/customers",
            get(catalog::customers).post(catalog_forms::create_customer),
        )
        .route(
            "/api/customers/{id}",
            get(catalog::customer).patch(catalog_forms::patch_customer),
        )
        .route(
            "/api/projects",
            get(catalog::projects).post(catalog_forms::create_project),
        )
        .route(
            "/api/projects/{id}",
            get(catalog::project).patch(catalog_forms::patch_project),
        )
        .route(
            "/api/activities",
            get(catalog::activities).post(catalog_forms::create_activity),
        )
        .route(
            "/api/activities/{id}",
            get(catalog::activity).patch(catalog_forms::patch_activity),
        )
        .route("/api/users", get(catalog::users))
        .route("/api/users/me", get(catalog::me))
        .route(
            "/api/users/{id}",
            get(catalog::user).patch(profiles::patch_user),
        )
        .route(
            "/api/tags",
            get(catalog::tag_names).post(catalog::create_tag),
        )
        // Kimai has no read or update of one tag, only its deletion.
        .route("/api/tags/{id}", delete(catalog::delete_tag))
        .route("/api/tags/find", get(catalog::find_tags))
        .route("/api/ping", get(catalog::ping))
        .route("/api/version", get(catalog::version))
        // Counted like every call (as `METHOD (no route)`), so a client calling something the
        // simulator lacks shows in the call log instead of passing unnoticed.
        .fallback(|| async { api::not_found() })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            faults::inject,
        ))
        .with_state(shared)
}

/// A simulator serving in the background. Dropping it stops the server.
pub struct RunningSim {
    addr: SocketAddr,
    admin: SimAdmin,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningSim {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/`, the base URL for a Kimai client.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn admin(&self) -> &SimAdmin {
        &self.admin
    }

    /// Stop accepting requests and wait for the server task.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }

    /// Serve until the server fails (the binary waits on this or on Ctrl-C).
    pub async fn wait(mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Check the dataset, bind 127.0.0.1:`port` and serve in a background task.
pub async fn serve(config: SimConfig, dataset: Dataset) -> Result<RunningSim, SimError> {
    dataset.check()?;
    let shared = Shared::new(State::new(dataset, config.seed));
    let admin = SimAdmin::new(shared.clone());
    let app = api_router(shared).merge(admin::router(admin.clone()));
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))
            .await
            .map_err(|source| SimError::Bind {
                port: config.port,
                source,
            })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        port: config.port,
        source,
    })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%addr, "kimai simulator listening");
    Ok(RunningSim {
        addr,
        admin,
        stop: Some(stop),
        task: Some(task),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
}
