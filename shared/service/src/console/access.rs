//! Who acts through the console, and the one way a use case records what they did: every
//! change made through the console, and every login attempt, is an access event in the audit
//! log with the actor, the source IP and the user agent. Never secrets, and (for GDPR) never
//! whose data. Each use case records its own event: who did what is part of doing it.

use serde_json::{Value, json};
use sync_store::StoreResult;
use sync_store::audit::{AuditEvent, AuditKind, AuditLog};
use sync_store::clock::Clock;

/// A console user and where the request came from, for the audit record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// The logged-in user (for a login attempt: the user name tried).
    pub username: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Where access events go.
#[derive(Clone, Copy)]
pub struct AccessLog<'a> {
    pub log: &'a dyn AuditLog,
    pub clock: &'a dyn Clock,
}

impl AccessLog<'_> {
    /// Records one access event; the user agent joins `detail` when it is an object. A change
    /// whose record cannot be written is reported as failed rather than left unaudited; the
    /// change itself stays (repeating it is idempotent).
    pub async fn record(&self, actor: &Actor, action: &str, detail: Value) -> StoreResult<()> {
        let mut detail = detail;
        if let (Some(obj), Some(agent)) = (detail.as_object_mut(), actor.user_agent.as_ref()) {
            obj.insert("user_agent".into(), json!(agent));
        }
        let event = AuditEvent {
            at: self.clock.now(),
            kind: AuditKind::Access,
            action: action.to_owned(),
            actor: actor.username.clone(),
            ip: actor.ip.clone(),
            detail,
        };
        self.log.append(&event).await.map(|_| ())
    }
}
