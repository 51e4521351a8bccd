//! When Kimai cannot be reached, the records that need it wait for it instead of burning their
//! deliveries into the dead-letter queue.
//!
//! A failed record normally goes back to its queue and comes again after the visibility
//! timeout; after `maxReceiveCount` deliveries it is dead-lettered. With the defaults that is
//! 5 × 360 s: a Kimai outage of half an hour would dead-letter everything in flight. So a
//! record that fails because Kimai does not answer (no connection, a timeout, a 5xx, a 429) is
//! sent again to its own queue with a delay, and the delivery it came in on is acknowledged:
//! its receive count starts afresh. The message carries since when it waits and how often it
//! was sent back ([`Waiting`]); the delays grow from 30 s to SQS's 15-minute ceiling. After
//! [`MAX_WAIT`] a message waits no more and takes the usual retries, then the DLQ, where the
//! console can replay it.
//!
//! The outage itself is kept in the control store (`outage#kimai`): since when, the last
//! failure, what it said, and how many failures came without an answer in between. Once
//! [`OPEN_AFTER_FAILURES`] failed so and the last is younger than [`PROBE_AFTER`], the circuit
//! is open: records wait at once, without calling Kimai. After that the next record tries;
//! when Kimai answers it, the outage ends. A Kimai that fails now and then (a 502 here, a
//! timeout there, between answers) never opens the circuit: only the records that failed wait,
//! and the rest go on (seen in the chaos soak, where one failure holding back every record for
//! 30 s stalled the sync). The console shows it on the dashboard:
//! "Kimai unreachable since …, N messages waiting".
//!
//! Sending a message again is safe for exactly-once: the writer claims each operation by its
//! id, so a copy that slipped through twice (a send that succeeded, an acknowledgement that
//! did not) is applied once.

use chrono::{DateTime, Duration, Utc};
use kimai_client::KimaiError;
use std::future::Future;
use std::sync::Arc;
use sync_store::control::{ControlStore, Outage};
use sync_store::queue::{MAX_DELAY_SECS, MessageQueue, QueueMessage, Waiting, decode};

/// The name Kimai's outage is kept under.
pub const KIMAI: &str = "kimai";
/// After a failure, how long records wait without trying Kimai (the open circuit).
pub const PROBE_AFTER: Duration = Duration::seconds(30);
/// Failures without an answer in between before the circuit opens.
pub const OPEN_AFTER_FAILURES: u32 = 5;
/// How long a message waits for Kimai in all before it takes the usual retries.
pub const MAX_WAIT: Duration = Duration::days(3);
/// The first delay; each further one doubles, up to SQS's ceiling.
const FIRST_DELAY_SECS: u64 = 30;

/// What became of one queue record of a consumer that needs Kimai.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome<T> {
    Done(T),
    /// Sent back to its queue: Kimai could not be reached.
    WaitingForKimai(Waited),
}

/// A record sent back to wait for Kimai.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waited {
    /// When it comes again.
    pub delay_secs: u64,
    /// How often it was sent back, this time included.
    pub times: u32,
}

/// Whether `e` says Kimai is not answering (as opposed to answering with a refusal).
pub fn kimai_unreachable(e: &KimaiError) -> bool {
    matches!(
        e,
        KimaiError::Connection(_)
            | KimaiError::Timeout
            | KimaiError::Server { .. }
            | KimaiError::RateLimited { .. }
    )
}

/// The delay before a message's `times`-th return (1 for the first).
pub fn delay_for(times: u32) -> std::time::Duration {
    let secs = FIRST_DELAY_SECS.saturating_mul(1u64 << times.saturating_sub(1).min(10));
    std::time::Duration::from_secs(secs.min(MAX_DELAY_SECS))
}

/// Kimai's outage as one batch sees it: read once when the batch starts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Circuit {
    /// Kimai failed so recently that records wait without trying it.
    open: bool,
    /// An outage is recorded: a success ends it.
    recorded: bool,
}

impl Circuit {
    /// The recorded outage of Kimai. A store that cannot say counts as no outage: records
    /// then try Kimai, as they would without this.
    pub async fn read(control: &dyn ControlStore, now: DateTime<Utc>) -> Circuit {
        let outage = control.get_outage(KIMAI).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read Kimai's outage; trying Kimai");
            None
        });
        Circuit::at(outage.as_ref(), now)
    }

    /// The circuit of `outage` at `now`.
    pub fn at(outage: Option<&Outage>, now: DateTime<Utc>) -> Circuit {
        Circuit {
            open: outage.is_some_and(|o| {
                o.failures >= OPEN_AFTER_FAILURES && now < o.last_failure + PROBE_AFTER
            }),
            recorded: outage.is_some(),
        }
    }

    pub fn is_open(&self) -> bool {
        self.open
    }
}

/// What a consumer needs to let its records wait for Kimai: its own queue and the circuit.
pub struct WaitForKimai<M: QueueMessage> {
    pub queue: Arc<dyn MessageQueue<M>>,
    pub control: Arc<dyn ControlStore>,
    pub circuit: Circuit,
}

