//! What the console's use cases share: who asks (each use case records what they did in the
//! audit log, as part of doing it), and the input they refuse, field by field.

use serde_json::{Value, json};
use sync_store::StoreError;
use sync_store::audit::{AuditEvent, AuditKind, AuditLog};
use sync_store::clock::Clock;

/// A console user and where the request came from, for the audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub username: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Records one access event: who did what, from where. Never secrets, and (for GDPR) never
/// whose data. A change whose record cannot be written is reported as failed rather than
/// left unaudited; the change itself stays (repeating it is idempotent).
pub async fn audit(
    log: &dyn AuditLog,
    clock: &dyn Clock,
    actor: &Actor,
    action: &str,
    detail: Value,
) -> Result<(), StoreError> {
    let mut detail = detail;
    if let (Some(obj), Some(agent)) = (detail.as_object_mut(), actor.user_agent.as_ref()) {
        obj.insert("user_agent".into(), json!(agent));
    }
    let event = AuditEvent {
        at: clock.now(),
        kind: AuditKind::Access,
        action: action.to_owned(),
        actor: actor.username.clone(),
        ip: actor.ip.clone(),
        detail,
    };
    log.append(&event).await.map(|_| ())
}

/// Input a use case refuses: a summary and what is wrong with which field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid request: {detail}")]
pub struct Invalid {
    pub detail: String,
    pub fields: Vec<FieldProblem>,
}

/// One refused field (`note`, `entries[3]`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl Invalid {
    /// One field is wrong.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Invalid {
            detail: format!("{field}: {message}"),
            fields: vec![FieldProblem {
                field: field.to_owned(),
                message,
            }],
        }
    }

    /// Several fields are wrong.
    pub fn many(detail: impl Into<String>, fields: Vec<FieldProblem>) -> Self {
        Invalid {
            detail: detail.into(),
            fields,
        }
    }
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldProblem {
            field: field.into(),
            message: message.into(),
        }
    }
}
