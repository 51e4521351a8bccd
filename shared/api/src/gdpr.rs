//! GDPR: export everything the sync holds about one person (an agent), and purge it.
//!
//! A person is named by their Zammad user id and, optionally, e-mail addresses and names. When
//! the Zammad connection works, the user's e-mail, login and name are added from Zammad. "About
//! them" means:
//!
//! - entries: every entry of that agent (`by-agent`);
//! - conflicts (open and resolved): those of their entries' keys, those whose desired
//!   timesheet is theirs, and any whose text mentions one of their identifiers;
//! - audit rows of the last [`AUDIT_DAYS`] days (older rows have expired): those whose actor,
//!   IP or detail mentions one of their identifiers.
//!
//! Identifiers match case-insensitively as substrings; each must have at least
//! [`MIN_IDENTIFIER_LEN`] characters so a short name cannot match half the log.
//!
//! The purge deletes those rows and records `gdpr.purge` with counts only: no id, name or
//! address of the person. The control table holds no personal data of agents (settings hold
//! numeric ids in the user map, runs hold ticket ids); mapping an agent is unmapped through
//! `/api/mappings`.

use crate::audit;
use crate::auth::Admin;
use crate::context::Origin;
use crate::extract::ApiJson;
use crate::problem::{ApiError, FieldError};
use crate::state::ApiState;
use crate::upstream;
use axum::Json;
use axum::extract::State;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, ZammadUserId};
use sync_store::audit::{AuditFilter, AuditRecord, MAX_QUERY_DAYS};
use sync_store::conflicts::{ConflictFilter, ConflictRecord, ConflictStatus};
use sync_store::entries::EntryRecord;
use sync_store::{PageRequest, page::MAX_PAGE_SIZE};
use utoipa::ToSchema;

pub const MIN_IDENTIFIER_LEN: usize = 3;
/// Audit rows are searched this far back (longer than any retention).
pub const AUDIT_DAYS: i64 = MAX_QUERY_DAYS - 1;
const MAX_IDENTIFIERS: usize = 20;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// The person's Zammad user id.
    pub agent_id: u64,
    /// Their e-mail addresses (added to what Zammad says).
    #[serde(default)]
    pub emails: Vec<String>,
    /// Their names as they may appear in descriptions or the audit log.
    #[serde(default)]
    pub names: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SubjectView {
    pub agent_id: u64,
    /// Every identifier searched for (given and from Zammad).
    pub identifiers: Vec<String>,
    /// `ok`, `not_configured`, or `failed: <why>` (then only the given identifiers are used).
    pub zammad_lookup: String,
}

