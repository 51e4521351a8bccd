//! The kimai-writer handler on an SQS event file, with in-memory stores and the real Kimai
//! simulator.

use aws_lambda_events::event::sqs::SqsEvent;
use kimai_sim::{FaultKind, FaultRule, RouteFaults};
use std::sync::Arc;
use sync_service::connections::Connections;
use sync_service::outage;
use sync_service::writer::WriterCache;
use sync_store::clock::SystemClock;
use sync_store::control::ControlStore;
use sync_store::queue::{KimaiWriteMessage, Waiting};
use test_support::datasets::kimai::{ACME_TOKEN, acme_one_activity};
use test_support::pipeline::save_kimai_connection;
use test_support::sims::{self, RunningKimai};
use test_support::stores::{MemoryStores, audit_today_of};

fn event(name: &str) -> SqsEvent {
    let path = format!("{}/tests/events/writer/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("event file");
    serde_json::from_str(&text).expect("an SQS event")
}

/// The API user `sync` lives in UTC, Anna (user 2) in Europe/Berlin.
async fn setup(configured: bool) -> (RunningKimai, sync_lambda::writer::Deps, MemoryStores) {
    let kimai = sims::kimai(1, acme_one_activity()).await;
    let stores = MemoryStores::new();
    if configured {
        save_kimai_connection(stores.control.as_ref(), &kimai).await;
        stores.secrets.set("kimai-secret", ACME_TOKEN);
    }
    let deps = sync_lambda::writer::Deps {
        stores: stores.sync_stores_on(Arc::new(SystemClock)),
        connections: Connections::new(
            stores.control.clone(),
            stores.secrets.clone(),
            None,
            Some("kimai-secret".into()),
        ),
        holder: "writer-test".into(),
        concurrency: sync_lambda::writer::CONCURRENCY,
        max_receive_count: 5,
        cache: Arc::new(WriterCache::new()),
        queue: stores.kimai_write.clone(),
    };
    (kimai, deps, stores)
}

#[tokio::test]
async fn a_create_is_written_once_and_undecodable_records_fail() {
    let (kimai, deps, _) = setup(true).await;
    let response = sync_lambda::writer::handle(&deps, event("kimai_write_batch.json"), None).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        vec![
            "7c3f9a10-0002-4e5d-b6a7-000000000002",
            "7c3f9a10-0003-4e5d-b6a7-000000000003"
        ]
    );
    let sheets = kimai.admin().timesheets();
    assert_eq!(sheets.len(), 1);
    assert_eq!(sheets[0].user, 2);
    assert_eq!(sheets[0].begin, "2026-03-02T10:30:00+0100");
    assert_eq!(sheets[0].tags, vec!["zammad".to_owned()]);

    // SQS delivers the same batch again: the create is done, nothing new in Kimai.
    let again = sync_lambda::writer::handle(&deps, event("kimai_write_batch.json"), None).await;
    assert_eq!(again.batch_item_failures.len(), 2);
    assert_eq!(kimai.admin().timesheets().len(), 1);
    assert_eq!(kimai.admin().call_count("POST /api/timesheets"), 1);
}

#[tokio::test]
async fn without_kimai_settings_every_record_goes_back_to_the_queue() {
    let (kimai, deps, _) = setup(false).await;
    let response = sync_lambda::writer::handle(&deps, event("kimai_write_batch.json"), None).await;
    assert_eq!(response.batch_item_failures.len(), 3);
    assert!(kimai.admin().timesheets().is_empty());
}

