//! Resolving conflicts: one (`POST /api/conflicts/{id}/resolve`) or many by ids or by filter
//! (`POST /api/conflicts/resolve`). The use case, its checks and what it writes are
//! `sync_service::console::resolution`'s; here only the HTTP shapes.

use crate::auth::Admin;
use crate::context::Origin;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sync_core::ids::TicketId;
use sync_core::plan::ConflictReason;
use sync_service::console::resolution::{self, Selection};
use sync_store::conflicts::{ConflictRecord, ResolutionAction};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveOne {
    pub action: ResolutionAction,
    /// For `link`: the Kimai timesheet id (one of the conflict's candidates, if it lists any).
    #[serde(default)]
    pub kimai_id: Option<u64>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkFilter {
    /// e.g. `unmapped_user`.
    #[schema(value_type = Option<String>)]
    pub reason: Option<ConflictReason>,
    pub ticket: Option<u64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveMany {
    pub action: ResolutionAction,
    /// Conflict ids; or give `filter` (open conflicts matching it, up to 500).
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default)]
    pub filter: Option<BulkFilter>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkItem {
    pub id: String,
    /// `resolved`, `already_resolved`, `not_found`, `not_applicable`.
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResult {
    pub resolved: usize,
    pub items: Vec<BulkItem>,
}

/// Resolves one conflict with an action that fits its reason.
#[utoipa::path(post, path = "/api/conflicts/{id}/resolve", tag = "conflicts", security(("bearer" = [])),
    params(("id" = String, Path, description = "conflict id", pattern = r"^[A-Za-z0-9_-]{1,128}$")), request_body = ResolveOne,
    responses((status = 200, description = "the resolved conflict record", body = Object),
              (status = 400, body = crate::problem::Problem), (status = 401, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn resolve_one(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ResolveOne>,
) -> Result<Json<ConflictRecord>, ApiError> {
    let request = resolution::ResolveOne {
        action: input.action,
        kimai_id: input.kimai_id,
        note: input.note,
    };
    let who = origin.actor(&caller.username);
    let resolved = resolution::resolve_one(&state.resolution_deps(), &who, &id, &request).await?;
    Ok(Json(resolved))
}

/// Resolves many conflicts with one action, by ids or by filter; reports each.
#[utoipa::path(post, path = "/api/conflicts/resolve", tag = "conflicts", security(("bearer" = [])),
    request_body = ResolveMany,
    responses((status = 200, body = BulkResult), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem)))]
pub async fn resolve_many(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(input): ApiJson<ResolveMany>,
) -> Result<Json<BulkResult>, ApiError> {
    let selection = match (input.ids, input.filter) {
        (Some(ids), None) => Some(Selection::Ids(ids)),
        (None, Some(f)) => Some(Selection::Filter {
            reason: f.reason,
            ticket: f.ticket.map(TicketId),
        }),
        _ => None,
    };
    let request = resolution::ResolveMany {
        action: input.action,
        selection,
        note: input.note,
    };
    let who = origin.actor(&caller.username);
    let outcome = resolution::resolve_many(&state.resolution_deps(), &who, &request).await?;
    let items = outcome.items.into_iter().map(|i| BulkItem {
        id: i.id,
        outcome: i.outcome.as_str().to_owned(),
        detail: i.detail,
    });
    Ok(Json(BulkResult {
        resolved: outcome.resolved,
        items: items.collect(),
    }))
}
