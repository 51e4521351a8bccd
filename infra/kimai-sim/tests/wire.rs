//! The simulator's wire format, checked over real HTTP with a plain HTTP client.

use kimai_sim::{Dataset, RunningSim, SimConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "wire-admin";
const USER_TOKEN: &str = "wire-user";

fn dataset(version: &str, timesheets: usize) -> Dataset {
    let sheets: Vec<Value> = (1..=timesheets)
        .map(|i| {
            json!({"id": i, "user": 2, "project": 1, "activity": 1,
                   "begin": "2026-02-02T08:00:00+0100", "end": "2026-02-02T08:30:00+0100",
                   "description": format!("row {i}")})
        })
        .collect();
    let d = json!({
        "version": version,
        "users": [
            {"id": 1, "username": "admin", "email": "admin@example.org",
             "timezone": "Europe/Berlin", "roles": ["ROLE_SUPER_ADMIN"]},
            {"id": 2, "username": "uli", "email": "uli@example.org",
             "timezone": "Asia/Kolkata", "roles": ["ROLE_USER"]}
        ],
        "tokens": [{"token": TOKEN, "user": 1}, {"token": USER_TOKEN, "user": 2}],
        "customers": [{"id": 1, "name": "Acme", "number": "C-1"}],
        "projects": [{"id": 1, "customer": 1, "name": "Support"}],
        "activities": [{"id": 1, "name": "Remote support"}],
        "tags": [{"id": 1, "name": "zammad"}],
        "timesheets": sheets
    });
    Dataset::from_json(&d.to_string()).unwrap()
}

async fn start(version: &str, timesheets: usize) -> RunningSim {
    kimai_sim::serve(SimConfig { port: 0, seed: 1 }, dataset(version, timesheets))
        .await
        .unwrap()
}

struct Http {
    base: String,
    http: reqwest::Client,
}

impl Http {
    fn new(sim: &RunningSim) -> Self {
        Http {
            base: sim.base_url(),
            http: reqwest::Client::new(),
        }
    }

    fn req(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let r = self.http.request(
            method,
            format!("{}{}", self.base, path.trim_start_matches('/')),
        );
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.req(reqwest::Method::GET, path, Some(TOKEN))
            .send()
            .await
            .unwrap()
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_as(TOKEN, method, path, body).await
    }

    async fn send_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = self
            .req(method, path, Some(token))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()[name].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn authentication_failures_have_kimais_two_401_shapes() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    let r = http
        .req(reqwest::Method::GET, "api/ping", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&r, "www-authenticate").starts_with("Bearer error=\"invalid_token\""));
    assert_eq!(r.text().await.unwrap(), "", "bad token: empty body");

    let r = http
        .req(reqwest::Method::GET, "api/ping", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "Unauthorized", "code": 401})
    );

    let r = http.get("api/ping").await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"message": "pong"}));
}

#[tokio::test]
async fn query_parameters_are_strict() {
    let sim = start("2.65.0", 1).await;
    let http = Http::new(&sim);
    for bad in [
        "api/timesheets?user=all&colour=red",
        "api/timesheets?page=abc",
        "api/timesheets?order=sideways",
        "api/timesheets?modified_after=2026-01-01T00:00:00%2B0100",
        "api/timesheets?begin=yesterday",
        "api/customers?visible=7",
        "api/tags/find?term=x",
    ] {
        let r = http.get(bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"code": 400, "message": "Bad Request"})
        );
    }
    assert_eq!(
        http.get("api/timesheets?user=all&page=1&size=10")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn paging_headers_size_clamp_and_404_past_the_end() {
    let sim = start("2.65.0", 501).await;
    let http = Http::new(&sim);
    let r = http.get("api/timesheets?user=all&size=1000").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-per-page"), "500");
    assert_eq!(header(&r, "x-total-count"), "501");
    assert_eq!(header(&r, "x-total-pages"), "2");
    assert_eq!(header(&r, "x-page"), "1");
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 500);

    let r = http.get("api/timesheets?user=all&size=1000&page=2").await;
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 1);
    let r = http.get("api/timesheets?user=all&size=1000&page=3").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"code": 404, "message": "Not Found"})
    );

    // Default size 50, default order begin DESC (ties by id).
    let r = http.get("api/timesheets?user=all").await;
    assert_eq!(header(&r, "x-per-page"), "50");
    let rows = r.json::<Vec<Value>>().await.unwrap();
    assert_eq!(rows[0]["id"], 501);
}

