//! Access events: the use cases record their own (`sync_service::access_audit`); this is where
//! the API hands them the audit log, and the one way for a handler to record an event itself.

use crate::context::Origin;
use crate::problem::ApiError;
use crate::state::ApiState;
use serde_json::Value;
use sync_service::access_audit::AccessLog;

impl ApiState {
    /// Where the console's access events go.
    pub fn access_log(&self) -> AccessLog<'_> {
        AccessLog {
            log: self.audit.as_ref(),
            clock: self.clock.as_ref(),
        }
    }
}

/// Records one access event by `actor` from `origin`. A change whose audit record cannot be
/// written is reported as failed (503) rather than silently unaudited; the change itself stays
/// (it is idempotent to repeat with the new version).
pub async fn record(
    state: &ApiState,
    actor: &str,
    origin: &Origin,
    action: &str,
    detail: Value,
) -> Result<(), ApiError> {
    let actor = origin.actor(actor);
    Ok(state.access_log().record(&actor, action, detail).await?)
}
