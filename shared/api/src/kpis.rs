//! `GET /api/kpis`: the dashboard's numbers, computed on request by
//! `sync_service::console::kpis` (which says what each one means).

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use sync_service::console::kpis::{self, Kpis};

/// Numbers for the dashboard.
#[utoipa::path(get, path = "/api/kpis", tag = "kpis", security(("bearer" = [])),
    responses((status = 200, body = Kpis), (status = 401, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn get_kpis(_: Caller, State(state): State<ApiState>) -> Result<Json<Kpis>, ApiError> {
    Ok(Json(kpis::dashboard(state.kpi_stores()).await?))
}
