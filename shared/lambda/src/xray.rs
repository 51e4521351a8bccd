//! X-Ray subsegments around every call to Zammad and Kimai, so a slow or failing sync shows in
//! the trace map where the time went.
//!
//! With active tracing (the template's `Tracing: Active`), Lambda runs an X-Ray daemon beside
//! the function (its UDP address in `AWS_XRAY_DAEMON_ADDRESS`) and writes the invocation's
//! segment itself. The runtime puts each invocation's trace header in `_X_AMZN_TRACE_ID`
//! before the handler runs (one invocation at a time per process: no concurrent mode here).
//! Each upstream call becomes a `remote` subsegment of that segment, sent when the call ends:
//! named `Zammad` or `Kimai`, with the method, the URL without its query, the status, and
//! X-Ray's error, throttle and fault flags from it. Only sampled invocations send anything
//! (the header's `Sampled=1`), as X-Ray's sampling rules decide.
//!
//! The clients only report calls (`sync_metrics::upstream_call`); the OpenTelemetry SDK and its
//! X-Ray exporter stay here. Sending is a non-blocking UDP datagram: a missing daemon costs a
//! failed send, logged at debug, never a failed call. `SYNC_XRAY=off` turns it off.

use opentelemetry::trace::{Span, SpanKind, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_aws::trace::XrayIdGenerator;
use opentelemetry_aws::trace::xray_propagator::span_context_from_str;
use opentelemetry_aws::xray_exporter::{XrayExporter, daemon_client::XrayDaemonClient};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use std::net::SocketAddr;
use std::time::SystemTime;
use sync_metrics::UpstreamCall;

/// Set to `off` to send no subsegments.
pub const SYNC_XRAY: &str = "SYNC_XRAY";
/// Where Lambda's X-Ray daemon listens (set by Lambda when tracing is active).
pub const DAEMON_ADDRESS: &str = "AWS_XRAY_DAEMON_ADDRESS";
/// The current invocation's trace header (set by the runtime per invocation).
pub const TRACE_HEADER: &str = "_X_AMZN_TRACE_ID";

/// Installs the subsegments when Lambda runs a daemon for this function; nothing otherwise
/// (tracing off, or outside Lambda) or when `SYNC_XRAY=off`.
pub fn install() {
    if std::env::var(SYNC_XRAY).is_ok_and(|v| v.trim().eq_ignore_ascii_case("off")) {
        tracing::info!("X-Ray subsegments off ({SYNC_XRAY}=off)");
        return;
    }
    let Ok(address) = std::env::var(DAEMON_ADDRESS) else {
        return;
    };
    match address.trim().parse::<SocketAddr>() {
        Ok(daemon) => install_to(daemon, invocation_trace_header),
        Err(e) => {
            tracing::warn!(address, error = %e, "X-Ray daemon address not understood; no subsegments")
        }
    }
}

/// The current invocation's trace header, as the runtime set it.
pub fn invocation_trace_header() -> Option<String> {
    std::env::var(TRACE_HEADER).ok()
}

/// Installs the subsegments, sent to the daemon at `daemon`, each under the trace that
/// `trace_header` names when the call ends (the invocation's: [`invocation_trace_header`]).
/// A second call is a no-op.
pub fn install_to(daemon: SocketAddr, trace_header: fn() -> Option<String>) {
    let client = match XrayDaemonClient::new(daemon) {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %e, "no socket for the X-Ray daemon; no subsegments");
            return;
        }
    };
    // The simple processor exports each span as it ends: a batch thread would be frozen
    // between invocations and lose what it held when the environment is recycled.
    let provider = SdkTracerProvider::builder()
        .with_id_generator(XrayIdGenerator::default())
        .with_simple_exporter(XrayExporter::new(client))
        .build();
    // The tracer holds the provider: it lives as long as the installed closure, the process.
    let tracer = provider.tracer("zammad-kimai-sync");
    if !sync_metrics::trace_calls_with(move |call, ended| {
        if let Some(parent) = trace_header().as_deref().and_then(parent_context) {
            record(&tracer, &parent, call, ended);
        }
    }) {
        tracing::debug!("an upstream call tracer was installed before");
    }
}

/// The invocation's segment as the parent of its subsegments; `None` for a header X-Ray
/// would not accept.
fn parent_context(header: &str) -> Option<Context> {
    let parent = span_context_from_str(header)?;
    Some(Context::new().with_remote_span_context(parent))
}

fn record(tracer: &SdkTracer, parent: &Context, call: &UpstreamCall<'_>, ended: SystemTime) {
    let mut attributes = vec![
        KeyValue::new("http.request.method", call.method.to_owned()),
        KeyValue::new("url.full", call.url.to_owned()),
    ];
    if let Some(status) = call.status {
        attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
    }
    let mut span = tracer
        .span_builder(subsegment_name(call.system))
        .with_kind(SpanKind::Client)
        .with_start_time(call.started)
        .with_attributes(attributes)
        .start_with_context(tracer, parent);
    match call.status {
        None => span.set_status(Status::error("no answer")),
        Some(s) if s >= 400 => span.set_status(Status::error(format!("HTTP {s}"))),
        Some(_) => {}
    }
    span.end_with_timestamp(ended);
}

fn subsegment_name(system: sync_metrics::System) -> &'static str {
    match system {
        sync_metrics::System::Zammad => "Zammad",
        sync_metrics::System::Kimai => "Kimai",
    }
}
