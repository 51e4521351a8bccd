//! gdpr-purge's handler on Lambda payloads, over the in-memory stores: an order runs its job to
//! the end, a job already done is left alone, and payloads that can never work end without a
//! retry (nothing of the payload is echoed but the job id).

use serde_json::json;
use sync_core::ids::TicketId;
use sync_lambda::purge::handle;
use sync_service::privacy::job::{self, PurgeJob};
use sync_store::clock::Clock;
use sync_store::entries::{EntriesStore, EntryStatus};
use test_support::records::entry_record;
use test_support::stores::MemoryStores;

#[tokio::test]
async fn an_order_runs_its_job_and_a_second_invocation_changes_nothing() {
    let stores = MemoryStores::new();
    let ports = stores.privacy_ports();
    let now = stores.clock.now();
    for (accounting, agent) in [(1, 7), (2, 8)] {
        let r = entry_record(
            40,
            accounting,
            agent,
            now.date_naive(),
            EntryStatus::Synced,
            now,
        );
        stores.entries.save(&r).await.unwrap();
    }
    let queued = PurgeJob::queued("admin", now);
    job::save(stores.control.as_ref(), &queued).await.unwrap();
    let payload =
        json!({"purge": {"job": queued.id, "agent_id": 7, "identifiers": ["eva@example.com"]}});

    let answer = handle(&ports, payload.clone()).await.unwrap();
    assert_eq!(answer["status"], "done", "{answer}");
    assert_eq!(answer["counts"]["entries"], 1);
    assert!(
        !answer.to_string().contains("eva@"),
        "the person is not echoed"
    );
    assert_eq!(
        stores
            .entries
            .load_ticket(TicketId(40))
            .await
            .unwrap()
            .len(),
        1
    );

    // Lambda may deliver an asynchronous event twice: the job is done, nothing runs again.
    let again = handle(&ports, payload).await.unwrap();
    assert_eq!(again["status"], "done");
    let stored = job::load(stores.control.as_ref(), &queued.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.attempts, 1);
}

#[tokio::test]
async fn payloads_that_cannot_work_end_without_a_retry() {
    let stores = MemoryStores::new();
    let ports = stores.privacy_ports();
    let refused = handle(&ports, json!({"mode": "fetch"})).await.unwrap();
    assert_eq!(refused["status"], "refused", "{refused}");
    let unknown = handle(
        &ports,
        json!({"purge": {"job": "nope", "agent_id": 7, "identifiers": []}}),
    )
    .await
    .unwrap();
    assert_eq!(unknown["status"], "failed", "{unknown}");
    assert_eq!(unknown["error"], "no purge job nope");
}
