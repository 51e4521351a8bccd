//! The message queues: round trip of both message kinds, release and depth, a batch with a
//! failing entry.

use crate::contract::data::*;
use std::collections::BTreeSet;
use std::time::Duration;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::plan::Operation;
use sync_store::StoreError;
use sync_store::control::*;
use sync_store::queue::*;

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

/// A message sent with a delay is held back for it, counted as waiting meanwhile, and
/// received afterwards; a delay beyond SQS's 15 minutes is refused.
pub async fn queue_delayed_message(sync: &impl MessageQueue<TicketSyncMessage>) {
    let message = TicketSyncMessage::new(TicketId(77), SyncReason::Schedule, None);
    sync.send_delayed(&message, Duration::from_secs(2))
        .await
        .unwrap();
    assert!(
        sync.receive(10, 0).await.unwrap().is_empty(),
        "held back by its delay"
    );
    assert_eq!(sync.approximate_depth().await.unwrap(), 1, "yet waiting");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let got = receive_all(sync, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message.as_ref().unwrap(), &message);
    let err = sync
        .send_delayed(&message, Duration::from_secs(901))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}
