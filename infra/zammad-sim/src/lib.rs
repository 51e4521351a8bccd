//! A local Zammad that speaks the real wire format, for tests and the laptop stack.
//!
//! - [`serve`] starts it on 127.0.0.1 (port 0 picks a free one) from a [`Dataset`].
//! - The API routes the sync uses answer like Zammad does (see `docs/zammad.md`): decimal strings,
//!   millisecond timestamps, both search shapes by version, admin-only routes, Zammad's errors.
//! - `/__admin/...` reads and changes the state, counts calls, injects faults and configures a
//!   webhook trigger that fires when a ticket's accounted sum changes.

mod admin;
mod api;
pub mod dataset;
pub mod faults;
pub mod format;
mod render;
mod search;
pub mod store;
pub mod webhook;

pub use dataset::{Dataset, DatasetError};
pub use faults::{FaultConfig, FaultRule};
pub use store::{AccountingChange, NewAccounting, NewTicket, StoreError};
pub use webhook::{DeliveryAttempt, WebhookConfig};

use faults::Faults;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use store::{Store, SumChanged};
use thiserror::Error;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const DEFAULT_PORT: u16 = 8081;

/// The Zammad version to imitate; it decides the ticket search shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ZammadVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl ZammadVersion {
    pub const V6_2: ZammadVersion = ZammadVersion {
        major: 6,
        minor: 2,
        patch: 0,
    };
    pub const V6_5: ZammadVersion = ZammadVersion {
        major: 6,
        minor: 5,
        patch: 0,
    };

    /// Up to 6.4, search without `expand=true` answers `{tickets, tickets_count, assets}`.
    pub fn search_answers_ids_and_assets(self) -> bool {
        (self.major, self.minor) <= (6, 4)
    }
}

impl fmt::Display for ZammadVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for ZammadVersion {
    type Err = String;

    /// `6.2`, `6.5.1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        let num = |i: usize| -> Result<u32, String> {
            parts.get(i).map_or(Ok(0), |p| {
                p.parse().map_err(|_| format!("bad version {s:?}"))
            })
        };
        if parts.len() < 2 || parts.len() > 3 {
            return Err(format!("version must look like 6.2 or 6.5.1, got {s:?}"));
        }
        Ok(ZammadVersion {
            major: num(0)?,
            minor: num(1)?,
            patch: num(2)?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// 0 picks a free port (tests).
    pub port: u16,
    pub version: ZammadVersion,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: DEFAULT_PORT,
            version: ZammadVersion::V6_5,
        }
    }
}

#[derive(Debug, Error)]
pub enum SimError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
}

/// The shared state behind every route.
pub struct Sim {
    version: ZammadVersion,
    store: Mutex<Store>,
    counters: Mutex<BTreeMap<String, u64>>,
    concurrency: Mutex<Concurrency>,
    faults: Mutex<Faults>,
    webhook: Mutex<Option<WebhookConfig>>,
    deliveries: webhook::DeliveryLog,
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl Sim {
    /// Must run inside a Tokio runtime (it is called from [`serve`]).
    fn new(version: ZammadVersion, dataset: &Dataset) -> Sim {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(4))
            .timeout(std::time::Duration::from_secs(60))
            // Zammad does not follow redirects for webhooks: a 3xx is a failed attempt.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("static HTTP client settings");
        Sim {
            version,
            store: Mutex::new(Store::from_dataset(dataset)),
            counters: Mutex::new(BTreeMap::new()),
            concurrency: Mutex::new(Concurrency::default()),
            faults: Mutex::new(Faults::default()),
            webhook: Mutex::new(None),
            deliveries: Arc::default(),
            http,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    pub fn version(&self) -> ZammadVersion {
        self.version
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().expect("store lock poisoned")
    }

    /// Calls per API route, keyed `"GET /api/v1/tickets/{id}"`.
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.counters.lock().expect("counters lock").clone()
    }

    pub fn count(&self, route: &str) -> u64 {
        self.counters().get(route).copied().unwrap_or(0)
    }

    pub fn reset_counters(&self) {
        self.counters.lock().expect("counters lock").clear();
    }

    fn record_call(&self, key: String) {
        *self
            .counters
            .lock()
            .expect("counters lock")
            .entry(key)
            .or_default() += 1;
    }

    /// API requests in flight now and the most at once since the start or the last reset.
    pub fn concurrency(&self) -> Concurrency {
        *self.concurrency.lock().expect("concurrency lock")
    }

    /// Start a new measurement: the maximum becomes what is in flight now.
    pub fn reset_concurrency(&self) -> Concurrency {
        let mut c = self.concurrency.lock().expect("concurrency lock");
        c.max_in_flight = c.in_flight;
        *c
    }

    /// Counts one API request as in flight until the returned guard is dropped (answered, or
    /// abandoned because the client went away).
    fn enter(self: &Arc<Self>) -> InFlight {
        let mut c = self.concurrency.lock().expect("concurrency lock");
        c.in_flight += 1;
        c.max_in_flight = c.max_in_flight.max(c.in_flight);
        InFlight(self.clone())
    }

    pub fn set_faults(&self, config: FaultConfig) {
        *self.faults.lock().expect("faults lock") = Faults::new(config);
    }

    pub fn faults(&self) -> FaultConfig {
        self.faults.lock().expect("faults lock").config().clone()
    }

    pub fn set_webhook(&self, config: Option<WebhookConfig>) {
        *self.webhook.lock().expect("webhook lock") = config;
    }

    pub fn webhook(&self) -> Option<WebhookConfig> {
        self.webhook.lock().expect("webhook lock").clone()
    }

    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        self.deliveries.lock().expect("delivery log lock").clone()
    }

