//! Test-side control of the simulator, in process ([`SimAdmin`]) and over HTTP (`/__admin/...`,
//! no token needed: the simulator only listens on loopback).

use crate::dataset::{CustomerRecord, ProjectRecord, Settings};
use crate::faults::RouteFaults;
use crate::state::{Shared, State, StoredTimesheet};
use crate::time::format_in;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use sync_core::kimai::parse_kimai_datetime;
use thiserror::Error;

/// A stored timesheet as the admin API shows it (Kimai fields plus what Kimai keeps hidden).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTimesheet {
    pub id: u64,
    pub user: u64,
    pub project: u64,
    pub activity: u64,
    pub begin: String,
    pub end: Option<String>,
    pub duration: i64,
    #[serde(rename = "break")]
    pub break_secs: i64,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub exported: bool,
    pub billable: bool,
    /// The zone the record is shown in (its owner's).
    pub timezone: String,
    pub modified_at: DateTime<Utc>,
}

impl AdminTimesheet {
    fn of(t: &StoredTimesheet) -> Self {
        AdminTimesheet {
            id: t.id,
            user: t.user,
            project: t.project,
            activity: t.activity,
            begin: format_in(t.begin, t.tz),
            end: t.end.map(|e| format_in(e, t.tz)),
            duration: t.duration_secs(),
            break_secs: t.break_secs,
            description: t.description.clone(),
            tags: t.tags.clone(),
            exported: t.exported,
            billable: t.billable,
            timezone: t.tz.name().to_owned(),
            modified_at: t.modified_at,
        }
    }
}

/// A change made "by hand" in Kimai's UI: only the given fields change, `modified_at` moves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HandEdit {
    pub description: Option<String>,
    /// With offset, e.g. `2026-03-02T10:00:00+0100`.
    pub begin: Option<String>,
    pub end: Option<String>,
    pub project: Option<u64>,
    pub activity: Option<u64>,
    pub tags: Option<Vec<String>>,
    pub billable: Option<bool>,
}

