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
//!   IP or detail mentions one of their identifiers;
//! - dead letters (the records the console lists, and the messages in both DLQs): those whose
//!   body mentions one of their identifiers, and `kimai-write` bodies of their timesheets (the
//!   desired timesheet is theirs, or the key is one of their entries').
//!
//! Identifiers match case-insensitively as substrings; each must have at least
//! [`MIN_IDENTIFIER_LEN`] characters so a short name cannot match half the log.
//!
//! The purge deletes those rows and records `gdpr.purge` with counts only: no id, name or
//! address of the person. The control table holds no personal data of agents (settings hold
//! numeric ids in the user map, runs hold ticket ids); an agent's mapping is removed with the
//! mappings.

use crate::console::access::{AccessLog, Actor};
use crate::console::dead_letters::Queues;
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use chrono::{Days, NaiveDate};
use serde::Serialize;
use serde_json::json;
use std::collections::HashSet;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, ZammadUserId};
use sync_core::plan::Operation;
use sync_store::audit::{AuditFilter, AuditRecord, MAX_QUERY_DAYS};
use sync_store::conflicts::{ConflictFilter, ConflictRecord, ConflictStatus, ConflictsStore};
use sync_store::control::DeadLetterRecord;
use sync_store::dead_letters;
use sync_store::entries::{EntriesStore, EntryRecord};
use sync_store::queue::{KimaiWriteMessage, decode};
use sync_store::schema::{KIMAI_WRITE_QUEUE, TICKET_SYNC_QUEUE};
use sync_store::{PageRequest, StoreError, page::MAX_PAGE_SIZE};
use zammad_client::ZammadClient;

pub const MIN_IDENTIFIER_LEN: usize = 3;
/// Audit rows are searched this far back (longer than any retention).
pub const AUDIT_DAYS: i64 = MAX_QUERY_DAYS - 1;
const MAX_IDENTIFIERS: usize = 20;

/// The ports an export or purge needs.
pub struct GdprDeps<'a> {
    pub entries: &'a dyn EntriesStore,
    pub conflicts: &'a dyn ConflictsStore,
    /// The dead-letter records and both DLQs.
    pub dead_letters: Queues<'a>,
    /// Where the export and the purge are recorded; also the log they search and purge.
    pub access: AccessLog<'a>,
}

/// The person, as the request names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub agent_id: u64,
    pub emails: Vec<String>,
    pub names: Vec<String>,
}

/// How the person's own identifiers can be asked of Zammad.
pub enum ZammadLookup {
    Client(ZammadClient),
    /// No Zammad connection is configured.
    NotConfigured,
    /// The client could not be built (why).
    Failed(String),
}

/// Everything held about the person, and what they were searched by.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub agent_id: u64,
    /// Every identifier searched for (given and from Zammad).
    pub identifiers: Vec<String>,
    /// `ok`, `not_configured`, or `failed: <why>` (then only the given identifiers are used).
    pub zammad_lookup: String,
    pub entries: Vec<EntryRecord>,
    pub conflicts: Vec<ConflictRecord>,
    pub audit: Vec<AuditRecord>,
    pub dead_letters: Vec<DeadLetterRecord>,
}

/// How much a purge deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub entries: usize,
    pub conflicts: usize,
    pub audit: usize,
    /// Dead-letter records and DLQ messages.
    pub dead_letters: usize,
}

/// Everything held about one person; records `gdpr.export` with counts (who exported, and
/// how much; not whose data).
pub async fn export(
    deps: &GdprDeps<'_>,
    actor: &Actor,
    subject: &Subject,
    zammad: ZammadLookup,
) -> ConsoleResult<Found> {
    validate(subject)?;
    let found = find(deps, subject, zammad).await?;
    let detail = json!({"entries": found.entries.len(), "conflicts": found.conflicts.len(),
                        "audit": found.audit.len(), "dead_letters": found.dead_letters.len()});
    deps.access.record(actor, "gdpr.export", detail).await?;
    Ok(found)
}

/// Deletes everything held about one person; records the purge without personal data.
pub async fn purge(
    deps: &GdprDeps<'_>,
    actor: &Actor,
    subject: &Subject,
    zammad: ZammadLookup,
) -> ConsoleResult<Purged> {
    validate(subject)?;
    let found = find(deps, subject, zammad).await?;
    // Deleting is idempotent: after a failure part way, the same request finishes the job.
    for r in &found.entries {
        deps.entries.delete(r.ticket_id, &r.key).await?;
    }
    for c in &found.conflicts {
        deps.conflicts.delete(&c.id).await?;
    }
    for a in &found.audit {
        deps.access
            .log
            .delete(a.event.at.date_naive(), &a.id)
            .await?;
    }
    let dlq = deps.dead_letters;
    for r in &found.dead_letters {
        dlq.records
            .delete_dead_letter(&r.queue, &r.message_id)
            .await?;
    }
    let about = |body: &str| about_them(body, &found);
    let in_queues = dead_letters::remove_where(dlq.ticket_sync_dead, about).await?
        + dead_letters::remove_where(dlq.kimai_write_dead, about).await?;
    let purged = Purged {
        entries: found.entries.len(),
        conflicts: found.conflicts.len(),
        audit: found.audit.len(),
        dead_letters: found.dead_letters.len() + in_queues,
    };
    let detail = json!({"entries": purged.entries, "conflicts": purged.conflicts,
                        "audit": purged.audit, "dead_letters": purged.dead_letters});
    deps.access.record(actor, "gdpr.purge", detail).await?;
    Ok(purged)
}