#[tokio::test]
async fn failures_on_the_last_delivery_are_audited_as_dead_letters() {
    let (_kimai, deps, _) = setup(true).await;
    let mut last = event("kimai_write_batch.json");
    for r in &mut last.records {
        r.attributes
            .insert("ApproximateReceiveCount".into(), "5".into());
    }
    let response = sync_lambda::writer::handle(&deps, last, None).await;
    assert_eq!(response.batch_item_failures.len(), 2);
    let dead = audit_today_of(deps.stores.audit.as_ref(), "message.dead_letter").await;
    assert_eq!(dead.len(), 2, "the two undecodable records");

    // On an earlier delivery a failure is no dead letter yet.
    let (_kimai, deps, _) = setup(true).await;
    sync_lambda::writer::handle(&deps, event("kimai_write_batch.json"), None).await;
    let none = audit_today_of(deps.stores.audit.as_ref(), "message.dead_letter").await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn the_deployed_max_receive_count_decides_the_last_delivery() {
    // The local stack deploys maxReceiveCount 3: delivery 3 is the last one there.
    let (_kimai, mut deps, _) = setup(true).await;
    deps.max_receive_count = 3;
    let dead_letters = |deps: &sync_lambda::writer::Deps| {
        let audit = deps.stores.audit.clone();
        async move {
            audit_today_of(audit.as_ref(), "message.dead_letter")
                .await
                .len()
        }
    };
    let delivery = |count: &str| {
        let mut e = event("kimai_write_batch.json");
        for r in &mut e.records {
            r.attributes
                .insert("ApproximateReceiveCount".into(), count.into());
        }
        e
    };
    sync_lambda::writer::handle(&deps, delivery("2"), None).await;
    assert_eq!(dead_letters(&deps).await, 0, "delivery 2 of 3 is retried");
    sync_lambda::writer::handle(&deps, delivery("3"), None).await;
    assert_eq!(dead_letters(&deps).await, 2, "the two undecodable records");
}

/// An event of `count` creates for Anna on ticket 10 (accountings `first..first+count`, one
/// hour apart), made from the first record of the event file.
fn creates(first: u64, count: u64) -> SqsEvent {
    let mut e = event("kimai_write_batch.json");
    let template = e.records[0].clone();
    e.records = (first..first + count)
        .map(|ta| {
            let mut body: serde_json::Value =
                serde_json::from_str(template.body.as_deref().unwrap()).unwrap();
            let hour = ta - first;
            body["operation_id"] = format!("op-create-{ta}").into();
            let d = &mut body["operation"]["desired"];
            d["key"] = format!("ta:{ta}").into();
            d["accounting_ids"] = serde_json::json!([ta]);
            d["begin"] = format!("2026-03-03T{:02}:00:00", 8 + hour).into();
            d["end"] = format!("2026-03-03T{:02}:30:00", 8 + hour).into();
            d["begin_utc"] = format!("2026-03-03T{:02}:00:00Z", 7 + hour).into();
            d["end_utc"] = format!("2026-03-03T{:02}:30:00Z", 7 + hour).into();
            d["description"] = format!("[zammad:ta={ta}] #31010 Printer jam").into();
            let mut record = template.clone();
            record.message_id = Some(format!("m-{ta}"));
            record.body = Some(body.to_string());
            record
        })
        .collect();
    e
}

#[tokio::test]
async fn a_warm_instance_looks_the_api_user_and_tags_up_once_across_invocations() {
    let (kimai, deps, _) = setup(true).await;
    let first = sync_lambda::writer::handle(&deps, creates(200, 4), None).await;
    assert!(first.batch_item_failures.is_empty());
    let second = sync_lambda::writer::handle(&deps, creates(300, 4), None).await;
    assert!(second.batch_item_failures.is_empty());

    let sheets = kimai.admin().timesheets();
    assert_eq!(sheets.len(), 8);
    assert!(sheets.iter().all(|s| s.tags == vec!["zammad".to_owned()]));
    let calls = |route: &str| kimai.admin().call_count(route);
    assert_eq!(calls("POST /api/timesheets"), 8);
    assert_eq!(
        calls("GET /api/users/me"),
        1,
        "one lookup for both invocations"
    );
    assert_eq!(
        calls("GET /api/tags/find"),
        1,
        "one lookup for both invocations"
    );
    assert_eq!(calls("POST /api/tags"), 1);
    assert_eq!(
        deps.cache.locked_keys(),
        0,
        "no key lock outlives its write"
    );
}

/// The ids of the records the handler gave back to SQS.
fn failed_ids(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn while_kimai_is_down_an_operation_waits_in_its_queue_instead_of_burning_deliveries() {
    let (kimai, deps, stores) = setup(true).await;
    let undecodable = [
        "7c3f9a10-0002-4e5d-b6a7-000000000002",
        "7c3f9a10-0003-4e5d-b6a7-000000000003",
    ];
    // Kimai's server is down behind its proxy: every create answers 503.
    kimai.admin().set_faults(
        "POST /api/timesheets",
        RouteFaults {
            latency_ms: 0,
            rules: vec![FaultRule {
                kind: FaultKind::Error {
                    statuses: vec![503],
                },
                probability: 1.0,
                times: None,
                skip: 0,
            }],
        },
    );
    let response = sync_lambda::writer::handle(&deps, event("kimai_write_batch.json"), None).await;
    assert_eq!(
        failed_ids(&response),
        undecodable,
        "the create is not handed back to SQS: it waits"
    );
    let waiting = stores.kimai_write.delayed_bodies();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].0, std::time::Duration::from_secs(30));
    let message: KimaiWriteMessage = serde_json::from_str(&waiting[0].1).unwrap();
    assert_eq!(message.waiting.unwrap().times, 1);
    let outage = stores
        .control
        .get_outage(outage::KIMAI)
        .await
        .unwrap()
        .unwrap();
    assert!(outage.detail.contains("503"), "{}", outage.detail);

    // One failure is no outage yet: delivered again, the record tries Kimai, fails, waits.
    let again = sync_lambda::writer::handle(&deps, event("kimai_write_batch.json"), None).await;
    assert_eq!(failed_ids(&again), undecodable);
    assert_eq!(kimai.admin().call_count("POST /api/timesheets"), 2);
    assert_eq!(stores.kimai_write.delayed_bodies().len(), 2);

    // Other instances failed too, with no answer in between: the circuit is open, Kimai is not
    // called, the record waits.
    for _ in 2..outage::OPEN_AFTER_FAILURES {
        stores
            .control
            .record_outage(outage::KIMAI, chrono::Utc::now(), "503")
            .await
            .unwrap();
    }
    let third = sync_lambda::writer::handle(&deps, event("kimai_write_batch.json"), None).await;
    assert_eq!(failed_ids(&third), undecodable);
    assert_eq!(kimai.admin().call_count("POST /api/timesheets"), 2);
    assert_eq!(stores.kimai_write.delayed_bodies().len(), 3);

    // The message that waited comes back after its delay, once Kimai is up and the circuit
    // lets a record try: it is written once, and the outage ends.
    kimai.admin().clear_faults();
    let long_ago = chrono::Utc::now() - chrono::Duration::minutes(2);
    stores
        .control
        .record_outage(outage::KIMAI, long_ago, "503")
        .await
        .unwrap();
    let mut back = event("kimai_write_batch.json");
    back.records.truncate(1);
    back.records[0].body = Some(waiting[0].1.clone());
    let response = sync_lambda::writer::handle(&deps, back, None).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(kimai.admin().timesheets().len(), 1);
    assert_eq!(
        stores.control.get_outage(outage::KIMAI).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_message_that_waited_too_long_takes_the_usual_retries() {
    let (kimai, deps, stores) = setup(true).await;
    kimai.admin().set_faults(
        "POST /api/timesheets",
        RouteFaults {
            latency_ms: 0,
            rules: vec![FaultRule {
                kind: FaultKind::Error {
                    statuses: vec![502],
                },
                probability: 1.0,
                times: None,
                skip: 0,
            }],
        },
    );
    let mut batch = event("kimai_write_batch.json");
    batch.records.truncate(1);
    let mut message: KimaiWriteMessage =
        serde_json::from_str(batch.records[0].body.as_deref().unwrap()).unwrap();
    message.waiting = Some(Waiting {
        since: chrono::Utc::now() - outage::MAX_WAIT - chrono::Duration::minutes(1),
        times: 12,
    });
    batch.records[0].body = Some(serde_json::to_string(&message).unwrap());
    let id = batch.records[0].message_id.clone().unwrap();
    let response = sync_lambda::writer::handle(&deps, batch, None).await;
    assert_eq!(
        failed_ids(&response),
        [id.as_str()],
        "back to SQS, towards the DLQ"
    );
    assert!(stores.kimai_write.delayed_bodies().is_empty());
}
