//! Entries ledger (filters, paging) and approval of entries waiting in approval mode.

mod support;

use chrono::{Days, NaiveDate};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::*;
use sync_core::desired::EntryKey;
use sync_core::ids::TicketId;
use sync_core::plan::Operation;
use sync_store::clock::Clock;
use sync_store::entries::{EntriesStore, EntryStatus};
use sync_store::queue::{KimaiWriteMessage, decode};

pub async fn put(
    app: &App,
    ticket: u64,
    accounting: u64,
    agent: u64,
    day: NaiveDate,
    status: EntryStatus,
) {
    app.entries
        .save(&entry_record(
            ticket,
            accounting,
            agent,
            day,
            status,
            app.clock.now(),
        ))
        .await
        .unwrap();
}

fn today(app: &App) -> NaiveDate {
    app.clock.now().date_naive()
}

fn keys(reply: &Value) -> Vec<String> {
    reply["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}/{}", e["ticket"], e["key"].as_str().unwrap()))
        .collect()
}

/// Reads every page of a listing.
async fn all(app: &App, token: &str, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..50 {
        let path = format!("/api/entries?{query}");
        let mut request = app.request(Method::GET, &path, Some(token));
        if let Some(a) = &after {
            request = request.query(&[("after", a)]);
        }
        let page = app.send(request).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        out.extend(keys(&page.json));
        match page.json["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => return out,
        }
    }
    panic!("paging does not end");
}

#[tokio::test]
async fn ledger_filters_and_pages() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    let t = today(&app);
    let ago = |n: u64| t.checked_sub_days(Days::new(n)).unwrap();
    put(&app, 10, 1, 5, ago(0), EntryStatus::Synced).await;
    put(&app, 10, 2, 5, ago(1), EntryStatus::AwaitingApproval).await;
    put(&app, 11, 3, 6, ago(1), EntryStatus::Synced).await;
    put(&app, 12, 4, 6, ago(2), EntryStatus::Pending).await;
    put(&app, 13, 5, 5, ago(40), EntryStatus::Synced).await;

    let first = app
        .call(Method::GET, "/api/entries", Some(&viewer), None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let row = &first.json["items"][0];
    assert_eq!(row["ticket"], 10);
    assert_eq!(row["key"], "ta:1");
    assert_eq!(row["minutes"], 45.0);
    assert_eq!(row["status"], "synced");
    assert!(row["desired"]["description"].is_string());

    // Default: the last 30 days, newest day first; paged across days with limit 1.
    assert_eq!(
        all(&app, &viewer, "limit=1").await,
        ["10/ta:1", "10/ta:2", "11/ta:3", "12/ta:4"]
    );
    assert_eq!(
        all(&app, &viewer, &format!("from={}&to={}", ago(50), ago(30))).await,
        ["13/ta:5"]
    );
    assert_eq!(
        all(&app, &viewer, "status=synced&limit=2").await.len(),
        3,
        "by status, any day"
    );
    assert_eq!(
        all(&app, &viewer, "status=awaiting_approval").await,
        ["10/ta:2"]
    );
    assert_eq!(
        all(&app, &viewer, "agent=5&limit=1").await,
        ["13/ta:5", "10/ta:2", "10/ta:1"],
        "one agent, oldest day first"
    );
    assert_eq!(
        all(&app, &viewer, &format!("agent=5&from={}", ago(1))).await,
        ["10/ta:2", "10/ta:1"]
    );
    assert_eq!(
        all(&app, &viewer, "ticket=10&status=synced").await,
        ["10/ta:1"]
    );
    assert!(all(&app, &viewer, "ticket=99").await.is_empty());
}

