//! The seed of a simulator: users and their tokens, customers, projects, activities, tags,
//! timesheets and the instance settings. Read from a JSON file (see `docs/kimai.md`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DatasetError {
    #[error("cannot read dataset {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("dataset is not valid JSON for the simulator: {0}")]
    Json(#[from] serde_json::Error),
    #[error("dataset is inconsistent: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// The Kimai version to behave like. From 2.45.0 users carry `email`/`timezone` in lists
    /// and timesheets carry `break`.
    #[serde(default = "default_version")]
    pub version: String,
    pub users: Vec<UserRecord>,
    pub tokens: Vec<TokenRecord>,
    #[serde(default)]
    pub customers: Vec<CustomerRecord>,
    #[serde(default)]
    pub projects: Vec<ProjectRecord>,
    #[serde(default)]
    pub activities: Vec<ActivityRecord>,
    #[serde(default)]
    pub tags: Vec<TagRecord>,
    #[serde(default)]
    pub timesheets: Vec<TimesheetRecord>,
    #[serde(default)]
    pub settings: Settings,
}

fn default_version() -> String {
    "2.65.0".to_owned()
}
fn yes() -> bool {
    true
}
fn user_role() -> Vec<String> {
    vec!["ROLE_USER".to_owned()]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub id: u64,
    pub username: String,
    #[serde(default)]
    pub alias: Option<String>,
    pub email: String,
    /// IANA zone; Kimai reads and writes this user's wall-clock times in it.
    pub timezone: String,
    /// Kimai roles; they grant default permissions (see `permissions.rs`).
    #[serde(default = "user_role")]
    pub roles: Vec<String>,
    /// When set, exactly these permissions instead of the role defaults.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    pub token: String,
    pub user: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRecord {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectRecord {
    pub id: u64,
    pub customer: u64,
    pub name: String,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default = "yes")]
    pub global_activities: bool,
    /// Kimai ≥ 2.66 `lockedUntil`: timesheets of the project on or before this day cannot be
    /// created, changed or deleted, admins included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityRecord {
    pub id: u64,
    pub name: String,
    /// `None` = global activity.
    #[serde(default)]
    pub project: Option<u64>,
    #[serde(default = "yes")]
    pub visible: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRecord {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default = "yes")]
    pub visible: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimesheetRecord {
    pub id: u64,
    pub user: u64,
    pub project: u64,
    pub activity: u64,
    /// With offset, as Kimai prints it (`2026-03-02T09:00:00+0100`) or RFC 3339.
    pub begin: String,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default, rename = "break")]
    pub break_secs: i64,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub exported: bool,
    #[serde(default = "yes")]
    pub billable: bool,
    /// Defaults to the end (or begin).
    #[serde(default)]
    pub modified_at: Option<DateTime<Utc>>,
}

/// Instance-wide behaviour, changeable at run time through the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Round begin down and end up to this many minutes on every save (Kimai's default
    /// rounding mode). `None` or 0: no rounding.
    pub rounding_minutes: Option<u32>,
    /// Reject a timesheet that overlaps another one of the same user.
    pub reject_overlaps: bool,
    /// Longest allowed duration; longer ones are refused with the service-level validation
    /// error shape (`"code":"400"`).
    pub max_duration_minutes: Option<u32>,
    /// Whether the system lets timesheets carry a break (`break` is then a form field).
    pub break_enabled: bool,
}

impl Dataset {
    pub fn from_file(path: &Path) -> Result<Dataset, DatasetError> {
        let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Dataset::from_json(&text)
    }

    pub fn from_json(text: &str) -> Result<Dataset, DatasetError> {
        let d: Dataset = serde_json::from_str(text)?;
        d.check()?;
        Ok(d)
    }

    /// `2.65.0` → 26500, like Kimai's `versionId`.
    pub fn version_id(&self) -> u32 {
        let mut parts = self
            .version
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let major = parts.next().unwrap_or(0);
        let minor = parts.next().unwrap_or(0);
        let patch = parts.next().unwrap_or(0);
        major * 10000 + minor * 100 + patch
    }

