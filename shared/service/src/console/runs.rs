//! Sync runs started by hand, and the run list.
//!
//! - A **ticket list** records a `manual` run and sends one `ticket-sync` message per ticket
//!   (reason `manual`, the run id, the dry-run flag). Reconcile adds `tickets_done` as it goes.
//! - A **date range** is recorded as a `backfill` run here and handed to scheduled-fetch
//!   (asynchronously, through [`Launcher`]) with `{"mode": "backfill", from, to, dry_run,
//!   run_id}`: the same discovery, lease and run record as a scheduled backfill, one code path.
//!   A long discovery (up to 366 days of Zammad queries) would not fit the api function's 29 s;
//!   scheduled-fetch has 300 s. The answer is the run, `running`; the console follows it.

use crate::console::access::{AccessLog, Actor};
use crate::console::audit_log::{MAX_CSV_ROWS, cell};
use crate::console::error::{ConsoleError, ConsoleResult};
use crate::fetch::{FetchDeps, FetchRequest, ModeName, reap_stalled_runs};
use crate::settings::{self, SettingsError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use sync_core::ids::TicketId;
use sync_store::control::{ControlStore, RunCounters, RunId, RunState, RunTrigger, SyncRun};
use sync_store::launch::Launcher;
use sync_store::page::MAX_PAGE_SIZE;
use sync_store::queue::{SyncReason, TicketSyncMessage};
use sync_store::{Page, PageRequest, StoreError};
use utoipa::ToSchema;

/// At most this many tickets in one ticket-list run (larger sets: use a date range).
pub const MAX_TICKETS: usize = 1_000;

/// What a person asks to sync: a ticket list, or a date range (exactly one of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartRun {
    pub tickets: Option<Vec<u64>>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Plan and record, but write nothing to Kimai.
    pub dry_run: bool,
}

// A run as the console shows it: the run list, one run, the dashboard's last run. (No doc
// comment: it would become the description of the API document's schema.)
#[derive(Serialize, ToSchema)]
pub struct RunView {
    pub id: String,
    /// `schedule`, `manual`, `backfill`, `verify`.
    pub trigger: String,
    /// `running`, `succeeded`, `failed`, `cancelled`.
    pub state: String,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub counters: RunCounters,
    /// `tickets_done / tickets_queued` (0..=1); `null` while nothing is queued.
    pub progress: Option<f64>,
}

impl From<SyncRun> for RunView {
    fn from(run: SyncRun) -> Self {
        let c = run.counters;
        RunView {
            id: run.id.0,
            trigger: json!(run.trigger).as_str().unwrap_or_default().to_owned(),
            state: run.state.as_str().to_owned(),
            params: run.params,
            started_at: run.started_at,
            finished_at: run.finished_at,
            counters: c,
            progress: (c.tickets_queued > 0)
                .then(|| (c.tickets_done as f64 / c.tickets_queued as f64).min(1.0)),
        }
    }
}

/// Starts a run (see the module doc), records `sync_run.start`, and answers the run as stored.
pub async fn start(
    deps: &FetchDeps<'_>,
    launcher: &dyn Launcher,
    actor: &Actor,
    request: &StartRun,
) -> ConsoleResult<SyncRun> {
    let run = match (&request.tickets, request.from, request.to) {
        (Some(tickets), None, None) => start_tickets(deps, tickets, request.dry_run).await?,
        (None, Some(from), Some(to)) => {
            start_range(deps, launcher, from, to, request.dry_run).await?
        }
        (None, None, None) => return Err(invalid("tickets", "give tickets, or from and to")),
        (Some(_), _, _) => {
            return Err(invalid(
                "tickets",
                "give either tickets or a date range, not both",
            ));
        }
        (None, _, _) => return Err(invalid("to", "a date range needs both from and to")),
    };
    let detail = json!({"run_id": run.id.0, "params": run.params});
    let access = AccessLog {
        log: deps.audit,
        clock: deps.clock,
    };
    access.record(actor, "sync_run.start", detail).await?;
    Ok(run)
}

