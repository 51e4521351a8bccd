//! The control store's sync runs: counters added concurrently lose nothing, a run finishes once,
//! runs list newest first.

use crate::contract::data::*;
use crate::contract::paging::all_pages;
use chrono::Duration;
use sync_store::control::*;

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

/// A ticket's outcome counts once per run, however often its message comes: concurrent
/// deliveries included, and whatever each of them adds.
pub async fn control_count_ticket(store: &impl ControlStore) {
    let at = now();
    let run = store
        .create_run(RunTrigger::Backfill, &serde_json::json!({}), at)
        .await
        .unwrap();
    let done = RunCounters {
        tickets_done: 1,
        adopted: 2,
        conflicts: 1,
        ..Default::default()
    };
    assert_eq!(
        store.count_ticket(&run.id, 101, &done, at).await.unwrap(),
        TicketCount::Counted
    );
    // The same message again, or failing on its last delivery after it was counted done.
    let failed = RunCounters {
        failed: 1,
        ..Default::default()
    };
    for delta in [done, failed] {
        assert_eq!(
            store.count_ticket(&run.id, 101, &delta, at).await.unwrap(),
            TicketCount::AlreadyCounted
        );
    }
    // Five deliveries of another ticket at once: one counts.
    let counts: Vec<_> = (0..5)
        .map(|_| store.count_ticket(&run.id, 102, &done, at))
        .collect();
    let outcomes: Vec<TicketCount> = join_all(counts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == TicketCount::Counted)
            .count(),
        1,
        "{outcomes:?}"
    );
    // A ticket with nothing to add is noted all the same.
    let nothing = RunCounters::default();
    assert_eq!(
        store
            .count_ticket(&run.id, 103, &nothing, at)
            .await
            .unwrap(),
        TicketCount::Counted
    );
    assert_eq!(
        store.count_ticket(&run.id, 103, &done, at).await.unwrap(),
        TicketCount::AlreadyCounted
    );
    let stored = store.get_run(&run.id).await.unwrap().unwrap();
    assert_eq!(
        stored.counters,
        RunCounters {
            tickets_done: 2,
            adopted: 4,
            conflicts: 2,
            ..Default::default()
        }
    );
    // The same ticket in another run counts there; a run that does not exist counts nothing.
    let other = store
        .create_run(RunTrigger::Verify, &serde_json::json!({}), at)
        .await
        .unwrap();
    assert_eq!(
        store.count_ticket(&other.id, 101, &done, at).await.unwrap(),
        TicketCount::Counted
    );
    assert_eq!(
        store
            .count_ticket(&RunId("nope".into()), 104, &done, at)
            .await
            .unwrap(),
        TicketCount::NoRun
    );
}
