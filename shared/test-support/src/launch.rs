//! A [`FetchLauncher`] that runs the fetch in this process, in the background: the console API
//! over in-memory stores (tests, `make console-api`) has no scheduled-fetch function to invoke.
//! Like Lambda's asynchronous invoke, `launch` returns before the run has done anything.

use async_trait::async_trait;
use std::sync::Arc;
use sync_service::fetch::{FetchDeps, FetchRequest, run_fetch};
use sync_store::StoreResult;
use sync_store::audit::AuditLog;
use sync_store::clock::Clock;
use sync_store::control::ControlStore;
use sync_store::entries::EntriesStore;
use sync_store::launch::FetchLauncher;
use sync_store::queue::{MessageQueue, TicketSyncMessage};
use sync_store::secrets::SecretSource;

/// What scheduled-fetch would hold, owned so the background task can borrow it.
#[derive(Clone)]
pub struct InProcessFetch {
    pub control: Arc<dyn ControlStore>,
    pub entries: Arc<dyn EntriesStore>,
    pub queue: Arc<dyn MessageQueue<TicketSyncMessage>>,
    pub audit: Arc<dyn AuditLog>,
    pub secrets: Arc<dyn SecretSource>,
    pub zammad_token_secret: String,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl FetchLauncher for InProcessFetch {
    async fn launch(&self, payload: &serde_json::Value) -> StoreResult<()> {
        let ports = self.clone();
        let payload = payload.clone();
        tokio::spawn(async move {
            let deps = FetchDeps {
                control: ports.control.as_ref(),
                entries: ports.entries.as_ref(),
                queue: ports.queue.as_ref(),
                audit: ports.audit.as_ref(),
                secrets: ports.secrets.as_ref(),
                zammad_token_secret: &ports.zammad_token_secret,
                clock: ports.clock.as_ref(),
            };
            let outcome = match FetchRequest::from_json(payload) {
                Ok(request) => run_fetch(&deps, &request).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                Ok(outcome) => tracing::info!(?outcome, "in-process fetch finished"),
                Err(error) => tracing::error!(error, "in-process fetch failed"),
            }
        });
        Ok(())
    }
}
