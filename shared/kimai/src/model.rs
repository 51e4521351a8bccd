//! Request and response types of the Kimai endpoints we use, other than `Timesheet` (which lives
//! in `sync_core::kimai`) and the catalog records (parsed into `sync_core::catalog` by
//! [`crate::catalog_wire`]). Responses keep only the fields the sync needs; unknown fields are
//! ignored so newer Kimai versions do not break us.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};
use sync_core::ids::{ActivityId, CustomerId, KimaiUserId, ProjectId};
use sync_core::kimai::KimaiLocalDateTime;

/// Body of `POST /api/customers`. Only `name` is really required: Kimai (2.0 and later) fills
/// `country` and `currency` from its configured defaults when they are left out, which is
/// what the sync does unless it was told the values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCustomer {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// ISO 4217, e.g. `EUR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// IANA zone, e.g. `Europe/Berlin`.
    pub timezone: String,
    pub visible: bool,
}

/// Body of `POST /api/projects`: `name` and `customer` are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewProject {
    pub name: String,
    pub customer: CustomerId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub visible: bool,
    pub global_activities: bool,
}

/// The API user (`GET /api/users/me`). Its `timezone` is how Kimai reads `begin`/`end` of a POST.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CurrentUser {
    pub id: KimaiUserId,
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    pub timezone: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tag {
    pub id: u64,
    pub name: String,
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    pub color: Option<String>,
}

/// Body of `POST /api/tags`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewTag {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    pub visible: bool,
}

impl NewTag {
    pub fn named(name: impl Into<String>) -> Self {
        NewTag {
            name: name.into(),
            color: None,
            visible: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub version: String,
    /// `2.65.0` → 26500, like `PHP_VERSION_ID`.
    pub version_id: u32,
    pub copyright: String,
}

impl Version {
    /// `email` in user JSON and `break` in timesheets appear from 2.45.0.
    pub fn has_user_email(&self) -> bool {
        self.version_id >= 24500
    }
}

fn yes() -> bool {
    true
}

/// Tag names go over the wire as one comma-separated string (the form's documented type).
fn tags_as_csv<S: Serializer>(tags: &Option<Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
    match tags {
        Some(t) => s.serialize_str(&t.join(",")),
        None => s.serialize_none(),
    }
}

/// Body of `POST /api/timesheets`. Only set fields are sent: Kimai answers 400 "extra fields" for
/// any field the API user may not set, so `user` and `billable` stay out unless asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewTimesheet {
    /// Wall-clock time in the **API user's** time zone.
    pub begin: KimaiLocalDateTime,
    /// Always sent: a timesheet without `end` would be a running one.
    pub end: KimaiLocalDateTime,
    pub project: ProjectId,
    pub activity: ActivityId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Names; Kimai ≥ 2.14 silently drops unknown ones, so create them first.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "tags_as_csv"
    )]
    pub tags: Option<Vec<String>>,
    /// Needs `create_other_timesheet`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<KimaiUserId>,
    /// Needs `edit_billable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
}

/// Body of `PATCH /api/timesheets/{id}`: a partial update, unset fields keep their value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TimesheetPatch {
    /// Wall-clock time in the **owner's** time zone (the timesheet's zone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub begin: Option<KimaiLocalDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<KimaiLocalDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Some(vec![])` clears the tags.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "tags_as_csv"
    )]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<KimaiUserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
}

/// Whose timesheets to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserFilter {
    /// Everyone the API user may see (`user=all`).
    #[default]
    All,
    One(KimaiUserId),
}