/// Concurrent API requests (admin routes not counted), as `/__admin/concurrency` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concurrency {
    /// Being handled now, simulated latency included.
    pub in_flight: u64,
    /// The most handled at once since the start or the last reset.
    pub max_in_flight: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdminError {
    #[error("no timesheet {0}")]
    NoTimesheet(u64),
    #[error("no project {0}")]
    NoProject(u64),
    #[error("{field}: {value:?} is not a datetime with offset")]
    BadTime { field: &'static str, value: String },
}

/// In-process handle on a running simulator's state.
#[derive(Clone)]
pub struct SimAdmin {
    shared: Shared,
}

impl SimAdmin {
    pub(crate) fn new(shared: Shared) -> Self {
        SimAdmin { shared }
    }

    /// Every timesheet, whoever owns it, by id.
    pub fn timesheets(&self) -> Vec<AdminTimesheet> {
        self.shared
            .lock()
            .timesheets
            .values()
            .map(AdminTimesheet::of)
            .collect()
    }

    pub fn timesheet(&self, id: u64) -> Option<AdminTimesheet> {
        self.shared
            .lock()
            .timesheets
            .get(&id)
            .map(AdminTimesheet::of)
    }

    /// Every customer, those created through the API included, by id.
    pub fn customers(&self) -> Vec<CustomerRecord> {
        self.shared.lock().customers.values().cloned().collect()
    }

    /// Every project, those created through the API included, by id.
    pub fn projects(&self) -> Vec<ProjectRecord> {
        self.shared.lock().projects.values().cloned().collect()
    }

    /// Calls per route (`"GET /api/timesheets"`, `"PATCH /api/timesheets/{id}"`, …).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.shared.lock().calls.clone()
    }

    pub fn call_count(&self, route: &str) -> u64 {
        self.shared.lock().calls.get(route).copied().unwrap_or(0)
    }

    pub fn concurrency(&self) -> Concurrency {
        let st = self.shared.lock();
        Concurrency {
            in_flight: st.in_flight,
            max_in_flight: st.max_in_flight,
        }
    }

    /// Start a new measurement: the maximum becomes what is in flight now.
    pub fn reset_concurrency(&self) -> Concurrency {
        let mut st = self.shared.lock();
        st.max_in_flight = st.in_flight;
        Concurrency {
            in_flight: st.in_flight,
            max_in_flight: st.max_in_flight,
        }
    }

    /// Replace the faults of one route (`"POST /api/timesheets"`).
    pub fn set_faults(&self, route: &str, faults: RouteFaults) {
        self.shared.lock().faults.insert(route.to_owned(), faults);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    pub fn faults(&self) -> BTreeMap<String, RouteFaults> {
        self.shared.lock().faults.clone()
    }

    pub fn settings(&self) -> Settings {
        self.shared.lock().settings.clone()
    }

    pub fn set_settings(&self, settings: Settings) {
        self.shared.lock().settings = settings;
    }

    /// Lock a project up to and including `until` (`None` opens it again), as an admin would in
    /// Kimai's project form.
    pub fn lock_project(
        &self,
        id: u64,
        until: Option<chrono::NaiveDate>,
    ) -> Result<ProjectRecord, AdminError> {
        let mut st = self.shared.lock();
        let p = st.projects.get_mut(&id).ok_or(AdminError::NoProject(id))?;
        p.locked_until = until;
        Ok(p.clone())
    }

    pub fn set_exported(&self, id: u64, exported: bool) -> Result<AdminTimesheet, AdminError> {
        let mut st = self.shared.lock();
        let t = st
            .timesheets
            .get_mut(&id)
            .ok_or(AdminError::NoTimesheet(id))?;
        t.exported = exported;
        t.modified_at = Utc::now();
        Ok(AdminTimesheet::of(t))
    }

    /// Change a timesheet as a person in Kimai's UI would (no permission checks).
    pub fn edit_by_hand(&self, id: u64, edit: HandEdit) -> Result<AdminTimesheet, AdminError> {
        let time = |field: &'static str, v: &str| {
            parse_kimai_datetime(field, v)
                .map(|t| t.to_utc())
                .map_err(|_| AdminError::BadTime {
                    field,
                    value: v.to_owned(),
                })
        };
        let begin = edit
            .begin
            .as_deref()
            .map(|v| time("begin", v))
            .transpose()?;
        let end = edit.end.as_deref().map(|v| time("end", v)).transpose()?;
        let mut st = self.shared.lock();
        let t = st
            .timesheets
            .get_mut(&id)
            .ok_or(AdminError::NoTimesheet(id))?;
        if let Some(d) = edit.description {
            t.description = Some(d);
        }
        if let Some(b) = begin {
            t.begin = b;
        }
        if end.is_some() {
            t.end = end;
        }
        if let Some(p) = edit.project {
            t.project = p;
        }
        if let Some(a) = edit.activity {
            t.activity = a;
        }
        if let Some(tags) = edit.tags {
            t.tags = tags;
        }
        if let Some(b) = edit.billable {
            t.billable = b;
        }
        t.modified_at = Utc::now();
        Ok(AdminTimesheet::of(t))
    }

    /// Back to the seed: records, settings, faults, counters and the RNG. Requests still in
    /// flight stay counted (they end after the reset) and are the new maximum.
    pub fn reset(&self) {
        let mut st = self.shared.lock();
        let mut fresh = State::new(st.seed.clone(), st.rng_seed);
        fresh.in_flight = st.in_flight;
        fresh.max_in_flight = st.in_flight;
        *st = fresh;
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsBody {
    route: String,
    #[serde(flatten)]
    faults: RouteFaults,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportedBody {
    exported: bool,
}

fn admin_error(e: AdminError) -> Response {
    let status = match e {
        AdminError::NoTimesheet(_) | AdminError::NoProject(_) => StatusCode::NOT_FOUND,
        AdminError::BadTime { .. } => StatusCode::BAD_REQUEST,
    };
    (status, Json(serde_json::json!({"error": e.to_string()}))).into_response()
}

pub fn router(admin: SimAdmin) -> Router {
    Router::new()
        .route(
            "/__admin/timesheets",
            get(|AxState(a): AxState<SimAdmin>| async move { Json(a.timesheets()) }),
        )
        .route(
            "/__admin/timesheets/{id}/exported",
            post(
                |AxState(a): AxState<SimAdmin>, Path(id): Path<u64>, Json(b): Json<ExportedBody>| async move {
                    a.set_exported(id, b.exported).map(Json).map_err(admin_error)
                },
            ),
        )
        .route(
            "/__admin/timesheets/{id}/edit",
            post(
                |AxState(a): AxState<SimAdmin>, Path(id): Path<u64>, Json(b): Json<HandEdit>| async move {
                    a.edit_by_hand(id, b).map(Json).map_err(admin_error)
                },
            ),
        )
        .route(
            "/__admin/calls",
            get(|AxState(a): AxState<SimAdmin>| async move { Json(a.calls()) }),
        )
        .route(
            "/__admin/concurrency",
            get(|AxState(a): AxState<SimAdmin>| async move { Json(a.concurrency()) }).delete(
                |AxState(a): AxState<SimAdmin>| async move { Json(a.reset_concurrency()) },
            ),
        )
        .route(
            "/__admin/faults",
            get(|AxState(a): AxState<SimAdmin>| async move { Json(a.faults()) })
                .put(|AxState(a): AxState<SimAdmin>, Json(b): Json<FaultsBody>| async move {
                    a.set_faults(&b.route, b.faults);
                    StatusCode::NO_CONTENT
                })
                .delete(|AxState(a): AxState<SimAdmin>| async move {
                    a.clear_faults();
                    StatusCode::NO_CONTENT
                }),
        )
        .route(
            "/__admin/settings",
            get(|AxState(a): AxState<SimAdmin>| async move { Json(a.settings()) }).put(
                |AxState(a): AxState<SimAdmin>, Json(s): Json<Settings>| async move {
                    a.set_settings(s);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/__admin/reset",
            put(|AxState(a): AxState<SimAdmin>| async move {
                a.reset();
                StatusCode::NO_CONTENT
            })
            .post(|AxState(a): AxState<SimAdmin>| async move {
                a.reset();
                StatusCode::NO_CONTENT
            }),
        )
        .with_state(admin)
}
