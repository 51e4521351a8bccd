//! The sync schedule: when scheduled-fetch runs (cron in an IANA zone, on or off, through the
//! `ScheduleStore` = EventBridge Scheduler) and what it does when a run is still going
//! (`concurrency` in the fetch policy document `policy/fetch`). Reading it includes the next
//! three runs, in the zone. The cron forms accepted are described in [`cron`]. Who is told
//! about failed runs is not the schedule's business: see `console::notifications`.

pub mod cron;

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use crate::settings::FETCH_POLICY;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sync_store::control::{ControlStore, DocumentWrite, ExpectedVersion};
use sync_store::schedule::{ScheduleSettings, ScheduleStore};
use utoipa::ToSchema;

pub use cron::{next_runs, to_eventbridge};

/// How many upcoming runs the answer shows.
pub const NEXT_RUNS: usize = 3;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// Six EventBridge fields, or five common ones (converted; see the API docs).
    #[schema(schema_with = crate::console::schemas::cron)]
    pub cron: String,
    /// IANA zone, e.g. `Europe/Berlin`.
    #[schema(schema_with = crate::console::schemas::time_zone)]
    pub time_zone: String,
    pub enabled: bool,
    /// `skip` (default) or `queue`: what a tick does while a run is still going.
    #[serde(default)]
    #[schema(schema_with = concurrency_schema)]
    pub concurrency: Option<String>,
}

fn concurrency_schema() -> utoipa::openapi::schema::Object {
    crate::console::schemas::or_null(crate::console::schemas::one_of_strings(&["skip", "queue"]))
}

#[derive(Serialize, ToSchema)]
pub struct ScheduleView {
    /// `false` until a schedule was written.
    pub configured: bool,
    /// The stored six-field EventBridge form.
    pub cron: Option<String>,
    pub time_zone: Option<String>,
    pub enabled: bool,
    pub concurrency: String,
    /// The next runs as local times with their offset (empty when disabled or not configured).
    pub next_runs: Vec<String>,
}

/// What the schedule lives in: EventBridge, the control store (fetch policy),
/// and the access log for changes.
#[derive(Clone, Copy)]
pub struct ScheduleStores<'a> {
    pub schedule: &'a dyn ScheduleStore,
    pub control: &'a dyn ControlStore,
    pub access: AccessLog<'a>,
}

async fn read_concurrency(control: &dyn ControlStore) -> ConsoleResult<String> {
    let doc = control
        .get_document(FETCH_POLICY.kind, FETCH_POLICY.id)
        .await?;
    Ok(doc
        .and_then(|d| {
            d.body
                .get("concurrency")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "skip".to_owned()))
}

/// The schedule, its concurrency policy and next runs.
pub async fn schedule(stores: ScheduleStores<'_>) -> ConsoleResult<ScheduleView> {
    let stored = stores.schedule.get_schedule().await?;
    let concurrency = read_concurrency(stores.control).await?;
    let Some(s) = stored else {
        return Ok(ScheduleView {
            configured: false,
            cron: None,
            time_zone: None,
            enabled: false,
            concurrency,
            next_runs: vec![],
        });
    };
    let now = stores.access.clock.now();
    let next = match (s.enabled, s.time_zone.parse::<Tz>()) {
        (true, Ok(zone)) => next_runs(&s.cron, zone, now, NEXT_RUNS)
            .map_err(|e| ConsoleError::Internal(format!("stored schedule does not parse: {e}")))?,
        _ => vec![],
    };
    Ok(ScheduleView {
        configured: true,
        cron: Some(s.cron),
        time_zone: Some(s.time_zone),
        enabled: s.enabled,
        concurrency,
        next_runs: next,
    })
}

/// Checks every field at once; the schedule to store (cron in its EventBridge form).
fn checked(input: &ScheduleInput) -> ConsoleResult<ScheduleSettings> {
    let mut errors = Vec::new();
    let cron = to_eventbridge(&input.cron)
        .map_err(|m| errors.push(FieldError::new("cron", m)))
        .ok();
    if input.time_zone.parse::<Tz>().is_err() {
        errors.push(FieldError::new(
            "time_zone",
            format!("{:?} is not an IANA time zone", input.time_zone),
        ));
    }
    if let Some(c) = &input.concurrency
        && c != "skip"
        && c != "queue"
    {
        errors.push(FieldError::new("concurrency", "must be skip or queue"));
    }
    let Some(cron) = cron.filter(|_| errors.is_empty()) else {
        return Err(ConsoleError::invalid_many(
            "the schedule is invalid",
            errors,
        ));
    };
    Ok(ScheduleSettings {
        cron,
        time_zone: input.time_zone.clone(),
        enabled: input.enabled,
    })
}

/// Replaces the schedule (EventBridge) and the concurrency policy (when given), audited; the
/// schedule as it is now.
pub async fn save_schedule(
    stores: ScheduleStores<'_>,
    actor: &Actor,
    input: &ScheduleInput,
) -> ConsoleResult<ScheduleView> {
    let settings = checked(input)?;
    stores.schedule.put_schedule(&settings).await?;
    if let Some(c) = &input.concurrency {
        write_concurrency(&stores, c).await?;
    }
    let detail = json!({"cron": settings.cron, "time_zone": settings.time_zone,
           "enabled": settings.enabled, "concurrency": input.concurrency});
    stores
        .access
        .record(actor, "schedule.update", detail)
        .await?;
    schedule(stores).await
}

/// Sets `concurrency` in `policy/fetch`, keeping its other fields; conditional on the version
/// read, so a concurrent edit of the fetch policy is a conflict, not a lost update.
async fn write_concurrency(stores: &ScheduleStores<'_>, value: &str) -> ConsoleResult<()> {
    let doc = stores
        .control
        .get_document(FETCH_POLICY.kind, FETCH_POLICY.id)
        .await?;
    let (mut body, expected) = match doc {
        Some(d) => (d.body, ExpectedVersion::Version(d.version)),
        None => (json!({}), ExpectedVersion::New),
    };
    let Some(obj) = body.as_object_mut() else {
        return Err(ConsoleError::Internal(
            "policy/fetch is not a JSON object".into(),
        ));
    };
    obj.insert("concurrency".into(), json!(value));
    let now = stores.access.clock.now();
    match stores
        .control
        .put_document(FETCH_POLICY.kind, FETCH_POLICY.id, &body, expected, now)
        .await?
    {
        DocumentWrite::Written { .. } => Ok(()),
        DocumentWrite::VersionConflict { .. } => Err(ConsoleError::Conflict(
            "the fetch policy changed meanwhile; reload and try again".into(),
        )),
    }
}
