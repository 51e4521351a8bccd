//! `/api/pickers`: read-only lists for the console's pickers, fetched live from Zammad and
//! Kimai with the stored connection (`sync_service::console::pickers`; not configured: 409; the remote
//! failing: 502).

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::ApiState;
use crate::upstream;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use sync_service::console::pickers::{self, Pick};
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Term {
    /// Only items whose name (or e-mail, for users) contains this.
    pub term: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    pub term: Option<String>,
    /// Only projects of this Kimai customer.
    pub customer: Option<u64>,
}

/// Zammad time accounting types.
#[utoipa::path(get, path = "/api/pickers/zammad/types", tag = "pickers", security(("bearer" = [])),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn zammad_types(
    _: Caller,
    State(state): State<ApiState>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::zammad(&state).await?;
    Ok(Json(pickers::zammad_types(&client).await?))
}

/// Zammad organisations.
#[utoipa::path(get, path = "/api/pickers/zammad/organisations", tag = "pickers", security(("bearer" = [])),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn zammad_organisations(
    _: Caller,
    State(state): State<ApiState>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::zammad(&state).await?;
    Ok(Json(pickers::zammad_organisations(&client).await?))
}

/// Kimai activities (hidden ones included).
#[utoipa::path(get, path = "/api/pickers/kimai/activities", tag = "pickers", security(("bearer" = [])), params(Term),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn kimai_activities(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<Term>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::kimai(&state).await?;
    Ok(Json(
        pickers::kimai_activities(&client, q.term.as_deref()).await?,
    ))
}

/// Kimai customers (hidden ones included).
#[utoipa::path(get, path = "/api/pickers/kimai/customers", tag = "pickers", security(("bearer" = [])), params(Term),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn kimai_customers(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<Term>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::kimai(&state).await?;
    Ok(Json(
        pickers::kimai_customers(&client, q.term.as_deref()).await?,
    ))
}

/// Kimai projects (hidden and finished ones included), optionally of one customer.
#[utoipa::path(get, path = "/api/pickers/kimai/projects", tag = "pickers", security(("bearer" = [])), params(ProjectFilter),
    responses((status = 200, body = Vec<Pick>), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn kimai_projects(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<ProjectFilter>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::kimai(&state).await?;
    Ok(Json(
        pickers::kimai_projects(&client, q.customer, q.term.as_deref()).await?,
    ))
}

/// Kimai users (needs `view_user` for the API user).
#[utoipa::path(get, path = "/api/pickers/kimai/users", tag = "pickers", security(("bearer" = [])), params(Term),
    responses((status = 200, body = Vec<Pick>), (status = 401, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem), (status = 502, body = crate::problem::Problem)))]
pub async fn kimai_users(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<Term>,
) -> Result<Json<Vec<Pick>>, ApiError> {
    let client = upstream::kimai(&state).await?;
    Ok(Json(
        pickers::kimai_users(&client, q.term.as_deref()).await?,
    ))
}