#[tokio::test]
async fn ledger_refuses_bad_filters() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    for (query, field) in [
        ("status=lost", "status"),
        ("from=2026-02-01&to=2026-01-01", "from"),
        ("from=2024-01-01&to=2026-01-01", "to"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("after=nonsense", "after"),
        ("from=yesterday", "query"),
        ("colour=red", "query"),
    ] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/entries?{query}"),
                Some(&viewer),
                None,
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(reply.error_fields(), [field], "{query}: {}", reply.text);
    }
    app.call(Method::GET, "/api/entries", None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

fn queued(app: &App) -> Vec<KimaiWriteMessage> {
    app.kimai_write
        .waiting_bodies()
        .iter()
        .map(|b| decode::<KimaiWriteMessage>(b).unwrap())
        .collect()
}

#[tokio::test]
async fn approving_queues_the_creates_once_and_is_audited() {
    let app = App::start().await;
    let admin = app.admin().await;
    let t = today(&app);
    put(&app, 20, 1, 5, t, EntryStatus::AwaitingApproval).await;
    put(&app, 20, 2, 5, t, EntryStatus::AwaitingApproval).await;
    put(&app, 21, 3, 5, t, EntryStatus::Synced).await;

    let reply = app
        .call(
            Method::POST,
            "/api/entries/approve",
            Some(&admin),
            Some(json!({"entries": [
                {"ticket": 20, "key": "ta:1"},
                // JSON Schema's integer: a whole number written with a fraction is an id too.
                {"ticket": 20.0, "key": "ta:2"},
                {"ticket": 21, "key": "ta:3"},
                {"ticket": 22, "key": "ta:9"},
            ]})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["approved"], 2);
    let outcomes: Vec<&str> = reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["approved", "approved", "not_awaiting", "not_found"]
    );

    let messages = queued(&app);
    assert_eq!(messages.len(), 2);
    for m in &messages {
        assert_eq!(m.ticket_id, TicketId(20));
        assert!(
            matches!(&m.operation, Operation::Create { desired } if desired.duration_secs == 2700)
        );
    }
    for key in ["ta:1", "ta:2"] {
        let r = app
            .entries
            .get(TicketId(20), &EntryKey(key.into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.status, EntryStatus::Pending, "{key}");
    }
    let audit: Vec<_> = app
        .audit_records()
        .await
        .into_iter()
        .filter(|r| r.event.action == "entries.approve")
        .collect();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].event.actor, ADMIN);
    assert_eq!(audit[0].event.detail["count"], 2);

    // Approving again: someone else was first, nothing more is queued.
    let again = app
        .call(
            Method::POST,
            "/api/entries/approve",
            Some(&admin),
            Some(json!({"entries": [{"ticket": 20, "key": "ta:1"}]})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json["items"][0]["outcome"], "not_awaiting");
    assert_eq!(queued(&app).len(), 2);
}

#[tokio::test]
async fn concurrent_approvals_queue_one_write_per_entry() {
    let app = App::start().await;
    let admin = app.admin().await;
    let t = today(&app);
    for a in 1..=5 {
        put(&app, 30, a, 5, t, EntryStatus::AwaitingApproval).await;
    }
    let body = json!({"entries": (1..=5).map(|a| json!({"ticket": 30, "key": format!("ta:{a}")})).collect::<Vec<_>>()});
    let (one, two) = tokio::join!(
        app.call(
            Method::POST,
            "/api/entries/approve",
            Some(&admin),
            Some(body.clone())
        ),
        app.call(
            Method::POST,
            "/api/entries/approve",
            Some(&admin),
            Some(body)
        ),
    );
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(two.status, StatusCode::OK);
    let total = one.json["approved"].as_u64().unwrap() + two.json["approved"].as_u64().unwrap();
    assert!((5..=10).contains(&total));
    // Whoever won, each entry has one operation id: the writer claims it once.
    let ids: std::collections::BTreeSet<String> =
        queued(&app).into_iter().map(|m| m.operation_id.0).collect();
    assert_eq!(ids.len(), 5);
}

#[tokio::test]
async fn approval_validation_roles_and_a_queue_that_is_down() {
    let app = App::start().await;
    let admin = app.admin().await;
    let viewer = app.viewer().await;
    put(&app, 40, 1, 5, today(&app), EntryStatus::AwaitingApproval).await;
    let too_many: Vec<Value> = (0..501)
        .map(|i| json!({"ticket": 1, "key": format!("ta:{i}")}))
        .collect();
    for (body, field) in [
        (json!({"entries": []}), "entries"),
        (json!({"entries": too_many}), "entries"),
        (
            json!({"entries": [{"ticket": 0, "key": "ta:1"}]}),
            "entries[0]",
        ),
        (json!({"entries": [{"ticket": 1, "key": ""}]}), "entries[0]"),
        (json!({"entries": [{"ticket": 1.5, "key": "ta:1"}]}), "body"),
        (json!({"entries": [{"ticket": 1}]}), "body"),
        (json!({"all": true}), "body"),
    ] {
        let reply = app
            .call(
                Method::POST,
                "/api/entries/approve",
                Some(&admin),
                Some(body),
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(reply.error_fields(), [field], "{}", reply.text);
    }
    let body = json!({"entries": [{"ticket": 40, "key": "ta:1"}]});
    app.call(
        Method::POST,
        "/api/entries/approve",
        Some(&viewer),
        Some(body.clone()),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    app.call(
        Method::POST,
        "/api/entries/approve",
        None,
        Some(body.clone()),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED);
    assert!(queued(&app).is_empty());

    // The kimai-write queue does not answer: 503, and the entry still awaits approval.
    let mut state = app.state.clone();
    state.kimai_write = unreachable_write_queue().await;
    let base = serve_state(state).await;
    let reply = app
        .send(
            app.http
                .post(format!("{base}/api/entries/approve"))
                .bearer_auth(&admin)
                .json(&body),
        )
        .await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    let r = app
        .entries
        .get(TicketId(40), &EntryKey("ta:1".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, EntryStatus::AwaitingApproval);
}
