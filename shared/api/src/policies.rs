//! `/api/policies`: the sync policies as one resource (`sync_service::console::policy_settings`), stored
//! beside the mappings. `PUT` replaces them all (fields left out take their defaults) and never
//! touches the mappings; `If-Match` makes a concurrent edit a 409. The time unit and the default
//! zone belong to the Zammad connection (`/api/connections/zammad`).

use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::{ApiJson, if_match, with_etag};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use sync_service::console::policy_settings::{self, Policies, PoliciesView};

/// The sync policies (defaults until saved).
#[utoipa::path(get, path = "/api/policies", tag = "policies", security(("bearer" = [])),
    responses((status = 200, body = PoliciesView), (status = 401, body = crate::problem::Problem)))]
pub async fn get_policies(_: Caller, State(state): State<ApiState>) -> Result<Response, ApiError> {
    let view = policy_settings::policies(state.policy_stores()).await?;
    let version = view.version;
    Ok(with_etag(view, version))
}

/// Replaces the sync policies (the mappings stay as they are).
#[utoipa::path(put, path = "/api/policies", tag = "policies", security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "document version read before", pattern = r"^[0-9]{1,19}$", nullable = false)),
    request_body = Policies,
    responses((status = 200, body = PoliciesView), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn put_policies(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    headers: HeaderMap,
    ApiJson(input): ApiJson<Policies>,
) -> Result<Response, ApiError> {
    let read_at = if_match(&headers)?;
    let actor = origin.actor(&caller.username);
    let stores = state.policy_stores();
    let view = policy_settings::replace_policies(stores, &actor, read_at, &input).await?;
    let version = view.version;
    Ok(with_etag(view, version))
}
