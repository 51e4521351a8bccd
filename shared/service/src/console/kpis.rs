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

use crate::console::error::ConsoleResult;
use crate::console::runs::RunView;
use crate::settings;
use chrono::{Days, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use sync_store::clock::Clock;
use sync_store::conflicts::{ConflictFilter, ConflictStatus, ConflictsStore};
use sync_store::control::{ControlStore, RunCounters, SyncRun};
use sync_store::entries::{EntriesStore, EntryStatus};
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

impl ErrorRate {
    fn new() -> Self {
        ErrorRate {
            window_days: ERROR_RATE_DAYS,
            runs: 0,
            processed: 0,
            failed: 0,
            rate: None,
        }
    }

    fn count(&mut self, c: &RunCounters) {
        self.runs += 1;
        self.failed += c.failed;
        self.processed += c.created + c.updated + c.deleted + c.failed;
        self.rate = (self.processed > 0).then(|| self.failed as f64 / self.processed as f64);
    }
}

// The dashboard's numbers; `last_run` is shown as every run is. (No doc comment: it would
// become the description of the API document's schema.)
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

/// The stores the numbers come from.
#[derive(Clone, Copy)]
pub struct KpiStores<'a> {
    pub control: &'a dyn ControlStore,
    pub conflicts: &'a dyn ConflictsStore,
    pub entries: &'a dyn EntriesStore,
    pub clock: &'a dyn Clock,
}

/// Numbers for the dashboard.
pub async fn dashboard(stores: KpiStores<'_>) -> ConsoleResult<Kpis> {
    let (open_conflicts, open_conflicts_capped) = count_open_conflicts(stores.conflicts).await?;
    let today = local_today(stores).await;
    let mut minutes_per_day = Vec::new();
    for back in (0..DAYS).rev() {
        let day = today.checked_sub_days(Days::new(back)).unwrap_or(today);
        let minutes = synced_minutes(stores.entries, day).await?;
        minutes_per_day.push(DayMinutes { day, minutes });
    }
    let (last_run, error_rate) = recent_runs(stores).await?;
    Ok(Kpis {
        open_conflicts,
        open_conflicts_capped,
        last_run: last_run.map(RunView::from),
        minutes_7d: sum_of_last(&minutes_per_day, 7),
        minutes_30d: sum_of_last(&minutes_per_day, DAYS as usize),
        minutes_per_day,
        error_rate,
    })
}

/// Today in the service desk's zone (the Zammad connection's default zone), which is what the
/// entries' local days are counted in; UTC before a connection is saved. Just after midnight in
/// Berlin, UTC still says yesterday, and today's bookings would not show as today's.
async fn local_today(stores: KpiStores<'_>) -> NaiveDate {
    let now = stores.clock.now();
    match settings::load_zammad(stores.control).await {
        Ok(zammad) => sync_core::zone::parse_zone(&zammad.default_zone)
            .map_or(now.date_naive(), |zone| {
                now.with_timezone(&zone).date_naive()
            }),
        Err(_) => now.date_naive(),
    }
}

/// The minutes of the last `days` days (the list is oldest first).
fn sum_of_last(per_day: &[DayMinutes], days: usize) -> f64 {
    per_day.iter().rev().take(days).map(|d| d.minutes).sum()
}

/// The newest run, and the error rate of the runs started within the window (newest first,
/// at most [`MAX_RUNS`]).
async fn recent_runs(stores: KpiStores<'_>) -> ConsoleResult<(Option<SyncRun>, ErrorRate)> {
    let mut page = stores
        .control
        .list_runs(&PageRequest::first(MAX_PAGE_SIZE))
        .await?;
    let last_run = page.items.first().cloned();
    let since = stores.clock.now() - Duration::days(ERROR_RATE_DAYS);
    let mut rate = ErrorRate::new();
    let mut seen = 0;
    'pages: loop {
        for run in &page.items {
            seen += 1;
            if run.started_at < since || seen > MAX_RUNS {
                break 'pages;
            }
            rate.count(&run.counters);
        }
        match page.next.take() {
            Some(next) => {
                let request = PageRequest::next(MAX_PAGE_SIZE, next);
                page = stores.control.list_runs(&request).await?
            }
            None => break,
        }
    }
    Ok((last_run, rate))
}

async fn count_open_conflicts(conflicts: &dyn ConflictsStore) -> ConsoleResult<(u64, bool)> {
    let filter = ConflictFilter::status(ConflictStatus::Open);
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    let mut count = 0u64;
    loop {
        let page = conflicts.list(&filter, &request).await?;
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

async fn synced_minutes(entries: &dyn EntriesStore, day: NaiveDate) -> ConsoleResult<f64> {
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    let mut secs: i64 = 0;
    loop {
        let page = entries.list_by_day(day, &request).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_rate_is_failed_over_everything_finished() {
        let mut rate = ErrorRate::new();
        assert_eq!(rate.rate, None, "nothing processed");
        rate.count(&RunCounters {
            created: 2,
            updated: 1,
            deleted: 1,
            failed: 0,
            ..RunCounters::default()
        });
        rate.count(&RunCounters {
            tickets_done: 5,
            failed: 4,
            ..RunCounters::default()
        });
        assert_eq!((rate.runs, rate.processed, rate.failed), (2, 8, 4));
        assert_eq!(rate.rate, Some(0.5));
    }

    #[test]
    fn sums_take_the_newest_days() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let per_day: Vec<DayMinutes> = (0..10)
            .map(|i| DayMinutes {
                day: start + Duration::days(i),
                minutes: i as f64,
            })
            .collect();
        assert_eq!(sum_of_last(&per_day, 3), 9.0 + 8.0 + 7.0);
        assert_eq!(sum_of_last(&per_day, 30), 45.0);
    }
}
