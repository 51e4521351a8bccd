//! GDPR purge over the DynamoDB adapters on the local emulator: afterwards no item of any table
//! holds the person's e-mail or name. Needs `AWS_ENDPOINT_URL` at the emulator (`make test`, or
//! `infra/local-aws/with-emulator.sh cargo nextest run -p console-api`); never real AWS.

mod support;

use aws_sdk_dynamodb::Client;
use console_api::ApiState;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use support::*;
use sync_store::audit::AuditRetention;
use sync_store::aws::{DynamoAuditLog, DynamoConflicts, DynamoControl, DynamoEntries};
use sync_store::clock::SystemClock;
use sync_store::schema;
use sync_store::secrets::SecretString;
use test_support::apps::api_state_on;
use test_support::aws::{self, emulator_config};
use test_support::stores::MemoryStores;

/// The four tables under fresh names; the console state over them (the queues, schedule and
/// secrets in memory, on the system clock).
async fn aws_state() -> (ApiState, Client, Vec<String>) {
    let client = Client::new(&emulator_config().await);
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
        AuditRetention::default(),
    ));
    state.conflicts = Arc::new(DynamoConflicts::new(client.clone(), table("conflicts")));
    state.entries = Arc::new(DynamoEntries::new(client.clone(), table("entries")));
    (state, client, names)
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

#[tokio::test]
async fn after_a_purge_no_table_names_the_person() {
    let (state, client, tables) = aws_state().await;
    console_api::auth::bootstrap_admin(&state, ADMIN, &SecretString::new(ADMIN_PASSWORD))
        .await
        .unwrap();
    seed_person(&state).await;
    // A dead letter whose body names them, kept in the control table as a consumer keeps it.
    let record = sync_store::control::DeadLetterRecord {
        queue: "ticket-sync".into(),
        message_id: "m-gdpr".into(),
        body: format!(r#"{{"note":"for {PERSON_NAME}"}}"#),
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
        .request(Method::POST, format!("{base}/api/gdpr/purge"))
        .bearer_auth(&token)
        .json(&json!({"agent_id": PERSON_ID, "emails": [PERSON_EMAIL], "names": [PERSON_NAME]}))
        .send()
        .await
        .unwrap();
    assert_eq!(purge.status(), StatusCode::OK);
    let counts: serde_json::Value = purge.json().await.unwrap();
    assert_eq!(
        counts,
        json!({"entries": 2, "conflicts": 2, "audit": 2, "dead_letters": 1})
    );

    for t in &tables {
        let items = scan(&client, t).await;
        assert!(!names_person(&items), "{t} still names the person: {items}");
    }
    let audit = scan(
        &client,
        tables.iter().find(|t| t.ends_with("-audit")).unwrap(),
    )
    .await;
    assert!(audit.contains("gdpr.purge"), "the purge is recorded");
    let entries = scan(
        &client,
        tables.iter().find(|t| t.ends_with("-entries")).unwrap(),
    )
    .await;
    assert!(
        entries.contains("Bernd Koch"),
        "the colleague's entry stays"
    );
}