    pub fn dataset(&self) -> Dataset {
        self.store().to_dataset()
    }

    /// Every accounting in the wire format, by id.
    pub fn accountings(&self) -> Vec<Value> {
        let store = self.store();
        store.accountings.values().map(render::accounting).collect()
    }

    /// Add an agent; returns the user record (its `id` is the new agent's).
    pub fn add_agent(&self, new: store::NewAgent) -> Result<dataset::UserRecord, StoreError> {
        self.store().add_agent(new, format::now())
    }

    /// Open a ticket; returns it as Zammad would print it. Fires no trigger (no time yet).
    pub fn add_ticket(&self, new: NewTicket) -> Result<Value, StoreError> {
        let ticket = self.store().add_ticket(new, format::now())?;
        Ok(render::ticket(&ticket))
    }

    /// Book time as an agent; returns the accounting as Zammad would print it.
    pub fn add_accounting(&self, new: NewAccounting) -> Result<Value, StoreError> {
        let (accounting, event) = self.store().add_accounting(new, format::now())?;
        self.fire(event);
        Ok(render::accounting(&accounting))
    }

    pub fn change_accounting(
        &self,
        id: u64,
        change: AccountingChange,
    ) -> Result<Value, StoreError> {
        let (accounting, event) = self.store().change_accounting(id, change, format::now())?;
        self.fire(event);
        Ok(render::accounting(&accounting))
    }

    pub fn delete_accounting(&self, id: u64) -> Result<Value, StoreError> {
        let (accounting, event) = self.store().delete_accounting(id, format::now())?;
        self.fire(event);
        Ok(render::accounting(&accounting))
    }

    /// The trigger: a ticket whose sum moved, with a webhook configured, gets a delivery task.
    fn fire(&self, event: Option<SumChanged>) {
        let (Some(event), Some(config)) = (event, self.webhook()) else {
            return;
        };
        let payload = {
            let store = self.store();
            let ticket = &store.tickets[&event.ticket_id];
            let article = event.article_id.map(|id| {
                let article = &store.articles[&id];
                let accounting = store
                    .accountings
                    .values()
                    .find(|a| a.ticket_article_id == Some(id));
                render::webhook_article(&store, article, accounting)
            });
            webhook::payload(render::webhook_ticket(&store, ticket), article)
        };
        // On the simulator's own runtime, so a caller on any thread can change state.
        self.runtime.spawn(webhook::deliver(
            self.http.clone(),
            config,
            event.ticket_id,
            payload,
            self.deliveries.clone(),
        ));
    }
}

/// Concurrent API requests (admin routes not counted), as `/__admin/concurrency` shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concurrency {
    /// Being handled now, injected latency included.
    pub in_flight: u64,
    /// The most handled at once since the start or the last reset.
    pub max_in_flight: u64,
}

struct InFlight(Arc<Sim>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut c = self.0.concurrency.lock().expect("concurrency lock");
        c.in_flight = c.in_flight.saturating_sub(1);
    }
}

/// A running simulator. Dropping it leaves the server running until the runtime ends; call
/// [`RunningSim::shutdown`] to stop it.
pub struct RunningSim {
    pub addr: SocketAddr,
    sim: Arc<Sim>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSim {
    /// `http://127.0.0.1:PORT`, the base URL a client is configured with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Graceful, but a request held by a timeout fault must not keep the caller waiting.
        if tokio::time::timeout(std::time::Duration::from_secs(2), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }

    /// Waits until the server ends (the binary's main loop).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Starts a simulator on 127.0.0.1:`config.port` seeded from `dataset`.
pub async fn serve(config: SimConfig, dataset: Dataset) -> Result<RunningSim, SimError> {
    dataset.validate()?;
    let sim = Arc::new(Sim::new(config.version, &dataset));
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .map_err(|source| SimError::Bind {
            port: config.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        port: config.port,
        source,
    })?;
    let app = api::router(sim.clone()).merge(admin::router(sim.clone()));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "zammad-sim server stopped");
        }
    });
    tracing::info!(%addr, version = %config.version, "zammad-sim listening");
    Ok(RunningSim {
        addr,
        sim,
        stop: Some(stop),
        task,
    })
}
