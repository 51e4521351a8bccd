//! The conflict list of the console's Reconcile section: filter by status, reason and ticket,
//! newest first, paged with the store's opaque token (`sync_service::console::conflicts`).

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sync_core::ids::TicketId;
use sync_core::plan::ConflictReason;
use sync_service::console::conflicts;
use sync_service::console::paging::page_request;
use sync_store::conflicts::{ConflictFilter, ConflictRecord, ConflictStatus};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConflictQuery {
    /// `open` (default) or `resolved`.
    #[param(schema_with = conflict_status)]
    pub status: Option<ConflictStatus>,
    /// e.g. `unmapped_user`, `both_changed`.
    #[param(schema_with = crate::resolve::reason_filter)]
    pub reason: Option<ConflictReason>,
    /// Zammad ticket id.
    #[param(schema_with = sync_service::console::schemas::id)]
    pub ticket: Option<u64>,
    /// 1..=500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next` of the previous page.
    pub after: Option<String>,
}

fn conflict_status() -> utoipa::openapi::schema::Object {
    sync_service::console::schemas::one_of_strings(&["open", "resolved"])
}

#[derive(Serialize, ToSchema)]
pub struct ConflictPage {
    /// Conflict records (id, status, opened_at, conflict, resolution), newest first.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<ConflictRecord>,
    /// Pass as `after` for the next page; `null` at the end. A page may be short (even empty)
    /// while `next` is set.
    pub next: Option<String>,
}

/// Conflicts, newest first.
#[utoipa::path(get, path = "/api/conflicts", operation_id = "list_conflicts", tag = "conflicts", security(("bearer" = [])), params(ConflictQuery),
    responses((status = 200, body = ConflictPage), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem)))]
pub async fn list(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<ConflictQuery>,
) -> Result<Json<ConflictPage>, ApiError> {
    let page = page_request(q.limit, q.after)?;
    let filter = ConflictFilter {
        status: q.status.unwrap_or(ConflictStatus::Open),
        reason: q.reason,
        ticket_id: q.ticket.map(TicketId),
    };
    let found = conflicts::list(state.conflicts.as_ref(), &filter, &page).await?;
    Ok(Json(ConflictPage {
        items: found.items,
        next: found.next.map(|t| t.0),
    }))
}
