//! scheduled-fetch: find the Zammad tickets whose time may have changed and enqueue each once.
//!
//! Three modes, chosen by the schedule's payload ([`FetchRequest`]):
//! - `incremental`: everything changed since the stored watermark minus an overlap. The
//!   watermark moves to the time discovery started, and only when discovery was complete and
//!   every message was sent.
//! - `verify`: a sweep over the last `verify_window_days`. Type-only changes and deletions fire
//!   no webhook and may not move the ticket, so it re-enqueues every ticket that has entries on
//!   those days (the entries store's by-day index) plus every ticket Zammad reports changed.
//! - `backfill`: the same over an explicit `from`..`to` range.
//!
//! Discovery reads the global `/time_accountings` listing when the token may (admin) and ticket
//! search by `updated_at` otherwise; in `auto` mode a 403 switches to ticket search and is
//! remembered ([`crate::settings::DiscoveryMemory`]).
//!
//! One run at a time: a lease in the control store. With the `skip` policy a second run records
//! a skipped (cancelled) run and returns; with `queue` it waits for the lease up to a bound and
//! then records a failed run.

use crate::events::{DomainEvent, Publisher, RunEnded};
use crate::settings::{
    self, ConcurrencyPolicy, DiscoveryMemory, DiscoveryMode, FetchSettings, MAX_WINDOW_DAYS,
    SettingsError, ZammadConnection,
};
use crate::upstream::{self, CallRates, Timeouts, Zammad};
use call_pacing::Pacer;
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use sync_core::ids::TicketId;
use sync_store::StoreError;
use sync_store::audit::{AuditEvent, AuditKind, AuditLog};
use sync_store::clock::Clock;
use sync_store::control::{
    ControlStore, FinishOutcome, Lease, LeaseOutcome, RunCounters, RunId, RunState, RunTrigger,
    SyncRun,
};
use sync_store::entries::EntriesStore;
use sync_store::page::PageRequest;
use sync_store::queue::{MessageQueue, SyncReason, SyncWindow, TicketSyncMessage};
use sync_store::secrets::SecretSource;
use thiserror::Error;
use zammad_client::ZammadError;

/// The watermark of the incremental fetch.
pub const WATERMARK: &str = "zammad-incremental";
/// The lease every fetch run takes (one run at a time, whatever its mode).
pub const LEASE: &str = "scheduled-fetch";
/// Audit actor of fetch runs.
pub const AUDIT_ACTOR: &str = "scheduled-fetch";

/// The payload EventBridge Scheduler (or the console) sends, e.g.
/// `{"mode":"incremental"}`, `{"mode":"verify"}`,
/// `{"mode":"backfill","from":"2024-03-01T00:00:00Z","to":"2024-04-01T00:00:00Z"}`.
/// `{}` is an incremental fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchRequest {
    #[serde(default)]
    pub mode: ModeName,
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    /// Overrides the policy's concurrency for this invocation.
    #[serde(default)]
    pub concurrency: Option<ConcurrencyPolicy>,
    /// Plan and record, but enqueue no writes (passed on in every message).
    #[serde(default)]
    pub dry_run: bool,
    /// The run the console already recorded for this request (a hand-off): the run carries it
    /// on instead of recording a new one. It must still be `running`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeName {
    #[default]
    Incremental,
    Verify,
    Backfill,
}