/// Runs one record's `work` so that it waits while Kimai is down: with the circuit open the
/// record is sent back without running; when `work` fails because Kimai does not answer
/// (`unreachable` picks that Kimai error out of `E`), the outage is recorded and the record is
/// sent back; when it succeeds and `answered` says Kimai was heard, the outage ends. Without
/// `wait`, or when the record cannot be sent back, the result is `work`'s own.
pub async fn run_record<M, T, E, W>(
    wait: Option<&WaitForKimai<M>>,
    body: &str,
    now: impl Fn() -> DateTime<Utc>,
    work: W,
    unreachable: impl for<'e> Fn(&'e E) -> Option<&'e KimaiError>,
    answered: impl Fn(&T) -> bool,
) -> Result<RecordOutcome<T>, E>
where
    M: QueueMessage,
    W: Future<Output = Result<T, E>>,
{
    let Some(wait) = wait else {
        return work.await.map(RecordOutcome::Done);
    };
    if wait.circuit.is_open() {
        if let Some(waited) = wait.send_back(body, now()).await {
            return Ok(RecordOutcome::WaitingForKimai(waited));
        }
    }
    let result = work.await;
    match &result {
        Err(e) => {
            if let Some(kimai) = unreachable(e) {
                wait.failed(now(), kimai).await;
                if let Some(waited) = wait.send_back(body, now()).await {
                    return Ok(RecordOutcome::WaitingForKimai(waited));
                }
            }
        }
        Ok(done) if answered(done) => wait.answered().await,
        Ok(_) => {}
    }
    result.map(RecordOutcome::Done)
}

impl<M: QueueMessage> WaitForKimai<M> {
    /// The consumer's queue and control store, with the circuit read now.
    pub async fn read(
        queue: Arc<dyn MessageQueue<M>>,
        control: Arc<dyn ControlStore>,
        now: DateTime<Utc>,
    ) -> Self {
        let circuit = Circuit::read(control.as_ref(), now).await;
        WaitForKimai {
            queue,
            control,
            circuit,
        }
    }

    /// Sends the record's message back with the next delay. `None` when it must not wait:
    /// it waited [`MAX_WAIT`] already, its body is not a message, or the send failed (then
    /// the record fails as it would have without this, and SQS retries it).
    pub async fn send_back(&self, body: &str, now: DateTime<Utc>) -> Option<Waited> {
        let mut message = decode::<M>(body).ok()?;
        let previous = message.waiting().copied();
        if previous.is_some_and(|w| now - w.since > MAX_WAIT) {
            tracing::warn!("waited for Kimai longer than the limit; taking the usual retries");
            return None;
        }
        let waiting = Waiting {
            since: previous.map_or(now, |w| w.since),
            times: previous.map_or(1, |w| w.times + 1),
        };
        message.set_waiting(waiting);
        let delay = delay_for(waiting.times);
        match self.queue.send_delayed(&message, delay).await {
            Ok(_) => {
                tracing::info!(
                    delay_secs = delay.as_secs(),
                    times = waiting.times,
                    "Kimai unreachable: the record waits"
                );
                Some(Waited {
                    delay_secs: delay.as_secs(),
                    times: waiting.times,
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot send the record back to wait; it fails instead");
                None
            }
        }
    }

    /// Records the failure; the outage starts with the first.
    pub async fn failed(&self, now: DateTime<Utc>, error: &KimaiError) {
        if let Err(e) = self
            .control
            .record_outage(KIMAI, now, &error.to_string())
            .await
        {
            tracing::warn!(error = %e, "cannot record Kimai's outage");
        }
    }

    /// Kimai answered: the outage, if one was recorded, is over.
    pub async fn answered(&self) {
        if !self.circuit.recorded {
            return;
        }
        match self.control.end_outage(KIMAI).await {
            Ok(true) => tracing::info!("Kimai answers again: outage ended"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot end Kimai's outage"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_half_a_minute_to_sqs_ceiling() {
        let secs: Vec<u64> = (1..=7).map(|t| delay_for(t).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 900, 900]);
        assert_eq!(delay_for(u32::MAX).as_secs(), 900);
    }

    #[test]
    fn refusals_are_not_an_outage() {
        assert!(kimai_unreachable(&KimaiError::Timeout));
        assert!(kimai_unreachable(&KimaiError::Server { status: 502 }));
        assert!(!kimai_unreachable(&KimaiError::NotFound));
        assert!(!kimai_unreachable(&KimaiError::Unauthorized));
    }

    #[test]
    fn the_circuit_opens_after_failures_in_a_row_and_only_shortly() {
        let now = Utc::now();
        let circuit = |last: DateTime<Utc>, failures| {
            let outage = Outage {
                since: last - Duration::hours(1),
                last_failure: last,
                detail: "502".into(),
                failures,
            };
            Circuit::at(Some(&outage), now)
        };
        let recently = now - Duration::seconds(5);
        assert!(circuit(recently, OPEN_AFTER_FAILURES).is_open());
        assert!(
            !circuit(recently, OPEN_AFTER_FAILURES - 1).is_open(),
            "a failure now and then holds back only its own record"
        );
        assert!(
            !circuit(now - PROBE_AFTER, OPEN_AFTER_FAILURES).is_open(),
            "time to try again"
        );
        assert!(!Circuit::at(None, now).is_open());
    }
}
