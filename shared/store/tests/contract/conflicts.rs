//! The conflicts store: a conflict opens and is resolved once, listings page newest first,
//! and the GDPR delete.

use crate::contract::data::*;
use crate::contract::paging::all_pages;
use chrono::Duration;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::plan::ConflictReason;
use sync_store::PageRequest;
use sync_store::conflicts::*;

fn resolution(action: ResolutionEffect, actor: &str) -> Resolution {
    Resolution {
        action,
        actor: actor.into(),
        note: Some("checked with the agent".into()),
        resolved_at: now(),
    }
}

pub async fn conflicts_open_and_resolve_once(store: &impl ConflictsStore) {
    let at = now();
    let id = ConflictId::generate();
    let conflict = conflict(401, 1);
    assert_eq!(
        store.open(&id, &conflict, at).await.unwrap(),
        OpenOutcome::Opened
    );
    assert_eq!(
        store.open(&id, &conflict, at).await.unwrap(),
        OpenOutcome::AlreadyExists
    );
    let stored = store.get(&id).await.unwrap().unwrap();
    assert_eq!(stored.conflict, conflict);
    assert_eq!(stored.status, ConflictStatus::Open);
    assert_eq!(stored.opened_at, at);

    let alice = resolution(ResolutionEffect::KeepKimai, "alice");
    let bob = resolution(
        ResolutionEffect::Link {
            kimai_id: TimesheetId(5),
        },
        "bob",
    );
    let first = store.resolve(&id, &alice).await.unwrap();
    assert!(
        matches!(first, ResolveOutcome::Resolved(ref r) if r.resolution == Some(alice.clone()))
    );
    let second = store.resolve(&id, &bob).await.unwrap();
    match second {
        ResolveOutcome::AlreadyResolved(r) => {
            assert_eq!(r.resolution, Some(alice.clone()), "bob changed nothing")
        }
        other => panic!("expected AlreadyResolved, got {other:?}"),
    }
    let missing = store
        .resolve(&ConflictId("nope".into()), &bob)
        .await
        .unwrap();
    assert_eq!(missing, ResolveOutcome::NotFound);
}

pub async fn conflicts_list_pages_newest_first(store: &impl ConflictsStore) {
    let at = now();
    let mut ids = Vec::new();
    for i in 0..12u64 {
        let id = ConflictId(format!("c-{i:02}"));
        let mut c = conflict(500 + i, i);
        if i % 3 == 0 {
            c.reason = ConflictReason::DeletedInKimai;
        }
        store
            .open(&id, &c, at + Duration::seconds(i as i64))
            .await
            .unwrap();
        ids.push(id);
    }
    store
        .resolve(&ids[0], &resolution(ResolutionEffect::Dismiss, "alice"))
        .await
        .unwrap();

    let (open, pages) = all_pages(5, |p| async move {
        store
            .list(&ConflictFilter::status(ConflictStatus::Open), &p)
            .await
    })
    .await;
    assert!(pages >= 3);
    let listed: Vec<_> = open.iter().map(|r| r.id.clone()).collect();
    let expected: Vec<_> = ids[1..].iter().rev().cloned().collect();
    assert_eq!(listed, expected, "open ones, newest first");
    let (resolved, _) = all_pages(5, |p| async move {
        store
            .list(&ConflictFilter::status(ConflictStatus::Resolved), &p)
            .await
    })
    .await;
    assert_eq!(resolved.len(), 1);

    // Filters: 3, 6, 9 are open and deleted in Kimai (0 is resolved); ticket 505 is c-05.
    let deleted = ConflictFilter {
        reason: Some(ConflictReason::DeletedInKimai),
        ..ConflictFilter::status(ConflictStatus::Open)
    };
    let (rows, _) = all_pages(2, |p| {
        let deleted = deleted.clone();
        async move { store.list(&deleted, &p).await }
    })
    .await;
    let ids: Vec<_> = rows.iter().map(|r| r.id.0.as_str()).collect();
    assert_eq!(ids, vec!["c-09", "c-06", "c-03"]);
    let one_ticket = ConflictFilter {
        ticket_id: Some(TicketId(505)),
        ..ConflictFilter::status(ConflictStatus::Open)
    };
    let (rows, _) = all_pages(50, |p| {
        let one_ticket = one_ticket.clone();
        async move { store.list(&one_ticket, &p).await }
    })
    .await;
    assert_eq!(
        rows.iter().map(|r| r.id.0.as_str()).collect::<Vec<_>>(),
        vec!["c-05"]
    );
}

pub async fn conflicts_delete(store: &impl ConflictsStore) {
    let at = now();
    let open = ConflictId("gdpr-open".into());
    let resolved = ConflictId("gdpr-resolved".into());
    store.open(&open, &conflict(602, 1), at).await.unwrap();
    store.open(&resolved, &conflict(602, 2), at).await.unwrap();
    store
        .resolve(
            &resolved,
            &Resolution {
                action: ResolutionEffect::Dismiss,
                actor: "alice".into(),
                note: None,
                resolved_at: at,
            },
        )
        .await
        .unwrap();
    for id in [&open, &resolved] {
        assert!(store.delete(id).await.unwrap(), "{id}");
        assert!(!store.delete(id).await.unwrap(), "{id} twice");
        assert_eq!(store.get(id).await.unwrap(), None);
    }
    for status in [ConflictStatus::Open, ConflictStatus::Resolved] {
        let page = store
            .list(&ConflictFilter::status(status), &PageRequest::first(10))
            .await
            .unwrap();
        assert!(page.items.is_empty(), "{status:?} still listed");
    }
}
