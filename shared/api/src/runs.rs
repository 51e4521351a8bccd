//! Sync runs: start one by hand (a ticket list or a date range), list them, follow one's
//! progress, export them as CSV.
//!
//! - A **ticket list** records a `manual` run and sends one `ticket-sync` message per ticket
//!   (reason `manual`, the run id, the dry-run flag). Reconcile adds `tickets_done` as it goes.
//! - A **date range** runs the fetch step's backfill in-process (`sync_service::fetch::run_fetch`
//!   with `{"mode": "backfill", from, to, dry_run}`): the same discovery, lease and run record
//!   as a scheduled backfill, so there is one code path for it. The answer comes when discovery
//!   is done and every message is sent.

use crate::audit;
use crate::audit_log::{MAX_CSV_ROWS, cell};
use crate::auth::{Admin, Caller};
use crate::conflicts::page_request;
use crate::context::Origin;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use sync_core::ids::TicketId;
use sync_service::fetch::{FetchDeps, FetchError, FetchOutcome, FetchRequest, ModeName};
use sync_store::control::{RunCounters, RunId, RunState, RunTrigger, SyncRun};
use sync_store::page::MAX_PAGE_SIZE;
use sync_store::queue::{SyncReason, TicketSyncMessage};
use sync_store::{PageRequest, StoreError};
use utoipa::{IntoParams, ToSchema};

/// At most this many tickets in one ticket-list run (larger sets: use a date range).
pub const MAX_TICKETS: usize = 1_000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// Ticket ids to sync; or give `from` and `to`.
    #[serde(default)]
    pub tickets: Option<Vec<u64>>,
    /// Start of a date range (RFC 3339), with `to`.
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    /// Plan and record, but write nothing to Kimai.
    #[serde(default)]
    pub dry_run: bool,
}

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

pub(crate) fn view(run: SyncRun) -> RunView {
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// `running`, `succeeded`, `failed`, `cancelled`.
    pub state: Option<String>,
    /// Runs started at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Runs started before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    pub after: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RunPage {
    pub items: Vec<RunView>,
    /// Pass as `after`; `null` at the end. A page may be short while `next` is set.
    pub next: Option<String>,
}

struct Selection {
    state: Option<RunState>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

impl Selection {
    fn of(q: &RunQuery) -> Result<Self, ApiError> {
        let state = match q.state.as_deref() {
            None | Some("") => None,
            Some(s) => Some(RunState::parse(s).ok_or_else(|| {
                ApiError::invalid("state", "must be running, succeeded, failed or cancelled")
            })?),
        };
        if let (Some(f), Some(t)) = (q.from, q.to)
            && f >= t
        {
            return Err(ApiError::invalid("from", "must be before to"));
        }
        Ok(Selection {
            state,
            from: q.from,
            to: q.to,
        })
    }

    fn keeps(&self, run: &SyncRun) -> bool {
        self.state.is_none_or(|s| s == run.state)
            && self.from.is_none_or(|f| run.started_at >= f)
            && self.to.is_none_or(|t| run.started_at < t)
    }
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid(d) => ApiError::invalid("after", d),
        other => other.into(),
    }
}

/// Starts a run: a ticket list is enqueued at once; a date range runs the backfill discovery.
#[utoipa::path(post, path = "/api/sync-runs", tag = "runs", security(("bearer" = [])), request_body = StartRun,
    responses((status = 202, body = RunView), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 503, body = crate::problem::Problem)))]
pub async fn start(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(input): ApiJson<StartRun>,
) -> Result<Response, ApiError> {
    let run = match (&input.tickets, input.from, input.to) {
        (Some(tickets), None, None) => start_tickets(&state, tickets, input.dry_run).await?,
        (None, Some(from), Some(to)) => start_range(&state, from, to, input.dry_run).await?,
        (None, None, None) => {
            return Err(ApiError::invalid("tickets", "give tickets, or from and to"));
        }
        (Some(_), _, _) => {
            return Err(ApiError::invalid(
                "tickets",
                "give either tickets or a date range, not both",
            ));
        }
        (None, _, _) => {
            return Err(ApiError::invalid(
                "to",
                "a date range needs both from and to",
            ));
        }
    };
    audit::record(
        &state,
        &caller.username,
        &origin,
        "sync_run.start",
        json!({"run_id": run.id.0, "params": run.params}),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(view(run))).into_response())
}

async fn start_tickets(
    state: &ApiState,
    tickets: &[u64],
    dry_run: bool,
) -> Result<SyncRun, ApiError> {
    if tickets.is_empty() || tickets.len() > MAX_TICKETS {
        return Err(ApiError::invalid(
            "tickets",
            format!("give 1..={MAX_TICKETS} ticket ids"),
        ));
    }
    if tickets.contains(&0) {
        return Err(ApiError::invalid("tickets", "ticket ids are positive"));
    }
    let unique: BTreeSet<u64> = tickets.iter().copied().collect();
    let params = json!({"tickets": unique, "dry_run": dry_run});
    let run = state
        .control
        .create_run(RunTrigger::Manual, &params, state.clock.now())
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
    let report = state.ticket_sync.send_many(&messages).await;
    let delta = RunCounters {
        tickets_queued: report.sent as u64,
        failed: report.failed.len() as u64,
        ..Default::default()
    };
    state.control.add_to_run(&run.id, &delta).await?;
    if report.sent == 0 {
        // Nothing reached the queue: the run is over, and the caller may simply try again.
        state
            .control
            .finish_run(&run.id, RunState::Failed, state.clock.now())
            .await?;
        return Err(ApiError::Unavailable(format!(
            "no ticket could be queued (run {} recorded as failed); try again",
            run.id
        )));
    }
    reread(state, &run.id).await
}

