//! Kimai domain types, parsed at the edge from the wire format (`docs/kimai.md`).

use crate::error::ParseError;
use crate::ids::{ActivityId, KimaiUserId, ProjectId, TimesheetId};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// Kimai writes datetimes as `Y-m-d\TH:i:sO`: `2026-09-25T09:00:00+0200`, offset without colon.
const KIMAI_OUTPUT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%z";
/// Kimai reads `begin`/`end` as a local wall-clock time without offset.
const KIMAI_INPUT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// Parse a datetime as Kimai outputs it. Accepts `+0200` and, to be lenient, `+02:00`.
pub fn parse_kimai_datetime(
    field: &'static str,
    value: &str,
) -> Result<DateTime<FixedOffset>, ParseError> {
    DateTime::parse_from_str(value, KIMAI_OUTPUT_FORMAT)
        .or_else(|_| DateTime::parse_from_rfc3339(value))
        .map_err(|_| ParseError::Timestamp {
            field,
            value: value.to_owned(),
            expected: "Y-m-d\\TH:i:sO, e.g. 2026-09-25T09:00:00+0200",
        })
}

/// Format an instant the way Kimai does (for simulators and fixtures).
pub fn format_kimai_datetime(t: &DateTime<FixedOffset>) -> String {
    t.format(KIMAI_OUTPUT_FORMAT).to_string()
}

/// A wall-clock time in a Kimai user's zone, as Kimai wants it on input (no offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct KimaiLocalDateTime(pub NaiveDateTime);

impl KimaiLocalDateTime {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        // Kimai itself is lenient (space instead of `T`, seconds optional); so are we.
        [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .map(KimaiLocalDateTime)
        .ok_or_else(|| ParseError::Timestamp {
            field: "begin/end",
            value: value.to_owned(),
            expected: "YYYY-MM-DDTHH:MM:SS",
        })
    }
}

impl std::fmt::Display for KimaiLocalDateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format(KIMAI_INPUT_FORMAT))
    }
}

impl From<KimaiLocalDateTime> for String {
    fn from(v: KimaiLocalDateTime) -> String {
        v.to_string()
    }
}

impl TryFrom<String> for KimaiLocalDateTime {
    type Error = ParseError;
    fn try_from(v: String) -> Result<Self, ParseError> {
        KimaiLocalDateTime::parse(&v)
    }
}

/// A Kimai timesheet as Kimai reports it (collection item or entity; `full=true` objects are
/// reduced to their ids). Rate fields are ignored: from 2.66 they may be missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TimesheetWire", into = "TimesheetWire")]
pub struct Timesheet {
    pub id: TimesheetId,
    pub begin: DateTime<FixedOffset>,
    /// `None` while the timesheet is running.
    pub end: Option<DateTime<FixedOffset>>,
    /// Seconds; `end - begin - break`, 0 while running.
    pub duration_secs: i64,
    /// Seconds of break (Kimai ≥ 2.45 only; 0 when absent).
    pub break_secs: i64,
    pub description: Option<String>,
    pub activity: ActivityId,
    pub project: ProjectId,
    pub user: KimaiUserId,
    /// Tag names.
    pub tags: Vec<String>,
    pub exported: bool,
    pub billable: bool,
}

/// `activity`, `project` and `user` are ids, or objects with an `id` when `full=true`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum IdOrObject {
    Id(u64),
    Object { id: u64 },
}

