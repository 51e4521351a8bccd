//! When an invocation's work must end: Lambda's deadline minus margins. Upstream calls end by
//! [`Deadline::calls`] (see [`call_deadline`]); an SQS batch stops records still running at
//! [`Deadline::stop`] ([`crate::sqs`]). The api and scheduled-fetch use the calls' deadline.

use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// When an invocation's work must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// Upstream calls and their retries end by then ([`call_deadline::run_until`]).
    pub calls: Instant,
    /// A record still running then is stopped and reported as failed: the time between the
    /// two lets a record whose call gave up record its failure.
    pub stop: Instant,
}

/// Time kept free at the end of an invocation: after the calls' deadline a record writes its
/// failure (audit, counters), then the response goes out.
pub const CALLS_MARGIN: Duration = Duration::from_secs(6);
/// A record still running this long before the time limit is stopped.
pub const STOP_MARGIN: Duration = Duration::from_secs(2);

impl Deadline {
    /// The deadline of an invocation that ends `left` from now.
    pub fn ending_in(left: Duration) -> Self {
        Deadline {
            calls: call_deadline::before_end(left, CALLS_MARGIN),
            stop: call_deadline::before_end(left, STOP_MARGIN),
        }
    }

    /// The deadline of the invocation of `context` (Lambda's deadline is wall-clock time).
    pub fn of(context: &lambda_runtime::Context) -> Self {
        let left = context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        Self::ending_in(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocation_keeps_its_margins_before_the_time_limit() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let now = Instant::now();
            let d = Deadline::ending_in(Duration::from_secs(60));
            assert!(
                d.calls >= now + Duration::from_secs(54) && d.calls < now + Duration::from_secs(55)
            );
            assert!(
                d.stop >= now + Duration::from_secs(58) && d.stop < now + Duration::from_secs(59)
            );
            let mut context = lambda_runtime::Context::default();
            context.deadline = (SystemTime::now() + Duration::from_secs(30))
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64;
            let d = Deadline::of(&context);
            assert!(
                d.stop > now + Duration::from_secs(27) && d.stop <= now + Duration::from_secs(28)
            );
        });
    }
}
