//! The contract every adapter must meet: one generic function per behaviour, run by
//! `tests/memory.rs` against the in-memory adapters and by `tests/aws.rs` against the AWS
//! adapters on the emulator.

#![allow(dead_code)]

pub mod data;

use async_trait::async_trait;
use chrono::Duration;
use data::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, TimesheetId, ZammadUserId};
use sync_core::plan::{ConflictReason, Operation};
use sync_store::audit::{AuditEvent, AuditFilter, AuditKind, AuditLog, AuditRecord};
use sync_store::clock::{Clock, ManualClock};
use sync_store::conflicts::*;
use sync_store::control::*;
use sync_store::entries::*;
use sync_store::queue::*;
use sync_store::schedule::{ScheduleSettings, ScheduleStore};
use sync_store::secrets::{CachedSecrets, SecretSource, SecretString, SecretWriter};
use sync_store::{Page, PageRequest, StoreError, StoreResult};

/// Reads every page of a listing, checking each page's size.
async fn all_pages<T, F, Fut>(limit: u32, mut fetch: F) -> (Vec<T>, usize)
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = StoreResult<Page<T>>>,
{
    let mut items = Vec::new();
    let mut pages = 0;
    let mut request = PageRequest::first(limit);
    loop {
        let page = fetch(request.clone()).await.expect("listing failed");
        pages += 1;
        assert!(
            page.items.len() <= limit as usize,
            "page larger than its limit"
        );
        items.extend(page.items);
        match page.next {
            Some(token) => request = PageRequest::next(limit, token),
            None => return (items, pages),
        }
        assert!(pages < 100, "paging does not end");
    }
}

// ------------------------------------------------------------------ entries

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

    let bad = store
        .list_by_status(EntryStatus::Pending, &PageRequest::first(0))
        .await;
    assert!(
        matches!(bad, Err(StoreError::Invalid(_))),
        "page size 0 is the caller's fault"
    );
}

// ------------------------------------------------------------------ conflicts

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

// ------------------------------------------------------------------ audit

fn event(at: chrono::DateTime<chrono::Utc>, kind: AuditKind, action: &str) -> AuditEvent {
    AuditEvent {
        at,
        kind,
        action: action.into(),
        actor: "alice".into(),
        ip: Some("127.0.0.1".into()),
        detail: serde_json::json!({ "ticket": 31001 }),
    }
}

