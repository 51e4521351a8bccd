//! A purged person stays purged: reconcile leaves their time out (their timesheets in Kimai are
//! neither adopted back by marker nor changed), and the writer drops a create planned for them
//! before the purge. Against the real Zammad and Kimai simulators, on the in-memory stores.

use std::sync::Arc;
use sync_core::ids::ZammadUserId;
use sync_service::privacy::PrivacyPorts;
use sync_service::privacy::job::{self, JobStatus, PurgeJob};
use sync_service::privacy::purge::{PurgeOrder, run_purge};
use sync_service::privacy::suppression::{Suppressed, identity_hash, suppress};
use sync_service::writer::{WriteOutcome, Writer, WriterCache};
use sync_store::control::{ControlStore, DocumentKind};
use sync_store::entries::EntriesStore;
use sync_store::memory::MemoryQueue;
use sync_store::queue::MessageQueue;
use test_support::pipeline::{Harness, TICKET};

/// Anna, who booked both accountings of the harness' ticket.
const ANNA: ZammadUserId = ZammadUserId(2);

fn ports(h: &Harness) -> PrivacyPorts {
    PrivacyPorts {
        entries: h.entries.clone(),
        conflicts: h.conflicts.clone(),
        control: h.control.clone(),
        audit: h.audit.clone(),
        clock: h.sync_stores.clock.clone(),
        ticket_sync: Arc::new(MemoryQueue::new()),
        ticket_sync_dead: Arc::new(MemoryQueue::new()),
        kimai_write: h.writes.clone(),
        kimai_write_dead: Arc::new(MemoryQueue::new()),
    }
}

async fn purge_anna(h: &Harness) -> PurgeJob {
    let ports = ports(h);
    let queued = PurgeJob::queued("admin", ports.clock.now());
    job::save(ports.control.as_ref(), &queued).await.unwrap();
    let order = PurgeOrder {
        job: queued.id.clone(),
        agent_id: ANNA.0,
        identifiers: vec!["anna@example.com".into()],
    };
    run_purge(&ports, &order).await.unwrap()
}

#[tokio::test]
async fn a_purged_agents_timesheets_are_not_adopted_back_nor_changed() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    assert_eq!(h.kimai_sheets().len(), 2);
    let done = purge_anna(&h).await;
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.counts.entries, 2);
    assert!(h.entries.load_ticket(TICKET).await.unwrap().is_empty());

    let writes = h.kimai_writes();
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(
        (report.creates, report.adopted, report.enqueued),
        (0, 0, 0),
        "{report:?}"
    );
    assert!(h.run_writer().await.is_empty());
    assert!(
        h.entries.load_ticket(TICKET).await.unwrap().is_empty(),
        "no entry of theirs comes back"
    );
    assert_eq!(h.kimai_writes(), writes);
    assert_eq!(
        h.kimai_sheets().len(),
        2,
        "their timesheets stay in Kimai: Kimai's data is Kimai's"
    );
    assert!(h.open_conflicts().await.is_empty());

    // Without the suppression record the same reconcile adopts them again by marker: what the
    // record prevents (and how a person is taken back).
    assert!(
        h.control
            .delete_document(DocumentKind::Suppression, &identity_hash(ANNA))
            .await
            .unwrap()
    );
    let report = h.reconcile(TICKET).await.unwrap();
    assert_eq!(report.adopted, 2, "{report:?}");
    assert_eq!(h.entries.load_ticket(TICKET).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_create_planned_before_the_purge_is_not_written() {
    let h = Harness::start().await;
    h.reconcile(TICKET).await.unwrap();
    assert_eq!(h.queued().len(), 2);
    // The purge's queue pass missed them (in flight): the writer still must not write them.
    suppress(h.control.as_ref(), ANNA, h.sync_stores.now())
        .await
        .unwrap();
    let writer = Writer::new(h.writer.kimai.clone(), h.sync_stores.clone(), "test")
        .with_suppressed(Suppressed::load(h.control.as_ref()).await.unwrap());
    let cache = WriterCache::new();
    for r in h.writes.receive(10, 0).await.unwrap() {
        let outcome = writer
            .apply_body(&cache, &r.message_id, &r.body)
            .await
            .unwrap();
        assert_eq!(outcome, WriteOutcome::OutOfDate);
    }
    assert_eq!(h.kimai_writes(), 0);
    assert!(h.kimai_sheets().is_empty());
}
