//! The time the current invocation has left.
//!
//! A Lambda function is killed at its time limit, in the middle of whatever it was doing, and
//! the whole batch it held is retried. So the Lambda glue runs each piece of work (an SQS
//! record, an API request, a fetch) inside [`run_until`] with the invocation's deadline minus a
//! margin, and the upstream clients ask [`remaining`] before each attempt and each retry wait:
//! an attempt never outlives the deadline, and a retry that would end after it is not made.
//! The caller gets the error instead, with time left to report it (a batch item failure, an
//! error answer, a failed run).
//!
//! The deadline is task-local: it reaches every call made by the future it scopes, however
//! deep, without each signature passing it on. Outside any scope (tests, the local API
//! example, tools) there is no deadline and [`remaining`] is `None`.

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `work` with `deadline` as the time its upstream calls must end by. A scope inside
/// another keeps the earlier of the two deadlines.
pub async fn run_until<F: Future>(deadline: Instant, work: F) -> F::Output {
    let deadline = current().map_or(deadline, |outer| outer.min(deadline));
    DEADLINE.scope(deadline, work).await
}

/// The deadline of the current task, if it runs under one.
pub fn current() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// Time left before the deadline (zero once it has passed); `None` without a deadline.
pub fn remaining() -> Option<Duration> {
    current().map(|d| d.saturating_duration_since(Instant::now()))
}

/// Whether waiting `wait` and then making an attempt still fits before the deadline (always
/// without one). An attempt needs some time of its own: [`MIN_ATTEMPT`].
pub fn allows_wait(wait: Duration) -> bool {
    remaining().is_none_or(|left| wait + MIN_ATTEMPT <= left)
}

/// Time an attempt at an upstream call needs at the least to be worth making.
pub const MIN_ATTEMPT: Duration = Duration::from_secs(1);

/// The per-attempt timeout: `configured`, shortened to the time left. `None` when the deadline
/// leaves less than [`MIN_ATTEMPT`]: the attempt should not be made.
pub fn attempt_timeout(configured: Duration) -> Option<Duration> {
    match remaining() {
        None => Some(configured),
        Some(left) if left < MIN_ATTEMPT => None,
        Some(left) => Some(configured.min(left)),
    }
}

/// The deadline `margin` before the end of an invocation whose end is `left` from now.
pub fn before_end(left: Duration, margin: Duration) -> Instant {
    Instant::now() + left.saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real time, with margins wide enough for a loaded machine: the assertions compare
    // against bounds, not exact instants.
    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn without_a_scope_there_is_no_limit() {
        assert_eq!(remaining(), None);
        assert!(allows_wait(Duration::from_secs(3600)));
        assert_eq!(attempt_timeout(30 * SECOND), Some(30 * SECOND));
    }

    #[tokio::test]
    async fn attempts_and_waits_are_cut_to_the_time_left() {
        run_until(Instant::now() + 10 * SECOND, async {
            let left = remaining().unwrap();
            assert!(left <= 10 * SECOND && left > 9 * SECOND, "{left:?}");
            let cut = attempt_timeout(30 * SECOND).unwrap();
            assert!(cut <= 10 * SECOND && cut > 9 * SECOND, "{cut:?}");
            assert_eq!(attempt_timeout(2 * SECOND), Some(2 * SECOND));
            assert!(allows_wait(5 * SECOND));
            assert!(!allows_wait(9_500 * Duration::from_millis(1)));
        })
        .await;
        run_until(Instant::now() + Duration::from_millis(300), async {
            assert_eq!(
                attempt_timeout(30 * SECOND),
                None,
                "less than an attempt left"
            );
            tokio::time::sleep(Duration::from_millis(400)).await;
            assert_eq!(remaining(), Some(Duration::ZERO), "past the deadline");
        })
        .await;
    }

    #[tokio::test]
    async fn an_inner_scope_cannot_extend_the_outer_deadline() {
        let outer = Instant::now() + 5 * SECOND;
        run_until(outer, async {
            run_until(outer + 60 * SECOND, async {
                assert_eq!(current(), Some(outer));
            })
            .await;
            let inner = outer - 2 * SECOND;
            run_until(inner, async { assert_eq!(current(), Some(inner)) }).await;
        })
        .await;
    }

    #[tokio::test]
    async fn the_margin_is_taken_off_the_end_and_never_goes_below_now() {
        let before = Instant::now();
        let d = before_end(60 * SECOND, 5 * SECOND);
        assert!(d >= before + 55 * SECOND && d < before + 56 * SECOND);
        let d = before_end(3 * SECOND, 5 * SECOND);
        assert!(d >= before && d < before + SECOND);
    }
}
