//! `/api/schedule`: when scheduled-fetch runs, what it does while a run is still going, who is
//! told about failures, and the next three runs (`sync_service::console::schedule`). The cron rule takes
//! EventBridge's six fields or the common five (converted; see `sync_service::console::schedule::cron`).

use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use sync_service::console::schedule::{self, ScheduleInput, ScheduleView};

/// The schedule, its concurrency policy and next runs.
#[utoipa::path(get, path = "/api/schedule", tag = "schedule", security(("bearer" = [])),
    responses((status = 200, body = ScheduleView), (status = 401, body = crate::problem::Problem)))]
pub async fn get_schedule(
    _: Caller,
    State(state): State<ApiState>,
) -> Result<Json<ScheduleView>, ApiError> {
    Ok(Json(schedule::schedule(state.schedule_stores()).await?))
}

/// Replaces the schedule (EventBridge) and the concurrency policy.
#[utoipa::path(put, path = "/api/schedule", tag = "schedule", security(("bearer" = [])), request_body = ScheduleInput,
    responses((status = 200, body = ScheduleView), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn put_schedule(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> Result<Json<ScheduleView>, ApiError> {
    let actor = origin.actor(&caller.username);
    Ok(Json(
        schedule::save_schedule(state.schedule_stores(), &actor, &input).await?,
    ))
}