pub async fn audit_ttl_and_paging(log: &impl AuditLog) {
    // Noon today: events up to 9 minutes earlier stay on the same day whenever the test runs,
    // and the expiries stay in the future (the emulator's TTL reaper is running).
    let at = now().date_naive().and_hms_opt(12, 0, 0).unwrap().and_utc();
    let all = &AuditFilter::default();
    let login = log
        .append(&event(at, AuditKind::Access, "login"))
        .await
        .unwrap();
    assert_eq!(
        login.expires_at,
        at + Duration::days(90),
        "access events: 90 days"
    );
    let write = log
        .append(&event(at, AuditKind::Sync, "timesheet.create"))
        .await
        .unwrap();
    assert_eq!(
        write.expires_at,
        at + Duration::days(30),
        "sync events: the configured days"
    );

    // 9 events on each of three days (one of them today).
    let today = at.date_naive();
    let mut appended: Vec<AuditRecord> = vec![login, write];
    for d in 0..3i64 {
        for i in 0..9i64 {
            let t = at - Duration::days(d) - Duration::minutes(i + 1);
            appended.push(
                log.append(&event(t, AuditKind::Sync, "entry.plan"))
                    .await
                    .unwrap(),
            );
        }
    }
    let from = today - Duration::days(2);
    let (rows, pages) =
        all_pages(4, |p| async move { log.query(from, today, all, &p).await }).await;
    let in_range: Vec<_> = appended
        .iter()
        .filter(|r| r.event.at.date_naive() >= from)
        .collect();
    assert_eq!(rows.len(), in_range.len(), "every event of the range, once");
    assert!(pages >= 7);
    let ids: BTreeSet<_> = rows.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), rows.len());
    assert!(
        rows.windows(2).all(|w| w[0].event.at >= w[1].event.at),
        "newest first"
    );
    let read_login = rows.iter().find(|r| r.event.action == "login").unwrap();
    assert_eq!(
        read_login.expires_at,
        at + Duration::days(90),
        "expiry read back from the store"
    );

    let (yesterday_only, _) = all_pages(50, |p| async move {
        log.query(
            today - Duration::days(1),
            today - Duration::days(1),
            all,
            &p,
        )
        .await
    })
    .await;
    assert!(
        yesterday_only
            .iter()
            .all(|r| r.event.at.date_naive() == today - Duration::days(1))
    );

    // Filters by kind, action, actor and IP (exact matches).
    let mut bob = event(
        at - Duration::days(1),
        AuditKind::Access,
        "conflict.resolve",
    );
    bob.actor = "bob".into();
    bob.ip = Some("192.0.2.7".into());
    log.append(&bob).await.unwrap();
    let cases = [
        (
            AuditFilter {
                actor: Some("bob".into()),
                ..Default::default()
            },
            1,
        ),
        (
            AuditFilter {
                kind: Some(AuditKind::Access),
                ..Default::default()
            },
            2,
        ),
        (
            AuditFilter {
                ip: Some("192.0.2.7".into()),
                ..Default::default()
            },
            1,
        ),
        (
            AuditFilter {
                action: Some("entry.plan".into()),
                ip: Some("127.0.0.1".into()),
                ..Default::default()
            },
            27,
        ),
        (
            AuditFilter {
                actor: Some("carol".into()),
                ..Default::default()
            },
            0,
        ),
    ];
    for (filter, expected) in cases {
        let (rows, _) = all_pages(5, |p| {
            let filter = filter.clone();
            async move { log.query(from, today, &filter, &p).await }
        })
        .await;
        assert_eq!(rows.len(), expected, "{filter:?}");
        assert!(rows.iter().all(|r| filter.matches(&r.event)));
    }

    let reversed = log.query(today, from, all, &PageRequest::first(10)).await;
    assert!(matches!(reversed, Err(StoreError::Invalid(_))));
    let too_long = log
        .query(
            today - Duration::days(1000),
            today,
            all,
            &PageRequest::first(10),
        )
        .await;
    assert!(matches!(too_long, Err(StoreError::Invalid(_))));
}

// ------------------------------------------------------------------ control: documents and runs

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

pub async fn control_runs(store: &impl ControlStore) {
    let at = now();
    let params = serde_json::json!({ "from": "2026-11-01", "dry_run": true });
    let run = store
        .create_run(RunTrigger::Manual, &params, at)
        .await
        .unwrap();
    assert_eq!(run.state, RunState::Running);

    // Twenty workers add at once; atomic increments lose none.
    let delta = RunCounters {
        tickets_done: 1,
        created: 2,
        ..Default::default()
    };
    let adds: Vec<_> = (0..20).map(|_| store.add_to_run(&run.id, &delta)).collect();
    for added in join_all(adds).await {
        assert!(added.unwrap());
    }
    let queued = RunCounters {
        tickets_queued: 20,
        ..Default::default()
    };
    assert!(store.add_to_run(&run.id, &queued).await.unwrap());
    let stored = store.get_run(&run.id).await.unwrap().unwrap();
    assert_eq!(
        stored.counters,
        RunCounters {
            tickets_queued: 20,
            tickets_done: 20,
            created: 40,
            ..Default::default()
        }
    );
    assert_eq!(stored.params, params);
    assert!(
        !store
            .add_to_run(&RunId("nope".into()), &delta)
            .await
            .unwrap()
    );

    let done = at + Duration::seconds(30);
    let finished = store
        .finish_run(&run.id, RunState::Succeeded, done)
        .await
        .unwrap();
    assert!(matches!(finished, FinishOutcome::Finished(ref r) if r.finished_at == Some(done)));
    let again = store
        .finish_run(&run.id, RunState::Failed, done)
        .await
        .unwrap();
    assert!(
        matches!(again, FinishOutcome::AlreadyFinished(ref r) if r.state == RunState::Succeeded)
    );
    assert_eq!(
        store
            .finish_run(&RunId("nope".into()), RunState::Failed, done)
            .await
            .unwrap(),
        FinishOutcome::NotFound
    );

    for i in 1..=6 {
        store
            .create_run(RunTrigger::Schedule, &params, at + Duration::minutes(i))
            .await
            .unwrap();
    }
    let (runs, pages) = all_pages(3, |p| async move { store.list_runs(&p).await }).await;
    assert_eq!(runs.len(), 7);
    assert!(pages >= 3);
    assert!(
        runs.windows(2).all(|w| w[0].started_at > w[1].started_at),
        "newest first"
    );
}

