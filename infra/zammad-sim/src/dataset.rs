//! The seed of a simulator: who exists, which tickets, which time was booked, which tokens work.
//!
//! A JSON file in this shape starts the binary (`--dataset FILE`); tests build it in code.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use thiserror::Error;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    #[serde(default)]
    pub organisations: Vec<OrganisationRecord>,
    #[serde(default)]
    pub groups: Vec<GroupRecord>,
    #[serde(default)]
    pub users: Vec<UserRecord>,
    #[serde(default)]
    pub tickets: Vec<TicketRecord>,
    #[serde(default)]
    pub accounting_types: Vec<AccountingTypeRecord>,
    #[serde(default)]
    pub accountings: Vec<AccountingRecord>,
    #[serde(default)]
    pub tokens: Vec<TokenRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationRecord {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default = "seed_time")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRecord {
    pub id: u64,
    pub name: String,
    #[serde(default = "seed_time")]
    pub created_at: DateTime<Utc>,
}

/// What a user may do. Zammad's permissions are finer; these three cover what the sync meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// `admin.*` plus agent access to every group.
    Admin,
    /// `ticket.agent` on the user's `group_ids`.
    Agent,
    /// May only see itself.
    Customer,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub id: u64,
    pub login: String,
    #[serde(default)]
    pub firstname: String,
    #[serde(default)]
    pub lastname: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub organization_id: Option<u64>,
    pub role: Role,
    /// Groups an agent works in (ticket access).
    #[serde(default)]
    pub group_ids: Vec<u64>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default = "seed_time")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRecord {
    pub id: u64,
    pub number: String,
    pub title: String,
    pub group_id: u64,
    pub customer_id: u64,
    /// Defaults to the customer's organisation.
    #[serde(default)]
    pub organization_id: Option<u64>,
    /// Defaults to nobody (Zammad's system user id 1).
    #[serde(default)]
    pub owner_id: Option<u64>,
    /// `new`, `open`, `pending reminder`, `closed`, …
    #[serde(default = "open_state")]
    pub state: String,
    pub created_at: DateTime<Utc>,
    /// Defaults to the latest of `created_at` and the ticket's seeded accountings.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountingTypeRecord {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default = "seed_time")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountingRecord {
    pub id: u64,
    pub ticket_id: u64,
    #[serde(default)]
    pub ticket_article_id: Option<u64>,
    /// Unitless decimal with at most two places, as Zammad stores it (`"15.0"`, `"-0.5"`).
    pub time_unit: Decimal,
    #[serde(default)]
    pub type_id: Option<u64>,
    pub created_by_id: u64,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    pub token: String,
    pub user_id: u64,
}

fn seed_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-01-02T08:00:00.000Z")
        .expect("constant timestamp")
        .with_timezone(&Utc)
}

fn yes() -> bool {
    true
}

fn open_state() -> String {
    "open".to_owned()
}

/// A dataset that cannot be served as given.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DatasetError {
    #[error("cannot read the dataset: {0}")]
    Read(String),
    #[error("the dataset is not valid JSON of the expected shape: {0}")]
    Json(String),
    #[error("{kind} id {id} appears twice")]
    DuplicateId { kind: &'static str, id: u64 },
    #[error("{kind} {id} refers to {target} {target_id}, which does not exist")]
    DanglingReference {
        kind: &'static str,
        id: u64,
        target: &'static str,
        target_id: u64,
    },
    #[error("accounting {id}: time_unit {value} does not fit Zammad's decimal(6,2)")]
    TimeUnitOutOfRange { id: u64, value: Decimal },
    #[error("token for user {user_id} is empty or used twice")]
    BadToken { user_id: u64 },
}

/// The demo data shipped with the simulator (`demo/dataset.json`).
const DEMO: &str = include_str!("../demo/dataset.json");

impl Dataset {
    /// A small, realistic service desk: 3 organisations, 3 groups, an admin, 3 agents,
    /// 4 customers, 7 tickets, 4 accounting types, 15 accountings (one negative correction),
    /// and the tokens `demo-admin-token`, `demo-agent-token` (Bernd Koch, groups 2 and 3) and
    /// `demo-customer-token`.
    pub fn demo() -> Dataset {
        Dataset::from_json(DEMO).expect("the bundled demo dataset is valid")
    }

