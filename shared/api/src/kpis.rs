//! `GET /api/kpis`: the dashboard's numbers, computed on request by `sync_service::kpis` (which
//! says what each one means). The last run is shown as every run is (`RunView`).

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::runs::RunView;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use sync_service::kpis::{self, Dashboard, KpiStores};
use utoipa::ToSchema;

pub use kpis::{DAYS, DayMinutes, ERROR_RATE_DAYS, ErrorRate, MAX_COUNTED};

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

impl From<Dashboard> for Kpis {
    fn from(d: Dashboard) -> Self {
        Kpis {
            open_conflicts: d.open_conflicts,
            open_conflicts_capped: d.open_conflicts_capped,
            last_run: d.last_run.map(crate::runs::view),
            minutes_per_day: d.minutes_per_day,
            minutes_7d: d.minutes_7d,
            minutes_30d: d.minutes_30d,
            error_rate: d.error_rate,
        }
    }
}

/// Numbers for the dashboard.
#[utoipa::path(get, path = "/api/kpis", tag = "kpis", security(("bearer" = [])),
    responses((status = 200, body = Kpis), (status = 401, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn get_kpis(_: Caller, State(state): State<ApiState>) -> Result<Json<Kpis>, ApiError> {
    let stores = KpiStores {
        control: state.control.as_ref(),
        conflicts: state.conflicts.as_ref(),
        entries: state.entries.as_ref(),
        clock: state.clock.as_ref(),
    };
    Ok(Json(kpis::dashboard(stores).await?.into()))
}
