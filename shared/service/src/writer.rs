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

use crate::batch::QueueRecord;
use crate::idempotency::conflict_id;
use crate::sync_stores::SyncStores;
use chrono::Duration;
use kimai_client::{
    KimaiClient, KimaiError, NewTimesheet, Retries, TimesheetPatch, TimesheetQuery,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::kimai::Timesheet;
use sync_core::marker::Marker;
use sync_core::plan::{Base, Conflict, ConflictReason, Operation};
use sync_core::planner::desired_matches_kimai;
use sync_core::zone::{parse_zone, reads_back, utc_to_local};
use sync_store::StoreError;
use sync_store::control::{ClaimOutcome, CompleteOutcome, RunCounters};
use sync_store::entries::{EntryRecord, EntryStatus, ExpectedLink, LinkOutcome};
use sync_store::queue::{DecodeError, KimaiWriteMessage, decode};
use sync_store::schema::KIMAI_WRITE_QUEUE;
use thiserror::Error;

mod cache;

use cache::Slot;
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
    /// A newer plan of the same key was written first; this older operation is dropped.
    Superseded {
        kimai_id: TimesheetId,
    },
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
    pub kimai: KimaiClient,
    pub stores: SyncStores,
    /// Who claims (the function instance); a claim can only be completed by its holder.
    pub holder: String,
    pub lease: Duration,
    /// The `maxReceiveCount` of the kimai-write queue as deployed: a failure on that delivery
    /// is the last one and is counted and audited as a dead letter.
    pub max_receive_count: u32,
}

/// A tag [`Writer::ensure_tags`] found or created, and the lookup that said so (to forget
/// exactly that lookup if Kimai has dropped the tag since).
struct KnownTag {
    name: String,
    slot: Slot<TagState>,
}

/// A step ended in a conflict instead of a write.
struct Parked {
    reason: ConflictReason,
    detail: String,
    kimai: Option<Timesheet>,
    candidates: Vec<TimesheetId>,
}

fn parked(reason: ConflictReason, detail: impl Into<String>, kimai: Option<Timesheet>) -> Parked {
    Parked {
        reason,
        detail: detail.into(),
        kimai,
        candidates: Vec::new(),
    }
}

enum Step {
    Done(WriteOutcome),
    Park(Parked),
}

impl Writer {
    pub fn new(kimai: KimaiClient, stores: SyncStores, holder: impl Into<String>) -> Self {
        Writer {
            kimai,
            stores,
            holder: holder.into(),
            lease: Duration::seconds(DEFAULT_CLAIM_LEASE_SECS),
            max_receive_count: KIMAI_WRITE_QUEUE.max_receive_count,
        }
    }

    /// The queue's deployed `maxReceiveCount` instead of the schema's.
    pub fn with_max_receive_count(mut self, max_receive_count: u32) -> Self {
        self.max_receive_count = max_receive_count;
        self
    }