fn validate(subject: &Subject) -> ConsoleResult<()> {
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
    ConsoleError::check("the person is not named well", errors)
}

/// The given identifiers plus Zammad's, lower-cased, long enough, without duplicates; and how
/// the Zammad lookup went.
async fn identifiers(subject: &Subject, zammad: ZammadLookup) -> (Vec<String>, String) {
    let mut ids: Vec<String> = subject
        .emails
        .iter()
        .chain(&subject.names)
        .map(|s| s.trim().to_owned())
        .collect();
    let lookup = match zammad {
        ZammadLookup::NotConfigured => "not_configured".to_owned(),
        ZammadLookup::Failed(why) => format!("failed: {why}"),
        ZammadLookup::Client(client) => match client.user(ZammadUserId(subject.agent_id)).await {
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

async fn find(
    deps: &GdprDeps<'_>,
    subject: &Subject,
    zammad: ZammadLookup,
) -> Result<Found, StoreError> {
    let (ids, zammad_lookup) = identifiers(subject, zammad).await;
    let agent = ZammadUserId(subject.agent_id);
    let entries = entries_of(deps.entries, agent).await?;
    let keys: HashSet<(TicketId, EntryKey)> = entries
        .iter()
        .map(|r| (r.ticket_id, r.key.clone()))
        .collect();
    let mut conflicts = Vec::new();
    for status in [ConflictStatus::Open, ConflictStatus::Resolved] {
        let filter = ConflictFilter::status(status);
        let mut request = PageRequest::first(MAX_PAGE_SIZE);
        loop {
            let page = deps.conflicts.list(&filter, &request).await?;
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
    let audit = audit_mentioning(deps, &ids).await?;
    let mut found = Found {
        agent_id: subject.agent_id,
        identifiers: ids,
        zammad_lookup,
        entries,
        conflicts,
        audit,
        dead_letters: Vec::new(),
    };
    let mut about = Vec::new();
    for queue in [TICKET_SYNC_QUEUE.logical, KIMAI_WRITE_QUEUE.logical] {
        let records = deps
            .dead_letters
            .records
            .dead_letters(queue, usize::MAX)
            .await?;
        about.extend(
            records
                .into_iter()
                .filter(|r| about_them(&r.body, &found) || mentions(&r.error, &found.identifiers)),
        );
    }
    found.dead_letters = about;
    Ok(found)
}

/// Whether a queue body is about the person: it mentions an identifier, or it is a Kimai
/// write of one of their timesheets.
fn about_them(body: &str, found: &Found) -> bool {
    let lower = body.to_lowercase();
    if found
        .identifiers
        .iter()
        .any(|id| lower.contains(id.as_str()))
    {
        return true;
    }
    let Ok(message) = decode::<KimaiWriteMessage>(body) else {
        return false;
    };
    let theirs = |ticket: TicketId, key: &EntryKey| {
        found
            .entries
            .iter()
            .any(|e| e.ticket_id == ticket && &e.key == key)
    };
    match &message.operation {
        Operation::Create { desired } | Operation::Update { desired, .. } => {
            desired.agent_id.0 == found.agent_id || theirs(message.ticket_id, &desired.key)
        }
        Operation::Delete { key, .. } => theirs(message.ticket_id, key),
    }
}

/// Every entry of the agent, any day.
async fn entries_of(
    entries: &dyn EntriesStore,
    agent: ZammadUserId,
) -> Result<Vec<EntryRecord>, StoreError> {
    let mut out = Vec::new();
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    let (first, last) = (
        NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date"),
        NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date"),
    );
    loop {
        let page = entries.list_by_agent(agent, first, last, &request).await?;
        out.extend(page.items);
        match page.next {
            Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
            None => return Ok(out),
        }
    }
}

/// Audit rows of the last [`AUDIT_DAYS`] days that mention one of `ids` (none without ids).
async fn audit_mentioning(
    deps: &GdprDeps<'_>,
    ids: &[String],
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut rows = Vec::new();
    if ids.is_empty() {
        return Ok(rows);
    }
    let today = deps.access.clock.now().date_naive();
    let from = today
        .checked_sub_days(Days::new(AUDIT_DAYS as u64))
        .unwrap_or(today);
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let page = deps
            .access
            .log
            .query(from, today, &AuditFilter::default(), &request)
            .await?;
        rows.extend(page.items.into_iter().filter(|r| mentions(&r.event, ids)));
        match page.next {
            Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
            None => return Ok(rows),
        }
    }
}
