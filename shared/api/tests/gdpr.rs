//! GDPR export and purge over the in-memory stores (the same over DynamoDB: `gdpr_aws.rs`).

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use support::*;
use sync_core::ids::TicketId;
use sync_store::PageRequest;
use sync_store::audit::{AuditFilter, AuditLog};
use sync_store::clock::Clock;
use sync_store::conflicts::{ConflictFilter, ConflictStatus, ConflictsStore};
use sync_store::control::{ControlStore, DocumentKind};
use sync_store::entries::EntriesStore;
use sync_store::memory::MemoryLauncher;

fn subject() -> Value {
    json!({"agent_id": PERSON_ID, "emails": [PERSON_EMAIL], "names": [PERSON_NAME]})
}

/// Everything the memory stores hold, as one text.
async fn dump(app: &App) -> String {
    let mut out = String::new();
    for t in 50..=53 {
        out += &format!("{:?}", app.entries.load_ticket(TicketId(t)).await.unwrap());
    }
    for status in [ConflictStatus::Open, ConflictStatus::Resolved] {
        let page = app
            .conflicts
            .list(&ConflictFilter::status(status), &PageRequest::first(500))
            .await
            .unwrap();
        out += &format!("{:?}", page.items);
    }
    let day = app.clock.now().date_naive();
    let audit = app
        .audit
        .query(
            day - chrono::Days::new(300),
            day,
            &AuditFilter::default(),
            &PageRequest::first(500),
        )
        .await
        .unwrap();
    out += &format!("{:?}", audit.items);
    out
}

