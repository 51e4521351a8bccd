//! What the sync holds about a person, store by store. "About them" means:
//!
//! - entries: every entry of that agent (`by-agent`, all days);
//! - conflicts (open and resolved): those on their entries' keys, those whose desired timesheet
//!   is theirs, and any whose text mentions one of their identifiers;
//! - audit rows of every day a row can still live on ([`audit_window`]: the longest retention
//!   and TTL's lag) whose actor, IP or detail mentions one of their identifiers;
//! - queue bodies (the dead-letter records, both DLQs and both work queues) that mention an
//!   identifier, or are a Kimai write of their timesheet (the desired timesheet is theirs, or
//!   the key is one of their entries');
//! - decisions on their entries' keys in the tickets' decision documents.
//!
//! Identifiers match case-insensitively as substrings; each has at least
//! [`MIN_IDENTIFIER_LEN`] characters, so a short name cannot match half the log.

use super::{Person, PrivacyPorts};
use chrono::{Days, NaiveDate};
use serde::Serialize;
use std::collections::HashSet;
use sync_core::desired::EntryKey;
use sync_core::ids::TicketId;
use sync_core::plan::Operation;
use sync_store::StoreResult;
use sync_store::audit::{AuditFilter, AuditRecord, MAX_QUERY_DAYS};
use sync_store::conflicts::{ConflictFilter, ConflictRecord, ConflictStatus};
use sync_store::control::DeadLetterRecord;
use sync_store::entries::EntryRecord;
use sync_store::page::{MAX_PAGE_SIZE, PageRequest};
use sync_store::queue::{KimaiWriteMessage, decode};
use sync_store::schema::{KIMAI_WRITE_QUEUE, TICKET_SYNC_QUEUE};

pub const MIN_IDENTIFIER_LEN: usize = 3;
/// Days a row outlives its TTL at most: DynamoDB deletes expired items within about 48 hours.
const TTL_LAG_DAYS: i64 = 2;

/// Everything an export shows (the work-queue messages and decisions are not read by it).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub entries: Vec<EntryRecord>,
    pub conflicts: Vec<ConflictRecord>,
    pub audit: Vec<AuditRecord>,
    pub dead_letters: Vec<DeadLetterRecord>,
}

/// The person's data in the tables, for an export.
pub async fn find(ports: &PrivacyPorts, person: &Person) -> StoreResult<Found> {
    let entries = entries_of(ports, person).await?;
    let theirs = Theirs::new(person, &entries);
    let conflicts = conflicts_about(ports, &theirs).await?;
    let (from, to) = audit_window(ports);
    let audit = audit_about(ports, person, from, to).await?;
    let dead_letters = dead_letter_records_about(ports, &theirs).await?;
    Ok(Found {
        entries,
        conflicts,
        audit,
        dead_letters,
    })
}

/// The person and the keys of their entries: what a queue body or conflict is checked against.
pub struct Theirs<'a> {
    pub person: &'a Person,
    pub keys: HashSet<(TicketId, EntryKey)>,
}

impl<'a> Theirs<'a> {
    pub fn new(person: &'a Person, entries: &[EntryRecord]) -> Self {
        Theirs {
            person,
            keys: entries
                .iter()
                .map(|r| (r.ticket_id, r.key.clone()))
                .collect(),
        }
    }

    /// Whether a queue body is about the person: it mentions an identifier, or it is a Kimai
    /// write of one of their timesheets.
    pub fn body(&self, body: &str) -> bool {
        let lower = body.to_lowercase();
        if self
            .person
            .identifiers
            .iter()
            .any(|id| lower.contains(id.as_str()))
        {
            return true;
        }
        let Ok(message) = decode::<KimaiWriteMessage>(body) else {
            return false;
        };
        let key_is_theirs = |key: &EntryKey| self.keys.contains(&(message.ticket_id, key.clone()));
        match &message.operation {
            Operation::Create { desired } | Operation::Update { desired, .. } => {
                desired.agent_id == self.person.agent_id || key_is_theirs(&desired.key)
            }
            Operation::Delete { key, .. } => key_is_theirs(key),
        }
    }

