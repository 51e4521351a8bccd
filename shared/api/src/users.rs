//! `/api/users`: admins manage the console's users (`sync_service::console::users`). A new user
//! and a reset password get a temporary password, answered once; its holder changes nothing
//! until they set their own (`POST /api/auth/password`). The last enabled admin cannot be
//! disabled, demoted or removed (409), and nobody removes themselves.

use crate::auth::Admin;
use crate::context::Origin;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sync_service::console::users::{self, NewUser, TemporaryPassword, UserChange, UserView};

/// Every console user with role, state and last login.
#[utoipa::path(get, path = "/api/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserView>), (status = 401, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem)))]
pub async fn list(
    _: Admin,
    State(state): State<ApiState>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(users::list_users(state.control.as_ref()).await?))
}

/// Creates a user; the answer holds their temporary password, shown this once.
#[utoipa::path(post, path = "/api/users", tag = "users", security(("bearer" = [])),
    request_body = NewUser,
    responses((status = 201, body = TemporaryPassword), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn create(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(input): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<TemporaryPassword>), ApiError> {
    let actor = origin.actor(&caller.username);
    let created = users::create_user(state.logins(), &actor, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Changes a user's role or disables / enables them.
#[utoipa::path(patch, path = "/api/users/{username}", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@-]*[A-Za-z0-9][A-Za-z0-9._@-]*$", max_length = 64)), request_body = UserChange,
    responses((status = 200, body = UserView), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn change(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    Path(username): Path<String>,
    ApiJson(input): ApiJson<UserChange>,
) -> Result<Json<UserView>, ApiError> {
    let actor = origin.actor(&caller.username);
    Ok(Json(
        users::change_user(state.logins(), &actor, &username, &input).await?,
    ))
}

/// Gives the user a new temporary password (shown this once) and ends their sessions.
#[utoipa::path(post, path = "/api/users/{username}/reset-password", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@-]*[A-Za-z0-9][A-Za-z0-9._@-]*$", max_length = 64)),
    responses((status = 200, body = TemporaryPassword), (status = 403, body = crate::problem::Problem),
              (status = 404, body = crate::problem::Problem),
              (status = 409, description = "your own: change it with the current one", body = crate::problem::Problem)))]
pub async fn reset_password(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    Path(username): Path<String>,
) -> Result<Json<TemporaryPassword>, ApiError> {
    let actor = origin.actor(&caller.username);
    Ok(Json(
        users::reset_password(state.logins(), &actor, &username).await?,
    ))
}

/// Removes a user.
#[utoipa::path(delete, path = "/api/users/{username}", tag = "users", security(("bearer" = [])),
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@-]*[A-Za-z0-9][A-Za-z0-9._@-]*$", max_length = 64)),
    responses((status = 204), (status = 403, body = crate::problem::Problem),
              (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn remove(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let actor = origin.actor(&caller.username);
    users::delete_user(state.logins(), &actor, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}
