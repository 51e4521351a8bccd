//! Access events: every change made through the console, and every login attempt, is written
//! to the audit log with the actor, the source IP and the user agent. Never secrets.

use crate::context::Origin;
use crate::problem::ApiError;
use crate::state::ApiState;
use serde_json::{Value, json};
use sync_store::audit::{AuditEvent, AuditKind};

/// Records one access event. A change whose audit record cannot be written is reported as
/// failed (503) rather than silently unaudited; the change itself stays (it is idempotent to
/// repeat with the new version).
pub async fn record(
    state: &ApiState,
    actor: &str,
    origin: &Origin,
    action: &str,
    detail: Value,
) -> Result<(), ApiError> {
    let mut detail = detail;
    if let (Some(obj), Some(agent)) = (detail.as_object_mut(), origin.user_agent.as_ref()) {
        obj.insert("user_agent".into(), json!(agent));
    }
    let event = AuditEvent {
        at: state.clock.now(),
        kind: AuditKind::Access,
        action: action.to_owned(),
        actor: actor.to_owned(),
        ip: origin.ip.clone(),
        detail,
    };
    state.audit.append(&event).await?;
    Ok(())
}
