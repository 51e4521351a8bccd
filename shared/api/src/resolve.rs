//! Resolving conflicts: one (`POST /api/conflicts/{id}/resolve`) or many by ids or by filter
//! (`POST /api/conflicts/resolve`).
//!
//! Each resolution, in this order:
//! 1. the action must fit the conflict's reason (else 400, nothing written);
//! 2. `ConflictsStore::resolve`, conditional on the conflict being open (a second resolver gets
//!    409 with the first one's resolution);
//! 3. the decision is added to the ticket's decisions document (`policy` / `decisions.<ticket>`),
//!    whose `create_anyway` and `ignored` key lists are the planner's inputs of the same name,
//!    and whose `decisions` list keeps every action with its key (e.g. the Kimai id of a link);
//! 4. an access event `conflict.resolve`;
//! 5. a `ticket-sync` message with reason `resolution` for the ticket, so reconcile runs again.

use crate::audit;
use crate::auth::Admin;
use crate::context::Origin;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::plan::ConflictReason;
use sync_store::conflicts::{
    ConflictFilter, ConflictId, ConflictRecord, ConflictStatus, Resolution, ResolutionAction,
    ResolveOutcome,
};
use sync_store::control::{DocumentKind, DocumentWrite, ExpectedVersion};
use sync_store::queue::{SyncReason, TicketSyncMessage};
use sync_store::{PageRequest, StoreError};
use utoipa::ToSchema;

/// At most this many conflicts in one bulk request.
pub const MAX_BULK: usize = 500;
/// Attempts at the conditional write of a decisions document before giving up (503).
const DECISION_WRITE_ATTEMPTS: usize = 5;

/// What a person decided about a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Probable duplicate: the Kimai timesheet `kimai_id` is this entry; link it.
    Link,
    /// Probable duplicate: it is not the same work; create ours anyway.
    CreateAnyway,
    /// Keep Kimai's timesheet as it is and stop syncing this key.
    KeepKimai,
    /// Zammad wins: write Zammad's state again (after a hand edit, an orphan, a rejection).
    ApplyZammad,
    /// Deleted in Kimai: create it again.
    Recreate,
    /// Deleted in Kimai: leave it deleted.
    AcceptDeletion,
    /// Leave this key alone.
    Ignore,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Link => "link",
            Action::CreateAnyway => "create_anyway",
            Action::KeepKimai => "keep_kimai",
            Action::ApplyZammad => "apply_zammad",
            Action::Recreate => "recreate",
            Action::AcceptDeletion => "accept_deletion",
            Action::Ignore => "ignore",
        }
    }
}

/// The actions that make sense for a reason (`ignore` always does).
pub fn actions_for(reason: ConflictReason) -> &'static [Action] {
    use Action::*;
    match reason {
        ConflictReason::ProbableDuplicate => &[Link, CreateAnyway, Ignore],
        ConflictReason::LockedOrExported => &[KeepKimai, Ignore],
        ConflictReason::BothChanged | ConflictReason::Orphaned => &[KeepKimai, ApplyZammad, Ignore],
        ConflictReason::DeletedInKimai => &[Recreate, AcceptDeletion, Ignore],
        ConflictReason::KimaiRejected => &[ApplyZammad, Ignore],
        // Fixing the mapping closes these by itself; a person can only set the key aside.
        ConflictReason::UnmappedActivity
        | ConflictReason::UnmappedUser
        | ConflictReason::UnmappedCustomer
        | ConflictReason::UnmappedProject
        | ConflictReason::AmbiguousLocalTime => &[Ignore],
    }
}

