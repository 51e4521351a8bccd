//! The kimai-writer step: apply one planned operation to Kimai, exactly once.
//!
//! The protocol (design §5), per `kimai-write` message:
//! 1. claim the operation in the control store: `InFlight` → fail the record so SQS retries
//!    later; `Done` → ack;
//! 2. update/delete: re-read the timesheet and compare with the expected state; a hand edit
//!    since planning raises `both_changed` (update) or `orphaned` (delete) instead of being
//!    overwritten; a timesheet that is gone is `deleted_in_kimai` (update) or done (delete);
//! 3. a create whose earlier attempt may have reached Kimai (claim attempt > 1) searches by its
//!    marker first and adopts what it finds;
//! 4. call Kimai (create: times in the API user's zone; update: in the owner's zone), after
//!    making sure the tags exist (the API user and the tags are cached for the function
//!    instance with a short expiry, see [`WriterCache`]; a known tag missing from the echo
//!    was deleted in Kimai meanwhile: it is created again and set with a PATCH);
//! 5. record the echo as the new base and link, conditionally, then complete the claim.
//!
//! Retryable failures (5xx, timeouts, 429, connection, store unavailable, and a create whose
//! outcome is unknown) release the claim and fail the record. Kimai's refusals (400 validation,
//! 403 locked or exported) become conflicts and complete the claim: they are never retried.
//!
//! The files follow the protocol's steps: `claim` (claim, complete or release), `compare`
//! (re-read and compare with the expected state), `create` (with the marker search), `update`,
//! `delete`, `tags` (tags made sure of before a write, repaired after it), `record` (the echo
//! as the new base and link), `park` (a refusal or a hand edit becomes a conflict) and `cache`.

use crate::batch::QueueRecord;
use crate::outage::{self, RecordOutcome, WaitForKimai};
use crate::privacy::suppression::Suppressed;
use crate::sync_stores::{DeadLetter, SyncStores};
use crate::upstream::Kimai;
use chrono::Duration;
use kimai_client::KimaiError;
use park::Parked;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use sync_core::ids::TimesheetId;
use sync_core::plan::{ConflictReason, Operation};
use sync_store::StoreError;
use sync_store::entries::EntryRecord;
use sync_store::queue::{DecodeError, KimaiWriteMessage, decode};
use sync_store::schema::KIMAI_WRITE_QUEUE;
use thiserror::Error;

mod cache;
mod claim;
mod compare;
mod create;
mod delete;
mod park;
mod record;
mod tags;
mod update;

pub use cache::{ApiUser, DEFAULT_CACHE_TTL, TagState, WriterCache};

/// How long a claim keeps other writers off an operation: longer than one function run
/// (60 s timeout), shorter than the queue's visibility timeout (360 s).
pub const DEFAULT_CLAIM_LEASE_SECS: i64 = 300;

/// What became of one operation; stored as the claim's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WriteOutcome {
    Created {
        kimai_id: TimesheetId,
    },
    /// An earlier attempt had created it; found by its marker and linked.
    Adopted {
        kimai_id: TimesheetId,
    },
    Updated {
        kimai_id: TimesheetId,
    },
    Deleted {
        kimai_id: TimesheetId,
    },
    /// The timesheet to delete was gone already.
    AlreadyGone {
        kimai_id: TimesheetId,
    },
    /// The claim said done: a redelivered message.
    AlreadyDone,
    /// Nothing to write: a newer plan of the key was written first (this older operation is
    /// dropped), or a create found the key linked to a timesheet that holds its values.
    Superseded {
        kimai_id: TimesheetId,
    },
    /// A newer plan of the key wants something else than this operation: nothing is written,
    /// the newer plan's own operation writes the latest values.
    OutOfDate,
    /// Not written; a human decides.
    Conflict {
        reason: ConflictReason,
        conflict_id: String,
        detail: String,
    },
}

