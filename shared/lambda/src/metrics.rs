//! The functions' metrics in CloudWatch embedded metric format (EMF): the values the code
//! counts through `sync_metrics` are gathered in the process and written to stdout as one JSON
//! line per label set after every invocation; CloudWatch Logs turns those lines into metrics
//! in the `ZammadKimaiSync` namespace. No API call and no extra latency: the log line is the
//! metric.
//!
//! `SYNC_METRICS=off` (template parameter `EmitMetrics=false`) installs nothing: every custom
//! metric is billed by the month (docs/operations.md), and a deployment may not want them.

use metrics_cloudwatch_embedded::{Builder, Collector};
use std::sync::OnceLock;

/// Set to `off` to emit no metrics.
pub const SYNC_METRICS: &str = "SYNC_METRICS";

static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Installs the process's metrics recorder, once, for `function` (a property of every line,
/// not a dimension: it costs nothing). Nothing when `SYNC_METRICS=off`; a second call is a
/// no-op.
pub fn install(function: &'static str) {
    if std::env::var(SYNC_METRICS).is_ok_and(|v| v.trim().eq_ignore_ascii_case("off")) {
        tracing::info!("metrics off ({SYNC_METRICS}=off)");
        return;
    }
    if COLLECTOR.get().is_some() {
        return;
    }
    match Builder::new()
        .cloudwatch_namespace(sync_metrics::NAMESPACE)
        .init()
    {
        Ok(collector) => {
            collector.set_property("function", function);
            let _ = COLLECTOR.set(collector);
        }
        // Another recorder was installed first (a test's): keep it.
        Err(e) => tracing::warn!(error = %e, "metrics recorder not installed"),
    }
}

/// Writes what was counted since the last flush to `out`, one EMF document per line.
pub fn flush_to(out: impl std::io::Write) {
    if let Some(collector) = COLLECTOR.get() {
        if let Err(e) = collector.flush(out) {
            tracing::warn!(error = %e, "metrics not written");
        }
    }
}

/// After each invocation: what it counted, to stdout (Lambda sends stdout to CloudWatch Logs).
pub fn flush() {
    flush_to(std::io::stdout().lock());
}
