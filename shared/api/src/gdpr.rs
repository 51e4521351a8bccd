//! GDPR: export everything the sync holds about one person (an agent), and purge it. What
//! "about them" means, how they are found and what the purge records is `sync_service::console::gdpr`'s;
//! here only the HTTP shapes and the Zammad client the lookup of their identifiers uses.

use crate::auth::Admin;
use crate::context::Origin;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::ApiState;
use crate::upstream;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sync_service::console::audit_log::AuditEntry;
use sync_service::console::gdpr::{self, ZammadLookup};
use sync_store::conflicts::ConflictRecord;
use sync_store::control::DeadLetterRecord;
use sync_store::entries::EntryRecord;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// The person's Zammad user id.
    pub agent_id: u64,
    /// Their e-mail addresses (added to what Zammad says).
    #[serde(default)]
    pub emails: Vec<String>,
    /// Their names as they may appear in descriptions or the audit log.
    #[serde(default)]
    pub names: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SubjectView {
    pub agent_id: u64,
    /// Every identifier searched for (given and from Zammad).
    pub identifiers: Vec<String>,
    /// `ok`, `not_configured`, or `failed: <why>` (then only the given identifiers are used).
    pub zammad_lookup: String,
}

#[derive(Serialize, ToSchema)]
pub struct GdprExport {
    pub subject: SubjectView,
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<EntryRecord>,
    #[schema(value_type = Vec<Object>)]
    pub conflicts: Vec<ConflictRecord>,
    pub audit: Vec<AuditEntry>,
    /// Dead letters about them (their records; the DLQ copies are not read by an export).
    #[schema(value_type = Vec<Object>)]
    pub dead_letters: Vec<DeadLetterRecord>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PurgeResult {
    pub entries: usize,
    pub conflicts: usize,
    pub audit: usize,
    /// Dead-letter records and messages in the dead-letter queues.
    pub dead_letters: usize,
}

fn subject(s: Subject) -> gdpr::Subject {
    gdpr::Subject {
        agent_id: s.agent_id,
        emails: s.emails,
        names: s.names,
    }
}

/// Zammad as the stored connection reaches it: a connection not configured yet is not a
/// failure of the export, only a lookup that did not happen.
async fn zammad(state: &ApiState) -> ZammadLookup {
    match upstream::zammad(state).await {
        Ok(client) => ZammadLookup::Client(client),
        Err(ApiError::Conflict(_)) => ZammadLookup::NotConfigured,
        Err(e) => ZammadLookup::Failed(e.to_string()),
    }
}

/// Everything held about one person, as JSON.
#[utoipa::path(post, path = "/api/gdpr/export", tag = "gdpr", security(("bearer" = [])),
    request_body = Subject,
    responses((status = 200, body = GdprExport), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn export(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(input): ApiJson<Subject>,
) -> Result<Json<GdprExport>, ApiError> {
    let who = origin.actor(&caller.username);
    let lookup = zammad(&state).await;
    let found = gdpr::export(&state.gdpr_deps(), &who, &subject(input), lookup).await?;
    Ok(Json(GdprExport {
        subject: SubjectView {
            agent_id: found.agent_id,
            identifiers: found.identifiers,
            zammad_lookup: found.zammad_lookup,
        },
        entries: found.entries,
        conflicts: found.conflicts,
        audit: found.audit.into_iter().map(AuditEntry::from).collect(),
        dead_letters: found.dead_letters,
    }))
}

/// Deletes everything held about one person; records the purge without personal data.
#[utoipa::path(post, path = "/api/gdpr/purge", tag = "gdpr", security(("bearer" = [])),
    request_body = Subject,
    responses((status = 200, body = PurgeResult), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn purge(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(input): ApiJson<Subject>,
) -> Result<Json<PurgeResult>, ApiError> {
    let who = origin.actor(&caller.username);
    let lookup = zammad(&state).await;
    let purged = gdpr::purge(&state.gdpr_deps(), &who, &subject(input), lookup).await?;
    Ok(Json(PurgeResult {
        entries: purged.entries,
        conflicts: purged.conflicts,
        audit: purged.audit,
        dead_letters: purged.dead_letters,
    }))
}