fn invalid(field: &str, message: impl Into<String>) -> ConsoleError {
    ConsoleError::invalid(field, message)
}

async fn start_tickets(
    deps: &FetchDeps<'_>,
    tickets: &[u64],
    dry_run: bool,
) -> ConsoleResult<SyncRun> {
    if tickets.is_empty() || tickets.len() > MAX_TICKETS {
        return Err(invalid(
            "tickets",
            format!("give 1..={MAX_TICKETS} ticket ids"),
        ));
    }
    if !tickets.iter().all(|t| crate::console::schemas::is_id(*t)) {
        return Err(invalid("tickets", "ticket ids are positive"));
    }
    let unique: BTreeSet<u64> = tickets.iter().copied().collect();
    let params = json!({"tickets": unique, "dry_run": dry_run});
    let run = deps
        .control
        .create_run(RunTrigger::Manual, &params, deps.clock.now())
        .await?;
    let messages: Vec<TicketSyncMessage> = unique
        .iter()
        .map(|t| {
            let mut m =
                TicketSyncMessage::new(TicketId(*t), SyncReason::Manual, Some(run.id.clone()));
            m.dry_run = dry_run;
            m
        })
        .collect();
    let report = deps.queue.send_many(&messages).await;
    let delta = RunCounters {
        tickets_queued: report.sent as u64,
        failed: report.failed.len() as u64,
        ..Default::default()
    };
    deps.control.add_to_run(&run.id, &delta).await?;
    if report.sent == 0 {
        // Nothing reached the queue: the run is over, and the caller may simply try again.
        return give_up(deps, &run.id, "no ticket could be queued".into()).await;
    }
    reread(deps.control, &run.id).await
}

async fn start_range(
    deps: &FetchDeps<'_>,
    launcher: &dyn Launcher,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    dry_run: bool,
) -> ConsoleResult<SyncRun> {
    let mut request = FetchRequest {
        mode: ModeName::Backfill,
        from: Some(from),
        to: Some(to),
        concurrency: None,
        dry_run,
        run_id: None,
    };
    // The fetch step's own checks (order, at most 366 days) answer first, as invalid input.
    let mode = request.mode().map_err(|e| invalid("from", e.to_string()))?;
    // So are missing settings: a run that could only fail is not started.
    let settings = settings::load_fetch(deps.control)
        .await
        .map_err(settings_error)?;
    settings::load_zammad(deps.control)
        .await
        .map_err(settings_error)?;
    // With the schedule off, no fetch run would end a dead run; starting one does it too.
    if let Err(e) = reap_stalled_runs(deps, &settings, None).await {
        tracing::warn!(error = %e, "could not look for stalled runs");
    }
    let params = request.run_params(mode, settings.concurrency);
    let run = deps
        .control
        .create_run(RunTrigger::Backfill, &params, deps.clock.now())
        .await?;
    request.run_id = Some(run.id.clone());
    let payload = serde_json::to_value(&request).expect("fetch requests serialise");
    if let Err(e) = launcher.launch(&payload).await {
        // Nobody will carry it on: end it now, and let the caller try again.
        let why = format!("the run could not be handed to scheduled-fetch ({e})");
        return give_up(deps, &run.id, why).await;
    }
    Ok(run)
}

/// Ends a run that nothing will carry on, and answers 503 saying so: trying again is safe.
async fn give_up(deps: &FetchDeps<'_>, run: &RunId, why: String) -> ConsoleResult<SyncRun> {
    crate::fetch::end_run(deps, run, RunState::Failed, Some(why.clone())).await?;
    Err(ConsoleError::Unavailable(format!(
        "{why} (run {run} recorded as failed); try again"
    )))
}

fn settings_error(e: SettingsError) -> ConsoleError {
    if e.is_retryable() {
        ConsoleError::Unavailable(e.to_string())
    } else {
        ConsoleError::Conflict(e.to_string())
    }
}

/// The run just written; gone already is a store fault, not the caller's.
async fn reread(control: &dyn ControlStore, id: &RunId) -> ConsoleResult<SyncRun> {
    control
        .get_run(id)
        .await?
        .ok_or_else(|| ConsoleError::Internal(format!("run {id} vanished after it was written")))
}