    /// [`Writer::apply_body`] for one queue record; a failure on the last delivery is counted
    /// in the run and audited as a dead letter.
    pub async fn apply_record(
        &self,
        cache: &WriterCache,
        record: &QueueRecord,
    ) -> Result<WriteOutcome, WriteError> {
        let result = self
            .apply_body(cache, &record.message_id, &record.body)
            .await;
        if let Err(e) = &result {
            if record.is_last_attempt(self.max_receive_count) {
                let run = decode::<KimaiWriteMessage>(&record.body)
                    .ok()
                    .and_then(|m| m.run_id);
                self.stores
                    .dead_lettered(
                        KIMAI_WRITE_QUEUE.logical,
                        &record.message_id,
                        run.as_ref(),
                        &e.to_string(),
                    )
                    .await;
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
                        serde_json::json!({"queue": "kimai-write", "message_id": message_id, "error": e.to_string()}),
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
        cache.use_kimai(self.kimai.config().base_url.as_str());
        let key = message.operation.key();
        let key_lock = cache.key_lock(message.ticket_id, key);
        let result = {
            let _serialised = key_lock.lock().await;
            self.apply_serialised(cache, message).await
        };
        cache.release_key(message.ticket_id, key, key_lock);
        result
    }

    async fn apply_serialised(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
    ) -> Result<WriteOutcome, WriteError> {
        let op_id = &message.operation_id;
        let attempt = match self
            .stores
            .control
            .claim_operation(op_id, &self.holder, self.lease, self.stores.now())
            .await?
        {
            ClaimOutcome::Claimed { attempt, .. } => attempt,
            ClaimOutcome::InFlight { holder, .. } => {
                return Err(WriteError::InFlight {
                    operation: op_id.0.clone(),
                    holder,
                });
            }
            ClaimOutcome::Done { result } => {
                tracing::info!(%result, "operation already done; acknowledging");
                // The same operation was parked before: a reconcile that planned it again
                // marked the entry pending; it is still blocked by that conflict.
                if let Ok(WriteOutcome::Conflict { .. }) = serde_json::from_value(result) {
                    self.stores
                        .entries
                        .set_status(
                            message.ticket_id,
                            message.operation.key(),
                            EntryStatus::Conflict,
                            self.stores.now(),
                        )
                        .await?;
                }
                return Ok(WriteOutcome::AlreadyDone);
            }
        };
        match self.perform(cache, message, attempt).await {
            Ok(outcome) => {
                self.finish(message, &outcome).await?;
                Ok(outcome)
            }
            Err(e) => {
                // Give the claim back so the retry need not wait for the lease; if that fails
                // too, the lease runs out on its own.
                if let Err(release) = self
                    .stores
                    .control
                    .release_operation(op_id, &self.holder, self.stores.now())
                    .await
                {
                    tracing::warn!(error = %release, "could not release the claim");
                }
                if e.is_retryable() {
                    tracing::warn!(error = %e, attempt, "write failed; SQS will retry");
                } else {
                    tracing::error!(error = %e, attempt, "write failed for good; it will dead-letter");
                }
                Err(e)
            }
        }
    }

    async fn finish(
        &self,
        message: &KimaiWriteMessage,
        outcome: &WriteOutcome,
    ) -> Result<(), WriteError> {
        let result = serde_json::to_value(outcome).unwrap_or_default();
        let completed = self
            .stores
            .control
            .complete_operation(
                &message.operation_id,
                &self.holder,
                &result,
                self.stores.now(),
            )
            .await?;
        if completed == CompleteOutcome::NotHolder {
            // Our lease ran out and someone else claimed it; the link write was conditional,
            // so at most one of us recorded a base.
            tracing::warn!("claim lost before completion");
        }
        let mut delta = RunCounters::default();
        match outcome {
            WriteOutcome::Created { .. } | WriteOutcome::Adopted { .. } => delta.created = 1,
            WriteOutcome::Updated { .. } => delta.updated = 1,
            WriteOutcome::Deleted { .. } | WriteOutcome::AlreadyGone { .. } => delta.deleted = 1,
            WriteOutcome::Conflict { .. } => delta.conflicts = 1,
            WriteOutcome::AlreadyDone | WriteOutcome::Superseded { .. } => {}
        }
        self.stores.count(message.run_id.as_ref(), &delta).await?;
        Ok(())
    }

    async fn perform(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        attempt: u32,
    ) -> Result<WriteOutcome, WriteError> {
        let step = match &message.operation {
            Operation::Create { desired } => self.create(cache, message, desired, attempt).await?,
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

    /// The API user, looked up once per expiry of the cache.
    async fn api_user(&self, cache: &WriterCache) -> Result<ApiUser, WriteError> {
        let slot = cache.api_user_slot();
        let fetched = slot
            .get_or_try_init(|| async {
                let me = self.kimai.me().await.map_err(WriteError::Kimai)?;
                let zone = parse_zone(&me.timezone).map_err(|_| {
                    WriteError::Config(format!(
                        "the Kimai API user's time zone {:?} is not an IANA zone",
                        me.timezone
                    ))
                })?;
                Ok::<_, WriteError>(cache.fetched(ApiUser { id: me.id, zone }))
            })
            .await?;
        Ok(fetched.value)
    }

    /// Kimai ≥ 2.14 drops unknown tags silently, so each tag is looked up (and created if
    /// missing) first: once per tag and expiry of the cache, however many records of a batch
    /// need it at once. Without `create_tag` the tag cannot be created: logged, and the write
    /// goes on. Answers the tags believed to exist, with the lookup that said so.
    async fn ensure_tags(
        &self,
        cache: &WriterCache,
        tags: &[String],
    ) -> Result<Vec<KnownTag>, WriteError> {
        let mut known = Vec::new();
        for tag in tags {
            let slot = cache.tag_slot(tag);
            let fetched = slot
                .get_or_try_init(|| async {
                    let state = match self.kimai.ensure_tag(tag).await {
                        Ok(_) => TagState::Exists,
                        Err(KimaiError::Forbidden) => {
                            tracing::warn!(
                                tag,
                                "the API user may not create tags; Kimai will drop it"
                            );
                            TagState::Unavailable
                        }
                        Err(e) if e.is_retryable() => return Err(WriteError::Kimai(e)),
                        Err(e) => {
                            tracing::warn!(tag, error = %e, "could not ensure the tag");
                            TagState::Unavailable
                        }
                    };
                    Ok(cache.fetched(state))
                })
                .await?;
            if fetched.value == TagState::Exists {
                known.push(KnownTag {
                    name: tag.clone(),
                    slot: slot.clone(),
                });
            }
        }
        Ok(known)
    }

    /// A tag believed to exist that is missing from Kimai's echo was deleted in Kimai since
    /// it was looked up (Kimai drops unknown tags without an error). Once per write: forget
    /// it, look it up (create it) again and set the tags with a PATCH. This never fails the
    /// write, which has reached Kimai already: when the repair fails, it is logged and the
    /// echo is recorded as it is.
    async fn restore_dropped_tags(
        &self,
        cache: &WriterCache,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        known: &[KnownTag],
        echoed: Timesheet,
    ) -> Timesheet {
        let echoed_has = |name: &str| echoed.tags.iter().any(|t| t.eq_ignore_ascii_case(name));
        let dropped: Vec<&KnownTag> = known.iter().filter(|k| !echoed_has(&k.name)).collect();
        if dropped.is_empty() {
            return echoed;
        }
        for k in &dropped {
            tracing::info!(tag = %k.name, %kimai_id, "Kimai dropped a known tag; looking it up again");
            cache.forget_tag(&k.name, &k.slot);
        }
        let names: Vec<String> = dropped.iter().map(|k| k.name.clone()).collect();
        match self.ensure_tags(cache, &names).await {
            Ok(again) if again.len() == names.len() => {}
            Ok(_) => {
                tracing::warn!(%kimai_id, tags = ?names, "a dropped tag cannot be created again; the timesheet lacks it");
                return echoed;
            }
            Err(e) => {
                tracing::warn!(%kimai_id, error = %e, "could not look a dropped tag up again; the timesheet lacks it");
                return echoed;
            }
        }
        let patch = TimesheetPatch {
            tags: Some(desired.tags.clone()),
            ..TimesheetPatch::default()
        };
        match self
            .kimai
            .update_timesheet(kimai_id, &patch, Retries::Allowed)
            .await
        {
            Ok(repaired) => repaired,
            Err(e) => {
                tracing::warn!(%kimai_id, error = %e, "could not set the dropped tags again; the timesheet lacks them");
                echoed
            }
        }
    }

    async fn create(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        desired: &DesiredTimesheet,
        attempt: u32,
    ) -> Result<Step, WriteError> {
        // Linked since planning (a marker adoption, or another create of the key that went
        // first): creating again would make a duplicate; the next plan works from the link.
        // Unless the linked timesheet is gone from Kimai: then this create is a recreate (a
        // person decided "recreate" on a deleted_in_kimai conflict) and replaces the dead link.
        let mut replaces = None;
        if let Some(base) = self
            .stores
            .entries
            .get(message.ticket_id, &desired.key)
            .await?
            .and_then(|r| r.base)
        {
            match self.kimai.timesheet(base.kimai_id).await {
                Err(KimaiError::NotFound) => {
                    tracing::info!(kimai_id = %base.kimai_id, "the key's timesheet is gone; recreating it");
                    replaces = Some(base.kimai_id);
                }
                Ok(_) => {
                    tracing::info!(kimai_id = %base.kimai_id, "key linked since planning; not creating");
                    return Ok(Step::Done(WriteOutcome::Superseded {
                        kimai_id: base.kimai_id,
                    }));
                }
                Err(e) => return Err(WriteError::Kimai(e)),
            }
        }
        let expected = replaces.map_or(ExpectedLink::Unlinked, ExpectedLink::LinkedTo);
        if attempt > 1 {
            if let Some(found) = self.find_by_marker(message.ticket_id, desired).await? {
                tracing::info!(kimai_id = %found.id, "an earlier attempt created it; adopting");
                let id = found.id;
                return self
                    .record_create(message, desired, found, expected, |_| {
                        WriteOutcome::Adopted { kimai_id: id }
                    })
                    .await;
            }
        }
        let me = self.api_user(cache).await?;
        let api_zone = me.zone;
        if !reads_back(api_zone, desired.begin_utc) || !reads_back(api_zone, desired.end_utc) {
            return Ok(Step::Park(parked(
                ConflictReason::AmbiguousLocalTime,
                format!(
                    "begin or end falls in a repeated hour of the API user's zone {api_zone}; Kimai would book it an hour off"
                ),
                None,
            )));
        }
        let known_tags = self.ensure_tags(cache, &desired.tags).await?;
        let new = NewTimesheet {
            // Kimai reads POSTed times in the API user's zone, even when booking for another.
            begin: utc_to_local(api_zone, desired.begin_utc),
            end: utc_to_local(api_zone, desired.end_utc),
            project: desired.project,
            activity: desired.activity,
            description: Some(desired.description.clone()),
            tags: Some(desired.tags.clone()),
            user: (desired.user != me.id).then_some(desired.user),
            billable: desired.billable,
        };
        match self.kimai.create_timesheet(&new).await {
            Ok(created) => {
                let created = self
                    .restore_dropped_tags(cache, created.id, desired, &known_tags, created)
                    .await;
                self.stores
                    .audit(
                        "timesheet.create",
                        serde_json::json!({
                            "operation_id": message.operation_id.0,
                            "ticket_id": message.ticket_id.0,
                            "key": desired.key.0,
                            "kimai_id": created.id.0,
                            "user": desired.user.0,
                            "begin": created.begin.to_rfc3339(),
                            "duration_secs": created.duration_secs,
                        }),
                    )
                    .await?;
                let id = created.id;
                self.record_create(message, desired, created, expected, |_| {
                    WriteOutcome::Created { kimai_id: id }
                })
                .await
            }
            Err(e) => match refusal(&e, ConflictReason::KimaiRejected) {
                Some(p) => Ok(Step::Park(p)),
                None if e.is_retryable() => Err(WriteError::Kimai(e)),
                None if matches!(e, KimaiError::MalformedBody { .. }) => {
                    Err(WriteError::CreateOutcomeUnknown(e))
                }
                None => Err(WriteError::Kimai(e)),
            },
        }
    }

    /// Our timesheet for this key, if an earlier attempt made one: the lowest id whose marker
    /// names the key and which no other entry has linked.
    async fn find_by_marker(
        &self,
        ticket: TicketId,
        desired: &DesiredTimesheet,
    ) -> Result<Option<Timesheet>, WriteError> {
        let Some(marker) = Marker::for_key(&desired.key) else {
            return Ok(None);
        };
        let query = TimesheetQuery {
            term: Some(marker.search_term()),
            ..TimesheetQuery::default()
        };
        let mut hits: Vec<Timesheet> = self
            .kimai
            .list_timesheets(&query)
            .await
            .map_err(WriteError::Kimai)?
            .into_iter()
            .filter(|t| {
                t.description
                    .as_deref()
                    .and_then(Marker::parse)
                    .is_some_and(|m| m.key() == desired.key)
            })
            .collect();
        hits.sort_by_key(|t| t.id);
        for t in hits {
            match self.stores.entries.find_by_kimai_id(t.id).await? {
                Some(r) if r.ticket_id != ticket || r.key != desired.key => continue,
                _ => return Ok(Some(t)),
            }
        }
        Ok(None)
    }

    /// Step 5 for a create: link the key to the new timesheet unless someone linked it first
    /// (`expected`: unlinked, or the dead timesheet a recreate replaces).
    async fn record_create(
        &self,
        message: &KimaiWriteMessage,
        desired: &DesiredTimesheet,
        echoed: Timesheet,
        expected: ExpectedLink,
        outcome: impl Fn(TimesheetId) -> WriteOutcome,
    ) -> Result<Step, WriteError> {
        let id = echoed.id;
        let base = Base {
            key: desired.key.clone(),
            kimai_id: id,
            written: Some(desired.clone()),
            echoed,
        };
        match self
            .link(message.ticket_id, expected, &base, Some(desired))
            .await?
        {
            LinkOutcome::Linked(_) => Ok(Step::Done(outcome(id))),
            LinkOutcome::LostRace { current } if current == Some(id) => Ok(Step::Done(outcome(id))),
            // Decision: two timesheets now carry this key. Deleting ours automatically would be
            // a second unplanned write; a human picks (the other one is already linked).
            LinkOutcome::LostRace { current } => Ok(Step::Park(Parked {
                reason: ConflictReason::ProbableDuplicate,
                detail: format!(
                    "created Kimai timesheet {id}, but the key was meanwhile linked to {}; one of them is a duplicate",
                    current.map_or_else(|| "another timesheet".to_owned(), |c| c.to_string())
                ),
                kimai: Some(base.echoed),
                candidates: current.into_iter().chain([id]).collect(),
            })),
            LinkOutcome::NoSuchEntry => unreachable_no_entry(),
        }
    }

    async fn update(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        expected: &Timesheet,
    ) -> Result<Step, WriteError> {
        let current = match self.kimai.timesheet(kimai_id).await {
            Ok(t) => t,
            Err(KimaiError::NotFound) => {
                return Ok(Step::Park(parked(
                    ConflictReason::DeletedInKimai,
                    format!(
                        "Kimai timesheet {kimai_id} was deleted before the update; recreate it or accept the deletion"
                    ),
                    None,
                )));
            }
            Err(e) => return Err(WriteError::Kimai(e)),
        };
        if desired_matches_kimai(desired, &current) {
            // An earlier attempt wrote it but did not get to record it.
            return self
                .record_update(message, kimai_id, desired, current)
                .await;
        }
        if kimai_edited(&current, expected) {
            match self
                .own_later_write(message.ticket_id, &desired.key, kimai_id, &current)
                .await?
            {
                // Our own newer write: go on only if this is still the latest plan.
                Some(latest) if latest.as_ref() == Some(desired) => {}
                Some(_) => return Ok(Step::Done(WriteOutcome::Superseded { kimai_id })),
                None => {
                    return Ok(Step::Park(parked(
                        ConflictReason::BothChanged,
                        format!(
                            "Kimai timesheet {kimai_id} was edited after planning; not overwritten"
                        ),
                        Some(current),
                    )));
                }
            }
        }
        // Kimai reads PATCHed times in the owner's zone: the zone the desired times are in.
        let zone = parse_zone(&desired.zone).map_err(|e| WriteError::Config(e.to_string()))?;
        if !reads_back(zone, desired.begin_utc) || !reads_back(zone, desired.end_utc) {
            return Ok(Step::Park(parked(
                ConflictReason::AmbiguousLocalTime,
                format!(
                    "begin or end falls in a repeated hour of {zone}; Kimai would book it an hour off"
                ),
                Some(current),
            )));
        }
        let known_tags = self.ensure_tags(cache, &desired.tags).await?;
        let patch = TimesheetPatch {
            begin: Some(utc_to_local(zone, desired.begin_utc)),
            end: Some(utc_to_local(zone, desired.end_utc)),
            project: Some(desired.project),
            activity: Some(desired.activity),
            description: Some(desired.description.clone()),
            tags: Some(desired.tags.clone()),
            // Only sent when it changes: it needs edit_other_timesheet.
            user: (current.user != desired.user).then_some(desired.user),
            billable: desired.billable,
        };
        // A PATCH of absolute values is idempotent: the client may retry it.
        match self
            .kimai
            .update_timesheet(kimai_id, &patch, Retries::Allowed)
            .await
        {
            Ok(mut updated) => {
                let moved = updated.begin != desired.begin_utc
                    || updated.end != Some(desired.end_utc.fixed_offset());
                if patch.user.is_some() && moved {
                    // Kimai read the times in the previous owner's zone; the record is the new
                    // owner's now, so the same wall-clock times are read in the right zone.
                    let times = TimesheetPatch {
                        begin: patch.begin,
                        end: patch.end,
                        ..TimesheetPatch::default()
                    };
                    updated = match self
                        .kimai
                        .update_timesheet(kimai_id, &times, Retries::Allowed)
                        .await
                    {
                        Ok(t) => t,
                        Err(e) => return Err(WriteError::Kimai(e)),
                    };
                }
                let updated = self
                    .restore_dropped_tags(cache, kimai_id, desired, &known_tags, updated)
                    .await;
                self.stores
                    .audit(
                        "timesheet.update",
                        serde_json::json!({
                            "operation_id": message.operation_id.0,
                            "ticket_id": message.ticket_id.0,
                            "key": desired.key.0,
                            "kimai_id": kimai_id.0,
                            "begin": updated.begin.to_rfc3339(),
                            "duration_secs": updated.duration_secs,
                        }),
                    )
                    .await?;
                self.record_update(message, kimai_id, desired, updated)
                    .await
            }
            Err(KimaiError::NotFound) => Ok(Step::Park(parked(
                ConflictReason::DeletedInKimai,
                format!("Kimai timesheet {kimai_id} was deleted during the update"),
                None,
            ))),
            Err(e) => match refusal(&e, ConflictReason::KimaiRejected) {
                Some(mut p) => {
                    p.kimai = Some(current);
                    Ok(Step::Park(p))
                }
                None => Err(WriteError::Kimai(e)),
            },
        }
    }

    async fn record_update(
        &self,
        message: &KimaiWriteMessage,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        echoed: Timesheet,
    ) -> Result<Step, WriteError> {
        let base = Base {
            key: desired.key.clone(),
            kimai_id,
            written: Some(desired.clone()),
            echoed,
        };
        match self
            .link(
                message.ticket_id,
                ExpectedLink::LinkedTo(kimai_id),
                &base,
                Some(desired),
            )
            .await?
        {
            LinkOutcome::Linked(_) => Ok(Step::Done(WriteOutcome::Updated { kimai_id })),
            // Decision: the key was relinked to another timesheet while we wrote this one.
            // The new link stands; a human checks the timesheet we just changed.
            LinkOutcome::LostRace { current } => Ok(Step::Park(parked(
                ConflictReason::BothChanged,
                format!(
                    "updated Kimai timesheet {kimai_id}, but the key was meanwhile linked to {}",
                    current.map_or_else(|| "nothing".to_owned(), |c| c.to_string())
                ),
                Some(base.echoed),
            ))),
            LinkOutcome::NoSuchEntry => unreachable_no_entry(),
        }
    }

    async fn delete(
        &self,
        message: &KimaiWriteMessage,
        key: &EntryKey,
        kimai_id: TimesheetId,
        expected: &Timesheet,
    ) -> Result<Step, WriteError> {
        let current = match self.kimai.timesheet(kimai_id).await {
            Ok(t) => t,
            Err(KimaiError::NotFound) => {
                self.mark_deleted(message.ticket_id, key).await?;
                return Ok(Step::Done(WriteOutcome::AlreadyGone { kimai_id }));
            }
            Err(e) => return Err(WriteError::Kimai(e)),
        };
        if kimai_edited(&current, expected) {
            match self
                .own_later_write(message.ticket_id, key, kimai_id, &current)
                .await?
            {
                // Our own newer write, and the time is still gone: delete it.
                Some(None) => {}
                Some(Some(_)) => return Ok(Step::Done(WriteOutcome::Superseded { kimai_id })),
                None => {
                    return Ok(Step::Park(parked(
                        ConflictReason::Orphaned,
                        format!(
                            "the Zammad time is gone but Kimai timesheet {kimai_id} was edited by hand; not deleted"
                        ),
                        Some(current),
                    )));
                }
            }
        }
        match self
            .kimai
            .delete_timesheet(kimai_id, Retries::Allowed)
            .await
        {
            // 404 after a retried DELETE: the first one went through.
            Ok(()) | Err(KimaiError::NotFound) => {
                self.stores
                    .audit(
                        "timesheet.delete",
                        serde_json::json!({
                            "operation_id": message.operation_id.0,
                            "ticket_id": message.ticket_id.0,
                            "key": key.0,
                            "kimai_id": kimai_id.0,
                        }),
                    )
                    .await?;
                self.mark_deleted(message.ticket_id, key).await?;
                Ok(Step::Done(WriteOutcome::Deleted { kimai_id }))
            }
            Err(e) => match refusal(&e, ConflictReason::KimaiRejected) {
                Some(mut p) => {
                    p.kimai = Some(current);
                    Ok(Step::Park(p))
                }
                None => Err(WriteError::Kimai(e)),
            },
        }
    }

    /// Kimai differs from what this operation expected. If it is exactly what we recorded after
    /// a later write of our own (two plans of one ticket queued before either was written),
    /// it is no hand edit: answers `Some(the latest desired state)` (`Some(None)`: the time is
    /// gone). `None` means someone else changed it.
    async fn own_later_write(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        kimai_id: TimesheetId,
        current: &Timesheet,
    ) -> Result<Option<Option<DesiredTimesheet>>, WriteError> {
        let Some(record) = self.stores.entries.get(ticket, key).await? else {
            return Ok(None);
        };
        let ours = record
            .base
            .as_ref()
            .is_some_and(|b| b.kimai_id == kimai_id && !kimai_edited(current, &b.echoed));
        Ok(ours.then_some(record.desired))
    }

    async fn mark_deleted(&self, ticket: TicketId, key: &EntryKey) -> Result<(), WriteError> {
        self.stores
            .entries
            .set_status(ticket, key, EntryStatus::Deleted, self.stores.now())
            .await?;
        Ok(())
    }

    /// Links conditionally; a missing entry (e.g. its state was lost) is first saved from the
    /// desired timesheet, so a write that reached Kimai is never left unrecorded.
    async fn link(
        &self,
        ticket: TicketId,
        expected: ExpectedLink,
        base: &Base,
        desired: Option<&DesiredTimesheet>,
    ) -> Result<LinkOutcome, WriteError> {
        let now = self.stores.now();
        let entries = &self.stores.entries;
        let outcome = entries
            .link(ticket, &base.key, expected, base, EntryStatus::Synced, now)
            .await?;
        if outcome != LinkOutcome::NoSuchEntry {
            return Ok(outcome);
        }
        let Some(d) = desired else {
            return Ok(outcome);
        };
        entries
            .save(&EntryRecord {
                ticket_id: ticket,
                key: base.key.clone(),
                agent_id: d.agent_id,
                day: d.day,
                status: EntryStatus::Pending,
                desired: Some(d.clone()),
                base: None,
                updated_at: now,
            })
            .await?;
        let again = entries
            .link(ticket, &base.key, expected, base, EntryStatus::Synced, now)
            .await?;
        Ok(again)
    }

    /// Opens the conflict (once per operation and reason) and reports it as the outcome.
    async fn park(
        &self,
        message: &KimaiWriteMessage,
        p: Parked,
    ) -> Result<WriteOutcome, WriteError> {
        let key = message.operation.key().clone();
        let base = self
            .stores
            .entries
            .get(message.ticket_id, &key)
            .await?
            .and_then(|r| r.base);
        let desired = match &message.operation {
            Operation::Create { desired } | Operation::Update { desired, .. } => {
                Some(desired.clone())
            }
            Operation::Delete { .. } => None,
        };
        let conflict = Conflict {
            key: key.clone(),
            ticket_id: message.ticket_id,
            reason: p.reason,
            detail: p.detail.clone(),
            desired,
            base,
            kimai: p.kimai,
            candidates: p.candidates,
        };
        let id = conflict_id(message.ticket_id, &key, p.reason, &message.operation_id.0);
        self.stores.open_conflict(&id, &conflict).await?;
        tracing::warn!(reason = p.reason.as_str(), detail = %p.detail, "write parked as a conflict");
        Ok(WriteOutcome::Conflict {
            reason: p.reason,
            conflict_id: id.0,
            detail: p.detail,
        })
    }
}

/// Kimai refusals that a retry cannot change: they become conflicts with Kimai's words.
fn refusal(e: &KimaiError, validation_reason: ConflictReason) -> Option<Parked> {
    match e {
        KimaiError::Validation(v) | KimaiError::ExtraFields(v) => Some(parked(
            validation_reason,
            format!("Kimai rejected the timesheet: {v}"),
            None,
        )),
        KimaiError::Locked => Some(parked(
            ConflictReason::LockedOrExported,
            "Kimai refuses the change: the timesheet is exported or in a locked period (403)",
            None,
        )),
        // Decision: a 403 on create is a missing permission (e.g. create_other_timesheet)
        // rather than a lock; it is parked as a rejection a human can act on.
        KimaiError::Forbidden => Some(parked(
            ConflictReason::KimaiRejected,
            "Kimai refused the write (403): the API user lacks a permission for it",
            None,
        )),
        KimaiError::BadRequest { message } => Some(parked(
            ConflictReason::KimaiRejected,
            format!("Kimai answered 400: {message}"),
            None,
        )),
        _ => None,
    }
}

/// "Was the timesheet changed since we expected it?" Everything a person can edit, not the
/// `exported` flag (exporting is not an edit; Kimai's 403 handles it).
fn kimai_edited(current: &Timesheet, expected: &Timesheet) -> bool {
    let tags = |t: &Timesheet| t.tags.iter().cloned().collect::<BTreeSet<String>>();
    !(current.begin == expected.begin
        && current.end == expected.end
        && current.duration_secs == expected.duration_secs
        && current.break_secs == expected.break_secs
        && current.description == expected.description
        && (current.user, current.project, current.activity)
            == (expected.user, expected.project, expected.activity)
        && tags(current) == tags(expected)
        && current.billable == expected.billable)
}

/// `link` saves a missing entry before linking again, so a second `NoSuchEntry` means the
/// store lost a record it just wrote.
fn unreachable_no_entry() -> Result<Step, WriteError> {
    Err(WriteError::Store(StoreError::Corrupt(
        "entry vanished between save and link".into(),
    )))
}
