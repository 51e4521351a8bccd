//! The functions' metrics as CloudWatch reads them: a ticket synced through reconcile and the
//! writer against both simulators, then the EMF lines the flush writes. One test per file: the
//! recorder is the process's, installed once.

use serde_json::Value;
use test_support::pipeline::{Harness, TICKET};

fn documents(out: &[u8]) -> Vec<Value> {
    String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON document"))
        .collect()
}

/// The value of `name` in the document whose dimensions are exactly `labels`.
fn value(docs: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<Value> {
    docs.iter()
        .find(|d| {
            let declared = &d["_aws"]["CloudWatchMetrics"][0];
            let dims: Vec<&str> = declared["Dimensions"][0]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            declared["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["Name"] == name)
                && dims.len() == labels.len()
                && labels.iter().all(|(k, v)| dims.contains(k) && d[*k] == *v)
        })
        .map(|d| d[name].clone())
}

#[tokio::test]
async fn a_synced_ticket_shows_as_metrics_in_embedded_metric_format() {
    sync_lambda::metrics::install("reconcile");
    let h = Harness::start().await;
    let outcomes = h.sync(TICKET).await;
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(sync_service::writer::WriteOutcome::Created { .. })))
        .count();
    assert!(created > 0, "{outcomes:?}");

    let mut out = Vec::new();
    sync_lambda::metrics::flush_to(&mut out);
    let docs = documents(&out);
    assert!(!docs.is_empty());
    for d in &docs {
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "ZammadKimaiSync"
        );
        assert_eq!(d["function"], "reconcile", "the function is a property");
        assert!(d["_aws"]["Timestamp"].as_u64().unwrap() > 0);
    }
    assert_eq!(
        value(&docs, "timesheets_written", &[("operation", "created")]),
        Some(Value::from(created as u64))
    );
    assert_eq!(value(&docs, "accountings_seen", &[]), Some(Value::from(2)));
    let kimai_ok = value(
        &docs,
        "upstream_calls",
        &[("system", "kimai"), ("status", "2xx")],
    )
    .and_then(|v| v.as_u64())
    .unwrap_or(0);
    assert!(kimai_ok > 0, "{docs:#?}");
    let zammad_ok = value(
        &docs,
        "upstream_calls",
        &[("system", "zammad"), ("status", "2xx")],
    )
    .and_then(|v| v.as_u64())
    .unwrap_or(0);
    assert!(zammad_ok > 0, "{docs:#?}");
    // Latency is a list of milliseconds, one per call.
    let latencies = value(&docs, "upstream_latency", &[("system", "kimai")]).unwrap();
    assert!(!latencies.as_array().unwrap().is_empty());

    // A flush writes what was counted since the last one: nothing now.
    let mut again = Vec::new();
    sync_lambda::metrics::flush_to(&mut again);
    assert!(
        documents(&again).is_empty(),
        "{}",
        String::from_utf8_lossy(&again)
    );
}
