//! The deployed local stack as the suite sees it: its outputs and URLs (written by up.sh), AWS
//! clients against the emulator, the store adapters on the deployed tables, and the two
//! simulators' admin routes. Opening it takes the suite's lock, so cases never overlap even
//! when the test runner starts them in parallel: several of them change global simulator
//! state (the webhook trigger, Kimai faults) or count Kimai calls.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use sync_core::ids::TicketId;
use sync_store::audit::AuditRetention;
use sync_store::aws::{DynamoAuditLog, DynamoConflicts, DynamoControl, DynamoEntries};
use sync_store::entries::{EntriesStore, EntryRecord};

/// The stack's state directory: `STACK_DIR` if set (e2e.sh sets it), else the one up.sh uses
/// for `MINISTACK_PORT` (default 4566).
fn stack_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("STACK_DIR") {
        return PathBuf::from(dir);
    }
    let port = std::env::var("MINISTACK_PORT").unwrap_or_else(|_| "4566".to_owned());
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.local")
        .join(format!("stack-{port}"))
}

fn read_required(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "the local stack is not up: cannot read {} ({e}). Start it with `make up` \
             (same MINISTACK_PORT), or run infra/local-stack/smoke.sh, which brings it up and runs this suite",
            path.display()
        )
    })
}

/// `KEY=value` lines.
fn parse_env_file(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn loopback(url: &str, what: &str) -> String {
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "{what} must be on loopback, got {url:?}"
    );
    url.trim_end_matches('/').to_owned()
}

pub struct Stack {
    pub http: reqwest::Client,
    outputs: HashMap<String, String>,
    pub zammad: String,
    pub kimai: String,
    pub webhook_url: String,
    pub webhook_secret: String,
    /// The local chat receiver: what the notification rule posted (`GET …/deliveries`).
    pub chat_receiver: String,
    /// The console API through the gateway, up to and including `/api`.
    pub api_url: String,
    pub sqs: aws_sdk_sqs::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub entries: DynamoEntries,
    pub conflicts: DynamoConflicts,
    pub control: DynamoControl,
    pub audit: DynamoAuditLog,
    /// The console's first admin: user name and the password generated on deploy.
    admin: (String, String),
    /// Held for the whole case.
    _lock: File,
}

