//! Test harness of the reconcile and writer steps: the real Zammad and Kimai simulators on
//! random loopback ports, the store's in-memory adapters, and helpers that run reconcile and
//! then the writer on whatever reconcile queued.
#![allow(dead_code)]

use chrono::Utc;
use kimai_client::{ApiToken, KimaiClient, KimaiConfig};
use std::sync::Arc;
use std::time::Duration;
use sync_core::ids::TicketId;
use sync_core::units::TimeUnit;
use sync_service::policies::SYNC_POLICY_ID;
use sync_service::reconcile::{InvocationCache, ReconcileError, ReconcileReport, Reconciler};
use sync_service::settings::ZammadConnection;
use sync_service::sync_stores::SyncStores;
use sync_service::writer::{WriteError, WriteOutcome, Writer, WriterCache};
use sync_store::clock::SystemClock;
use sync_store::control::{ControlStore, DocumentKind, ExpectedVersion};
use sync_store::memory::{
    MemoryAuditLog, MemoryConflicts, MemoryControl, MemoryEntries, MemoryQueue,
};
use sync_store::queue::{KimaiWriteMessage, MessageQueue, SyncReason, TicketSyncMessage};
use zammad_client::{ClientConfig, ZammadClient};

pub const TICKET: TicketId = TicketId(10);

/// Zammad: one organisation, one agent (Anna), one ticket with two accountings on
/// 2026-03-02 (10:00Z and 14:00Z, 30 and 15 minutes; the first typed "Remote").
pub fn zammad_dataset() -> zammad_sim::dataset::Dataset {
    let json = serde_json::json!({
        "organisations": [{"id": 1, "name": "Acme"}],
        "groups": [{"id": 1, "name": "Support"}],
        "users": [
            {"id": 1, "login": "admin", "firstname": "Ada", "lastname": "Admin",
             "email": "admin@example.com", "role": "admin", "group_ids": [1]},
            {"id": 2, "login": "anna", "firstname": "Anna", "lastname": "Agent",
             "email": "anna@example.com", "role": "agent", "group_ids": [1]},
            {"id": 3, "login": "carl", "firstname": "Carl", "lastname": "Customer",
             "email": "carl@acme.example", "role": "customer", "organization_id": 1}
        ],
        "tickets": [{"id": 10, "number": "31010", "title": "Printer jam", "group_id": 1,
                     "customer_id": 3, "organization_id": 1,
                     "created_at": "2026-03-02T08:00:00Z"}],
        "accounting_types": [{"id": 1, "name": "Remote"}],
        "accountings": [
            {"id": 100, "ticket_id": 10, "time_unit": "30", "type_id": 1,
             "created_by_id": 2, "created_at": "2026-03-02T10:00:00Z"},
            {"id": 101, "ticket_id": 10, "time_unit": "15",
             "created_by_id": 2, "created_at": "2026-03-02T14:00:00Z"}
        ],
        "tokens": [{"token": "zammad-admin-token", "user_id": 1}]
    });
    zammad_sim::dataset::Dataset::from_json(&json.to_string()).expect("zammad dataset")
}

/// Kimai: the API user `sync` in UTC (so POSTed times must be converted from Anna's zone;
/// it may book for others but not edit exported timesheets),
/// Anna in Europe/Berlin, customer `OID-1` with project `Support`, two global activities.
pub fn kimai_dataset() -> kimai_sim::Dataset {
    let json = serde_json::json!({
        "users": [
            {"id": 1, "username": "sync", "email": "sync@example.org", "timezone": "UTC",
             "roles": ["ROLE_ADMIN"],
             "permissions": ["view_other_timesheet", "edit_other_timesheet",
                             "delete_other_timesheet", "create_other_timesheet",
                             "edit_billable", "view_user", "create_tag"]},
            {"id": 2, "username": "anna", "email": "anna@example.com",
             "timezone": "Europe/Berlin"},
            {"id": 3, "username": "bob", "email": "bob@example.com",
             "timezone": "America/New_York"}
        ],
        "tokens": [{"token": "kimai-admin-token", "user": 1}],
        "customers": [{"id": 1, "name": "Acme", "number": "OID-1"}],
        "projects": [{"id": 1, "customer": 1, "name": "Support"}],
        "activities": [{"id": 1, "name": "Remote"}, {"id": 2, "name": "General"}]
    });
    kimai_sim::Dataset::from_json(&json.to_string()).expect("kimai dataset")
}

/// Type 1 → activity 1, everything else → activity 2; the API user may book for others.
pub fn policy(approval_required: bool) -> serde_json::Value {
    policy_with_users(approval_required, serde_json::json!({}))
}

/// [`policy`] with explicit agent → Kimai user overrides (`{"2": 3}`).
pub fn policy_with_users(approval_required: bool, users: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "approval_required": approval_required,
        "mappings": {
            "activity_by_type": {"1": 1},
            "default_activity": 2,
            "user_by_agent": users,
            "can_book_for_others": true
        }
    })
}