impl IdOrObject {
    fn id(&self) -> u64 {
        match self {
            IdOrObject::Id(id) | IdOrObject::Object { id } => *id,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TimesheetWire {
    id: u64,
    begin: String,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    duration: Option<i64>,
    #[serde(default, rename = "break", skip_serializing_if = "Option::is_none")]
    break_secs: Option<i64>,
    #[serde(default)]
    description: Option<String>,
    activity: IdOrObject,
    project: IdOrObject,
    user: IdOrObject,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    exported: bool,
    #[serde(default)]
    billable: bool,
}

impl TryFrom<TimesheetWire> for Timesheet {
    type Error = ParseError;

    fn try_from(w: TimesheetWire) -> Result<Self, ParseError> {
        let begin = parse_kimai_datetime("begin", &w.begin)?;
        let end = w
            .end
            .as_deref()
            .map(|e| parse_kimai_datetime("end", e))
            .transpose()?;
        let duration_secs = w.duration.unwrap_or(0);
        if duration_secs < 0 {
            return Err(ParseError::Invalid {
                field: "duration",
                reason: format!("negative duration {duration_secs}"),
            });
        }
        Ok(Timesheet {
            id: TimesheetId(w.id),
            begin,
            end,
            duration_secs,
            break_secs: w.break_secs.unwrap_or(0),
            description: w.description,
            activity: ActivityId(w.activity.id()),
            project: ProjectId(w.project.id()),
            user: KimaiUserId(w.user.id()),
            tags: w.tags,
            exported: w.exported,
            billable: w.billable,
        })
    }
}

impl From<Timesheet> for TimesheetWire {
    fn from(t: Timesheet) -> Self {
        TimesheetWire {
            id: t.id.0,
            begin: format_kimai_datetime(&t.begin),
            end: t.end.as_ref().map(format_kimai_datetime),
            duration: Some(t.duration_secs),
            break_secs: Some(t.break_secs),
            description: t.description,
            activity: IdOrObject::Id(t.activity.0),
            project: IdOrObject::Id(t.project.0),
            user: IdOrObject::Id(t.user.0),
            tags: t.tags,
            exported: t.exported,
            billable: t.billable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLLECTION_ITEM: &str = r#"{"activity":3,"project":2,"user":5,"tags":["zammad"],
        "id":41,"begin":"2026-03-29T01:30:00+0100","end":"2026-03-29T03:30:00+0200",
        "duration":3600,"description":"[zammad:ta=7] Printer","rate":0.0,"internalRate":null,
        "exported":false,"billable":true,"metaFields":[]}"#;

    #[test]
    fn parses_offsets_without_colon_across_a_dst_change() {
        let t: Timesheet = serde_json::from_str(COLLECTION_ITEM).unwrap();
        assert_eq!(t.begin.offset().local_minus_utc(), 3600);
        assert_eq!(t.end.unwrap().offset().local_minus_utc(), 7200);
        assert_eq!((t.end.unwrap() - t.begin).num_seconds(), 3600);
        assert_eq!(t.duration_secs, 3600);
        assert_eq!(t.break_secs, 0);
    }

    #[test]
    fn accepts_expanded_objects_and_missing_rate_fields() {
        let t: Timesheet = serde_json::from_str(
            r#"{"id":1,"begin":"2026-01-02T08:00:00+0000","end":null,"duration":0,"break":0,
                "activity":{"id":9,"name":"Support"},"project":{"id":8,"customer":{"id":1}},
                "user":{"id":7,"username":"anna"},"tags":[],"exported":true,"billable":false}"#,
        )
        .unwrap();
        assert_eq!(
            (t.activity, t.project, t.user),
            (ActivityId(9), ProjectId(8), KimaiUserId(7))
        );
        assert!(t.end.is_none());
        assert!(t.exported);
    }

    #[test]
    fn round_trips_through_the_wire_format() {
        let t: Timesheet = serde_json::from_str(COLLECTION_ITEM).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains("2026-03-29T01:30:00+0100"), "{json}");
        assert_eq!(serde_json::from_str::<Timesheet>(&json).unwrap(), t);
    }

    #[test]
    fn rejects_a_begin_without_offset() {
        let err = serde_json::from_str::<Timesheet>(
            r#"{"id":1,"begin":"2026-01-02T08:00:00","activity":1,"project":1,"user":1}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("begin"), "{err}");
    }

    #[test]
    fn local_datetime_formats_without_offset_and_parses_leniently() {
        let t = KimaiLocalDateTime::parse("2026-03-29 03:15").unwrap();
        assert_eq!(t.to_string(), "2026-03-29T03:15:00");
        assert!(KimaiLocalDateTime::parse("29.03.2026").is_err());
    }
}
