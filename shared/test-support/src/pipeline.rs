//! The sync pipeline between both simulators: reconcile and the writer over in-memory stores,
//! with helpers that run reconcile and then the writer on whatever reconcile queued.
//!
//! [`reconciler`] is the one place a test builds a `Reconciler` (the [`Harness`] over in-memory
//! stores, the AWS tests over theirs): when its construction changes, this is the one fix.

use crate::datasets;
use crate::sims::{self, RunningKimai, RunningZammad, ZammadVersion};
use crate::stores::MemoryStores;
use chrono::Utc;
use kimai_client::{ApiToken, KimaiClient, KimaiConfig};
use std::sync::Arc;
use std::time::Duration;
use sync_core::ids::TicketId;
use sync_core::units::TimeUnit;
use sync_service::policies::SYNC_POLICY_ID;
use sync_service::reconcile::{InvocationCache, ReconcileError, ReconcileReport, Reconciler};
use sync_service::settings::{self, KimaiConnection, ZammadConnection};
use sync_service::sync_stores::SyncStores;
use sync_service::upstream::{Kimai, Zammad};
use sync_service::writer::{WriteError, WriteOutcome, Writer, WriterCache};
use sync_store::clock::SystemClock;
use sync_store::control::{ControlStore, DocumentKind, ExpectedVersion};
use sync_store::memory::{
    MemoryAuditLog, MemoryConflicts, MemoryControl, MemoryEntries, MemoryQueue,
};
use sync_store::queue::{KimaiWriteMessage, MessageQueue, SyncReason, TicketSyncMessage};
use zammad_client::{ClientConfig, ZammadClient};

/// The ticket of the printer-jam datasets.
pub const TICKET: TicketId = TicketId(datasets::zammad::PRINTER_JAM_TICKET);

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

/// Reconcile and the writer over fresh in-memory stores (on the system clock), with both
/// simulators. The fields are the stores' own adapters, to look inside after a step.
pub struct Harness {
    pub zammad: RunningZammad,
    pub kimai: RunningKimai,
    pub entries: Arc<MemoryEntries>,
    pub conflicts: Arc<MemoryConflicts>,
    pub audit: Arc<MemoryAuditLog>,
    pub control: Arc<MemoryControl>,
    /// The kimai-write queue reconcile sends to.
    pub writes: Arc<MemoryQueue<KimaiWriteMessage>>,
    /// The stores the steps run on, for another step of a test's own over the same data.
    pub sync_stores: SyncStores,
    /// The event bus the steps publish on.
    pub bus: Arc<sync_store::memory::MemoryEventBus>,
    pub reconciler: Reconciler,
    pub writer: Writer,
}

impl Harness {
    /// Zammad's ticket 10 with two accountings of Anna, Kimai's Acme with two activities
    /// ([`datasets::zammad::printer_jam_two_accountings`], [`datasets::kimai::acme_two_activities`]),
    /// approval off.
    pub async fn start() -> Harness {
        Self::start_with(
            datasets::zammad::printer_jam_two_accountings(),
            datasets::kimai::acme_two_activities(),
            policy(false),
        )
        .await
    }

    /// Other simulator data and policy. The clients log in with the Acme datasets' admin
    /// tokens ([`datasets::zammad::TWO_ACCOUNTINGS_TOKEN`], [`datasets::kimai::ACME_ADMIN_TOKEN`]).
    pub async fn start_with(
        zammad_data: zammad_sim::Dataset,
        kimai_data: kimai_sim::Dataset,
        policy: serde_json::Value,
    ) -> Harness {
        let zammad = sims::zammad(ZammadVersion::V6_5, zammad_data).await;
        let kimai = sims::kimai(1, kimai_data).await;
        let stores = MemoryStores::new();
        put_policy(stores.control.as_ref(), &policy).await;
        // The system clock: the steps stamp what they store with the real time, as deployed.
        let sync_stores = stores.sync_stores_on(Arc::new(SystemClock));
        let reconciler = reconciler(
            Arc::new(zammad_client(&zammad)),
            zammad_connection(&zammad),
            Arc::new(kimai_client(&kimai)),
            sync_stores.clone(),
            stores.kimai_write.clone(),
        );
        let writer = Writer::new(
            Arc::new(kimai_client(&kimai)),
            sync_stores.clone(),
            "test-writer",
        );
        Harness {
            zammad,
            kimai,
            entries: stores.entries,
            conflicts: stores.conflicts,
            audit: stores.audit,
            control: stores.control,
            writes: stores.kimai_write,
            bus: stores.bus,
            sync_stores,
            reconciler,
            writer,
        }
    }