/// Polls futures concurrently on the current task (a join without another dependency).
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (future, result) in futures.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                if let Poll::Ready(v) = future.as_mut().poll(cx) {
                    *result = Some(v);
                }
            }
        }
        if results.iter().all(Option::is_some) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    results
        .into_iter()
        .map(|r| r.expect("every future finished"))
        .collect()
}

// ------------------------------------------------------------------ control: coordination

pub async fn control_watermark(store: &impl ControlStore) {
    let at = now();
    assert_eq!(store.get_watermark("zammad").await.unwrap(), None);
    assert_eq!(
        store.advance_watermark("zammad", at).await.unwrap(),
        WatermarkOutcome::Advanced
    );
    assert_eq!(
        store
            .advance_watermark("zammad", at - Duration::minutes(5))
            .await
            .unwrap(),
        WatermarkOutcome::NotNewer { current: at }
    );
    assert_eq!(
        store.advance_watermark("zammad", at).await.unwrap(),
        WatermarkOutcome::NotNewer { current: at }
    );
    let later = at + Duration::minutes(5);
    assert_eq!(
        store.advance_watermark("zammad", later).await.unwrap(),
        WatermarkOutcome::Advanced
    );
    assert_eq!(store.get_watermark("zammad").await.unwrap(), Some(later));
}

pub async fn control_held_lease(store: &impl ControlStore) {
    let at = now();
    let ttl = Duration::seconds(60);
    let LeaseOutcome::Acquired(lease) = store
        .acquire_lease("fetch", "worker-a", ttl, at)
        .await
        .unwrap()
    else {
        panic!("a free lease is acquired")
    };
    assert_eq!(lease.expires_at, at + ttl);
    let held = store
        .acquire_lease("fetch", "worker-b", ttl, at + Duration::seconds(10))
        .await
        .unwrap();
    assert_eq!(
        held,
        LeaseOutcome::Held {
            holder: "worker-a".into(),
            expires_at: at + ttl
        }
    );
    // The holder may take it again (idempotent) and renew it.
    assert!(matches!(
        store
            .acquire_lease("fetch", "worker-a", ttl, at)
            .await
            .unwrap(),
        LeaseOutcome::Acquired(_)
    ));
    let renewed = store
        .renew_lease(&lease, ttl, at + Duration::seconds(50))
        .await
        .unwrap();
    assert_eq!(
        renewed,
        RenewOutcome::Renewed(Lease {
            expires_at: at + Duration::seconds(110),
            ..lease.clone()
        })
    );
    // After expiry somebody else takes it; the old holder can neither renew nor release it.
    let later = at + Duration::seconds(111);
    let LeaseOutcome::Acquired(taken) = store
        .acquire_lease("fetch", "worker-b", ttl, later)
        .await
        .unwrap()
    else {
        panic!("an expired lease is free")
    };
    assert_eq!(
        store.renew_lease(&lease, ttl, later).await.unwrap(),
        RenewOutcome::Lost
    );
    assert!(!store.release_lease(&lease).await.unwrap());
    assert!(store.release_lease(&taken).await.unwrap());
    assert!(matches!(
        store
            .acquire_lease("fetch", "worker-c", ttl, later)
            .await
            .unwrap(),
        LeaseOutcome::Acquired(_)
    ));
}

pub async fn control_duplicate_delivery(store: &impl ControlStore) {
    let at = now();
    let keep = Duration::hours(24);
    assert_eq!(
        store.record_delivery("d-1", keep, at).await.unwrap(),
        DeliveryOutcome::First
    );
    assert_eq!(
        store
            .record_delivery("d-1", keep, at + Duration::minutes(1))
            .await
            .unwrap(),
        DeliveryOutcome::Duplicate
    );
    assert_eq!(
        store.record_delivery("d-2", keep, at).await.unwrap(),
        DeliveryOutcome::First
    );
    // After the retention window a (not yet reaped) id counts as new.
    assert_eq!(
        store
            .record_delivery("d-1", keep, at + Duration::hours(25))
            .await
            .unwrap(),
        DeliveryOutcome::First
    );
}

