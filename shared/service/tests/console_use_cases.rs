//! The console's use cases on the in-memory stores, without HTTP: what resolving writes (the
//! conflict record, the decisions document reconcile reads, the follow-up, the audit event),
//! and that approving builds the same kimai-write message as `kimai_write::message`.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::*;
use sync_core::plan::{ConflictReason, Operation};
use sync_service::console::approvals::{self, ApprovalDeps, EntryRef, Outcome};
use sync_service::console::resolution::{
    self, ItemOutcome, ResolutionDeps, ResolveMany, ResolveOne, Selection,
};
use sync_service::console::{AccessLog, Actor, ConsoleError};
use sync_service::decisions::load_ticket_decisions;
use sync_service::kimai_write;
use sync_store::PageRequest;
use sync_store::audit::{AuditFilter, AuditLog, AuditRecord, AuditRetention};
use sync_store::clock::ManualClock;
use sync_store::conflicts::{ConflictId, ConflictsStore, ResolutionAction, ResolutionEffect};
use sync_store::entries::{EntriesStore, EntryRecord, EntryStatus};
use sync_store::memory::{
    MemoryAuditLog, MemoryConflicts, MemoryControl, MemoryEntries, MemoryQueue,
};
use sync_store::queue::{KimaiWriteMessage, SyncReason, TicketSyncMessage, decode};

struct Stores {
    conflicts: MemoryConflicts,
    control: MemoryControl,
    entries: MemoryEntries,
    ticket_sync: MemoryQueue<TicketSyncMessage>,
    kimai_write: MemoryQueue<KimaiWriteMessage>,
    audit: MemoryAuditLog,
    clock: ManualClock,
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
}

impl Stores {
    fn new() -> Self {
        Stores {
            conflicts: MemoryConflicts::new(),
            control: MemoryControl::new(),
            entries: MemoryEntries::new(),
            ticket_sync: MemoryQueue::new(),
            kimai_write: MemoryQueue::new(),
            audit: MemoryAuditLog::new(AuditRetention::default()),
            clock: ManualClock::new(now()),
        }
    }

    fn resolution(&self) -> ResolutionDeps<'_> {
        ResolutionDeps {
            conflicts: &self.conflicts,
            control: &self.control,
            ticket_sync: &self.ticket_sync,
            access: self.access(),
        }
    }

    fn approvals(&self) -> ApprovalDeps<'_> {
        ApprovalDeps {
            entries: &self.entries,
            kimai_write: &self.kimai_write,
            access: self.access(),
        }
    }

    fn access(&self) -> AccessLog<'_> {
        AccessLog {
            log: &self.audit,
            clock: &self.clock,
        }
    }

    async fn open(&self, id: &str, ticket: u64, accounting: u64, reason: ConflictReason) {
        let conflict = test_support::records::conflict(ticket, accounting, reason);
        self.conflicts
            .open(&ConflictId(id.into()), &conflict, now())
            .await
            .unwrap();
    }

    async fn audit_rows(&self) -> Vec<AuditRecord> {
        let day = now().date_naive();
        let (page, filter) = (PageRequest::first(500), AuditFilter::default());
        let found = self.audit.query(day, day, &filter, &page).await;
        found.unwrap().items
    }
}

fn admin() -> Actor {
    Actor {
        username: "admin".into(),
        ip: Some("192.0.2.7".into()),
        user_agent: Some("test-agent".into()),
    }
}

