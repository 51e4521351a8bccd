//! Test harness: the console router on a random 127.0.0.1 port over the in-memory stores, the
//! Zammad and Kimai simulators beside it, a manual clock, and a log capture (test-support's
//! `spawn_app` and `LogCapture`), with the requests and checks the API's tests share.
#![allow(dead_code)]

use console_api::ApiState;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use sync_store::PageRequest;
use sync_store::audit::{AuditFilter, AuditLog, AuditRecord};
use sync_store::clock::{Clock, ManualClock};
use sync_store::control::Role;
use sync_store::memory::{
    MemoryAuditLog, MemoryConflicts, MemoryControl, MemoryEntries, MemoryQueue, MemorySchedule,
    MemorySecrets,
};
use sync_store::queue::{KimaiWriteMessage, TicketSyncMessage};
use test_support::apps::{SpawnedApp, add_admin, add_user, spawn_app_edited};
use test_support::logs::LogCapture;
use test_support::stores::MemoryStores;

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "first admin password 1";
pub const VIEWER: &str = "vera";
pub const VIEWER_PASSWORD: &str = "viewer password 12";
pub const SIGNING_KEY: &str = test_support::apps::SIGNING_KEY;
pub const ZAMMAD_TOKEN: &str = test_support::datasets::zammad::DEMO_ADMIN_TOKEN;
pub const KIMAI_TOKEN: &str = test_support::datasets::kimai::DEMO_ADMIN_TOKEN;
pub const USER_AGENT: &str = "console-api-tests/1";

pub struct App {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub control: Arc<MemoryControl>,
    pub audit: Arc<MemoryAuditLog>,
    pub conflicts: Arc<MemoryConflicts>,
    pub entries: Arc<MemoryEntries>,
    pub ticket_sync: Arc<MemoryQueue<TicketSyncMessage>>,
    pub kimai_write: Arc<MemoryQueue<KimaiWriteMessage>>,
    pub ticket_sync_dlq: Arc<MemoryQueue<TicketSyncMessage>>,
    pub kimai_write_dlq: Arc<MemoryQueue<KimaiWriteMessage>>,
    pub schedule: Arc<MemorySchedule>,
    pub secrets: Arc<MemorySecrets>,
    /// The event bus the console publishes on (its test event, runs it ended).
    pub bus: Arc<sync_store::memory::MemoryEventBus>,
    pub state: ApiState,
    pub zammad: zammad_sim::RunningSim,
    pub kimai: kimai_sim::RunningSim,
    /// Every response body seen, to check that no secret is ever sent back.
    pub bodies: Mutex<Vec<String>>,
}

impl App {
    /// The console over fresh stores (clock at the real current time: login windows and tokens
    /// are checked against it) with its admin and a viewer, both simulators on their demo data.
    pub async fn start() -> App {
        App::start_edited(|_, _| {}).await
    }

    /// [`App::start`], the state changed by `edit` before the console serves it.
    pub async fn start_edited(edit: impl FnOnce(&mut ApiState, &MemoryStores)) -> App {
        // Before anything logs: the served router logs from other threads.
        LogCapture::this_process();
        let SpawnedApp {
            base,
            state,
            stores,
            zammad,
            kimai,
        } = spawn_app_edited(
            test_support::datasets::zammad::demo(),
            test_support::datasets::kimai::demo(),
            edit,
        )
        .await;
        add_admin(&state, ADMIN, ADMIN_PASSWORD).await;
        add_user(&state, VIEWER, VIEWER_PASSWORD, Role::Viewer).await;
        App {
            base,
            http: reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .build()
                .unwrap(),
            clock: stores.clock,
            control: stores.control,
            audit: stores.audit,
            conflicts: stores.conflicts,
            entries: stores.entries,
            ticket_sync: stores.ticket_sync,
            kimai_write: stores.kimai_write,
            ticket_sync_dlq: stores.ticket_sync_dlq,
            kimai_write_dlq: stores.kimai_write_dlq,
            schedule: stores.schedule,
            secrets: stores.secrets,
            bus: stores.bus,
            state,
            zammad,
            kimai,
            bodies: Mutex::new(Vec::new()),
        }
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r
    }

    /// Sends and returns status, headers and body (JSON when it parses, else a string).
    pub async fn send(&self, r: reqwest::RequestBuilder) -> Reply {
        let response = r.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        self.bodies.lock().unwrap().push(text.clone());
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut r = self.request(method, path, token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        self.send(r).await
    }

    pub async fn login(&self, user: &str, password: &str) -> Reply {
        self.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": user, "password": password})),
        )
        .await
    }

    pub async fn token(&self, user: &str, password: &str) -> String {
        let reply = self.login(user, password).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json["token"].as_str().unwrap().to_owned()
    }

    /// The API's OpenAPI document, as a client reads it (no login needed).
    pub async fn document(&self) -> Value {
        let reply = self
            .call(Method::GET, "/api/openapi.json", None, None)
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        serde_json::from_str(&reply.text).expect("the document is JSON")
    }

