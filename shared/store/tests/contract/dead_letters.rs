//! The dead-letter queues: peeking loses nothing, a replay moves messages back, a failed send
//! keeps the message.

use std::collections::BTreeSet;
use sync_core::ids::TicketId;
use sync_store::queue::*;

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

/// The GDPR purge's pass: the matching messages go, the others stay (released at once).
pub async fn dead_letters_remove_where(dlq: &impl MessageQueue<TicketSyncMessage>) {
    for t in 1..=5 {
        dlq.send(&dead(t)).await.unwrap();
    }
    dlq.send_raw("about anna@example.com").await.unwrap();
    let removed = sync_store::dead_letters::remove_where(dlq, |body| {
        body.contains("anna@") || body.contains("\"ticket_id\":2,")
    })
    .await
    .unwrap();
    assert_eq!(removed, 2);
    let left = bodies_in(dlq).await;
    assert_eq!(left.len(), 4, "{left:?}");
    assert!(
        left.iter()
            .all(|b| !b.contains("anna@") && !b.contains("\"ticket_id\":2,"))
    );
}
