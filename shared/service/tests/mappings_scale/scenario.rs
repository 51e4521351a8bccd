//! Ten thousand mappings of a kind through the console's use cases, read back as reconcile
//! reads them; shared by the in-memory and the emulator test.

use serde_json::json;
use std::time::Instant;
use sync_core::ids::{KimaiUserId, ZammadUserId};
use sync_service::console::access::{AccessLog, Actor};
use sync_service::console::error::ConsoleError;
use sync_service::console::mappings::{self, ImportMode, MappingKind, MappingStores};
use sync_service::policies::load_sync_policy;
use sync_store::audit::AuditLog;
use sync_store::clock::Clock;
use sync_store::control::{ControlStore, DocumentKind};

pub const MAPPINGS: u64 = 10_000;
/// Realistic Zammad ids: seven digits.
const FIRST_ID: u64 = 1_000_001;

fn csv(kind_offset: u64) -> Vec<u8> {
    let mut out = String::from("zammad,kimai\n");
    for i in 0..MAPPINGS {
        out += &format!("{},{}\n", FIRST_ID + i, kind_offset + i % 500 + 1);
    }
    out.into_bytes()
}

/// Imports `MAPPINGS` of each of `kinds` (10,000 rows per import), reads them back as the
/// pipeline does, edits one and deletes one; returns what took how long, for the report.
pub async fn ten_thousand_mappings(
    control: &dyn ControlStore,
    audit: &dyn AuditLog,
    clock: &dyn Clock,
    kinds: &[MappingKind],
) -> Vec<(String, std::time::Duration)> {
    let stores = MappingStores {
        control,
        access: AccessLog { log: audit, clock },
    };
    let actor = Actor {
        username: "admin".into(),
        ip: None,
        user_agent: None,
    };
    let mut timings = Vec::new();
    let mut version = None;
    for (i, kind) in kinds.iter().enumerate() {
        let started = Instant::now();
        let imported = mappings::import_csv(
            stores,
            &actor,
            version,
            (*kind, ImportMode::Replace),
            &csv(i as u64 * 1000),
        )
        .await
        .unwrap_or_else(|e| panic!("import of {kind:?}: {e:?}"));
        timings.push((format!("import {} {kind:?}", MAPPINGS), started.elapsed()));
        assert_eq!(imported.rows as u64, MAPPINGS);
        assert_eq!(imported.items.len() as u64, MAPPINGS);
        version = Some(imported.version);
    }

    let started = Instant::now();
    let policy = load_sync_policy(control, KimaiUserId(1)).await.unwrap();
    timings.push(("read as reconcile does".into(), started.elapsed()));
    if let Some(i) = kinds.iter().position(|k| *k == MappingKind::User) {
        assert_eq!(policy.mappings.user_by_agent.len() as u64, MAPPINGS);
        assert_eq!(
            policy
                .mappings
                .user_by_agent
                .get(&ZammadUserId(FIRST_ID + 9_999)),
            Some(&KimaiUserId(i as u64 * 1000 + 500))
        );
    }
    if kinds.contains(&MappingKind::Customer) {
        assert_eq!(
            policy.mappings.customer_by_organisation.len() as u64,
            MAPPINGS
        );
    }

    // The policy document stays small, whatever the number of mappings: each is an item.
    let head = control
        .get_document(DocumentKind::Policy, "sync")
        .await
        .unwrap()
        .unwrap();
    let size = serde_json::to_string(&head.body).unwrap().len();
    assert!(
        size < 2_000,
        "the policy document holds {size} bytes: {}",
        head.body
    );
    let items = control.list_documents(DocumentKind::Mapping).await.unwrap();
    assert_eq!(items.len() as u64, MAPPINGS * kinds.len() as u64);

    // One edit writes one item; a stale edit is still refused as a whole.
    let started = Instant::now();
    let kind = kinds[0];
    let set = mappings::set_mapping(stores, &actor, version, (kind, "1000001"), 4242)
        .await
        .unwrap();
    timings.push(("set one".into(), started.elapsed()));
    let stale = mappings::set_mapping(stores, &actor, version, (kind, "1000002"), 1).await;
    assert!(matches!(stale, Err(ConsoleError::Conflict(_))));
    let started = Instant::now();
    mappings::delete_mapping(stores, &actor, Some(set.version), (kind, "1000003"))
        .await
        .unwrap();
    timings.push(("delete one".into(), started.elapsed()));
    let items = control.list_documents(DocumentKind::Mapping).await.unwrap();
    assert_eq!(items.len() as u64, MAPPINGS * kinds.len() as u64 - 1);
    let first = items
        .iter()
        .find(|d| d.id.ends_with(".1000001") && d.body == json!({"kimai": 4242}));
    assert!(first.is_some(), "the edited item");
    timings
}
