//! GDPR purge over the DynamoDB and SQS adapters on the local emulator: afterwards no table,
//! queue or document names the person, the audit log is searched over the whole retention
//! window (ten years here), and the person is suppressed by a hash. Needs `AWS_ENDPOINT_URL` at
//! the emulator (`make test`, or `infra/local-aws/with-emulator.sh cargo nextest run -p
//! console-api`); never real AWS.

mod support;

use aws_sdk_dynamodb::Client;
use console_api::ApiState;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use support::*;
use sync_store::audit::{AuditEvent, AuditKind, AuditRetention};
use sync_store::aws::provision::create_queue;
use sync_store::aws::{DynamoAuditLog, DynamoConflicts, DynamoControl, DynamoEntries, SqsQueue};
use sync_store::clock::SystemClock;
use sync_store::schema;
use sync_store::secrets::SecretString;
use test_support::apps::{api_state_on, in_process_purge};
use test_support::aws::{self, emulator_config, unique};
use test_support::stores::MemoryStores;

/// The four tables and both queues (with their DLQs) under fresh names; the console state over
/// them (schedule and secrets in memory, the system clock), sync events kept ten years.
async fn aws_state() -> (
    ApiState,
    Client,
    Vec<String>,
    aws_sdk_sqs::Client,
    Vec<String>,
) {
    let config = emulator_config().await;
    let client = Client::new(&config);
    let mut names = Vec::new();
    for def in schema::TABLES {
        names.push(aws::table(&client, &def).await);
    }
    let table = |logical: &str| {
        names
            .iter()
            .find(|n| n.ends_with(&format!("-{logical}")))
            .unwrap()
            .clone()
    };
    let mut state = api_state_on(&MemoryStores::new(), Arc::new(SystemClock));
    state.control = Arc::new(DynamoControl::new(client.clone(), table("control")));
    state.audit = Arc::new(DynamoAuditLog::new(
        client.clone(),
        table("audit"),
        AuditRetention {
            sync: chrono::Duration::days(3650),
            ..AuditRetention::default()
        },
    ));
    state.conflicts = Arc::new(DynamoConflicts::new(client.clone(), table("conflicts")));
    state.entries = Arc::new(DynamoEntries::new(client.clone(), table("entries")));
    let sqs = aws_sdk_sqs::Client::new(&config);
    let ticket_sync = create_queue(&sqs, &schema::TICKET_SYNC_QUEUE, &unique("ticket-sync"))
        .await
        .unwrap();
    let kimai_write = create_queue(&sqs, &schema::KIMAI_WRITE_QUEUE, &unique("kimai-write"))
        .await
        .unwrap();
    state.ticket_sync = Arc::new(SqsQueue::new(sqs.clone(), ticket_sync.url.clone()));
    state.dead_letters.ticket_sync =
        Arc::new(SqsQueue::new(sqs.clone(), ticket_sync.dlq_url.clone()));
    state.kimai_write = Arc::new(SqsQueue::new(sqs.clone(), kimai_write.url.clone()));
    state.dead_letters.kimai_write =
        Arc::new(SqsQueue::new(sqs.clone(), kimai_write.dlq_url.clone()));
    state.purge_launcher = in_process_purge(&state);
    let queues = vec![
        ticket_sync.url,
        ticket_sync.dlq_url,
        kimai_write.url,
        kimai_write.dlq_url,
    ];
    (state, client, names, sqs, queues)
}

/// Every item of a table, as text.
async fn scan(client: &Client, table: &str) -> String {
    let mut out = String::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        out += &format!("{:?}", page.items());
        match page.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return out,
        }
    }
}

/// Every body waiting in a queue (received and left hidden: the test ends after reading).
async fn bodies(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let batch = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .send()
            .await
            .expect("receive");
        let messages = batch.messages.unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        out.extend(messages.into_iter().filter_map(|m| m.body));
    }
}

/// Whether a body is about the person: it names them, or it is a write for their agent id.
fn about_person(text: &str) -> bool {
    names_person(text)
        || text.contains(&format!("\"agent_id\":{PERSON_ID},"))
        || text.contains(&format!("\"agent_id\":{PERSON_ID}}}"))
}

#[tokio::test]
async fn after_a_purge_no_table_queue_or_document_names_the_person() {
    let (state, client, tables, sqs, queues) = aws_state().await;
    console_api::auth::bootstrap_admin(&state, ADMIN, &SecretString::new(ADMIN_PASSWORD))
        .await
        .unwrap();
    seed_person(&state).await;
    // A sync event about them from almost three years ago: still kept under a ten-year
    // retention, and beyond the 399 days the purge used to search.
    let old = chrono::Utc::now() - chrono::Duration::days(1000);
    state
        .audit
        .append(&AuditEvent {
            at: old,
            kind: AuditKind::Sync,
            action: "entry.synced".into(),
            actor: "system".into(),
            ip: None,
            detail: json!({"description": format!("call with {PERSON_NAME}")}),
        })
        .await
        .unwrap();
    // A dead letter whose body names them: in the DLQ, and its record in the control table,
    // as a consumer leaves them.
    let body = format!(r#"{{"note":"for {PERSON_NAME}"}}"#);
    let message_id = state
        .dead_letters
        .ticket_sync
        .send_raw(&body)
        .await
        .unwrap();
    let record = sync_store::control::DeadLetterRecord {
        queue: "ticket-sync".into(),
        message_id,
        body: body.clone(),
        error: "Kimai answered 500".into(),
        failed_at: chrono::Utc::now(),
    };
    state.control.put_dead_letter(&record).await.unwrap();
    let mut before = String::new();
    for t in &tables {
        before += &scan(&client, t).await;
    }
    assert!(names_person(&before), "the seed reached the tables");

    let base = serve_state(state).await;
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let token = login.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let purge = http
        .post(format!("{base}/api/gdpr/purge"))
        .bearer_auth(&token)
        .json(&json!({"agent_id": PERSON_ID, "emails": [PERSON_EMAIL], "names": [PERSON_NAME]}))
        .send()
        .await
        .unwrap();
    assert_eq!(purge.status(), StatusCode::ACCEPTED);
    let id = purge.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = follow_purge(&base, &http, &token, &id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        job["counts"],
        json!({"entries": 2, "conflicts": 2, "decisions": 1, "audit": 4, "dead_letters": 2,
               "queued_messages": 1})
    );
    assert_eq!(job["audit_days"], 3653);

    for t in &tables {
        let items = scan(&client, t).await;
        assert!(!names_person(&items), "{t} still names the person: {items}");
    }
    let mut left = Vec::new();
    for url in &queues {
        let waiting = bodies(&sqs, url).await;
        assert!(
            !waiting.iter().any(|b| about_person(b)),
            "{url} still holds the person: {waiting:?}"
        );
        left.extend(waiting);
    }
    assert_eq!(left.len(), 1, "the colleague's write stays: {left:?}");
    let table_named = |suffix: &str| tables.iter().find(|t| t.ends_with(suffix)).unwrap();
    let audit = scan(&client, table_named("-audit")).await;
    assert!(audit.contains("gdpr.purge"), "the purge is recorded");
    let entries = scan(&client, table_named("-entries")).await;
    assert!(
        entries.contains("Bernd Koch"),
        "the colleague's entry stays"
    );
    let control = scan(&client, table_named("-control")).await;
    let hash =
        sync_service::privacy::suppression::identity_hash(sync_core::ids::ZammadUserId(PERSON_ID));
    assert!(
        control.contains(&hash),
        "the suppression is kept: {control}"
    );
}
