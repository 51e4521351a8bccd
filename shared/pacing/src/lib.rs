//! One pace for all calls to an upstream (a customer's Kimai or Zammad), shared by every Lambda
//! instance that calls it.
//!
//! Each client already bounds its own requests in flight, and the queue mappings bound how many
//! instances run. Neither stops a burst of fast calls, nor makes every instance back off when a
//! proxy in front of the upstream answers 429. A [`Pacer`] does both, with its state where all
//! instances see it (the control table, see `sync_service::pacing`):
//!
//! - before each attempt, a client asks for a call slot ([`wait_for_slot`]): at most a
//!   configured number of calls start per second, across all instances;
//! - after a 429, the client records the pause the upstream asked for ([`pause_after_429`]),
//!   and no instance calls again before it ends.
//!
//! Waiting for a slot respects the invocation's deadline ([`call_deadline`]): when the slot
//! comes too late, the call is not made and the client reports a rate limit, which the caller
//! handles like the upstream's own 429 (the record is retried later).
//!
//! The pace store failing must not stop the sync: the pace protects the upstream, it does not
//! decide anything. A failing store is logged and the call goes ahead, still bounded by the
//! client's own concurrency.

use async_trait::async_trait;
use std::fmt;
use std::time::Duration;

/// The shared pace of one upstream connection.
#[async_trait]
pub trait Pacer: Send + Sync + fmt::Debug {
    /// Takes a slot for one call starting now: `Ok(None)`, or `Ok(Some(wait))` when no slot is
    /// free before `wait` from now (the second is full, or the upstream asked for a pause).
    async fn take_slot(&self) -> Result<Option<Duration>, String>;
    /// Records that the upstream asked every caller to wait `wait` from now.
    async fn pause(&self, wait: Duration) -> Result<(), String>;
}

/// The pause recorded after a 429 without `Retry-After`.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// Waits until a call slot is free. `Err(wait)` when the next slot comes too late for the
/// invocation's deadline: the call should not be made, and the caller reports a rate limit
/// that ends in `wait`.
pub async fn wait_for_slot(pacer: &dyn Pacer) -> Result<(), Duration> {
    loop {
        match pacer.take_slot().await {
            Ok(None) => return Ok(()),
            Ok(Some(wait)) => {
                if !call_deadline::allows_wait(wait) {
                    return Err(wait);
                }
                tracing::debug!(wait_ms = wait.as_millis() as u64, "waiting for a call slot");
                tokio::time::sleep(wait).await;
            }
            Err(error) => {
                tracing::warn!(%error, "the shared call pace is unavailable; calling anyway");
                return Ok(());
            }
        }
    }
}

/// Records the pause a 429 asked for: its `Retry-After`, or [`DEFAULT_PAUSE`] without one,
/// at most `cap` (a broken proxy must not park every instance for hours).
pub async fn pause_after_429(pacer: &dyn Pacer, retry_after: Option<Duration>, cap: Duration) {
    let wait = retry_after.unwrap_or(DEFAULT_PAUSE).min(cap);
    if let Err(error) = pacer.pause(wait).await {
        tracing::warn!(%error, "could not record the upstream's pause");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::time::Instant;

    /// Answers from a script, and records the pauses.
    #[derive(Debug, Default)]
    struct Scripted {
        answers: Mutex<Vec<Result<Option<Duration>, String>>>,
        pauses: Mutex<Vec<Duration>>,
    }

    #[async_trait]
    impl Pacer for Scripted {
        async fn take_slot(&self) -> Result<Option<Duration>, String> {
            self.answers.lock().unwrap().remove(0)
        }
        async fn pause(&self, wait: Duration) -> Result<(), String> {
            self.pauses.lock().unwrap().push(wait);
            Ok(())
        }
    }

    fn scripted(answers: Vec<Result<Option<Duration>, String>>) -> Scripted {
        Scripted {
            answers: Mutex::new(answers),
            ..Scripted::default()
        }
    }

    // Real time with short waits: the assertions are lower bounds, or far from the bound.
    #[tokio::test]
    async fn waits_as_long_as_the_store_says_then_takes_the_slot() {
        let pacer = scripted(vec![
            Ok(Some(Duration::from_millis(70))),
            Ok(Some(Duration::from_millis(30))),
            Ok(None),
        ]);
        let started = Instant::now();
        assert_eq!(wait_for_slot(&pacer).await, Ok(()));
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert!(pacer.answers.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_slot_after_the_deadline_is_not_waited_for() {
        let pacer = scripted(vec![Ok(Some(Duration::from_secs(5)))]);
        let started = Instant::now();
        let got = call_deadline::run_until(
            Instant::now() + Duration::from_secs(3),
            wait_for_slot(&pacer),
        )
        .await;
        assert_eq!(got, Err(Duration::from_secs(5)));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "gave up without waiting"
        );
    }

    #[tokio::test]
    async fn a_failing_store_lets_the_call_go_ahead() {
        let pacer = scripted(vec![Err("table unavailable".into())]);
        assert_eq!(wait_for_slot(&pacer).await, Ok(()));
    }

    #[tokio::test]
    async fn a_pause_is_the_retry_after_capped_or_a_second() {
        let pacer = scripted(vec![]);
        let cap = Duration::from_secs(60);
        pause_after_429(&pacer, Some(Duration::from_secs(2)), cap).await;
        pause_after_429(&pacer, None, cap).await;
        pause_after_429(&pacer, Some(Duration::from_secs(3600)), cap).await;
        assert_eq!(
            *pacer.pauses.lock().unwrap(),
            [Duration::from_secs(2), DEFAULT_PAUSE, cap]
        );
    }
}