    /// Cross-references and zones must hold; the simulator never panics on its seed later.
    pub fn check(&self) -> Result<(), DatasetError> {
        let bad = |m: String| Err(DatasetError::Invalid(m));
        let mut user_ids = BTreeSet::new();
        for u in &self.users {
            if !user_ids.insert(u.id) {
                return bad(format!("duplicate user id {}", u.id));
            }
            if u.timezone.parse::<Tz>().is_err() {
                return bad(format!("user {}: unknown time zone {:?}", u.id, u.timezone));
            }
        }
        for t in &self.tokens {
            if !user_ids.contains(&t.user) {
                return bad(format!("a token names unknown user {}", t.user));
            }
        }
        let customers: BTreeSet<u64> = self.customers.iter().map(|c| c.id).collect();
        for p in &self.projects {
            if !customers.contains(&p.customer) {
                return bad(format!(
                    "project {} names unknown customer {}",
                    p.id, p.customer
                ));
            }
        }
        let projects: BTreeSet<u64> = self.projects.iter().map(|p| p.id).collect();
        for a in &self.activities {
            if let Some(p) = a.project.filter(|p| !projects.contains(p)) {
                return bad(format!("activity {} names unknown project {p}", a.id));
            }
        }
        let activities: BTreeSet<u64> = self.activities.iter().map(|a| a.id).collect();
        let mut ids = BTreeSet::new();
        for t in &self.timesheets {
            if !ids.insert(t.id) {
                return bad(format!("duplicate timesheet id {}", t.id));
            }
            if !user_ids.contains(&t.user)
                || !projects.contains(&t.project)
                || !activities.contains(&t.activity)
            {
                return bad(format!(
                    "timesheet {} names an unknown user, project or activity",
                    t.id
                ));
            }
            for (field, value) in [("begin", Some(&t.begin)), ("end", t.end.as_ref())] {
                if let Some(v) = value
                    && sync_core::kimai::parse_kimai_datetime(field, v).is_err()
                {
                    return bad(format!("timesheet {}: {field} {v:?} has no offset", t.id));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"users":[{"id":1,"username":"admin","email":"a@example.org",
        "timezone":"Europe/Berlin","roles":["ROLE_SUPER_ADMIN"]}],
        "tokens":[{"token":"t","user":1}]}"#;

    #[test]
    fn minimal_dataset_gets_defaults() {
        let d = Dataset::from_json(MINIMAL).unwrap();
        assert_eq!(d.version_id(), 26500);
        assert!(d.timesheets.is_empty());
        assert_eq!(d.settings, Settings::default());
    }

    #[test]
    fn bad_zone_and_dangling_references_are_refused() {
        let e = Dataset::from_json(&MINIMAL.replace("Europe/Berlin", "Mars/Olympus")).unwrap_err();
        assert!(e.to_string().contains("Mars/Olympus"), "{e}");
        let e = Dataset::from_json(&MINIMAL.replace(r#""user":1}"#, r#""user":9}"#)).unwrap_err();
        assert!(e.to_string().contains("unknown user 9"), "{e}");
        let e = Dataset::from_json(&MINIMAL.replace("\"users\"", "\"userz\"")).unwrap_err();
        assert!(matches!(e, DatasetError::Json(_)));
    }
}

#[cfg(test)]
mod demo_tests {
    use super::*;

    #[test]
    fn shipped_demo_dataset_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo.json");
        let d = Dataset::from_file(&path).unwrap();
        assert_eq!(d.users.len(), 4);
        assert!(d.timesheets.iter().any(|t| t.exported));
        let missing = Dataset::from_file(Path::new("no/such/file.json")).unwrap_err();
        assert!(
            missing.to_string().contains("no/such/file.json"),
            "{missing}"
        );
    }
}