#[tokio::test]
async fn timesheet_json_has_kimais_keys_offsets_and_version_dependent_break() {
    let sim = start("2.65.0", 1).await;
    let http = Http::new(&sim);
    let rows: Vec<Value> = http
        .get("api/timesheets?user=all")
        .await
        .json()
        .await
        .unwrap();
    let row = rows[0].as_object().unwrap();
    // Shown in the owner's zone (Kolkata, +0530), not the caller's.
    assert_eq!(row["begin"], "2026-02-02T12:30:00+0530");
    assert_eq!(row["duration"], 1800);
    assert_eq!(row["break"], 0);
    assert_eq!(row["rate"].as_f64(), Some(0.0));
    assert!(row["internalRate"].is_null());
    assert!(
        !row.contains_key("fixedRate"),
        "collection items carry no fixedRate"
    );
    let entity: Value = http.get("api/timesheets/1").await.json().await.unwrap();
    assert!(entity.as_object().unwrap().contains_key("hourlyRate"));

    let full: Vec<Value> = http
        .get("api/timesheets?user=all&full=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(full[0]["project"]["customer"]["name"], "Acme");
    assert_eq!(full[0]["activity"]["name"], "Remote support");

    let old = start("2.40.0", 1).await;
    let http = Http::new(&old);
    let rows: Vec<Value> = http
        .get("api/timesheets?user=all")
        .await
        .json()
        .await
        .unwrap();
    assert!(!rows[0].as_object().unwrap().contains_key("break"));
    let users: Vec<Value> = http.get("api/users").await.json().await.unwrap();
    assert!(
        users.iter().all(|u| u.get("email").is_none()),
        "no email before 2.45"
    );
    let found: Vec<Value> = http
        .get("api/users?term=uli%40example.org")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "term still searches the email");
}

#[tokio::test]
async fn post_is_200_delete_is_204_and_forbidden_is_a_bare_403() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    let (status, body) = http
        .send(
            reqwest::Method::POST,
            "api/timesheets",
            json!({"begin": "2026-02-03 09:00", "end": "2026-02-03T10:00:00", "project": 1,
                   "activity": 1, "tags": "zammad, nonexistent", "description": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["begin"], "2026-02-03T09:00:00+0100");
    assert_eq!(body["tags"], json!(["zammad"]));
    let id = body["id"].as_u64().unwrap();

    sim.admin().set_exported(id, true).unwrap();
    let r = http.req(
        reqwest::Method::DELETE,
        &format!("api/timesheets/{id}"),
        Some(USER_TOKEN),
    );
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"code": 403, "message": "Forbidden"})
    );

    // The super admin may delete exported records.
    let r = http.req(
        reqwest::Method::DELETE,
        &format!("api/timesheets/{id}"),
        Some(TOKEN),
    );
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.text().await.unwrap(), "");
}

#[tokio::test]
async fn duration_is_always_an_extra_field_and_the_form_lists_its_children() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    let (status, body) = http
        .send(
            reqwest::Method::POST,
            "api/timesheets",
            json!({"begin": "2026-02-03T09:00:00", "end": "2026-02-03T10:00:00",
                   "project": 1, "activity": 1, "duration": 3600}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], 400);
    assert_eq!(body["message"], "Validation Failed");
    assert_eq!(
        body["errors"]["errors"],
        json!(["This form should not contain extra fields."])
    );
    let children = body["errors"]["children"].as_object().unwrap();
    for field in [
        "begin",
        "end",
        "project",
        "activity",
        "description",
        "user",
        "tags",
        "billable",
    ] {
        assert_eq!(children[field], json!({}), "{field}");
    }
    assert!(sim.admin().timesheets().is_empty());
}