pub async fn control_double_claim(store: &impl ControlStore) {
    let at = now();
    let op = OperationId("op-1".into());
    let lease = Duration::seconds(90);
    assert_eq!(
        store
            .claim_operation(&op, "writer-a", lease, at)
            .await
            .unwrap(),
        ClaimOutcome::Claimed {
            attempt: 1,
            lease_until: at + lease
        }
    );
    assert_eq!(
        store
            .claim_operation(&op, "writer-b", lease, at + Duration::seconds(1))
            .await
            .unwrap(),
        ClaimOutcome::InFlight {
            holder: "writer-a".into(),
            lease_until: at + lease
        }
    );
    // writer-a's lease runs out without a result: the next claim is attempt 2.
    let later = at + Duration::seconds(91);
    assert_eq!(
        store
            .claim_operation(&op, "writer-b", lease, later)
            .await
            .unwrap(),
        ClaimOutcome::Claimed {
            attempt: 2,
            lease_until: later + lease
        }
    );
    let result = serde_json::json!({ "kimai_id": 4711 });
    assert_eq!(
        store
            .complete_operation(&op, "writer-a", &result, later)
            .await
            .unwrap(),
        CompleteOutcome::NotHolder
    );
    assert_eq!(
        store
            .complete_operation(&op, "writer-b", &result, later)
            .await
            .unwrap(),
        CompleteOutcome::Completed
    );
    assert_eq!(
        store
            .claim_operation(&op, "writer-c", lease, later + Duration::hours(1))
            .await
            .unwrap(),
        ClaimOutcome::Done {
            result: result.clone()
        }
    );
    assert_eq!(
        store
            .complete_operation(&op, "writer-b", &result, later)
            .await
            .unwrap(),
        CompleteOutcome::NotHolder
    );

    // Releasing ends an attempt at once.
    let op2 = OperationId("op-2".into());
    store
        .claim_operation(&op2, "writer-a", lease, at)
        .await
        .unwrap();
    assert!(!store.release_operation(&op2, "writer-b", at).await.unwrap());
    assert!(store.release_operation(&op2, "writer-a", at).await.unwrap());
    assert!(matches!(
        store
            .claim_operation(&op2, "writer-b", lease, at)
            .await
            .unwrap(),
        ClaimOutcome::Claimed { attempt: 2, .. }
    ));
}

