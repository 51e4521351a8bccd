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
