//! Conflict resolution: one and many, actions that fit the reason, conditional (409 on a second
//! resolve), the decision recorded for reconcile, the follow-up message, the audit event.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::*;
use sync_core::ids::TimesheetId;
use sync_core::plan::ConflictReason;
use sync_store::clock::Clock;
use sync_store::conflicts::{
    ConflictId, ConflictStatus, ConflictsStore, ResolutionAction, ResolutionEffect,
};
use sync_store::control::{ControlStore, DocumentKind};
use sync_store::queue::{SyncReason, TicketSyncMessage, decode};

async fn open(app: &App, id: &str, ticket: u64, accounting: u64, reason: ConflictReason) {
    let conflict = test_support::records::conflict(ticket, accounting, reason);
    app.conflicts
        .open(&ConflictId(id.into()), &conflict, app.clock.now())
        .await
        .unwrap();
}

fn queued(app: &App) -> Vec<TicketSyncMessage> {
    app.ticket_sync
        .waiting_bodies()
        .iter()
        .map(|b| decode::<TicketSyncMessage>(b).unwrap())
        .collect()
}

async fn decisions(app: &App, ticket: u64) -> Value {
    app.control
        .get_document(DocumentKind::Decisions, &format!("decisions.{ticket}"))
        .await
        .unwrap()
        .map(|d| d.body)
        .unwrap_or(Value::Null)
}

