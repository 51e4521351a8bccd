//! The reconcile handler on SQS event files, with in-memory stores and the real simulators.

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;
use std::sync::Arc;
use sync_core::units::TimeUnit;
use sync_service::connections::Connections;
use sync_service::policies::SYNC_POLICY_ID;
use sync_service::settings::{self, KimaiConnection, ZammadConnection};
use sync_service::sync_stores::SyncStores;
use sync_store::clock::SystemClock;
use sync_store::control::{ControlStore, DocumentKind, ExpectedVersion};
use sync_store::memory::{
    MemoryAuditLog, MemoryConflicts, MemoryControl, MemoryEntries, MemoryQueue, MemorySecrets,
};
use sync_store::queue::KimaiWriteMessage;

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
    let zammad = zammad_sim::serve(
        zammad_sim::SimConfig {
            port: 0,
            ..Default::default()
        },
        zammad_sim::Dataset::from_json(
            &serde_json::json!({
                "organisations": [{"id": 1, "name": "Acme"}],
                "groups": [{"id": 1, "name": "Support"}],
                "users": [
                    {"id": 1, "login": "admin", "email": "admin@example.com", "role": "admin"},
                    {"id": 2, "login": "anna", "firstname": "Anna", "email": "anna@example.com",
                     "role": "agent", "group_ids": [1]},
                    {"id": 3, "login": "carl", "role": "customer", "organization_id": 1}
                ],
                "tickets": [{"id": 10, "number": "31010", "title": "Printer jam", "group_id": 1,
                             "customer_id": 3, "organization_id": 1,
                             "created_at": "2026-03-02T08:00:00Z"}],
                "accountings": [{"id": 100, "ticket_id": 10, "time_unit": "30",
                                 "created_by_id": 2, "created_at": "2026-03-02T10:00:00Z"}],
                "tokens": [{"token": "zammad-token", "user_id": 1}]
            })
            .to_string(),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let kimai = kimai_sim::serve(
        kimai_sim::SimConfig { port: 0, seed: 1 },
        kimai_sim::Dataset::from_json(
            &serde_json::json!({
                "users": [
                    {"id": 1, "username": "sync", "email": "sync@example.org", "timezone": "UTC",
                     "roles": ["ROLE_ADMIN"]},
                    {"id": 2, "username": "anna", "email": "anna@example.com",
                     "timezone": "Europe/Berlin"}
                ],
                "tokens": [{"token": "kimai-token", "user": 1}],
                "customers": [{"id": 1, "name": "Acme", "number": "OID-1"}],
                "projects": [{"id": 1, "customer": 1, "name": "Support"}],
                "activities": [{"id": 1, "name": "Remote"}]
            })
            .to_string(),
        )
        .unwrap(),
    )
    .await
    .unwrap();

    let control = Arc::new(MemoryControl::new());
    let secrets = Arc::new(MemorySecrets::new());
    if configured {
        let now = Utc::now();
        settings::save_zammad(
            control.as_ref(),
            &ZammadConnection::new(zammad.base_url(), TimeUnit::Minutes, "Europe/Berlin"),
            ExpectedVersion::Any,
            now,
        )
        .await
        .unwrap();
        settings::save_kimai(
            control.as_ref(),
            &KimaiConnection::new(kimai.base_url()),
            ExpectedVersion::Any,
            now,
        )
        .await
        .unwrap();
        secrets.set("zammad-secret", "zammad-token");
        secrets.set("kimai-secret", "kimai-token");
    }
    control
        .put_document(
            DocumentKind::Policy,
            SYNC_POLICY_ID,
            &serde_json::json!({"mappings": {"default_activity": 1, "can_book_for_others": true}}),
            ExpectedVersion::Any,
            Utc::now(),
        )
        .await
        .unwrap();
    let entries = Arc::new(MemoryEntries::new());
    let writes = Arc::new(MemoryQueue::<KimaiWriteMessage>::new());
    let deps = sync_lambda::reconcile::Deps {
        stores: SyncStores {
            entries: entries.clone(),
            conflicts: Arc::new(MemoryConflicts::new()),
            audit: Arc::new(MemoryAuditLog::new(Default::default())),
            control: control.clone(),
            clock: Arc::new(SystemClock),
        },
        writes: writes.clone(),
        connections: Connections::new(
            control.clone(),
            secrets,
            Some("zammad-secret".into()),
            Some("kimai-secret".into()),
        ),
        concurrency: sync_lambda::reconcile::CONCURRENCY,
        max_receive_count: 5,
    };
    Setup {
        _zammad: zammad,
        _kimai: kimai,
        control,
        entries,
        writes,
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
    let response = sync_lambda::reconcile::handle(&s.deps, event("ticket_sync_batch.json")).await;
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
    let response = sync_lambda::reconcile::handle(&s.deps, event("ticket_sync_dry_run.json")).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(s.writes.waiting_bodies().is_empty());
}

#[tokio::test]
async fn without_connection_settings_every_record_goes_back_to_the_queue() {
    let s = setup(false).await;
    let response = sync_lambda::reconcile::handle(&s.deps, event("ticket_sync_batch.json")).await;
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
