//! Sync runs: start one by hand (a ticket list or a date range), list them, follow one's
//! progress, export them as CSV. Starting, selecting and collecting runs is
//! `sync_service::runs`'; here only the HTTP shapes and the CSV text. A date range answers
//! when discovery is done and every message is sent.

use crate::audit_log::{MAX_CSV_ROWS, cell};
use crate::auth::{Admin, Caller};
use crate::conflicts::page_request;
use crate::context::Origin;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::problem::ApiError;
use crate::state::ApiState;
use crate::use_cases::actor;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_service::fetch::FetchDeps;
use sync_service::runs::{self, Export, Selection};
use sync_store::control::{RunCounters, RunId, SyncRun};
use utoipa::{IntoParams, ToSchema};

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

impl RunQuery {
    fn selection(&self) -> Result<Selection, ApiError> {
        Ok(Selection::new(self.state.as_deref(), self.from, self.to)?)
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
    let deps = FetchDeps {
        control: state.control.as_ref(),
        entries: state.entries.as_ref(),
        queue: state.ticket_sync.as_ref(),
        audit: state.audit.as_ref(),
        secrets: state.secrets.as_ref(),
        zammad_token_secret: &state.secret_names.zammad_token,
        clock: state.clock.as_ref(),
    };
    let request = runs::StartRun {
        tickets: input.tickets,
        from: input.from,
        to: input.to,
        dry_run: input.dry_run,
    };
    let run = runs::start(&deps, &actor(&caller, &origin), &request).await?;
    Ok((StatusCode::ACCEPTED, Json(view(run))).into_response())
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
    let selection = q.selection()?;
    let found = runs::list(state.control.as_ref(), &selection, &page).await?;
    Ok(Json(RunPage {
        items: found.items.into_iter().map(view).collect(),
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
    let selection = q.selection()?;
    let export = runs::export(state.control.as_ref(), &selection, MAX_CSV_ROWS).await?;
    let bytes = csv_text(export).map_err(|e| ApiError::Internal(e.to_string()))?;
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

/// A header, one row per run, and a last row saying so if the export was cut short.
fn csv_text(export: Export) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let mut header = vec!["id", "trigger", "state", "started_at", "finished_at"];
    header.extend(RunCounters::default().fields().map(|(name, _)| name));
    writer.write_record(&header)?;
    for run in export.runs {
        let v = view(run);
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