async fn resolve(app: &App, token: &str, id: &str, body: Value) -> Reply {
    app.call(
        Method::POST,
        &format!("/api/conflicts/{id}/resolve"),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn resolving_records_the_decision_enqueues_the_ticket_and_audits() {
    let app = App::start().await;
    let admin = app.admin().await;
    open(&app, "dup", 40, 1, ConflictReason::ProbableDuplicate).await;
    open(&app, "gone", 40, 2, ConflictReason::DeletedInKimai).await;
    open(&app, "edit", 41, 3, ConflictReason::BothChanged).await;

    let reply = resolve(
        &app,
        &admin,
        "dup",
        json!({"action": "create_anyway", "note": "different work"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["status"], "resolved");
    let stored = app
        .conflicts
        .get(&ConflictId("dup".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ConflictStatus::Resolved);
    let resolution = stored.resolution.unwrap();
    assert_eq!(resolution.action, ResolutionEffect::ApplyZammad);
    assert_eq!(resolution.actor, ADMIN);
    assert_eq!(
        resolution.note.as_deref(),
        Some("create_anyway: different work")
    );

    let reply = resolve(&app, &admin, "gone", json!({"action": "accept_deletion"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let doc = decisions(&app, 40).await;
    assert_eq!(doc["create_anyway"], json!(["ta:1"]));
    assert_eq!(doc["ignored"], json!(["ta:2"]));
    assert_eq!(doc["decisions"].as_array().unwrap().len(), 2);
    assert_eq!(doc["decisions"][1]["action"], "accept_deletion");
    assert_eq!(doc["decisions"][1]["conflict_id"], "gone");

    let reply = resolve(&app, &admin, "edit", json!({"action": "keep_kimai"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(decisions(&app, 41).await["ignored"], json!(["ta:3"]));

    let messages = queued(&app);
    assert_eq!(
        messages.iter().map(|m| m.ticket_id.0).collect::<Vec<_>>(),
        [40, 40, 41]
    );
    for m in &messages {
        assert_eq!(m.reason, SyncReason::Resolution);
        assert!(!m.dry_run);
    }
    let audit = app.audit_records().await;
    let events: Vec<&str> = audit
        .iter()
        .filter(|r| r.event.action == "conflict.resolve")
        .map(|r| r.event.detail["id"].as_str().unwrap())
        .collect();
    assert_eq!(events.len(), 3);
    assert!(events.contains(&"dup") && events.contains(&"gone") && events.contains(&"edit"));
}

#[tokio::test]
async fn a_link_names_one_of_the_candidates() {
    let app = App::start().await;
    let admin = app.admin().await;
    open(&app, "dup", 40, 1, ConflictReason::ProbableDuplicate).await;
    for (body, field) in [
        (json!({"action": "link"}), "kimai_id"),
        (json!({"action": "link", "kimai_id": 99}), "kimai_id"),
        (json!({"action": "ignore", "kimai_id": 70}), "kimai_id"),
    ] {
        let reply = resolve(&app, &admin, "dup", body.clone()).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(reply.json["errors"][0]["field"], field, "{body}");
    }
    let reply = resolve(
        &app,
        &admin,
        "dup",
        json!({"action": "link", "kimai_id": 71}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let stored = app
        .conflicts
        .get(&ConflictId("dup".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.resolution.unwrap().action,
        ResolutionEffect::Link {
            kimai_id: TimesheetId(71)
        }
    );
    let doc = decisions(&app, 40).await;
    assert_eq!(doc["decisions"][0]["kimai_id"], 71);
    assert_eq!(doc["create_anyway"], json!([]));
    assert_eq!(doc["ignored"], json!([]));
}

#[tokio::test]
async fn an_action_that_does_not_fit_the_reason_is_400_and_changes_nothing() {
    let app = App::start().await;
    let admin = app.admin().await;
    open(&app, "user", 40, 1, ConflictReason::UnmappedUser).await;
    open(&app, "locked", 40, 2, ConflictReason::LockedOrExported).await;
    for (id, action) in [
        ("user", "apply_zammad"),
        ("user", "create_anyway"),
        ("locked", "recreate"),
        ("locked", "apply_zammad"),
    ] {
        let reply = resolve(&app, &admin, id, json!({"action": action})).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        let detail = reply.json["errors"][0]["message"].as_str().unwrap();
        assert!(
            detail.contains("does not fit") && detail.contains("ignore"),
            "{detail}"
        );
    }
    for (body, field) in [
        (json!({"action": "shrug"}), "body"),
        (json!({}), "body"),
        (json!({"action": "ignore", "extra": 1}), "body"),
        (
            json!({"action": "ignore", "note": "x".repeat(1001)}),
            "note",
        ),
    ] {
        let reply = resolve(&app, &admin, "user", body.clone()).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(reply.json["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(
        app.conflicts
            .get(&ConflictId("user".into()))
            .await
            .unwrap()
            .unwrap()
            .status,
        ConflictStatus::Open
    );
    assert!(queued(&app).is_empty());
    assert_eq!(decisions(&app, 40).await, Value::Null);
    resolve(&app, &admin, "nope", json!({"action": "ignore"}))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_second_resolve_is_409_and_keeps_the_first() {
    let app = App::start().await;
    let admin = app.admin().await;
    open(&app, "edit", 41, 3, ConflictReason::BothChanged).await;
    let first = resolve(&app, &admin, "edit", json!({"action": "apply_zammad"})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let second = resolve(&app, &admin, "edit", json!({"action": "keep_kimai"})).await;
    second.assert_problem(StatusCode::CONFLICT);
    assert!(
        second.json["detail"]
            .as_str()
            .unwrap()
            .contains("already resolved")
    );
    let stored = app
        .conflicts
        .get(&ConflictId("edit".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.resolution.unwrap().action,
        ResolutionEffect::ApplyZammad
    );
    assert_eq!(decisions(&app, 41).await["ignored"], json!([]));
    assert_eq!(queued(&app).len(), 1);

    // Two resolvers at once: exactly one wins.
    open(&app, "race", 42, 4, ConflictReason::Orphaned).await;
    let (a, b) = tokio::join!(
        resolve(&app, &admin, "race", json!({"action": "keep_kimai"})),
        resolve(&app, &admin, "race", json!({"action": "apply_zammad"})),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
}

#[tokio::test]
async fn many_by_ids_and_by_filter() {
    let app = App::start().await;
    let admin = app.admin().await;
    open(&app, "u1", 50, 1, ConflictReason::UnmappedUser).await;
    open(&app, "u2", 51, 2, ConflictReason::UnmappedUser).await;
    open(&app, "u3", 51, 3, ConflictReason::UnmappedUser).await;
    open(&app, "b1", 52, 4, ConflictReason::BothChanged).await;
    open(&app, "d1", 53, 5, ConflictReason::DeletedInKimai).await;

    let reply = app
        .call(
            Method::POST,
            "/api/conflicts/resolve",
            Some(&admin),
            Some(json!({"action": "keep_kimai", "ids": ["b1", "u1", "missing"]})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["resolved"], 1);
    let outcome = |id: &str| {
        reply.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(outcome("b1"), "resolved");
    assert_eq!(outcome("u1"), "not_applicable");
    assert_eq!(outcome("missing"), "not_found");

    let reply = app
        .call(
            Method::POST,
            "/api/conflicts/resolve",
            Some(&admin),
            Some(json!({"action": "ignore", "filter": {"reason": "unmapped_user"}})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["resolved"], 3);
    for id in ["u1", "u2", "u3"] {
        assert_eq!(
            app.conflicts
                .get(&ConflictId(id.into()))
                .await
                .unwrap()
                .unwrap()
                .status,
            ConflictStatus::Resolved
        );
    }
    assert_eq!(
        decisions(&app, 51).await["ignored"],
        json!(["ta:2", "ta:3"])
    );
    // One message per ticket: 52 from the first call, 50 and 51 from the second.
    let mut tickets: Vec<u64> = queued(&app).iter().map(|m| m.ticket_id.0).collect();
    tickets.sort();
    assert_eq!(tickets, [50, 51, 52]);
    assert_eq!(
        app.conflicts
            .get(&ConflictId("d1".into()))
            .await
            .unwrap()
            .unwrap()
            .status,
        ConflictStatus::Open
    );

    // Again: already resolved, nothing queued.
    let again = app
        .call(
            Method::POST,
            "/api/conflicts/resolve",
            Some(&admin),
            Some(json!({"action": "ignore", "ids": ["u1"]})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json["resolved"], 0);
    assert_eq!(again.json["items"][0]["outcome"], "already_resolved");
    assert_eq!(queued(&app).len(), 3);

    let audit = app.audit_records().await;
    assert_eq!(
        audit
            .iter()
            .filter(|r| r.event.action == "conflict.resolve_many")
            .count(),
        2
    );
}

#[tokio::test]
async fn bad_bulk_requests_are_400() {
    let app = App::start().await;
    let admin = app.admin().await;
    open(&app, "u1", 50, 1, ConflictReason::UnmappedUser).await;
    let too_many: Vec<String> = (0..501).map(|i| format!("c{i}")).collect();
    for (body, field) in [
        (json!({"action": "ignore"}), "ids"),
        (json!({"action": "ignore", "ids": []}), "ids"),
        (json!({"action": "ignore", "ids": too_many}), "ids"),
        (
            json!({"action": "ignore", "ids": ["u1"], "filter": {}}),
            "ids",
        ),
        (json!({"action": "link", "ids": ["u1"]}), "action"),
        (
            json!({"action": "recreate", "filter": {"reason": "unmapped_user"}}),
            "action",
        ),
        (
            json!({"action": "ignore", "filter": {"reason": "bad"}}),
            "body",
        ),
    ] {
        let reply = app
            .call(
                Method::POST,
                "/api/conflicts/resolve",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert_eq!(
            reply.json["errors"][0]["field"], field,
            "{body}: {}",
            reply.text
        );
    }
    assert_eq!(
        app.conflicts
            .get(&ConflictId("u1".into()))
            .await
            .unwrap()
            .unwrap()
            .status,
        ConflictStatus::Open
    );
    assert!(queued(&app).is_empty());
}

#[tokio::test]
async fn resolving_needs_an_admin() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    open(&app, "u1", 50, 1, ConflictReason::UnmappedUser).await;
    resolve(&app, &viewer, "u1", json!({"action": "ignore"}))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    app.call(
        Method::POST,
        "/api/conflicts/resolve",
        Some(&viewer),
        Some(json!({"action": "ignore", "ids": ["u1"]})),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    app.call(
        Method::POST,
        "/api/conflicts/u1/resolve",
        None,
        Some(json!({"action": "ignore"})),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED);
    app.call(
        Method::POST,
        "/api/conflicts/resolve",
        None,
        Some(json!({"action": "ignore", "ids": ["u1"]})),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.conflicts
            .get(&ConflictId("u1".into()))
            .await
            .unwrap()
            .unwrap()
            .status,
        ConflictStatus::Open
    );
    assert!(queued(&app).is_empty());
}

#[tokio::test]
async fn a_follow_up_that_cannot_be_queued_is_503_and_the_resolution_stays() {
    let app = App::start().await;
    let admin = app.admin().await;
    open(&app, "u1", 50, 1, ConflictReason::UnmappedUser).await;
    let base = app.serve_with_queue(unreachable_queue().await).await;
    let reply = app
        .send(
            app.http
                .post(format!("{base}/api/conflicts/u1/resolve"))
                .bearer_auth(&admin)
                .json(&json!({"action": "ignore"})),
        )
        .await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.json["detail"].as_str().unwrap().contains("sync run"));
    // The decision is recorded; the message can be sent later by a sync run.
    assert_eq!(
        app.conflicts
            .get(&ConflictId("u1".into()))
            .await
            .unwrap()
            .unwrap()
            .status,
        ConflictStatus::Resolved
    );
    assert_eq!(decisions(&app, 50).await["ignored"], json!(["ta:1"]));
    assert!(
        app.audit_records()
            .await
            .iter()
            .any(|r| r.event.action == "conflict.resolve" && r.event.detail["id"] == "u1")
    );
}

/// The document's `ignore` link from the listing resolves a conflict of every reason: following
/// it as a client would (the listing's first id, the link's body) is a 200 each time.
#[tokio::test]
async fn the_documents_ignore_link_resolves_a_conflict_of_every_reason() {
    let app = App::start().await;
    let admin = app.admin().await;
    let doc = app.document().await;
    let link = &doc["paths"]["/api/conflicts"]["get"]["responses"]["200"]["links"]["ignore"];
    assert_eq!(link["parameters"]["id"], "$response.body#/items/0/id");
    let body = link["requestBody"].clone();
    for (i, reason) in ConflictReason::ALL.into_iter().enumerate() {
        let n = i as u64 + 1;
        open(&app, &format!("c-link-{n}"), 900 + n, n, reason).await;
        let listing = app
            .call(
                Method::GET,
                &format!("/api/conflicts?ticket={}", 900 + n),
                Some(&admin),
                None,
            )
            .await;
        let id = listing.json["items"][0]["id"].as_str().unwrap().to_owned();
        let reply = resolve(&app, &admin, &id, body.clone()).await;
        assert_eq!(reply.status, StatusCode::OK, "{reason:?}: {}", reply.text);
    }
}

/// The document states which actions fit a filter's reason (one `oneOf` variant per set of
/// actions), so a client can send only bodies the API takes: every (reason, action) pair is
/// answered 200 exactly when a variant of the document admits it, 400 otherwise.
#[tokio::test]
async fn a_bulk_filter_takes_exactly_the_actions_the_document_lists_for_its_reason() {
    let app = App::start().await;
    let admin = app.admin().await;
    let doc = app.document().await;
    let variants = doc["components"]["schemas"]["ResolveMany"]["oneOf"]
        .as_array()
        .unwrap()
        .clone();
    let listed = |reason: Option<&str>, action: &str| -> bool {
        variants.iter().any(|v| {
            let p = &v["properties"];
            let takes_action = p["action"]["enum"]
                .as_array()
                .is_some_and(|a| a.contains(&json!(action)));
            let filter_reason = &p["filter"]["properties"]["reason"];
            let takes_reason = match reason {
                Some(r) => filter_reason["enum"]
                    .as_array()
                    .is_some_and(|e| e.contains(&json!(r))),
                None => filter_reason["type"] == "null",
            };
            takes_action && takes_reason
        })
    };
    let actions = ResolutionAction::ALL.map(|a| a.as_str());
    let reasons = ConflictReason::ALL.map(|r| Some(r.as_str()));
    let mut admitted = 0;
    for reason in reasons.into_iter().chain([None]) {
        for action in actions {
            let body = json!({"action": action, "filter": {"reason": reason, "ticket": 999}});
            let reply = app
                .call(
                    Method::POST,
                    "/api/conflicts/resolve",
                    Some(&admin),
                    Some(body.clone()),
                )
                .await;
            let expected = if listed(reason, action) {
                admitted += 1;
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            assert_eq!(reply.status, expected, "{body}: {}", reply.text);
        }
    }
    // The 14 reasons' own actions but `link` (23), and the six bulk actions without a reason.
    assert_eq!(admitted, 29);
}
