//! `/api/notifications/test`: an admin sends a test event through the bus and its rules
//! (`sync_service::console::notifications`).

use crate::auth::Admin;
use crate::context::Origin;
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use sync_service::console::notifications::{self, TestEventSent};

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
