//! Health of the console's dependencies: the control store answers in time (the public health
//! check), and in detail the store, Zammad and Kimai, each with status and latency. A part that
//! is down is reported, never raised.

use crate::settings::ZAMMAD_CONNECTION;
use chrono::{DateTime, Utc};
use kimai_client::KimaiClient;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::{Duration, Instant};
use sync_store::control::ControlStore;
use utoipa::ToSchema;
use zammad_client::ZammadClient;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: String,
    /// `ok`, `unavailable` or `timeout`.
    pub store: String,
}

impl Health {
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

/// Whether the control store answers within `timeout` (it reads one small document).
pub async fn store_health(control: &dyn ControlStore, timeout: Duration) -> Health {
    let probe = control.get_document(ZAMMAD_CONNECTION.kind, ZAMMAD_CONNECTION.id);
    let store = match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(_)) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health: store unavailable");
            "unavailable"
        }
        Err(_) => "timeout",
    };
    let ok = store == "ok";
    Health {
        status: if ok { "ok" } else { "degraded" }.into(),
        store: store.into(),
    }
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
    /// `ok` when all three are `ok` and no Kimai outage is recorded, else `degraded`.
    pub status: String,
    pub store: Check,
    pub zammad: Check,
    pub kimai: Check,
    /// Set while the functions find Kimai unreachable and let records wait for it
    /// (`sync_service::outage`).
    pub kimai_outage: Option<KimaiOutage>,
}

/// "Kimai unreachable since …, N messages waiting".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KimaiOutage {
    /// The first failure of the outage.
    pub since: DateTime<Utc>,
    pub last_failure: DateTime<Utc>,
    /// What the last failure said.
    pub detail: String,
    /// Messages waiting in the ticket-sync and kimai-write queues, delayed ones included
    /// (approximate, as SQS counts); `None` if the queues could not be read.
    pub messages_waiting: Option<u64>,
}

/// Kimai's recorded outage with the messages waiting, or `None` when there is none (or the
/// store cannot say: the store's own check reports that).
pub async fn kimai_outage(
    control: &dyn ControlStore,
    messages_waiting: impl Future<Output = Option<u64>>,
) -> Option<KimaiOutage> {
    let outage = control.get_outage(crate::outage::KIMAI).await.ok()??;
    Some(KimaiOutage {
        since: outage.since,
        last_failure: outage.last_failure,
        detail: outage.detail,
        messages_waiting: messages_waiting.await,
    })
}

/// Why there is no client to probe with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoClient {
    /// No connection or token saved yet: not a fault of Zammad or Kimai.
    NotConfigured(String),
    /// Building the client failed otherwise.
    Failed(String),
}

type Failure = (String, Option<String>);

fn unavailable(e: impl std::fmt::Display) -> Failure {
    ("unavailable".to_owned(), Some(e.to_string()))
}

fn no_client(e: NoClient) -> Failure {
    match e {
        NoClient::NotConfigured(d) => ("not_configured".into(), Some(d)),
        NoClient::Failed(d) => ("unavailable".into(), Some(d)),
    }
}

/// Runs one probe within the timeout and measures it.
async fn probe(timeout: Duration, f: impl Future<Output = Result<(), Failure>>) -> Check {
    let started = Instant::now();
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

/// The store, Zammad and Kimai probed at once, each within `timeout` (building its client
/// included), with Kimai's outage as the functions recorded it.
pub async fn health_details(
    control: &dyn ControlStore,
    timeout: Duration,
    zammad: impl Future<Output = Result<ZammadClient, NoClient>>,
    kimai: impl Future<Output = Result<KimaiClient, NoClient>>,
    kimai_outage: impl Future<Output = Option<KimaiOutage>>,
) -> HealthDetails {
    let store = probe(timeout, async {
        control
            .get_document(ZAMMAD_CONNECTION.kind, ZAMMAD_CONNECTION.id)
            .await
            .map(|_| ())
            .map_err(unavailable)
    });
    let zammad = probe(timeout, async {
        let client = zammad.await.map_err(no_client)?;
        client
            .connection_test()
            .await
            .map(|_| ())
            .map_err(unavailable)
    });
    let kimai = probe(timeout, async {
        let client = kimai.await.map_err(no_client)?;
        client.ping().await.map_err(unavailable)
    });
    let outage = async {
        tokio::time::timeout(timeout, kimai_outage)
            .await
            .ok()
            .flatten()
    };
    let (store, zammad, kimai, kimai_outage) = tokio::join!(store, zammad, kimai, outage);
    let ok = [&store, &zammad, &kimai].iter().all(|c| c.status == "ok") && kimai_outage.is_none();
    HealthDetails {
        status: if ok { "ok" } else { "degraded" }.into(),
        store,
        zammad,
        kimai,
        kimai_outage,
    }
}
