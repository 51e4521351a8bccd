//! The sync schedule: when scheduled-fetch runs (cron in an IANA zone, on or off, through
//! `ScheduleStore` = EventBridge Scheduler), what it does when a run is still going
//! (`concurrency` in the fetch policy document `policy/fetch`), and who is told about failures
//! (`schedule/notifications`). The answer includes the next three runs, in the zone.
//!
//! Cron rule: the stored form is EventBridge's six fields (`minutes hours day-of-month month
//! day-of-week year`, one of the day fields `?`, weekdays 1-7 = SUN-SAT). The common five-field
//! form (`minutes hours day-of-month month day-of-week`, weekdays 0-7 with 0 and 7 = Sunday) is
//! accepted and converted: year `*`; a `*` day field becomes `?` (day-of-week when both are
//! `*`); weekday numbers are shifted by one (0 → 1, 1 → 2, …, 6 → 7, 7 → 1); both day fields
//! restricted is refused (EventBridge cannot say "either").

use crate::audit;
use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::ApiJson;
use crate::problem::{ApiError, FieldError};
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sync_store::control::{DocumentKind, DocumentWrite, ExpectedVersion};
use sync_store::schedule::ScheduleSettings;
use utoipa::ToSchema;

/// How many upcoming runs the answer shows.
pub const NEXT_RUNS: usize = 3;
pub const MAX_RECIPIENTS: usize = 20;
const NOTIFICATIONS_ID: &str = "notifications";
const FETCH_POLICY_ID: &str = "fetch";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    /// Addresses told about failed runs and new conflicts.
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub on_failure: bool,
    #[serde(default)]
    pub on_conflicts: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// Six EventBridge fields, or five common ones (converted; see the API docs).
    pub cron: String,
    /// IANA zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    pub enabled: bool,
    /// `skip` (default) or `queue`: what a tick does while a run is still going.
    #[serde(default)]
    pub concurrency: Option<String>,
    #[serde(default)]
    pub notifications: Option<Notifications>,
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
    pub notifications: Notifications,
    /// The next runs as local times with their offset (empty when disabled or not configured).
    pub next_runs: Vec<String>,
}

/// The EventBridge form of `cron`, or why it is not valid.
pub fn to_eventbridge(cron: &str) -> Result<String, String> {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let six = match fields.len() {
        6 => fields.join(" "),
        5 => {
            CronParser::builder()
                .seconds(Seconds::Disallowed)
                .year(Year::Disallowed)
                .build()
                .parse(cron)
                .map_err(|e| format!("not a valid cron expression: {e}"))?;
            let free = |f: &str| f == "*" || f == "?";
            let (dom, dow) = match (free(fields[2]), free(fields[4])) {
                (true, true) => ("*".to_owned(), "?".to_owned()),
                (false, true) => (fields[2].to_owned(), "?".to_owned()),
                (true, false) => ("?".to_owned(), shift_weekdays(fields[4])?),
                (false, false) => {
                    return Err(
                        "cron: give day-of-month or day-of-week, not both (EventBridge cannot \
                         run on either)"
                            .into(),
                    );
                }
            };
            format!(
                "{} {} {} {} {} *",
                fields[0], fields[1], dom, fields[3], dow
            )
        }
        n => {
            return Err(format!(
                "cron needs 6 fields (EventBridge) or 5 (common form), got {n}"
            ));
        }
    };
    eventbridge_cron(&six)?;
    Ok(six)
}

/// Common weekday numbers (0-7, Sunday 0 or 7) to EventBridge's (1-7, Sunday 1). Counts after
/// `/` (step) and `#` (nth) are left alone; names stay names.
fn shift_weekdays(field: &str) -> Result<String, String> {
    let shift_head = |head: &str| -> Result<String, String> {
        let mut out = String::new();
        let mut digits = String::new();
        let flush = |digits: &mut String, out: &mut String| -> Result<(), String> {
            if !digits.is_empty() {
                let n: u32 = digits
                    .parse()
                    .map_err(|_| format!("bad weekday {digits}"))?;
                if n > 7 {
                    return Err(format!("weekday {n} is not 0-7"));
                }
                out.push_str(&(n % 7 + 1).to_string());
                digits.clear();
            }
            Ok(())
        };
        for c in head.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else {
                flush(&mut digits, &mut out)?;
                out.push(c);
            }
        }
        flush(&mut digits, &mut out)?;
        Ok(out)
    };
    field
        .split(',')
        .map(|item| {
            let cut = item.find(['/', '#']).unwrap_or(item.len());
            let (head, tail) = item.split_at(cut);
            Ok(format!("{}{tail}", shift_head(head)?))
        })
        .collect::<Result<Vec<_>, String>>()
        .map(|items| items.join(","))
}