    fn conflict(&self, c: &ConflictRecord) -> bool {
        self.keys
            .contains(&(c.conflict.ticket_id, c.conflict.key.clone()))
            || c.conflict
                .desired
                .as_ref()
                .is_some_and(|d| d.agent_id == self.person.agent_id)
            || mentions(c, &self.person.identifiers)
    }
}

/// Whether `value`, as JSON, mentions one of `ids` (lower-cased).
pub fn mentions(value: &impl Serialize, ids: &[String]) -> bool {
    let text = serde_json::to_string(value)
        .unwrap_or_default()
        .to_lowercase();
    ids.iter().any(|id| text.contains(id.as_str()))
}

/// Every entry of the agent, any day.
pub async fn entries_of(ports: &PrivacyPorts, person: &Person) -> StoreResult<Vec<EntryRecord>> {
    let mut out = Vec::new();
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    let (first, last) = (
        NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date"),
        NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date"),
    );
    loop {
        let page = ports
            .entries
            .list_by_agent(person.agent_id, first, last, &request)
            .await?;
        out.extend(page.items);
        match page.next {
            Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
            None => return Ok(out),
        }
    }
}

/// Conflicts, open and resolved, about them.
pub async fn conflicts_about(
    ports: &PrivacyPorts,
    theirs: &Theirs<'_>,
) -> StoreResult<Vec<ConflictRecord>> {
    let mut conflicts = Vec::new();
    for status in [ConflictStatus::Open, ConflictStatus::Resolved] {
        let filter = ConflictFilter::status(status);
        let mut request = PageRequest::first(MAX_PAGE_SIZE);
        loop {
            let page = ports.conflicts.list(&filter, &request).await?;
            conflicts.extend(page.items.into_iter().filter(|c| theirs.conflict(c)));
            match page.next {
                Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
                None => break,
            }
        }
    }
    Ok(conflicts)
}

/// Every UTC day an audit row can still be stored on: from the longest retention (and TTL's
/// lag) ago to today.
pub fn audit_window(ports: &PrivacyPorts) -> (NaiveDate, NaiveDate) {
    let today = ports.clock.now().date_naive();
    let days = ports.audit.retention().longest().num_days() + TTL_LAG_DAYS;
    let from = today
        .checked_sub_days(Days::new(days as u64))
        .unwrap_or(today);
    (from, today)
}

/// Audit rows of the days `from..=to` that mention one of their identifiers (none without
/// identifiers), queried [`MAX_QUERY_DAYS`] at a time.
pub async fn audit_about(
    ports: &PrivacyPorts,
    person: &Person,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<AuditRecord>> {
    let mut rows = Vec::new();
    if person.identifiers.is_empty() {
        return Ok(rows);
    }
    let mut start = from;
    while start <= to {
        let end = start
            .checked_add_days(Days::new(MAX_QUERY_DAYS as u64 - 1))
            .map_or(to, |d| d.min(to));
        let mut request = PageRequest::first(MAX_PAGE_SIZE);
        loop {
            let page = ports
                .audit
                .query(start, end, &AuditFilter::default(), &request)
                .await?;
            rows.extend(
                page.items
                    .into_iter()
                    .filter(|r| mentions(&r.event, &person.identifiers)),
            );
            match page.next {
                Some(next) => request = PageRequest::next(MAX_PAGE_SIZE, next),
                None => break,
            }
        }
        match end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    Ok(rows)
}

/// The dead-letter records (the console's list) about them.
pub async fn dead_letter_records_about(
    ports: &PrivacyPorts,
    theirs: &Theirs<'_>,
) -> StoreResult<Vec<DeadLetterRecord>> {
    let mut about = Vec::new();
    for queue in [TICKET_SYNC_QUEUE.logical, KIMAI_WRITE_QUEUE.logical] {
        let records = ports.control.dead_letters(queue, usize::MAX).await?;
        about.extend(
            records
                .into_iter()
                .filter(|r| theirs.body(&r.body) || mentions(&r.error, &theirs.person.identifiers)),
        );
    }
    Ok(about)
}
