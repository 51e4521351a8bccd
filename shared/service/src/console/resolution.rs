//! Resolving conflicts: one, or many by ids or by filter.
//!
//! Each resolution, in this order:
//! 1. the action must fit the conflict's reason (else it is refused, nothing written);
//! 2. `ConflictsStore::resolve`, conditional on the conflict being open (a second resolver is
//!    refused with the first one's resolution);
//! 3. the decision is added to the ticket's decisions document ([`crate::decisions`]);
//! 4. an access event `conflict.resolve` (`conflict.resolve_many` once for a bulk request);
//! 5. a `ticket-sync` message with reason `resolution` per ticket, so reconcile runs again.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult};
use crate::decisions::{self, Decision, RecordError};
use serde_json::json;
use std::collections::BTreeSet;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::plan::ConflictReason;
use sync_store::StoreError;
use sync_store::conflicts::{
    ConflictFilter, ConflictId, ConflictRecord, ConflictStatus, ConflictsStore, Resolution,
    ResolutionAction, ResolveOutcome, action_names,
};
use sync_store::control::ControlStore;
use sync_store::page::{MAX_PAGE_SIZE, PageRequest};
use sync_store::queue::{MessageQueue, SyncReason, TicketSyncMessage};

/// At most this many conflicts in one bulk request.
pub const MAX_BULK: usize = 500;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;

/// The ports resolving needs.
pub struct ResolutionDeps<'a> {
    pub conflicts: &'a dyn ConflictsStore,
    pub control: &'a dyn ControlStore,
    pub ticket_sync: &'a dyn MessageQueue<TicketSyncMessage>,
    pub access: AccessLog<'a>,
}

/// What a person decided about one conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOne {
    pub action: ResolutionAction,
    /// For `link`: the Kimai timesheet (one of the conflict's candidates, if it lists any).
    pub kimai_id: Option<u64>,
    pub note: Option<String>,
}

/// Which conflicts a bulk resolution takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Ids(Vec<String>),
    /// Open conflicts matching it, newest first, up to [`MAX_BULK`].
    Filter {
        reason: Option<ConflictReason>,
        ticket: Option<TicketId>,
    },
}

/// One action for many conflicts (never `link`: it names one timesheet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveMany {
    pub action: ResolutionAction,
    /// `None`: the request named neither ids nor a filter, or both.
    pub selection: Option<Selection>,
    pub note: Option<String>,
}

/// What became of one conflict of a bulk request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemOutcome {
    Resolved,
    AlreadyResolved,
    NotFound,
    NotApplicable,
}

impl ItemOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemOutcome::Resolved => "resolved",
            ItemOutcome::AlreadyResolved => "already_resolved",
            ItemOutcome::NotFound => "not_found",
            ItemOutcome::NotApplicable => "not_applicable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkItem {
    pub id: String,
    pub outcome: ItemOutcome,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOutcome {
    pub resolved: usize,
    pub items: Vec<BulkItem>,
}

fn not_found(id: &str) -> ConsoleError {
    ConsoleError::NotFound(format!("no conflict {id}"))
}

/// Someone resolved it first: a conflict that names theirs.
fn already_resolved(record: &ConflictRecord) -> ConsoleError {
    let by = record
        .resolution
        .as_ref()
        .map(|r| format!(" by {} at {}", r.actor, r.resolved_at.to_rfc3339()))
        .unwrap_or_default();
    ConsoleError::Conflict(format!("conflict {} was already resolved{by}", record.id))
}

/// The conflict is resolved, but what follows it (its decision, the follow-up message) is not
/// done: the caller should send it again later.
fn unfinished(message: String) -> ConsoleError {
    ConsoleError::Unavailable(message)
}

/// Why one conflict was not resolved (the single request answers it as an error; the bulk
/// request reports it per item).
enum Refusal {
    NotFound,
    /// The invalid input, as [`ConsoleError::Invalid`].
    NotApplicable(ConsoleError),
    AlreadyResolved(Box<ConflictRecord>),
}

/// Resolves one conflict with an action that fits its reason.
pub async fn resolve_one(
    deps: &ResolutionDeps<'_>,
    actor: &Actor,
    id: &str,
    request: &ResolveOne,
) -> ConsoleResult<ConflictRecord> {
    validate_note(request.note.as_deref())?;
    let record = deps
        .conflicts
        .get(&ConflictId(id.to_owned()))
        .await?
        .ok_or_else(|| not_found(id))?;
    if record.status == ConflictStatus::Resolved {
        return Err(already_resolved(&record));
    }
    let resolved = match resolve_record(deps, actor, &record, request).await? {
        Ok(r) => r,
        Err(Refusal::NotFound) => return Err(not_found(id)),
        Err(Refusal::AlreadyResolved(theirs)) => return Err(already_resolved(&theirs)),
        Err(Refusal::NotApplicable(why)) => return Err(why),
    };
    // Audited before the follow-up: the resolution is done even if the message fails.
    let c = &resolved.conflict;
    let detail = json!({"id": resolved.id, "action": request.action, "kimai_id": request.kimai_id,
                        "ticket": c.ticket_id, "key": c.key, "reason": c.reason});
    deps.access
        .record(actor, "conflict.resolve", detail)
        .await?;
    follow_up(deps, &BTreeSet::from([c.ticket_id])).await?;
    Ok(resolved)
}