/// A checked request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchMode {
    Incremental,
    Verify,
    Backfill {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

impl FetchRequest {
    /// Parses a payload: bad input is a [`FetchError::BadRequest`] naming the problem.
    pub fn from_json(value: Value) -> Result<Self, FetchError> {
        serde_json::from_value(value).map_err(|e| FetchError::BadRequest(e.to_string()))
    }

    /// What a run of this request records as its `params` (the console records a handed-off
    /// run with the same shape).
    pub fn run_params(&self, mode: FetchMode, policy: ConcurrencyPolicy) -> Value {
        json!({
            "mode": mode.name(),
            "from": self.from,
            "to": self.to,
            "dry_run": self.dry_run,
            "concurrency": policy,
        })
    }

    pub fn mode(&self) -> Result<FetchMode, FetchError> {
        let bad = |m: &str| Err(FetchError::BadRequest(m.to_owned()));
        match (self.mode, self.from, self.to) {
            (ModeName::Incremental, None, None) => Ok(FetchMode::Incremental),
            (ModeName::Verify, None, None) => Ok(FetchMode::Verify),
            (ModeName::Incremental | ModeName::Verify, _, _) => {
                bad("from and to belong to backfill only")
            }
            (ModeName::Backfill, Some(from), Some(to)) => {
                if from >= to {
                    bad("backfill needs from before to")
                } else if to - from > Duration::days(i64::from(MAX_WINDOW_DAYS)) {
                    bad(&format!(
                        "backfill spans at most {MAX_WINDOW_DAYS} days; split it"
                    ))
                } else {
                    Ok(FetchMode::Backfill { from, to })
                }
            }
            (ModeName::Backfill, _, _) => bad("backfill needs from and to (RFC 3339)"),
        }
    }
}

impl FetchMode {
    fn trigger(self) -> RunTrigger {
        match self {
            FetchMode::Incremental => RunTrigger::Schedule,
            FetchMode::Verify => RunTrigger::Verify,
            FetchMode::Backfill { .. } => RunTrigger::Backfill,
        }
    }

    fn reason(self) -> SyncReason {
        match self {
            FetchMode::Incremental => SyncReason::Schedule,
            FetchMode::Verify => SyncReason::Verify,
            FetchMode::Backfill { .. } => SyncReason::Backfill,
        }
    }

    fn name(self) -> &'static str {
        match self {
            FetchMode::Incremental => "incremental",
            FetchMode::Verify => "verify",
            FetchMode::Backfill { .. } => "backfill",
        }
    }
}

/// Failures before a run could be recorded. Once a run exists, failures are recorded in it and
/// reported in [`FetchReport`] instead.
#[derive(Debug, Error)]
pub enum FetchError {
    /// The payload is wrong (the schedule's or the console's fault); retrying will not help.
    #[error("bad fetch request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FetchError {
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::BadRequest(_) => false,
            FetchError::Settings(e) => e.is_retryable(),
            FetchError::Store(e) => e.is_retryable(),
        }
    }
}

/// What one invocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FetchOutcome {
    /// The run went through discovery (succeeded or failed; see `state`).
    Ran(FetchReport),
    /// `skip` policy: another run held the lease; a cancelled run records it.
    Skipped {
        run_id: RunId,
        holder: String,
        until: DateTime<Utc>,
    },
    /// `queue` policy: the lease stayed taken for the whole wait; a failed run records it.
    GaveUp { run_id: RunId, waited_ms: u64 },
    /// A handed-off run that had already ended (marked failed because its start came too
    /// late): nothing was done.
    Ended { run_id: RunId, state: RunState },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchReport {
    pub run_id: RunId,
    pub mode: &'static str,
    pub state: RunState,
    /// The listing actually used (`None` if discovery did not get that far).
    pub discovery: Option<DiscoveryMode>,
    /// Distinct tickets found.
    pub found: u64,
    pub enqueued: u64,
    /// Messages that could not be sent.
    pub failed: u64,
    /// Where the watermark moved (incremental runs that succeeded).
    pub watermark: Option<DateTime<Utc>>,
    /// Why the run failed.
    pub error: Option<String>,
}