pub async fn control_users_and_login_throttle(store: &impl ControlStore) {
    let at = now();
    let alice = ConsoleUser {
        username: "alice".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: Role::Admin,
        disabled: false,
        created_at: at,
    };
    assert_eq!(store.create_user(&alice).await.unwrap(), UserWrite::Written);
    assert_eq!(
        store.create_user(&alice).await.unwrap(),
        UserWrite::AlreadyExists
    );
    let viewer = ConsoleUser {
        username: "bob".into(),
        role: Role::Viewer,
        ..alice.clone()
    };
    assert!(
        !store.update_user(&viewer).await.unwrap(),
        "update does not create"
    );
    store.create_user(&viewer).await.unwrap();
    let disabled = ConsoleUser {
        disabled: true,
        ..alice.clone()
    };
    assert!(store.update_user(&disabled).await.unwrap());
    assert_eq!(
        store.get_user("alice").await.unwrap(),
        Some(disabled.clone())
    );
    let names: Vec<_> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, vec!["alice", "bob"]);
    assert!(store.delete_user("bob").await.unwrap());
    assert!(!store.delete_user("bob").await.unwrap());
    assert_eq!(store.get_user("bob").await.unwrap(), None);

    let window = Duration::minutes(15);
    // Start of a window, so the three failures below share it.
    let start = chrono::DateTime::from_timestamp(window_start(window, at), 0).unwrap();
    for expected in 1..=3 {
        assert_eq!(
            store
                .record_login_failure("alice", window, start)
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(
        store
            .login_failures("alice", window, start + Duration::minutes(5))
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.login_failures("bob", window, start).await.unwrap(), 0);
    assert_eq!(
        store
            .login_failures("alice", window, start + window)
            .await
            .unwrap(),
        0,
        "next window"
    );
    store
        .clear_login_failures("alice", window, start)
        .await
        .unwrap();
    assert_eq!(
        store.login_failures("alice", window, start).await.unwrap(),
        0
    );
}

// ------------------------------------------------------------------ queues

pub async fn receive_all<M: QueueMessage>(
    queue: &impl MessageQueue<M>,
    expected: usize,
) -> Vec<Received<M>> {
    let mut got = Vec::new();
    for _ in 0..20 {
        if got.len() >= expected {
            break;
        }
        let batch = queue.receive(10, 1).await.unwrap();
        for r in &batch {
            queue.delete(&r.receipt).await.unwrap();
        }
        got.extend(batch);
    }
    got
}

pub async fn queue_round_trip(
    sync: &impl MessageQueue<TicketSyncMessage>,
    write: &impl MessageQueue<KimaiWriteMessage>,
) {
    let message = TicketSyncMessage::new(
        TicketId(31001),
        SyncReason::Webhook,
        Some(RunId("r-1".into())),
    );
    let id = sync.send(&message).await.unwrap();
    assert!(!id.is_empty());
    let received = receive_all(sync, 1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message, Ok(message));
    assert!(received[0].body.contains("\"schema_version\":1"));

    let desired = desired(31001, 7, 5, day(0));
    let op = KimaiWriteMessage::new(
        OperationId("op-7".into()),
        TicketId(31001),
        None,
        Operation::Update {
            kimai_id: TimesheetId(70),
            expected: timesheet(70, &desired),
            desired,
        },
    );
    write.send(&op).await.unwrap();
    let received = receive_all(write, 1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message, Ok(op));
}

pub async fn queue_release_and_depth(sync: &impl MessageQueue<TicketSyncMessage>) {
    for ticket in 1..=3 {
        sync.send(&TicketSyncMessage::new(
            TicketId(ticket),
            SyncReason::Manual,
            None,
        ))
        .await
        .unwrap();
    }
    assert_eq!(sync.approximate_depth().await.unwrap(), 3);
    // Look at one message and put it back (how the console lists dead letters).
    let seen = sync.receive(1, 1).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        sync.approximate_depth().await.unwrap(),
        2,
        "a received message is invisible"
    );
    sync.release(&seen[0].receipt).await.unwrap();
    assert_eq!(sync.approximate_depth().await.unwrap(), 3);
    let all = receive_all(sync, 3).await;
    let tickets: BTreeSet<u64> = all
        .iter()
        .map(|r| r.message.as_ref().unwrap().ticket_id.0)
        .collect();
    assert_eq!(
        tickets,
        BTreeSet::from([1, 2, 3]),
        "the released message came back"
    );
    assert_eq!(sync.approximate_depth().await.unwrap(), 0);
    assert!(matches!(
        sync.receive(0, 0).await,
        Err(StoreError::Invalid(_))
    ));
}

pub async fn queue_batch_with_failing_entry(sync: &impl MessageQueue<TicketSyncMessage>) {
    let mut messages: Vec<TicketSyncMessage> = (0..25)
        .map(|i| TicketSyncMessage::new(TicketId(1000 + i), SyncReason::Schedule, None))
        .collect();
    // An oversize message in the middle of the batch: a run id of 300 KB.
    let oversize = TicketSyncMessage::new(
        TicketId(9999),
        SyncReason::Backfill,
        Some(RunId("x".repeat(300 * 1024))),
    );
    messages.insert(7, oversize);

    let report = sync.send_many(&messages).await;
    assert_eq!(report.sent, 25);
    assert_eq!(report.failed.len(), 1);
    assert!(
        matches!(report.failed[0], (7, SendFailure::TooLarge { bytes }) if bytes > MAX_MESSAGE_BYTES)
    );
    assert!(!report.all_sent());

    let received = receive_all(sync, 25).await;
    let tickets: BTreeSet<u64> = received
        .iter()
        .map(|r| r.message.as_ref().unwrap().ticket_id.0)
        .collect();
    assert_eq!(
        tickets,
        (1000..1025).collect::<BTreeSet<_>>(),
        "each good message exactly once"
    );
    assert_eq!(received.len(), 25);

    let empty = sync.send_many(&[]).await;
    assert_eq!(empty, BatchReport::default());
}

// ------------------------------------------------------------------ secrets and schedule

/// Creates or rotates a secret behind an adapter (test-only admin side).
#[async_trait]
pub trait SecretAdmin: Send + Sync {
    async fn put(&self, id: &str, value: &str);
}