/// Resolves many conflicts with one action, by ids or by filter; reports each.
pub async fn resolve_many(
    deps: &ResolutionDeps<'_>,
    actor: &Actor,
    request: &ResolveMany,
) -> ConsoleResult<BulkOutcome> {
    validate_note(request.note.as_deref())?;
    if request.action == ResolutionAction::Link {
        return Err(ConsoleError::invalid(
            "action",
            "link names one timesheet; resolve such conflicts one by one",
        ));
    }
    let (records, mut items) = select(deps, request).await?;
    let one = ResolveOne {
        action: request.action,
        kimai_id: None,
        note: request.note.clone(),
    };
    let mut tickets = BTreeSet::new();
    let mut resolved = Vec::new();
    for record in records {
        let id = record.id.0.clone();
        let outcome = if record.status == ConflictStatus::Resolved {
            Err(Refusal::AlreadyResolved(Box::new(record)))
        } else {
            resolve_record(deps, actor, &record, &one).await?
        };
        let (outcome, detail) = match outcome {
            Ok(r) => {
                tickets.insert(r.conflict.ticket_id);
                resolved.push(id.clone());
                (ItemOutcome::Resolved, None)
            }
            Err(Refusal::NotFound) => (ItemOutcome::NotFound, None),
            Err(Refusal::AlreadyResolved(_)) => (ItemOutcome::AlreadyResolved, None),
            Err(Refusal::NotApplicable(why)) => (ItemOutcome::NotApplicable, Some(message(why))),
        };
        items.push(BulkItem {
            id,
            outcome,
            detail,
        });
    }
    if !resolved.is_empty() {
        let detail = json!({"action": request.action, "ids": resolved,
                            "tickets": tickets.iter().map(|t| t.0).collect::<Vec<_>>()});
        deps.access
            .record(actor, "conflict.resolve_many", detail)
            .await?;
    }
    follow_up(deps, &tickets).await?;
    Ok(BulkOutcome {
        resolved: resolved.len(),
        items,
    })
}

/// What a bulk item says of input that does not fit: its first field's message.
fn message(invalid: ConsoleError) -> String {
    match invalid {
        ConsoleError::Invalid { detail, errors } => errors
            .into_iter()
            .next()
            .map(|f| f.message)
            .unwrap_or(detail),
        other => other.to_string(),
    }
}

fn validate_note(note: Option<&str>) -> ConsoleResult<()> {
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(ConsoleError::invalid("note", "at most 1000 characters"));
    }
    Ok(())
}

/// The conflicts a bulk request names, and an item for each named id that does not exist.
async fn select(
    deps: &ResolutionDeps<'_>,
    request: &ResolveMany,
) -> ConsoleResult<(Vec<ConflictRecord>, Vec<BulkItem>)> {
    match &request.selection {
        Some(Selection::Ids(ids)) => {
            if ids.is_empty() || ids.len() > MAX_BULK {
                return Err(ConsoleError::invalid(
                    "ids",
                    format!("give 1..={MAX_BULK} ids"),
                ));
            }
            let unique: BTreeSet<&String> = ids.iter().collect();
            let (mut found, mut missing) = (Vec::new(), Vec::new());
            for id in unique {
                match deps.conflicts.get(&ConflictId(id.clone())).await? {
                    Some(r) => found.push(r),
                    None => missing.push(BulkItem {
                        id: id.clone(),
                        outcome: ItemOutcome::NotFound,
                        detail: None,
                    }),
                }
            }
            Ok((found, missing))
        }
        Some(Selection::Filter { reason, ticket }) => {
            if let Some(reason) = *reason
                && !request.action.fits(reason)
            {
                return Err(does_not_fit(request.action, reason));
            }
            Ok((open_matching(deps, *reason, *ticket).await?, Vec::new()))
        }
        None => Err(ConsoleError::invalid("ids", "give either ids or filter")),
    }
}

fn does_not_fit(action: ResolutionAction, reason: ConflictReason) -> ConsoleError {
    ConsoleError::invalid(
        "action",
        format!(
            "{} does not fit a {} conflict; use one of: {}",
            action.as_str(),
            reason.as_str(),
            action_names(ResolutionAction::for_reason(reason))
        ),
    )
}

