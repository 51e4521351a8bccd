//! `/api/mappings`: the mappings from Zammad to Kimai, one list per kind
//! (`sync_service::console::mappings`), with CSV import and export.
//!
//! Reads answer the document version as `ETag`; changes are conditional on `If-Match` when it
//! is sent (else on the version just read), so two people editing at once get a 409. A CSV
//! import is all or nothing: any bad row answers 400 with one error per row.

use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery, if_match, with_etag};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sync_service::console::mappings::{
    self, AllMappings, ImportMode, ImportResult, MappingKind, MappingList,
};
use utoipa::{IntoParams, ToSchema};

/// The `zammad` path segment. Activities also take `none` (time booked without a type); the
/// pattern names only what every kind takes, as one pattern cannot depend on `kind`.
const ZAMMAD_KEY: &str = "Zammad id; for `activity` also `none` (time booked without a type)";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingTarget {
    /// The Kimai id (activity, customer, project or user).
    #[schema(schema_with = sync_service::console::schemas::id)]
    pub kimai: u64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    #[serde(default)]
    pub mode: ImportMode,
}

/// Every mapping of every kind.
#[utoipa::path(get, path = "/api/mappings", tag = "mappings", security(("bearer" = [])),
    responses((status = 200, body = AllMappings), (status = 401, body = crate::problem::Problem)))]
pub async fn list_all(_: Caller, State(state): State<ApiState>) -> Result<Response, ApiError> {
    let all = mappings::all_mappings(state.mapping_stores()).await?;
    let version = all.version;
    Ok(with_etag(all, version))
}

/// The mappings of one kind.
#[utoipa::path(get, path = "/api/mappings/{kind}", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path)),
    responses((status = 200, body = MappingList), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem)))]
pub async fn list_kind(
    _: Caller,
    State(state): State<ApiState>,
    ApiPath(kind): ApiPath<MappingKind>,
) -> Result<Response, ApiError> {
    let list = mappings::mappings_of(state.mapping_stores(), kind).await?;
    let version = list.version;
    Ok(with_etag(list, version))
}

/// Sets one mapping (creates or replaces).
#[utoipa::path(put, path = "/api/mappings/{kind}/{zammad}", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path), ("zammad" = String, Path, description = ZAMMAD_KEY, pattern = r"^[1-9][0-9]{0,18}$", example = "3"),
           ("If-Match" = Option<String>, Header, description = "document version read before", pattern = r"^[0-9]{1,19}$", nullable = false)),
    request_body = MappingTarget,
    responses((status = 200, body = MappingList), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn put_one(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath((kind, zammad)): ApiPath<(MappingKind, String)>,
    headers: HeaderMap,
    ApiJson(target): ApiJson<MappingTarget>,
) -> Result<Response, ApiError> {
    let read_at = if_match(&headers)?;
    let actor = origin.actor(&caller.username);
    let key = (kind, zammad.as_str());
    let list =
        mappings::set_mapping(state.mapping_stores(), &actor, read_at, key, target.kimai).await?;
    let version = list.version;
    Ok(with_etag(list, version))
}

/// Removes one mapping.
#[utoipa::path(delete, path = "/api/mappings/{kind}/{zammad}", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path), ("zammad" = String, Path, description = ZAMMAD_KEY, pattern = r"^[1-9][0-9]{0,18}$", example = "3"),
           ("If-Match" = Option<String>, Header, description = "document version read before", pattern = r"^[0-9]{1,19}$", nullable = false)),
    responses((status = 200, body = MappingList), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn delete_one(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath((kind, zammad)): ApiPath<(MappingKind, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let read_at = if_match(&headers)?;
    let actor = origin.actor(&caller.username);
    let key = (kind, zammad.as_str());
    let list = mappings::delete_mapping(state.mapping_stores(), &actor, read_at, key).await?;
    let version = list.version;
    Ok(with_etag(list, version))
}

/// Imports `zammad,kimai` rows (text/csv). All or nothing.
#[utoipa::path(post, path = "/api/mappings/{kind}/import", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path), ImportParams,
           ("If-Match" = Option<String>, Header, description = "document version read before", pattern = r"^[0-9]{1,19}$", nullable = false)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportResult), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn import_csv(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath(kind): ApiPath<MappingKind>,
    ApiQuery(params): ApiQuery<ImportParams>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let read_at = if_match(&headers)?;
    let actor = origin.actor(&caller.username);
    let how = (kind, params.mode);
    let result = mappings::import_csv(state.mapping_stores(), &actor, read_at, how, &body).await?;
    let version = result.version;
    Ok(with_etag(result, version))
}

/// The mappings of one kind as CSV (`zammad,kimai`), the import's format.
#[utoipa::path(get, path = "/api/mappings/{kind}/export", operation_id = "export_mappings_csv", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path)),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 401, body = crate::problem::Problem)))]
pub async fn export_csv(
    _: Caller,
    State(state): State<ApiState>,
    ApiPath(kind): ApiPath<MappingKind>,
) -> Result<Response, ApiError> {
    let csv = mappings::export_csv(state.mapping_stores(), kind).await?;
    let mut response = csv.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let file = format!("attachment; filename=\"{}-mappings.csv\"", kind.as_str());
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&file).expect("ascii"),
    );
    let etag = format!("\"{}\"", csv.version);
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("digits"));
    Ok(response)
}
