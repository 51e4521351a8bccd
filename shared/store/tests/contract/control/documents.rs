//! The control store's settings documents: versions, optimistic writes, deletes.

use crate::contract::data::*;
use sync_store::control::*;

pub async fn control_documents(store: &impl ControlStore) {
    let at = now();
    let body = serde_json::json!({ "zammad_type": 3, "kimai_activity": 9 });
    let kind = DocumentKind::Mapping;
    assert_eq!(
        store
            .put_document(kind, "activity-3", &body, ExpectedVersion::New, at)
            .await
            .unwrap(),
        DocumentWrite::Written { version: 1 }
    );
    assert_eq!(
        store
            .put_document(kind, "activity-3", &body, ExpectedVersion::New, at)
            .await
            .unwrap(),
        DocumentWrite::VersionConflict { current: Some(1) }
    );
    let changed = serde_json::json!({ "zammad_type": 3, "kimai_activity": 10 });
    assert_eq!(
        store
            .put_document(
                kind,
                "activity-3",
                &changed,
                ExpectedVersion::Version(1),
                at
            )
            .await
            .unwrap(),
        DocumentWrite::Written { version: 2 }
    );
    // A console tab that still shows version 1 loses.
    assert_eq!(
        store
            .put_document(kind, "activity-3", &body, ExpectedVersion::Version(1), at)
            .await
            .unwrap(),
        DocumentWrite::VersionConflict { current: Some(2) }
    );
    assert_eq!(
        store
            .put_document(kind, "missing", &body, ExpectedVersion::Version(1), at)
            .await
            .unwrap(),
        DocumentWrite::VersionConflict { current: None }
    );
    assert_eq!(
        store
            .put_document(kind, "activity-4", &body, ExpectedVersion::Any, at)
            .await
            .unwrap(),
        DocumentWrite::Written { version: 1 }
    );
    store
        .put_document(
            DocumentKind::Policy,
            "default",
            &body,
            ExpectedVersion::Any,
            at,
        )
        .await
        .unwrap();

    let doc = store
        .get_document(kind, "activity-3")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((doc.body, doc.version, doc.updated_at), (changed, 2, at));
    let listed: Vec<_> = store
        .list_documents(kind)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(
        listed,
        vec!["activity-3", "activity-4"],
        "only mappings, by id"
    );
    assert!(store.delete_document(kind, "activity-4").await.unwrap());
    assert!(!store.delete_document(kind, "activity-4").await.unwrap());
    assert_eq!(store.get_document(kind, "activity-4").await.unwrap(), None);
}

/// Many documents of a kind written and deleted at once (more than one `BatchWriteItem`), and
/// a document larger than a DynamoDB item refused by both adapters before any write.
pub async fn control_documents_in_bulk(store: &impl ControlStore) {
    let at = now();
    let kind = DocumentKind::Mapping;
    let many: Vec<(String, serde_json::Value)> = (1..=60)
        .map(|i| {
            (
                format!("user_by_agent.{i}"),
                serde_json::json!({ "kimai": i }),
            )
        })
        .collect();
    store.put_documents(kind, &many, at).await.unwrap();
    let listed = store.list_documents(kind).await.unwrap();
    assert_eq!(listed.len(), 60);
    let seventh = listed
        .iter()
        .find(|d| d.id == "user_by_agent.7")
        .expect("listed");
    assert_eq!(seventh.body, serde_json::json!({ "kimai": 7 }));
    assert_eq!(seventh.version, 1);

    // Written again (last writer wins), and most of them deleted; unknown ids are fine.
    let changed = vec![(
        "user_by_agent.7".to_owned(),
        serde_json::json!({ "kimai": 70 }),
    )];
    store.put_documents(kind, &changed, at).await.unwrap();
    let gone: Vec<String> = (8..=60)
        .map(|i| format!("user_by_agent.{i}"))
        .chain(["user_by_agent.999".to_owned()])
        .collect();
    store.delete_documents(kind, &gone).await.unwrap();
    let mut left: Vec<(String, serde_json::Value)> = store
        .list_documents(kind)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.id, d.body))
        .collect();
    left.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(left.len(), 7);
    assert_eq!(
        left[6],
        (
            "user_by_agent.7".to_owned(),
            serde_json::json!({ "kimai": 70 })
        )
    );

    // 400 KB is DynamoDB's item limit; the emulator would take it, the adapters do not.
    let huge = serde_json::json!({ "text": "x".repeat(MAX_ITEM_BYTES) });
    let refused = store
        .put_document(
            DocumentKind::Policy,
            "huge",
            &huge,
            ExpectedVersion::Any,
            at,
        )
        .await;
    assert!(
        matches!(refused, Err(sync_store::StoreError::Invalid(_))),
        "{refused:?}"
    );
    let refused = store
        .put_documents(kind, &[("huge".to_owned(), huge)], at)
        .await;
    assert!(
        matches!(refused, Err(sync_store::StoreError::Invalid(_))),
        "{refused:?}"
    );
    assert!(
        store
            .get_document(DocumentKind::Policy, "huge")
            .await
            .unwrap()
            .is_none()
    );
}