    /// Replaces the `policy/sync` document.
    pub async fn set_policy(&self, policy: serde_json::Value) {
        put_policy(self.control.as_ref(), &policy).await;
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

/// Reconcile over `stores`, sending its writes to `writes`, and failing for good on the
/// ticket-sync queue's deployed last delivery.
pub fn reconciler(
    zammad: Arc<dyn Zammad>,
    zammad_settings: ZammadConnection,
    kimai: Arc<dyn Kimai>,
    stores: SyncStores,
    writes: Arc<dyn MessageQueue<KimaiWriteMessage>>,
) -> Reconciler {
    Reconciler {
        zammad,
        zammad_settings,
        kimai,
        stores,
        writes,
        max_receive_count: sync_store::schema::TICKET_SYNC_QUEUE.max_receive_count,
        wait: None,
    }
}

async fn put_policy(control: &dyn ControlStore, policy: &serde_json::Value) {
    control
        .put_document(
            DocumentKind::Policy,
            SYNC_POLICY_ID,
            policy,
            ExpectedVersion::Any,
            Utc::now(),
        )
        .await
        .expect("policy");
}

/// The Zammad connection to `sim` as the tests save it: time in minutes, Europe/Berlin where
/// an agent has no zone of their own.
pub fn zammad_connection(sim: &RunningZammad) -> ZammadConnection {
    ZammadConnection::new(sim.base_url(), TimeUnit::Minutes, "Europe/Berlin")
}

/// Saves both connections, to `zammad` ([`zammad_connection`]) and to `kimai`, as the console
/// does; the functions read them from there.
pub async fn save_connections(
    control: &dyn ControlStore,
    zammad: &RunningZammad,
    kimai: &RunningKimai,
) {
    settings::save_zammad(
        control,
        &zammad_connection(zammad),
        ExpectedVersion::Any,
        Utc::now(),
    )
    .await
    .expect("save the Zammad connection");
    save_kimai_connection(control, kimai).await;
}

/// Saves the Kimai connection to `sim`.
pub async fn save_kimai_connection(control: &dyn ControlStore, sim: &RunningKimai) {
    settings::save_kimai(
        control,
        &KimaiConnection::new(sim.base_url()),
        ExpectedVersion::Any,
        Utc::now(),
    )
    .await
    .expect("save the Kimai connection");
}

/// A Zammad client of the simulator, as its admin in the Acme datasets.
pub fn zammad_client(sim: &RunningZammad) -> ZammadClient {
    let mut config = ClientConfig::new(
        url::Url::parse(&sim.base_url()).expect("url"),
        datasets::zammad::TWO_ACCOUNTINGS_TOKEN,
    );
    config.request_timeout = Duration::from_secs(5);
    ZammadClient::new(config).expect("zammad client")
}

/// A Kimai client of the simulator, as `sync` in the Acme datasets; one quick retry, so a
/// test of a failing route stays fast.
pub fn kimai_client(sim: &RunningKimai) -> KimaiClient {
    let mut config = KimaiConfig::new(
        &sim.base_url(),
        ApiToken::new(datasets::kimai::ACME_ADMIN_TOKEN),
    )
    .expect("config");
    config.max_retries = 1;
    config.min_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(20);
    config.request_timeout = Duration::from_secs(5);
    KimaiClient::new(config).expect("kimai client")
}
