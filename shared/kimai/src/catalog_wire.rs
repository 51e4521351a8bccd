//! The catalog records (customers, projects, activities, users) as Kimai sends them, and their
//! mapping to the core's catalog types ([`sync_core::catalog`]), which are the only catalog
//! types the rest of the sync sees. The wire structs stay private to this crate; unknown fields
//! are ignored so newer Kimai versions do not break us.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use sync_core::catalog::{KimaiActivity, KimaiCustomer, KimaiProject, KimaiUser};
use sync_core::ids::{ActivityId, CustomerId, KimaiUserId, ProjectId};

/// A catalog type parsed from Kimai's JSON (public so the conformance suite can feed recorded
/// documents through the same parsers the client uses).
pub trait FromWire: Sized {
    fn from_wire(json: serde_json::Value) -> serde_json::Result<Self>;
}

/// Parses the wire shape `W` and maps it to the core type.
fn parse<W: DeserializeOwned + Into<T>, T>(json: serde_json::Value) -> serde_json::Result<T> {
    serde_json::from_value::<W>(json).map(Into::into)
}

/// A list response, mapped record by record.
pub(crate) fn list_of<W: Into<T>, T>(wire: Vec<W>) -> Vec<T> {
    wire.into_iter().map(Into::into).collect()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub(crate) struct CustomerWire {
    id: CustomerId,
    name: String,
    #[serde(default)]
    number: Option<String>,
    #[serde(default = "yes")]
    visible: bool,
}

impl From<CustomerWire> for KimaiCustomer {
    fn from(w: CustomerWire) -> Self {
        KimaiCustomer {
            id: w.id,
            name: w.name,
            number: w.number,
            visible: w.visible,
        }
    }
}

impl FromWire for KimaiCustomer {
    fn from_wire(json: serde_json::Value) -> serde_json::Result<Self> {
        parse::<CustomerWire, _>(json)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProjectWire {
    id: ProjectId,
    name: String,
    customer: CustomerId,
    #[serde(default)]
    number: Option<String>,
    #[serde(default = "yes")]
    visible: bool,
    #[serde(default = "yes")]
    global_activities: bool,
    /// Kimai ≥ 2.66: `"YYYY-MM-DD"` or `null`; absent before.
    #[serde(default)]
    locked_until: Option<chrono::NaiveDate>,
}

impl From<ProjectWire> for KimaiProject {
    fn from(w: ProjectWire) -> Self {
        KimaiProject {
            id: w.id,
            name: w.name,
            customer: w.customer,
            number: w.number,
            visible: w.visible,
            global_activities: w.global_activities,
            locked_until: w.locked_until,
        }
    }
}

impl FromWire for KimaiProject {
    fn from_wire(json: serde_json::Value) -> serde_json::Result<Self> {
        parse::<ProjectWire, _>(json)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActivityWire {
    id: ActivityId,
    name: String,
    /// `None` = a global activity, usable with every project that allows global activities.
    #[serde(default)]
    project: Option<ProjectId>,
    #[serde(default = "yes")]
    visible: bool,
}

impl From<ActivityWire> for KimaiActivity {
    fn from(w: ActivityWire) -> Self {
        KimaiActivity {
            id: w.id,
            name: w.name,
            project: w.project,
            visible: w.visible,
        }
    }
}

impl FromWire for KimaiActivity {
    fn from_wire(json: serde_json::Value) -> serde_json::Result<Self> {
        parse::<ActivityWire, _>(json)
    }
}

/// A user as listed by `GET /api/users`.
#[derive(Debug, Deserialize)]
pub(crate) struct UserWire {
    id: KimaiUserId,
    username: String,
    #[serde(default)]
    alias: Option<String>,
    /// Only in Kimai ≥ 2.45; older versions need `term` search or a configured mapping.
    #[serde(default)]
    email: Option<String>,
    /// Only in collections from Kimai 2.45.
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

impl From<UserWire> for KimaiUser {
    fn from(w: UserWire) -> Self {
        KimaiUser {
            id: w.id,
            username: w.username,
            alias: w.alias,
            email: w.email,
            timezone: w.timezone,
            enabled: w.enabled,
        }
    }
}

impl FromWire for KimaiUser {
    fn from_wire(json: serde_json::Value) -> serde_json::Result<Self> {
        parse::<UserWire, _>(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_email_and_timezone_are_optional_before_2_45() {
        let old =
            KimaiUser::from_wire(json!({"id":3,"username":"anna","alias":null,"enabled":true}))
                .unwrap();
        assert_eq!(old.email, None);
    }

    #[test]
    fn missing_flags_default_to_visible_and_enabled() {
        let p = KimaiProject::from_wire(json!({"id":2,"name":"Migration","customer":1})).unwrap();
        assert!(p.visible && p.global_activities);
        let p = KimaiProject::from_wire(
            json!({"id":2,"name":"Migration","customer":1,"globalActivities":false}),
        )
        .unwrap();
        assert!(!p.global_activities);
        let u = KimaiUser::from_wire(json!({"id":3,"username":"anna"})).unwrap();
        assert!(u.enabled);
    }
}