/// What fetch needs; built once per Lambda instance.
pub struct FetchDeps<'a> {
    pub control: &'a dyn ControlStore,
    pub entries: &'a dyn EntriesStore,
    pub queue: &'a dyn MessageQueue<TicketSyncMessage>,
    pub audit: &'a dyn AuditLog,
    pub secrets: &'a dyn SecretSource,
    /// Name or ARN of the Zammad token secret (`ZAMMAD_TOKEN_SECRET`).
    pub zammad_token_secret: &'a str,
    pub clock: &'a dyn Clock,
    /// Zammad's shared call pace; `None`: no shared limit.
    pub zammad_pace: Option<Arc<dyn Pacer>>,
    /// Where a run that ended is told (`SyncRun Finished`, `SyncRun Failed`).
    pub events: &'a Publisher,
}

/// What [`FetchDeps`] borrow, owned: what scheduled-fetch keeps for its life, and what a
/// fetch run started in the background holds.
#[derive(Clone)]
pub struct FetchPorts {
    pub control: Arc<dyn ControlStore>,
    pub entries: Arc<dyn EntriesStore>,
    pub queue: Arc<dyn MessageQueue<TicketSyncMessage>>,
    pub audit: Arc<dyn AuditLog>,
    pub secrets: Arc<dyn SecretSource>,
    /// Name or ARN of the Zammad token secret (`ZAMMAD_TOKEN_SECRET`).
    pub zammad_token_secret: String,
    pub clock: Arc<dyn Clock>,
    /// Calls per second the upstreams may receive from all instances (only Zammad's is used).
    pub call_rates: CallRates,
    pub events: Arc<Publisher>,
}

impl FetchPorts {
    /// What one run borrows.
    pub fn deps(&self) -> FetchDeps<'_> {
        FetchDeps {
            control: self.control.as_ref(),
            entries: self.entries.as_ref(),
            queue: self.queue.as_ref(),
            audit: self.audit.as_ref(),
            secrets: self.secrets.as_ref(),
            zammad_token_secret: &self.zammad_token_secret,
            clock: self.clock.as_ref(),
            zammad_pace: self.call_rates.zammad_pacer(&self.control),
            events: &self.events,
        }
    }
}

/// One invocation: take the lease, discover, enqueue, record the run, release the lease.
/// A request carrying a `run_id` (the console's hand-off) carries that run on; whatever ends
/// it early (bad settings, a busy lease, a store fault) finishes it too, so it never stays
/// `running`.
#[tracing::instrument(skip_all, fields(mode = ?request.mode))]
pub async fn run_fetch(
    deps: &FetchDeps<'_>,
    request: &FetchRequest,
) -> Result<FetchOutcome, FetchError> {
    let mode = request.mode()?;
    let adopted = match &request.run_id {
        None => None,
        Some(id) => match adopt(deps, id, mode).await? {
            Ok(run) => Some(run),
            Err(state) => {
                tracing::warn!(run_id = %id, state = state.as_str(), "the handed-off run has ended already; nothing to do");
                return Ok(FetchOutcome::Ended {
                    run_id: id.clone(),
                    state,
                });
            }
        },
    };
    let result = fetch_with(deps, request, mode, adopted.as_ref()).await;
    if let (Some(run), Err(error)) = (&adopted, &result) {
        // The run was recorded by the console and is ours now: end it with the reason.
        let finished = end_run(deps, &run.id, RunState::Failed, Some(error.to_string())).await;
        if let Err(e) = finished {
            tracing::warn!(run_id = %run.id, error = %e, "could not end the handed-off run");
        }
        let detail = json!({"run_id": run.id, "error": error.to_string()});
        audit(deps, "fetch.failed", detail).await;
    }
    result
}

/// The handed-off run, if it is still waiting to be carried on; else the state it ended in
/// (the reaper marks a run failed whose start came too late).
async fn adopt(
    deps: &FetchDeps<'_>,
    id: &RunId,
    mode: FetchMode,
) -> Result<Result<SyncRun, RunState>, FetchError> {
    let Some(run) = deps.control.get_run(id).await? else {
        return Err(FetchError::BadRequest(format!("no run {id} to carry on")));
    };
    if run.trigger != mode.trigger() {
        return Err(FetchError::BadRequest(format!(
            "run {id} is a {:?} run, not {}",
            run.trigger,
            mode.name()
        )));
    }
    Ok(match run.state {
        RunState::Running => Ok(run),
        ended => Err(ended),
    })
}

