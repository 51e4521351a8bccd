//! Handing long work to the function made for it. The api answers within API Gateway's 29 s,
//! so work that takes longer is handed off: a console date-range run to scheduled-fetch
//! (300 s), a GDPR purge to gdpr-purge (900 s). Each is invoked asynchronously with the work's
//! payload, and the api answers as soon as the hand-off is accepted.

use crate::error::StoreResult;
use async_trait::async_trait;

#[async_trait]
pub trait Launcher: Send + Sync {
    /// Queues one invocation of the function with this payload and returns once it is accepted
    /// (not when it has run). Failing here means the work was not handed off.
    async fn launch(&self, payload: &serde_json::Value) -> StoreResult<()>;
}