/// Filters of `GET /api/timesheets`. The client always pages with `size=500` (Kimai's maximum)
/// and a stable order (`orderBy=id`, `order=ASC`) so records do not move between pages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimesheetQuery {
    pub user: UserFilter,
    /// `begin >= value`, read in the API user's zone.
    pub begin: Option<KimaiLocalDateTime>,
    /// `begin <= value` (Kimai filters on the start), read in the API user's zone.
    pub end: Option<KimaiLocalDateTime>,
    pub customer: Option<CustomerId>,
    pub project: Option<ProjectId>,
    pub activity: Option<ActivityId>,
    /// Records changed at or after this instant; sent in UTC as Kimai requires.
    pub modified_after: Option<DateTime<Utc>>,
    /// Free-text search over the description (finds our marker).
    pub term: Option<String>,
}

impl TimesheetQuery {
    /// The query string pairs for one page (public so conformance tests can check them).
    pub fn to_pairs(&self, page: u32, size: u32) -> Vec<(&'static str, String)> {
        let mut q = vec![(
            "user",
            match self.user {
                UserFilter::All => "all".to_owned(),
                UserFilter::One(id) => id.to_string(),
            },
        )];
        if let Some(b) = self.begin {
            q.push(("begin", b.to_string()));
        }
        if let Some(e) = self.end {
            q.push(("end", e.to_string()));
        }
        if let Some(c) = self.customer {
            q.push(("customer", c.to_string()));
        }
        if let Some(p) = self.project {
            q.push(("project", p.to_string()));
        }
        if let Some(a) = self.activity {
            q.push(("activity", a.to_string()));
        }
        if let Some(m) = self.modified_after {
            q.push(("modified_after", m.format("%Y-%m-%dT%H:%M:%S").to_string()));
        }
        if let Some(t) = &self.term {
            q.push(("term", t.clone()));
        }
        q.push(("orderBy", "id".to_owned()));
        q.push(("order", "ASC".to_owned()));
        q.push(("page", page.to_string()));
        q.push(("size", size.to_string()));
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn local(s: &str) -> KimaiLocalDateTime {
        KimaiLocalDateTime::parse(s).unwrap()
    }

    #[test]
    fn new_timesheet_sends_only_what_is_set_and_tags_as_csv() {
        let mut t = NewTimesheet {
            begin: local("2026-03-29T01:30:00"),
            end: local("2026-03-29T03:30:00"),
            project: ProjectId(2),
            activity: ActivityId(3),
            description: None,
            tags: None,
            user: None,
            billable: None,
        };
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"begin":"2026-03-29T01:30:00","end":"2026-03-29T03:30:00","project":2,"activity":3})
        );
        t.tags = Some(vec!["zammad".into(), "billable-support".into()]);
        t.user = Some(KimaiUserId(5));
        t.billable = Some(false);
        t.description = Some("[zammad:ta=7]".into());
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["tags"], "zammad,billable-support");
        assert_eq!(json["user"], 5);
        assert_eq!(json["billable"], false);
    }

    #[test]
    fn patch_can_clear_tags_and_is_empty_by_default() {
        assert_eq!(
            serde_json::to_value(TimesheetPatch::default()).unwrap(),
            serde_json::json!({})
        );
        let p = TimesheetPatch {
            tags: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(p).unwrap(),
            serde_json::json!({"tags": ""})
        );
    }

    #[test]
    fn query_formats_modified_after_in_utc_without_offset() {
        let q = TimesheetQuery {
            modified_after: Some(Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 58).unwrap()),
            term: Some("[zammad:ta=1]".into()),
            ..Default::default()
        };
        let pairs = q.to_pairs(2, 500);
        assert!(pairs.contains(&("modified_after", "2026-03-29T00:59:58".into())));
        assert!(pairs.contains(&("user", "all".into())));
        assert!(pairs.contains(&("page", "2".into())));
        assert!(pairs.contains(&("size", "500".into())));
    }

    #[test]
    fn user_email_is_known_from_2_45() {
        let v: Version = serde_json::from_str(
            r#"{"version":"2.30.0","versionId":23000,"copyright":"Kimai 2.30.0"}"#,
        )
        .unwrap();
        assert!(!v.has_user_email());
    }
}
