//! Handing long work to the function made for it: a console date-range run is started by the
//! api (29 s at most on API Gateway) and carried out by scheduled-fetch (300 s), invoked
//! asynchronously with the run's payload. The api answers as soon as the hand-off is accepted.

use crate::error::StoreResult;
use async_trait::async_trait;

#[async_trait]
pub trait FetchLauncher: Send + Sync {
    /// Queues one scheduled-fetch invocation with this payload and returns once it is accepted
    /// (not when it has run). Failing here means the work was not handed off.
    async fn launch(&self, payload: &serde_json::Value) -> StoreResult<()>;
}