    pub fn from_json(text: &str) -> Result<Dataset, DatasetError> {
        let dataset: Dataset =
            serde_json::from_str(text).map_err(|e| DatasetError::Json(e.to_string()))?;
        dataset.validate()?;
        Ok(dataset)
    }

    pub fn from_file(path: &std::path::Path) -> Result<Dataset, DatasetError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DatasetError::Read(format!("{}: {e}", path.display())))?;
        Dataset::from_json(&text)
    }

    /// The same world moved by whole weeks so that its latest booking lies in the week before
    /// `now` (at or before it): weekdays and local times stay, and a demo started today shows
    /// recent time. A world with no bookings, or already that recent, is left as it is.
    pub fn dated_recently(mut self, now: DateTime<Utc>) -> Dataset {
        let Some(latest) = self.accountings.iter().map(|a| a.created_at).max() else {
            return self;
        };
        let weeks = (now - latest).num_weeks();
        if weeks <= 0 {
            return self;
        }
        let by = chrono::Duration::weeks(weeks);
        for o in &mut self.organisations {
            o.created_at += by;
        }
        for g in &mut self.groups {
            g.created_at += by;
        }
        for u in &mut self.users {
            u.created_at += by;
        }
        for t in &mut self.tickets {
            t.created_at += by;
            t.updated_at = t.updated_at.map(|at| at + by);
        }
        for t in &mut self.accounting_types {
            t.created_at += by;
        }
        for a in &mut self.accountings {
            a.created_at += by;
            a.updated_at = a.updated_at.map(|at| at + by);
        }
        self
    }

    /// Ids unique per kind, every reference resolvable, amounts within `decimal(6,2)`.
    pub fn validate(&self) -> Result<(), DatasetError> {
        let orgs = unique("organisation", self.organisations.iter().map(|o| o.id))?;
        let groups = unique("group", self.groups.iter().map(|g| g.id))?;
        let users = unique("user", self.users.iter().map(|u| u.id))?;
        let tickets = unique("ticket", self.tickets.iter().map(|t| t.id))?;
        let types = unique(
            "accounting type",
            self.accounting_types.iter().map(|t| t.id),
        )?;
        unique("accounting", self.accountings.iter().map(|a| a.id))?;

        for u in &self.users {
            check("user", u.id, "organisation", u.organization_id, &orgs)?;
            for g in &u.group_ids {
                check("user", u.id, "group", Some(*g), &groups)?;
            }
        }
        for t in &self.tickets {
            check("ticket", t.id, "group", Some(t.group_id), &groups)?;
            check("ticket", t.id, "user", Some(t.customer_id), &users)?;
            check("ticket", t.id, "user", t.owner_id, &users)?;
            check("ticket", t.id, "organisation", t.organization_id, &orgs)?;
        }
        for a in &self.accountings {
            check("accounting", a.id, "ticket", Some(a.ticket_id), &tickets)?;
            check("accounting", a.id, "user", Some(a.created_by_id), &users)?;
            check("accounting", a.id, "accounting type", a.type_id, &types)?;
            if !time_unit_fits(a.time_unit) {
                return Err(DatasetError::TimeUnitOutOfRange {
                    id: a.id,
                    value: a.time_unit,
                });
            }
        }
        let mut tokens = HashSet::new();
        for t in &self.tokens {
            check("token", t.user_id, "user", Some(t.user_id), &users)?;
            if t.token.is_empty() || !tokens.insert(t.token.as_str()) {
                return Err(DatasetError::BadToken { user_id: t.user_id });
            }
        }
        Ok(())
    }
}

/// Zammad's column is `decimal(6,2)`: at most 9999.99 either way, two places.
pub fn time_unit_fits(value: Decimal) -> bool {
    value.abs() <= Decimal::new(999_999, 2) && value.normalize().scale() <= 2
}

fn unique(
    kind: &'static str,
    ids: impl Iterator<Item = u64>,
) -> Result<HashSet<u64>, DatasetError> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(DatasetError::DuplicateId { kind, id });
        }
    }
    Ok(seen)
}

