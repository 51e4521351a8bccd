//! Approval mode end to end through the console API: the policy is switched on with the
//! console's own `PUT /api/policies`, new Zammad time is reconciled by the handler and waits as
//! an entry awaiting approval with no write queued; `POST /api/entries/approve` queues the create
//! and the writer posts it to Kimai. In-memory stores shared by the API and the pipeline, the
//! real simulators, all on 127.0.0.1.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use sync_core::desired::EntryKey;
use sync_core::ids::TicketId;
use sync_service::connections::Connections;
use sync_service::policies::SYNC_POLICY_ID;
use sync_service::writer::{WriteOutcome, Writer, WriterCache};
use sync_store::clock::{Clock, SystemClock};
use sync_store::control::{DocumentKind, ExpectedVersion};
use sync_store::entries::{EntriesStore, EntryStatus};
use sync_store::memory::{MemoryEntries, MemoryQueue};
use sync_store::queue::{KimaiWriteMessage, MessageQueue, SyncReason, TicketSyncMessage, encode};
use test_support::apps::{KIMAI_TOKEN_SECRET, ZAMMAD_TOKEN_SECRET, add_admin, api_state_on, serve};
use test_support::datasets::kimai::{ACME_TOKEN, acme_one_activity_with_permissions};
use test_support::datasets::zammad::{ONE_ACCOUNTING_TOKEN, printer_jam_one_accounting};
use test_support::pipeline::save_connections;
use test_support::sims::{self, ZammadVersion};
use test_support::stores::MemoryStores;

const TICKET: TicketId = TicketId(10);
/// Message ids of the deliveries made here.
static DELIVERIES: AtomicU64 = AtomicU64::new(1);
const ADMIN_PASSWORD: &str = "approval test admin password";

struct Stack {
    zammad: zammad_sim::RunningSim,
    kimai: kimai_sim::RunningSim,
    entries: Arc<MemoryEntries>,
    writes: Arc<MemoryQueue<KimaiWriteMessage>>,
    deps: sync_lambda::reconcile::Deps,
    writer: Writer,
    api: String,
    http: reqwest::Client,
    token: String,
}