async fn start_range(
    state: &ApiState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    dry_run: bool,
) -> Result<SyncRun, ApiError> {
    let request = FetchRequest {
        mode: ModeName::Backfill,
        from: Some(from),
        to: Some(to),
        concurrency: None,
        dry_run,
    };
    // The fetch step's own checks (order, at most 366 days) answer first, as 400s.
    request
        .mode()
        .map_err(|e| ApiError::invalid("from", e.to_string()))?;
    let deps = FetchDeps {
        control: state.control.as_ref(),
        entries: state.entries.as_ref(),
        queue: state.ticket_sync.as_ref(),
        audit: state.audit.as_ref(),
        secrets: state.secrets.as_ref(),
        zammad_token_secret: &state.secret_names.zammad_token,
        clock: state.clock.as_ref(),
    };
    let outcome = sync_service::fetch::run_fetch(&deps, &request)
        .await
        .map_err(|e| match e {
            FetchError::BadRequest(d) => ApiError::invalid("from", d),
            FetchError::Settings(s) if !s.is_retryable() => ApiError::Conflict(s.to_string()),
            FetchError::Settings(s) => ApiError::Unavailable(s.to_string()),
            FetchError::Store(s) => s.into(),
        })?;
    let run_id = match outcome {
        FetchOutcome::Ran(report) => report.run_id,
        FetchOutcome::Skipped { run_id, .. } | FetchOutcome::GaveUp { run_id, .. } => run_id,
    };
    reread(state, &run_id).await
}

async fn reread(state: &ApiState, id: &RunId) -> Result<SyncRun, ApiError> {
    state
        .control
        .get_run(id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("run {id} vanished after it was written")))
}

/// Runs, newest first, filtered by state and start time.
#[utoipa::path(get, path = "/api/sync-runs", operation_id = "list_runs", tag = "runs", security(("bearer" = [])), params(RunQuery),
    responses((status = 200, body = RunPage), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem)))]
pub async fn list(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> Result<Json<RunPage>, ApiError> {
    let page = page_request(q.limit, q.after.clone())?;
    let selection = Selection::of(&q)?;
    let found = state.control.list_runs(&page).await.map_err(store_error)?;
    Ok(Json(RunPage {
        items: found
            .items
            .into_iter()
            .filter(|r| selection.keeps(r))
            .map(view)
            .collect(),
        next: found.next.map(|t| t.0),
    }))
}

/// One run with its counters and progress.
#[utoipa::path(get, path = "/api/sync-runs/{id}", tag = "runs", security(("bearer" = [])),
    params(("id" = String, Path, description = "run id", pattern = r"^[A-Za-z0-9._-]{1,128}$")),
    responses((status = 200, body = RunView), (status = 401, body = crate::problem::Problem),
              (status = 404, body = crate::problem::Problem)))]
pub async fn get_one(
    _: Caller,
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RunView>, ApiError> {
    let run = state
        .control
        .get_run(&RunId(id.clone()))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no sync run {id}")))?;
    Ok(Json(view(run)))
}

/// The selected runs as CSV, newest first (up to 10,000 rows).
#[utoipa::path(get, path = "/api/sync-runs/export.csv", operation_id = "export_runs_csv", tag = "runs", security(("bearer" = [])), params(RunQuery),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem)))]
pub async fn export_csv(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> Result<Response, ApiError> {
    let selection = Selection::of(&q)?;
    let csv_error = |e: csv::Error| ApiError::Internal(e.to_string());
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let mut header = vec!["id", "trigger", "state", "started_at", "finished_at"];
    header.extend(RunCounters::default().fields().map(|(name, _)| name));
    writer.write_record(&header).map_err(csv_error)?;
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    let mut rows = 0;
    'pages: loop {
        let found = state.control.list_runs(&page).await.map_err(store_error)?;
        for run in found.items.into_iter().filter(|r| selection.keeps(r)) {
            if rows == MAX_CSV_ROWS {
                writer
                    .write_record([format!(
                        "truncated after {MAX_CSV_ROWS} rows; narrow the filter"
                    )])
                    .map_err(csv_error)?;
                break 'pages;
            }
            let v = view(run);
            let mut record = vec![
                cell(&v.id),
                v.trigger,
                v.state,
                v.started_at.to_rfc3339(),
                v.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            ];
            record.extend(v.counters.fields().map(|(_, n)| n.to_string()));
            writer.write_record(&record).map_err(csv_error)?;
            rows += 1;
        }
        match found.next {
            Some(next) => page = PageRequest::next(MAX_PAGE_SIZE, next),
            None => break,
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"sync-runs.csv\""),
    );
    Ok(response)
}