async fn fetch_with(
    deps: &FetchDeps<'_>,
    request: &FetchRequest,
    mode: FetchMode,
    adopted: Option<&SyncRun>,
) -> Result<FetchOutcome, FetchError> {
    let settings = settings::load_fetch(deps.control).await?;
    let zammad = settings::load_zammad(deps.control).await?;
    let policy = request.concurrency.unwrap_or(settings.concurrency);
    let params = match adopted {
        Some(run) => run.params.clone(),
        None => request.run_params(mode, policy),
    };

    let holder = format!("fetch-{}", uuid::Uuid::new_v4().simple());
    let lease = match take_lease(deps, &settings, policy, &holder).await? {
        LeaseWait::Taken(lease) => lease,
        LeaseWait::Busy { holder, until } => {
            let params = with(params, "skipped", json!({"holder": holder, "until": until}));
            let run_id =
                record_unstarted(deps, mode, &params, RunState::Cancelled, adopted).await?;
            tracing::info!(%run_id, %holder, "another fetch holds the lease; skipped");
            audit(
                deps,
                "fetch.skipped",
                json!({"run_id": run_id, "holder": holder}),
            )
            .await;
            return Ok(FetchOutcome::Skipped {
                run_id,
                holder,
                until,
            });
        }
        LeaseWait::GaveUp { waited } => {
            let waited_ms = waited.as_millis() as u64;
            let params = with(params, "gave_up", json!({"waited_ms": waited_ms}));
            let run_id = record_unstarted(deps, mode, &params, RunState::Failed, adopted).await?;
            tracing::error!(%run_id, waited_ms, "lease still held after the wait; gave up");
            let detail =
                json!({"run_id": run_id, "error": "lease wait exceeded", "waited_ms": waited_ms});
            audit(deps, "fetch.failed", detail).await;
            return Ok(FetchOutcome::GaveUp { run_id, waited_ms });
        }
    };

    // Holding the lease, this is the only fetch run alive: any other still `running` died.
    if let Err(e) = reap_stalled_runs(deps, &settings, adopted.map(|r| &r.id)).await {
        tracing::warn!(error = %e, "could not look for stalled runs");
    }
    let result = run_with_lease(
        deps,
        &settings,
        &zammad,
        mode,
        request.dry_run,
        &params,
        adopted,
    )
    .await;
    if let Err(e) = deps.control.release_lease(&lease).await {
        // It expires after lease_ttl_secs anyway.
        tracing::warn!(error = %e, "could not release the fetch lease");
    }
    result.map(FetchOutcome::Ran)
}

/// How long after a fetch run's lease would have expired it is taken for dead: the slack of
/// an asynchronous start (a handed-off run is recorded before its function starts).
pub const STALL_MARGIN_SECS: i64 = 60;
/// How many of the newest runs the reaper looks at. It runs with every fetch, so a dead run
/// is found long before this many newer runs exist.
const REAP_SCAN: u32 = 100;