    pub async fn admin(&self) -> String {
        self.token(ADMIN, ADMIN_PASSWORD).await
    }

    pub async fn viewer(&self) -> String {
        self.token(VIEWER, VIEWER_PASSWORD).await
    }

    /// Requests a GDPR purge (202), then follows the job until it ends; the job as it ended.
    pub async fn purge(&self, admin: &str, subject: Value) -> Value {
        let reply = self
            .call(Method::POST, "/api/gdpr/purge", Some(admin), Some(subject))
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        assert_eq!(reply.json["status"], "queued", "{}", reply.text);
        follow_purge(
            &self.base,
            &self.http,
            admin,
            reply.json["id"].as_str().unwrap(),
        )
        .await
    }

    /// Saves both connections pointing at the simulators, with working tokens.
    pub async fn configure(&self, admin: &str) {
        let z = self
            .call(
                Method::PUT,
                "/api/connections/zammad",
                Some(admin),
                Some(json!({
                    "base_url": self.zammad.base_url(),
                    "time_unit": {"unit": "minutes"},
                    "default_zone": "Europe/Berlin",
                    "token": ZAMMAD_TOKEN
                })),
            )
            .await;
        assert_eq!(z.status, StatusCode::OK, "{}", z.text);
        let k = self
            .call(
                Method::PUT,
                "/api/connections/kimai",
                Some(admin),
                Some(json!({"base_url": self.kimai.base_url(), "token": KIMAI_TOKEN})),
            )
            .await;
        assert_eq!(k.status, StatusCode::OK, "{}", k.text);
    }

    /// The actions of [`App::audit_records`], newest first.
    pub async fn audit_actions(&self) -> Vec<String> {
        self.audit_records()
            .await
            .into_iter()
            .map(|r| r.event.action)
            .collect()
    }

    pub async fn audit_records(&self) -> Vec<AuditRecord> {
        let day = self.clock.now().date_naive();
        self.audit
            .query(
                day - chrono::Days::new(1),
                day + chrono::Days::new(1),
                &AuditFilter::default(),
                &PageRequest::first(500),
            )
            .await
            .unwrap()
            .items
    }

    /// No response and no log line so far holds any of `secrets`.
    pub fn assert_never_sent_or_logged(&self, secrets: &[&str]) {
        let logs = self.logs();
        let bodies = self.bodies.lock().unwrap();
        assert!(!bodies.is_empty());
        for secret in secrets {
            assert!(!logs.contains(secret), "log holds {secret:?}");
            for body in bodies.iter() {
                assert!(
                    !body.contains(secret),
                    "a response holds {secret:?}: {body}"
                );
            }
        }
    }

    pub fn logs(&self) -> String {
        LogCapture::this_process().text()
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    /// A problem+json answer with this status, a request id and the id in the header.
    pub fn assert_problem(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.headers["content-type"], "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.json["status"], status.as_u16());
        let id = self.json["request_id"]
            .as_str()
            .expect("request_id in the body");
        assert_eq!(self.headers["x-request-id"], id);
        self
    }

    /// The fields named in a 400's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn etag(&self) -> String {
        self.headers["etag"].to_str().unwrap().to_owned()
    }
}

/// A `ticket-sync` queue at an SQS endpoint where nothing listens: every send fails (retryably).
pub async fn unreachable_queue() -> Arc<dyn sync_store::queue::MessageQueue<TicketSyncMessage>> {
    Arc::new(test_support::aws::unreachable_queue::<TicketSyncMessage>(
        "ticket-sync",
    ))
}

impl App {
    /// A second server over the same state but with `ticket_sync` replaced; its base URL.
    pub async fn serve_with_queue(
        &self,
        queue: Arc<dyn sync_store::queue::MessageQueue<TicketSyncMessage>>,
    ) -> String {
        let mut state = self.state.clone();
        state.ticket_sync = queue;
        serve_state(state).await
    }
}

/// An SQS queue of `M` at an endpoint where nothing listens: every call fails (retryably).
pub async fn unreachable<M: sync_store::queue::QueueMessage>() -> sync_store::aws::SqsQueue<M> {
    test_support::aws::unreachable_queue::<M>("unreachable")
}

pub async fn unreachable_write_queue() -> Arc<dyn sync_store::queue::MessageQueue<KimaiWriteMessage>>
{
    Arc::new(unreachable::<KimaiWriteMessage>().await)
}

/// Serves `state` on a new random port; its base URL.
pub async fn serve_state(state: ApiState) -> String {
    test_support::apps::serve(state).await
}

pub use test_support::records::entry_record;

/// The person of the GDPR tests: Zammad user 3 of the simulator's demo data.
pub const PERSON_ID: u64 = 3;
pub const PERSON_EMAIL: &str = "Anna.Schmidt@support.example";
pub const PERSON_NAME: &str = "Anna Schmidt";