pub async fn secrets_cache_expiry<S: SecretSource + 'static>(
    source: Arc<S>,
    admin: &impl SecretAdmin,
    id: &str,
) {
    admin.put(id, "token-1").await;
    let clock = Arc::new(ManualClock::new(now()));
    let cached = CachedSecrets::new(
        source,
        clock.clone() as Arc<dyn Clock>,
        Duration::minutes(5),
    );
    assert_eq!(cached.get_secret(id).await.unwrap().expose(), "token-1");

    admin.put(id, "token-2").await;
    clock.advance(Duration::minutes(4));
    assert_eq!(
        cached.get_secret(id).await.unwrap().expose(),
        "token-1",
        "still cached"
    );
    clock.advance(Duration::minutes(2));
    assert_eq!(
        cached.get_secret(id).await.unwrap().expose(),
        "token-2",
        "re-read after expiry"
    );
    assert_eq!(
        format!("{:?}", cached.get_secret(id).await.unwrap()),
        "SecretString(***)"
    );

    let missing = cached.get_secret(&format!("{id}-missing")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "got {missing:?}"
    );
}

/// The writer creates a missing secret, rotates an existing one, and a cache it is written
/// through serves the new value at once.
pub async fn secret_writer_creates_and_rotates<S: SecretSource + SecretWriter + 'static>(
    source: Arc<S>,
    id: &str,
) {
    source
        .put_secret(id, &SecretString::new("first"))
        .await
        .unwrap();
    assert_eq!(source.get_secret(id).await.unwrap().expose(), "first");
    source
        .put_secret(id, &SecretString::new("second"))
        .await
        .unwrap();
    assert_eq!(source.get_secret(id).await.unwrap().expose(), "second");

    let clock = Arc::new(ManualClock::new(now()));
    let cached = CachedSecrets::new(source, clock as Arc<dyn Clock>, Duration::minutes(5));
    assert_eq!(cached.get_secret(id).await.unwrap().expose(), "second");
    cached
        .put_secret(id, &SecretString::new("third"))
        .await
        .unwrap();
    assert_eq!(
        cached.get_secret(id).await.unwrap().expose(),
        "third",
        "a write through the cache is read back at once"
    );
    assert_eq!(
        cached.source().get_secret(id).await.unwrap().expose(),
        "third"
    );
}

pub async fn schedule_write_read(schedule: &impl ScheduleStore) {
    assert_eq!(schedule.get_schedule().await.unwrap(), None);
    let workdays = ScheduleSettings {
        cron: "0/15 7-18 ? * MON-FRI *".into(),
        time_zone: "Europe/Berlin".into(),
        enabled: true,
    };
    schedule.put_schedule(&workdays).await.unwrap();
    assert_eq!(
        schedule.get_schedule().await.unwrap(),
        Some(workdays.clone())
    );

    let paused = ScheduleSettings {
        cron: "0 6 * * ? *".into(),
        time_zone: "America/New_York".into(),
        enabled: false,
    };
    schedule.put_schedule(&paused).await.unwrap();
    assert_eq!(schedule.get_schedule().await.unwrap(), Some(paused.clone()));

    for bad in [
        ScheduleSettings {
            cron: "0 6 * *".into(),
            ..paused.clone()
        },
        ScheduleSettings {
            cron: "0 6 * * MON *".into(),
            ..paused.clone()
        },
        ScheduleSettings {
            time_zone: "Mars/Olympus".into(),
            ..paused.clone()
        },
    ] {
        let result = schedule.put_schedule(&bad).await;
        assert!(
            matches!(result, Err(StoreError::Invalid(_))),
            "{bad:?} gave {result:?}"
        );
    }
    assert_eq!(
        schedule.get_schedule().await.unwrap(),
        Some(paused),
        "bad writes changed nothing"
    );
}

// ------------------------------------------------------------------ GDPR deletes

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

