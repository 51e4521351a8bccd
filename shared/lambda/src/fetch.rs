//! scheduled-fetch: the schedule's JSON payload in, [`sync_service::fetch`] in the middle, the
//! run's outcome out. This module only reads the payload and maps errors.

use crate::deadline::Deadline;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use sync_service::connection_check::check_connections;
use sync_service::connections::Connections;
use sync_service::fetch::{FetchDeps, FetchError, FetchPorts, FetchRequest, run_fetch};

/// What the function keeps for its life (built by [`crate::adapters::fetch`]).
pub struct Ports {
    pub fetch: FetchPorts,
    /// Both upstreams, for the daily connection check only (fetch itself reads Zammad through
    /// its own client).
    pub connections: Connections,
}

/// The payload of the daily connection check's schedule (template.yaml's
/// `ConnectionCheckSchedule`).
pub const CHECK_INPUT: &str = r#"{"mode":"check"}"#;

/// Serves invocations until the runtime stops.
pub async fn run(ports: Ports) -> Result<(), Error> {
    let deps = ports.fetch.deps();
    let deps = &deps;
    let connections = &ports.connections;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Zammad calls end by the deadline: a run that cannot finish in time fails as a
        // recorded run (lease freed), instead of being killed while it holds the lease.
        let deadline = Deadline::of(&event.context);
        let result = call_deadline::run_until(
            deadline.calls,
            handle_event(deps, connections, event.payload),
        )
        .await;
        crate::metrics::flush();
        result
    }))
    .await
}

/// One invocation: the connection check when the payload asks for it, else a fetch run.
pub async fn handle_event(
    deps: &FetchDeps<'_>,
    connections: &Connections,
    payload: Value,
) -> Result<Value, Error> {
    if payload.get("mode").and_then(Value::as_str) == Some("check") {
        let report = check_connections(connections, deps.events, deps.clock.now()).await;
        return Ok(serde_json::to_value(&report)?);
    }
    handle(deps, payload).await
}

/// Reads the invocation payload:
/// - EventBridge Scheduler passes the target's `Input` as is: `{"mode": …}`;
/// - an EventBridge *rule* (`rate(…)`/`cron(…)`) wraps it: `{"source":"aws.events",
///   "detail-type":"Scheduled Event","detail":{…}}`, whose `detail` is read (empty → incremental);
/// - `null` or `{}` is an incremental fetch.
pub fn fetch_request(payload: Value) -> Result<FetchRequest, FetchError> {
    let is_rule_event = payload.get("source").and_then(Value::as_str) == Some("aws.events")
        && payload.get("detail-type").is_some();
    let request = if is_rule_event {
        payload.get("detail").cloned().unwrap_or(Value::Null)
    } else {
        payload
    };
    match request {
        Value::Null => Ok(FetchRequest::default()),
        Value::Object(map) if map.is_empty() => Ok(FetchRequest::default()),
        other => FetchRequest::from_json(other),
    }
}

/// Handles one invocation. A run that failed (Zammad down, a message not sent) is a normal
/// outcome, recorded in the run list and the audit log, and returned as such: the next tick
/// retries it, so Lambda's own retries would only add a second run. Only failures before a
/// run could be recorded (bad payload, missing settings, store down) are invocation errors.
pub async fn handle(deps: &FetchDeps<'_>, payload: Value) -> Result<Value, Error> {
    let request = fetch_request(payload)?;
    let outcome = run_fetch(deps, &request).await?;
    Ok(serde_json::to_value(&outcome)?)
}
