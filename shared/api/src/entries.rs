//! The entries ledger (one row per desired timesheet key: what Zammad wants, where it stands,
//! which Kimai timesheet it owns) and approval of entries waiting in approval mode.
//!
//! The ledger reads through the store index that fits the filters best and applies the other
//! filters to what it read, so a page may be short while `next` is set:
//! `ticket` → the ticket's records (one read, no paging); `agent` → `by-agent` over the day
//! range; `status` → `by-status`, newest change first; otherwise the days `from..=to`
//! (default: the last [`DEFAULT_DAYS`] days) through `by-day`, newest day first.

use crate::audit;
use crate::auth::{Admin, Caller};
use crate::conflicts::page_request;
use crate::context::Origin;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::{ApiError, FieldError};
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, ZammadUserId};
use sync_core::plan::Operation;
use sync_service::idempotency::operation_id;
use sync_store::entries::{EntryRecord, EntryStatus};
use sync_store::queue::KimaiWriteMessage;
use sync_store::{Page, PageRequest, PageToken, StoreError};
use utoipa::{IntoParams, ToSchema};

/// Without `from`, `to` and another filter, this many days up to today are listed.
pub const DEFAULT_DAYS: u64 = 30;
/// Longest day range of one listing.
pub const MAX_DAYS: i64 = 366;
/// Most entries one approval request names.
pub const MAX_APPROVALS: usize = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryQuery {
    /// `synced`, `pending`, `awaiting_approval`, `conflict`, `deleted`.
    pub status: Option<String>,
    /// Zammad ticket id: every entry of the ticket (no paging).
    pub ticket: Option<u64>,
    /// Zammad user id of the agent.
    pub agent: Option<u64>,
    /// First local day (`YYYY-MM-DD`), inclusive.
    pub from: Option<NaiveDate>,
    /// Last local day, inclusive.
    pub to: Option<NaiveDate>,
    /// 1..=500, default 50.
    pub limit: Option<u32>,
    /// `next` of the previous page (with the same filters).
    pub after: Option<String>,
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

fn parse_status(s: &str) -> Result<EntryStatus, ApiError> {
    EntryStatus::parse(s).ok_or_else(|| {
        ApiError::invalid(
            "status",
            format!(
                "must be one of {}",
                EntryStatus::ALL.map(|s| s.as_str()).join(", ")
            ),
        )
    })
}

/// The day range of a listing: checked, defaulted.
fn day_range(
    state: &ApiState,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    default_days: u64,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = to.unwrap_or_else(|| state.clock.now().date_naive());
    let from = from.unwrap_or_else(|| {
        to.checked_sub_days(Days::new(default_days - 1))
            .unwrap_or(to)
    });
    if from > to {
        return Err(ApiError::invalid("from", "must not be after to"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("the range may span at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid(d) => ApiError::invalid("after", d),
        other => other.into(),
    }
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
    let page = page_request(q.limit, q.after.clone())?;
    let status = q.status.as_deref().map(parse_status).transpose()?;
    let in_days =
        |r: &EntryRecord| q.from.is_none_or(|f| r.day >= f) && q.to.is_none_or(|t| r.day <= t);
    let keep = |r: &EntryRecord| {
        status.is_none_or(|s| r.status == s)
            && q.agent.is_none_or(|a| r.agent_id == ZammadUserId(a))
            && q.ticket.is_none_or(|t| r.ticket_id == TicketId(t))
            && in_days(r)
    };
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from > to {
            return Err(ApiError::invalid("from", "must not be after to"));
        }
    }
    let found: Page<EntryRecord> = if let Some(ticket) = q.ticket {
        let records = state.entries.load_ticket(TicketId(ticket)).await?;
        Page {
            items: records,
            next: None,
        }
    } else if let Some(agent) = q.agent {
        let from = q.from.unwrap_or_else(first_day);
        let to = q.to.unwrap_or_else(last_day);
        state
            .entries
            .list_by_agent(ZammadUserId(agent), from, to, &page)
            .await
            .map_err(store_error)?
    } else if let Some(status) = status {
        state
            .entries
            .list_by_status(status, &page)
            .await
            .map_err(store_error)?
    } else {
        let (from, to) = day_range(&state, q.from, q.to, DEFAULT_DAYS)?;
        by_days(&state, from, to, &page).await?
    };
    Ok(Json(EntryPage {
        items: found
            .items
            .into_iter()
            .filter(|r| keep(r))
            .map(EntryView::from)
            .collect(),
        next: found.next.map(|t| t.0),
    }))
}

/// Bounds of an agent listing without a day range: any day the store holds.
fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date")
}

fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date")
}

/// Days `to` down to `from`, filling the page across days. The token is `<day>|<store token>`
/// (an empty store token: that day from its start), hex-encoded so it is safe in a URL.
pub(crate) async fn by_days(
    state: &ApiState,
    from: NaiveDate,
    to: NaiveDate,
    page: &PageRequest,
) -> Result<Page<EntryRecord>, ApiError> {
    let bad = || ApiError::invalid("after", "not a token of this listing");
    let (mut day, mut inner) = match &page.after {
        None => (to, None),
        Some(PageToken(t)) => {
            let t = unhex(t).ok_or_else(bad)?;
            let (d, rest) = t.split_once('|').ok_or_else(bad)?;
            let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| bad())?;
            if d < from || d > to {
                return Err(bad());
            }
            (d, (!rest.is_empty()).then(|| PageToken(rest.to_owned())))
        }
    };
    let mut items = Vec::new();
    loop {
        let want = page.limit - items.len() as u32;
        let request = PageRequest {
            limit: want,
            after: inner.take(),
        };
        let found = state
            .entries
            .list_by_day(day, &request)
            .await
            .map_err(store_error)?;
        items.extend(found.items);
        let next_position = match found.next {
            Some(t) => Some((day, Some(t))),
            None => day.pred_opt().filter(|d| *d >= from).map(|d| (d, None)),
        };
        match next_position {
            None => return Ok(Page { items, next: None }),
            Some((d, t)) if items.len() as u32 >= page.limit => {
                let token = hex(&format!("{d}|{}", t.map(|t| t.0).unwrap_or_default()));
                return Ok(Page {
                    items,
                    next: Some(PageToken(token)),
                });
            }
            Some((d, t)) => {
                day = d;
                inner = t;
            }
        }
    }
}