/// Parses the six EventBridge fields as croner reads them (seconds 0 in front, Quartz
/// weekdays), after the store's own shape checks.
fn eventbridge_cron(six: &str) -> Result<Cron, String> {
    ScheduleSettings {
        cron: six.to_owned(),
        time_zone: "UTC".into(),
        enabled: true,
    }
    .validate()
    .map_err(|e| e.to_string().replace("invalid request to the store: ", ""))?;
    CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Required)
        .alternative_weekdays(true)
        .build()
        .parse(&format!("0 {six}"))
        .map_err(|e| format!("not a valid cron expression: {e}"))
}

/// The next `count` runs after `now`, as local times in `zone` with their offset. Local times
/// that do not exist on a DST change are resolved by croner (moved into the new offset).
pub fn next_runs(
    six: &str,
    zone: Tz,
    now: DateTime<Utc>,
    count: usize,
) -> Result<Vec<String>, String> {
    let cron = eventbridge_cron(six)?;
    let mut at = now.with_timezone(&zone);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        match cron.find_next_occurrence(&at, false) {
            Ok(next) => {
                out.push(next.to_rfc3339());
                at = next;
            }
            // No further match (a year in the past): fewer runs, not an error.
            Err(_) => break,
        }
    }
    Ok(out)
}

fn validate_email(email: &str) -> bool {
    let mut parts = email.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None)
        if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
}

async fn read_notifications(state: &ApiState) -> Result<Notifications, ApiError> {
    match state
        .control
        .get_document(DocumentKind::Schedule, NOTIFICATIONS_ID)
        .await?
    {
        None => Ok(Notifications::default()),
        Some(doc) => serde_json::from_value(doc.body).map_err(|e| {
            ApiError::Internal(format!("stored schedule/notifications does not read: {e}"))
        }),
    }
}

async fn read_concurrency(state: &ApiState) -> Result<String, ApiError> {
    let doc = state
        .control
        .get_document(DocumentKind::Policy, FETCH_POLICY_ID)
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

async fn current(state: &ApiState) -> Result<ScheduleView, ApiError> {
    let stored = state.schedule.get_schedule().await?;
    let notifications = read_notifications(state).await?;
    let concurrency = read_concurrency(state).await?;
    let Some(s) = stored else {
        return Ok(ScheduleView {
            configured: false,
            cron: None,
            time_zone: None,
            enabled: false,
            concurrency,
            notifications,
            next_runs: vec![],
        });
    };
    let next = match (s.enabled, s.time_zone.parse::<Tz>()) {
        (true, Ok(zone)) => next_runs(&s.cron, zone, state.clock.now(), NEXT_RUNS)
            .map_err(|e| ApiError::Internal(format!("stored schedule does not parse: {e}")))?,
        _ => vec![],
    };
    Ok(ScheduleView {
        configured: true,
        cron: Some(s.cron),
        time_zone: Some(s.time_zone),
        enabled: s.enabled,
        concurrency,
        notifications,
        next_runs: next,
    })
}

/// The schedule, its concurrency policy, notifications and next runs.
#[utoipa::path(get, path = "/api/schedule", tag = "schedule", security(("bearer" = [])),
    responses((status = 200, body = ScheduleView), (status = 401, body = crate::problem::Problem)))]
pub async fn get_schedule(
    _: Caller,
    State(state): State<ApiState>,
) -> Result<Json<ScheduleView>, ApiError> {
    Ok(Json(current(&state).await?))
}

/// Replaces the schedule (EventBridge), the concurrency policy and the notifications.
#[utoipa::path(put, path = "/api/schedule", tag = "schedule", security(("bearer" = [])), request_body = ScheduleInput,
    responses((status = 200, body = ScheduleView), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn put_schedule(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> Result<Json<ScheduleView>, ApiError> {
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
    let concurrency = input.concurrency.clone();
    if let Some(c) = &concurrency
        && c != "skip"
        && c != "queue"
    {
        errors.push(FieldError::new("concurrency", "must be skip or queue"));
    }
    let notifications = input.notifications.clone().unwrap_or_default();
    if notifications.emails.len() > MAX_RECIPIENTS {
        errors.push(FieldError::new(
            "notifications.emails",
            format!("at most {MAX_RECIPIENTS} addresses"),
        ));
    }
    for (i, email) in notifications.emails.iter().enumerate() {
        if !validate_email(email) {
            errors.push(FieldError::new(
                format!("notifications.emails[{i}]"),
                "not an e-mail address",
            ));
        }
    }
    let Some(cron) = cron.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid_many("the schedule is invalid", errors));
    };

    let settings = ScheduleSettings {
        cron,
        time_zone: input.time_zone.clone(),
        enabled: input.enabled,
    };
    state.schedule.put_schedule(&settings).await?;
    if let Some(c) = &concurrency {
        write_concurrency(&state, c).await?;
    }
    if input.notifications.is_some() {
        let body = json!(notifications);
        state
            .control
            .put_document(
                DocumentKind::Schedule,
                NOTIFICATIONS_ID,
                &body,
                ExpectedVersion::Any,
                state.clock.now(),
            )
            .await?;
    }
    audit::record(
        &state,
        &caller.username,
        &origin,
        "schedule.update",
        json!({"cron": settings.cron, "time_zone": settings.time_zone,
               "enabled": settings.enabled, "concurrency": concurrency,
               "notifications": input.notifications.is_some()}),
    )
    .await?;
    Ok(Json(current(&state).await?))
}

