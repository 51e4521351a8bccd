//! The demo seed: validated with the service layer's types before any write, idempotent.

use local_stack::{DemoSeed, SeedError};
use sync_service::policies::SyncPolicy;
use sync_store::control::{ControlStore, DocumentKind};
use sync_store::memory::MemoryControl;

fn demo_policy() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/demo-policy.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn seed() -> DemoSeed {
    DemoSeed {
        zammad_url: "http://127.0.0.1:8081".to_owned(),
        kimai_url: "http://127.0.0.1:8082".to_owned(),
        default_zone: "Europe/Berlin".to_owned(),
        policy: demo_policy(),
    }
}

#[tokio::test]
async fn the_demo_seed_writes_four_documents_and_a_second_run_changes_nothing_but_versions() {
    let control = MemoryControl::new();
    seed().write(&control).await.unwrap();
    let zammad = control
        .get_document(DocumentKind::Connection, "zammad")
        .await
        .unwrap()
        .expect("connection/zammad");
    assert_eq!(zammad.body["base_url"], "http://127.0.0.1:8081");
    let kimai = control
        .get_document(DocumentKind::Connection, "kimai")
        .await
        .unwrap()
        .expect("connection/kimai");
    assert_eq!(kimai.body["base_url"], "http://127.0.0.1:8082");
    assert!(
        control
            .get_document(DocumentKind::Policy, "fetch")
            .await
            .unwrap()
            .is_some()
    );
    let policy = control
        .get_document(DocumentKind::Policy, "sync")
        .await
        .unwrap()
        .expect("policy/sync");
    let read: SyncPolicy = serde_json::from_value(policy.body.clone()).unwrap();
    assert_eq!(zammad.body["default_zone"], "Europe/Berlin");
    assert!(read.mappings.can_book_for_others);
    assert_eq!(read.mappings.user_by_agent.len(), 2);

    seed().write(&control).await.unwrap();
    let again = control
        .get_document(DocumentKind::Policy, "sync")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.body, policy.body);
    assert_eq!(again.version, policy.version + 1);
}

#[tokio::test]
async fn a_policy_the_pipeline_could_not_read_is_refused_before_any_write() {
    let control = MemoryControl::new();
    let mut bad = seed();
    bad.policy = serde_json::json!({ "mappings": { "api_user": "not a number" } });
    let err = bad.write(&control).await.unwrap_err();
    assert!(
        matches!(err, SeedError::Invalid(ref m) if m.contains("sync policy")),
        "{err}"
    );
    assert!(
        control
            .list_documents(DocumentKind::Connection)
            .await
            .unwrap()
            .is_empty(),
        "nothing written"
    );
}

#[tokio::test]
async fn an_unknown_time_zone_is_refused() {
    let mut bad = seed();
    bad.default_zone = "Mars/Olympus".to_owned();
    let err = bad.validate().unwrap_err();
    assert!(
        matches!(err, SeedError::Invalid(ref m) if m.contains("zammad connection")),
        "{err}"
    );
}

#[tokio::test]
async fn a_base_url_with_credentials_is_refused() {
    let mut bad = seed();
    bad.kimai_url = "http://user:pw@127.0.0.1:8082".to_owned();
    let err = bad.validate().unwrap_err();
    assert!(
        matches!(err, SeedError::Invalid(ref m) if m.contains("kimai connection")),
        "{err}"
    );
}
