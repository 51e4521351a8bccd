//! The contract tests against the AWS adapters, on the local emulator (MiniStack).
//!
//! These run in `make test`, which starts the emulator and sets `AWS_ENDPOINT_URL`. Run by
//! hand: `infra/local-aws/with-emulator.sh cargo nextest run -p sync-store`. Without the
//! variable they fail and say so: they never talk to a real AWS account.
//! Every test creates its own resources under a random prefix, so tests run in parallel.

#[macro_use]
mod contract;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use std::sync::Arc;
use sync_store::audit::AuditRetention;
use sync_store::aws::provision::{self, create_queue, create_table, put_secret};
use sync_store::aws::*;
use sync_store::queue::{KimaiWriteMessage, TicketSyncMessage};
use sync_store::schema::{self, TableDef};

async fn aws_config() -> aws_config::SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://localhost:"),
        "AWS_ENDPOINT_URL must point at the local emulator (got {endpoint:?}). Start it and run \
         the tests through `make test`, or `infra/local-aws/with-emulator.sh cargo nextest run \
         -p sync-store`."
    );
    load_config().await
}

/// A random prefix for this test's resources.
fn unique(name: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("t{}-{name}", &id[..10])
}

async fn table(def: &TableDef) -> (aws_sdk_dynamodb::Client, String) {
    let client = aws_sdk_dynamodb::Client::new(&aws_config().await);
    let name = unique(def.logical);
    create_table(&client, def, &name)
        .await
        .expect("create test table");
    (client, name)
}

async fn entries() -> DynamoEntries {
    let (client, name) = table(&schema::entries::TABLE).await;
    DynamoEntries::new(client, name)
}
async fn conflicts() -> DynamoConflicts {
    let (client, name) = table(&schema::conflicts::TABLE).await;
    DynamoConflicts::new(client, name)
}
async fn audit() -> DynamoAuditLog {
    let (client, name) = table(&schema::audit::TABLE).await;
    DynamoAuditLog::new(client, name, AuditRetention::default())
}
async fn control() -> DynamoControl {
    let (client, name) = table(&schema::control::TABLE).await;
    DynamoControl::new(client, name)
}
async fn queue<M: sync_store::queue::QueueMessage>(def: &schema::QueueDef) -> SqsQueue<M> {
    let client = aws_sdk_sqs::Client::new(&aws_config().await);
    let urls = create_queue(&client, def, &unique(def.logical))
        .await
        .expect("create test queue");
    SqsQueue::new(client, urls.url)
}
async fn ticket_queue() -> SqsQueue<TicketSyncMessage> {
    queue(&schema::TICKET_SYNC_QUEUE).await
}
async fn write_queue() -> SqsQueue<KimaiWriteMessage> {
    queue(&schema::KIMAI_WRITE_QUEUE).await
}
/// The dead-letter queue of a new `ticket-sync` queue (no redrive policy of its own).
async fn dead_letter_queue() -> SqsQueue<TicketSyncMessage> {
    let client = aws_sdk_sqs::Client::new(&aws_config().await);
    let urls = create_queue(&client, &schema::TICKET_SYNC_QUEUE, &unique("ticket-sync"))
        .await
        .expect("create test queue");
    SqsQueue::new(client, urls.dlq_url)
}
/// A queue URL on the emulator where no queue exists: every send fails.
async fn broken_ticket_queue() -> Arc<dyn sync_store::queue::MessageQueue<TicketSyncMessage>> {
    let client = aws_sdk_sqs::Client::new(&aws_config().await);
    let real = create_queue(&client, &schema::TICKET_SYNC_QUEUE, &unique("gone"))
        .await
        .expect("create test queue");
    client
        .delete_queue()
        .queue_url(&real.url)
        .send()
        .await
        .expect("delete test queue");
    Arc::new(SqsQueue::new(client, real.url))
}
async fn schedule() -> SchedulerSchedule {
    let client = aws_sdk_scheduler::Client::new(&aws_config().await);
    SchedulerSchedule::new(
        client,
        ScheduleTarget {
            name: unique("sync"),
            group: "default".into(),
            target_arn: "arn:aws:lambda:us-east-1:000000000000:function:scheduled-fetch".into(),
            role_arn: "arn:aws:iam::000000000000:role/sync-scheduler".into(),
        },
    )
}

struct Admin(aws_sdk_secretsmanager::Client);

#[async_trait]
impl contract::SecretAdmin for Admin {
    async fn put(&self, id: &str, value: &str) {
        put_secret(&self.0, id, value)
            .await
            .expect("write test secret");
    }
}

