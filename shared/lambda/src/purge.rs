//! gdpr-purge: runs one GDPR purge job per invocation. The console API invokes it
//! asynchronously with `{"purge": PurgeOrder}` (`sync_service::console::gdpr::request_purge`);
//! the job's progress and report are in its record (`sync_service::privacy::job`).
//!
//! The order carries the person's identifiers: it is never logged. A store error worth
//! retrying fails the invocation, so Lambda tries again (twice, minutes apart) and the next
//! attempt finishes what this one began; any other failure is in the job record, and the
//! invocation ends without a retry.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};
use sync_service::privacy::PrivacyPorts;
use sync_service::privacy::purge::{PurgeError, PurgeOrder, run_purge};

/// Serves invocations until the runtime stops.
pub async fn run(ports: PrivacyPorts) -> Result<(), Error> {
    let ports = &ports;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let result = handle(ports, event.payload).await;
        crate::metrics::flush();
        result
    }))
    .await
}

/// One invocation: what happened to the job (`job`, `status`, `counts` or `error`), or an
/// error when Lambda should try again.
pub async fn handle(ports: &PrivacyPorts, payload: Value) -> Result<Value, Error> {
    let order: PurgeOrder = match serde_json::from_value(payload["purge"].clone()) {
        Ok(order) => order,
        Err(e) => {
            // Nothing to retry: the same payload fails the same way.
            tracing::error!(error = %e, "not a purge order");
            return Ok(json!({"status": "refused", "error": format!("not a purge order: {e}")}));
        }
    };
    match run_purge(ports, &order).await {
        Ok(job) => Ok(json!({"job": job.id, "status": job.status, "counts": job.counts})),
        Err(PurgeError::Store(e)) if e.is_retryable() => Err(e.into()),
        Err(e) => Ok(json!({"job": order.job, "status": "failed", "error": e.to_string()})),
    }
}