#[tokio::test]
async fn rounding_and_settings_through_the_admin_api() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    let r = http
        .http
        .put(format!("{}__admin/settings", http.base))
        .json(&json!({"rounding_minutes": 15}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, body) = http
        .send(
            reqwest::Method::POST,
            "api/timesheets",
            json!({"begin": "2026-02-03T09:07:00", "end": "2026-02-03T09:52:00",
                   "project": 1, "activity": 1}),
        )
        .await;
    assert_eq!(body["begin"], "2026-02-03T09:00:00+0100");
    assert_eq!(body["end"], "2026-02-03T10:00:00+0100");
    assert_eq!(body["duration"], 3600);
}

#[tokio::test]
async fn admin_endpoints_show_and_change_state() {
    let sim = start("2.65.0", 2).await;
    let http = Http::new(&sim);
    let admin = |path: &str| format!("{}__admin/{path}", http.base);
    http.get("api/timesheets?user=all").await;

    let calls: Value = http
        .http
        .get(admin("calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calls["GET /api/timesheets"], 1);

    let r = http
        .http
        .post(admin("timesheets/1/edit"))
        .json(&json!({"description": "changed by hand"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .http
        .post(admin("timesheets/2/exported"))
        .json(&json!({"exported": true}));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
    let all: Vec<Value> = http
        .http
        .get(admin("timesheets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all[0]["description"], "changed by hand");
    assert_eq!(all[1]["exported"], true);
    assert_eq!(all[0]["timezone"], "Asia/Kolkata");

    let r = http
        .http
        .put(admin("faults"))
        .json(&json!({"route": "GET /api/ping", "rules": [{"kind": "error", "statuses": [502], "times": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(http.get("api/ping").await.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(http.get("api/ping").await.status(), StatusCode::OK);

    let r = http
        .http
        .post(admin("timesheets/99/exported"))
        .json(&json!({"exported": true}));
    assert_eq!(r.send().await.unwrap().status(), StatusCode::NOT_FOUND);

    let r = http.http.post(admin("reset")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let all: Vec<Value> = http
        .http
        .get(admin("timesheets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all[0]["description"], "row 1");
    let calls: Value = http
        .http
        .get(admin("calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calls, json!({}));
}

#[tokio::test]
async fn rate_limit_fault_sends_retry_after() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    sim.admin().set_faults(
        "GET /api/version",
        serde_json::from_value(
            json!({"rules": [{"kind": "rate_limit", "retry_after_secs": 7, "times": 1}]}),
        )
        .unwrap(),
    );
    let r = http.get("api/version").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&r, "retry-after"), "7");
    let v: Value = http.get("api/version").await.json().await.unwrap();
    assert_eq!(
        v,
        json!({"version": "2.65.0", "versionId": 26500, "copyright": "Kimai 2.65.0 by Kevin Papst."})
    );
}

#[tokio::test]
async fn tags_are_created_and_listed() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    let (status, tag) = http
        .send(
            reqwest::Method::POST,
            "api/tags",
            json!({"name": "billing", "visible": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tag["name"], "billing");
    let names: Vec<String> = http.get("api/tags").await.json().await.unwrap();
    assert_eq!(names, ["zammad", "billing"]);
    let (status, body) = http
        .send(reqwest::Method::POST, "api/tags", json!({"name": "x"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"]["children"]["name"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("too short")
    );
}

#[tokio::test]
async fn the_binary_serves_the_shipped_demo_dataset() {
    use std::io::{BufRead, BufReader};
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kimai-sim"))
        .args(["--dataset", demo, "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("kimai-sim listening on ")
        .unwrap()
        .to_owned();
    let me: Value = reqwest::Client::new()
        .get(format!("{base}api/users/me"))
        .bearer_auth("demo-admin-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(me["username"], "sync-bot");
    assert_eq!(me["timezone"], "Europe/Berlin");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kimai-sim"))
        .args(["--dataset", "does-not-exist.json", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist.json"));
}

async fn concurrency(http: &Http) -> Value {
    http.http
        .get(format!("{}__admin/concurrency", http.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Fires `n` slow pings at once and returns when all are answered.
async fn parallel_pings(http: &Http, n: usize) {
    let pending: Vec<_> = (0..n)
        .map(|_| {
            tokio::spawn(
                http.req(reqwest::Method::GET, "api/ping", Some(TOKEN))
                    .send(),
            )
        })
        .collect();
    for p in pending {
        assert_eq!(p.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn concurrency_counts_requests_held_at_once_and_resets() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    assert_eq!(
        concurrency(&http).await,
        json!({"in_flight": 0, "max_in_flight": 0})
    );
    sim.admin().set_faults(
        "GET /api/ping",
        serde_json::from_value(json!({"latency_ms": 300})).unwrap(),
    );

    parallel_pings(&http, 4).await;
    // Admin calls made meanwhile are not API requests: the maximum is exactly the four.
    assert_eq!(
        concurrency(&http).await,
        json!({"in_flight": 0, "max_in_flight": 4})
    );

    let r = http
        .http
        .delete(format!("{}__admin/concurrency", http.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sim.admin().concurrency().max_in_flight, 0);
    for _ in 0..3 {
        assert_eq!(http.get("api/ping").await.status(), StatusCode::OK);
    }
    assert_eq!(
        concurrency(&http).await,
        json!({"in_flight": 0, "max_in_flight": 1})
    );

    // Seen while they run; a reset then starts from the requests still in flight.
    let base = http.base.clone();
    let running = tokio::spawn(async move {
        let http = Http {
            base,
            http: reqwest::Client::new(),
        };
        parallel_pings(&http, 3).await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert_eq!(
        concurrency(&http).await,
        json!({"in_flight": 3, "max_in_flight": 3})
    );
    sim.admin().reset();
    assert_eq!(sim.admin().concurrency().in_flight, 3);
    running.await.unwrap();
    assert_eq!(
        concurrency(&http).await,
        json!({"in_flight": 0, "max_in_flight": 3})
    );
}

#[tokio::test]
async fn catalog_entities_are_read_by_id_and_unknown_routes_are_counted() {
    let sim = start("2.40.0", 0).await;
    let http = Http::new(&sim);
    let customers: Value = http.get("/api/customers").await.json().await.unwrap();
    let first = &customers[0];
    let one = http.get(&format!("/api/customers/{}", first["id"])).await;
    assert_eq!(one.status(), StatusCode::OK);
    let one: Value = one.json().await.unwrap();
    assert_eq!(one["name"], first["name"]);
    for path in ["/api/projects", "/api/activities", "/api/users"] {
        let list: Value = http.get(path).await.json().await.unwrap();
        let id = &list[0]["id"];
        let got: Value = http
            .get(&format!("{path}/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(&got["id"], id, "{path}");
    }
    assert_eq!(
        http.get("/api/customers/99999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        http.get("/api/customers/abc").await.status(),
        StatusCode::NOT_FOUND
    );

    // A route the simulator does not serve is a 404 and shows in the call log.
    assert_eq!(http.get("/api/teams").await.status(), StatusCode::NOT_FOUND);
    let (status, _) = http
        .send(
            reqwest::Method::POST,
            "/api/invoices",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(sim.admin().call_count("GET (no route)"), 1);
    assert_eq!(sim.admin().call_count("POST (no route)"), 1);
    assert_eq!(sim.admin().call_count("GET /api/customers/{id}"), 3);
}

// ---- Updates of catalog records and users, deleting tags ----

const PATCH: reqwest::Method = reqwest::Method::PATCH;
const POST: reqwest::Method = reqwest::Method::POST;
const DELETE: reqwest::Method = reqwest::Method::DELETE;

fn forbidden() -> Value {
    json!({"code": 403, "message": "Forbidden"})
}

fn not_found() -> Value {
    json!({"code": 404, "message": "Not Found"})
}

fn extra_fields(body: &Value) -> bool {
    body["code"] == 400
        && body["errors"]["errors"] == json!(["This form should not contain extra fields."])
}

/// Kimai's own full-form example for a new customer (its API test), less `teams`, which the
/// simulator has none of.
fn full_customer() -> Value {
    json!({
        "name": "foo", "budget": "999", "timeBudget": "10,25", "budgetType": "month",
        "number": "C-754", "comment": "Awesome customer since a long time",
        "company": "IT Professional Comp.", "vatId": "DE0123456789", "contact": "Mr. John Doe",
        "addressLine1": "test address line 1", "addressLine2": "foo address line 2",
        "addressLine3": "bar address line 3", "postCode": "12345", "city": "Acme Town",
        "country": "DE", "language": "de", "currency": "EUR", "phone": "666667787778999909087",
        "fax": "0987654321", "mobile": "01234534567890", "email": "admin@example.com",
        "homepage": "https://www.example.com/", "timezone": "Europe/Berlin",
        "invoiceText": "Some random text, pay fast please!", "invoiceEmail": "invoice@example.com",
        "buyerReference": "REF-0123456789", "color": "#ff0000", "visible": true,
        "billable": false, "teams": [], "metaFields": [], "invoiceTemplate": null
    })
}

#[tokio::test]
async fn the_full_customer_form_is_accepted_and_echoed() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    let (status, body) = http.send(POST, "api/customers", full_customer()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (key, want) in [
        ("name", json!("foo")),
        ("budget", json!(999.0)),
        ("timeBudget", json!(36900)),
        ("budgetType", json!("month")),
        ("company", json!("IT Professional Comp.")),
        ("vatId", json!("DE0123456789")),
        ("addressLine3", json!("bar address line 3")),
        ("language", json!("de")),
        ("homepage", json!("https://www.example.com/")),
        ("invoiceEmail", json!("invoice@example.com")),
        ("color", json!("#ff0000")),
        ("billable", json!(false)),
        ("address", Value::Null),
    ] {
        assert_eq!(body[key], want, "{key}");
    }
    let id = body["id"].as_u64().unwrap();
    let read: Value = http
        .get(&format!("api/customers/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, body, "a read by id shows what the create stored");
    let list: Vec<Value> = http.get("api/customers").await.json().await.unwrap();
    let listed = list.iter().find(|c| c["id"] == id).unwrap();
    assert_eq!(listed["company"], "IT Professional Comp.");
    assert!(
        listed.get("vatId").is_none(),
        "the list keeps the list view"
    );

    // From 2.41 a new customer has no free-text `address` field; before, it had.
    let (status, body) = http
        .send(
            POST,
            "api/customers",
            json!({"name": "Old style", "address": "Main St 1"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(extra_fields(&body), "{body}");
    let old = start("2.40.0", 0).await;
    let (status, body) = Http::new(&old)
        .send(
            POST,
            "api/customers",
            json!({"name": "Old style", "address": "Main St 1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["address"], "Main St 1");
}

#[tokio::test]
async fn unknown_or_invalid_customer_fields_are_refused_in_form_shape() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    let mut body = full_customer();
    body["unexpected"] = json!("field");
    let (status, answer) = http.send(POST, "api/customers", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(extra_fields(&answer), "{answer}");
    let children = answer["errors"]["children"].as_object().unwrap();
    for field in ["company", "vatId", "budget", "teams", "billable"] {
        assert!(
            children.contains_key(field),
            "{field} is a field of the form"
        );
    }
    assert!(!children.contains_key("unexpected"));

    let (status, answer) = http
        .send(
            PATCH,
            "api/customers/1",
            json!({"email": "nope", "homepage": "not a url", "budgetType": "year",
                   "country": "XYZ", "phone": "1".repeat(31)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let children = &answer["errors"]["children"];
    for field in ["email", "homepage", "budgetType", "country", "phone"] {
        assert!(children[field]["errors"].is_array(), "{field}: {answer}");
    }
    assert!(
        answer["errors"].get("errors").is_none(),
        "no form-level error"
    );
    // Teams only exist on create.
    let (status, answer) = http
        .send(PATCH, "api/customers/1", json!({"teams": []}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(extra_fields(&answer), "{answer}");
}

#[tokio::test]
async fn customers_projects_and_activities_are_updated_partially() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    let (status, c) = http
        .send(
            PATCH,
            "api/customers/1",
            json!({"company": "Acme GmbH", "visible": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["id"], 1);
    assert_eq!(c["name"], "Acme", "fields not sent keep their value");
    assert_eq!(c["number"], "C-1");
    assert_eq!(c["company"], "Acme GmbH");
    assert_eq!(c["visible"], false);

    let (status, p) = http
        .send(
            PATCH,
            "api/projects/1",
            json!({"name": "Support 2026", "orderNumber": "PO-9", "globalActivities": false,
                   "start": "2026-01-01T00:00:00", "budget": 1500, "comment": "yearly"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["name"], "Support 2026");
    assert_eq!(p["orderNumber"], "PO-9");
    assert_eq!(p["start"], "2026-01-01");
    assert_eq!(p["budget"], 1500.0);
    assert_eq!(p["globalActivities"], false);
    assert_eq!(p["customer"], 1);
    // An update reads dates as date-times; a bare date is invalid there.
    let (status, p) = http
        .send(PATCH, "api/projects/1", json!({"end": "2026-12-31"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(p["errors"]["children"]["end"]["errors"].is_array(), "{p}");
    // Kimai 2.66's lock: set with a date-time, shown as a day, removed with null.
    assert!(p["errors"]["children"]["lockedUntil"].is_object(), "{p}");
    let (status, p) = http
        .send(
            PATCH,
            "api/projects/1",
            json!({"lockedUntil": "2026-06-30T00:00:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["lockedUntil"], "2026-06-30");
    let listed: Value = http.get("api/projects").await.json().await.unwrap();
    assert_eq!(listed[0]["lockedUntil"], "2026-06-30", "{listed}");
    let (status, p) = http
        .send(PATCH, "api/projects/1", json!({"lockedUntil": null}))
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert!(p["lockedUntil"].is_null());

    // A global activity cannot be moved into a project: the field does not exist.
    let (status, a) = http
        .send(PATCH, "api/activities/1", json!({"project": 1}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(extra_fields(&a), "{a}");
    let (status, a) = http
        .send(
            PATCH,
            "api/activities/1",
            json!({"name": "Remote", "number": "A1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        (a["name"].as_str(), a["number"].as_str()),
        (Some("Remote"), Some("A1"))
    );
    assert!(a["project"].is_null());
    let (status, a) = http
        .send(
            POST,
            "api/activities",
            json!({"name": "On site", "project": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    let (status, a) = http
        .send(
            PATCH,
            &format!("api/activities/{}", a["id"]),
            json!({"project": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert!(
        a["project"].is_null(),
        "a project activity may become global"
    );
    let read: Value = http.get("api/activities/1").await.json().await.unwrap();
    assert_eq!(read["name"], "Remote");
}

#[tokio::test]
async fn updates_need_edit_permissions_and_unknown_ids_are_404_first() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    for path in [
        "api/customers/1",
        "api/projects/1",
        "api/activities/1",
        "api/users/1",
    ] {
        let (status, body) = http
            .send_as(USER_TOKEN, PATCH, path, json!({"name": "x"}))
            .await;
        assert_eq!(
            (status, body),
            (StatusCode::FORBIDDEN, forbidden()),
            "{path}"
        );
        // Kimai finds the record before it checks the permission.
        let unknown = path.replace("/1", "/999");
        for token in [USER_TOKEN, TOKEN] {
            let (status, body) = http.send_as(token, PATCH, &unknown, json!({})).await;
            assert_eq!(
                (status, body),
                (StatusCode::NOT_FOUND, not_found()),
                "{unknown}"
            );
        }
    }
    let (status, body) = http
        .send_as(USER_TOKEN, DELETE, "api/tags/1", Value::Null)
        .await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()));
    let (status, _) = http
        .send_as(USER_TOKEN, POST, "api/activities", json!({"name": "x"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = http
        .req(PATCH, "api/customers/1", None)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sim.admin().call_count("PATCH /api/customers/{id}"), 4);
}

#[tokio::test]
async fn users_edit_their_own_profile_and_a_super_admin_edits_others() {
    let sim = start("2.65.0", 1).await;
    let http = Http::new(&sim);
    let (status, me) = http
        .send_as(
            USER_TOKEN,
            PATCH,
            "api/users/2",
            json!({"title": "Agent", "alias": "Uli S", "timezone": "Europe/Berlin",
                   "language": "de"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["title"], "Agent");
    assert_eq!(me["alias"], "Uli S");
    assert_eq!(me["initials"], "US");
    assert_eq!(me["timezone"], "Europe/Berlin");
    assert_eq!(me["language"], "de");
    assert_eq!(me["username"], "uli");
    // A record keeps the zone it was saved in (Kimai stores it per timesheet); the user's new
    // records are read and shown in the new zone.
    let sheet: Value = http.get("api/timesheets/1").await.json().await.unwrap();
    assert_eq!(sheet["begin"], "2026-02-02T12:30:00+0530");
    let (status, sheet) = http
        .send_as(
            USER_TOKEN,
            POST,
            "api/timesheets",
            json!({"begin": "2026-02-04T09:00:00", "end": "2026-02-04T10:00:00",
                   "project": 1, "activity": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sheet}");
    assert_eq!(sheet["begin"], "2026-02-04T09:00:00+0100");
    // Not part of one's own form: the active flag and the roles; never the username.
    for field in [
        json!({"enabled": false}),
        json!({"roles": ["ROLE_ADMIN"]}),
        json!({"username": "root"}),
    ] {
        let (status, body) = http.send_as(USER_TOKEN, PATCH, "api/users/2", field).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(extra_fields(&body), "{body}");
    }
    let (status, body) = http
        .send(PATCH, "api/users/2", json!({"email": "ADMIN@example.org"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"]["children"]["email"]["errors"],
        json!(["This value is already used."])
    );
    let (status, body) = http
        .send(
            PATCH,
            "api/users/2",
            json!({"roles": ["ROLE_ADMIN"], "supervisor": 1, "enabled": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["roles"], json!(["ROLE_ADMIN"]));
    assert_eq!(body["supervisor"]["id"], 1);
    // The new role's permissions apply at once.
    let (status, _) = http
        .send_as(
            USER_TOKEN,
            PATCH,
            "api/customers/1",
            json!({"comment": "ok"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn tags_are_deleted_and_leave_their_timesheets() {
    let sim = start("2.65.0", 0).await;
    let http = Http::new(&sim);
    let (status, sheet) = http
        .send(
            POST,
            "api/timesheets",
            json!({"begin": "2026-02-03T09:00:00", "end": "2026-02-03T10:00:00",
                   "project": 1, "activity": 1, "tags": "zammad"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sheet}");
    assert_eq!(sheet["tags"], json!(["zammad"]));
    let r = http
        .req(DELETE, "api/tags/1", Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.text().await.unwrap(), "");
    let tags: Vec<Value> = http.get("api/tags/find").await.json().await.unwrap();
    assert!(tags.is_empty());
    let read: Value = http
        .get(&format!("api/timesheets/{}", sheet["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["tags"], json!([]));
    for path in ["api/tags/1", "api/tags/abc"] {
        let (status, body) = http.send(DELETE, path, Value::Null).await;
        assert_eq!(
            (status, body),
            (StatusCode::NOT_FOUND, not_found()),
            "{path}"
        );
    }
    // Kimai has no read or update of a single tag.
    assert_eq!(
        http.get("api/tags/1").await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(sim.admin().call_count("DELETE /api/tags/{id}"), 3);
}