async fn secrets() -> (Arc<SecretsManagerSource>, Admin, String) {
    let client = aws_sdk_secretsmanager::Client::new(&aws_config().await);
    (
        Arc::new(SecretsManagerSource::new(client.clone())),
        Admin(client),
        unique("zammad-token"),
    )
}

contract_tests!();

#[tokio::test]
async fn secret_writer_creates_and_rotates() {
    let (source, _admin, id) = secrets().await;
    contract::secret_writer_creates_and_rotates(source, &format!("{id}-written")).await;
}

// ------------------------------------------------------------------ AWS-only checks

/// An edit of the schedule keeps what the template gave its target: the incremental payload
/// and no retries (UpdateSchedule replaces the whole target).
#[tokio::test]
async fn a_schedule_edit_keeps_the_payload_and_the_retry_policy() {
    let client = aws_sdk_scheduler::Client::new(&aws_config().await);
    let name = unique("sync");
    let schedule = SchedulerSchedule::new(
        client.clone(),
        ScheduleTarget {
            name: name.clone(),
            group: "default".into(),
            target_arn: "arn:aws:lambda:us-east-1:000000000000:function:scheduled-fetch".into(),
            role_arn: "arn:aws:iam::000000000000:role/sync-scheduler".into(),
        },
    );
    for enabled in [true, false] {
        let settings = sync_store::schedule::ScheduleSettings {
            cron: "0/15 7-18 ? * MON-FRI *".into(),
            time_zone: "Europe/Berlin".into(),
            enabled,
        };
        sync_store::schedule::ScheduleStore::put_schedule(&schedule, &settings)
            .await
            .unwrap();
        let raw = client
            .get_schedule()
            .name(&name)
            .send()
            .await
            .expect("read the schedule back");
        let target = raw.target.expect("a target");
        assert_eq!(target.input.as_deref(), Some(SCHEDULED_INPUT));
        assert_eq!(
            target.retry_policy.and_then(|r| r.maximum_retry_attempts),
            Some(SCHEDULED_RETRY_ATTEMPTS)
        );
    }
}

/// The audit table really has TTL on, and each item carries the expiry in epoch seconds.
#[tokio::test]
async fn audit_items_carry_the_ttl_attribute() {
    use sync_store::audit::{AuditEvent, AuditKind, AuditLog};
    let (client, name) = table(&schema::audit::TABLE).await;
    let log = DynamoAuditLog::new(client.clone(), name.clone(), AuditRetention::default());
    let at = contract::data::now();
    let event = AuditEvent {
        at,
        kind: AuditKind::Access,
        action: "login".into(),
        actor: "alice".into(),
        ip: None,
        detail: serde_json::Value::Null,
    };
    let record = log.append(&event).await.unwrap();

    let ttl = client
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description.expect("TTL description");
    assert_eq!(
        description.attribute_name.as_deref(),
        Some(schema::TTL_ATTRIBUTE)
    );
    assert_eq!(
        description.time_to_live_status,
        Some(TimeToLiveStatus::Enabled)
    );

    let item = client
        .get_item()
        .table_name(&name)
        .key("day", AttributeValue::S(at.date_naive().to_string()))
        .key("id", AttributeValue::S(record.id.clone()))
        .send()
        .await
        .unwrap()
        .item
        .expect("item stored");
    let expected = (at + chrono::Duration::days(90)).timestamp().to_string();
    assert_eq!(
        item.get(schema::TTL_ATTRIBUTE),
        Some(&AttributeValue::N(expected))
    );
}

