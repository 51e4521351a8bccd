//! Dead letters of both queues: list them and replay one or all to the queue they came from.
//!
//! Listing reads, never receives: SQS has no "peek", and receiving a DLQ's messages to show
//! them hides them and raises their receive counts, so a viewer's page load would change what
//! an admin's replay finds. The list is the dead-letter records the consumers keep when a
//! message fails its last delivery (`SyncStores::dead_lettered`: body, error, time), beside each
//! DLQ's approximate count (`GetQueueAttributes`, a read). A count above the records listed
//! means messages died without a record: the consumer crashed or ran out of time on the last
//! delivery. "Replay all" moves those too.
//!
//! Replay (admins only) moves messages out of the DLQ (receive → send → delete; see
//! `sync_store::dead_letters`) and drops their records. A record whose message is not (or not
//! yet) in the DLQ is replayed from the record's body; if its DLQ copy arrives later, a second
//! replay of it is absorbed by the consumers' idempotency. A replay that moved anything is
//! audited.

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_store::control::{ControlStore, DeadLetterRecord};
use sync_store::dead_letters::{self, MAX_PEEK, ReplayReport, ReplaySelection, check_message_id};
use sync_store::queue::{KimaiWriteMessage, MessageQueue, QueueMessage, TicketSyncMessage, decode};
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

/// Both queues, their dead-letter queues, and the records of what died.
#[derive(Clone, Copy)]
pub struct Queues<'a> {
    pub records: &'a dyn ControlStore,
    pub ticket_sync: &'a dyn MessageQueue<TicketSyncMessage>,
    pub ticket_sync_dead: &'a dyn MessageQueue<TicketSyncMessage>,
    pub kimai_write: &'a dyn MessageQueue<KimaiWriteMessage>,
    pub kimai_write_dead: &'a dyn MessageQueue<KimaiWriteMessage>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeadLetter {
    pub queue: QueueName,
    /// SQS message id in the source queue: name it to replay this one message.
    pub message_id: String,
    /// The body exactly as it was sent.
    pub body: String,
    /// The ticket it is about, when the body decodes.
    pub ticket_id: Option<u64>,
    /// `kimai-write`: `create`, `update` or `delete`; `ticket-sync`: the sync reason.
    pub kind: Option<String>,
    /// Why the body does not decode as a message of its queue (`null` when it does).
    pub decode_error: Option<String>,
    /// Why its last delivery failed.
    pub error: String,
    pub failed_at: DateTime<Utc>,
}

/// Messages in each dead-letter queue now, as SQS counts them (approximate).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeadLetterCounts {
    pub ticket_sync: u64,
    pub kimai_write: u64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeadLetterList {
    /// Oldest first, per queue.
    pub items: Vec<DeadLetter>,
    /// A queue has more records than the listing shows (200 per queue).
    pub truncated: bool,
    /// More here than listed: messages that died without a record (see the module docs).
    pub in_queues: DeadLetterCounts,
}

fn view<M: QueueMessage>(
    queue: QueueName,
    record: DeadLetterRecord,
    describe: impl Fn(&M) -> (u64, String),
) -> DeadLetter {
    let (ticket_id, kind, decode_error) = match decode::<M>(&record.body) {
        Ok(message) => {
            let (t, k) = describe(&message);
            (Some(t), Some(k), None)
        }
        Err(e) => (None, None, Some(e.to_string())),
    };
    DeadLetter {
        queue,
        message_id: record.message_id,
        body: record.body,
        ticket_id,
        kind,
        decode_error,
        error: record.error,
        failed_at: record.failed_at,
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

/// The dead-letter records of both queues (up to [`MAX_PEEK`] each) and the queues' counts.
/// Reads only: nothing is received, hidden or counted as a delivery.
pub async fn list_dead_letters(queues: Queues<'_>) -> ConsoleResult<DeadLetterList> {
    let limit = MAX_PEEK + 1;
    let sync = queues
        .records
        .dead_letters(QueueName::TicketSync.as_str(), limit)
        .await?;
    let write = queues
        .records
        .dead_letters(QueueName::KimaiWrite.as_str(), limit)
        .await?;
    let in_queues = DeadLetterCounts {
        ticket_sync: queues.ticket_sync_dead.approximate_depth().await?,
        kimai_write: queues.kimai_write_dead.approximate_depth().await?,
    };
    let truncated = sync.len() > MAX_PEEK || write.len() > MAX_PEEK;
    let mut items: Vec<DeadLetter> = sync
        .into_iter()
        .take(MAX_PEEK)
        .map(|r| view(QueueName::TicketSync, r, describe_sync))
        .collect();
    items.extend(
        write
            .into_iter()
            .take(MAX_PEEK)
            .map(|r| view(QueueName::KimaiWrite, r, describe_write)),
    );
    Ok(DeadLetterList {
        items,
        truncated,
        in_queues,
    })
}

/// One message (`message_id`) or all (`all: true`), not both. Its schema says so
/// (`PartialSchema` below), where a derived one could not.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// The message to replay; omit it and set `all` to replay every dead letter of the queue.
    pub message_id: Option<String>,
    #[serde(default)]
    pub all: bool,
}

impl utoipa::ToSchema for ReplayRequest {}

impl utoipa::PartialSchema for ReplayRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        replay_request().into()
    }
}

fn replay_request() -> utoipa::openapi::schema::Schema {
    use serde_json::json;
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
    let one = ObjectBuilder::new()
        .property(
            "message_id",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[A-Za-z0-9_-]{1,128}$"))
                .description(Some("The message to replay.")),
        )
        .required("message_id")
        .property(
            "all",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([false])),
        )
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    let all = ObjectBuilder::new()
        .property(
            "all",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([true]))
                .description(Some("Replay every dead letter of the queue.")),
        )
        .required("all")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    OneOfBuilder::new()
        .item(one)
        .item(all)
        .examples([json!({"all": true})])
        .build()
        .into()
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
    let mut report = match queue {
        QueueName::TicketSync => {
            dead_letters::replay(queues.ticket_sync_dead, queues.ticket_sync, &selection).await?
        }
        QueueName::KimaiWrite => {
            dead_letters::replay(queues.kimai_write_dead, queues.kimai_write, &selection).await?
        }
    };
    if let ReplaySelection::One(id) = &selection
        && report.is_empty()
    {
        report = replay_record(queues, queue, id).await?;
    }
    // Back in the source queue: no longer a dead letter.
    for id in report
        .replayed
        .iter()
        .chain(report.not_deleted.iter().map(|(id, _)| id))
    {
        if let Err(e) = queues.records.delete_dead_letter(queue.as_str(), id).await {
            tracing::warn!(message_id = %id, error = %e, "replayed, but its dead-letter record stays listed");
        }
    }
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

/// A message with a record but not in the DLQ (not yet moved there, or received by someone
/// else right now): sent again from the record's body.
async fn replay_record(
    queues: Queues<'_>,
    queue: QueueName,
    id: &str,
) -> ConsoleResult<ReplayReport> {
    let records = queues
        .records
        .dead_letters(queue.as_str(), usize::MAX)
        .await?;
    let Some(record) = records.into_iter().find(|r| r.message_id == id) else {
        return Ok(ReplayReport::default());
    };
    let sent = match queue {
        QueueName::TicketSync => queues.ticket_sync.send_raw(&record.body).await,
        QueueName::KimaiWrite => queues.kimai_write.send_raw(&record.body).await,
    };
    let mut report = ReplayReport::default();
    match sent {
        Ok(_) => report.replayed.push(record.message_id),
        Err(e) => report.failed.push((record.message_id, e.to_string())),
    }
    Ok(report)
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
