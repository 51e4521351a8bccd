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
        let r = self
            .req(method, path, Some(TOKEN))
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