#[derive(Serialize, ToSchema)]
pub struct GdprExport {
    pub subject: SubjectView,
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<EntryRecord>,
    #[schema(value_type = Vec<Object>)]
    pub conflicts: Vec<ConflictRecord>,
    pub audit: Vec<crate::audit_log::AuditEntry>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PurgeResult {
    pub entries: usize,
    pub conflicts: usize,
    pub audit: usize,
}

struct Found {
    subject: SubjectView,
    entries: Vec<EntryRecord>,
    conflicts: Vec<ConflictRecord>,
    audit: Vec<AuditRecord>,
}

fn validate(subject: &Subject) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if subject.agent_id == 0 {
        errors.push(FieldError::new("agent_id", "must be a Zammad user id > 0"));
    }
    for (field, list) in [("emails", &subject.emails), ("names", &subject.names)] {
        if list.len() > MAX_IDENTIFIERS {
            errors.push(FieldError::new(field, format!("at most {MAX_IDENTIFIERS}")));
        }
        for (i, v) in list.iter().enumerate() {
            let n = v.trim().chars().count();
            if !(MIN_IDENTIFIER_LEN..=200).contains(&n) {
                errors.push(FieldError::new(
                    format!("{field}[{i}]"),
                    format!("{MIN_IDENTIFIER_LEN}..=200 characters"),
                ));
            }
        }
    }
    for (i, e) in subject.emails.iter().enumerate() {
        if !e.contains('@') {
            errors.push(FieldError::new(
                format!("emails[{i}]"),
                "not an e-mail address",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_many(
            "the person is not named well",
            errors,
        ))
    }
}

/// The given identifiers plus Zammad's, lower-cased, long enough, without duplicates.
async fn identifiers(state: &ApiState, subject: &Subject) -> (Vec<String>, String) {
    let mut ids: Vec<String> = subject
        .emails
        .iter()
        .chain(&subject.names)
        .map(|s| s.trim().to_owned())
        .collect();
    let lookup = match upstream::zammad(state).await {
        Err(ApiError::Conflict(_)) => "not_configured".to_owned(),
        Err(e) => format!("failed: {e}"),
        Ok(client) => match client.user(ZammadUserId(subject.agent_id)).await {
            Ok(user) => {
                ids.extend(user.email.clone());
                ids.extend(user.login.clone());
                let name = [user.firstname.clone(), user.lastname.clone()]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                ids.push(name);
                "ok".to_owned()
            }
            Err(e) => format!("failed: {e}"),
        },
    };
    let mut seen = HashSet::new();
    let ids = ids
        .into_iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| s.chars().count() >= MIN_IDENTIFIER_LEN)
        .filter(|s| seen.insert(s.clone()))
        .collect();
    (ids, lookup)
}

fn mentions(value: &impl Serialize, ids: &[String]) -> bool {
    let text = serde_json::to_string(value)
        .unwrap_or_default()
        .to_lowercase();
    ids.iter().any(|id| text.contains(id.as_str()))
}

async fn find(state: &ApiState, subject: &Subject) -> Result<Found, ApiError> {
    let (ids, zammad_lookup) = identifiers(state, subject).await;
    let agent = ZammadUserId(subject.agent_id);

    let mut entries = Vec::new();
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    let (first, last) = (
        NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date"),
        NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date"),
    );
    loop {
        let page = state
            .entries
            .list_by_agent(agent, first, last, &request)
            .await?;
        entries.extend(page.items);
        match page.next {
            Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
            None => break,
        }
    }
    let keys: HashSet<(TicketId, EntryKey)> = entries
        .iter()
        .map(|r| (r.ticket_id, r.key.clone()))
        .collect();

    let mut conflicts = Vec::new();
    for status in [ConflictStatus::Open, ConflictStatus::Resolved] {
        let filter = ConflictFilter::status(status);
        let mut request = PageRequest::first(MAX_PAGE_SIZE);
        loop {
            let page = state.conflicts.list(&filter, &request).await?;
            conflicts.extend(page.items.into_iter().filter(|c| {
                keys.contains(&(c.conflict.ticket_id, c.conflict.key.clone()))
                    || c.conflict
                        .desired
                        .as_ref()
                        .is_some_and(|d| d.agent_id == agent)
                    || mentions(c, &ids)
            }));
            match page.next {
                Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
                None => break,
            }
        }
    }

    let mut audit_rows = Vec::new();
    let today = state.clock.now().date_naive();
    let from = today
        .checked_sub_days(Days::new(AUDIT_DAYS as u64))
        .unwrap_or(today);
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    if !ids.is_empty() {
        loop {
            let page = state
                .audit
                .query(from, today, &AuditFilter::default(), &request)
                .await?;
            audit_rows.extend(page.items.into_iter().filter(|r| mentions(&r.event, &ids)));
            match page.next {
                Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
                None => break,
            }
        }
    }
    Ok(Found {
        subject: SubjectView {
            agent_id: subject.agent_id,
            identifiers: ids,
            zammad_lookup,
        },
        entries,
        conflicts,
        audit: audit_rows,
    })
}

/// Everything held about one person, as JSON.
#[utoipa::path(post, path = "/api/gdpr/export", tag = "gdpr", security(("bearer" = [])),
    request_body = Subject,
    responses((status = 200, body = GdprExport), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn export(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(subject): ApiJson<Subject>,
) -> Result<Json<GdprExport>, ApiError> {
    validate(&subject)?;
    let found = find(&state, &subject).await?;
    // Who exported, and how much; not whose data.
    audit::record(
        &state,
        &caller.username,
        &origin,
        "gdpr.export",
        json!({"entries": found.entries.len(), "conflicts": found.conflicts.len(), "audit": found.audit.len()}),
    )
    .await?;
    Ok(Json(GdprExport {
        subject: found.subject,
        entries: found.entries,
        conflicts: found.conflicts,
        audit: found
            .audit
            .into_iter()
            .map(crate::audit_log::entry)
            .collect(),
    }))
}

/// Deletes everything held about one person; records the purge without personal data.
#[utoipa::path(post, path = "/api/gdpr/purge", tag = "gdpr", security(("bearer" = [])),
    request_body = Subject,
    responses((status = 200, body = PurgeResult), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn purge(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(subject): ApiJson<Subject>,
) -> Result<Json<PurgeResult>, ApiError> {
    validate(&subject)?;
    let found = find(&state, &subject).await?;
    // Deleting is idempotent: after a failure part way, the same request finishes the job.
    for r in &found.entries {
        state.entries.delete(r.ticket_id, &r.key).await?;
    }
    for c in &found.conflicts {
        state.conflicts.delete(&c.id).await?;
    }
    for a in &found.audit {
        state.audit.delete(a.event.at.date_naive(), &a.id).await?;
    }
    let result = PurgeResult {
        entries: found.entries.len(),
        conflicts: found.conflicts.len(),
        audit: found.audit.len(),
    };
    audit::record(
        &state,
        &caller.username,
        &origin,
        "gdpr.purge",
        json!({"entries": result.entries, "conflicts": result.conflicts, "audit": result.audit}),
    )
    .await?;
    Ok(Json(result))
}
