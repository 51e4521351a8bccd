//! Dead letters of both queues: list them (they stay in their queues) and replay one or all to
//! the queue they came from (receive → send → delete; see `sync_store::dead_letters`). A replay
//! that moved anything is audited.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_store::dead_letters::{self, MAX_PEEK, ReplayReport, ReplaySelection, check_message_id};
use sync_store::queue::{
    KimaiWriteMessage, MessageQueue, QueueMessage, Received, TicketSyncMessage,
};
use sync_store::schema;
use utoipa::ToSchema;

/// The queue a dead letter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum QueueName {
    TicketSync,
    KimaiWrite,
}

impl QueueName {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::TicketSync => schema::TICKET_SYNC_QUEUE.logical,
            QueueName::KimaiWrite => schema::KIMAI_WRITE_QUEUE.logical,
        }
    }
}

/// Both queues and their dead-letter queues.
#[derive(Clone, Copy)]
pub struct Queues<'a> {
    pub ticket_sync: &'a dyn MessageQueue<TicketSyncMessage>,
    pub ticket_sync_dead: &'a dyn MessageQueue<TicketSyncMessage>,
    pub kimai_write: &'a dyn MessageQueue<KimaiWriteMessage>,
    pub kimai_write_dead: &'a dyn MessageQueue<KimaiWriteMessage>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeadLetter {
    pub queue: QueueName,
    /// SQS message id: name it to replay this one message.
    pub message_id: String,
    /// The body exactly as it was sent.
    pub body: String,
    /// The ticket it is about, when the body decodes.
    pub ticket_id: Option<u64>,
    /// `kimai-write`: `create`, `update` or `delete`; `ticket-sync`: the sync reason.
    pub kind: Option<String>,
    /// Why the body does not decode as a message of its queue (`null` when it does).
    pub decode_error: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeadLetterList {
    pub items: Vec<DeadLetter>,
    /// A queue held more than the listing shows (200 per queue).
    pub truncated: bool,
}

fn view<M: QueueMessage>(
    queue: QueueName,
    m: Received<M>,
    describe: impl Fn(&M) -> (u64, String),
) -> DeadLetter {
    let (ticket_id, kind, decode_error) = match &m.message {
        Ok(message) => {
            let (t, k) = describe(message);
            (Some(t), Some(k), None)
        }
        Err(e) => (None, None, Some(e.to_string())),
    };
    DeadLetter {
        queue,
        message_id: m.message_id,
        body: m.body,
        ticket_id,
        kind,
        decode_error,
    }
}

fn describe_sync(m: &TicketSyncMessage) -> (u64, String) {
    (
        m.ticket_id.0,
        json!(m.reason).as_str().unwrap_or_default().to_owned(),
    )
}

fn describe_write(m: &KimaiWriteMessage) -> (u64, String) {
    let kind = match m.operation {
        sync_core::plan::Operation::Create { .. } => "create",
        sync_core::plan::Operation::Update { .. } => "update",
        sync_core::plan::Operation::Delete { .. } => "delete",
    };
    (m.ticket_id.0, kind.to_owned())
}

/// Every dead letter of both queues (up to [`MAX_PEEK`] each); they stay where they are.
pub async fn list_dead_letters(queues: Queues<'_>) -> ConsoleResult<DeadLetterList> {
    let sync = dead_letters::peek(queues.ticket_sync_dead, MAX_PEEK + 1).await?;
    let write = dead_letters::peek(queues.kimai_write_dead, MAX_PEEK + 1).await?;
    let truncated = sync.len() > MAX_PEEK || write.len() > MAX_PEEK;
    let mut items: Vec<DeadLetter> = sync
        .into_iter()
        .take(MAX_PEEK)
        .map(|m| view(QueueName::TicketSync, m, describe_sync))
        .collect();
    items.extend(
        write
            .into_iter()
            .take(MAX_PEEK)
            .map(|m| view(QueueName::KimaiWrite, m, describe_write)),
    );
    Ok(DeadLetterList { items, truncated })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// The message to replay; omit it and set `all` to replay every dead letter of the queue.
    pub message_id: Option<String>,
    #[serde(default)]
    pub all: bool,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReplayFailure {
    pub message_id: String,
    pub error: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReplayResult {
    pub queue: QueueName,
    /// Back in the source queue and gone from the DLQ.
    pub replayed: Vec<String>,
    /// Back in the source queue but still in the DLQ (the delete failed): it may run twice,
    /// which the consumers absorb; do not replay it again.
    pub not_deleted: Vec<ReplayFailure>,
    /// Not sent: still in the DLQ. The first failure stops a replay of all.
    pub failed: Vec<ReplayFailure>,
}

fn failures(list: Vec<(String, String)>) -> Vec<ReplayFailure> {
    list.into_iter()
        .map(|(message_id, error)| ReplayFailure { message_id, error })
        .collect()
}

fn selection(request: &ReplayRequest) -> ConsoleResult<ReplaySelection> {
    match (&request.message_id, request.all) {
        (Some(id), false) => {
            check_message_id(id).map_err(|e| ConsoleError::invalid("message_id", e.to_string()))?;
            Ok(ReplaySelection::One(id.clone()))
        }
        (None, true) => Ok(ReplaySelection::All),
        _ => Err(ConsoleError::invalid(
            "message_id",
            "name one message_id, or set all: true (not both)",
        )),
    }
}

/// Replays one dead letter or all of them to their source queue. Naming a message that is not
/// there is not found; a queue that refused every send is unavailable (nothing moved).
pub async fn replay(
    queues: Queues<'_>,
    access: AccessLog<'_>,
    actor: &Actor,
    queue: QueueName,
    request: &ReplayRequest,
) -> ConsoleResult<ReplayResult> {
    let selection = selection(request)?;
    let report = match queue {
        QueueName::TicketSync => {
            dead_letters::replay(queues.ticket_sync_dead, queues.ticket_sync, &selection).await?
        }
        QueueName::KimaiWrite => {
            dead_letters::replay(queues.kimai_write_dead, queues.kimai_write, &selection).await?
        }
    };
    if !report.is_empty() {
        let detail = audit_detail(queue, &selection, &report);
        access.record(actor, "dead_letter.replay", detail).await?;
    }
    if let ReplaySelection::One(id) = &selection
        && report.is_empty()
    {
        return Err(ConsoleError::NotFound(format!(
            "no dead letter {id} in {}",
            queue.as_str()
        )));
    }
    if report.replayed.is_empty() && report.not_deleted.is_empty() && !report.failed.is_empty() {
        return Err(ConsoleError::Unavailable(format!(
            "the {} queue refused the replay ({}); the dead letters stay where they were",
            queue.as_str(),
            report.failed[0].1
        )));
    }
    Ok(ReplayResult {
        queue,
        replayed: report.replayed,
        not_deleted: failures(report.not_deleted),
        failed: failures(report.failed),
    })
}

fn audit_detail(
    queue: QueueName,
    selection: &ReplaySelection,
    report: &ReplayReport,
) -> serde_json::Value {
    let selected = match selection {
        ReplaySelection::One(id) => json!(id),
        ReplaySelection::All => json!("all"),
    };
    json!({
        "queue": queue.as_str(),
        "selection": selected,
        "replayed": report.replayed,
        "not_deleted": report.not_deleted.iter().map(|(m, _)| m).collect::<Vec<_>>(),
        "failed": report.failed.iter().map(|(m, _)| m).collect::<Vec<_>>(),
    })
}