pub async fn audit_delete(log: &impl AuditLog) {
    let at = now();
    let event = |actor: &str| AuditEvent {
        at,
        kind: AuditKind::Access,
        action: "mapping.set".into(),
        actor: actor.into(),
        ip: None,
        detail: serde_json::json!({}),
    };
    let gone = log.append(&event("alice")).await.unwrap();
    let kept = log.append(&event("bob")).await.unwrap();
    let today = at.date_naive();
    assert!(
        !log.delete(today.pred_opt().unwrap(), &gone.id)
            .await
            .unwrap(),
        "the day is part of the key"
    );
    assert!(log.delete(today, &gone.id).await.unwrap());
    assert!(!log.delete(today, &gone.id).await.unwrap());
    let left = log
        .query(
            today,
            today,
            &AuditFilter::default(),
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(left.items, vec![kept]);
}

// ------------------------------------------------------------------ dead letters

fn dead(ticket: u64) -> TicketSyncMessage {
    TicketSyncMessage::new(TicketId(ticket), SyncReason::Webhook, None)
}

/// The bodies waiting in a queue, sorted (SQS does not keep order); the queue keeps them.
async fn bodies_in(queue: &dyn MessageQueue<TicketSyncMessage>) -> Vec<String> {
    let mut bodies: Vec<String> = sync_store::dead_letters::peek(queue, 200)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.body)
        .collect();
    bodies.sort();
    bodies
}

pub async fn dead_letters_peek_loses_nothing(dlq: &impl MessageQueue<TicketSyncMessage>) {
    for t in 1..=12 {
        dlq.send(&dead(t)).await.unwrap();
    }
    dlq.send_raw("not json at all").await.unwrap();
    for _ in 0..2 {
        let seen = sync_store::dead_letters::peek(dlq, 50).await.unwrap();
        assert_eq!(seen.len(), 13, "every message, each once");
        let ids: BTreeSet<&str> = seen.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids.len(), 13);
        let undecodable: Vec<&str> = seen
            .iter()
            .filter(|m| m.message.is_err())
            .map(|m| m.body.as_str())
            .collect();
        assert_eq!(undecodable, ["not json at all"]);
    }
    let limited = sync_store::dead_letters::peek(dlq, 3).await.unwrap();
    assert_eq!(limited.len(), 3);
    assert_eq!(
        bodies_in(dlq).await.len(),
        13,
        "peeking twice and partly left every message in the queue"
    );
}

pub async fn dead_letters_replay(
    dlq: &impl MessageQueue<TicketSyncMessage>,
    source: &impl MessageQueue<TicketSyncMessage>,
) {
    use sync_store::dead_letters::{ReplaySelection, peek, replay};
    for t in 1..=4 {
        dlq.send(&dead(t)).await.unwrap();
    }
    dlq.send_raw("{\"schema_version\":9}").await.unwrap();
    let listed = peek(dlq, 50).await.unwrap();
    let one = listed
        .iter()
        .find(|m| m.message.as_ref().is_ok_and(|d| d.ticket_id == TicketId(3)))
        .unwrap();

    let report = replay(dlq, source, &ReplaySelection::One(one.message_id.clone()))
        .await
        .unwrap();
    assert_eq!(report.replayed, vec![one.message_id.clone()]);
    assert!(report.failed.is_empty() && report.not_deleted.is_empty());
    assert_eq!(
        bodies_in(source).await,
        vec![one.body.clone()],
        "the body as it was"
    );
    assert_eq!(peek(dlq, 50).await.unwrap().len(), 4, "the others stayed");

    let unknown = replay(dlq, source, &ReplaySelection::One("no-such-id".into()))
        .await
        .unwrap();
    assert!(unknown.is_empty());
    assert_eq!(peek(dlq, 50).await.unwrap().len(), 4);

    let all = replay(dlq, source, &ReplaySelection::All).await.unwrap();
    assert_eq!(all.replayed.len(), 4, "{all:?}");
    let mut expected: Vec<String> = listed.iter().map(|m| m.body.clone()).collect();
    expected.sort();
    assert_eq!(
        bodies_in(source).await,
        expected,
        "every body once, the undecodable one unchanged too"
    );
    assert!(peek(dlq, 50).await.unwrap().is_empty());
}

/// A source queue that refuses every send: the message stays in the DLQ.
pub async fn dead_letters_failed_send_keeps_the_message(
    dlq: &impl MessageQueue<TicketSyncMessage>,
    broken_source: &dyn MessageQueue<TicketSyncMessage>,
) {
    use sync_store::dead_letters::{ReplaySelection, peek, replay};
    for t in 1..=3 {
        dlq.send(&dead(t)).await.unwrap();
    }
    let listed = peek(dlq, 50).await.unwrap();
    let report = replay(
        dlq,
        broken_source,
        &ReplaySelection::One(listed[0].message_id.clone()),
    )
    .await
    .unwrap();
    assert!(report.replayed.is_empty());
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, listed[0].message_id);
    let all = replay(dlq, broken_source, &ReplaySelection::All)
        .await
        .unwrap();
    assert_eq!(all.failed.len(), 1, "the first failure stops the replay");
    assert!(all.replayed.is_empty());
    assert_eq!(
        bodies_in(dlq).await.len(),
        3,
        "nothing left the DLQ without arriving"
    );
}

