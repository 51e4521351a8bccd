//! The control store: settings documents, sync runs, watermarks, leases, webhook delivery ids,
//! operation claims, console users and login throttling. Small items, one table.
//!
//! Every write that decides something is conditional and answers with an outcome enum: a held
//! lease, a duplicate delivery, an operation someone else claimed are normal results.

use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long a claim record is kept after its last change (DynamoDB TTL cleans it up).
pub const CLAIM_RETENTION_DAYS: i64 = 14;
/// How long the note that a ticket was counted in a run is kept: SQS keeps a message 14 days
/// at most, so no delivery of the ticket's message comes later.
pub const TICKET_COUNT_RETENTION_DAYS: i64 = 14;

// ---------------------------------------------------------------- documents

/// The kinds of JSON documents in the control store. Their content belongs to the service layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Connection,
    Mapping,
    Policy,
    Schedule,
    /// A person's decisions on one ticket's conflicts (written by the console, read by reconcile).
    Decisions,
    /// What the fetch step learnt about discovering Zammad's changes (state, not settings).
    Discovery,
    /// A purged person, as a hash of their Zammad user id: reconcile leaves their time alone.
    Suppression,
    /// A GDPR purge job: its progress and final report (counts only).
    PurgeJob,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Connection => "connection",
            DocumentKind::Mapping => "mapping",
            DocumentKind::Policy => "policy",
            DocumentKind::Schedule => "schedule",
            DocumentKind::Decisions => "decisions",
            DocumentKind::Discovery => "discovery",
            DocumentKind::Suppression => "suppression",
            DocumentKind::PurgeJob => "purge_job",
        }
    }
}

/// DynamoDB refuses an item above 400 KB; the emulator does not. Both adapters refuse a
/// document whose item would pass [`MAX_DOCUMENT_BYTES`], so a document that grows without
/// bound (as the mappings once did inside the policy) fails in every test, not first on AWS.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// The body's share of an item: the limit less room for the keys, version and time.
pub const MAX_DOCUMENT_BYTES: usize = MAX_ITEM_BYTES - 1024;