/// Marks failed every fetch run (schedule, verify, backfill) still `running` although it
/// started longer ago than a lease lasts (plus [`STALL_MARGIN_SECS`]). No live run can be that
/// old: the lease outlives the fetch function's timeout ([`FetchSettings::validate`]). So such
/// a run's process died (killed at its timeout, crashed) before it could finish the run; its
/// lease has expired by then too. Returns the runs it ended.
pub async fn reap_stalled_runs(
    deps: &FetchDeps<'_>,
    settings: &FetchSettings,
    except: Option<&RunId>,
) -> Result<Vec<RunId>, StoreError> {
    let cutoff = deps.clock.now() - settings.lease_ttl() - Duration::seconds(STALL_MARGIN_SECS);
    let newest = deps
        .control
        .list_runs(&PageRequest::first(REAP_SCAN))
        .await?;
    let mut ended = Vec::new();
    for run in newest.items {
        let fetch_run = matches!(
            run.trigger,
            RunTrigger::Schedule | RunTrigger::Verify | RunTrigger::Backfill
        );
        if !fetch_run
            || run.state != RunState::Running
            || run.started_at >= cutoff
            || Some(&run.id) == except
        {
            continue;
        }
        let why = "stopped before it finished (its function timed out or crashed); marked failed by a later run";
        if let FinishOutcome::Finished(_) =
            end_run(deps, &run.id, RunState::Failed, Some(why.into())).await?
        {
            tracing::error!(run_id = %run.id, started_at = %run.started_at, "run stopped before it finished; marked failed");
            let detail = json!({
                "run_id": run.id,
                "error": why,
                "started_at": run.started_at,
            });
            audit(deps, "fetch.failed", detail).await;
            ended.push(run.id);
        }
    }
    Ok(ended)
}

enum LeaseWait {
    Taken(Lease),
    Busy {
        holder: String,
        until: DateTime<Utc>,
    },
    GaveUp {
        waited: std::time::Duration,
    },
}

async fn take_lease(
    deps: &FetchDeps<'_>,
    settings: &FetchSettings,
    policy: ConcurrencyPolicy,
    holder: &str,
) -> Result<LeaseWait, StoreError> {
    let started = tokio::time::Instant::now();
    loop {
        let now = deps.clock.now();
        match deps
            .control
            .acquire_lease(LEASE, holder, settings.lease_ttl(), now)
            .await?
        {
            LeaseOutcome::Acquired(lease) => return Ok(LeaseWait::Taken(lease)),
            LeaseOutcome::Held { holder, expires_at } => match policy {
                ConcurrencyPolicy::Skip => {
                    return Ok(LeaseWait::Busy {
                        holder,
                        until: expires_at,
                    });
                }
                ConcurrencyPolicy::Queue => {
                    let waited = started.elapsed();
                    if waited + settings.lease_poll() > settings.queue_wait() {
                        return Ok(LeaseWait::GaveUp { waited });
                    }
                    tokio::time::sleep(settings.lease_poll()).await;
                }
            },
        }
    }
}

/// The handed-off run's id, or that of a run recorded now.
async fn adopt_or_record(
    deps: &FetchDeps<'_>,
    mode: FetchMode,
    params: &Value,
    at: DateTime<Utc>,
    adopted: Option<&SyncRun>,
) -> Result<RunId, StoreError> {
    match adopted {
        Some(run) => Ok(run.id.clone()),
        None => Ok(deps
            .control
            .create_run(mode.trigger(), params, at)
            .await?
            .id),
    }
}

/// Records a run that never started discovery (skipped or given up).
async fn record_unstarted(
    deps: &FetchDeps<'_>,
    mode: FetchMode,
    params: &Value,
    state: RunState,
    adopted: Option<&SyncRun>,
) -> Result<RunId, StoreError> {
    let id = adopt_or_record(deps, mode, params, deps.clock.now(), adopted).await?;
    end_run(deps, &id, state, None).await?;
    Ok(id)
}

/// One run, once the lease is held: record it, discover, enqueue, move the watermark, and
/// finish the run with what happened.
async fn run_with_lease(
    deps: &FetchDeps<'_>,
    settings: &FetchSettings,
    zammad: &ZammadConnection,
    mode: FetchMode,
    dry_run: bool,
    params: &Value,
    adopted: Option<&SyncRun>,
) -> Result<FetchReport, FetchError> {
    // Microseconds: what the control table keeps, so the reported watermark is the stored one.
    let started = deps.clock.now().trunc_subsecs(6);
    let run_id = adopt_or_record(deps, mode, params, started, adopted).await?;
    tracing::info!(%run_id, "fetch run started");
    let mut report = FetchReport {
        run_id,
        mode: mode.name(),
        state: RunState::Running,
        discovery: None,
        found: 0,
        enqueued: 0,
        failed: 0,
        watermark: None,
        error: None,
    };

    match discover(deps, settings, zammad, mode, started).await {
        Err(error) => {
            report.error = Some(error);
        }
        Ok(found) => enqueue_found(deps, mode, dry_run, started, found, &mut report).await,
    }
    finish(deps, report).await
}

