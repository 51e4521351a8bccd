//! Two plans of one ticket, forced to interleave: the newer Zammad read always wins, in the
//! stored records and in Kimai. Each test pauses one reconcile at an await point that matters
//! (after its Zammad read, inside its persist) while the other runs, through a gate in the
//! port it awaits. A plain write queue order is the third case: two plans queued before the
//! writer runs.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use sync_core::desired::EntryKey;
use sync_core::ids::{OrganisationId, TicketId, TimesheetId, ZammadUserId};
use sync_core::plan::Base;
use sync_core::zammad::{AccountingType, Organisation, Ticket, TimeAccounting, ZammadUser};
use sync_service::reconcile::{InvocationCache, ReconcileError, Reconciler};
use sync_service::sync_stores::SyncStores;
use sync_service::upstream::Zammad;
use sync_service::writer::WriteOutcome;
use sync_store::StoreResult;
use sync_store::entries::{EntriesStore, EntryRecord, EntryStatus, ExpectedLink, LinkOutcome};
use sync_store::page::{Page, PageRequest};
use sync_store::queue::{SyncReason, TicketSyncMessage};
use test_support::pipeline::{
    Harness, TICKET, kimai_client, reconciler, zammad_client, zammad_connection,
};
use tokio::sync::Notify;
use zammad_client::ZammadError;

const MARKER: &str = "[zammad:ta=100]";

/// Holds the first caller that passes it once armed, until the test opens it.
#[derive(Default)]
struct Gate {
    armed: AtomicBool,
    reached: Notify,
    open: Notify,
}

impl Gate {
    fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    async fn pass(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.reached.notify_one();
            self.open.notified().await;
        }
    }

    async fn reached(&self) {
        self.reached.notified().await;
    }

    fn open(&self) {
        self.open.notify_one();
    }
}

/// The Zammad port, holding a caller at the gate after it read a ticket's accountings.
#[derive(Debug)]
struct GatedZammad {
    inner: Arc<dyn Zammad>,
    gate: Arc<GateHandle>,
}

/// `Debug` for the port's bound.
#[derive(Default)]
struct GateHandle(Gate);

impl std::fmt::Debug for GateHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GateHandle")
    }
}

#[async_trait]
impl Zammad for GatedZammad {
    fn base_url(&self) -> &str {
        self.inner.base_url()
    }
    async fn time_accountings_updated_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<TimeAccounting>, ZammadError> {
        self.inner.time_accountings_updated_since(since).await
    }
    async fn tickets_updated_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Ticket>, ZammadError> {
        self.inner.tickets_updated_since(since).await
    }
    async fn ticket(&self, id: TicketId) -> Result<Ticket, ZammadError> {
        self.inner.ticket(id).await
    }
    async fn ticket_time_accountings(
        &self,
        id: TicketId,
    ) -> Result<Vec<TimeAccounting>, ZammadError> {
        let read = self.inner.ticket_time_accountings(id).await;
        self.gate.0.pass().await;
        read
    }
    async fn accounting_types(&self) -> Result<Vec<AccountingType>, ZammadError> {
        self.inner.accounting_types().await
    }
    async fn user(&self, id: ZammadUserId) -> Result<ZammadUser, ZammadError> {
        self.inner.user(id).await
    }
    async fn organisation(&self, id: OrganisationId) -> Result<Organisation, ZammadError> {
        self.inner.organisation(id).await
    }
    async fn me(&self) -> Result<ZammadUser, ZammadError> {
        self.inner.me().await
    }
}

/// The entries store, holding a caller at the gate before it saves a record.
struct GatedEntries {
    inner: Arc<dyn EntriesStore>,
    gate: Arc<GateHandle>,
}

