//! `/api/dead-letters`: dead letters of both queues, listed from their records (a read: the
//! queues are not touched) and replayed one or all to the queue they came from
//! (`sync_service::console::dead_letters`).

use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use sync_service::console::dead_letters::{
    self, DeadLetterList, QueueName, ReplayRequest, ReplayResult,
};

/// The dead letters of both queues (up to 200 each), from the records their consumers kept,
/// and each dead-letter queue's count. Reading this changes nothing.
#[utoipa::path(get, path = "/api/dead-letters", operation_id = "list_dead_letters", tag = "dead letters", security(("bearer" = [])),
    responses((status = 200, body = DeadLetterList), (status = 401, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn list(
    _: Caller,
    State(state): State<ApiState>,
) -> Result<Json<DeadLetterList>, ApiError> {
    Ok(Json(
        dead_letters::list_dead_letters(state.dead_letter_queues()).await?,
    ))
}

/// Replays one dead letter (`message_id`) or all of them (`all: true`) to their source queue.
#[utoipa::path(post, path = "/api/dead-letters/{queue}/replay", tag = "dead letters", security(("bearer" = [])),
    params(("queue" = QueueName, Path, description = "`ticket-sync` or `kimai-write`")),
    request_body = ReplayRequest,
    responses((status = 200, body = ReplayResult), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 404, body = crate::problem::Problem), (status = 503, body = crate::problem::Problem)))]
pub async fn replay(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath(queue): ApiPath<QueueName>,
    ApiJson(body): ApiJson<ReplayRequest>,
) -> Result<Json<ReplayResult>, ApiError> {
    let actor = origin.actor(&caller.username);
    let (queues, access) = (state.dead_letter_queues(), state.access_log());
    let result = dead_letters::replay(queues, access, &actor, queue, &body).await?;
    Ok(Json(result))
}
