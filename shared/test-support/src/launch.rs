//! [`Launcher`]s that run a date-range fetch or a GDPR purge in this process, in the
//! background: the console API over in-memory stores (tests, `make console-api`) has no
//! scheduled-fetch or gdpr-purge function to invoke.
//! Like Lambda's asynchronous invoke, `launch` returns before the run has done anything.

use async_trait::async_trait;
use sync_service::fetch::{FetchPorts, FetchRequest, run_fetch};
use sync_service::privacy::PrivacyPorts;
use sync_service::privacy::purge::{PurgeOrder, run_purge};
use sync_store::StoreResult;
use sync_store::launch::Launcher;

/// What scheduled-fetch would hold, owned so the background task can borrow it.
pub struct InProcessFetch(pub FetchPorts);

#[async_trait]
impl Launcher for InProcessFetch {
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

/// A [`Launcher`] that runs a handed-off GDPR purge in this process, in the background, as
/// gdpr-purge would (its payload is `{"purge": PurgeOrder}`).
pub struct InProcessPurge(pub PrivacyPorts);

#[async_trait]
impl Launcher for InProcessPurge {
    async fn launch(&self, payload: &serde_json::Value) -> StoreResult<()> {
        let ports = self.0.clone();
        let order: PurgeOrder = serde_json::from_value(payload["purge"].clone())
            .map_err(|e| sync_store::StoreError::Invalid(format!("not a purge order: {e}")))?;
        tokio::spawn(async move {
            match run_purge(&ports, &order).await {
                Ok(job) => tracing::info!(job = %job.id, "in-process purge finished"),
                Err(error) => tracing::error!(%error, "in-process purge failed"),
            }
        });
        Ok(())
    }
}
