//! The sync's metrics, each named and labelled in one place. Code that counts calls these
//! functions; the `metrics` facade hands the values to whatever recorder the process installed
//! (in the Lambda functions: CloudWatch embedded metric format, `sync_lambda::metrics`), and to
//! nothing when none is.
//!
//! Every name with every distinct set of labels is one CloudWatch custom metric, billed by the
//! month, so labels stay few and coarse: the system, a status class, the operation, the
//! trigger. `docs/operations.md` lists them all with what to do about each.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "ZammadKimaiSync";

/// Which upstream a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Zammad,
    Kimai,
}

impl System {
    /// The lower-case name used as the metrics' `system` label.
    pub fn label(self) -> &'static str {
        match self {
            System::Zammad => "zammad",
            System::Kimai => "kimai",
        }
    }
}

/// `2xx`, `4xx`, `429`, `5xx`, or `error` when there was no answer (connection, timeout).
pub fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(429) => "429",
        Some(s) if (200..300).contains(&s) => "2xx",
        Some(s) if (300..500).contains(&s) => "4xx",
        Some(s) if s >= 500 => "5xx",
        _ => "error",
    }
}

/// One HTTP attempt to Zammad or Kimai, as its client saw it.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamCall<'a> {
    pub system: System,
    pub method: &'a str,
    /// Scheme, host and path, never the query: queries carry search terms and user ids.
    pub url: &'a str,
    /// `None` when there was no answer (connection refused, timeout).
    pub status: Option<u16>,
    pub started: SystemTime,
}

/// Where traced calls go besides the metrics; installed once per process (the Lambda
/// functions install X-Ray: `sync_lambda::xray`). Kept behind a function so the clients do not
/// depend on a tracing SDK.
type CallTracer = Box<dyn Fn(&UpstreamCall<'_>, SystemTime) + Send + Sync>;
static CALL_TRACER: OnceLock<CallTracer> = OnceLock::new();

/// Hands every upstream call from now on to `tracer` as well, with the time it ended. The
/// first installation wins; returns whether this one did.
pub fn trace_calls_with(
    tracer: impl Fn(&UpstreamCall<'_>, SystemTime) + Send + Sync + 'static,
) -> bool {
    CALL_TRACER.set(Box::new(tracer)).is_ok()
}

/// One HTTP attempt to Zammad or Kimai has ended: `upstream_calls` (by system and status
/// class), `upstream_latency` (milliseconds, by system), and the call to the installed tracer.
pub fn upstream_call(call: &UpstreamCall<'_>) {
    let ended = SystemTime::now();
    let took = ended.duration_since(call.started).unwrap_or_default();
    let system = call.system.label();
    metrics::counter!("upstream_calls", "system" => system, "status" => status_class(call.status))
        .increment(1);
    metrics::histogram!("upstream_latency", "system" => system).record(took.as_secs_f64() * 1000.0);
    if let Some(tracer) = CALL_TRACER.get() {
        tracer(call, ended);
    }
}

/// A call sent again after a retryable failure (`upstream_retries`, by system). A 429 shows
/// in `upstream_calls` with status `429` as well.
pub fn upstream_retry(system: System) {
    metrics::counter!("upstream_retries", "system" => system.label()).increment(1);
}

/// Time accountings reconcile read for one ticket (`accountings_seen`).
pub fn accountings_seen(count: usize) {
    metrics::counter!("accountings_seen").increment(count as u64);
}

/// What the writer did to a Kimai timesheet (`timesheets_written`, by operation: `created`,
/// `updated`, `deleted`).
pub fn timesheet_written(operation: &'static str) {
    metrics::counter!("timesheets_written", "operation" => operation).increment(1);
}

/// Conflicts opened (`conflicts_opened`).
pub fn conflicts_opened(count: usize) {
    metrics::counter!("conflicts_opened").increment(count as u64);
}

/// A run ended (`runs_ended`, by trigger and state) after `took` (`run_duration`, seconds, by
/// trigger).
pub fn run_ended(trigger: &'static str, state: &'static str, took: Duration) {
    metrics::counter!("runs_ended", "trigger" => trigger, "state" => state).increment(1);
    metrics::histogram!("run_duration", "trigger" => trigger).record(took.as_secs_f64());
}

/// Domain events the bus did not take (`events_unpublished`).
pub fn events_unpublished(count: usize) {
    metrics::counter!("events_unpublished").increment(count as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_into_few_classes() {
        assert_eq!(status_class(Some(200)), "2xx");
        assert_eq!(status_class(Some(204)), "2xx");
        assert_eq!(status_class(Some(401)), "4xx");
        assert_eq!(status_class(Some(429)), "429");
        assert_eq!(status_class(Some(503)), "5xx");
        assert_eq!(status_class(None), "error");
    }
}