/// Instantiates every contract test for one backend. The caller's module must provide the
/// async constructors `entries()`, `conflicts()`, `audit()`, `control()`, `ticket_queue()`,
/// `write_queue()`, `dead_letter_queue()` (a `ticket-sync` DLQ), `broken_ticket_queue()`
/// (every send fails), `secrets()` (source, admin,
/// secret id) and `schedule()`.
#[macro_export]
macro_rules! contract_tests {
    () => {
        #[tokio::test]
        async fn entries_round_trip() {
            contract::entries_round_trip(&entries().await).await;
        }
        #[tokio::test]
        async fn entries_lost_link_race() {
            contract::entries_lost_link_race(&entries().await).await;
        }
        #[tokio::test]
        async fn entries_listings_page() {
            contract::entries_listings_page(&entries().await).await;
        }
        #[tokio::test]
        async fn conflicts_open_and_resolve_once() {
            contract::conflicts_open_and_resolve_once(&conflicts().await).await;
        }
        #[tokio::test]
        async fn conflicts_list_pages_newest_first() {
            contract::conflicts_list_pages_newest_first(&conflicts().await).await;
        }
        #[tokio::test]
        async fn audit_ttl_and_paging() {
            contract::audit_ttl_and_paging(&audit().await).await;
        }
        #[tokio::test]
        async fn control_documents() {
            contract::control_documents(&control().await).await;
        }
        #[tokio::test]
        async fn control_runs() {
            contract::control_runs(&control().await).await;
        }
        #[tokio::test]
        async fn control_watermark() {
            contract::control_watermark(&control().await).await;
        }
        #[tokio::test]
        async fn control_held_lease() {
            contract::control_held_lease(&control().await).await;
        }
        #[tokio::test]
        async fn control_duplicate_delivery() {
            contract::control_duplicate_delivery(&control().await).await;
        }
        #[tokio::test]
        async fn control_double_claim() {
            contract::control_double_claim(&control().await).await;
        }
        #[tokio::test]
        async fn control_users_and_login_throttle() {
            contract::control_users_and_login_throttle(&control().await).await;
        }
        #[tokio::test]
        async fn queue_round_trip() {
            contract::queue_round_trip(&ticket_queue().await, &write_queue().await).await;
        }
        #[tokio::test]
        async fn queue_release_and_depth() {
            contract::queue_release_and_depth(&ticket_queue().await).await;
        }
        #[tokio::test]
        async fn queue_batch_with_failing_entry() {
            contract::queue_batch_with_failing_entry(&ticket_queue().await).await;
        }
        #[tokio::test]
        async fn secrets_cache_expiry() {
            let (source, admin, id) = secrets().await;
            contract::secrets_cache_expiry(source, &admin, &id).await;
        }
        #[tokio::test]
        async fn entries_delete() {
            contract::entries_delete(&entries().await).await;
        }
        #[tokio::test]
        async fn conflicts_delete() {
            contract::conflicts_delete(&conflicts().await).await;
        }
        #[tokio::test]
        async fn audit_delete() {
            contract::audit_delete(&audit().await).await;
        }
        #[tokio::test]
        async fn dead_letters_peek_loses_nothing() {
            contract::dead_letters_peek_loses_nothing(&dead_letter_queue().await).await;
        }
        #[tokio::test]
        async fn dead_letters_replay() {
            contract::dead_letters_replay(&dead_letter_queue().await, &ticket_queue().await).await;
        }
        #[tokio::test]
        async fn dead_letters_failed_send_keeps_the_message() {
            let broken = broken_ticket_queue().await;
            contract::dead_letters_failed_send_keeps_the_message(
                &dead_letter_queue().await,
                broken.as_ref(),
            )
            .await;
        }
        #[tokio::test]
        async fn schedule_write_read() {
            contract::schedule_write_read(&schedule().await).await;
        }
    };
}