/// Claims and deliveries in the control table expire through TTL too.
#[tokio::test]
async fn control_items_carry_the_ttl_attribute() {
    use sync_store::control::ControlStore;
    let (client, name) = table(&schema::control::TABLE).await;
    let store = DynamoControl::new(client.clone(), name.clone());
    let now = contract::data::now();
    store
        .record_delivery("d-9", chrono::Duration::hours(24), now)
        .await
        .unwrap();
    let item = client
        .get_item()
        .table_name(&name)
        .key("pk", AttributeValue::S("delivery#d-9".into()))
        .key("sk", AttributeValue::S("delivery".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("item stored");
    let expected = (now + chrono::Duration::hours(24)).timestamp().to_string();
    assert_eq!(
        item.get(schema::TTL_ATTRIBUTE),
        Some(&AttributeValue::N(expected))
    );
}

/// A table that does not exist is a configuration fault, not a retry.
#[tokio::test]
async fn missing_table_is_not_found() {
    use sync_store::entries::EntriesStore;
    let client = aws_sdk_dynamodb::Client::new(&aws_config().await);
    let store = DynamoEntries::new(client, unique("absent"));
    let err = store
        .load_ticket(sync_core::ids::TicketId(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, sync_store::StoreError::NotFound(_)),
        "got {err:?}"
    );
    assert!(!err.is_retryable());
}

/// The queues are created with a dead-letter queue and the receive limit of the schema.
#[tokio::test]
async fn queues_redrive_to_their_dlq() {
    use aws_sdk_sqs::types::QueueAttributeName;
    let client = aws_sdk_sqs::Client::new(&aws_config().await);
    let name = unique("ticket-sync");
    let urls = create_queue(&client, &schema::TICKET_SYNC_QUEUE, &name)
        .await
        .unwrap();
    assert!(urls.dlq_url.ends_with(&format!("{name}-dlq")));
    let url = urls.url;
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let redrive: serde_json::Value = serde_json::from_str(
        attrs
            .get(&QueueAttributeName::RedrivePolicy)
            .expect("redrive policy"),
    )
    .unwrap();
    assert!(
        redrive["deadLetterTargetArn"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{name}-dlq"))
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );
}

/// A page token that this store did not issue is the caller's fault.
#[tokio::test]
async fn foreign_page_token_is_invalid() {
    use sync_store::entries::{EntriesStore, EntryStatus};
    use sync_store::{PageRequest, PageToken, StoreError};
    let store = entries().await;
    for token in ["not hex", "7b7d7b", "5b315d"] {
        let request = PageRequest::next(10, PageToken(token.into()));
        let err = store
            .list_by_status(EntryStatus::Pending, &request)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{token}: {err:?}");
    }
}

// ---------------------------------------------------------------- the event bus

async fn bus_with_tap() -> (EventBridgeBus, provision::BusTap, aws_sdk_sqs::Client) {
    let config = aws_config().await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let tap = provision::create_bus_with_tap(&events, &sqs, &unique("bus"))
        .await
        .expect("create the bus and its tap");
    (EventBridgeBus::new(events, &tap.bus), tap, sqs)
}

fn bus_event(n: usize) -> sync_store::events::BusEvent {
    sync_store::events::BusEvent {
        detail_type: if n % 2 == 0 {
            "SyncRun Finished".into()
        } else {
            "Conflict Opened".into()
        },
        detail: serde_json::json!({"version": 1, "n": n}),
    }
}

#[tokio::test]
async fn eventbridge_bus_publishes_more_than_one_call_takes_and_a_rule_matches_each() {
    use sync_store::events::EventBus;
    let (bus, tap, sqs) = bus_with_tap().await;
    // PutEvents takes ten entries a call; the emulator refuses more, as AWS does.
    let sent: Vec<_> = (0..23).map(bus_event).collect();
    bus.publish(&sent).await.expect("publish");
    let mut got = tap.drain(&sqs).await.expect("drain");
    got.sort_by_key(|e| e["detail"]["n"].as_u64());
    assert_eq!(got.len(), 23);
    for (event, want) in got.iter().zip(&sent) {
        assert_eq!(event["source"], "zammad-kimai-sync");
        assert_eq!(event["detail-type"], want.detail_type.as_str());
        assert_eq!(event["detail"], want.detail);
    }
}

#[tokio::test]
async fn eventbridge_bus_refuses_an_event_over_256_kb_before_sending_anything() {
    use sync_store::events::EventBus;
    let (bus, tap, sqs) = bus_with_tap().await;
    let mut big = bus_event(0);
    big.detail = serde_json::json!({"version": 1, "text": "x".repeat(300 * 1024)});
    let err = bus.publish(&[bus_event(1), big]).await.unwrap_err();
    assert!(
        matches!(&err, sync_store::StoreError::Invalid(m) if m.contains("SyncRun Finished")),
        "{err}"
    );
    assert!(tap.drain(&sqs).await.unwrap().is_empty());
}

#[tokio::test]
async fn eventbridge_bus_that_refuses_the_entries_is_an_error() {
    use sync_store::events::EventBus;
    let config = aws_config().await;
    // The call itself succeeds; each entry comes back failed (a bus of another account: not
    // found), is sent again, and after the last round the error names it.
    let bus = EventBridgeBus::new(
        aws_sdk_eventbridge::Client::new(&config),
        format!(
            "arn:aws:events:us-east-1:111111111111:event-bus/{}",
            unique("elsewhere")
        ),
    );
    let err = bus.publish(&[bus_event(0)]).await.unwrap_err();
    assert!(err.to_string().contains("SyncRun Finished"), "{err}");
}
