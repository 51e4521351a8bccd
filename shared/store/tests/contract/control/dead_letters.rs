//! The control store's dead-letter records: what the console lists instead of receiving from
//! the DLQs.

use crate::contract::data::*;
use chrono::Duration;
use sync_store::control::*;

fn record(queue: &str, id: &str, minutes: i64) -> DeadLetterRecord {
    DeadLetterRecord {
        queue: queue.into(),
        message_id: id.into(),
        body: format!(r#"{{"ticket_id":7,"id":"{id}"}}"#),
        error: "Kimai answered 500".into(),
        failed_at: now() + Duration::minutes(minutes),
    }
}

pub async fn control_dead_letter_records(store: &impl ControlStore) {
    assert!(
        store
            .dead_letters("ticket-sync", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let (late, early, other) = (
        record("ticket-sync", "m-1", 5),
        record("ticket-sync", "m-2", 1),
        record("kimai-write", "m-3", 0),
    );
    for r in [&late, &early, &other] {
        store.put_dead_letter(r).await.unwrap();
    }
    // Oldest first, one queue only, at most the limit.
    let listed = store.dead_letters("ticket-sync", 10).await.unwrap();
    assert_eq!(listed, vec![early.clone(), late.clone()]);
    assert_eq!(
        store.dead_letters("ticket-sync", 1).await.unwrap(),
        vec![early.clone()]
    );
    assert_eq!(
        store.dead_letters("kimai-write", 10).await.unwrap(),
        vec![other.clone()]
    );
    // The same message failing again (replayed, failed again) is one record, the newest.
    let again = DeadLetterRecord {
        error: "Zammad answered 502".into(),
        ..record("ticket-sync", "m-2", 9)
    };
    store.put_dead_letter(&again).await.unwrap();
    let listed = store.dead_letters("ticket-sync", 10).await.unwrap();
    assert_eq!(listed, vec![late.clone(), again]);

    assert!(
        store
            .delete_dead_letter("ticket-sync", "m-2")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_dead_letter("ticket-sync", "m-2")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_dead_letter("kimai-write", "m-1")
            .await
            .unwrap(),
        "another queue's id"
    );
    assert_eq!(
        store.dead_letters("ticket-sync", 10).await.unwrap(),
        vec![late]
    );
}
