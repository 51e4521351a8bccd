//! Auto-create of Kimai customers and projects during reconcile, against the real simulators.

use serde_json::{Value, json};
use sync_core::ids::CustomerId;
use sync_core::needed_action::NeededAction;
use sync_core::plan::ConflictReason;
use sync_service::autocreate::{AutoCreated, find_or_create};
use sync_store::audit::{AuditFilter, AuditLog};
use test_support::datasets::{kimai::acme_two_activities, zammad::printer_jam_two_accountings};
use test_support::pipeline::{Harness, TICKET, kimai_client};

/// The harness's Kimai, with (or without) the permissions to create customers and projects.
fn kimai_data(may_create: bool, extra: impl FnOnce(&mut Value)) -> kimai_sim::Dataset {
    let mut json: Value = serde_json::to_value(acme_two_activities()).expect("dataset json");
    if may_create {
        let perms = json["users"][0]["permissions"].as_array_mut().unwrap();
        perms.push(json!("create_customer"));
        perms.push(json!("create_project"));
    }
    extra(&mut json);
    kimai_sim::Dataset::from_json(&json.to_string()).expect("kimai dataset")
}

/// The harness's Zammad, with the organisation renamed.
fn zammad_data(org_name: &str) -> zammad_sim::dataset::Dataset {
    let mut json: Value =
        serde_json::to_value(printer_jam_two_accountings()).expect("dataset json");
    json["organisations"][0]["name"] = json!(org_name);
    zammad_sim::dataset::Dataset::from_json(&json.to_string()).expect("zammad dataset")
}

fn per_ticket(auto_create: &str) -> Value {
    json!({
        "mappings": {
            "activity_by_type": {"1": 1},
            "default_activity": 2,
            "can_book_for_others": true,
            "project_strategy": {"strategy": "per_ticket"},
            "customer_auto_create": auto_create
        }
    })
}

async fn audited(h: &Harness, action: &str) -> Vec<Value> {
    let today = chrono::Utc::now().date_naive();
    h.audit
        .query(
            today,
            today,
            &AuditFilter {
                action: Some(action.into()),
                ..Default::default()
            },
            &sync_store::PageRequest::first(50),
        )
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|e| e.event.detail)
        .collect()
}

fn projects_named(h: &Harness, name: &str) -> Vec<kimai_sim::ProjectRecord> {
    h.kimai
        .admin()
        .projects()
        .into_iter()
        .filter(|p| p.name == name)
        .collect()
}

#[tokio::test]
async fn one_project_per_ticket_is_created_once_and_the_time_lands_on_it() {
    let h = Harness::start_with(
        printer_jam_two_accountings(),
        kimai_data(true, |_| {}),
        per_ticket("on"),
    )
    .await;
    let report = h.reconcile(TICKET).await.expect("reconcile");
    assert_eq!(report.creates, 2, "{report:?}");
    assert!(report.needed_actions.is_empty(), "{report:?}");
    assert_eq!(h.kimai_calls("POST /api/projects"), 1);
    let created = projects_named(&h, "Ticket-31010");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].number.as_deref(), Some("TID-10"));
    assert_eq!(created[0].customer, 1);

    for r in h.run_writer().await {
        r.expect("write");
    }
    let sheets = h.kimai_sheets();
    assert_eq!(sheets.len(), 2);
    assert!(
        sheets.iter().all(|s| s.project == created[0].id),
        "{sheets:?}"
    );
    let audits = audited(&h, "kimai.record_created").await;
    assert_eq!(audits.len(), 1, "{audits:?}");
    assert_eq!(audits[0]["kimai_id"], json!(created[0].id));

    // A second reconcile (a new invocation) finds the project in the catalog.
    let again = h.reconcile(TICKET).await.expect("second reconcile");
    assert!(again.auto_created.is_empty(), "{again:?}");
    assert_eq!(again.creates, 0);
    assert_eq!(h.kimai_calls("POST /api/projects"), 1);
    assert_eq!(projects_named(&h, "Ticket-31010").len(), 1);
}

#[tokio::test]
async fn a_missing_customer_is_created_then_its_project_in_the_same_run() {
    let kimai = kimai_data(true, |j| {
        j["customers"] = json!([]);
        j["projects"] = json!([]);
    });
    let h = Harness::start_with(zammad_data("Globex"), kimai, per_ticket("on")).await;
    let report = h.reconcile(TICKET).await.expect("reconcile");
    assert_eq!(report.creates, 2, "{report:?}");
    let kinds: Vec<_> = report
        .auto_created
        .iter()
        .map(|(a, o)| (matches!(a, NeededAction::CreateCustomer { .. }), o.clone()))
        .collect();
    assert!(
        matches!(
            kinds[..],
            [
                (true, AutoCreated::Created { .. }),
                (false, AutoCreated::Created { .. })
            ]
        ),
        "{kinds:?}"
    );
    let customers = h.kimai.admin().customers();
    let projects = h.kimai.admin().projects();
    assert_eq!(customers.len(), 1);
    assert_eq!(
        (customers[0].name.as_str(), customers[0].number.as_deref()),
        ("Globex", Some("OID-1"))
    );
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].customer, customers[0].id);
    for r in h.run_writer().await {
        r.expect("write");
    }
    assert!(h.kimai_sheets().iter().all(|s| s.project == projects[0].id));
}

