//! GDPR: export everything the sync holds about one person (an agent), and purge it in the
//! background. What "about them" means, how they are found and what the purge records is
//! `sync_service::console::gdpr`'s and `sync_service::privacy`'s; here only the HTTP shapes and
//! the Zammad client the lookup of their identifiers uses.

use crate::auth::Admin;
use crate::context::Origin;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::ApiState;
use crate::upstream;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sync_service::console::audit_log::AuditEntry;
use sync_service::console::gdpr::{self, ZammadLookup};
use sync_service::privacy::job::PurgeJob;
use sync_store::conflicts::ConflictRecord;
use sync_store::control::DeadLetterRecord;
use sync_store::entries::EntryRecord;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// The person's Zammad user id.
    #[schema(schema_with = sync_service::console::schemas::id)]
    pub agent_id: u64,
    /// Their e-mail addresses (added to what Zammad says).
    #[serde(default)]
    #[schema(schema_with = sync_service::console::schemas::email_identifiers)]
    pub emails: Vec<String>,
    /// Their names as they may appear in descriptions or the audit log.
    #[serde(default)]
    #[schema(schema_with = sync_service::console::schemas::name_identifiers)]
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

/// A purge job: its progress while it runs, its report when done (counts only).
#[derive(Serialize, ToSchema)]
pub struct PurgeJobView {
    #[serde(flatten)]
    pub job: PurgeJob,
    /// Queued or running but not moved for 20 minutes: it stopped; request the purge again.
    pub stalled: bool,
}

impl PurgeJobView {
    fn of(job: PurgeJob, state: &ApiState) -> Self {
        let stalled = job.stalled(state.clock.now());
        PurgeJobView { job, stalled }
    }
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
    let export = gdpr::export(
        &state.privacy_ports(),
        state.access_log(),
        &who,
        &subject(input),
        lookup,
    )
    .await?;
    let found = export.found;
    Ok(Json(GdprExport {
        subject: SubjectView {
            agent_id: export.agent_id,
            identifiers: export.identifiers,
            zammad_lookup: export.zammad_lookup,
        },
        entries: found.entries,
        conflicts: found.conflicts,
        audit: found.audit.into_iter().map(AuditEntry::from).collect(),
        dead_letters: found.dead_letters,
    }))
}

/// Starts the purge of everything held about one person (202 with the job); its progress and
/// report are `GET /api/gdpr/purges/{id}`.
#[utoipa::path(post, path = "/api/gdpr/purge", tag = "gdpr", security(("bearer" = [])),
    request_body = Subject,
    responses((status = 202, body = PurgeJobView), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 503, body = crate::problem::Problem)))]
pub async fn purge(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(input): ApiJson<Subject>,
) -> Result<(StatusCode, Json<PurgeJobView>), ApiError> {
    let who = origin.actor(&caller.username);
    let lookup = zammad(&state).await;
    let job = gdpr::request_purge(
        &state.privacy_ports(),
        state.access_log(),
        state.purge_launcher.as_ref(),
        &who,
        &subject(input),
        lookup,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(PurgeJobView::of(job, &state))))
}

/// A purge job's progress, or its final report.
#[utoipa::path(get, path = "/api/gdpr/purges/{id}", tag = "gdpr", security(("bearer" = [])),
    params(("id" = String, Path, description = "the job id `POST /api/gdpr/purge` answered", pattern = r"^[A-Za-z0-9-]{1,64}$")),
    responses((status = 200, body = PurgeJobView), (status = 401, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn purge_job(
    Admin(_caller): Admin,
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<PurgeJobView>, ApiError> {
    match gdpr::purge_job(&state.privacy_ports(), &id).await? {
        Some(job) => Ok(Json(PurgeJobView::of(job, &state))),
        None => Err(ApiError::NotFound(format!("no purge job {id}"))),
    }
}