fn one(action: ResolutionAction, kimai_id: Option<u64>, note: Option<&str>) -> ResolveOne {
    ResolveOne {
        action,
        kimai_id,
        note: note.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_resolution_writes_the_record_the_decision_the_follow_up_and_the_audit_event() {
    let s = Stores::new();
    s.open("dup", 40, 1, ConflictReason::ProbableDuplicate)
        .await;
    s.open("gone", 40, 2, ConflictReason::DeletedInKimai).await;
    let deps = s.resolution();

    let request = one(
        ResolutionAction::CreateAnyway,
        None,
        Some(" different work "),
    );
    let resolved = resolution::resolve_one(&deps, &admin(), "dup", &request)
        .await
        .unwrap();
    let r = resolved.resolution.unwrap();
    assert_eq!(r.action, ResolutionEffect::ApplyZammad);
    assert_eq!(r.actor, "admin");
    assert_eq!(r.note.as_deref(), Some("create_anyway: different work"));

    let request = one(ResolutionAction::AcceptDeletion, None, None);
    resolution::resolve_one(&deps, &admin(), "gone", &request)
        .await
        .unwrap();

    // The document the console wrote reads back as reconcile reads it.
    let d = load_ticket_decisions(&s.control, TicketId(40))
        .await
        .unwrap();
    assert_eq!(d.ticket, Some(TicketId(40)));
    assert_eq!(d.create_anyway, vec![EntryKey("ta:1".into())]);
    assert_eq!(d.ignored, vec![EntryKey("ta:2".into())]);
    assert_eq!(d.decisions.len(), 2);
    assert_eq!(d.decisions[1].action, ResolutionAction::AcceptDeletion);
    assert_eq!(d.decisions[1].conflict_id, Some(ConflictId("gone".into())));
    assert_eq!(d.decisions[1].actor.as_deref(), Some("admin"));
    assert_eq!(d.decisions[1].at, Some(now()));

    let messages: Vec<TicketSyncMessage> = (s.ticket_sync.waiting_bodies().iter())
        .map(|b| decode(b).unwrap())
        .collect();
    assert_eq!(messages.len(), 2);
    assert!(
        messages.iter().all(|m| m.ticket_id == TicketId(40)
            && m.reason == SyncReason::Resolution
            && !m.dry_run)
    );

    let audit = s.audit_rows().await;
    assert_eq!(audit.len(), 2);
    let e = &audit
        .iter()
        .find(|r| r.event.detail["id"] == "dup")
        .unwrap()
        .event;
    assert_eq!(e.action, "conflict.resolve");
    assert_eq!(
        (e.actor.as_str(), e.ip.as_deref()),
        ("admin", Some("192.0.2.7"))
    );
    assert_eq!(e.detail["action"], "create_anyway");
    assert_eq!(e.detail["user_agent"], "test-agent");
}

#[tokio::test]
async fn a_link_names_a_candidate_and_reconcile_reads_it_back() {
    let s = Stores::new();
    s.open("dup", 40, 1, ConflictReason::ProbableDuplicate)
        .await;
    let deps = s.resolution();

    for (kimai_id, why) in [
        (None, "link needs kimai_id"),
        (Some(99), "not one of the candidates"),
    ] {
        let request = one(ResolutionAction::Link, kimai_id, None);
        let err = resolution::resolve_one(&deps, &admin(), "dup", &request)
            .await
            .unwrap_err();
        let ConsoleError::Invalid { detail, errors } = err else {
            panic!("{err:?}")
        };
        assert_eq!(errors[0].field, "kimai_id");
        assert!(detail.contains(why), "{detail}");
    }
    let request = one(ResolutionAction::Link, Some(71), None);
    let resolved = resolution::resolve_one(&deps, &admin(), "dup", &request)
        .await
        .unwrap();
    assert_eq!(
        resolved.resolution.unwrap().action,
        ResolutionEffect::Link {
            kimai_id: TimesheetId(71)
        }
    );
    let d = load_ticket_decisions(&s.control, TicketId(40))
        .await
        .unwrap();
    assert_eq!(d.link_for(&EntryKey("ta:1".into())), Some(TimesheetId(71)));
    assert!(d.create_anyway.is_empty() && d.ignored.is_empty());
}

#[tokio::test]
async fn an_action_that_does_not_fit_or_a_second_resolution_is_refused_and_writes_nothing() {
    let s = Stores::new();
    s.open("edit", 41, 3, ConflictReason::BothChanged).await;
    let deps = s.resolution();

    let request = one(ResolutionAction::Recreate, None, None);
    let err = resolution::resolve_one(&deps, &admin(), "edit", &request)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConsoleError::Invalid { errors, .. } if errors[0].field == "action"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid request: action: recreate does not fit a both_changed conflict; use one of: \
         keep_kimai, apply_zammad, ignore"
    );

    let apply = one(ResolutionAction::ApplyZammad, None, None);
    resolution::resolve_one(&deps, &admin(), "edit", &apply)
        .await
        .unwrap();
    let keep = one(ResolutionAction::KeepKimai, None, None);
    let err = resolution::resolve_one(&deps, &admin(), "edit", &keep)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("already resolved by admin"),
        "{err}"
    );
    let d = load_ticket_decisions(&s.control, TicketId(41))
        .await
        .unwrap();
    assert!(d.ignored.is_empty());
    assert_eq!(d.apply_zammad_at(&EntryKey("ta:3".into())), Some(now()));
    assert_eq!(s.ticket_sync.waiting_bodies().len(), 1);

    let missing = resolution::resolve_one(&deps, &admin(), "nope", &keep).await;
    assert!(matches!(missing, Err(ConsoleError::NotFound(_))));
}