#[tokio::test]
async fn an_existing_project_with_the_number_is_reused() {
    let kimai = kimai_data(true, |j| {
        j["projects"].as_array_mut().unwrap().push(
            json!({"id": 7, "customer": 1, "name": "Printer (old name)", "number": "TID-10"}),
        );
    });
    let h = Harness::start_with(printer_jam_two_accountings(), kimai, per_ticket("on")).await;
    let report = h.reconcile(TICKET).await.expect("reconcile");
    assert_eq!(report.creates, 2, "{report:?}");
    assert_eq!(h.kimai_calls("POST /api/projects"), 0);
    for r in h.run_writer().await {
        r.expect("write");
    }
    assert!(h.kimai_sheets().iter().all(|s| s.project == 7));
}

#[tokio::test]
async fn a_record_made_after_the_catalog_was_read_is_found_not_created_again() {
    let h = Harness::start_with(
        printer_jam_two_accountings(),
        kimai_data(true, |_| {}),
        per_ticket("on"),
    )
    .await;
    let kimai = kimai_client(&h.kimai);
    let action = NeededAction::CreateProject {
        customer: CustomerId(1),
        name: "Ticket-31010".into(),
        number: Some("TID-10".into()),
    };
    let zone = chrono_tz::Europe::Berlin;
    let first = find_or_create(&kimai, zone, &action).await.expect("create");
    let AutoCreated::Created { id } = first else {
        panic!("{first:?}")
    };
    // The retry (or a concurrent reconcile) looks up by number first.
    let second = find_or_create(&kimai, zone, &action).await.expect("find");
    assert_eq!(second, AutoCreated::Found { id });
    assert_eq!(h.kimai_calls("POST /api/projects"), 1);
}

#[tokio::test]
async fn a_customer_kimai_refuses_becomes_a_conflict_with_its_message() {
    // Kimai wants customer names of at least 2 characters.
    let kimai = kimai_data(true, |j| {
        j["customers"] = json!([]);
        j["projects"] = json!([]);
    });
    let h = Harness::start_with(zammad_data("X"), kimai, per_ticket("on")).await;
    let report = h
        .reconcile(TICKET)
        .await
        .expect("a refusal is not an error");
    assert_eq!(report.creates, 0);
    assert_eq!(h.kimai_calls("POST /api/customers"), 1);
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 2, "{open:?}");
    for c in &open {
        assert_eq!(c.conflict.reason, ConflictReason::UnmappedCustomer);
        assert!(
            c.conflict
                .detail
                .contains("Kimai refused to create Kimai customer \"X\""),
            "{}",
            c.conflict.detail
        );
        assert!(
            c.conflict.detail.contains("too short"),
            "{}",
            c.conflict.detail
        );
    }
    assert_eq!(audited(&h, "kimai.record_refused").await.len(), 1);
    assert!(h.queued().is_empty());
}

#[tokio::test]
async fn a_project_without_the_permission_becomes_a_conflict() {
    let h = Harness::start_with(
        printer_jam_two_accountings(),
        kimai_data(false, |_| {}),
        per_ticket("on"),
    )
    .await;
    h.reconcile(TICKET).await.expect("a 403 is not an error");
    assert_eq!(h.kimai_calls("POST /api/projects"), 1);
    let open = h.open_conflicts().await;
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(
        open.iter()
            .all(|c| c.conflict.reason == ConflictReason::UnmappedProject
                && c.conflict.detail.contains("403")),
        "{open:?}"
    );
}

#[tokio::test]
async fn with_auto_create_off_nothing_is_created() {
    let h = Harness::start_with(
        printer_jam_two_accountings(),
        kimai_data(true, |_| {}),
        per_ticket("off"),
    )
    .await;
    let report = h.reconcile(TICKET).await.expect("reconcile");
    assert_eq!(report.creates, 0);
    assert!(report.auto_created.is_empty());
    assert!(report.needed_actions.is_empty(), "{report:?}");
    // The missing project is shown to a human, not left waiting silently.
    let open = h.open_conflicts().await;
    assert!(!open.is_empty(), "{report:?}");
    assert!(
        open.iter()
            .all(|c| c.conflict.reason == ConflictReason::UnmappedProject
                && c.conflict.detail.contains("switch auto-create on")),
        "{open:?}"
    );
    assert_eq!(h.kimai_calls("POST /api/projects"), 0);
    assert_eq!(h.kimai_calls("POST /api/customers"), 0);
    assert!(h.queued().is_empty());
}

#[tokio::test]
async fn a_dry_run_creates_nothing() {
    let h = Harness::start_with(
        printer_jam_two_accountings(),
        kimai_data(true, |_| {}),
        per_ticket("on"),
    )
    .await;
    let mut message = sync_store::queue::TicketSyncMessage::new(
        TICKET,
        sync_store::queue::SyncReason::Manual,
        None,
    );
    message.dry_run = true;
    let report = h.reconcile_message(&message).await.expect("dry run");
    assert_eq!(report.needed_actions.len(), 1, "{report:?}");
    assert_eq!(h.kimai_calls("POST /api/projects"), 0);
}
