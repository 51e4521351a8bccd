//! The entries ledger (one row per desired timesheet key: what Zammad wants, where it stands,
//! which Kimai timesheet it owns) and approval of entries waiting in approval mode. Which
//! index a listing reads and how it filters is `sync_service::console::ledger`'s; approving is
//! `sync_service::console::approvals`'. Here only the HTTP shapes.

use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_core::ids::{TicketId, ZammadUserId};
use sync_service::console::approvals;
use sync_service::console::ledger::{self, LedgerQuery};
use sync_service::console::paging::page_request;
use sync_store::entries::EntryRecord;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryQuery {
    /// `synced`, `pending`, `awaiting_approval`, `conflict`, `deleted`.
    #[param(schema_with = entry_status)]
    pub status: Option<String>,
    /// Zammad ticket id: every entry of the ticket (no paging).
    #[param(minimum = 1)]
    pub ticket: Option<u64>,
    /// Zammad user id of the agent.
    #[param(minimum = 1)]
    pub agent: Option<u64>,
    /// First local day (`YYYY-MM-DD`), inclusive.
    pub from: Option<NaiveDate>,
    /// Last local day, inclusive.
    pub to: Option<NaiveDate>,
    /// 1..=500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next` of the previous page (with the same filters).
    pub after: Option<String>,
}

fn entry_status() -> utoipa::openapi::schema::Object {
    sync_service::console::schemas::one_of_strings(&[
        "synced",
        "pending",
        "awaiting_approval",
        "conflict",
        "deleted",
    ])
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    pub ticket: u64,
    /// The entry's key within the ticket (`ta:<accounting id>` or an aggregate key).
    pub key: String,
    /// Zammad user id of the agent.
    pub agent: u64,
    /// Local day it is booked on.
    pub day: NaiveDate,
    pub status: String,
    /// Minutes Zammad wants booked; `null` once the Zammad time is gone.
    pub minutes: Option<f64>,
    /// The Kimai timesheet this entry owns; `null` before the first write.
    pub kimai_id: Option<u64>,
    /// What Zammad wants (begin, end, user, project, activity, description, ...).
    #[schema(value_type = Option<Object>)]
    pub desired: Option<serde_json::Value>,
    pub updated_at: DateTime<Utc>,
}

impl From<EntryRecord> for EntryView {
    fn from(r: EntryRecord) -> Self {
        EntryView {
            ticket: r.ticket_id.0,
            kimai_id: r.kimai_id().map(|id| id.0),
            minutes: r.desired.as_ref().map(|d| d.duration_secs as f64 / 60.0),
            desired: r.desired.as_ref().map(|d| json!(d)),
            key: r.key.0,
            agent: r.agent_id.0,
            day: r.day,
            status: r.status.as_str().to_owned(),
            updated_at: r.updated_at,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EntryPage {
    pub items: Vec<EntryView>,
    /// Pass as `after` for the next page; `null` at the end.
    pub next: Option<String>,
}

/// Entries, filtered and paged.
#[utoipa::path(get, path = "/api/entries", operation_id = "list_entries", tag = "entries", security(("bearer" = [])), params(EntryQuery),
    responses((status = 200, body = EntryPage), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem)))]
pub async fn list(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<EntryQuery>,
) -> Result<Json<EntryPage>, ApiError> {
    let page = page_request(q.limit, q.after)?;
    let query = LedgerQuery {
        status: q.status,
        ticket: q.ticket.map(TicketId),
        agent: q.agent.map(ZammadUserId),
        from: q.from,
        to: q.to,
    };
    let found = ledger::list(state.ledger_stores(), &query, &page).await?;
    Ok(Json(EntryPage {
        items: found.items.into_iter().map(EntryView::from).collect(),
        next: found.next.map(|t| t.0),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRef {
    #[schema(schema_with = sync_service::console::schemas::id)]
    pub ticket: u64,
    /// `ta:<accounting id>` or `agg:<hex>`.
    #[schema(
        pattern = r"^(ta:[1-9][0-9]{0,18}|agg:[0-9a-f]{1,64})$",
        example = "ta:1"
    )]
    pub key: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveMany {
    /// 1..=500 entries, each `{ticket, key}`.
    #[schema(min_items = 1, max_items = 500)]
    pub entries: Vec<EntryRef>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApprovalOutcome {
    pub ticket: u64,
    pub key: String,
    /// `approved` (its create is queued), `not_found`, `not_awaiting` (its status is another:
    /// someone approved it first, or a sync changed it), `failed` (not queued; try again).
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApprovalResult {
    pub approved: usize,
    pub items: Vec<ApprovalOutcome>,
}

/// Approves entries waiting in approval mode: their creates go to the `kimai-write` queue.
#[utoipa::path(post, path = "/api/entries/approve", tag = "entries", security(("bearer" = [])),
    request_body = ApproveMany,
    responses((status = 200, body = ApprovalResult), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn approve(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(body): ApiJson<ApproveMany>,
) -> Result<Json<ApprovalResult>, ApiError> {
    let entries: Vec<approvals::EntryRef> = (body.entries.into_iter())
        .map(|e| approvals::EntryRef {
            ticket: e.ticket,
            key: e.key,
        })
        .collect();
    let who = origin.actor(&caller.username);
    let done = approvals::approve(&state.approval_deps(), &who, &entries).await?;
    let items = done.items.into_iter().map(|i| ApprovalOutcome {
        ticket: i.entry.ticket,
        key: i.entry.key,
        outcome: i.outcome.as_str().to_owned(),
        detail: i.detail,
    });
    Ok(Json(ApprovalResult {
        approved: done.approved,
        items: items.collect(),
    }))
}