impl Stack {
    /// Reads the stack's files and checks that everything answers; panics (the case fails)
    /// with what is missing when the stack is not up.
    pub async fn open() -> Stack {
        let dir = stack_dir();
        let outputs: HashMap<String, String> =
            serde_json::from_str(&read_required(&dir.join("outputs.json")))
                .expect("outputs.json is a JSON object of strings");
        let urls = parse_env_file(&read_required(&dir.join("urls.env")));
        let url = |key: &str| {
            loopback(
                urls.get(key)
                    .unwrap_or_else(|| panic!("urls.env has no {key}")),
                key,
            )
        };
        let (endpoint, zammad, kimai, webhook_url, api_url) = (
            url("AWS_ENDPOINT_URL"),
            url("ZAMMAD_URL"),
            url("KIMAI_URL"),
            url("WEBHOOK_URL"),
            url("API_URL"),
        );
        let chat_receiver = url("CHAT_RECEIVER_URL");

        // One case at a time; the lock lives next to the stack's other files.
        let lock = File::create(dir.join("e2e.lock")).expect("create the suite's lock file");
        lock.lock().expect("take the suite's lock");

        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        for (what, base) in [
            ("AWS emulator", &endpoint),
            ("Zammad simulator", &zammad),
            ("Kimai simulator", &kimai),
        ] {
            if let Err(e) = http.get(base.as_str()).send().await {
                panic!("the local stack is not up: the {what} at {base} does not answer: {e}");
            }
        }

        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "e2e"))
            .load()
            .await;
        let dynamo = aws_sdk_dynamodb::Client::new(&config);
        let secrets = aws_sdk_secretsmanager::Client::new(&config);
        let output = |key: &str| {
            outputs
                .get(key)
                .cloned()
                .unwrap_or_else(|| panic!("the stack has no output {key}"))
        };
        let admin_password = secrets
            .get_secret_value()
            .secret_id(output("ConsoleAdminPasswordSecretId"))
            .send()
            .await
            .expect("read the console admin's password")
            .secret_string
            .expect("the password is a string");
        let webhook_secret = secrets
            .get_secret_value()
            .secret_id(output("WebhookSecretId"))
            .send()
            .await
            .expect("read the webhook secret")
            .secret_string
            .expect("the webhook secret is a string");
        let admin = (output("ConsoleAdminUser"), admin_password);
        Stack {
            entries: DynamoEntries::new(dynamo.clone(), output("EntriesTableName")),
            conflicts: DynamoConflicts::new(dynamo.clone(), output("ConflictsTableName")),
            control: DynamoControl::new(dynamo.clone(), output("ControlTableName")),
            audit: DynamoAuditLog::new(dynamo, output("AuditTableName"), AuditRetention::default()),
            sqs: aws_sdk_sqs::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            http,
            outputs,
            zammad,
            kimai,
            webhook_url,
            webhook_secret,
            chat_receiver,
            api_url,
            admin,
            _lock: lock,
        }
    }

    pub fn output(&self, key: &str) -> &str {
        self.outputs
            .get(key)
            .unwrap_or_else(|| panic!("the stack has no output {key}"))
    }

    /// Puts both simulators back into a neutral state for a case: no Kimai faults, and the
    /// Zammad trigger on (every change of a ticket's time posts a signed webhook to the
    /// deployed gateway, as a configured Zammad does) or off.
    pub async fn prepare(&self, trigger: bool) {
        self.send(self.http.delete(format!("{}/__admin/faults", self.kimai)))
            .await;
        if trigger {
            self.send(
                self.http
                    .put(format!("{}/__admin/webhook", self.zammad))
                    .json(&json!({
                        "url": self.webhook_url,
                        "signature_token": self.webhook_secret,
                        "trigger_name": "e2e time changed",
                        // Zammad's retries 10x faster.
                        "time_scale": 10.0,
                    })),
            )
            .await;
        } else {
            self.send(self.http.delete(format!("{}/__admin/webhook", self.zammad)))
                .await;
        }
    }

    /// Sends an admin request and returns its JSON body (Null when empty); any non-2xx fails.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.send().await.expect("simulator request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "simulator answered {status}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
    }

    // ---------------------------------------------------------------- Zammad simulator

    /// A fresh ticket of customer 6 (organisation 1 → Kimai customer 1) in group 2 (→ project
    /// 1 "Managed Services 2026" in the demo policy).
    pub async fn new_ticket(&self, title: &str) -> u64 {
        let ticket = self
            .send(
                self.http
                    .post(format!("{}/__admin/tickets", self.zammad))
                    .json(&json!({"title": title, "group_id": 2, "customer_id": 6})),
            )
            .await;
        ticket["id"].as_u64().expect("ticket id")
    }

    /// Adds a Zammad agent (in group 2, where `new_ticket` opens tickets) with this login; the
    /// agent's id.
    pub async fn new_agent(&self, login: &str) -> u64 {
        let agent = self
            .send(
                self.http
                    .post(format!("{}/__admin/agents", self.zammad))
                    .json(
                        &json!({"login": login, "firstname": "Purge", "lastname": "Me",
                                  "email": format!("{login}@support.example"), "group_ids": [2]}),
                    ),
            )
            .await;
        agent["id"].as_u64().expect("agent id")
    }

    /// Books `minutes` on a ticket as Zammad agent `agent`, logged at `at`; the accounting id.
    pub async fn book(&self, ticket: u64, agent: u64, minutes: u32, type_id: u64, at: &str) -> u64 {
        let accounting = self
            .send(
                self.http
                    .post(format!("{}/__admin/accountings", self.zammad))
                    .json(&json!({
                        "ticket_id": ticket,
                        "created_by_id": agent,
                        "time_unit": minutes.to_string(),
                        "type_id": type_id,
                        "created_at": at,
                    })),
            )
            .await;
        accounting["id"].as_u64().expect("accounting id")
    }

    pub async fn change_minutes(&self, accounting: u64, minutes: u32) {
        self.send(
            self.http
                .patch(format!("{}/__admin/accountings/{accounting}", self.zammad))
                .json(&json!({"time_unit": minutes.to_string()})),
        )
        .await;
    }

    pub async fn delete_accounting(&self, accounting: u64) {
        self.send(
            self.http
                .delete(format!("{}/__admin/accountings/{accounting}", self.zammad)),
        )
        .await;
    }

    /// The trigger's delivery attempts for one ticket.
    pub async fn deliveries(&self, ticket: u64) -> Vec<Value> {
        let all = self
            .send(
                self.http
                    .get(format!("{}/__admin/webhook/deliveries", self.zammad)),
            )
            .await;
        all.as_array()
            .unwrap()
            .iter()
            .filter(|d| d["ticket_id"] == ticket)
            .cloned()
            .collect()
    }

    // ---------------------------------------------------------------- Kimai simulator

    /// The chat messages the notification rule posted to the local receiver, oldest first.
    pub async fn chat_messages(&self) -> Vec<String> {
        let url = format!("{}/deliveries", self.chat_receiver);
        let deliveries = self.send(self.http.get(url)).await;
        deliveries
            .as_array()
            .expect("the receiver lists its deliveries")
            .iter()
            .map(|d| d["json"]["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub async fn timesheets(&self) -> Vec<Value> {
        let all = self
            .send(self.http.get(format!("{}/__admin/timesheets", self.kimai)))
            .await;
        all.as_array().unwrap().clone()
    }

    /// Timesheets whose description carries the marker of accounting `accounting`.
    pub async fn timesheets_of(&self, accounting: u64) -> Vec<Value> {
        let marker = marker(accounting);
        self.timesheets()
            .await
            .into_iter()
            .filter(|t| {
                t["description"]
                    .as_str()
                    .is_some_and(|d| d.contains(&marker))
            })
            .collect()
    }

    pub async fn timesheet(&self, id: u64) -> Option<Value> {
        self.timesheets().await.into_iter().find(|t| t["id"] == id)
    }

    /// Calls per route, as the Kimai simulator counts them.
    pub async fn kimai_calls(&self) -> BTreeMap<String, u64> {
        serde_json::from_value(
            self.send(self.http.get(format!("{}/__admin/calls", self.kimai)))
                .await,
        )
        .expect("calls are a map of counts")
    }

    pub async fn set_kimai_fault(&self, route: &str, rules: Value) {
        self.send(
            self.http
                .put(format!("{}/__admin/faults", self.kimai))
                .json(&json!({"route": route, "rules": rules})),
        )
        .await;
    }

    pub async fn edit_by_hand(&self, timesheet: u64, edit: Value) {
        self.send(
            self.http
                .post(format!(
                    "{}/__admin/timesheets/{timesheet}/edit",
                    self.kimai
                ))
                .json(&edit),
        )
        .await;
    }

    pub async fn set_exported(&self, timesheet: u64) {
        self.send(
            self.http
                .post(format!(
                    "{}/__admin/timesheets/{timesheet}/exported",
                    self.kimai
                ))
                .json(&json!({"exported": true})),
        )
        .await;
    }

    // ---------------------------------------------------------------- console API

    /// Logs in as the console's first admin; the bearer token.
    pub async fn api_token(&self) -> String {
        let (user, password) = &self.admin;
        let answer = self
            .send(
                self.http
                    .post(format!("{}/auth/login", self.api_url))
                    .json(&json!({"username": user, "password": password})),
            )
            .await;
        answer["token"].as_str().expect("a token").to_owned()
    }

    /// A console API call as the admin; the status and the JSON body.
    pub async fn api(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api_url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("console API call");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    // ---------------------------------------------------------------- AWS side

    /// A webhook as Zammad would post it, with the given signature header value.
    pub async fn post_webhook(&self, body: &str, signature: &str, delivery: &str) -> (u16, Value) {
        let response = self
            .http
            .post(&self.webhook_url)
            .header("Content-Type", "application/json")
            .header("X-Hub-Signature", signature)
            .header("X-Zammad-Delivery", delivery)
            .header("X-Zammad-Trigger", "e2e")
            .body(body.to_owned())
            .send()
            .await
            .expect("post the webhook");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub fn sign(&self, body: &str) -> String {
        zammad_sim::webhook::signature(&self.webhook_secret, body.as_bytes())
    }

    /// The entry records of a ticket in the deployed entries table.
    pub async fn entries_of(&self, ticket: u64) -> Vec<EntryRecord> {
        self.entries
            .load_ticket(TicketId(ticket))
            .await
            .expect("read the entries table")
    }

    /// Invokes a deployed function (named by a stack output) synchronously: its function error
    /// (`None` when it answered) and the body it returned.
    pub async fn invoke(&self, function_output: &str, payload: &Value) -> (Option<String>, String) {
        let out = self
            .lambda
            .invoke()
            .function_name(self.output(function_output))
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_string()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("invoke {function_output}: {e}"));
        let body = out
            .payload
            .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
            .unwrap_or_default();
        (out.function_error, body)
    }

    /// Invokes scheduled-fetch with the payload EventBridge Scheduler would send.
    pub async fn invoke_fetch(&self, payload: Value) -> Value {
        let (error, body) = self.invoke("ScheduledFetchFunctionName", &payload).await;
        assert!(error.is_none(), "scheduled-fetch failed: {error:?} {body}");
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("scheduled-fetch answered {body}"))
    }

    /// Messages in a queue, visible plus in flight.
    pub async fn queue_depth(&self, url_output: &str) -> u64 {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(self.output(url_output))
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .unwrap_or_default();
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .map(|a| {
            attributes
                .get(a)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
    }

    /// Waits until both pipeline queues are empty (nothing queued, nothing in flight).
    pub async fn wait_queues_idle(&self, deadline: Duration) {
        eventually(deadline, "ticket-sync and kimai-write to drain", || async {
            let depth = self.queue_depth("TicketSyncQueueUrl").await
                + self.queue_depth("KimaiWriteQueueUrl").await;
            (depth == 0)
                .then_some(())
                .ok_or(format!("{depth} messages left"))
        })
        .await
    }
}

pub fn marker(accounting: u64) -> String {
    format!("[zammad:ta={accounting}]")
}

/// A timestamp `minutes` after `base` as Zammad's JSON writes it.
pub fn at(base: DateTime<Utc>, minutes: i64) -> String {
    (base + chrono::Duration::minutes(minutes)).to_rfc3339()
}

/// Polls `check` every 250 ms until it yields a value; after `deadline` the case fails with
/// `what` and the last reason `check` gave.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if started.elapsed() >= deadline => {
                panic!("waited {deadline:?} for {what}; last: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
