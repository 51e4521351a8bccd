//! The dashboard's numbers, computed from the stores on request (nothing is pre-aggregated):
//!
//! - `open_conflicts`: open conflicts, counted up to [`MAX_COUNTED`].
//! - `last_run`: the newest sync run.
//! - `minutes_per_day`: for each of the last 30 local days (oldest first), the minutes of the
//!   entries booked on that day that are `synced` (Kimai holds what Zammad wants);
//!   `minutes_7d` / `minutes_30d` are their sums over the last 7 and 30 days.
//! - `error_rate`: over the runs started in the last 7 days, failed writes and tickets
//!   (`failed`) divided by everything the runs finished (`created + updated + deleted +
//!   failed`); `null` when they did nothing.

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::runs::RunView;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use chrono::{Days, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use sync_store::conflicts::{ConflictFilter, ConflictStatus};
use sync_store::entries::EntryStatus;
use sync_store::{PageRequest, page::MAX_PAGE_SIZE};
use utoipa::ToSchema;

/// Open conflicts are counted up to this many (`open_conflicts_capped` says when more exist).
pub const MAX_COUNTED: u64 = 10_000;
/// Runs looked at for the error rate, at most.
const MAX_RUNS: usize = 2_000;
pub const DAYS: u64 = 30;
pub const ERROR_RATE_DAYS: i64 = 7;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DayMinutes {
    pub day: NaiveDate,
    pub minutes: f64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorRate {
    pub window_days: i64,
    pub runs: u64,
    /// `created + updated + deleted + failed` of those runs.
    pub processed: u64,
    pub failed: u64,
    /// `failed / processed` (0..=1); `null` when nothing was processed.
    pub rate: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct Kpis {
    pub open_conflicts: u64,
    pub open_conflicts_capped: bool,
    pub last_run: Option<RunView>,
    /// The last 30 local days, oldest first (today last).
    pub minutes_per_day: Vec<DayMinutes>,
    pub minutes_7d: f64,
    pub minutes_30d: f64,
    pub error_rate: ErrorRate,
}

/// Numbers for the dashboard.
#[utoipa::path(get, path = "/api/kpis", tag = "kpis", security(("bearer" = [])),
    responses((status = 200, body = Kpis), (status = 401, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn get_kpis(_: Caller, State(state): State<ApiState>) -> Result<Json<Kpis>, ApiError> {
    let (open_conflicts, open_conflicts_capped) = count_open_conflicts(&state).await?;
    let today = state.clock.now().date_naive();
    let mut minutes_per_day = Vec::new();
    for back in (0..DAYS).rev() {
        let day = today.checked_sub_days(Days::new(back)).unwrap_or(today);
        minutes_per_day.push(DayMinutes {
            day,
            minutes: synced_minutes(&state, day).await?,
        });
    }
    let sum = |n: usize| -> f64 {
        minutes_per_day
            .iter()
            .rev()
            .take(n)
            .map(|d| d.minutes)
            .sum()
    };
    let (minutes_7d, minutes_30d) = (sum(7), sum(DAYS as usize));

    let first = state
        .control
        .list_runs(&PageRequest::first(MAX_PAGE_SIZE))
        .await?;
    let last_run = first.items.first().cloned().map(crate::runs::view);
    let since = state.clock.now() - Duration::days(ERROR_RATE_DAYS);
    let mut rate = ErrorRate {
        window_days: ERROR_RATE_DAYS,
        runs: 0,
        processed: 0,
        failed: 0,
        rate: None,
    };
    let mut page = first;
    let mut seen = 0;
    'pages: loop {
        for run in &page.items {
            seen += 1;
            if run.started_at < since || seen > MAX_RUNS {
                break 'pages;
            }
            let c = &run.counters;
            rate.runs += 1;
            rate.failed += c.failed;
            rate.processed += c.created + c.updated + c.deleted + c.failed;
        }
        match page.next.take() {
            Some(next) => {
                page = state
                    .control
                    .list_runs(&PageRequest::next(MAX_PAGE_SIZE, next))
                    .await?
            }
            None => break,
        }
    }
    rate.rate = (rate.processed > 0).then(|| rate.failed as f64 / rate.processed as f64);

    Ok(Json(Kpis {
        open_conflicts,
        open_conflicts_capped,
        last_run,
        minutes_per_day,
        minutes_7d,
        minutes_30d,
        error_rate: rate,
    }))
}

async fn count_open_conflicts(state: &ApiState) -> Result<(u64, bool), ApiError> {
    let filter = ConflictFilter::status(ConflictStatus::Open);
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    let mut count = 0u64;
    loop {
        let page = state.conflicts.list(&filter, &request).await?;
        count += page.items.len() as u64;
        if count >= MAX_COUNTED {
            return Ok((MAX_COUNTED, true));
        }
        match page.next {
            Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
            None => return Ok((count, false)),
        }
    }
}

async fn synced_minutes(state: &ApiState, day: NaiveDate) -> Result<f64, ApiError> {
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    let mut secs: i64 = 0;
    loop {
        let page = state.entries.list_by_day(day, &request).await?;
        secs += page
            .items
            .iter()
            .filter(|r| r.status == EntryStatus::Synced)
            .filter_map(|r| r.desired.as_ref())
            .map(|d| d.duration_secs)
            .sum::<i64>();
        match page.next {
            Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
            None => return Ok(secs as f64 / 60.0),
        }
    }
}