// ------------------------------------------------------------------ approval

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRef {
    pub ticket: u64,
    pub key: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveMany {
    /// 1..=500 entries, each `{ticket, key}`.
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

fn outcome(r: &EntryRef, outcome: &str, detail: Option<String>) -> ApprovalOutcome {
    ApprovalOutcome {
        ticket: r.ticket,
        key: r.key.clone(),
        outcome: outcome.to_owned(),
        detail,
    }
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
    if body.entries.is_empty() || body.entries.len() > MAX_APPROVALS {
        return Err(ApiError::invalid(
            "entries",
            format!("name 1..={MAX_APPROVALS} entries"),
        ));
    }
    let bad: Vec<FieldError> = body
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.ticket == 0 || e.key.is_empty() || e.key.len() > 200)
        .map(|(i, _)| {
            FieldError::new(
                format!("entries[{i}]"),
                "needs a ticket id > 0 and a key of 1..=200 characters",
            )
        })
        .collect();
    if !bad.is_empty() {
        return Err(ApiError::invalid_many("some entries are not valid", bad));
    }

    let mut items = Vec::with_capacity(body.entries.len());
    let mut queued: Vec<(usize, EntryRecord, KimaiWriteMessage)> = Vec::new();
    for e in &body.entries {
        let key = EntryKey(e.key.clone());
        match state.entries.get(TicketId(e.ticket), &key).await? {
            None => items.push(outcome(e, "not_found", None)),
            Some(r) if r.status != EntryStatus::AwaitingApproval => items.push(outcome(
                e,
                "not_awaiting",
                Some(format!("status is {}", r.status.as_str())),
            )),
            Some(r) => match r.desired.clone() {
                None => items.push(outcome(
                    e,
                    "not_awaiting",
                    Some("Zammad no longer wants it".into()),
                )),
                Some(desired) => {
                    let op = Operation::Create { desired };
                    // The same record approved twice (two people at once) gives the same id,
                    // and the writer claims each id once.
                    let revision = format!("approved@{}", r.updated_at.to_rfc3339());
                    let message = KimaiWriteMessage::new(
                        operation_id(r.ticket_id, &op, &revision),
                        r.ticket_id,
                        None,
                        op,
                    );
                    items.push(outcome(e, "approved", None));
                    queued.push((items.len() - 1, r, message));
                }
            },
        }
    }

    let messages: Vec<KimaiWriteMessage> = queued.iter().map(|(_, _, m)| m.clone()).collect();
    let report = state.kimai_write.send_many(&messages).await;
    let failed: std::collections::HashMap<usize, String> = report
        .failed
        .iter()
        .map(|(i, f)| (*i, format!("{f:?}")))
        .collect();
    let now = state.clock.now();
    let mut approved = Vec::new();
    for (i, (item, record, _)) in queued.iter().enumerate() {
        if let Some(why) = failed.get(&i) {
            items[*item].outcome = "failed".into();
            items[*item].detail = Some(format!("not queued: {why}"));
            continue;
        }
        state
            .entries
            .set_status(record.ticket_id, &record.key, EntryStatus::Pending, now)
            .await?;
        approved.push(json!({"ticket": record.ticket_id.0, "key": record.key.0}));
    }
    if !queued.is_empty() && approved.is_empty() {
        return Err(ApiError::Unavailable(
            "the kimai-write queue took none of the approved entries; nothing changed, try again"
                .into(),
        ));
    }
    if !approved.is_empty() {
        audit::record(
            &state,
            &caller.username,
            &origin,
            "entries.approve",
            json!({ "count": approved.len(), "entries": approved }),
        )
        .await?;
    }
    Ok(Json(ApprovalResult {
        approved: approved.len(),
        items,
    }))
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}