fn names(actions: &[Action]) -> String {
    actions
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveOne {
    pub action: Action,
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
    pub action: Action,
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

/// What went wrong with one conflict (the single route answers it as a problem; the bulk
/// route reports it per item).
enum Refusal {
    NotFound,
    NotApplicable(String),
    AlreadyResolved(Box<ConflictRecord>),
}

fn check(record: &ConflictRecord, action: Action, kimai_id: Option<u64>) -> Result<(), Refusal> {
    let reason = record.conflict.reason;
    let allowed = actions_for(reason);
    if !allowed.contains(&action) {
        return Err(Refusal::NotApplicable(format!(
            "{} does not fit a {} conflict; use one of: {}",
            action.as_str(),
            reason.as_str(),
            names(allowed)
        )));
    }
    match (action, kimai_id) {
        (Action::Link, None) => Err(Refusal::NotApplicable(
            "link needs kimai_id, the timesheet to link".into(),
        )),
        (Action::Link, Some(id)) => {
            let candidates = &record.conflict.candidates;
            if id == 0 || (!candidates.is_empty() && !candidates.contains(&TimesheetId(id))) {
                Err(Refusal::NotApplicable(format!(
                    "kimai_id {id} is not one of the candidates {:?}",
                    candidates.iter().map(|c| c.0).collect::<Vec<_>>()
                )))
            } else {
                Ok(())
            }
        }
        (_, Some(_)) => Err(Refusal::NotApplicable(
            "kimai_id belongs to link only".into(),
        )),
        _ => Ok(()),
    }
}

fn store_action(action: Action, kimai_id: Option<u64>) -> ResolutionAction {
    match (action, kimai_id) {
        (Action::Link, Some(id)) => ResolutionAction::Link {
            kimai_id: TimesheetId(id),
        },
        (Action::CreateAnyway | Action::Recreate | Action::ApplyZammad, _) => {
            ResolutionAction::ApplyZammad
        }
        (Action::KeepKimai, _) => ResolutionAction::KeepKimai,
        _ => ResolutionAction::Dismiss,
    }
}

/// The exact console action is kept in the note (the store's action set is coarser), followed
/// by what the person wrote.
fn note_of(action: Action, note: Option<&str>) -> String {
    match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{}: {n}", action.as_str()),
        None => action.as_str().to_owned(),
    }
}

fn validate_note(note: Option<&str>) -> Result<(), ApiError> {
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::invalid("note", "at most 1000 characters"));
    }
    Ok(())
}

/// Resolves one conflict: the conditional write, the decision for reconcile, the follow-up
/// message and the audit event (the message and the event are left to the caller for bulk).
async fn resolve_record(
    state: &ApiState,
    actor: &str,
    record: &ConflictRecord,
    action: Action,
    kimai_id: Option<u64>,
    note: Option<&str>,
) -> Result<Result<ConflictRecord, Refusal>, ApiError> {
    if let Err(refusal) = check(record, action, kimai_id) {
        return Ok(Err(refusal));
    }
    let resolution = Resolution {
        action: store_action(action, kimai_id),
        actor: actor.to_owned(),
        note: Some(note_of(action, note)),
        resolved_at: state.clock.now(),
    };
    let resolved = match state.conflicts.resolve(&record.id, &resolution).await? {
        ResolveOutcome::Resolved(r) => r,
        ResolveOutcome::AlreadyResolved(theirs) => {
            return Ok(Err(Refusal::AlreadyResolved(Box::new(theirs))));
        }
        ResolveOutcome::NotFound => return Ok(Err(Refusal::NotFound)),
    };
    record_decision(state, &resolved, action, kimai_id, actor).await?;
    Ok(Ok(resolved))
}

pub use sync_service::decisions::decisions_id;

/// Adds the decision to the ticket's decisions document. The newest decision for a key
/// replaces older ones, in the lists and in `create_anyway` / `ignored`.
async fn record_decision(
    state: &ApiState,
    record: &ConflictRecord,
    action: Action,
    kimai_id: Option<u64>,
    actor: &str,
) -> Result<(), ApiError> {
    let ticket = record.conflict.ticket_id;
    let key = &record.conflict.key;
    let id = decisions_id(ticket);
    for _ in 0..DECISION_WRITE_ATTEMPTS {
        let doc = state
            .control
            .get_document(DocumentKind::Policy, &id)
            .await?;
        let (body, expected) = match doc {
            Some(d) => (d.body, ExpectedVersion::Version(d.version)),
            None => (json!({}), ExpectedVersion::New),
        };
        let body = with_decision(body, key, action, kimai_id, record, actor, state);
        match state
            .control
            .put_document(
                DocumentKind::Policy,
                &id,
                &body,
                expected,
                state.clock.now(),
            )
            .await?
        {
            DocumentWrite::Written { .. } => return Ok(()),
            // Another resolution of the same ticket wrote first: read it and add ours again.
            DocumentWrite::VersionConflict { .. } => continue,
        }
    }
    Err(ApiError::Unavailable(format!(
        "the decisions of ticket {} kept changing; the conflict is resolved, send the \
         resolution of ticket {} again later",
        ticket.0, ticket.0
    )))
}

