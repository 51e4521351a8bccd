//! The scheduled-fetch handler on payloads we wrote by hand (`tests/events/`), with the in-memory ports and the
//! Zammad simulator on a random loopback port.

use chrono::Utc;
use serde_json::Value;
use std::sync::Arc;
use sync_service::events::Publisher;
use sync_service::fetch::{FetchDeps, FetchRequest, ModeName, WATERMARK};
use sync_service::settings;
use sync_store::audit::AuditRetention;
use sync_store::clock::SystemClock;
use sync_store::control::{ControlStore, ExpectedVersion};
use sync_store::memory::{
    MemoryAuditLog, MemoryControl, MemoryEntries, MemoryEventBus, MemoryQueue, MemorySecrets,
};
use sync_store::queue::{SyncReason, TicketSyncMessage, decode};
use test_support::datasets;
use test_support::pipeline::zammad_connection;
use test_support::sims;
use zammad_sim::{RunningSim, ZammadVersion};

fn payload(name: &str) -> Value {
    let path = format!("{}/tests/events/fetch/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("event file")).expect("JSON")
}

struct Ports {
    _sim: RunningSim,
    control: MemoryControl,
    entries: MemoryEntries,
    queue: MemoryQueue<TicketSyncMessage>,
    audit: MemoryAuditLog,
    secrets: MemorySecrets,
    clock: SystemClock,
    events: Publisher,
}

impl Ports {
    async fn new() -> Self {
        let sim = sims::zammad(ZammadVersion::V6_5, datasets::zammad::demo()).await;
        let control = MemoryControl::new();
        let connection = zammad_connection(&sim);
        settings::save_zammad(&control, &connection, ExpectedVersion::New, Utc::now())
            .await
            .unwrap();
        let secrets = MemorySecrets::new();
        secrets.set("zammad", "demo-admin-token");
        Ports {
            _sim: sim,
            control,
            entries: MemoryEntries::new(),
            queue: MemoryQueue::new(),
            audit: MemoryAuditLog::new(AuditRetention::default()),
            secrets,
            clock: SystemClock,
            events: Publisher::new(Arc::new(MemoryEventBus::new())),
        }
    }

    fn deps(&self) -> FetchDeps<'_> {
        FetchDeps {
            control: &self.control,
            entries: &self.entries,
            queue: &self.queue,
            audit: &self.audit,
            secrets: &self.secrets,
            zammad_token_secret: "zammad",
            clock: &self.clock,
            zammad_pace: None,
            events: &self.events,
        }
    }

    fn queued(&self) -> Vec<TicketSyncMessage> {
        self.queue
            .waiting_bodies()
            .iter()
            .map(|b| decode(b).unwrap())
            .collect()
    }
}

#[test]
fn every_event_file_reads_as_the_request_it_describes() {
    let mode = |name: &str| {
        sync_lambda::fetch::fetch_request(payload(name))
            .unwrap()
            .mode
    };
    assert_eq!(mode("incremental.json"), ModeName::Incremental);
    assert_eq!(mode("verify.json"), ModeName::Verify);
    assert_eq!(mode("backfill.json"), ModeName::Backfill);
    assert_eq!(mode("eventbridge-rule.json"), ModeName::Verify);
    assert_eq!(
        sync_lambda::fetch::fetch_request(Value::Null).unwrap(),
        FetchRequest::default()
    );
    let err = sync_lambda::fetch::fetch_request(payload("bad-mode.json")).unwrap_err();
    assert!(err.to_string().contains("sometimes"), "{err}");
}

#[tokio::test]
async fn an_incremental_tick_records_a_run_and_sets_the_watermark() {
    let ports = Ports::new().await;
    let out = sync_lambda::fetch::handle(&ports.deps(), payload("incremental.json"))
        .await
        .unwrap();
    assert_eq!(out["outcome"], "ran");
    assert_eq!(out["state"], "succeeded");
    assert_eq!(out["discovery"], "global_listing");
    // The demo data is from 2024: nothing changed in the first day's look-back.
    assert_eq!(out["found"], 0);
    assert!(
        ports
            .control
            .get_watermark(WATERMARK)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_backfill_payload_enqueues_with_its_reason_and_dry_run() {
    let ports = Ports::new().await;
    let out = sync_lambda::fetch::handle(&ports.deps(), payload("backfill.json"))
        .await
        .unwrap();
    assert_eq!(out["state"], "succeeded", "{out}");
    let queued = ports.queued();
    assert!(!queued.is_empty());
    assert_eq!(out["enqueued"], queued.len());
    assert!(
        queued
            .iter()
            .all(|m| m.reason == SyncReason::Backfill && m.dry_run)
    );
}

#[tokio::test]
async fn a_bad_payload_is_an_invocation_error_and_runs_nothing() {
    let ports = Ports::new().await;
    let err = sync_lambda::fetch::handle(&ports.deps(), payload("bad-mode.json"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bad fetch request"), "{err}");
    let runs = ports
        .control
        .list_runs(&sync_store::PageRequest::first(10))
        .await
        .unwrap();
    assert!(runs.items.is_empty());
}

#[tokio::test]
async fn the_check_payload_runs_the_connection_check_and_no_fetch() {
    let ports = Ports::new().await;
    // Connections over stores where nothing is set up: the check says so for both.
    let connections = sync_service::connections::Connections::new(
        Arc::new(MemoryControl::new()),
        Arc::new(MemorySecrets::new()),
        Some("zammad".into()),
        Some("kimai".into()),
    );
    let payload: Value = serde_json::from_str(sync_lambda::fetch::CHECK_INPUT).unwrap();
    let out = sync_lambda::fetch::handle_event(&ports.deps(), &connections, payload)
        .await
        .unwrap();
    assert_eq!(out["zammad"]["state"], "not_configured", "{out}");
    assert_eq!(out["kimai"]["state"], "not_configured", "{out}");
    let runs = ports
        .control
        .list_runs(&sync_store::PageRequest::first(10))
        .await
        .unwrap();
    assert!(runs.items.is_empty(), "a check is not a sync run");
    assert!(ports.queued().is_empty());
}