/// Puts one message per ticket found on the queue and, when all were sent, moves the watermark
/// of an incremental run. What went wrong goes into the report's `error`.
async fn enqueue_found(
    deps: &FetchDeps<'_>,
    mode: FetchMode,
    dry_run: bool,
    started: DateTime<Utc>,
    found: Found,
    report: &mut FetchReport,
) {
    let run_id = report.run_id.clone();
    report.discovery = Some(found.used);
    report.found = found.tickets.len() as u64;
    let messages: Vec<TicketSyncMessage> = found
        .tickets
        .iter()
        .map(|&ticket| {
            let mut m = TicketSyncMessage::new(ticket, mode.reason(), Some(run_id.clone()));
            m.dry_run = dry_run;
            m.window = found.window;
            m
        })
        .collect();
    let sent = deps.queue.send_many(&messages).await;
    report.enqueued = sent.sent as u64;
    report.failed = sent.failed.len() as u64;
    let counters = RunCounters {
        tickets_queued: report.enqueued,
        failed: report.failed,
        ..Default::default()
    };
    if let Err(e) = deps.control.add_to_run(&report.run_id, &counters).await {
        tracing::warn!(error = %e, "could not record the run counters");
    }
    if !sent.all_sent() {
        let (index, why) = &sent.failed[0];
        report.error = Some(format!(
            "{} of {} messages not sent (first: ticket {}: {why:?})",
            sent.failed.len(),
            messages.len(),
            messages[*index].ticket_id.0
        ));
    } else if mode == FetchMode::Incremental {
        // Discovery was complete and everything is on the queue: only now may the
        // watermark move, to when discovery started (later changes are seen next time).
        match deps.control.advance_watermark(WATERMARK, started).await {
            Ok(_) => report.watermark = Some(started),
            Err(e) => report.error = Some(format!("watermark not advanced: {e}")),
        }
    }
}

/// Moves a run to its final state and, if this call ended it, tells the bus (`error`: why it
/// failed). Every end of a fetch run goes through here.
pub async fn end_run(
    deps: &FetchDeps<'_>,
    id: &RunId,
    state: RunState,
    error: Option<String>,
) -> Result<FinishOutcome, StoreError> {
    let outcome = deps.control.finish_run(id, state, deps.clock.now()).await?;
    if let FinishOutcome::Finished(run) = &outcome {
        crate::events::measure_run(run);
        let ended = RunEnded::of(run, error);
        deps.events.publish(&[DomainEvent::RunEnded(ended)]).await;
    }
    Ok(outcome)
}

/// Ends the run as failed (when the report has an error) or succeeded, and audits it.
async fn finish(deps: &FetchDeps<'_>, mut report: FetchReport) -> Result<FetchReport, FetchError> {
    let run_id = report.run_id.clone();
    report.state = if report.error.is_some() {
        RunState::Failed
    } else {
        RunState::Succeeded
    };
    end_run(deps, &run_id, report.state, report.error.clone()).await?;
    let detail = serde_json::to_value(&report).expect("reports serialise");
    match &report.error {
        Some(error) => {
            tracing::error!(%run_id, error, "fetch run failed");
            audit(deps, "fetch.failed", detail).await;
        }
        None => {
            tracing::info!(%run_id, found = report.found, enqueued = report.enqueued, "fetch run finished");
            audit(deps, "fetch.finished", detail).await;
        }
    }
    Ok(report)
}

struct Found {
    tickets: BTreeSet<TicketId>,
    used: DiscoveryMode,
    /// The days a verify sweep or backfill covers (reconcile reads Kimai once for them).
    window: Option<SyncWindow>,
}

