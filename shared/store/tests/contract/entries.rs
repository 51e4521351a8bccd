//! The entries store: records round-trip, the lost-link race, the listings' paging, and the
//! GDPR delete.

use crate::contract::data::*;
use crate::contract::paging::all_pages;
use chrono::Duration;
use std::collections::BTreeSet;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, TimesheetId, ZammadUserId};
use sync_store::entries::*;
use sync_store::{PageRequest, StoreError};

pub async fn entries_round_trip(store: &impl EntriesStore) {
    let at = now();
    let first = record(101, 1, 5, day(0), at);
    let second = record(101, 2, 5, day(1), at);
    let other_ticket = record(102, 3, 5, day(0), at);
    for r in [&first, &second, &other_ticket] {
        store.save(r).await.unwrap();
    }

    assert_eq!(
        store.get(TicketId(101), &first.key).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store
            .get(TicketId(101), &EntryKey("ta:404".into()))
            .await
            .unwrap(),
        None
    );
    let loaded = store.load_ticket(TicketId(101)).await.unwrap();
    assert_eq!(
        loaded,
        vec![first.clone(), second.clone()],
        "one ticket, in key order"
    );
    assert!(store.load_ticket(TicketId(999)).await.unwrap().is_empty());

    // Saving again replaces the planning state but never the link.
    let desired = first.desired.clone().unwrap();
    let linked = store
        .link(
            TicketId(101),
            &first.key,
            ExpectedLink::Unlinked,
            &base(77, &desired),
            EntryStatus::Synced,
            at,
        )
        .await
        .unwrap();
    assert!(matches!(linked, LinkOutcome::Linked(ref r) if r.kimai_id() == Some(TimesheetId(77))));
    let replanned = EntryRecord {
        status: EntryStatus::AwaitingApproval,
        desired: None,
        base: None,
        ..first.clone()
    };
    store.save(&replanned).await.unwrap();
    let stored = store.get(TicketId(101), &first.key).await.unwrap().unwrap();
    assert_eq!(stored.status, EntryStatus::AwaitingApproval);
    assert_eq!(stored.desired, None);
    assert_eq!(stored.base, Some(base(77, &desired)), "save kept the base");

    assert!(
        store
            .set_status(TicketId(101), &second.key, EntryStatus::Conflict, at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_status(
                TicketId(101),
                &EntryKey("ta:404".into()),
                EntryStatus::Conflict,
                at
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .get(TicketId(101), &second.key)
            .await
            .unwrap()
            .unwrap()
            .status,
        EntryStatus::Conflict
    );
}

pub async fn entries_lost_link_race(store: &impl EntriesStore) {
    let at = now();
    let r = record(201, 1, 5, day(0), at);
    let desired = r.desired.clone().unwrap();
    store.save(&r).await.unwrap();

    let first = store
        .link(
            TicketId(201),
            &r.key,
            ExpectedLink::Unlinked,
            &base(10, &desired),
            EntryStatus::Synced,
            at,
        )
        .await
        .unwrap();
    assert!(matches!(first, LinkOutcome::Linked(_)));
    // A second writer that also saw the key unlinked loses, and nothing changes.
    let second = store
        .link(
            TicketId(201),
            &r.key,
            ExpectedLink::Unlinked,
            &base(11, &desired),
            EntryStatus::Synced,
            at,
        )
        .await
        .unwrap();
    assert_eq!(
        second,
        LinkOutcome::LostRace {
            current: Some(TimesheetId(10))
        }
    );
    // A writer expecting the wrong id loses too.
    let stale = store
        .link(
            TicketId(201),
            &r.key,
            ExpectedLink::LinkedTo(TimesheetId(12)),
            &base(12, &desired),
            EntryStatus::Synced,
            at,
        )
        .await
        .unwrap();
    assert_eq!(
        stale,
        LinkOutcome::LostRace {
            current: Some(TimesheetId(10))
        }
    );
    // The holder of the current link may relink.
    let relink = store
        .link(
            TicketId(201),
            &r.key,
            ExpectedLink::LinkedTo(TimesheetId(10)),
            &base(13, &desired),
            EntryStatus::Synced,
            at,
        )
        .await
        .unwrap();
    assert!(matches!(relink, LinkOutcome::Linked(ref r) if r.kimai_id() == Some(TimesheetId(13))));
    assert_eq!(
        store
            .find_by_kimai_id(TimesheetId(13))
            .await
            .unwrap()
            .map(|r| r.key),
        Some(r.key.clone())
    );
    assert_eq!(store.find_by_kimai_id(TimesheetId(10)).await.unwrap(), None);
    // Linking a key that was never saved is its own outcome.
    let missing = store
        .link(
            TicketId(201),
            &EntryKey("ta:404".into()),
            ExpectedLink::Unlinked,
            &base(14, &desired),
            EntryStatus::Synced,
            at,
        )
        .await
        .unwrap();
    assert_eq!(missing, LinkOutcome::NoSuchEntry);
}

pub async fn entries_listings_page(store: &impl EntriesStore) {
    let at = now();
    // 23 pending entries on day 0 across tickets and two agents, 4 synced on day 1.
    for i in 0..23u64 {
        let r = record(
            300 + i % 4,
            i,
            5 + i % 2,
            day(0),
            at + Duration::seconds(i as i64),
        );
        store.save(&r).await.unwrap();
    }
    for i in 100..104u64 {
        let r = EntryRecord {
            status: EntryStatus::Synced,
            ..record(310, i, 5, day(1), at)
        };
        store.save(&r).await.unwrap();
    }

    let (pending, pages) = all_pages(10, |p| async move {
        store.list_by_status(EntryStatus::Pending, &p).await
    })
    .await;
    assert!(
        pages >= 3,
        "23 items in pages of 10 take at least 3 pages, got {pages}"
    );
    assert_eq!(pending.len(), 23);
    let keys: BTreeSet<_> = pending
        .iter()
        .map(|r| (r.ticket_id, r.key.clone()))
        .collect();
    assert_eq!(keys.len(), 23, "no item twice");
    assert!(
        pending
            .windows(2)
            .all(|w| w[0].updated_at >= w[1].updated_at),
        "most recently updated first"
    );

    let (on_day, _) = all_pages(7, |p| async move { store.list_by_day(day(0), &p).await }).await;
    assert_eq!(on_day.len(), 23);
    assert!(on_day.iter().all(|r| r.day == day(0)));

    let (agent6, _) = all_pages(4, |p| async move {
        store
            .list_by_agent(ZammadUserId(6), day(0), day(1), &p)
            .await
    })
    .await;
    assert_eq!(agent6.len(), 11, "odd accounting ids belong to agent 6");
    let (agent5_day1, _) = all_pages(4, |p| async move {
        store
            .list_by_agent(ZammadUserId(5), day(1), day(1), &p)
            .await
    })
    .await;
    assert_eq!(agent5_day1.len(), 4);
    assert!(agent5_day1.iter().all(|r| r.day == day(1)));

    // Which tickets have entries on a day, from the index keys alone.
    let tickets = store.tickets_on_day(day(0)).await.unwrap();
    assert_eq!(tickets, (300..304).map(TicketId).collect::<BTreeSet<_>>());
    assert!(store.tickets_on_day(day(5)).await.unwrap().is_empty());

    // A record whose status changed leaves the old status's listing, and every record listed
    // is the whole record, not the index's keys.
    let moved = EntryRecord {
        status: EntryStatus::Synced,
        updated_at: at + Duration::seconds(60),
        ..pending[0].clone()
    };
    store.save(&moved).await.unwrap();
    let (still_pending, _) = all_pages(10, |p| async move {
        store.list_by_status(EntryStatus::Pending, &p).await
    })
    .await;
    assert_eq!(still_pending.len(), 22);
    assert!(
        !still_pending
            .iter()
            .any(|r| r.ticket_id == moved.ticket_id && r.key == moved.key)
    );
    assert!(still_pending.iter().all(|r| r.desired.is_some()));

    let bad = store
        .list_by_status(EntryStatus::Pending, &PageRequest::first(0))
        .await;
    assert!(
        matches!(bad, Err(StoreError::Invalid(_))),
        "page size 0 is the caller's fault"
    );
}

/// 130 records on one day: a page of 500 is read back by key in two batches (100 keys a call).
pub async fn entries_page_larger_than_one_batch_read(store: &impl EntriesStore) {
    let at = now();
    for i in 0..130u64 {
        store
            .save(&record(700 + i % 3, 1000 + i, 5, day(2), at))
            .await
            .unwrap();
    }
    let page = store
        .list_by_day(day(2), &PageRequest::first(500))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 130);
    assert!(page.next.is_none());
    let keys: BTreeSet<_> = page
        .items
        .iter()
        .map(|r| (r.ticket_id, r.key.clone()))
        .collect();
    assert_eq!(keys.len(), 130, "no record twice");
    assert!(
        page.items
            .windows(2)
            .all(|w| (w[0].ticket_id, &w[0].key) <= (w[1].ticket_id, &w[1].key)),
        "in the index's order: ticket, then key"
    );
    assert!(page.items.iter().all(|r| r.desired.is_some()));
}

pub async fn entries_delete(store: &impl EntriesStore) {
    let at = now();
    let r = record(601, 1, 9, day(0), at);
    let keep = record(601, 2, 10, day(0), at);
    store.save(&r).await.unwrap();
    store.save(&keep).await.unwrap();
    store
        .link(
            TicketId(601),
            &r.key,
            ExpectedLink::Unlinked,
            &base(6010, r.desired.as_ref().unwrap()),
            EntryStatus::Synced,
            at,
        )
        .await
        .unwrap();
    assert!(store.delete(TicketId(601), &r.key).await.unwrap());
    assert!(
        !store.delete(TicketId(601), &r.key).await.unwrap(),
        "a second delete finds nothing"
    );
    assert_eq!(store.get(TicketId(601), &r.key).await.unwrap(), None);
    assert_eq!(
        store.find_by_kimai_id(TimesheetId(6010)).await.unwrap(),
        None,
        "the link is gone with it"
    );
    let by_agent = store
        .list_by_agent(ZammadUserId(9), day(-1), day(1), &PageRequest::first(10))
        .await
        .unwrap();
    assert!(by_agent.items.is_empty(), "no index still lists it");
    assert_eq!(store.load_ticket(TicketId(601)).await.unwrap(), vec![keep]);
}

/// A create sent for a key is remembered across replans, until the record goes.
pub async fn entries_create_sent_is_kept(store: &impl EntriesStore) {
    let at = now();
    let r = record(410, 1, 5, day(0), at);
    assert!(
        !store
            .note_create_sent(r.ticket_id, &r.key, at)
            .await
            .unwrap(),
        "no record yet"
    );
    store.save(&r).await.unwrap();
    assert_eq!(
        store
            .get(r.ticket_id, &r.key)
            .await
            .unwrap()
            .unwrap()
            .create_sent_at,
        None
    );
    let sent = at + Duration::seconds(3);
    assert!(
        store
            .note_create_sent(r.ticket_id, &r.key, sent)
            .await
            .unwrap()
    );
    // A newer plan saves the record again: what was sent stays known.
    store
        .save(&EntryRecord {
            status: EntryStatus::Pending,
            updated_at: at + Duration::seconds(9),
            ..r.clone()
        })
        .await
        .unwrap();
    let got = store.get(r.ticket_id, &r.key).await.unwrap().unwrap();
    assert_eq!(got.create_sent_at, Some(sent));
    assert_eq!(got.updated_at, at + Duration::seconds(9));
}