/// Whether a dump of stored data still names the person.
pub fn names_person(text: &str) -> bool {
    let text = text.to_lowercase();
    text.contains("anna.schmidt") || text.contains("anna schmidt")
}

/// Reads a purge job until it is `done` or `failed` (60 s at most); the job as it ended.
///
/// The purge sweeps four queues, each ending with a one-second empty receive, so it takes some
/// seconds on its own and more when the whole suite shares the emulator and two cores (14 s
/// seen in CI). The deadline only catches a job that never ends; its speed is not under test.
pub async fn follow_purge(base: &str, http: &reqwest::Client, admin: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        let job: Value = http
            .get(format!("{base}/api/gdpr/purges/{id}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if job["status"] == "done" || job["status"] == "failed" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("purge job {id} did not end");
}

/// Data about the person (and some that is not) in every store of `state`: two entries of
/// theirs, one of a colleague; a conflict on their entry, one mentioning their address, one
/// unrelated; audit rows by them, about them (one 85 days old), and unrelated; decisions on
/// their key and a colleague's; a kimai-write message waiting in the work queue that names
/// them, and a colleague's.
pub async fn seed_person(state: &ApiState) {
    use sync_core::plan::{Conflict, ConflictReason};
    use sync_store::audit::{AuditEvent, AuditKind};
    use sync_store::conflicts::ConflictId;
    use sync_store::entries::EntryStatus;
    let now = state.clock.now();
    let day = now.date_naive();
    let mut theirs = Vec::new();
    for (ticket, accounting, agent, who) in [
        (50, 1, PERSON_ID, PERSON_NAME),
        (50, 2, PERSON_ID, PERSON_NAME),
        (51, 3, 4, "Bernd Koch"),
    ] {
        let mut r = entry_record(ticket, accounting, agent, day, EntryStatus::Synced, now);
        if let Some(d) = r.desired.as_mut() {
            d.description = format!("{} ({who})", d.description);
        }
        state.entries.save(&r).await.unwrap();
        if agent == PERSON_ID {
            theirs.push(r);
        }
    }
    let conflict = |ticket: u64, accounting: u64, detail: String| Conflict {
        key: sync_core::desired::EntryKey::for_accounting(sync_core::ids::AccountingId(accounting)),
        ticket_id: sync_core::ids::TicketId(ticket),
        reason: ConflictReason::BothChanged,
        detail,
        desired: None,
        base: None,
        kimai: None,
        candidates: vec![],
        subject: None,
    };
    let on_their_entry = Conflict {
        desired: theirs[0].desired.clone(),
        ..conflict(50, 1, "both changed".into())
    };
    let mentions = conflict(52, 9, format!("asked {}", PERSON_EMAIL.to_lowercase()));
    let unrelated = conflict(53, 10, "Bernd Koch changed it".into());
    for (id, c) in [("g1", on_their_entry), ("g2", mentions), ("g3", unrelated)] {
        state
            .conflicts
            .open(&ConflictId(id.into()), &c, now)
            .await
            .unwrap();
    }
    let old = now - chrono::Duration::days(85);
    for (at, actor, action, detail) in [
        (now, PERSON_EMAIL, "login", json!({})),
        (
            now,
            "admin",
            "mapping.set",
            json!({"note": format!("for {PERSON_NAME}")}),
        ),
        (now, "admin", "mapping.set", json!({"kimai": 2})),
        (
            old,
            "admin",
            "conflict.resolve",
            json!({"note": PERSON_EMAIL}),
        ),
    ] {
        state
            .audit
            .append(&AuditEvent {
                at,
                kind: AuditKind::Access,
                action: action.into(),
                actor: actor.into(),
                ip: Some("127.0.0.1".into()),
                detail,
            })
            .await
            .unwrap();
    }
    use sync_store::control::{DocumentKind, ExpectedVersion};
    let key = |accounting: u64| {
        json!(sync_core::desired::EntryKey::for_accounting(
            sync_core::ids::AccountingId(accounting)
        ))
    };
    for (ticket, accounting) in [(50, 1), (51, 3)] {
        let body = json!({"ticket": ticket, "create_anyway": [key(accounting)], "ignored": [], "decisions": []});
        state
            .control
            .put_document(
                DocumentKind::Decisions,
                &format!("decisions.{ticket}"),
                &body,
                ExpectedVersion::Any,
                now,
            )
            .await
            .unwrap();
    }
    use sync_store::queue::{KimaiWriteMessage, encode};
    for (op, ticket, accounting, agent) in [("w-1", 50, 1, PERSON_ID), ("w-2", 51, 3, 4)] {
        let message = KimaiWriteMessage::new(
            sync_store::control::OperationId(op.into()),
            sync_core::ids::TicketId(ticket),
            None,
            sync_core::plan::Operation::Create {
                desired: test_support::records::desired(ticket, accounting, agent, day),
            },
        );
        state.kimai_write.send_raw(&encode(&message)).await.unwrap();
    }
}
