//! Sync runs: start one by hand (a ticket list or a date range), list them, follow one's
//! progress, export them as CSV. Starting, selecting, showing and exporting runs is
//! `sync_service::console::runs`'; here only the HTTP shapes. A date range answers once it is
//! recorded and handed to scheduled-fetch; the run then shows its progress.

use crate::auth::{Admin, Caller};
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
use sync_service::console::paging::page_request;
use sync_service::console::runs::{self, RunView, Selection};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// Ticket ids to sync; or give `from` and `to`.
    #[serde(default)]
    #[schema(schema_with = sync_service::console::schemas::ids)]
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

fn run_state() -> utoipa::openapi::schema::Object {
    sync_service::console::schemas::one_of_strings(&["running", "succeeded", "failed", "cancelled"])
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// `running`, `succeeded`, `failed`, `cancelled`.
    #[param(schema_with = run_state)]
    pub state: Option<String>,
    /// Runs started at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Runs started before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// 1..=500, default 50.
    #[param(minimum = 1, maximum = 500)]
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

/// Starts a run: a ticket list is enqueued at once; a date range is handed to scheduled-fetch,
/// which discovers its tickets. Either answers 202 with the run, `running`.
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
    let request = runs::StartRun {
        tickets: input.tickets,
        from: input.from,
        to: input.to,
        dry_run: input.dry_run,
    };
    let who = origin.actor(&caller.username);
    let run = runs::start(
        &state.fetch_deps(),
        state.fetch_launcher.as_ref(),
        &who,
        &request,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(RunView::from(run))).into_response())
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
    let found = runs::list(&state.fetch_deps(), &selection, &page).await?;
    Ok(Json(RunPage {
        items: found.items.into_iter().map(RunView::from).collect(),
        next: found.next.map(|t| t.0),
    }))
}

/// One run with its counters and progress.
#[utoipa::path(get, path = "/api/sync-runs/{id}", tag = "runs", security(("bearer" = [])),
    params(("id" = String, Path, description = "run id", pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")),
    responses((status = 200, body = RunView), (status = 401, body = crate::problem::Problem),
              (status = 404, body = crate::problem::Problem)))]
pub async fn get_one(
    _: Caller,
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RunView>, ApiError> {
    let run = runs::get(&state.fetch_deps(), &id).await?;
    Ok(Json(RunView::from(run)))
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
    let bytes = runs::export_csv(&state.fetch_deps(), &selection).await?;
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
