//! Approval mode: entries wait as `awaiting_approval` until a person approves them; approving
//! sends their creates to the `kimai-write` queue and sets them `pending`.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use crate::kimai_write;
use serde_json::json;
use std::collections::HashMap;
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::TicketId;
use sync_core::plan::Operation;
use sync_store::entries::{EntriesStore, EntryRecord, EntryStatus};
use sync_store::queue::{KimaiWriteMessage, MessageQueue};

/// Most entries one approval request names.
pub const MAX_APPROVALS: usize = 500;

/// The ports approving needs.
pub struct ApprovalDeps<'a> {
    pub entries: &'a dyn EntriesStore,
    pub kimai_write: &'a dyn MessageQueue<KimaiWriteMessage>,
    pub access: AccessLog<'a>,
}

/// One entry to approve, as the person named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    pub ticket: u64,
    pub key: String,
}

/// What became of one named entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its create is queued.
    Approved,
    NotFound,
    /// Its status is another: someone approved it first, or a sync changed it.
    NotAwaiting,
    /// Not queued; try again.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::NotFound => "not_found",
            Outcome::NotAwaiting => "not_awaiting",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub entry: EntryRef,
    pub outcome: Outcome,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvals {
    pub approved: usize,
    pub items: Vec<Item>,
}

/// The queue took none of them; nothing changed: try again later.
const NONE_QUEUED: &str =
    "the kimai-write queue took none of the approved entries; nothing changed, try again";

/// Approves entries waiting in approval mode: their creates go to the `kimai-write` queue.
pub async fn approve(
    deps: &ApprovalDeps<'_>,
    actor: &Actor,
    entries: &[EntryRef],
) -> ConsoleResult<Approvals> {
    validate(entries)?;
    let mut items = Vec::with_capacity(entries.len());
    let mut queued: Vec<(usize, EntryRecord, KimaiWriteMessage)> = Vec::new();
    for e in entries {
        let key = EntryKey(e.key.clone());
        let record = deps.entries.get(TicketId(e.ticket), &key).await?;
        let (outcome, detail) = match &record {
            None => (Outcome::NotFound, None),
            Some(r) if r.status != EntryStatus::AwaitingApproval => (
                Outcome::NotAwaiting,
                Some(format!("status is {}", r.status.as_str())),
            ),
            Some(r) => match &r.desired {
                None => (
                    Outcome::NotAwaiting,
                    Some("Zammad no longer wants it".into()),
                ),
                Some(desired) => {
                    let message = create_message(r, desired.clone());
                    queued.push((items.len(), r.clone(), message));
                    (Outcome::Approved, None)
                }
            },
        };
        items.push(Item {
            entry: e.clone(),
            outcome,
            detail,
        });
    }
    let approved = send(deps, &mut items, &queued).await?;
    if !approved.is_empty() {
        let detail = json!({ "count": approved.len(), "entries": approved });
        deps.access.record(actor, "entries.approve", detail).await?;
    }
    Ok(Approvals {
        approved: approved.len(),
        items,
    })
}

fn validate(entries: &[EntryRef]) -> ConsoleResult<()> {
    if entries.is_empty() || entries.len() > MAX_APPROVALS {
        return Err(ConsoleError::invalid(
            "entries",
            format!("name 1..={MAX_APPROVALS} entries"),
        ));
    }
    let bad: Vec<FieldError> = entries
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
    ConsoleError::check("some entries are not valid", bad)
}

/// The create of an approved entry. The same record approved twice (two people at once)
/// gives the same operation id, and the writer claims each id once.
fn create_message(record: &EntryRecord, desired: DesiredTimesheet) -> KimaiWriteMessage {
    let revision = format!("approved@{}", record.updated_at.to_rfc3339());
    kimai_write::message(
        record.ticket_id,
        None,
        Operation::Create { desired },
        &revision,
    )
}

/// Sends the queued creates; what was sent becomes `pending`, what was not is `failed`.
/// Answers `{ticket, key}` of each approved entry.
async fn send(
    deps: &ApprovalDeps<'_>,
    items: &mut [Item],
    queued: &[(usize, EntryRecord, KimaiWriteMessage)],
) -> ConsoleResult<Vec<serde_json::Value>> {
    let messages: Vec<KimaiWriteMessage> = queued.iter().map(|(_, _, m)| m.clone()).collect();
    let report = deps.kimai_write.send_many(&messages).await;
    let failed: HashMap<usize, String> = report
        .failed
        .iter()
        .map(|(i, f)| (*i, format!("{f:?}")))
        .collect();
    let now = deps.access.clock.now();
    let mut approved = Vec::new();
    for (i, (item, record, _)) in queued.iter().enumerate() {
        if let Some(why) = failed.get(&i) {
            items[*item].outcome = Outcome::Failed;
            items[*item].detail = Some(format!("not queued: {why}"));
            continue;
        }
        deps.entries
            .set_status(record.ticket_id, &record.key, EntryStatus::Pending, now)
            .await?;
        approved.push(json!({"ticket": record.ticket_id.0, "key": record.key.0}));
    }
    if !queued.is_empty() && approved.is_empty() {
        return Err(ConsoleError::Unavailable(NONE_QUEUED.into()));
    }
    Ok(approved)
}