/// Every ticket to enqueue, deduplicated. An error is the reason the run failed.
async fn discover(
    deps: &FetchDeps<'_>,
    settings: &FetchSettings,
    zammad: &ZammadConnection,
    mode: FetchMode,
    now: DateTime<Utc>,
) -> Result<Found, String> {
    let client = connect_zammad(deps, zammad).await?;
    let client = client.as_ref();
    let (since, known_days) = match mode {
        FetchMode::Incremental => {
            let watermark = deps
                .control
                .get_watermark(WATERMARK)
                .await
                .map_err(|e| format!("read the watermark: {e}"))?;
            let since = match watermark {
                Some(w) => w - settings.overlap(),
                None => now - settings.initial_lookback(),
            };
            (since, None)
        }
        FetchMode::Verify => {
            let from = now - settings.verify_window();
            (from, Some((from, now)))
        }
        FetchMode::Backfill { from, to } => (from, Some((from, to))),
    };

    let (mut tickets, used) = zammad_changes(deps, client, zammad.discovery, since, now).await?;
    if let Some((from, to)) = known_days {
        tickets.extend(known_tickets(deps.entries, from, to).await?);
    }
    Ok(Found {
        tickets,
        used,
        window: known_days.map(|(from, to)| SyncWindow { from, to }),
    })
}

/// The Zammad client of one run, built with the token as it is now (it may have been rotated).
async fn connect_zammad(
    deps: &FetchDeps<'_>,
    zammad: &ZammadConnection,
) -> Result<Box<dyn Zammad>, String> {
    let token = deps
        .secrets
        .get_secret(deps.zammad_token_secret)
        .await
        .map_err(|e| format!("read the Zammad token: {e}"))?;
    let pace = deps.zammad_pace.clone();
    let client = upstream::zammad_client(zammad, token.expose(), Timeouts::Unattended { pace })?;
    Ok(Box::new(client))
}

