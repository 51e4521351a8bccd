//! `/api/audit`: the audit log for the console's History section (`sync_service::console::audit_log`):
//! filter by day range, kind, action, actor and IP; paged JSON, or CSV of the whole selection
//! (up to `MAX_CSV_ROWS`).

use crate::auth::Caller;
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use sync_service::console::audit_log::{self, AuditPage, AuditSelection};
use sync_service::console::paging::page_request;
use sync_store::audit::AuditKind;
use utoipa::IntoParams;

fn audit_kind() -> utoipa::openapi::schema::Object {
    sync_service::console::schemas::one_of_strings(&["access", "sync"])
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// First UTC day (`YYYY-MM-DD`); default a week before `to`.
    pub from: Option<NaiveDate>,
    /// Last UTC day; default today.
    pub to: Option<NaiveDate>,
    /// `access` or `sync`.
    #[param(schema_with = audit_kind)]
    pub kind: Option<AuditKind>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub ip: Option<String>,
    /// 1..=500, default 50 (JSON only).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub after: Option<String>,
}

impl AuditQuery {
    fn selection(&self) -> AuditSelection {
        AuditSelection {
            from: self.from,
            to: self.to,
            kind: self.kind,
            action: self.action.clone(),
            actor: self.actor.clone(),
            ip: self.ip.clone(),
        }
    }
}

/// Audit events, newest first.
#[utoipa::path(get, path = "/api/audit", operation_id = "list_audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem)))]
pub async fn list(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let page = page_request(q.limit, q.after.clone())?;
    let found = audit_log::audit_page(state.audit_reader(), &q.selection(), &page).await?;
    Ok(Json(found))
}

/// The selected audit events as CSV (`at,kind,action,actor,ip,detail`), newest first.
#[utoipa::path(get, path = "/api/audit/export", operation_id = "export_audit_csv", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem)))]
pub async fn export_csv(
    _: Caller,
    State(state): State<ApiState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let bytes = audit_log::audit_csv(state.audit_reader(), &q.selection()).await?;
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit.csv\""),
    );
    Ok(response)
}
