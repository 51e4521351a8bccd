//! X-Ray subsegments as the daemon receives them: a ticket synced through reconcile and the
//! writer against both simulators, with a UDP socket standing in for Lambda's X-Ray daemon.
//! One test per file: the call tracer is the process's, installed once.

use serde_json::Value;
use std::net::UdpSocket;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use sync_core::ids::TicketId;
use test_support::pipeline::{Harness, TICKET, zammad_client};

const PARENT: &str = "53995c3f42cd8ad8";

/// The trace header of the "invocation" under way; the runtime keeps it in an environment
/// variable, which a test must not write while other threads run.
static HEADER: Mutex<Option<String>> = Mutex::new(None);

fn header() -> Option<String> {
    HEADER.lock().unwrap().clone()
}

fn invoke(header: Option<String>) {
    *HEADER.lock().unwrap() = header;
}

/// A trace id as X-Ray makes them: the epoch second in hex, then 96 random bits.
fn trace_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("1-{now:08x}-a006649127e371903a2de979")
}

/// Every datagram that arrives within a short quiet period, as (header, document).
fn received(daemon: &UdpSocket) -> Vec<(Value, Value)> {
    daemon
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = vec![0u8; 65_536];
    let mut out = Vec::new();
    while let Ok(n) = daemon.recv(&mut buf) {
        let text = std::str::from_utf8(&buf[..n]).expect("UTF-8 datagram");
        let (header, document) = text
            .split_once('\n')
            .expect("header line, then the document");
        out.push((
            serde_json::from_str(header).expect("header is JSON"),
            serde_json::from_str(document).expect("document is JSON"),
        ));
    }
    out
}

#[tokio::test]
async fn each_upstream_call_of_a_sampled_invocation_is_a_remote_subsegment() {
    let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
    sync_lambda::xray::install_to(daemon.local_addr().unwrap(), header);
    let h = Harness::start().await;

    // Outside an invocation (no trace header) nothing is sent.
    zammad_client(&h.zammad).version().await.unwrap();
    assert!(received(&daemon).is_empty(), "no invocation, no subsegment");

    // A sampled invocation: every call to either system, under the invocation's segment.
    let trace = trace_id();
    invoke(Some(format!("Root={trace};Parent={PARENT};Sampled=1")));
    let outcomes = h.sync(TICKET).await;
    assert!(outcomes.iter().all(|o| o.is_ok()), "{outcomes:?}");
    let docs = received(&daemon);
    for (header, doc) in &docs {
        assert_eq!(header["format"], "json");
        assert_eq!(header["version"], 1);
        assert_eq!(doc["trace_id"], trace.as_str(), "{doc}");
        assert_eq!(
            doc["parent_id"], PARENT,
            "under the invocation's segment: {doc}"
        );
        assert_eq!(doc["type"], "subsegment", "{doc}");
        assert_eq!(doc["namespace"], "remote", "{doc}");
        assert_eq!(doc["id"].as_str().unwrap().len(), 16, "{doc}");
        let url = doc["http"]["request"]["url"].as_str().expect("the URL");
        assert!(url.starts_with("http://127.0.0.1:"), "{doc}");
        assert!(!url.contains('?'), "no query in a trace: {doc}");
        assert!(
            doc["http"]["response"]["status"].as_u64().is_some(),
            "{doc}"
        );
        let (start, end) = (
            doc["start_time"].as_f64().unwrap(),
            doc["end_time"].as_f64().unwrap(),
        );
        assert!(start > 1.7e9 && start <= end, "{doc}");
    }
    let named = |name: &str| docs.iter().filter(|(_, d)| d["name"] == name).count();
    assert!(named("Zammad") > 0, "Zammad calls: {docs:?}");
    assert!(named("Kimai") > 0, "Kimai calls: {docs:?}");
    assert_eq!(named("Zammad") + named("Kimai"), docs.len());
    assert!(
        docs.iter()
            .any(|(_, d)| d["name"] == "Kimai" && d["http"]["request"]["method"] == "POST"),
        "the created timesheet: {docs:?}"
    );

    // A call answered 404 is marked an error (a client fault), not a fault of the upstream.
    let missing = zammad_client(&h.zammad).ticket(TicketId(987_654)).await;
    assert!(missing.is_err());
    let docs = received(&daemon);
    assert_eq!(docs.len(), 1, "{docs:?}");
    let doc = &docs[0].1;
    assert_eq!(doc["http"]["response"]["status"], 404, "{doc}");
    assert_eq!(doc["error"], true, "{doc}");
    assert_ne!(doc["fault"], true, "{doc}");

    // No answer at all (nothing listens there) is a fault, one subsegment per attempt.
    let mut config = kimai_client::KimaiConfig::new(
        "http://127.0.0.1:9/",
        kimai_client::ApiToken::new("not-used"),
    )
    .unwrap();
    config.max_retries = 0;
    let unreachable = kimai_client::KimaiClient::new(config).unwrap();
    assert!(unreachable.version().await.is_err());
    let docs = received(&daemon);
    assert_eq!(docs.len(), 1, "{docs:?}");
    let doc = &docs[0].1;
    assert_eq!(doc["name"], "Kimai", "{doc}");
    assert_eq!(doc["fault"], true, "{doc}");
    assert!(doc["http"]["response"].get("status").is_none(), "{doc}");

    // Not sampled: nothing is sent.
    invoke(Some(format!(
        "Root={};Parent={PARENT};Sampled=0",
        trace_id()
    )));
    zammad_client(&h.zammad).version().await.unwrap();
    assert!(received(&daemon).is_empty(), "not sampled, nothing sent");
}
