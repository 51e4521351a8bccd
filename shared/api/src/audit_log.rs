//! The audit log for the console's History section: filter by day range, kind, action, actor
//! and IP; paged JSON, or CSV of the whole selection (up to [`MAX_CSV_ROWS`]).

use crate::auth::Caller;
use crate::conflicts::page_request;
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sync_store::audit::{AuditFilter, AuditKind, AuditRecord};
use sync_store::{PageRequest, StoreError};
use utoipa::{IntoParams, ToSchema};

/// The CSV export stops here (and says so in a last line) so one request stays bounded.
pub const MAX_CSV_ROWS: usize = 10_000;
/// Without `from`, this many days up to `to` are read.
pub const DEFAULT_DAYS: u64 = 7;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// First UTC day (`YYYY-MM-DD`); default a week before `to`.
    pub from: Option<NaiveDate>,
    /// Last UTC day; default today.
    pub to: Option<NaiveDate>,
    /// `access` or `sync`.
    #[param(value_type = Option<String>)]
    pub kind: Option<AuditKind>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub ip: Option<String>,
    /// 1..=500, default 50 (JSON only).
    pub limit: Option<u32>,
    pub after: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub action: String,
    pub actor: String,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next: Option<String>,
}

pub(crate) fn entry(r: AuditRecord) -> AuditEntry {
    AuditEntry {
        id: r.id,
        at: r.event.at,
        kind: r.event.kind.as_str().to_owned(),
        action: r.event.action,
        actor: r.event.actor,
        ip: r.event.ip,
        detail: r.event.detail,
    }
}

fn selection(state: &ApiState, q: &AuditQuery) -> (NaiveDate, NaiveDate, AuditFilter) {
    let to = q.to.unwrap_or_else(|| state.clock.now().date_naive());
    let from = q.from.unwrap_or_else(|| {
        to.checked_sub_days(Days::new(DEFAULT_DAYS - 1))
            .unwrap_or(to)
    });
    let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let filter = AuditFilter {
        kind: q.kind,
        action: non_empty(&q.action),
        actor: non_empty(&q.actor),
        ip: non_empty(&q.ip),
    };
    (from, to, filter)
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        // A reversed or too long range, or a foreign page token: the caller's input.
        StoreError::Invalid(d) => ApiError::invalid("query", d),
        other => other.into(),
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
    let (from, to, filter) = selection(&state, &q);
    let found = state
        .audit
        .query(from, to, &filter, &page)
        .await
        .map_err(store_error)?;
    Ok(Json(AuditPage {
        items: found.items.into_iter().map(entry).collect(),
        next: found.next.map(|t| t.0),
    }))
}

/// A spreadsheet must not run a cell as a formula.
pub(crate) fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
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
    let (from, to, filter) = selection(&state, &q);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| ApiError::Internal(e.to_string());
    writer
        .write_record(["at", "kind", "action", "actor", "ip", "detail"])
        .map_err(csv_error)?;
    let mut page = PageRequest::first(sync_store::page::MAX_PAGE_SIZE);
    let mut rows = 0;
    loop {
        let found = state
            .audit
            .query(from, to, &filter, &page)
            .await
            .map_err(store_error)?;
        for r in found.items {
            if rows == MAX_CSV_ROWS {
                writer
                    .write_record([
                        "",
                        "",
                        "",
                        "",
                        "",
                        &format!("truncated after {MAX_CSV_ROWS} rows; narrow the filter"),
                    ])
                    .map_err(csv_error)?;
                return finish(writer);
            }
            let e = entry(r);
            writer
                .write_record([
                    e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    e.kind,
                    cell(&e.action),
                    cell(&e.actor),
                    cell(e.ip.as_deref().unwrap_or("")),
                    cell(&e.detail.to_string()),
                ])
                .map_err(csv_error)?;
            rows += 1;
        }
        match found.next {
            Some(next) => page = PageRequest::next(sync_store::page::MAX_PAGE_SIZE, next),
            None => return finish(writer),
        }
    }
}

fn finish(writer: csv::Writer<Vec<u8>>) -> Result<Response, ApiError> {
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
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
