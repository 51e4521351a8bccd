//! `/api/connections/{zammad,kimai}`: the connection settings, their write-only tokens and the
//! connection test (`sync_service::console::connection_settings`).
//!
//! Reads answer the document version as `ETag`. Writes are conditional: `If-Match: <version>`
//! makes a concurrent edit a 409; without it the last writer wins.

use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::{ApiJson, if_match_expected, with_etag};
use crate::problem::ApiError;
use crate::state::{ApiState, Upstream};
use crate::upstream;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use sync_service::console::connection_settings::{
    self as connections, KimaiConnectionInput, KimaiConnectionView, KimaiTestResult,
    ZammadConnectionInput, ZammadConnectionView, ZammadTestResult,
};

/// The Zammad connection (the token only as set / not set).
#[utoipa::path(get, path = "/api/connections/zammad", tag = "connections", security(("bearer" = [])),
    responses((status = 200, body = ZammadConnectionView), (status = 401, body = crate::problem::Problem)))]
pub async fn get_zammad(_: Caller, State(state): State<ApiState>) -> Result<Response, ApiError> {
    let stores = state.connection_stores(Upstream::Zammad);
    let view = connections::zammad_connection(stores).await?;
    let version = view.version;
    Ok(with_etag(view, version))
}

/// Saves the Zammad connection (and the token, when given).
#[utoipa::path(put, path = "/api/connections/zammad", tag = "connections", security(("bearer" = [])),
    request_body = ZammadConnectionInput,
    params(("If-Match" = Option<String>, Header, description = "version read before", pattern = r"^[0-9]{1,19}$", nullable = false)),
    responses((status = 200, body = ZammadConnectionView), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn put_zammad(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ZammadConnectionInput>,
) -> Result<Response, ApiError> {
    let expected = if_match_expected(&headers)?;
    let stores = state.connection_stores(Upstream::Zammad);
    let actor = origin.actor(&caller.username);
    let view = connections::save_zammad_connection(stores, &actor, expected, &input).await?;
    let version = view.version;
    Ok(with_etag(view, version))
}

/// Tries the stored Zammad settings and token: who the token is, which types exist.
#[utoipa::path(post, path = "/api/connections/zammad/test", tag = "connections", security(("bearer" = [])),
    responses((status = 200, body = ZammadTestResult), (status = 403, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn test_zammad(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
) -> Result<Json<ZammadTestResult>, ApiError> {
    let client = upstream::zammad(&state).await?;
    let actor = origin.actor(&caller.username);
    let result = connections::test_zammad(&client, state.access_log(), &actor).await?;
    Ok(Json(result))
}

/// The Kimai connection (the token only as set / not set).
#[utoipa::path(get, path = "/api/connections/kimai", tag = "connections", security(("bearer" = [])),
    responses((status = 200, body = KimaiConnectionView), (status = 401, body = crate::problem::Problem)))]
pub async fn get_kimai(_: Caller, State(state): State<ApiState>) -> Result<Response, ApiError> {
    let stores = state.connection_stores(Upstream::Kimai);
    let view = connections::kimai_connection(stores).await?;
    let version = view.version;
    Ok(with_etag(view, version))
}

/// Saves the Kimai connection (and the token, when given).
#[utoipa::path(put, path = "/api/connections/kimai", tag = "connections", security(("bearer" = [])),
    request_body = KimaiConnectionInput,
    params(("If-Match" = Option<String>, Header, description = "version read before", pattern = r"^[0-9]{1,19}$", nullable = false)),
    responses((status = 200, body = KimaiConnectionView), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn put_kimai(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    headers: HeaderMap,
    ApiJson(input): ApiJson<KimaiConnectionInput>,
) -> Result<Response, ApiError> {
    let expected = if_match_expected(&headers)?;
    let stores = state.connection_stores(Upstream::Kimai);
    let actor = origin.actor(&caller.username);
    let view = connections::save_kimai_connection(stores, &actor, expected, &input).await?;
    let version = view.version;
    Ok(with_etag(view, version))
}

/// Tries the stored Kimai settings and token: version, API user and zone, booking rights.
#[utoipa::path(post, path = "/api/connections/kimai/test", tag = "connections", security(("bearer" = [])),
    responses((status = 200, body = KimaiTestResult), (status = 403, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn test_kimai(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
) -> Result<Json<KimaiTestResult>, ApiError> {
    let client = upstream::kimai(&state).await?;
    let actor = origin.actor(&caller.username);
    let result = connections::test_kimai(&client, state.access_log(), &actor).await?;
    Ok(Json(result))
}