fn with_decision(
    body: Value,
    key: &EntryKey,
    action: Action,
    kimai_id: Option<u64>,
    record: &ConflictRecord,
    actor: &str,
    state: &ApiState,
) -> Value {
    let keys = |v: &Value, name: &str| -> BTreeSet<EntryKey> {
        v.get(name)
            .cloned()
            .and_then(|l| serde_json::from_value(l).ok())
            .unwrap_or_default()
    };
    let mut create_anyway = keys(&body, "create_anyway");
    let mut ignored = keys(&body, "ignored");
    create_anyway.remove(key);
    ignored.remove(key);
    match action {
        Action::CreateAnyway | Action::Recreate => {
            create_anyway.insert(key.clone());
        }
        Action::KeepKimai | Action::AcceptDeletion | Action::Ignore => {
            ignored.insert(key.clone());
        }
        Action::Link | Action::ApplyZammad => {}
    }
    let mut decisions: Vec<Value> = body
        .get("decisions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    decisions.retain(|d| d.get("key").and_then(Value::as_str) != Some(key.as_str()));
    decisions.push(json!({
        "key": key,
        "action": action,
        "kimai_id": kimai_id,
        "conflict_id": record.id,
        "reason": record.conflict.reason,
        "actor": actor,
        "at": state.clock.now(),
    }));
    let mut out = body.as_object().cloned().unwrap_or_default();
    out.insert("ticket".into(), json!(record.conflict.ticket_id));
    out.insert("create_anyway".into(), json!(create_anyway));
    out.insert("ignored".into(), json!(ignored));
    out.insert("decisions".into(), json!(decisions));
    Value::Object(out)
}

async fn follow_up(state: &ApiState, tickets: &BTreeSet<TicketId>) -> Result<(), ApiError> {
    let messages: Vec<TicketSyncMessage> = tickets
        .iter()
        .map(|t| TicketSyncMessage::new(*t, SyncReason::Resolution, None))
        .collect();
    let report = state.ticket_sync.send_many(&messages).await;
    if !report.failed.is_empty() {
        return Err(ApiError::Unavailable(format!(
            "the conflict is resolved, but {} follow-up sync message(s) could not be queued; \
             start a sync run for the ticket",
            report.failed.len()
        )));
    }
    Ok(())
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
    validate_note(input.note.as_deref())?;
    let record = state
        .conflicts
        .get(&ConflictId(id.clone()))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no conflict {id}")))?;
    if record.status == ConflictStatus::Resolved {
        return Err(already(&record));
    }
    let resolved = match resolve_record(
        &state,
        &caller.username,
        &record,
        input.action,
        input.kimai_id,
        input.note.as_deref(),
    )
    .await?
    {
        Ok(r) => r,
        Err(Refusal::NotFound) => return Err(ApiError::NotFound(format!("no conflict {id}"))),
        Err(Refusal::AlreadyResolved(theirs)) => return Err(already(&theirs)),
        Err(Refusal::NotApplicable(m)) => {
            let field = if m.contains("kimai_id") {
                "kimai_id"
            } else {
                "action"
            };
            return Err(ApiError::invalid(field, m));
        }
    };
    // Audited before the follow-up: the resolution is done even if the message fails.
    audit::record(
        &state,
        &caller.username,
        &origin,
        "conflict.resolve",
        json!({"id": resolved.id, "action": input.action, "kimai_id": input.kimai_id,
               "ticket": resolved.conflict.ticket_id, "key": resolved.conflict.key,
               "reason": resolved.conflict.reason}),
    )
    .await?;
    follow_up(&state, &BTreeSet::from([resolved.conflict.ticket_id])).await?;
    Ok(Json(resolved))
}

fn already(record: &ConflictRecord) -> ApiError {
    let by = record
        .resolution
        .as_ref()
        .map(|r| format!(" by {} at {}", r.actor, r.resolved_at.to_rfc3339()))
        .unwrap_or_default();
    ApiError::Conflict(format!("conflict {} was already resolved{by}", record.id))
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
    validate_note(input.note.as_deref())?;
    if input.action == Action::Link {
        return Err(ApiError::invalid(
            "action",
            "link names one timesheet; resolve such conflicts one by one",
        ));
    }
    let mut items = Vec::new();
    let records: Vec<ConflictRecord> = match (&input.ids, &input.filter) {
        (Some(ids), None) => {
            if ids.is_empty() || ids.len() > MAX_BULK {
                return Err(ApiError::invalid("ids", format!("give 1..={MAX_BULK} ids")));
            }
            let unique: BTreeSet<&String> = ids.iter().collect();
            let mut found = Vec::new();
            for id in unique {
                match state.conflicts.get(&ConflictId(id.clone())).await? {
                    Some(r) => found.push(r),
                    None => items.push(BulkItem {
                        id: id.clone(),
                        outcome: "not_found".into(),
                        detail: None,
                    }),
                }
            }
            found
        }
        (None, Some(filter)) => {
            if let Some(reason) = filter.reason
                && !actions_for(reason).contains(&input.action)
            {
                return Err(ApiError::invalid(
                    "action",
                    format!(
                        "{} does not fit a {} conflict; use one of: {}",
                        input.action.as_str(),
                        reason.as_str(),
                        names(actions_for(reason))
                    ),
                ));
            }
            open_matching(&state, filter).await?
        }
        _ => {
            return Err(ApiError::invalid("ids", "give either ids or filter"));
        }
    };

    let mut tickets = BTreeSet::new();
    let mut resolved = Vec::new();
    for record in records {
        let id = record.id.0.clone();
        let outcome = if record.status == ConflictStatus::Resolved {
            Err(Refusal::AlreadyResolved(Box::new(record.clone())))
        } else {
            resolve_record(
                &state,
                &caller.username,
                &record,
                input.action,
                None,
                input.note.as_deref(),
            )
            .await?
        };
        let (outcome, detail) = match outcome {
            Ok(r) => {
                tickets.insert(r.conflict.ticket_id);
                resolved.push(id.clone());
                ("resolved", None)
            }
            Err(Refusal::NotFound) => ("not_found", None),
            Err(Refusal::AlreadyResolved(_)) => ("already_resolved", None),
            Err(Refusal::NotApplicable(m)) => ("not_applicable", Some(m)),
        };
        items.push(BulkItem {
            id,
            outcome: outcome.into(),
            detail,
        });
    }
    if !resolved.is_empty() {
        audit::record(
            &state,
            &caller.username,
            &origin,
            "conflict.resolve_many",
            json!({"action": input.action, "ids": resolved,
                   "tickets": tickets.iter().map(|t| t.0).collect::<Vec<_>>()}),
        )
        .await?;
    }
    follow_up(&state, &tickets).await?;
    Ok(Json(BulkResult {
        resolved: resolved.len(),
        items,
    }))
}

/// Open conflicts matching the filter, newest first, at most [`MAX_BULK`].
async fn open_matching(
    state: &ApiState,
    filter: &BulkFilter,
) -> Result<Vec<ConflictRecord>, ApiError> {
    let filter = ConflictFilter {
        status: ConflictStatus::Open,
        reason: filter.reason,
        ticket_id: filter.ticket.map(TicketId),
    };
    let mut out = Vec::new();
    let mut page = PageRequest::first(sync_store::page::MAX_PAGE_SIZE);
    loop {
        let found = state
            .conflicts
            .list(&filter, &page)
            .await
            .map_err(|e: StoreError| ApiError::from(e))?;
        out.extend(found.items);
        if out.len() >= MAX_BULK {
            out.truncate(MAX_BULK);
            return Ok(out);
        }
        match found.next {
            Some(next) => page = PageRequest::next(sync_store::page::MAX_PAGE_SIZE, next),
            None => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_allows_ignore_and_link_only_fits_duplicates() {
        for reason in [
            ConflictReason::ProbableDuplicate,
            ConflictReason::LockedOrExported,
            ConflictReason::BothChanged,
            ConflictReason::DeletedInKimai,
            ConflictReason::Orphaned,
            ConflictReason::UnmappedActivity,
            ConflictReason::UnmappedUser,
            ConflictReason::UnmappedCustomer,
            ConflictReason::UnmappedProject,
            ConflictReason::KimaiRejected,
            ConflictReason::AmbiguousLocalTime,
        ] {
            let allowed = actions_for(reason);
            assert!(allowed.contains(&Action::Ignore), "{reason:?}");
            assert_eq!(
                allowed.contains(&Action::Link),
                reason == ConflictReason::ProbableDuplicate
            );
            assert_eq!(
                allowed.contains(&Action::Recreate),
                reason == ConflictReason::DeletedInKimai
            );
        }
    }
}