pub struct Harness {
    pub zammad: zammad_sim::RunningSim,
    pub kimai: kimai_sim::RunningSim,
    pub entries: Arc<MemoryEntries>,
    pub conflicts: Arc<MemoryConflicts>,
    pub audit: Arc<MemoryAuditLog>,
    pub control: Arc<MemoryControl>,
    pub writes: Arc<MemoryQueue<KimaiWriteMessage>>,
    pub reconciler: Reconciler,
    pub writer: Writer,
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(zammad_dataset(), kimai_dataset(), policy(false)).await
    }

    pub async fn start_with(
        zammad_data: zammad_sim::dataset::Dataset,
        kimai_data: kimai_sim::Dataset,
        policy: serde_json::Value,
    ) -> Harness {
        let zammad = zammad_sim::serve(
            zammad_sim::SimConfig {
                port: 0,
                ..zammad_sim::SimConfig::default()
            },
            zammad_data,
        )
        .await
        .expect("zammad-sim");
        let kimai = kimai_sim::serve(kimai_sim::SimConfig { port: 0, seed: 1 }, kimai_data)
            .await
            .expect("kimai-sim");

        let entries = Arc::new(MemoryEntries::new());
        let conflicts = Arc::new(MemoryConflicts::new());
        let audit = Arc::new(MemoryAuditLog::new(Default::default()));
        let control = Arc::new(MemoryControl::new());
        let writes = Arc::new(MemoryQueue::<KimaiWriteMessage>::new());
        control
            .put_document(
                DocumentKind::Policy,
                SYNC_POLICY_ID,
                &policy,
                ExpectedVersion::Any,
                Utc::now(),
            )
            .await
            .expect("policy");
        let stores = SyncStores {
            entries: entries.clone(),
            conflicts: conflicts.clone(),
            audit: audit.clone(),
            control: control.clone(),
            clock: Arc::new(SystemClock),
        };
        let reconciler = Reconciler {
            zammad: Arc::new(zammad_client(&zammad)),
            zammad_settings: ZammadConnection::new(
                zammad.base_url(),
                TimeUnit::Minutes,
                "Europe/Berlin",
            ),
            kimai: Arc::new(kimai_client(&kimai)),
            stores: stores.clone(),
            writes: writes.clone(),
            max_receive_count: sync_store::schema::TICKET_SYNC_QUEUE.max_receive_count,
        };
        let writer = Writer::new(Arc::new(kimai_client(&kimai)), stores, "test-writer");
        Harness {
            zammad,
            kimai,
            entries,
            conflicts,
            audit,
            control,
            writes,
            reconciler,
            writer,
        }
    }

    /// Replaces the `policy/sync` document.
    pub async fn set_policy(&self, policy: serde_json::Value) {
        self.control
            .put_document(
                DocumentKind::Policy,
                SYNC_POLICY_ID,
                &policy,
                ExpectedVersion::Any,
                Utc::now(),
            )
            .await
            .expect("policy");
    }

    pub async fn reconcile(&self, ticket: TicketId) -> Result<ReconcileReport, ReconcileError> {
        self.reconcile_message(&TicketSyncMessage::new(ticket, SyncReason::Manual, None))
            .await
    }

    pub async fn reconcile_message(
        &self,
        message: &TicketSyncMessage,
    ) -> Result<ReconcileReport, ReconcileError> {
        self.reconciler
            .reconcile(&InvocationCache::new(), message)
            .await
    }

    /// Queued write messages, oldest first, without removing them.
    pub fn queued(&self) -> Vec<KimaiWriteMessage> {
        self.writes
            .waiting_bodies()
            .iter()
            .map(|b| serde_json::from_str(b).expect("queued body"))
            .collect()
    }

    /// Receives every queued write and applies it; a success deletes the message (ack), a
    /// failure puts it back, as SQS would after the visibility timeout.
    pub async fn run_writer(&self) -> Vec<Result<WriteOutcome, WriteError>> {
        let cache = WriterCache::new();
        let mut results = Vec::new();
        loop {
            let batch = self.writes.receive(10, 0).await.expect("receive");
            if batch.is_empty() {
                break;
            }
            let mut failed = Vec::new();
            for r in batch {
                let outcome = self.writer.apply_body(&cache, &r.message_id, &r.body).await;
                match &outcome {
                    Ok(_) => self.writes.delete(&r.receipt).await.expect("delete"),
                    Err(_) => failed.push(r.receipt.clone()),
                }
                results.push(outcome);
            }
            if !failed.is_empty() {
                for receipt in failed {
                    self.writes.release(&receipt).await.expect("release");
                }
                break;
            }
        }
        results
    }

    /// Reconcile, then write everything queued.
    pub async fn sync(&self, ticket: TicketId) -> Vec<Result<WriteOutcome, WriteError>> {
        self.reconcile(ticket).await.expect("reconcile");
        self.run_writer().await
    }

    pub fn kimai_sheets(&self) -> Vec<kimai_sim::AdminTimesheet> {
        self.kimai.admin().timesheets()
    }

    pub fn kimai_calls(&self, route: &str) -> u64 {
        self.kimai.admin().call_count(route)
    }

    pub fn kimai_writes(&self) -> u64 {
        self.kimai_calls("POST /api/timesheets")
            + self.kimai_calls("PATCH /api/timesheets/{id}")
            + self.kimai_calls("DELETE /api/timesheets/{id}")
    }

    pub async fn open_conflicts(&self) -> Vec<sync_store::conflicts::ConflictRecord> {
        use sync_store::conflicts::{ConflictFilter, ConflictStatus, ConflictsStore};
        let page = self
            .conflicts
            .list(
                &ConflictFilter::status(ConflictStatus::Open),
                &sync_store::PageRequest::first(100),
            )
            .await
            .expect("conflicts");
        page.items
    }
}

pub fn zammad_client(sim: &zammad_sim::RunningSim) -> ZammadClient {
    let mut config = ClientConfig::new(
        url::Url::parse(&sim.base_url()).expect("url"),
        "zammad-admin-token",
    );
    config.request_timeout = Duration::from_secs(5);
    ZammadClient::new(config).expect("zammad client")
}

pub fn kimai_client(sim: &kimai_sim::RunningSim) -> KimaiClient {
    let mut config =
        KimaiConfig::new(&sim.base_url(), ApiToken::new("kimai-admin-token")).expect("config");
    config.max_retries = 1;
    config.min_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(20);
    config.request_timeout = Duration::from_secs(5);
    KimaiClient::new(config).expect("kimai client")
}