/// One run.
pub async fn get(deps: &FetchDeps<'_>, id: &str) -> ConsoleResult<SyncRun> {
    deps.control
        .get_run(&RunId(id.to_owned()))
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("no sync run {id}")))
}

/// Which runs a listing or export shows: by state and start time (`from` inclusive, `to` not).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    state: Option<RunState>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

impl Selection {
    /// Checks the filters: a known state name (empty: any), `from` before `to`.
    pub fn new(
        state: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> ConsoleResult<Self> {
        let state = match state {
            None | Some("") => None,
            Some(s) => Some(RunState::parse(s).ok_or_else(|| {
                ConsoleError::invalid("state", "must be running, succeeded, failed or cancelled")
            })?),
        };
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(ConsoleError::invalid("from", "must be before to"));
        }
        Ok(Selection { state, from, to })
    }

    fn keeps(&self, run: &SyncRun) -> bool {
        self.state.is_none_or(|s| s == run.state)
            && self.from.is_none_or(|f| run.started_at >= f)
            && self.to.is_none_or(|t| run.started_at < t)
    }
}

/// One page of runs, newest first, filtered (a page may be short while `next` is set).
pub async fn list(
    deps: &FetchDeps<'_>,
    selection: &Selection,
    page: &PageRequest,
) -> ConsoleResult<Page<SyncRun>> {
    let found = deps.control.list_runs(page).await.map_err(after_error)?;
    Ok(Page {
        items: found
            .items
            .into_iter()
            .filter(|r| selection.keeps(r))
            .collect(),
        next: found.next,
    })
}

/// Every selected run, newest first, up to `max_rows`; `truncated` when there were more.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub runs: Vec<SyncRun>,
    pub truncated: bool,
}

/// The rows of an export of the selected runs.
pub async fn export(
    control: &dyn ControlStore,
    selection: &Selection,
    max_rows: usize,
) -> ConsoleResult<Export> {
    let mut runs = Vec::new();
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let found = control.list_runs(&page).await.map_err(after_error)?;
        for run in found.items.into_iter().filter(|r| selection.keeps(r)) {
            if runs.len() == max_rows {
                return Ok(Export {
                    runs,
                    truncated: true,
                });
            }
            runs.push(run);
        }
        match found.next {
            Some(next) => page = PageRequest::next(MAX_PAGE_SIZE, next),
            None => {
                return Ok(Export {
                    runs,
                    truncated: false,
                });
            }
        }
    }
}

/// A page token the store refuses is the caller's `after`.
fn after_error(e: StoreError) -> ConsoleError {
    match e {
        StoreError::Invalid(d) => ConsoleError::invalid("after", d),
        other => other.into(),
    }
}

/// The selected runs as CSV, newest first (up to [`MAX_CSV_ROWS`]): a header, one row per run,
/// and a last row saying so if the export was cut short.
pub async fn export_csv(deps: &FetchDeps<'_>, selection: &Selection) -> ConsoleResult<Vec<u8>> {
    let export = export(deps.control, selection, MAX_CSV_ROWS).await?;
    csv_text(export).map_err(|e| ConsoleError::Internal(e.to_string()))
}

fn csv_text(export: Export) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let mut header = vec!["id", "trigger", "state", "started_at", "finished_at"];
    header.extend(RunCounters::default().fields().map(|(name, _)| name));
    writer.write_record(&header)?;
    for run in export.runs {
        let v = RunView::from(run);
        let mut record = vec![
            cell(&v.id),
            v.trigger,
            v.state,
            v.started_at.to_rfc3339(),
            v.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ];
        record.extend(v.counters.fields().map(|(_, n)| n.to_string()));
        writer.write_record(&record)?;
    }
    if export.truncated {
        writer.write_record([format!(
            "truncated after {MAX_CSV_ROWS} rows; narrow the filter"
        )])?;
    }
    Ok(writer.into_inner().map_err(|e| e.to_string())?)
}
