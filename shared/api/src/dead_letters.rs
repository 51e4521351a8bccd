//! Dead letters of both queues: list them (they stay in their queues) and replay one or all to
//! the queue they came from (receive → send → delete; see `sync_store::dead_letters`).

use crate::audit;
use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_store::dead_letters::{self, MAX_PEEK, ReplayReport, ReplaySelection, check_message_id};
use sync_store::queue::{
    KimaiWriteMessage, MessageQueue, QueueMessage, Received, TicketSyncMessage,
};
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
            QueueName::TicketSync => "ticket-sync",
            QueueName::KimaiWrite => "kimai-write",
        }
    }
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

/// Every dead letter of both queues (up to 200 each); they stay where they are.
#[utoipa::path(get, path = "/api/dead-letters", operation_id = "list_dead_letters", tag = "dead letters", security(("bearer" = [])),
    responses((status = 200, body = DeadLetterList), (status = 401, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn list(
    _: Caller,
    State(state): State<ApiState>,
) -> Result<Json<DeadLetterList>, ApiError> {
    let sync = dead_letters::peek(state.dead_letters.ticket_sync.as_ref(), MAX_PEEK + 1).await?;
    let write = dead_letters::peek(state.dead_letters.kimai_write.as_ref(), MAX_PEEK + 1).await?;
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
    Ok(Json(DeadLetterList { items, truncated }))
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

async fn replay_on<M: QueueMessage>(
    dlq: &dyn MessageQueue<M>,
    source: &dyn MessageQueue<M>,
    selection: &ReplaySelection,
) -> Result<ReplayReport, ApiError> {
    Ok(dead_letters::replay(dlq, source, selection).await?)
}

/// Replays one dead letter (`message_id`) or all of them (`all: true`) to their source queue.
#[utoipa::path(post, path = "/api/dead-letters/{queue}/replay", tag = "dead letters", security(("bearer" = [])),
    params(("queue" = QueueName, Path, description = "`ticket-sync` or `kimai-write`")),
    request_body = ReplayRequest,
    responses((status = 200, body = ReplayResult), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 404, body = crate::problem::Problem), (status = 503, body = crate::problem::Problem)))]
pub async fn replay(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath(queue): ApiPath<QueueName>,
    ApiJson(body): ApiJson<ReplayRequest>,
) -> Result<Json<ReplayResult>, ApiError> {
    let selection = match (&body.message_id, body.all) {
        (Some(id), false) => {
            check_message_id(id).map_err(|e| ApiError::invalid("message_id", e.to_string()))?;
            ReplaySelection::One(id.clone())
        }
        (None, true) => ReplaySelection::All,
        _ => {
            return Err(ApiError::invalid(
                "message_id",
                "name one message_id, or set all: true (not both)",
            ));
        }
    };
    let report = match queue {
        QueueName::TicketSync => {
            replay_on(
                state.dead_letters.ticket_sync.as_ref(),
                state.ticket_sync.as_ref(),
                &selection,
            )
            .await?
        }
        QueueName::KimaiWrite => {
            replay_on(
                state.dead_letters.kimai_write.as_ref(),
                state.kimai_write.as_ref(),
                &selection,
            )
            .await?
        }
    };
    if !report.is_empty() {
        audit::record(
            &state,
            &caller.username,
            &origin,
            "dead_letter.replay",
            json!({
                "queue": queue.as_str(),
                "selection": match &selection { ReplaySelection::One(id) => json!(id), ReplaySelection::All => json!("all") },
                "replayed": report.replayed,
                "not_deleted": report.not_deleted.iter().map(|(m, _)| m).collect::<Vec<_>>(),
                "failed": report.failed.iter().map(|(m, _)| m).collect::<Vec<_>>(),
            }),
        )
        .await?;
    }
    if let ReplaySelection::One(id) = &selection {
        if report.is_empty() {
            return Err(ApiError::NotFound(format!(
                "no dead letter {id} in {}",
                queue.as_str()
            )));
        }
    }
    if report.replayed.is_empty() && report.not_deleted.is_empty() && !report.failed.is_empty() {
        return Err(ApiError::Unavailable(format!(
            "the {} queue refused the replay ({}); the dead letters stay where they were",
            queue.as_str(),
            report.failed[0].1
        )));
    }
    Ok(Json(ReplayResult {
        queue,
        replayed: report.replayed,
        not_deleted: failures(report.not_deleted),
        failed: failures(report.failed),
    }))
}