fn check(
    kind: &'static str,
    id: u64,
    target: &'static str,
    target_id: Option<u64>,
    known: &HashSet<u64>,
) -> Result<(), DatasetError> {
    match target_id {
        Some(t) if !known.contains(&t) => Err(DatasetError::DanglingReference {
            kind,
            id,
            target,
            target_id: t,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn minimal() -> &'static str {
        r#"{
          "groups": [{"id": 1, "name": "Users"}],
          "users": [{"id": 3, "login": "anna@example.com", "role": "agent", "group_ids": [1]}],
          "tickets": [{"id": 10, "number": "31010", "title": "VPN", "group_id": 1, "customer_id": 3,
                       "created_at": "2024-03-01T09:00:00Z"}],
          "accountings": [{"id": 1, "ticket_id": 10, "time_unit": "15.0", "created_by_id": 3,
                           "created_at": "2024-03-01T10:00:00.123Z"}],
          "tokens": [{"token": "agent-token", "user_id": 3}]
        }"#
    }

    #[test]
    fn dated_recently_moves_by_whole_weeks_to_just_before_now() {
        let demo = Dataset::demo();
        let latest = demo.accountings.iter().map(|a| a.created_at).max().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-12-06T03:00:00Z")
            .unwrap()
            .to_utc();
        let moved = demo.clone().dated_recently(now);
        let new_latest = moved
            .accountings
            .iter()
            .map(|a| a.created_at)
            .max()
            .unwrap();
        assert!(new_latest <= now && now - new_latest < chrono::Duration::weeks(1));
        let by = new_latest - latest;
        assert_eq!(by.num_seconds() % (7 * 24 * 3600), 0, "whole weeks: {by}");
        for (a, b) in demo.accountings.iter().zip(&moved.accountings) {
            assert_eq!(b.created_at - a.created_at, by);
            assert_eq!(b.created_at.weekday(), a.created_at.weekday());
        }
        assert_eq!(moved.tickets[0].created_at - demo.tickets[0].created_at, by);
        moved.validate().unwrap();
        // Already recent, or in the future: left alone.
        assert_eq!(moved.clone().dated_recently(now), moved);
        assert_eq!(demo.clone().dated_recently(latest), demo);
    }

    #[test]
    fn the_demo_dataset_is_valid() {
        let d = Dataset::demo();
        assert_eq!(d.accountings.len(), 15);
        assert!(d.tokens.iter().any(|t| t.token == "demo-admin-token"));
    }

    #[test]
    fn a_consistent_dataset_loads() {
        let d = Dataset::from_json(minimal()).unwrap();
        assert_eq!(d.accountings[0].time_unit, Decimal::new(150, 1));
        assert_eq!(d.tickets[0].state, "open");
    }

    #[test]
    fn a_dangling_reference_is_named() {
        let text = minimal().replace(r#""ticket_id": 10"#, r#""ticket_id": 11"#);
        assert_eq!(
            Dataset::from_json(&text).unwrap_err(),
            DatasetError::DanglingReference {
                kind: "accounting",
                id: 1,
                target: "ticket",
                target_id: 11
            }
        );
    }

    #[test]
    fn duplicate_ids_and_oversized_amounts_are_rejected() {
        let text = minimal()
            .replace(r#""id": 10"#, r#""id": 3"#)
            .replace(r#""ticket_id": 10"#, r#""ticket_id": 3"#);
        let mut d = Dataset::from_json(&text).unwrap();
        d.users.push(d.users[0].clone());
        assert_eq!(
            d.validate().unwrap_err(),
            DatasetError::DuplicateId {
                kind: "user",
                id: 3
            }
        );
        let text = minimal().replace(r#""15.0""#, r#""10000.0""#);
        assert!(matches!(
            Dataset::from_json(&text).unwrap_err(),
            DatasetError::TimeUnitOutOfRange { id: 1, .. }
        ));
        let text = minimal().replace(r#""15.0""#, r#""1.234""#);
        assert!(Dataset::from_json(&text).is_err());
    }

    #[test]
    fn unknown_fields_are_an_error_not_silently_dropped() {
        let text = minimal().replace(r#""title": "VPN""#, r#""title": "VPN", "tittle": "x""#);
        assert!(matches!(
            Dataset::from_json(&text).unwrap_err(),
            DatasetError::Json(_)
        ));
    }
}