/// Refuses a document whose stored item would be larger than DynamoDB allows.
pub fn check_document_size(
    kind: DocumentKind,
    id: &str,
    body: &serde_json::Value,
) -> StoreResult<()> {
    let size = serde_json::to_string(body).map_or(usize::MAX, |s| s.len()) + id.len();
    if size > MAX_DOCUMENT_BYTES {
        return Err(StoreError::Invalid(format!(
            "document {}/{id} would be {size} bytes; an item holds at most {MAX_DOCUMENT_BYTES}",
            kind.as_str()
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub kind: DocumentKind,
    pub id: String,
    pub body: serde_json::Value,
    /// Starts at 1, +1 per write: optimistic concurrency for console edits.
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

/// What the writer believes is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The document must not exist yet.
    New,
    /// The document must be at exactly this version.
    Version(u64),
    /// Last writer wins (imports, seeding).
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentWrite {
    Written {
        version: u64,
    },
    /// Someone else wrote first; `current` is what is stored now (`None`: nothing).
    VersionConflict {
        current: Option<u64>,
    },
}

// ---------------------------------------------------------------- sync runs

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub String);

impl RunId {
    /// Ids sort by start time, so listing by id is listing by time.
    pub fn generate(started_at: DateTime<Utc>) -> Self {
        let rand = uuid::Uuid::new_v4().simple().to_string();
        RunId(format!(
            "{}-{}",
            started_at.format("%Y%m%dT%H%M%S%.3fZ"),
            &rand[..8]
        ))
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    Schedule,
    Manual,
    Backfill,
    Verify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            RunState::Running,
            RunState::Succeeded,
            RunState::Failed,
            RunState::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Progress of a run. Used both as the totals and as the increments to add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounters {
    pub tickets_queued: u64,
    pub tickets_done: u64,
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    /// Existing Kimai timesheets taken over (linked by marker) instead of created.
    #[serde(default)]
    pub adopted: u64,
    pub conflicts: u64,
    pub failed: u64,
}

impl RunCounters {
    /// (attribute name, value) of every counter; the attribute names are part of the table layout.
    pub fn fields(&self) -> [(&'static str, u64); 8] {
        [
            ("tickets_queued", self.tickets_queued),
            ("tickets_done", self.tickets_done),
            ("created", self.created),
            ("updated", self.updated),
            ("deleted", self.deleted),
            ("adopted", self.adopted),
            ("conflicts", self.conflicts),
            ("failed", self.failed),
        ]
    }

    pub fn set(&mut self, field: &str, value: u64) {
        match field {
            "tickets_queued" => self.tickets_queued = value,
            "tickets_done" => self.tickets_done = value,
            "created" => self.created = value,
            "updated" => self.updated = value,
            "deleted" => self.deleted = value,
            "adopted" => self.adopted = value,
            "conflicts" => self.conflicts = value,
            "failed" => self.failed = value,
            _ => {}
        }
    }

    pub fn add(&mut self, other: &RunCounters) {
        self.tickets_queued += other.tickets_queued;
        self.tickets_done += other.tickets_done;
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.adopted += other.adopted;
        self.conflicts += other.conflicts;
        self.failed += other.failed;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: RunId,
    pub trigger: RunTrigger,
    /// Date range, tickets, dry run: whatever the starter asked for.
    pub params: serde_json::Value,
    pub state: RunState,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counters: RunCounters,
}

/// What [`ControlStore::count_ticket`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketCount {
    Counted,
    /// The ticket was counted in this run before (its message came again): nothing added.
    AlreadyCounted,
    NoRun,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishOutcome {
    Finished(SyncRun),
    /// It had finished before (another finisher won); nothing was written.
    AlreadyFinished(SyncRun),
    NotFound,
}

// ---------------------------------------------------------------- watermarks and leases

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatermarkOutcome {
    Advanced,
    /// The stored watermark is already at or past the proposed one; nothing was written.
    NotNewer {
        current: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseOutcome {
    Acquired(Lease),
    /// Another holder has it until `expires_at`.
    Held {
        holder: String,
        expires_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewOutcome {
    Renewed(Lease),
    /// The lease is no longer ours (expired and taken, or released).
    Lost,
}

// ---------------------------------------------------------------- deliveries and claims

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// First time this delivery id is seen: process it.
    First,
    /// Seen before within the retention window: drop it.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OperationId(pub String);

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// Ours until the lease ends. `attempt` > 1 means an earlier attempt ended without a
    /// result: it may have reached Kimai, so search by marker before creating.
    Claimed {
        attempt: u32,
        lease_until: DateTime<Utc>,
    },
    /// Someone else is working on it.
    InFlight {
        holder: String,
        lease_until: DateTime<Utc>,
    },
    /// Already applied; this is the recorded result.
    Done { result: serde_json::Value },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompleteOutcome {
    Completed,
    /// The claim is not ours any more (lease ended and someone else claimed, or done already).
    NotHolder,
}

// ---------------------------------------------------------------- day claims

/// The slots the entries of each ticket claimed on one Kimai user's local day. Placement avoids
/// other tickets' claims as it avoids Kimai's bookings, so two reconciles of one agent's
/// tickets at the same moment cannot pick the same slot: the second one's write of the day's
/// claims finds a newer version, reads again and places again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayClaims {
    /// One more with every write; 0 for a day nobody claimed.
    pub version: u64,
    /// By entry key.
    pub claims: std::collections::BTreeMap<String, SlotClaim>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotClaim {
    pub ticket: u64,
    pub begin: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What [`ControlStore::put_day_claims`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimsWrite {
    Written,
    /// Someone wrote the day's claims since they were read: read and place again.
    Changed,
}

/// How long a day's claims are kept after the day: entries of older days are rarely placed
/// again, and when they are, Kimai's own bookings still count.
pub const DAY_CLAIMS_RETENTION_DAYS: i64 = 400;

// ---------------------------------------------------------------- console users

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Viewer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleUser {
    pub username: String,
    /// PHC string (argon2id); the store never sees a password.
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub last_login_at: Option<DateTime<Utc>>,
    /// The password is a temporary one an admin set: the user may change nothing but it.
    #[serde(default)]
    pub must_change_password: bool,
    /// Tokens issued before this are refused: a password change or reset ends other sessions.
    #[serde(default)]
    pub sessions_valid_from: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserWrite {
    Written,
    /// `create_user` found the name taken; nothing was written.
    AlreadyExists,
}

// ---------------------------------------------------------------- the port

#[async_trait]
pub trait ControlStore: Send + Sync {
    async fn get_document(&self, kind: DocumentKind, id: &str) -> StoreResult<Option<Document>>;
    async fn put_document(
        &self,
        kind: DocumentKind,
        id: &str,
        body: &serde_json::Value,
        expected: ExpectedVersion,
        at: DateTime<Utc>,
    ) -> StoreResult<DocumentWrite>;
    /// All documents of a kind, ordered by id (one query).
    async fn list_documents(&self, kind: DocumentKind) -> StoreResult<Vec<Document>>;
    /// `false` if there was nothing to delete.
    async fn delete_document(&self, kind: DocumentKind, id: &str) -> StoreResult<bool>;
    /// Writes many documents of a kind at once, last writer wins (their versions start
    /// again): for documents that are items of a set, such as one mapping each, whose
    /// concurrency another document's version guards. Not atomic: after an error some may be
    /// written.
    async fn put_documents(
        &self,
        kind: DocumentKind,
        documents: &[(String, serde_json::Value)],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deletes many documents of a kind at once (missing ones are fine). Not atomic.
    async fn delete_documents(&self, kind: DocumentKind, ids: &[String]) -> StoreResult<()>;

    /// Starts a run in state `running` with zero counters.
    async fn create_run(
        &self,
        trigger: RunTrigger,
        params: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<SyncRun>;
    async fn get_run(&self, id: &RunId) -> StoreResult<Option<SyncRun>>;
    /// Atomically adds to the run's counters (concurrent workers never lose an increment).
    /// `false` if the run does not exist.
    async fn add_to_run(&self, id: &RunId, delta: &RunCounters) -> StoreResult<bool>;
    /// Adds a ticket's outcome (done or failed, with what its reconcile did) to its run once.
    /// A message delivered again, after a crash between the count and the delete, or after its
    /// visibility timeout, reconciles the ticket again; it must not count the ticket twice, or
    /// `tickets_done + failed` outgrows `tickets_queued`. The note and the increment are one
    /// atomic write.
    async fn count_ticket(
        &self,
        id: &RunId,
        ticket: u64,
        delta: &RunCounters,
        now: DateTime<Utc>,
    ) -> StoreResult<TicketCount>;
    /// Moves a running run to a final state; only the first finisher wins.
    async fn finish_run(
        &self,
        id: &RunId,
        state: RunState,
        at: DateTime<Utc>,
    ) -> StoreResult<FinishOutcome>;
    /// Runs, newest first.
    async fn list_runs(&self, page: &PageRequest) -> StoreResult<Page<SyncRun>>;

    async fn get_watermark(&self, name: &str) -> StoreResult<Option<DateTime<Utc>>>;
    /// Moves the watermark forward only.
    async fn advance_watermark(
        &self,
        name: &str,
        to: DateTime<Utc>,
    ) -> StoreResult<WatermarkOutcome>;

    /// Takes the lease if it is free, expired, or already ours.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<LeaseOutcome>;
    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<RenewOutcome>;
    /// `false` if it was not ours (any more).
    async fn release_lease(&self, lease: &Lease) -> StoreResult<bool>;

    /// Remembers a webhook delivery id for `keep_for`; a second sighting is a duplicate.
    async fn record_delivery(
        &self,
        delivery_id: &str,
        keep_for: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<DeliveryOutcome>;

    /// Claims an operation for `lease` unless it is done or someone else's lease is running.
    async fn claim_operation(
        &self,
        id: &OperationId,
        holder: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<ClaimOutcome>;
    /// Records the result of a claimed operation; later claims answer `Done` with it.
    async fn complete_operation(
        &self,
        id: &OperationId,
        holder: &str,
        result: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> StoreResult<CompleteOutcome>;
    /// Ends our attempt without a result (retryable failure), so the next claim need not wait
    /// for the lease to run out. `false` if the claim was not ours.
    async fn release_operation(
        &self,
        id: &OperationId,
        holder: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Creates a user; `AlreadyExists` if the name is taken.
    async fn create_user(&self, user: &ConsoleUser) -> StoreResult<UserWrite>;
    /// Replaces an existing user (password change, role, disable). `false` if unknown.
    async fn update_user(&self, user: &ConsoleUser) -> StoreResult<bool>;
    async fn get_user(&self, username: &str) -> StoreResult<Option<ConsoleUser>>;
    async fn list_users(&self) -> StoreResult<Vec<ConsoleUser>>;
    async fn delete_user(&self, username: &str) -> StoreResult<bool>;

    /// Keeps what a consumer knew of a message that failed its last delivery (it is on its
    /// way to the queue's DLQ), so the console lists dead letters by reading these, never by
    /// receiving from the DLQ. Kept as long as the DLQ keeps messages ([`DEAD_LETTER_DAYS`]).
    async fn put_dead_letter(&self, record: &DeadLetterRecord) -> StoreResult<()>;
    /// The records of `queue`, oldest first, at most `limit`.
    async fn dead_letters(&self, queue: &str, limit: usize) -> StoreResult<Vec<DeadLetterRecord>>;
    /// `false` when there was none.
    async fn delete_dead_letter(&self, queue: &str, message_id: &str) -> StoreResult<bool>;

    /// Takes one login attempt of `subject` in the current fixed window of length `window`, in
    /// one conditional write: the count including this one, or `None` when `max` attempts were
    /// taken already. Checking and counting in one step is what stops parallel guesses from
    /// all passing a check that read the count before any of them counted.
    async fn take_login_attempt(
        &self,
        subject: &str,
        window: Duration,
        max: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u32>>;
    /// Takes one login attempt at the account `username`, from wherever it comes: refused while
    /// the account is locked; a granted attempt is counted, and from `lockout.free` counted
    /// attempts on it locks the account for [`Lockout::lock_for`] in the same conditional
    /// write, so parallel guesses cannot slip past a lock not yet written. A success clears
    /// the count ([`Self::clear_account_attempts`]); a quiet day forgets it.
    async fn take_account_attempt(
        &self,
        username: &str,
        lockout: &Lockout,
        now: DateTime<Utc>,
    ) -> StoreResult<AccountAttempt>;
    async fn clear_account_attempts(&self, username: &str) -> StoreResult<()>;

    /// Login attempts of `subject` in the current window (not cleared by a success yet).
    async fn login_failures(
        &self,
        subject: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<u32>;
    async fn clear_login_failures(
        &self,
        subject: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Takes one of the `per_second` call slots of the upstream connection `name` (`kimai`,
    /// `zammad`) in the second of `now`, unless a pause recorded by [`Self::pause_calls`] runs
    /// past `now`. Shared by every function instance: this is the upstream's rate limit.
    async fn take_call_slot(
        &self,
        name: &str,
        per_second: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<CallSlot>;
    /// Records that no call to `name` starts before `until` (a 429's `Retry-After`). A pause
    /// only ever grows: a shorter one recorded later changes nothing.
    async fn pause_calls(&self, name: &str, until: DateTime<Utc>) -> StoreResult<()>;

    /// Records that the upstream `name` could not be reached at `at`; `since` stays the first
    /// failure of the outage, and `failures` counts one more.
    async fn record_outage(&self, name: &str, at: DateTime<Utc>, detail: &str) -> StoreResult<()>;
    /// The current outage of `name`, if one is recorded.
    async fn get_outage(&self, name: &str) -> StoreResult<Option<Outage>>;
    /// Ends the outage of `name` (it answered again); `false` if none was recorded.
    async fn end_outage(&self, name: &str) -> StoreResult<bool>;

    /// Takes the turn to record a plan of `ticket` made from Zammad data read at `read_at`.
    /// Plans of one ticket are recorded one at a time, in the order of their reads: the turn
    /// is refused while another holder's runs (`Busy`), and to a plan read before the last
    /// one that took a turn (`Stale`). A crashed holder's turn lapses after `ttl`.
    async fn take_plan_turn(
        &self,
        ticket: u64,
        read_at: DateTime<Utc>,
        holder: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> StoreResult<PlanTurn>;
    /// Gives the turn back; the read time stays, so older plans stay refused. `false` if the
    /// turn was not ours (any more).
    async fn end_plan_turn(&self, ticket: u64, holder: &str) -> StoreResult<bool>;

    /// The slots claimed on Kimai user `user`'s local `day` (version 0 and none if nobody
    /// claimed any).
    async fn day_claims(&self, user: u64, day: NaiveDate) -> StoreResult<DayClaims>;
    /// Replaces the day's claims with `claims.claims` if the stored version is still
    /// `claims.version`; the stored version becomes one more.
    async fn put_day_claims(
        &self,
        user: u64,
        day: NaiveDate,
        claims: &DayClaims,
    ) -> StoreResult<ClaimsWrite>;
}

/// The answer to [`ControlStore::take_plan_turn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanTurn {
    Ours,
    /// Another plan is being recorded until at most `until`.
    Busy {
        until: DateTime<Utc>,
    },
    /// A plan read from Zammad at `newer` took a turn: this one is out of date.
    Stale {
        newer: DateTime<Utc>,
    },
}

/// An upstream that could not be reached, as [`ControlStore::record_outage`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub since: DateTime<Utc>,
    pub last_failure: DateTime<Utc>,
    /// What the last failure said.
    pub detail: String,
    /// Failures recorded since the outage started (a success ends it, so: in a row).
    pub failures: u32,
}

/// The answer to [`ControlStore::take_call_slot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallSlot {
    Taken,
    /// No slot before this instant: the second is full, or the upstream's pause runs until then.
    FreeAt(DateTime<Utc>),
}

/// The second `now` falls in, and the one after it, in epoch milliseconds: call slots are
/// counted per second of the Unix epoch.
pub fn pace_second(now: DateTime<Utc>) -> (i64, i64) {
    let second = now.timestamp();
    (second, (second + 1) * 1000)
}

/// Start of the fixed window that contains `now` (windows are aligned to the Unix epoch).
/// How long a dead-letter record is kept: the DLQs' message retention (14 days).
pub const DEAD_LETTER_DAYS: i64 = 14;

/// A message that failed its last delivery, as its consumer saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterRecord {
    /// The queue it came from (`ticket-sync`, `kimai-write`).
    pub queue: String,
    /// Its SQS message id in that queue.
    pub message_id: String,
    /// The body exactly as it was sent.
    pub body: String,
    /// Why its last delivery failed.
    pub error: String,
    pub failed_at: DateTime<Utc>,
}

/// A queue's dead-letter records as [`ControlStore::dead_letters`] answers them: oldest first
/// (then by id), at most `limit`. Shared by both adapters so they list alike.
pub fn oldest_dead_letters(
    mut records: Vec<DeadLetterRecord>,
    limit: usize,
) -> Vec<DeadLetterRecord> {
    records.sort_by(|a, b| (a.failed_at, &a.message_id).cmp(&(b.failed_at, &b.message_id)));
    records.truncate(limit);
    records
}

/// The per-account lockout: `free` attempts, then each further attempt locks the account for
/// `base`, doubled per attempt, at most `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub free: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Lockout {
    /// How long the account stays locked after its `attempts`-th counted attempt.
    pub fn lock_for(&self, attempts: u32) -> Option<Duration> {
        let beyond = attempts.checked_sub(self.free)?;
        let doubled = self
            .base
            .num_seconds()
            .saturating_mul(1i64 << beyond.min(30));
        Some(Duration::seconds(doubled).min(self.cap))
    }
}

/// The answer of [`ControlStore::take_account_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAttempt {
    /// Go ahead: this is the account's `attempts`-th attempt since its last success.
    Granted { attempts: u32 },
    /// The account is locked until then.
    Locked { until: DateTime<Utc> },
}

/// From the account's count and lock: the count and lock after one more attempt, or `Err`
/// with the lock's end while it holds. Shared by both adapters so they decide alike.
pub fn next_account_attempt(
    lockout: &Lockout,
    attempts: u32,
    locked_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(u32, Option<DateTime<Utc>>), DateTime<Utc>> {
    if let Some(until) = locked_until.filter(|until| *until > now) {
        return Err(until);
    }
    let attempts = attempts + 1;
    Ok((attempts, lockout.lock_for(attempts).map(|d| now + d)))
}

pub fn window_start(window: Duration, now: DateTime<Utc>) -> i64 {
    let len = window.num_seconds().max(1);
    now.timestamp().div_euclid(len) * len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_doubles_per_attempt_up_to_the_cap() {
        let lockout = Lockout {
            free: 10,
            base: Duration::seconds(30),
            cap: Duration::minutes(15),
        };
        let locks: Vec<Option<i64>> = (8..=17)
            .map(|a| lockout.lock_for(a).map(|d| d.num_seconds()))
            .collect();
        assert_eq!(
            locks,
            [
                None,
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(900),
                Some(900),
                Some(900)
            ]
        );
    }

    #[test]
    fn windows_are_aligned_and_contain_now() {
        let window = Duration::minutes(15);
        let now = DateTime::from_timestamp(1_700_000_123, 0).unwrap();
        let start = window_start(window, now);
        assert_eq!(start % 900, 0);
        assert!(start <= now.timestamp() && now.timestamp() < start + 900);
    }

    #[test]
    fn run_ids_sort_by_start_time() {
        let early = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let late = early + Duration::milliseconds(1);
        assert!(RunId::generate(early) < RunId::generate(late));
    }

    #[test]
    fn counters_add_field_by_field() {
        let mut total = RunCounters {
            created: 1,
            ..Default::default()
        };
        total.add(&RunCounters {
            created: 2,
            adopted: 4,
            failed: 1,
            ..Default::default()
        });
        assert_eq!(
            total,
            RunCounters {
                created: 3,
                adopted: 4,
                failed: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn every_counter_has_a_field_name_that_sets_it() {
        let mut read = RunCounters::default();
        for (i, (name, _)) in RunCounters::default().fields().into_iter().enumerate() {
            read.set(name, i as u64 + 1);
        }
        let values: Vec<u64> = read.fields().into_iter().map(|(_, v)| v).collect();
        assert_eq!(values, (1..=8).collect::<Vec<u64>>());
    }

    #[test]
    fn a_stored_run_without_the_adopted_counter_reads_as_zero() {
        let old = r#"{"tickets_queued":2,"tickets_done":2,"created":1,"updated":0,"deleted":0,"conflicts":0,"failed":0}"#;
        let c: RunCounters = serde_json::from_str(old).unwrap();
        assert_eq!(c.adopted, 0);
        assert_eq!(c.created, 1);
    }
}