/// Tickets Zammad reports changed at or after `since`, through the configured listing.
async fn zammad_changes(
    deps: &FetchDeps<'_>,
    client: &dyn Zammad,
    configured: DiscoveryMode,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(BTreeSet<TicketId>, DiscoveryMode), String> {
    let mode = match configured {
        DiscoveryMode::Auto => {
            let memory = settings::load_discovery_memory(deps.control)
                .await
                .map_err(|e| format!("read the discovery memory: {e}"))?;
            match memory {
                Some(m) if m.use_mode == DiscoveryMode::TicketSearch && now < m.retry_after => {
                    DiscoveryMode::TicketSearch
                }
                _ => DiscoveryMode::Auto,
            }
        }
        fixed => fixed,
    };
    match mode {
        DiscoveryMode::TicketSearch => search(client, since)
            .await
            .map(|t| (t, DiscoveryMode::TicketSearch)),
        DiscoveryMode::GlobalListing => global_listing(client, since)
            .await
            .map(|t| (t, DiscoveryMode::GlobalListing)),
        DiscoveryMode::Auto => match client.time_accountings_updated_since(since).await {
            Ok(accountings) => Ok((
                accountings.iter().map(|a| a.ticket_id).collect(),
                DiscoveryMode::GlobalListing,
            )),
            Err(e) if e.is_permission_denied() => {
                tracing::info!("the token may not read the global listing; using ticket search");
                if let Err(e) = settings::save_discovery_memory(
                    deps.control,
                    &DiscoveryMemory::ticket_search(now),
                    now,
                )
                .await
                {
                    tracing::warn!(error = %e, "could not remember the discovery mode");
                }
                search(client, since)
                    .await
                    .map(|t| (t, DiscoveryMode::TicketSearch))
            }
            Err(e) => Err(zammad_failure("global time accounting listing", &e)),
        },
    }
}

async fn global_listing(
    client: &dyn Zammad,
    since: DateTime<Utc>,
) -> Result<BTreeSet<TicketId>, String> {
    client
        .time_accountings_updated_since(since)
        .await
        .map(|list| list.iter().map(|a| a.ticket_id).collect())
        .map_err(|e| zammad_failure("global time accounting listing", &e))
}

async fn search(client: &dyn Zammad, since: DateTime<Utc>) -> Result<BTreeSet<TicketId>, String> {
    client
        .tickets_updated_since(since)
        .await
        .map(|list| list.iter().map(|t| t.id).collect())
        .map_err(|e| zammad_failure("ticket search", &e))
}

fn zammad_failure(what: &str, e: &ZammadError) -> String {
    let hint = if e.is_credentials_problem() {
        " (check the Zammad token)"
    } else if e.is_retryable() {
        " (Zammad unavailable; the next run retries)"
    } else {
        ""
    };
    format!("Zammad {what} failed: {e}{hint}")
}

/// Tickets that have entries booked on the local days around `from..=to`. Entries are keyed by
/// the agent's local day, so one day is added on each side to cover every zone.
async fn known_tickets(
    entries: &dyn EntriesStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<BTreeSet<TicketId>, String> {
    let first = from.date_naive() - Duration::days(1);
    let last = to.date_naive() + Duration::days(1);
    let mut tickets = BTreeSet::new();
    let mut day: NaiveDate = first;
    while day <= last {
        let on_day = entries
            .tickets_on_day(day)
            .await
            .map_err(|e| format!("read entries of {day}: {e}"))?;
        tickets.extend(on_day);
        day += Duration::days(1);
    }
    Ok(tickets)
}

fn with(mut params: Value, key: &str, value: Value) -> Value {
    if let Value::Object(map) = &mut params {
        map.insert(key.to_owned(), value);
    }
    params
}

async fn audit(deps: &FetchDeps<'_>, action: &str, detail: Value) {
    let event = AuditEvent {
        at: deps.clock.now(),
        kind: AuditKind::Sync,
        action: action.to_owned(),
        actor: AUDIT_ACTOR.to_owned(),
        ip: None,
        detail,
    };
    if let Err(e) = deps.audit.append(&event).await {
        tracing::error!(error = %e, action, "audit write failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn requests_parse_and_are_checked() {
        let r = FetchRequest::from_json(json!({})).unwrap();
        assert_eq!(r.mode().unwrap(), FetchMode::Incremental);
        let r = FetchRequest::from_json(json!({"mode": "verify"})).unwrap();
        assert_eq!(r.mode().unwrap(), FetchMode::Verify);
        let r = FetchRequest::from_json(json!({
            "mode": "backfill", "from": "2024-03-01T00:00:00Z", "to": "2024-04-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(
            r.mode().unwrap(),
            FetchMode::Backfill {
                from: t("2024-03-01T00:00:00Z"),
                to: t("2024-04-01T00:00:00Z")
            }
        );

        for bad in [
            json!({"mode": "sometimes"}),
            json!({"mode": "verify", "extra": 1}),
            json!({"mode": "backfill", "from": "yesterday", "to": "2024-04-01T00:00:00Z"}),
        ] {
            assert!(
                matches!(
                    FetchRequest::from_json(bad.clone()),
                    Err(FetchError::BadRequest(_))
                ),
                "{bad}"
            );
        }
        for bad in [
            json!({"mode": "backfill", "from": "2024-03-01T00:00:00Z"}),
            json!({"mode": "backfill", "from": "2024-04-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"}),
            json!({"mode": "backfill", "from": "2020-01-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"}),
            json!({"mode": "incremental", "from": "2024-03-01T00:00:00Z"}),
        ] {
            let r = FetchRequest::from_json(bad.clone()).unwrap();
            let err = r.mode().unwrap_err();
            assert!(matches!(err, FetchError::BadRequest(_)), "{bad}");
            assert!(!err.is_retryable());
        }
    }
}