#[async_trait]
impl EntriesStore for GatedEntries {
    async fn save(&self, record: &EntryRecord) -> StoreResult<()> {
        self.gate.0.pass().await;
        self.inner.save(record).await
    }
    async fn get(&self, ticket: TicketId, key: &EntryKey) -> StoreResult<Option<EntryRecord>> {
        self.inner.get(ticket, key).await
    }
    async fn load_ticket(&self, ticket: TicketId) -> StoreResult<Vec<EntryRecord>> {
        self.inner.load_ticket(ticket).await
    }
    async fn link(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        expected: ExpectedLink,
        base: &Base,
        status: EntryStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome> {
        self.inner
            .link(ticket, key, expected, base, status, at)
            .await
    }
    async fn note_create_sent(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.inner.note_create_sent(ticket, key, at).await
    }
    async fn set_status(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        status: EntryStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.inner.set_status(ticket, key, status, at).await
    }
    async fn list_by_status(
        &self,
        status: EntryStatus,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>> {
        self.inner.list_by_status(status, page).await
    }
    async fn list_by_day(
        &self,
        day: NaiveDate,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>> {
        self.inner.list_by_day(day, page).await
    }
    async fn list_by_agent(
        &self,
        agent: ZammadUserId,
        from: NaiveDate,
        to: NaiveDate,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>> {
        self.inner.list_by_agent(agent, from, to, page).await
    }
    async fn tickets_on_day(
        &self,
        day: chrono::NaiveDate,
    ) -> StoreResult<std::collections::BTreeSet<TicketId>> {
        self.inner.tickets_on_day(day).await
    }
    async fn find_by_kimai_id(&self, id: TimesheetId) -> StoreResult<Option<EntryRecord>> {
        self.inner.find_by_kimai_id(id).await
    }
    async fn delete(&self, ticket: TicketId, key: &EntryKey) -> StoreResult<bool> {
        self.inner.delete(ticket, key).await
    }
}

fn change_minutes(h: &Harness, minutes: &str) {
    h.zammad
        .sim()
        .change_accounting(
            100,
            serde_json::from_value(serde_json::json!({ "time_unit": minutes })).unwrap(),
        )
        .unwrap();
}

/// A second reconcile over the harness's stores and simulators, with gates in its ports.
fn gated_reconciler(
    h: &Harness,
    zammad_gate: Arc<GateHandle>,
    save_gate: Arc<GateHandle>,
) -> Reconciler {
    let stores = SyncStores {
        entries: Arc::new(GatedEntries {
            inner: h.entries.clone(),
            gate: save_gate,
        }),
        ..h.sync_stores.clone()
    };
    reconciler(
        Arc::new(GatedZammad {
            inner: Arc::new(zammad_client(&h.zammad)),
            gate: zammad_gate,
        }),
        zammad_connection(&h.zammad),
        Arc::new(kimai_client(&h.kimai)),
        stores,
        h.writes.clone(),
    )
}

fn message() -> TicketSyncMessage {
    TicketSyncMessage::new(TICKET, SyncReason::Webhook, None)
}

/// The stored minutes of the key of accounting 100, and the minutes Kimai holds for it.
async fn stored_and_kimai_minutes(h: &Harness) -> (i64, i64) {
    let records = h.entries.load_ticket(TICKET).await.unwrap();
    let record = records
        .iter()
        .find(|r| {
            r.desired
                .as_ref()
                .is_some_and(|d| d.description.contains(MARKER))
        })
        .unwrap_or_else(|| panic!("{records:?}"));
    let desired = record.desired.as_ref().expect("desired");
    let stored = desired.duration_secs / 60;
    let sheet = h
        .kimai_sheets()
        .into_iter()
        .find(|s| s.description.as_deref().unwrap_or("").contains(MARKER))
        .expect("timesheet");
    (stored, sheet.duration / 60)
}

#[tokio::test]
async fn a_plan_read_before_a_newer_one_was_recorded_gives_up_and_the_newer_values_land() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    change_minutes(&h, "40");
    let zammad_gate = Arc::new(GateHandle::default());
    let older = gated_reconciler(&h, zammad_gate.clone(), Arc::default());
    zammad_gate.0.arm();

    let cache = InvocationCache::new();
    let msg = message();
    let (older_report, ()) = tokio::join!(older.reconcile(&cache, &msg), async {
        // The older plan has read 40 minutes and waits; Zammad moves on to 45, and a newer
        // plan reads and records that before the older one goes on.
        zammad_gate.0.reached().await;
        change_minutes(&h, "45");
        let newer = h.reconcile_message(&message()).await.unwrap();
        assert_eq!(newer.updates, 1, "{newer:?}");
        zammad_gate.0.open();
    });
    let older_report = older_report.unwrap();
    assert!(older_report.out_of_date, "{older_report:?}");
    assert_eq!(older_report.enqueued, 0);

    let written = h.run_writer().await;
    assert!(
        written
            .iter()
            .all(|r| matches!(r, Ok(WriteOutcome::Updated { .. }))),
        "{written:?}"
    );
    assert_eq!(stored_and_kimai_minutes(&h).await, (45, 45));
    assert_eq!(h.reconcile(TICKET).await.unwrap().enqueued, 0, "in sync");
}

#[tokio::test]
async fn a_newer_plan_waits_for_the_turn_an_older_one_holds_then_records_last() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    change_minutes(&h, "40");
    let save_gate = Arc::new(GateHandle::default());
    let older = gated_reconciler(&h, Arc::default(), save_gate.clone());
    save_gate.0.arm();

    let cache = InvocationCache::new();
    let msg = message();
    let (older_report, newer_first) = tokio::join!(older.reconcile(&cache, &msg), async {
        // The older plan (40 minutes) is inside its persist; the newer one (45) comes now.
        save_gate.0.reached().await;
        change_minutes(&h, "45");
        let first = h.reconcile_message(&message()).await;
        save_gate.0.open();
        first
    });
    let older_report = older_report.unwrap();
    assert_eq!(older_report.updates, 1, "{older_report:?}");
    let busy = newer_first.unwrap_err();
    assert!(
        matches!(busy, ReconcileError::TicketBusy { .. }) && busy.is_retryable(),
        "{busy:?}"
    );
    // The queue brings the newer plan back once the turn is free.
    let newer = h.reconcile_message(&message()).await.unwrap();
    assert_eq!(newer.updates, 1, "{newer:?}");

    let written = h.run_writer().await;
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(
        matches!(written[0], Ok(WriteOutcome::OutOfDate)),
        "the older plan's update is not written: {written:?}"
    );
    assert!(
        matches!(written[1], Ok(WriteOutcome::Updated { .. })),
        "{written:?}"
    );
    assert_eq!(h.kimai_calls("PATCH /api/timesheets/{id}"), 1);
    assert_eq!(stored_and_kimai_minutes(&h).await, (45, 45));
}

#[tokio::test]
async fn of_two_creates_queued_for_one_key_only_the_latest_values_are_written() {
    let h = Harness::start().await;
    h.reconcile(TICKET).await.unwrap();
    change_minutes(&h, "45");
    h.reconcile(TICKET).await.unwrap();
    let queued = h.queued();
    assert_eq!(queued.len(), 4, "two creates per key, the older first");

    let written = h.run_writer().await;
    let out_of_date = written
        .iter()
        .filter(|r| matches!(r, Ok(WriteOutcome::OutOfDate)))
        .count();
    assert_eq!(
        out_of_date, 1,
        "the older create of the changed key: {written:?}"
    );
    assert_eq!(
        h.kimai_calls("POST /api/timesheets"),
        2,
        "one create per key"
    );
    assert_eq!(stored_and_kimai_minutes(&h).await, (45, 45));
    assert_eq!(h.reconcile(TICKET).await.unwrap().enqueued, 0, "in sync");
}