/// Sets `concurrency` in `policy/fetch`, keeping its other fields; conditional on the version
/// read, so a concurrent edit of the fetch policy is a 409, not a lost update.
async fn write_concurrency(state: &ApiState, value: &str) -> Result<(), ApiError> {
    let doc = state
        .control
        .get_document(DocumentKind::Policy, FETCH_POLICY_ID)
        .await?;
    let (mut body, expected) = match doc {
        Some(d) => (d.body, ExpectedVersion::Version(d.version)),
        None => (json!({}), ExpectedVersion::New),
    };
    let Some(obj) = body.as_object_mut() else {
        return Err(ApiError::Internal(
            "policy/fetch is not a JSON object".into(),
        ));
    };
    obj.insert("concurrency".into(), json!(value));
    match state
        .control
        .put_document(
            DocumentKind::Policy,
            FETCH_POLICY_ID,
            &body,
            expected,
            state.clock.now(),
        )
        .await?
    {
        DocumentWrite::Written { .. } => Ok(()),
        DocumentWrite::VersionConflict { .. } => Err(ApiError::Conflict(
            "the fetch policy changed meanwhile; reload and try again".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields_become_eventbridge_six() {
        assert_eq!(to_eventbridge("0 6 * * *").unwrap(), "0 6 * * ? *");
        assert_eq!(
            to_eventbridge("*/15 7-18 * * 1-5").unwrap(),
            "*/15 7-18 ? * 2-6 *"
        );
        assert_eq!(to_eventbridge("0 6 * * 0,7").unwrap(), "0 6 ? * 1,1 *");
        assert_eq!(
            to_eventbridge("0 6 * * MON-FRI").unwrap(),
            "0 6 ? * MON-FRI *"
        );
        assert_eq!(to_eventbridge("0 6 1 * *").unwrap(), "0 6 1 * ? *");
        assert_eq!(to_eventbridge("0 6 * * 5#2").unwrap(), "0 6 ? * 6#2 *");
        assert_eq!(
            to_eventbridge("0 7-18 ? * MON-FRI *").unwrap(),
            "0 7-18 ? * MON-FRI *"
        );
        assert!(
            to_eventbridge("0 6 1 * 1")
                .unwrap_err()
                .contains("not both")
        );
        assert!(to_eventbridge("0 6 * *").unwrap_err().contains("got 4"));
        assert!(to_eventbridge("61 6 * * *").is_err());
        assert!(to_eventbridge("0 6 * * ? 1999x").is_err());
        assert!(to_eventbridge("0 6 1 * MON *").unwrap_err().contains('?'));
    }

    #[test]
    fn next_runs_follow_the_zone_across_dst() {
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        let now = "2026-03-27T12:00:00Z".parse().unwrap();
        let runs = next_runs("0 9 * * ? *", zone, now, 3).unwrap();
        assert_eq!(
            runs,
            [
                "2026-03-28T09:00:00+01:00",
                "2026-03-29T09:00:00+02:00",
                "2026-03-30T09:00:00+02:00"
            ]
        );
        // EventBridge weekdays: 2-6 = MON-FRI. 2026-03-27 is a Friday.
        let runs = next_runs("30 8 ? * 2-6 *", zone, now, 2).unwrap();
        assert_eq!(
            runs,
            ["2026-03-30T08:30:00+02:00", "2026-03-31T08:30:00+02:00"]
        );
        let zone: Tz = "America/New_York".parse().unwrap();
        let now = "2026-10-31T12:00:00Z".parse().unwrap();
        let runs = next_runs("0 1 * * ? *", zone, now, 2).unwrap();
        assert_eq!(
            runs,
            ["2026-11-01T01:00:00-04:00", "2026-11-02T01:00:00-05:00"]
        );
    }

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(validate_email("ops@example.org"));
        for bad in [
            "",
            "ops",
            "@example.org",
            "ops@example",
            "a b@example.org",
            "a@b@c.de",
            "x@y.org,z@w.org",
        ] {
            assert!(!validate_email(bad), "{bad}");
        }
    }
}
