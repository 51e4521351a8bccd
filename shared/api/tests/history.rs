//! Conflict list (filters, paging) and audit log (filters, paging, CSV).

mod support;

use chrono::Duration;
use reqwest::{Method, StatusCode};
use support::*;
use sync_core::desired::EntryKey;
use sync_core::ids::{AccountingId, TicketId};
use sync_core::plan::{Conflict, ConflictReason};
use sync_store::audit::{AuditEvent, AuditKind, AuditLog};
use sync_store::clock::Clock;
use sync_store::conflicts::{ConflictId, ConflictsStore, Resolution, ResolutionEffect};

fn conflict(ticket: u64, accounting: u64, reason: ConflictReason) -> Conflict {
    Conflict {
        key: EntryKey::for_accounting(AccountingId(accounting)),
        ticket_id: TicketId(ticket),
        reason,
        detail: format!("ticket {ticket}"),
        desired: None,
        base: None,
        kimai: None,
        candidates: vec![],
        subject: None,
    }
}

#[tokio::test]
async fn conflicts_are_listed_newest_first_filtered_and_paged() {
    let app = App::start().await;
    let viewer = app.viewer().await;
    let start = app.clock.now();
    for i in 0..5u64 {
        let reason = if i % 2 == 0 {
            ConflictReason::UnmappedUser
        } else {
            ConflictReason::BothChanged
        };
        app.conflicts
            .open(
                &ConflictId(format!("c{i}")),
                &conflict(100 + i % 2, i, reason),
                start + Duration::seconds(i as i64),
            )
            .await
            .unwrap();
    }
    app.conflicts
        .resolve(
            &ConflictId("c4".into()),
            &Resolution {
                action: ResolutionEffect::Dismiss,
                actor: ADMIN.into(),
                note: None,
                resolved_at: start,
            },
        )
        .await
        .unwrap();

    let open = app
        .call(Method::GET, "/api/conflicts", Some(&viewer), None)
        .await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.text);
    let ids: Vec<&str> = open.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c3", "c2", "c1", "c0"]);

    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            None => "/api/conflicts?limit=3".to_owned(),
            Some(a) => format!("/api/conflicts?limit=3&after={a}"),
        };
        let page = app.call(Method::GET, &path, Some(&viewer), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for c in page.json["items"].as_array().unwrap() {
            paged.push(c["id"].as_str().unwrap().to_owned());
        }
        match page.json["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, ["c3", "c2", "c1", "c0"]);

    let unmapped = app
        .call(
            Method::GET,
            "/api/conflicts?reason=unmapped_user&ticket=100",
            Some(&viewer),
            None,
        )
        .await;
    let ids: Vec<&str> = unmapped.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c2", "c0"]);
    let resolved = app
        .call(
            Method::GET,
            "/api/conflicts?status=resolved",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(resolved.json["items"][0]["id"], "c4");
    assert_eq!(
        resolved.json["items"][0]["resolution"]["action"]["action"],
        "dismiss"
    );

    for bad in [
        "status=closed",
        "reason=nope",
        "limit=0",
        "limit=501",
        "ticket=x",
        "colour=red",
    ] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/conflicts?{bad}"),
                Some(&viewer),
                None,
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn the_audit_log_filters_pages_and_exports_csv() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.clock.advance(Duration::seconds(1));
    app.login(VIEWER, "wrong").await;
    app.clock.advance(Duration::seconds(1));
    app.audit
        .append(&AuditEvent {
            at: app.clock.now(),
            kind: AuditKind::Sync,
            action: "timesheet.create".into(),
            actor: "system".into(),
            ip: None,
            detail: serde_json::json!({"note": "=cmd()"}),
        })
        .await
        .unwrap();

    let all = app
        .call(Method::GET, "/api/audit", Some(&admin), None)
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let actions: Vec<&str> = all.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["timesheet.create", "login.failed", "login"],
        "newest first"
    );

    let failed = app
        .call(
            Method::GET,
            "/api/audit?action=login.failed&ip=127.0.0.1",
            Some(&admin),
            None,
        )
        .await;
    let items = failed.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["actor"], VIEWER);
    let sync = app
        .call(Method::GET, "/api/audit?kind=sync", Some(&admin), None)
        .await;
    assert_eq!(sync.json["items"].as_array().unwrap().len(), 1);
    let by_actor = app
        .call(
            Method::GET,
            &format!("/api/audit?actor={ADMIN}&limit=1"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(by_actor.json["items"][0]["action"], "login");

    let today = app.clock.now().date_naive();
    let old = today - chrono::Days::new(30);
    let empty = app
        .call(
            Method::GET,
            &format!("/api/audit?from={old}&to={old}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(empty.json["items"], serde_json::json!([]));

    let csv = app
        .send(app.request(Method::GET, "/api/audit/export?kind=sync", Some(&admin)))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "at,kind,action,actor,ip,detail");
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1].contains(",sync,timesheet.create,system,,"),
        "{}",
        lines[1]
    );
    let full = app
        .send(app.request(Method::GET, "/api/audit/export", Some(&admin)))
        .await;
    assert_eq!(full.text.lines().count(), 4);

    for bad in [
        format!("from={today}&to={old}"),
        format!("from={}&to={today}", today - chrono::Days::new(500)),
        "from=yesterday".to_owned(),
        "kind=everything".to_owned(),
        "limit=0".to_owned(),
    ] {
        app.call(
            Method::GET,
            &format!("/api/audit?{bad}"),
            Some(&admin),
            None,
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    }
    app.send(app.request(
        Method::GET,
        "/api/audit/export?from=2024-13-01",
        Some(&admin),
    ))
    .await
    .assert_problem(StatusCode::BAD_REQUEST);
}