#[tokio::test]
async fn export_lists_what_is_about_the_person_with_zammads_identifiers() {
    let app = App::start().await;
    let admin = app.admin().await;
    app.configure(&admin).await;
    seed_person(&app.state).await;
    // Only the id: the e-mail, login and name come from Zammad.
    let reply = app
        .call(
            Method::POST,
            "/api/gdpr/export",
            Some(&admin),
            Some(json!({"agent_id": PERSON_ID})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let subject = &reply.json["subject"];
    assert_eq!(subject["zammad_lookup"], "ok");
    let ids: Vec<&str> = subject["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(ids.contains(&"anna.schmidt@support.example"), "{ids:?}");
    assert!(ids.contains(&"anna schmidt"), "{ids:?}");

    let entries = reply.json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e["agent_id"] == PERSON_ID));
    let conflicts: Vec<&str> = reply.json["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(conflicts.len(), 2);
    assert!(conflicts.contains(&"g1") && conflicts.contains(&"g2"));
    let audit = reply.json["audit"].as_array().unwrap();
    assert_eq!(audit.len(), 3, "{audit:?}");
    assert!(audit.iter().all(|a| names_person(&a.to_string())));

    // The export changes nothing, and its own audit row names nobody.
    assert!(names_person(&dump(&app).await));
    let records = app.audit_records().await;
    let export = records
        .iter()
        .find(|r| r.event.action == "gdpr.export")
        .unwrap();
    assert_eq!(export.event.actor, ADMIN);
    assert!(!names_person(&format!("{:?}", export.event)));
    assert_eq!(export.event.detail["entries"], 2);
}

#[tokio::test]
async fn purge_leaves_nothing_about_the_person_and_keeps_the_rest() {
    let app = App::start().await;
    let admin = app.admin().await;
    seed_person(&app.state).await;
    assert!(names_person(&dump(&app).await));

    let job = app.purge(&admin, subject()).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        job["counts"],
        json!({"entries": 2, "conflicts": 2, "decisions": 1, "audit": 3, "dead_letters": 0,
               "queued_messages": 1})
    );
    assert_eq!(job["step"], "done");
    assert_eq!(job["attempts"], 1);
    assert_eq!(job["stalled"], false);
    // Every day a row can live on: the longest retention (90 days here) and TTL's lag.
    assert_eq!(job["audit_days"], 93);
    assert_eq!(job["audit_days_searched"], 93);
    assert!(!names_person(&job.to_string()), "the job names nobody");
    assert!(!job.to_string().contains(PERSON_EMAIL));

    let after = dump(&app).await;
    assert!(!names_person(&after), "still stored: {after}");
    // The colleague's entry, decision and queued write, the unrelated conflict and audit row
    // stay.
    assert_eq!(
        app.entries.load_ticket(TicketId(51)).await.unwrap().len(),
        1
    );
    assert!(after.contains("Bernd Koch changed it"));
    let decisions = |ticket: u64| {
        let control = app.control.clone();
        async move {
            control
                .get_document(DocumentKind::Decisions, &format!("decisions.{ticket}"))
                .await
                .unwrap()
                .unwrap()
                .body
        }
    };
    assert_eq!(decisions(50).await["create_anyway"], json!([]));
    assert_eq!(
        decisions(51).await["create_anyway"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let queued = app.kimai_write.waiting_bodies();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert!(queued[0].contains("\"agent_id\":4"), "{queued:?}");
    let records = app.audit_records().await;
    assert!(
        records
            .iter()
            .any(|r| r.event.detail == json!({"kimai": 2})),
        "the unrelated audit row stays"
    );
    let purge = records
        .iter()
        .find(|r| r.event.action == "gdpr.purge")
        .expect("the purge is recorded");
    assert_eq!(purge.event.detail["entries"], 2);
    assert_eq!(purge.event.actor, ADMIN);
    assert!(!names_person(&format!("{:?}", purge.event)));
    // The job and counts, nothing else (no id, name or address of the person).
    let detail = purge.event.detail.as_object().unwrap();
    let mut keys: Vec<&str> = detail.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "audit",
            "conflicts",
            "dead_letters",
            "decisions",
            "entries",
            "job",
            "queued_messages"
        ]
    );
    assert!(
        detail.iter().all(|(k, v)| k == "job" || v.is_u64()),
        "{detail:?}"
    );
    let requested = records
        .iter()
        .find(|r| r.event.action == "gdpr.purge.requested")
        .expect("the request is recorded");
    assert_eq!(requested.event.detail["job"], job["id"]);

    // The person is suppressed, by a hash of their id.
    let suppressed = app
        .control
        .list_documents(DocumentKind::Suppression)
        .await
        .unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(
        suppressed[0].id,
        sync_service::privacy::suppression::identity_hash(sync_core::ids::ZammadUserId(PERSON_ID))
    );

    // Neither the request, the job nor its report logged or answered who it was about.
    app.assert_never_sent_or_logged(&["anna.schmidt", "Anna Schmidt", PERSON_EMAIL]);
    assert!(
        app.logs().contains("purge done"),
        "the job's own lines are captured"
    );

    // Again: nothing left to purge.
    let again = app.purge(&admin, subject()).await;
    assert_eq!(
        again["counts"],
        json!({"entries": 0, "conflicts": 0, "decisions": 0, "audit": 0, "dead_letters": 0,
               "queued_messages": 0})
    );
    assert_ne!(again["id"], job["id"]);
}

#[tokio::test]
async fn a_purge_job_is_admin_only_and_unknown_ids_are_404() {
    let app = App::start().await;
    let admin = app.admin().await;
    let viewer = app.viewer().await;
    let job = app.purge(&admin, subject()).await;
    let path = format!("/api/gdpr/purges/{}", job["id"].as_str().unwrap());
    app.call(Method::GET, &path, Some(&viewer), None)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    app.call(Method::GET, &path, None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    for unknown in [
        "20260101T000000Z-000000000000",
        "..%2F..%2Fpolicy",
        "x".repeat(65).as_str(),
    ] {
        app.call(
            Method::GET,
            &format!("/api/gdpr/purges/{unknown}"),
            Some(&admin),
            None,
        )
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_purge_that_cannot_be_handed_off_is_503_and_its_job_failed() {
    let launcher = Arc::new(MemoryLauncher::new());
    launcher.refuse(true);
    let refusing = launcher.clone();
    let app = App::start_edited(move |state, _| state.purge_launcher = refusing).await;
    let admin = app.admin().await;
    seed_person(&app.state).await;
    app.call(
        Method::POST,
        "/api/gdpr/purge",
        Some(&admin),
        Some(subject()),
    )
    .await
    .assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    let jobs = app
        .control
        .list_documents(DocumentKind::PurgeJob)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].body["status"], "failed");
    assert!(
        jobs[0].body["error"]
            .as_str()
            .unwrap()
            .starts_with("not handed off"),
        "{:?}",
        jobs[0].body
    );
    assert!(names_person(&dump(&app).await), "nothing was purged");
    assert!(
        !app.audit_records()
            .await
            .iter()
            .any(|r| r.event.action.starts_with("gdpr.purge")),
        "a purge that did not start is not recorded as requested"
    );
}

#[tokio::test]
async fn gdpr_validation_and_roles() {
    let app = App::start().await;
    let admin = app.admin().await;
    let viewer = app.viewer().await;
    seed_person(&app.state).await;
    for path in ["/api/gdpr/export", "/api/gdpr/purge"] {
        for (body, fields) in [
            (json!({"agent_id": 0}), vec!["agent_id"]),
            (json!({"agent_id": 3, "names": ["Al"]}), vec!["names[0]"]),
            (
                json!({"agent_id": 3, "emails": ["not-an-address"]}),
                vec!["emails[0]"],
            ),
            (json!({"agent_id": 3, "phone": "123"}), vec!["body"]),
            (json!({"emails": ["a@b.example"]}), vec!["body"]),
        ] {
            let reply = app
                .call(Method::POST, path, Some(&admin), Some(body.clone()))
                .await;
            reply.assert_problem(StatusCode::BAD_REQUEST);
            assert_eq!(
                reply.error_fields(),
                fields,
                "{path} {body}: {}",
                reply.text
            );
        }
        app.call(Method::POST, path, Some(&viewer), Some(subject()))
            .await
            .assert_problem(StatusCode::FORBIDDEN);
        app.call(Method::POST, path, None, Some(subject()))
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }
    assert!(names_person(&dump(&app).await), "nothing was purged");
}

#[tokio::test]
async fn zammad_down_still_exports_with_the_given_identifiers() {
    let app = App::start().await;
    let admin = app.admin().await;
    seed_person(&app.state).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let put = app
        .call(
            Method::PUT,
            "/api/connections/zammad",
            Some(&admin),
            Some(json!({"base_url": gone, "time_unit": {"unit": "minutes"},
                        "default_zone": "Europe/Berlin", "token": ZAMMAD_TOKEN})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let reply = app
        .call(
            Method::POST,
            "/api/gdpr/export",
            Some(&admin),
            Some(subject()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(
        reply.json["subject"]["zammad_lookup"]
            .as_str()
            .unwrap()
            .starts_with("failed")
    );
    assert_eq!(reply.json["entries"].as_array().unwrap().len(), 2);
    assert_eq!(reply.json["audit"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn purge_removes_the_dead_letters_about_the_person_from_their_records_and_the_queues() {
    use sync_core::plan::Operation;
    use sync_store::control::{DeadLetterRecord, OperationId};
    use sync_store::queue::{KimaiWriteMessage, MessageQueue, encode};
    use test_support::records::desired;
    let app = App::start().await;
    let admin = app.admin().await;
    seed_person(&app.state).await;
    let day = app.clock.now().date_naive();
    let write = |op: &str, ticket: u64, accounting: u64, agent: u64| {
        encode(&KimaiWriteMessage::new(
            OperationId(op.into()),
            TicketId(ticket),
            None,
            Operation::Create {
                desired: desired(ticket, accounting, agent, day),
            },
        ))
    };
    // A write of their timesheet (it names them by agent id only), a body with their address,
    // and a colleague's write: each in its DLQ with its record, as a consumer leaves them.
    let theirs = write("op-1", 50, 1, PERSON_ID);
    let colleague = write("op-2", 51, 3, 4);
    let mentioning = format!(r#"{{"note":"{}"}}"#, PERSON_EMAIL);
    let mut kept = Vec::new();
    for (queue, body) in [
        ("kimai-write", &theirs),
        ("kimai-write", &colleague),
        ("ticket-sync", &mentioning),
    ] {
        let id = match queue {
            "kimai-write" => app.kimai_write_dlq.send_raw(body).await.unwrap(),
            _ => app.ticket_sync_dlq.send_raw(body).await.unwrap(),
        };
        let record = DeadLetterRecord {
            queue: queue.into(),
            message_id: id.clone(),
            body: body.clone(),
            error: "Kimai answered 500".into(),
            failed_at: app.clock.now(),
        };
        app.control.put_dead_letter(&record).await.unwrap();
        if body == &colleague {
            kept.push(id);
        }
    }

    let export = app
        .call(
            Method::POST,
            "/api/gdpr/export",
            Some(&admin),
            Some(subject()),
        )
        .await;
    assert_eq!(export.json["dead_letters"].as_array().unwrap().len(), 2);

    let job = app.purge(&admin, subject()).await;
    assert_eq!(
        job["counts"]["dead_letters"], 4,
        "two records, two messages"
    );
    assert_eq!(
        app.kimai_write_dlq.waiting_bodies(),
        std::slice::from_ref(&colleague)
    );
    assert!(app.ticket_sync_dlq.waiting_bodies().is_empty());
    let left: Vec<String> = app
        .control
        .dead_letters("kimai-write", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.message_id)
        .collect();
    assert_eq!(left, kept, "the colleague's record stays");
    assert!(
        app.control
            .dead_letters("ticket-sync", 10)
            .await
            .unwrap()
            .is_empty()
    );
}