#[derive(Debug, Error)]
pub enum WriteError {
    /// The body is not a `kimai-write` message: never retryable, it dead-letters.
    #[error("undecodable kimai-write message: {0}")]
    BadMessage(#[from] DecodeError),
    /// Another writer holds the claim; SQS redelivers after the visibility timeout.
    #[error("operation {operation} is in flight elsewhere (held by {holder})")]
    InFlight { operation: String, holder: String },
    #[error("Kimai: {0}")]
    Kimai(KimaiError),
    /// A create failed in a way that may still have saved the timesheet (e.g. a truncated
    /// answer). Retried: the next attempt searches by marker before creating.
    #[error("Kimai create outcome unknown: {0}")]
    CreateOutcomeUnknown(KimaiError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Settings that can never work (the API user's zone, the desired zone).
    #[error("configuration: {0}")]
    Config(String),
}

impl WriteError {
    /// The Kimai error that says Kimai is not answering, if this is one ([`crate::outage`]).
    pub fn kimai_unreachable(&self) -> Option<&KimaiError> {
        match self {
            WriteError::Kimai(e) | WriteError::CreateOutcomeUnknown(e)
                if crate::outage::kimai_unreachable(e) =>
            {
                Some(e)
            }
            _ => None,
        }
    }

    pub fn is_retryable(&self) -> bool {
        match self {
            WriteError::InFlight { .. } | WriteError::CreateOutcomeUnknown(_) => true,
            WriteError::Kimai(e) => e.is_retryable(),
            WriteError::Store(e) => e.is_retryable(),
            WriteError::BadMessage(_) | WriteError::Config(_) => false,
        }
    }
}

pub struct Writer {
    pub kimai: Arc<dyn Kimai>,
    pub stores: SyncStores,
    /// Who claims (the function instance); a claim can only be completed by its holder.
    pub holder: String,
    pub lease: Duration,
    /// The `maxReceiveCount` of the kimai-write queue as deployed: a failure on that delivery
    /// is the last one and is counted and audited as a dead letter.
    pub max_receive_count: u32,
    /// Lets records wait while Kimai is down ([`crate::outage`]); `None`: they fail and are
    /// retried by SQS.
    pub wait: Option<WaitForKimai<KimaiWriteMessage>>,
    /// People purged for GDPR: a create or update of their time that was planned before the
    /// purge is not written.
    pub suppressed: Suppressed,
}

impl WriteOutcome {
    /// Kimai was called and answered (a write, a search, a refusal): not a redelivery.
    fn kimai_answered(&self) -> bool {
        !matches!(self, WriteOutcome::AlreadyDone)
    }
}

impl Writer {
    /// The writer writes only the latest desired value: the key's record holds what the newest
    /// recorded plan wants (plans are recorded in order, see `reconcile::turn`). A create or
    /// an update must still want exactly that, a delete must still find the time gone. A key
    /// without a record is written as asked.
    fn out_of_date(operation: &Operation, record: Option<&EntryRecord>) -> bool {
        let Some(record) = record else {
            return false;
        };
        match operation {
            Operation::Create { desired } | Operation::Update { desired, .. } => {
                record.desired.as_ref() != Some(desired)
            }
            Operation::Delete { .. } => record.desired.is_some(),
        }
    }
}

/// Where a write step ended: written (or nothing to write), or parked as a conflict.
enum Step {
    Done(WriteOutcome),
    Park(Parked),
}

impl Writer {
    pub fn new(kimai: Arc<dyn Kimai>, stores: SyncStores, holder: impl Into<String>) -> Self {
        Writer {
            kimai,
            stores,
            holder: holder.into(),
            lease: Duration::seconds(DEFAULT_CLAIM_LEASE_SECS),
            max_receive_count: KIMAI_WRITE_QUEUE.max_receive_count,
            wait: None,
            suppressed: Suppressed::default(),
        }
    }

    /// The purged people (read once per batch), whose planned creates and updates are dropped.
    pub fn with_suppressed(mut self, suppressed: Suppressed) -> Self {
        self.suppressed = suppressed;
        self
    }

    /// Records wait while Kimai is down, sent back to `wait.queue`.
    pub fn with_wait(mut self, wait: WaitForKimai<KimaiWriteMessage>) -> Self {
        self.wait = Some(wait);
        self
    }

    /// The queue's deployed `maxReceiveCount` instead of the schema's.
    pub fn with_max_receive_count(mut self, max_receive_count: u32) -> Self {
        self.max_receive_count = max_receive_count;
        self
    }

    /// [`Writer::apply_body`] for one queue record. While Kimai is down the record waits
    /// ([`crate::outage`]); a failure on the last delivery is counted in the run and audited as
    /// a dead letter.
    pub async fn apply_record(
        &self,
        cache: &WriterCache,
        record: &QueueRecord,
    ) -> Result<RecordOutcome<WriteOutcome>, WriteError> {
        let result = outage::run_record(
            self.wait.as_ref(),
            &record.body,
            || self.stores.now(),
            self.apply_body(cache, &record.message_id, &record.body),
            WriteError::kimai_unreachable,
            WriteOutcome::kimai_answered,
        )
        .await;
        if let Err(e) = &result {
            if record.is_last_attempt(self.max_receive_count) {
                let run = decode::<KimaiWriteMessage>(&record.body)
                    .ok()
                    .and_then(|m| m.run_id);
                let error = e.to_string();
                let dead = DeadLetter {
                    queue: KIMAI_WRITE_QUEUE.logical,
                    message_id: &record.message_id,
                    body: &record.body,
                    error: &error,
                };
                self.stores.dead_lettered(dead, run.as_ref(), None).await;
            }
        }
        result
    }

    /// Decodes a raw body and applies it; an undecodable body is audited and fails.
    pub async fn apply_body(
        &self,
        cache: &WriterCache,
        message_id: &str,
        body: &str,
    ) -> Result<WriteOutcome, WriteError> {
        match decode::<KimaiWriteMessage>(body) {
            Ok(m) => self.apply(cache, &m).await,
            Err(e) => {
                tracing::error!(message_id, error = %e, "undecodable kimai-write message; it will dead-letter");
                if let Err(audit_err) = self
                    .stores
                    .audit(
                        "message.undecodable",
                        serde_json::json!({"queue": KIMAI_WRITE_QUEUE.logical, "message_id": message_id, "error": e.to_string()}),
                    )
                    .await
                {
                    tracing::warn!(error = %audit_err, "could not audit the undecodable message");
                }
                Err(e.into())
            }
        }
    }

    #[tracing::instrument(skip(self, cache, message), fields(operation_id = %message.operation_id, ticket_id = message.ticket_id.0))]
    pub async fn apply(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
    ) -> Result<WriteOutcome, WriteError> {
        cache.use_kimai(self.kimai.base_url());
        let key = message.operation.key();
        let key_lock = cache.key_lock(message.ticket_id, key);
        let result = {
            let _serialised = key_lock.lock().await;
            self.apply_serialised(cache, message).await
        };
        cache.release_key(message.ticket_id, key, key_lock);
        match &result {
            Ok(WriteOutcome::Created { .. }) => sync_metrics::timesheet_written("created"),
            Ok(WriteOutcome::Updated { .. }) => sync_metrics::timesheet_written("updated"),
            Ok(WriteOutcome::Deleted { .. }) => sync_metrics::timesheet_written("deleted"),
            _ => {}
        }
        result
    }

    /// Steps 2 to 5 for a claimed operation: the write its kind asks for, or a conflict.
    async fn perform(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        attempt: u32,
    ) -> Result<WriteOutcome, WriteError> {
        if let Operation::Create { desired } | Operation::Update { desired, .. } =
            &message.operation
            && self.suppressed.contains(desired.agent_id)
        {
            tracing::info!("planned for a person purged since; not written");
            return Ok(WriteOutcome::OutOfDate);
        }
        // The key's record, read once: the latest desired value, and for a create its link.
        let record = self
            .stores
            .entries
            .get(message.ticket_id, message.operation.key())
            .await?;
        if Self::out_of_date(&message.operation, record.as_ref()) {
            tracing::info!("a newer plan of the key wants something else; not written");
            return Ok(WriteOutcome::OutOfDate);
        }
        let step = match &message.operation {
            Operation::Create { desired } => {
                self.create(cache, message, desired, attempt, record)
                    .await?
            }
            Operation::Update {
                kimai_id,
                desired,
                expected,
            } => {
                self.update(cache, message, *kimai_id, desired, expected)
                    .await?
            }
            Operation::Delete {
                key,
                kimai_id,
                expected,
            } => self.delete(message, key, *kimai_id, expected).await?,
        };
        match step {
            Step::Done(outcome) => Ok(outcome),
            Step::Park(p) => self.park(message, p).await,
        }
    }
}
