//! What an unchanged ticket costs the stores: a reconcile that plans nothing writes no entry
//! record (each write is paid once per index of the entries table on AWS).

use sync_store::entries::EntriesStore;
use test_support::pipeline::{Harness, TICKET};

#[tokio::test]
async fn a_synced_ticket_reconciled_again_rewrites_no_entry_record() {
    let h = Harness::start().await;
    h.sync(TICKET).await;
    let after_sync = h.entries.load_ticket(TICKET).await.unwrap();
    assert!(!after_sync.is_empty());
    for _ in 0..2 {
        let again = h.reconcile(TICKET).await.unwrap();
        assert!(again.plan.operations.is_empty(), "{again:?}");
        let now = h.entries.load_ticket(TICKET).await.unwrap();
        for (before, after) in after_sync.iter().zip(&now) {
            assert_eq!(before.key, after.key);
            assert_eq!(
                before.updated_at, after.updated_at,
                "{:?} rewritten:\n{before:?}\n{after:?}",
                after.key
            );
        }
    }
}

/// A generated world (Zammad stamps its accountings to the millisecond, Kimai keeps seconds):
/// a backfill, the writes, then the same backfill again. Before local times were whole seconds,
/// 295 of its 303 records were written again, each time.
#[tokio::test]
async fn a_backfilled_world_backfilled_again_rewrites_no_entry_record() {
    use chrono::{NaiveDate, TimeZone, Utc};
    use sync_core::ids::TicketId;
    use sync_store::queue::{SyncReason, SyncWindow, TicketSyncMessage};
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let spec = demo_data::DemoSpec::new(44, 120, 4, demo_data::Unit::Minutes, start).unwrap();
    let (mut zammad, mut kimai) = demo_data::generate(&spec);
    zammad.tokens.push(zammad_sim::dataset::TokenRecord {
        token: test_support::datasets::zammad::TWO_ACCOUNTINGS_TOKEN.into(),
        user_id: demo_data::cast::ADMIN_ZAMMAD_ID,
    });
    kimai.tokens.push(kimai_sim::dataset::TokenRecord {
        token: test_support::datasets::kimai::ACME_ADMIN_TOKEN.into(),
        user: demo_data::cast::KIMAI_API_USER,
    });
    let policy: serde_json::Value =
        serde_json::from_str(include_str!("../../../infra/bench/bench-policy.json")).unwrap();
    let tickets: Vec<u64> = zammad.tickets.iter().map(|t| t.id).collect();
    let h = Harness::start_with(zammad, kimai, policy).await;
    let window = SyncWindow {
        from: Utc.with_ymd_and_hms(2026, 2, 28, 0, 0, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2026, 4, 10, 0, 0, 0).unwrap(),
    };
    let message = |t: u64| {
        let mut m = TicketSyncMessage::new(TicketId(t), SyncReason::Backfill, None);
        m.window = Some(window);
        m
    };
    for &t in &tickets {
        h.reconcile_message(&message(t)).await.unwrap();
    }
    h.run_writer().await;
    let mut before = Vec::new();
    for &t in &tickets {
        before.extend(h.entries.load_ticket(TicketId(t)).await.unwrap());
    }
    for &t in &tickets {
        let again = h.reconcile_message(&message(t)).await.unwrap();
        assert!(again.plan.operations.is_empty(), "{again:?}");
    }
    let mut rewritten = Vec::new();
    for b in &before {
        let now = h.entries.get(b.ticket_id, &b.key).await.unwrap().unwrap();
        if now.updated_at != b.updated_at {
            rewritten.push(format!("{b:?}\n{now:?}"));
        }
    }
    assert!(
        rewritten.is_empty(),
        "{} of {} rewritten, e.g.\n{}",
        rewritten.len(),
        before.len(),
        rewritten.first().unwrap()
    );
}
