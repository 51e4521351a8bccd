//! The simulator's Zammad API over real HTTP: formats, shapes, permissions, paging, admin.

use reqwest::StatusCode;
use serde_json::{Value, json};
use zammad_sim::dataset::{GroupRecord, Role, TicketRecord, TokenRecord, UserRecord};
use zammad_sim::{Dataset, RunningSim, SimConfig, ZammadVersion};

const ADMIN: &str = "demo-admin-token";
const AGENT: &str = "demo-agent-token";

async fn start(version: ZammadVersion, dataset: Dataset) -> RunningSim {
    zammad_sim::serve(SimConfig { port: 0, version }, dataset)
        .await
        .unwrap()
}

async fn get(
    sim: &RunningSim,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", sim.base_url()));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Token token={token}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn is_zammad_timestamp(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    // 2024-03-17T19:03:13.234Z
    s.len() == 24 && s.ends_with('Z') && s.as_bytes()[19] == b'.'
}

#[tokio::test]
async fn accountings_use_decimal_strings_and_millisecond_timestamps() {
    let sim = start(ZammadVersion::V6_5, Dataset::demo()).await;
    let (status, _, body) = get(&sim, "/api/v1/tickets/103/time_accountings", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK);
    let units: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["time_unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, vec!["120.0", "90.0", "1.23"]);
    let first = &body[0];
    assert!(is_zammad_timestamp(&first["created_at"]), "{first}");
    assert_eq!(first["created_at"], "2024-03-05T15:00:00.000Z");
    assert_eq!(first["ticket_article_id"], Value::Null);
    let mut keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "created_at",
            "created_by_id",
            "id",
            "ticket_article_id",
            "ticket_id",
            "time_unit",
            "type_id",
            "updated_at"
        ]
    );
    // The ticket carries the sum: 120 + 90 + 1.23.
    let (_, _, ticket) = get(&sim, "/api/v1/tickets/103", Some(ADMIN)).await;
    assert_eq!(ticket["time_unit"], "211.23");
    assert!(
        ticket.get("article_ids").is_none(),
        "show has no id lists, like Zammad"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_ticket_without_accountings_has_a_null_sum_and_zero_after_deleting_all() {
    let mut dataset = Dataset::demo();
    dataset.tickets.push(TicketRecord {
        id: 200,
        number: "31200".into(),
        title: "Fresh".into(),
        group_id: 1,
        customer_id: 6,
        organization_id: None,
        owner_id: None,
        state: "new".into(),
        created_at: "2024-04-01T08:00:00Z".parse().unwrap(),
        updated_at: None,
    });
    let sim = start(ZammadVersion::V6_5, dataset).await;
    let (_, _, ticket) = get(&sim, "/api/v1/tickets/200", Some(ADMIN)).await;
    assert_eq!(ticket["time_unit"], Value::Null);
    assert_eq!(
        ticket["organization_id"], 1,
        "defaults to the customer's organisation"
    );
    assert_eq!(ticket["owner_id"], 1);

    let created = sim
        .sim()
        .add_accounting(
            serde_json::from_value(
                json!({"ticket_id": 200, "created_by_id": 3, "time_unit": "7.5"}),
            )
            .unwrap(),
        )
        .unwrap();
    let (_, _, ticket) = get(&sim, "/api/v1/tickets/200", Some(ADMIN)).await;
    assert_eq!(ticket["time_unit"], "7.5");
    sim.sim()
        .delete_accounting(created["id"].as_u64().unwrap())
        .unwrap();
    let (_, _, ticket) = get(&sim, "/api/v1/tickets/200", Some(ADMIN)).await;
    assert_eq!(ticket["time_unit"], "0.0");
    sim.shutdown().await;
}

#[tokio::test]
async fn search_shape_depends_on_version_and_expand() {
    let old = start(ZammadVersion::V6_2, Dataset::demo()).await;
    let (_, _, body) = get(
        &old,
        "/api/v1/tickets/search?query=*&per_page=2&sort_by=id",
        Some(ADMIN),
    )
    .await;
    assert_eq!(body["tickets"], json!([101, 102]));
    assert_eq!(body["tickets_count"], 2);
    assert_eq!(body["assets"]["Ticket"]["101"]["number"], "31101");
    assert!(body["assets"]["Ticket"]["101"]["article_ids"].is_array());
    let (_, _, body) = get(
        &old,
        "/api/v1/tickets/search?query=*&per_page=2&expand=true",
        Some(ADMIN),
    )
    .await;
    assert!(body.is_array(), "expand=true gives an array on 6.2 too");
    assert_eq!(body[0]["group"], "Service Desk");
    assert_eq!(body[0]["customer"], "ines@nordlicht.example");
    old.shutdown().await;

    let new = start(ZammadVersion::V6_5, Dataset::demo()).await;
    let (_, _, body) = get(
        &new,
        "/api/v1/tickets/search?query=*&per_page=2",
        Some(ADMIN),
    )
    .await;
    assert!(body.is_array());
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert!(body[0].get("group").is_none(), "no names without expand");
    new.shutdown().await;
}

#[tokio::test]
async fn credentials_and_permissions_answer_like_zammad() {
    let sim = start(ZammadVersion::V6_5, Dataset::demo()).await;
    let (status, headers, body) = get(&sim, "/api/v1/users/me", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"error": "Authentication required", "error_human": "Authentication required"})
    );
    assert_eq!(headers["X-Failure"], "Authentication required");

    let (status, _, body) = get(&sim, "/api/v1/users/me", Some("wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string() && body["error_human"].is_string());

    for admin_only in ["/api/v1/time_accountings", "/api/v1/time_accounting/types"] {
        let (status, _, body) = get(&sim, admin_only, Some(AGENT)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{admin_only}");
        assert_eq!(body["error"], "Not authorized");
        let (status, _, _) = get(&sim, admin_only, Some(ADMIN)).await;
        assert_eq!(status, StatusCode::OK, "{admin_only}");
    }
    // The agent works in groups 2 and 3; ticket 102 is in group 1.
    let (status, _, _) = get(&sim, "/api/v1/tickets/102/time_accountings", Some(AGENT)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = get(&sim, "/api/v1/tickets/101/time_accountings", Some(AGENT)).await;
    assert_eq!(status, StatusCode::OK);
    // A customer may see itself but not other users.
    let (status, _, me) = get(&sim, "/api/v1/users/me", Some("demo-customer-token")).await;
    assert_eq!((status, me["id"].clone()), (StatusCode::OK, json!(6)));
    let (status, _, _) = get(&sim, "/api/v1/users/3", Some("demo-customer-token")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _, body) = get(&sim, "/api/v1/tickets/999", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "Couldn't find Ticket with 'id'=999");
    let (status, _, body) = get(&sim, "/api/v1", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "No route matches [GET] /api/v1");
    let (status, _, body) = get(&sim, "/api/v1/tickets/search?query=colour:red", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error_human"].as_str().unwrap().contains("colour"));
    let (status, _, _) = get(
        &sim,
        "/api/v1/time_accountings?sort_by=nonsense",
        Some(ADMIN),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    sim.shutdown().await;
}

#[tokio::test]
async fn paging_follows_zammads_limits() {
    let mut dataset = Dataset::demo();
    for i in 0..250u64 {
        dataset.tickets.push(TicketRecord {
            id: 1000 + i,
            number: format!("4{i:04}"),
            title: format!("Bulk {i}"),
            group_id: 1,
            customer_id: 7,
            organization_id: None,
            owner_id: None,
            state: "open".into(),
            created_at: "2024-05-01T08:00:00Z".parse().unwrap(),
            updated_at: None,
        });
    }
    let sim = start(ZammadVersion::V6_5, dataset).await;
    let (_, _, body) = get(
        &sim,
        "/api/v1/tickets/search?query=Bulk&per_page=500",
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        body.as_array().unwrap().len(),
        200,
        "search pages are capped at 200"
    );
    let (_, _, body) = get(&sim, "/api/v1/tickets/search?query=Bulk", Some(ADMIN)).await;
    assert_eq!(body.as_array().unwrap().len(), 50, "search default is 50");
    let (_, _, body) = get(
        &sim,
        "/api/v1/tickets/search?query=Bulk&limit=10&page=25",
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        body[0]["title"], "Bulk 240",
        "limit is an alias of per_page"
    );

    let (_, _, page) = get(
        &sim,
        "/api/v1/time_accountings?per_page=4&page=4",
        Some(ADMIN),
    )
    .await;
    let ids: Vec<u64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![13, 14, 15],
        "sorted by id by default, the last page is short"
    );
    let (_, _, page) = get(
        &sim,
        "/api/v1/time_accountings?per_page=4&page=5",
        Some(ADMIN),
    )
    .await;
    assert_eq!(page, json!([]));
    let (_, _, page) = get(
        &sim,
        "/api/v1/time_accountings?sort_by=updated_at&order_by=desc&per_page=1&expand=true",
        Some(ADMIN),
    )
    .await;
    assert_eq!(page[0]["id"], 7);
    assert_eq!(page[0]["type"], "Project work");
    assert_eq!(page[0]["created_by"], "bkoch");
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_endpoints_change_state_and_count_calls() {
    let sim = start(ZammadVersion::V6_5, Dataset::demo()).await;
    let http = reqwest::Client::new();
    let base = sim.base_url();
    let (_, _, before) = get(&sim, "/api/v1/tickets/101", Some(ADMIN)).await;

    let created: Value = http
        .post(format!("{base}/__admin/accountings"))
        .json(&json!({"ticket_id": 101, "created_by_id": 4, "time_unit": "20", "type_id": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["time_unit"], "20.0");
    assert_eq!(created["id"], 16);
    assert!(
        created["ticket_article_id"].is_u64(),
        "booked with an article, as in the UI"
    );
    let (_, _, after) = get(&sim, "/api/v1/tickets/101", Some(ADMIN)).await;
    assert_eq!(after["time_unit"], "77.5");
    assert_ne!(after["updated_at"], before["updated_at"]);
    assert_eq!(after["updated_by_id"], 4);

    // A type-only change does not touch the ticket.
    let response = http
        .patch(format!("{base}/__admin/accountings/16"))
        .json(&json!({"type_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, _, unchanged) = get(&sim, "/api/v1/tickets/101", Some(ADMIN)).await;
    assert_eq!(unchanged["updated_at"], after["updated_at"]);

    let response = http
        .patch(format!("{base}/__admin/accountings/16"))
        .json(&json!({"time_unit": "10000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "decimal(6,2) overflow"
    );
    let response = http
        .delete(format!("{base}/__admin/accountings/99"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .delete(format!("{base}/__admin/accountings/16"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let all: Vec<Value> = http
        .get(format!("{base}/__admin/accountings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 15);

    let counters: Value = http
        .get(format!("{base}/__admin/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["GET /api/v1/tickets/{id}"], 3);
    http.delete(format!("{base}/__admin/counters"))
        .send()
        .await
        .unwrap();
    let counters: Value = http
        .get(format!("{base}/__admin/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters, json!({}));

    let dataset: Dataset = http
        .get(format!("{base}/__admin/dataset"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dataset.accountings.len(), 15);
    assert!(
        dataset.validate().is_ok(),
        "the exported state can seed a new simulator"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_configured_over_http_are_deterministic() {
    let sim = start(ZammadVersion::V6_5, Dataset::demo()).await;
    let http = reqwest::Client::new();
    let base = sim.base_url();
    let faults =
        json!({"seed": 99, "rules": [{"route": "GET /api/v1/version", "error_rate": 0.5}]});
    let mut runs = Vec::new();
    for _ in 0..2 {
        let response = http
            .put(format!("{base}/__admin/faults"))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(get(&sim, "/api/v1/version", Some(ADMIN)).await.0.as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1], "same seed, same order, same faults");
    assert!(
        runs[0].contains(&200) && runs[0].iter().any(|s| *s >= 500),
        "{:?}",
        runs[0]
    );
    // Other routes are untouched.
    assert_eq!(
        get(&sim, "/api/v1/users/me", Some(ADMIN)).await.0,
        StatusCode::OK
    );
    http.delete(format!("{base}/__admin/faults"))
        .send()
        .await
        .unwrap();
    for _ in 0..5 {
        assert_eq!(
            get(&sim, "/api/v1/version", Some(ADMIN)).await.0,
            StatusCode::OK
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_rate_limit_fault_sends_retry_after() {
    let sim = start(ZammadVersion::V6_5, Dataset::demo()).await;
    sim.sim().set_faults(serde_json::from_value(json!({"rules": [{"route": "*", "rate_limit_rate": 1.0, "retry_after_secs": 7, "times": 1}]})).unwrap());
    let (status, headers, _) = get(&sim, "/api/v1/version", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["Retry-After"], "7");
    assert_eq!(
        get(&sim, "/api/v1/version", Some(ADMIN)).await.0,
        StatusCode::OK,
        "times: 1 is spent"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bad_dataset_is_refused_at_start() {
    let mut dataset = Dataset::demo();
    dataset.groups.push(GroupRecord {
        id: 1,
        name: "Twice".into(),
        created_at: "2024-01-01T00:00:00Z".parse().unwrap(),
    });
    let err = zammad_sim::serve(
        SimConfig {
            port: 0,
            version: ZammadVersion::V6_5,
        },
        dataset,
    )
    .await
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("group id 1 appears twice"),
        "{err}"
    );

    let mut dataset = Dataset::demo();
    dataset.users.push(UserRecord {
        id: 50,
        login: "x".into(),
        firstname: String::new(),
        lastname: String::new(),
        email: String::new(),
        organization_id: None,
        role: Role::Agent,
        group_ids: vec![],
        active: true,
        created_at: "2024-01-01T00:00:00Z".parse().unwrap(),
    });
    dataset.tokens.push(TokenRecord {
        token: "demo-admin-token".into(),
        user_id: 50,
    });
    assert!(
        zammad_sim::serve(
            SimConfig {
                port: 0,
                version: ZammadVersion::V6_5
            },
            dataset
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn admin_opens_tickets_that_the_api_then_shows_and_books_time_on() {
    let sim = start(ZammadVersion::V6_5, Dataset::demo()).await;
    let http = reqwest::Client::new();
    let base = sim.base_url();

    let response = http
        .post(format!("{base}/__admin/tickets"))
        .json(&json!({"title": "Laptop will not boot", "group_id": 2, "customer_id": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_u64().unwrap();
    assert!(id > 107, "after the demo's tickets: {created}");
    assert_eq!(created["number"], (31000 + id).to_string());
    assert_eq!(created["organization_id"], 1, "the customer's organisation");

    let (status, _, shown) = get(&sim, &format!("/api/v1/tickets/{id}"), Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["title"], "Laptop will not boot");
    assert_eq!(shown["group_id"], 2);

    let booked = http
        .post(format!("{base}/__admin/accountings"))
        .json(&json!({"ticket_id": id, "created_by_id": 3, "time_unit": "25"}))
        .send()
        .await
        .unwrap();
    assert_eq!(booked.status(), StatusCode::CREATED);
    let (_, _, list) = get(
        &sim,
        &format!("/api/v1/tickets/{id}/time_accountings"),
        Some(ADMIN),
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // A second ticket gets the next id.
    let next: Value = http
        .post(format!("{base}/__admin/tickets"))
        .json(&json!({"title": "Second", "group_id": 1, "customer_id": 7}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["id"], id + 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_refuses_tickets_with_unknown_or_wrong_references() {
    let sim = start(ZammadVersion::V6_5, Dataset::demo()).await;
    let http = reqwest::Client::new();
    let base = sim.base_url();
    for (body, status) in [
        (
            json!({"title": "x", "group_id": 99, "customer_id": 6}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"title": "x", "group_id": 1, "customer_id": 999}),
            StatusCode::NOT_FOUND,
        ),
        // An agent is not a customer.
        (
            json!({"title": "x", "group_id": 1, "customer_id": 3}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // A customer cannot own a ticket.
        (
            json!({"title": "x", "group_id": 1, "customer_id": 6, "owner_id": 7}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": " ", "group_id": 1, "customer_id": 6}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "x", "group_id": 1, "customer_id": 6, "organization_id": 42}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let response = http
            .post(format!("{base}/__admin/tickets"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
    }
    let dataset: Value = http
        .get(format!("{base}/__admin/dataset"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        dataset["tickets"].as_array().unwrap().len(),
        7,
        "nothing added"
    );
    sim.shutdown().await;
}

async fn concurrency(sim: &RunningSim) -> Value {
    reqwest::get(format!("{}/__admin/concurrency", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Sends `n` slow version requests at once and returns when all are answered.
async fn parallel_versions(base: String, n: usize) {
    let pending: Vec<_> = (0..n)
        .map(|_| {
            let request = reqwest::Client::new()
                .get(format!("{base}/api/v1/version"))
                .header("Authorization", format!("Token token={ADMIN}"));
            tokio::spawn(request.send())
        })
        .collect();
    for p in pending {
        assert_eq!(p.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn concurrency_counts_requests_held_at_once_and_resets() {
    let sim = start(ZammadVersion::V6_5, Dataset::demo()).await;
    assert_eq!(
        concurrency(&sim).await,
        json!({"in_flight": 0, "max_in_flight": 0})
    );
    sim.sim().set_faults(
        serde_json::from_value(json!({"rules": [{"route": "*", "latency_ms": 300}]})).unwrap(),
    );

    parallel_versions(sim.base_url(), 5).await;
    // Admin calls are not API requests: the maximum is exactly the five.
    assert_eq!(
        concurrency(&sim).await,
        json!({"in_flight": 0, "max_in_flight": 5})
    );

    let r = reqwest::Client::new()
        .delete(format!("{}/__admin/concurrency", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sim.sim().concurrency().max_in_flight, 0);
    for _ in 0..3 {
        assert_eq!(
            get(&sim, "/api/v1/version", Some(ADMIN)).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        concurrency(&sim).await,
        json!({"in_flight": 0, "max_in_flight": 1})
    );

    // Seen while they run; a reset then starts from the requests still in flight.
    let running = tokio::spawn(parallel_versions(sim.base_url(), 2));
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert_eq!(
        concurrency(&sim).await,
        json!({"in_flight": 2, "max_in_flight": 2})
    );
    sim.sim().reset_concurrency();
    running.await.unwrap();
    assert_eq!(
        concurrency(&sim).await,
        json!({"in_flight": 0, "max_in_flight": 2})
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_adds_an_agent_who_the_api_shows_and_who_can_book_time() {
    let sim = start(ZammadVersion::V6_5, Dataset::demo()).await;
    let http = reqwest::Client::new();
    let base = sim.base_url();
    let response = http
        .post(format!("{base}/__admin/agents"))
        .json(
            &json!({"login": "dora", "firstname": "Dora", "lastname": "Neu",
                      "email": "dora@support.example", "group_ids": [2]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let agent: Value = response.json().await.unwrap();
    let id = agent["id"].as_u64().unwrap();
    assert!(id > 9, "after the demo's users: {agent}");

    let (status, _, shown) = get(&sim, &format!("/api/v1/users/{id}"), Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["email"], "dora@support.example");
    let booked = http
        .post(format!("{base}/__admin/accountings"))
        .json(&json!({"ticket_id": 101, "created_by_id": id, "time_unit": "10"}))
        .send()
        .await
        .unwrap();
    assert_eq!(booked.status(), StatusCode::CREATED);

    // An id of the caller's choosing is kept.
    let chosen = http
        .post(format!("{base}/__admin/agents"))
        .json(&json!({"id": 734_000_123, "login": "fritz", "group_ids": [2]}))
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), StatusCode::CREATED);
    let (status, _, shown) = get(&sim, "/api/v1/users/734000123", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["login"], "fritz");

    // A login is one person's: a second is refused, and so is an unknown group, and an id
    // that is taken.
    for body in [
        json!({"login": "dora"}),
        json!({"login": "eva", "group_ids": [99]}),
        json!({"id": 734_000_123, "login": "gus"}),
        json!({"id": 0, "login": "hal"}),
    ] {
        let refused = http
            .post(format!("{base}/__admin/agents"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(refused.status().is_client_error(), "{body}");
    }
}