/// Whether the action (and its timesheet) fits the conflict.
fn check(record: &ConflictRecord, request: &ResolveOne) -> ConsoleResult<()> {
    let reason = record.conflict.reason;
    if !request.action.fits(reason) {
        return Err(does_not_fit(request.action, reason));
    }
    let refuse = |message: String| Err(ConsoleError::invalid("kimai_id", message));
    match (request.action, request.kimai_id) {
        (ResolutionAction::Link, None) => {
            refuse("link needs kimai_id, the timesheet to link".into())
        }
        (ResolutionAction::Link, Some(id)) => {
            let candidates = &record.conflict.candidates;
            if id == 0 || (!candidates.is_empty() && !candidates.contains(&TimesheetId(id))) {
                refuse(format!(
                    "kimai_id {id} is not one of the candidates {:?}",
                    candidates.iter().map(|c| c.0).collect::<Vec<_>>()
                ))
            } else {
                Ok(())
            }
        }
        (_, Some(_)) => refuse("kimai_id belongs to link only".into()),
        _ => Ok(()),
    }
}

/// The exact action is kept in the note (the record keeps only its effect), followed by what
/// the person wrote.
fn note_of(action: ResolutionAction, note: Option<&str>) -> String {
    match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{}: {n}", action.as_str()),
        None => action.as_str().to_owned(),
    }
}

/// Resolves one conflict: the conditional write and the decision for reconcile (the audit
/// event and the follow-up message are the caller's, once per request).
async fn resolve_record(
    deps: &ResolutionDeps<'_>,
    actor: &Actor,
    record: &ConflictRecord,
    request: &ResolveOne,
) -> ConsoleResult<Result<ConflictRecord, Refusal>> {
    if let Err(why) = check(record, request) {
        return Ok(Err(Refusal::NotApplicable(why)));
    }
    let kimai_id = request.kimai_id.map(TimesheetId);
    let resolution = Resolution {
        action: request.action.effect(kimai_id),
        actor: actor.username.clone(),
        note: Some(note_of(request.action, request.note.as_deref())),
        resolved_at: deps.access.clock.now(),
    };
    let resolved = match deps.conflicts.resolve(&record.id, &resolution).await? {
        ResolveOutcome::Resolved(r) => r,
        ResolveOutcome::AlreadyResolved(theirs) => {
            return Ok(Err(Refusal::AlreadyResolved(Box::new(theirs))));
        }
        ResolveOutcome::NotFound => return Ok(Err(Refusal::NotFound)),
    };
    let decision = Decision {
        key: resolved.conflict.key.clone(),
        action: request.action,
        kimai_id,
        conflict_id: Some(resolved.id.clone()),
        reason: Some(resolved.conflict.reason),
        actor: Some(actor.username.clone()),
        at: Some(deps.access.clock.now()),
    };
    let ticket = resolved.conflict.ticket_id;
    match decisions::record_decision(deps.control, ticket, &decision, deps.access.clock.now()).await
    {
        Ok(()) => Ok(Ok(resolved)),
        Err(RecordError::Store(e)) => Err(e.into()),
        Err(RecordError::KeptChanging(t)) => Err(unfinished(format!(
            "the decisions of ticket {} kept changing; the conflict is resolved, send the \
             resolution of ticket {} again later",
            t.0, t.0
        ))),
    }
}

/// Sends reconcile back to each ticket.
async fn follow_up(deps: &ResolutionDeps<'_>, tickets: &BTreeSet<TicketId>) -> ConsoleResult<()> {
    let messages: Vec<TicketSyncMessage> = tickets
        .iter()
        .map(|t| TicketSyncMessage::new(*t, SyncReason::Resolution, None))
        .collect();
    let report = deps.ticket_sync.send_many(&messages).await;
    if !report.failed.is_empty() {
        return Err(unfinished(format!(
            "the conflict is resolved, but {} follow-up sync message(s) could not be queued; \
             start a sync run for the ticket",
            report.failed.len()
        )));
    }
    Ok(())
}

/// Open conflicts matching the filter, newest first, at most [`MAX_BULK`].
async fn open_matching(
    deps: &ResolutionDeps<'_>,
    reason: Option<ConflictReason>,
    ticket: Option<TicketId>,
) -> Result<Vec<ConflictRecord>, StoreError> {
    let filter = ConflictFilter {
        status: ConflictStatus::Open,
        reason,
        ticket_id: ticket,
    };
    let mut out = Vec::new();
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let found = deps.conflicts.list(&filter, &page).await?;
        out.extend(found.items);
        if out.len() >= MAX_BULK {
            out.truncate(MAX_BULK);
            return Ok(out);
        }
        match found.next {
            Some(next) => page = PageRequest::next(MAX_PAGE_SIZE, next),
            None => return Ok(out),
        }
    }
}
