//! The Kimai catalog: the customers, projects, activities and users the sync sees (the one set of
//! types; the Kimai client parses its wire format into them at its edge), and the lookup tables
//! built from them, passed into mapping resolution as plain values so resolution stays pure.
//! Built once per run; every lookup is a hash map access.

use crate::ids::{ActivityId, CustomerId, KimaiUserId, ProjectId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KimaiCustomer {
    pub id: CustomerId,
    pub name: String,
    #[serde(default)]
    pub number: Option<String>,
    /// Hidden customers are still listed (mappings may point at them).
    #[serde(default = "yes")]
    pub visible: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KimaiProject {
    pub id: ProjectId,
    pub name: String,
    pub customer: CustomerId,
    /// Free text in Kimai; we use it as a stable key (`TID-<ticket id>`).
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default = "yes")]
    pub visible: bool,
    /// Whether global activities may be booked on it.
    #[serde(default = "yes")]
    pub global_activities: bool,
    /// Kimai ≥ 2.66: timesheets on or before this day are locked in the project.
    #[serde(default)]
    pub locked_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KimaiActivity {
    pub id: ActivityId,
    pub name: String,
    /// `None` for a global activity.
    #[serde(default)]
    pub project: Option<ProjectId>,
    #[serde(default = "yes")]
    pub visible: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KimaiUser {
    pub id: KimaiUserId,
    pub username: String,
    /// The display name, when set.
    #[serde(default)]
    pub alias: Option<String>,
    /// Only in Kimai ≥ 2.45 responses; older ones need an explicit mapping.
    #[serde(default)]
    pub email: Option<String>,
    /// IANA zone name of the user's preference, when known (Kimai ≥ 2.45 lists).
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// A name or number that matched more than one Kimai record: never guess between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<T> {
    None,
    One(T),
    Ambiguous,
}

impl<T: Copy> Lookup<T> {
    fn add(&mut self, v: T) {
        *self = match self {
            Lookup::None => Lookup::One(v),
            _ => Lookup::Ambiguous,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    customers_by_number: HashMap<String, Lookup<CustomerId>>,
    customers_by_name: HashMap<String, Lookup<CustomerId>>,
    projects_by_name: HashMap<(CustomerId, String), Lookup<ProjectId>>,
    projects_by_number: HashMap<(CustomerId, String), Lookup<ProjectId>>,
    users_by_email: HashMap<String, Lookup<KimaiUserId>>,
    users: HashMap<KimaiUserId, KimaiUser>,
    activities: HashMap<ActivityId, KimaiActivity>,
    locked_until: HashMap<ProjectId, NaiveDate>,
}

impl Catalog {
    pub fn new(
        customers: &[KimaiCustomer],
        projects: &[KimaiProject],
        activities: &[KimaiActivity],
        users: &[KimaiUser],
    ) -> Self {
        let mut c = Catalog::default();
        for x in customers {
            if let Some(n) = x.number.as_deref().filter(|n| !n.is_empty()) {
                c.customers_by_number
                    .entry(n.to_owned())
                    .or_insert(Lookup::None)
                    .add(x.id);
            }
            c.customers_by_name
                .entry(x.name.clone())
                .or_insert(Lookup::None)
                .add(x.id);
        }
        for p in projects {
            if let Some(day) = p.locked_until {
                c.locked_until.insert(p.id, day);
            }
            c.projects_by_name
                .entry((p.customer, p.name.clone()))
                .or_insert(Lookup::None)
                .add(p.id);
            if let Some(n) = p.number.as_deref().filter(|n| !n.is_empty()) {
                c.projects_by_number
                    .entry((p.customer, n.to_owned()))
                    .or_insert(Lookup::None)
                    .add(p.id);
            }
        }
        for u in users {
            if let Some(e) = u.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                c.users_by_email
                    .entry(e.to_lowercase())
                    .or_insert(Lookup::None)
                    .add(u.id);
            }
            c.users.insert(u.id, u.clone());
        }
        c.activities = activities.iter().map(|a| (a.id, a.clone())).collect();
        c
    }

    pub fn customer_by_number(&self, number: &str) -> Lookup<CustomerId> {
        self.customers_by_number
            .get(number)
            .copied()
            .unwrap_or(Lookup::None)
    }

    /// Exact, case-sensitive name.
    pub fn customer_by_name(&self, name: &str) -> Lookup<CustomerId> {
        self.customers_by_name
            .get(name)
            .copied()
            .unwrap_or(Lookup::None)
    }

    pub fn project_by_name(&self, customer: CustomerId, name: &str) -> Lookup<ProjectId> {
        self.projects_by_name
            .get(&(customer, name.to_owned()))
            .copied()
            .unwrap_or(Lookup::None)
    }

    pub fn project_by_number(&self, customer: CustomerId, number: &str) -> Lookup<ProjectId> {
        self.projects_by_number
            .get(&(customer, number.to_owned()))
            .copied()
            .unwrap_or(Lookup::None)
    }

    /// Case-insensitive e-mail.
    pub fn user_by_email(&self, email: &str) -> Lookup<KimaiUserId> {
        self.users_by_email
            .get(&email.trim().to_lowercase())
            .copied()
            .unwrap_or(Lookup::None)
    }

    pub fn user(&self, id: KimaiUserId) -> Option<&KimaiUser> {
        self.users.get(&id)
    }

    pub fn activity(&self, id: ActivityId) -> Option<&KimaiActivity> {
        self.activities.get(&id)
    }

    /// The projects with a lock, and its last locked day.
    pub fn project_locks(&self) -> &HashMap<ProjectId, NaiveDate> {
        &self.locked_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_find_one_none_or_ambiguous() {
        let cat = Catalog::new(
            &[
                KimaiCustomer {
                    id: CustomerId(1),
                    name: "ACME".into(),
                    number: Some("OID-5".into()),
                    visible: true,
                },
                KimaiCustomer {
                    id: CustomerId(2),
                    name: "Twin".into(),
                    number: None,
                    visible: true,
                },
                KimaiCustomer {
                    id: CustomerId(3),
                    name: "Twin".into(),
                    number: Some(String::new()),
                    visible: true,
                },
            ],
            &[KimaiProject {
                id: ProjectId(9),
                name: "Support".into(),
                customer: CustomerId(1),
                number: Some("TID-4".into()),
                visible: true,
                global_activities: true,
                locked_until: None,
            }],
            &[],
            &[KimaiUser {
                id: KimaiUserId(7),
                username: "anna".into(),
                alias: None,
                email: Some(" Anna@Example.com".into()),
                timezone: None,
                enabled: true,
            }],
        );
        assert_eq!(cat.customer_by_number("OID-5"), Lookup::One(CustomerId(1)));
        assert_eq!(cat.customer_by_number(""), Lookup::None);
        assert_eq!(cat.customer_by_name("Twin"), Lookup::Ambiguous);
        assert_eq!(
            cat.customer_by_name("acme"),
            Lookup::None,
            "names match exactly"
        );
        assert_eq!(
            cat.project_by_name(CustomerId(1), "Support"),
            Lookup::One(ProjectId(9))
        );
        assert_eq!(cat.project_by_name(CustomerId(2), "Support"), Lookup::None);
        assert_eq!(
            cat.project_by_number(CustomerId(1), "TID-4"),
            Lookup::One(ProjectId(9))
        );
        assert_eq!(
            cat.user_by_email("anna@EXAMPLE.com"),
            Lookup::One(KimaiUserId(7))
        );
        assert_eq!(cat.user(KimaiUserId(7)).unwrap().username, "anna");
    }
}
