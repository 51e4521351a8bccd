//! A [`FetchLauncher`] that runs the fetch in this process, in the background: the console API
//! over in-memory stores (tests, `make console-api`) has no scheduled-fetch function to invoke.
//! Like Lambda's asynchronous invoke, `launch` returns before the run has done anything.

use async_trait::async_trait;
use sync_service::fetch::{FetchPorts, FetchRequest, run_fetch};
use sync_store::StoreResult;
use sync_store::launch::FetchLauncher;

/// What scheduled-fetch would hold, owned so the background task can borrow it.
pub struct InProcessFetch(pub FetchPorts);

#[async_trait]
impl FetchLauncher for InProcessFetch {
    async fn launch(&self, payload: &serde_json::Value) -> StoreResult<()> {
        let ports = self.0.clone();
        let payload = payload.clone();
        tokio::spawn(async move {
            let outcome = match FetchRequest::from_json(payload) {
                Ok(request) => run_fetch(&ports.deps(), &request)
                    .await
                    .map_err(|e| e.to_string()),
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
