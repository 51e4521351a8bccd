//! The reconcile handler on SQS event files, with in-memory stores and the real simulators.

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;
use std::sync::Arc;
use sync_service::connections::Connections;
use sync_service::policies::SYNC_POLICY_ID;
use sync_store::clock::SystemClock;
use sync_store::control::{ControlStore, DocumentKind, ExpectedVersion};
use sync_store::memory::{MemoryControl, MemoryEntries, MemoryQueue};
use sync_store::queue::KimaiWriteMessage;
use test_support::datasets::kimai::{ACME_TOKEN, acme_one_activity};
use test_support::datasets::zammad::{ONE_ACCOUNTING_TOKEN, printer_jam_one_accounting};
use test_support::pipeline::save_connections;
use test_support::sims::{self, ZammadVersion};
use test_support::stores::MemoryStores;

fn event(name: &str) -> SqsEvent {
    let path = format!(
        "{}/tests/events/reconcile/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("event file");
    serde_json::from_str(&text).expect("an SQS event")
}

struct Setup {
    _zammad: zammad_sim::RunningSim,
    _kimai: kimai_sim::RunningSim,
    control: Arc<MemoryControl>,
    entries: Arc<MemoryEntries>,
    writes: Arc<MemoryQueue<KimaiWriteMessage>>,
    deps: sync_lambda::reconcile::Deps,
}

/// Ticket 10 with one accounting of agent 2 (Anna), who is Kimai user 2.
async fn setup(configured: bool) -> Setup {
    let zammad = sims::zammad(ZammadVersion::V6_5, printer_jam_one_accounting()).await;
    let kimai = sims::kimai(1, acme_one_activity()).await;

    let stores = MemoryStores::new();
    if configured {
        save_connections(stores.control.as_ref(), &zammad, &kimai).await;
        stores.secrets.set("zammad-secret", ONE_ACCOUNTING_TOKEN);
        stores.secrets.set("kimai-secret", ACME_TOKEN);
    }
    stores
        .control
        .put_document(
            DocumentKind::Policy,
            SYNC_POLICY_ID,
            &serde_json::json!({"mappings": {"default_activity": 1, "can_book_for_others": true}}),
            ExpectedVersion::Any,
            Utc::now(),
        )
        .await
        .unwrap();
    let deps = sync_lambda::reconcile::Deps {
        stores: stores.sync_stores_on(Arc::new(SystemClock)),
        writes: stores.kimai_write.clone(),
        queue: stores.ticket_sync.clone(),
        connections: Connections::new(
            stores.control.clone(),
            stores.secrets.clone(),
            Some("zammad-secret".into()),
            Some("kimai-secret".into()),
        ),
        concurrency: sync_lambda::reconcile::CONCURRENCY,
        max_receive_count: 5,
        panic_ticket: None,
        cache: Default::default(),
    };
    Setup {
        _zammad: zammad,
        _kimai: kimai,
        control: stores.control,
        entries: stores.entries,
        writes: stores.kimai_write,
        deps,
    }
}

fn failed_ids(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn good_records_are_planned_and_only_undecodable_ones_fail() {
    let s = setup(true).await;
    let response =
        sync_lambda::reconcile::handle(&s.deps, event("ticket_sync_batch.json"), None).await;
    assert_eq!(
        failed_ids(&response),
        vec![
            "0b6a1c2e-0002-4d6f-9a61-000000000002",
            "0b6a1c2e-0003-4d6f-9a61-000000000003"
        ]
    );
    let queued = s.writes.waiting_bodies();
    assert_eq!(queued.len(), 1, "one create for the one accounting");
    let message: KimaiWriteMessage = serde_json::from_str(&queued[0]).unwrap();
    assert_eq!(message.ticket_id.0, 10);
    let records = sync_store::entries::EntriesStore::load_ticket(
        s.entries.as_ref(),
        sync_core::ids::TicketId(10),
    )
    .await
    .unwrap();
    assert_eq!(records.len(), 1);
    // The response serialises as Lambda expects it.
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(
        json["batchItemFailures"][0]["itemIdentifier"],
        "0b6a1c2e-0002-4d6f-9a61-000000000002"
    );
}

#[tokio::test]
async fn a_dry_run_event_enqueues_nothing() {
    let s = setup(true).await;
    let response =
        sync_lambda::reconcile::handle(&s.deps, event("ticket_sync_dry_run.json"), None).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(s.writes.waiting_bodies().is_empty());
}

#[tokio::test]
async fn without_connection_settings_every_record_goes_back_to_the_queue() {
    let s = setup(false).await;
    let response =
        sync_lambda::reconcile::handle(&s.deps, event("ticket_sync_batch.json"), None).await;
    assert_eq!(failed_ids(&response).len(), 3);
    assert!(s.writes.waiting_bodies().is_empty());
    assert!(
        s.control
            .get_document(DocumentKind::Connection, "zammad")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_record_that_panics_fails_alone_and_the_invocation_answers() {
    let mut s = setup(true).await;
    s.deps.panic_ticket = Some(10);
    let response =
        sync_lambda::reconcile::handle(&s.deps, event("ticket_sync_batch.json"), None).await;
    assert_eq!(
        failed_ids(&response),
        vec![
            "0b6a1c2e-0001-4d6f-9a61-000000000001",
            "0b6a1c2e-0002-4d6f-9a61-000000000002",
            "0b6a1c2e-0003-4d6f-9a61-000000000003"
        ],
        "the panicking record is reported with the two undecodable ones"
    );
    assert!(s.writes.waiting_bodies().is_empty());
}