#[tokio::test]
async fn many_by_ids_report_each_and_audit_once() {
    let s = Stores::new();
    s.open("a", 50, 1, ConflictReason::UnmappedUser).await;
    s.open("b", 51, 2, ConflictReason::UnmappedUser).await;
    s.open("c", 51, 3, ConflictReason::ProbableDuplicate).await;
    let deps = s.resolution();
    let request = ResolveMany {
        action: ResolutionAction::Ignore,
        selection: Some(Selection::Ids(vec!["a".into(), "b".into(), "x".into()])),
        note: None,
    };
    let outcome = resolution::resolve_many(&deps, &admin(), &request)
        .await
        .unwrap();
    assert_eq!(outcome.resolved, 2);
    let items: Vec<(&str, ItemOutcome)> = (outcome.items.iter())
        .map(|i| (i.id.as_str(), i.outcome))
        .collect();
    assert_eq!(
        items,
        [
            ("x", ItemOutcome::NotFound),
            ("a", ItemOutcome::Resolved),
            ("b", ItemOutcome::Resolved)
        ]
    );
    let audit = s.audit_rows().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].event.action, "conflict.resolve_many");
    assert_eq!(
        audit[0].event.detail["tickets"],
        serde_json::json!([50, 51])
    );

    let link = ResolveMany {
        action: ResolutionAction::Link,
        ..request
    };
    let err = resolution::resolve_many(&deps, &admin(), &link).await;
    assert!(matches!(err, Err(ConsoleError::Invalid { .. })));
}

/// A desired timesheet of agent 5.
fn desired(ticket: u64, accounting: u64, day: NaiveDate) -> DesiredTimesheet {
    test_support::records::desired(ticket, accounting, 5, day)
}

#[tokio::test]
async fn approving_queues_the_create_under_the_id_kimai_write_derives() {
    let s = Stores::new();
    let day = now().date_naive();
    for (accounting, status) in [(1, EntryStatus::AwaitingApproval), (2, EntryStatus::Synced)] {
        let d = desired(20, accounting, day);
        let record = EntryRecord {
            ticket_id: TicketId(20),
            key: d.key.clone(),
            agent_id: ZammadUserId(5),
            day,
            status,
            desired: Some(d),
            base: None,
            updated_at: now(),
            create_sent_at: None,
        };
        s.entries.save(&record).await.unwrap();
    }
    let entries = [1, 2, 9].map(|a| EntryRef {
        ticket: 20,
        key: format!("ta:{a}"),
    });
    let done = approvals::approve(&s.approvals(), &admin(), &entries)
        .await
        .unwrap();
    assert_eq!(done.approved, 1);
    let outcomes: Vec<Outcome> = done.items.iter().map(|i| i.outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Approved, Outcome::NotAwaiting, Outcome::NotFound]
    );
    assert_eq!(done.items[1].detail.as_deref(), Some("status is synced"));

    let sent: Vec<KimaiWriteMessage> = (s.kimai_write.waiting_bodies().iter())
        .map(|b| decode(b).unwrap())
        .collect();
    let op = Operation::Create {
        desired: desired(20, 1, day),
    };
    let revision = format!("approved@{}", now().to_rfc3339());
    assert_eq!(
        sent,
        [kimai_write::message(TicketId(20), None, op, &revision)]
    );
    let record = s.entries.get(TicketId(20), &EntryKey("ta:1".into())).await;
    assert_eq!(record.unwrap().unwrap().status, EntryStatus::Pending);
}
