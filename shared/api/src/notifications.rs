//! `/api/notifications`: which events people are told about, the conflict backlog threshold,
//! and a test event an admin sends through the bus and its rules
//! (`sync_service::console::notifications`).

use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::{ApiJson, if_match_expected, with_etag};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use sync_service::console::notifications::{
    self, NotificationsInput, NotificationsView, TestEventSent,
};

/// The event types people may be told about, each on or off, and the backlog threshold.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationsView), (status = 401, body = crate::problem::Problem)))]
pub async fn get_settings(_: Caller, State(state): State<ApiState>) -> Result<Response, ApiError> {
    let view = notifications::notifications(state.control.as_ref()).await?;
    let version = view.version;
    Ok(with_etag(view, version))
}

/// Replaces the muted types and the backlog threshold; `If-Match` makes a concurrent edit a 409.
#[utoipa::path(put, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "document version read before", pattern = r"^[0-9]{1,19}$", nullable = false)),
    request_body = NotificationsInput,
    responses((status = 200, body = NotificationsView), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn put_settings(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    headers: HeaderMap,
    ApiJson(input): ApiJson<NotificationsInput>,
) -> Result<Response, ApiError> {
    let expected = if_match_expected(&headers)?;
    let actor = origin.actor(&caller.username);
    let view = notifications::save_notifications(
        state.control.as_ref(),
        state.access_log(),
        &actor,
        expected,
        &input,
    )
    .await?;
    let version = view.version;
    Ok(with_etag(view, version))
}

/// Publishes `Notification Test`; the e-mail subscription and the chat receive it as they would
/// a real event. 503 when the bus does not take it.
#[utoipa::path(post, path = "/api/notifications/test", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = TestEventSent), (status = 401, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 503, body = crate::problem::Problem)))]
pub async fn send_test(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
) -> Result<Json<TestEventSent>, ApiError> {
    let actor = origin.actor(&caller.username);
    Ok(Json(
        notifications::send_test_event(&state.events, state.access_log(), &actor).await?,
    ))
}