async fn start() -> Stack {
    let zammad = sims::zammad(ZammadVersion::V6_5, printer_jam_one_accounting()).await;
    let kimai = sims::kimai(1, acme_one_activity_with_permissions()).await;

    // One set of stores for the pipeline and the console, all on the system clock.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let stores = MemoryStores::new();
    stores
        .secrets
        .set(ZAMMAD_TOKEN_SECRET, ONE_ACCOUNTING_TOKEN);
    stores.secrets.set(KIMAI_TOKEN_SECRET, ACME_TOKEN);
    save_connections(stores.control.as_ref(), &zammad, &kimai).await;

    let sync_stores = stores.sync_stores_on(clock.clone());
    let connections = Connections::new(
        stores.control.clone(),
        stores.secrets.clone(),
        Some(ZAMMAD_TOKEN_SECRET.into()),
        Some(KIMAI_TOKEN_SECRET.into()),
    );
    let writer = Writer::new(
        connections.kimai().await.unwrap(),
        sync_stores.clone(),
        "approval-test-writer",
    );
    let deps = sync_lambda::reconcile::Deps {
        stores: sync_stores,
        writes: stores.kimai_write.clone(),
        queue: stores.ticket_sync.clone(),
        connections,
        concurrency: sync_lambda::reconcile::CONCURRENCY,
        max_receive_count: 5,
        panic_ticket: None,
        cache: Default::default(),
    };

    // The console API over the same stores.
    let state = api_state_on(&stores, clock);
    add_admin(&state, "admin", ADMIN_PASSWORD).await;
    let api = serve(state).await;
    let http = reqwest::Client::builder()
        .user_agent("reconcile-approval-test/1")
        .build()
        .unwrap();
    let login: Value = http
        .post(format!("{api}/api/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("a login token").to_owned();

    Stack {
        zammad,
        kimai,
        entries: stores.entries,
        writes: stores.kimai_write,
        deps,
        writer,
        api,
        http,
        token,
    }
}

impl Stack {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// What the console's policies form does: read the policies, change some, save them.
    async fn save_policies(&self, change: impl FnOnce(&mut serde_json::Map<String, Value>)) {
        let mut view = self.call(reqwest::Method::GET, "/api/policies", None).await;
        let body = view.as_object_mut().unwrap();
        body.remove("version");
        change(body);
        self.call(reqwest::Method::PUT, "/api/policies", Some(view))
            .await;
    }

    /// One SQS delivery of a ticket-sync message to the handler; no record may fail.
    async fn reconcile(&self) {
        let mut record = SqsMessage::default();
        record.message_id = Some(format!("m-{}", DELIVERIES.fetch_add(1, Ordering::Relaxed)));
        record.body = Some(encode(&TicketSyncMessage::new(
            TICKET,
            SyncReason::Webhook,
            None,
        )));
        let mut event = SqsEvent::default();
        event.records = vec![record];
        let response = sync_lambda::reconcile::handle(&self.deps, event, None).await;
        assert!(response.batch_item_failures.is_empty(), "a record failed");
    }

    /// Applies every queued write, as the kimai-writer would.
    async fn run_writer(&self) -> Vec<WriteOutcome> {
        let cache = WriterCache::new();
        let mut outcomes = Vec::new();
        loop {
            let batch = self.writes.receive(10, 0).await.unwrap();
            if batch.is_empty() {
                return outcomes;
            }
            for r in batch {
                outcomes.push(
                    self.writer
                        .apply_body(&cache, &r.message_id, &r.body)
                        .await
                        .expect("write"),
                );
                self.writes.delete(&r.receipt).await.unwrap();
            }
        }
    }

    fn kimai_posts(&self) -> u64 {
        self.kimai.admin().call_count("POST /api/timesheets")
    }
}

#[tokio::test]
async fn approval_switched_on_in_the_console_holds_new_time_until_it_is_approved() {
    let s = start().await;
    // Seeded as `make up` seeds the stack: approval off, agents booked as themselves.
    s.deps
        .stores
        .control
        .put_document(
            DocumentKind::Policy,
            SYNC_POLICY_ID,
            &json!({"approval_required": false,
                    "mappings": {"default_activity": 1, "can_book_for_others": true}}),
            ExpectedVersion::New,
            Utc::now(),
        )
        .await
        .unwrap();
    s.reconcile().await;
    let first = s.run_writer().await;
    let records = s.entries.load_ticket(TICKET).await.unwrap();
    assert!(
        matches!(first.as_slice(), [WriteOutcome::Created { .. }]),
        "{first:?} {records:?}"
    );
    assert_eq!(s.kimai.admin().timesheets().len(), 1);

    // Approval on, through the console; then new time in Zammad.
    s.save_policies(|p| {
        p.insert("approval_required".into(), json!(true));
    })
    .await;
    let policies = s.call(reqwest::Method::GET, "/api/policies", None).await;
    assert_eq!(policies["approval_required"], json!(true));
    let new = s
        .zammad
        .sim()
        .add_accounting(zammad_sim::NewAccounting {
            ticket_id: TICKET.0,
            created_by_id: 2,
            time_unit: Decimal::from(20),
            type_id: None,
            with_article: false,
            article_body: None,
            created_at: Some("2026-03-02T15:00:00Z".parse().unwrap()),
        })
        .unwrap();
    let key = EntryKey(format!("ta:{}", new["id"]));
    let posts = s.kimai_posts();

    s.reconcile().await;
    assert!(s.writes.waiting_bodies().is_empty(), "no write is queued");
    let held = s.entries.get(TICKET, &key).await.unwrap().expect("entry");
    assert_eq!(held.status, EntryStatus::AwaitingApproval);
    let waiting = s
        .call(
            reqwest::Method::GET,
            "/api/entries?status=awaiting_approval",
            None,
        )
        .await;
    assert_eq!(waiting["items"].as_array().unwrap().len(), 1, "{waiting}");
    assert!(s.run_writer().await.is_empty());
    assert_eq!(s.kimai_posts(), posts, "nothing reached Kimai");

    // Approved in the console: the create is queued and the writer posts it.
    let answer = s
        .call(
            reqwest::Method::POST,
            "/api/entries/approve",
            Some(json!({"entries": [{"ticket": TICKET.0, "key": key.0}]})),
        )
        .await;
    assert_eq!(answer["approved"], json!(1), "{answer}");
    let outcomes = s.run_writer().await;
    assert!(
        matches!(outcomes.as_slice(), [WriteOutcome::Created { .. }]),
        "{outcomes:?}"
    );
    assert_eq!(s.kimai_posts(), posts + 1);
    assert_eq!(s.kimai.admin().timesheets().len(), 2);
    let written = s.entries.get(TICKET, &key).await.unwrap().expect("entry");
    assert_eq!(written.status, EntryStatus::Synced);
    assert!(written.base.is_some(), "linked to its timesheet");
}
