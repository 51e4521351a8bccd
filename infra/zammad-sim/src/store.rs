//! The simulator's data and the rules Zammad applies when time is booked.
//!
//! The one rule that matters for the sync: after every save or destroy of an accounting, the
//! ticket's `time_unit` sum is recomputed and the ticket is saved (new `updated_at`, triggers
//! run) **only if the sum changed**. A type-only edit leaves the ticket untouched.

use crate::dataset::{
    AccountingRecord, AccountingTypeRecord, Dataset, GroupRecord, OrganisationRecord, Role,
    TicketRecord, UserRecord, time_unit_fits,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use thiserror::Error;

/// Zammad's system user (`-`), owner of unassigned tickets.
pub const SYSTEM_USER_ID: u64 = 1;

#[derive(Debug, Clone)]
pub struct Ticket {
    pub record: TicketRecord,
    pub organization_id: Option<u64>,
    pub owner_id: u64,
    pub updated_at: DateTime<Utc>,
    pub updated_by_id: u64,
    /// `None` until the first accounting, then the sum (stays `0.0` after all are deleted).
    pub time_unit: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct Accounting {
    pub id: u64,
    pub ticket_id: u64,
    pub ticket_article_id: Option<u64>,
    pub time_unit: Decimal,
    pub type_id: Option<u64>,
    pub created_by_id: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An internal note an agent wrote while booking time (Zammad asks for time on article submit).
#[derive(Debug, Clone)]
pub struct Article {
    pub id: u64,
    pub ticket_id: u64,
    pub body: String,
    pub created_by_id: u64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct Store {
    pub organisations: BTreeMap<u64, OrganisationRecord>,
    pub groups: BTreeMap<u64, GroupRecord>,
    pub users: BTreeMap<u64, UserRecord>,
    pub tickets: BTreeMap<u64, Ticket>,
    pub types: BTreeMap<u64, AccountingTypeRecord>,
    pub accountings: BTreeMap<u64, Accounting>,
    pub articles: BTreeMap<u64, Article>,
    pub tokens: HashMap<String, u64>,
    next_accounting_id: u64,
    next_article_id: u64,
}

/// Add time to a ticket as an agent would in the UI.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccounting {
    pub ticket_id: u64,
    /// The agent booking the time (`created_by_id`).
    pub created_by_id: u64,
    pub time_unit: Decimal,
    #[serde(default)]
    pub type_id: Option<u64>,
    /// Write an internal note with the booking, as the UI does (default). `false` books time
    /// without an article, like `POST /time_accountings`.
    #[serde(default = "yes")]
    pub with_article: bool,
    #[serde(default)]
    pub article_body: Option<String>,
    /// Backdate the booking (tests of time placement); default now.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// Open a ticket, as a customer or an agent would (tests that need tickets of their own).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub title: String,
    pub group_id: u64,
    /// A user with the customer role.
    pub customer_id: u64,
    /// Defaults to the customer's organisation.
    #[serde(default)]
    pub organization_id: Option<u64>,
    /// Defaults to nobody (the system user).
    #[serde(default)]
    pub owner_id: Option<u64>,
    #[serde(default)]
    pub state: Option<String>,
}

/// Add an agent (tests that need a person no other test books as, e.g. to purge them).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// An id of the caller's choosing, for a test that needs one no other test touched (a
    /// GDPR purge remembers the ids it forgot); else the next after the highest.
    #[serde(default)]
    pub id: Option<u64>,
    pub login: String,
    #[serde(default)]
    pub firstname: String,
    #[serde(default)]
    pub lastname: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub group_ids: Vec<u64>,
}

/// Change an accounting. `type_id: null` clears the type; a missing key leaves it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountingChange {
    #[serde(default)]
    pub time_unit: Option<Decimal>,
    #[serde(default, with = "double_option")]
    pub type_id: Option<Option<u64>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
        Option::<u64>::deserialize(d).map(Some)
    }
}

fn yes() -> bool {
    true
}

/// A change that moved a ticket's sum: what a "ticket updated" trigger would see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumChanged {
    pub ticket_id: u64,
    /// The article written with the booking, if any (`{}` in the webhook payload otherwise).
    pub article_id: Option<u64>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("Couldn't find {model} with 'id'={id}")]
    NotFound { model: &'static str, id: u64 },
    #[error("{0}")]
    Invalid(String),
}

impl Store {
    pub fn from_dataset(dataset: &Dataset) -> Store {
        let mut store = Store {
            organisations: dataset
                .organisations
                .iter()
                .map(|o| (o.id, o.clone()))
                .collect(),
            groups: dataset.groups.iter().map(|g| (g.id, g.clone())).collect(),
            users: dataset.users.iter().map(|u| (u.id, u.clone())).collect(),
            tickets: BTreeMap::new(),
            types: dataset
                .accounting_types
                .iter()
                .map(|t| (t.id, t.clone()))
                .collect(),
            accountings: BTreeMap::new(),
            articles: BTreeMap::new(),
            tokens: dataset
                .tokens
                .iter()
                .map(|t| (t.token.clone(), t.user_id))
                .collect(),
            next_accounting_id: 1,
            next_article_id: 1,
        };
        store.ensure_system_user();
        for a in &dataset.accountings {
            store.accountings.insert(a.id, accounting_from(a));
        }
        for t in &dataset.tickets {
            let organization_id = t.organization_id.or_else(|| {
                store
                    .users
                    .get(&t.customer_id)
                    .and_then(|c| c.organization_id)
            });
            let mine = store.accountings.values().filter(|a| a.ticket_id == t.id);
            let last_booking = mine.clone().map(|a| a.updated_at).max();
            let has_any = mine.clone().next().is_some();
            let sum: Decimal = mine.map(|a| a.time_unit).sum();
            let updated_at = t
                .updated_at
                .unwrap_or(t.created_at)
                .max(last_booking.unwrap_or(t.created_at));
            store.tickets.insert(
                t.id,
                Ticket {
                    record: t.clone(),
                    organization_id,
                    owner_id: t.owner_id.unwrap_or(SYSTEM_USER_ID),
                    updated_at,
                    updated_by_id: t.customer_id,
                    time_unit: has_any.then_some(sum),
                },
            );
        }
        store.next_accounting_id = store.accountings.keys().max().map_or(1, |m| m + 1);
        store
    }

    /// Zammad always has user 1 (`-`); tickets without owner point at it.
    fn ensure_system_user(&mut self) {
        self.users
            .entry(SYSTEM_USER_ID)
            .or_insert_with(|| UserRecord {
                id: SYSTEM_USER_ID,
                login: "-".to_owned(),
                firstname: "-".to_owned(),
                lastname: String::new(),
                email: String::new(),
                organization_id: None,
                role: Role::Customer,
                group_ids: Vec::new(),
                active: false,
                created_at: DateTime::UNIX_EPOCH,
            });
    }

    /// The current state as a dataset (what `GET /__admin/dataset` shows).
    pub fn to_dataset(&self) -> Dataset {
        Dataset {
            organisations: self.organisations.values().cloned().collect(),
            groups: self.groups.values().cloned().collect(),
            users: self.users.values().cloned().collect(),
            tickets: self
                .tickets
                .values()
                .map(|t| TicketRecord {
                    updated_at: Some(t.updated_at),
                    organization_id: t.organization_id,
                    owner_id: Some(t.owner_id),
                    ..t.record.clone()
                })
                .collect(),
            accounting_types: self.types.values().cloned().collect(),
            accountings: self
                .accountings
                .values()
                .map(|a| AccountingRecord {
                    id: a.id,
                    ticket_id: a.ticket_id,
                    ticket_article_id: a.ticket_article_id,
                    time_unit: a.time_unit,
                    type_id: a.type_id,
                    created_by_id: a.created_by_id,
                    created_at: a.created_at,
                    updated_at: Some(a.updated_at),
                })
                .collect(),
            tokens: self
                .tokens
                .iter()
                .map(|(token, user_id)| crate::dataset::TokenRecord {
                    token: token.clone(),
                    user_id: *user_id,
                })
                .collect(),
        }
    }

    pub fn ticket_accountings(&self, ticket_id: u64) -> impl Iterator<Item = &Accounting> {
        self.accountings
            .values()
            .filter(move |a| a.ticket_id == ticket_id)
    }

    pub fn ticket_articles(&self, ticket_id: u64) -> impl Iterator<Item = &Article> {
        self.articles
            .values()
            .filter(move |a| a.ticket_id == ticket_id)
    }

    /// `NotFound` for a group the dataset does not have.
    fn group_exists(&self, id: u64) -> Result<(), StoreError> {
        if self.groups.contains_key(&id) {
            Ok(())
        } else {
            Err(StoreError::NotFound { model: "Group", id })
        }
    }

    /// Adds an agent under the next free user id; the record as stored.
    pub fn add_agent(
        &mut self,
        new: NewAgent,
        now: DateTime<Utc>,
    ) -> Result<UserRecord, StoreError> {
        if new.login.trim().is_empty() {
            return Err(StoreError::Invalid("login is empty".to_owned()));
        }
        if self.users.values().any(|u| u.login == new.login) {
            return Err(StoreError::Invalid(format!("login {} is taken", new.login)));
        }
        for &group in &new.group_ids {
            self.group_exists(group)?;
        }
        let id = match new.id {
            Some(0) => return Err(StoreError::Invalid("id 0 is not an id".to_owned())),
            Some(id) if self.users.contains_key(&id) => {
                return Err(StoreError::Invalid(format!("user {id} exists")));
            }
            Some(id) => id,
            None => self.users.keys().max().map_or(1, |m| m + 1),
        };
        let user = UserRecord {
            id,
            login: new.login,
            firstname: new.firstname,
            lastname: new.lastname,
            email: new.email,
            organization_id: None,
            role: Role::Agent,
            group_ids: new.group_ids,
            active: true,
            created_at: now,
        };
        self.users.insert(id, user.clone());
        Ok(user)
    }

    /// Opens a ticket with the next free id (number `31000 + id`, like the demo's) and no time.
    pub fn add_ticket(&mut self, new: NewTicket, now: DateTime<Utc>) -> Result<Ticket, StoreError> {
        self.group_exists(new.group_id)?;
        let customer = self
            .users
            .get(&new.customer_id)
            .ok_or(StoreError::NotFound {
                model: "User",
                id: new.customer_id,
            })?;
        if customer.role != Role::Customer {
            return Err(StoreError::Invalid(format!(
                "user {} is not a customer",
                new.customer_id
            )));
        }
        let organization_id = new.organization_id.or(customer.organization_id);
        if let Some(org) = organization_id {
            if !self.organisations.contains_key(&org) {
                return Err(StoreError::NotFound {
                    model: "Organization",
                    id: org,
                });
            }
        }
        if let Some(owner) = new.owner_id {
            self.require_agent(owner)?;
        }
        if new.title.trim().is_empty() {
            return Err(StoreError::Invalid("title is empty".to_owned()));
        }
        let id = self.tickets.keys().max().map_or(1, |m| m + 1);
        let ticket = Ticket {
            record: TicketRecord {
                id,
                number: (31000 + id).to_string(),
                title: new.title,
                group_id: new.group_id,
                customer_id: new.customer_id,
                organization_id,
                owner_id: new.owner_id,
                state: new.state.unwrap_or_else(|| "new".to_owned()),
                created_at: now,
                updated_at: Some(now),
            },
            organization_id,
            owner_id: new.owner_id.unwrap_or(SYSTEM_USER_ID),
            updated_at: now,
            updated_by_id: new.customer_id,
            time_unit: None,
        };
        self.tickets.insert(id, ticket.clone());
        Ok(ticket)
    }

    pub fn add_accounting(
        &mut self,
        new: NewAccounting,
        now: DateTime<Utc>,
    ) -> Result<(Accounting, Option<SumChanged>), StoreError> {
        self.require_ticket(new.ticket_id)?;
        self.require_agent(new.created_by_id)?;
        self.check_type(new.type_id)?;
        check_amount(new.time_unit)?;
        let created_at = new.created_at.unwrap_or(now);
        let article_id = new.with_article.then(|| {
            let id = self.next_article_id;
            self.next_article_id += 1;
            self.articles.insert(
                id,
                Article {
                    id,
                    ticket_id: new.ticket_id,
                    body: new
                        .article_body
                        .clone()
                        .unwrap_or_else(|| "Time booked.".to_owned()),
                    created_by_id: new.created_by_id,
                    created_at,
                },
            );
            id
        });
        let accounting = Accounting {
            id: self.next_accounting_id,
            ticket_id: new.ticket_id,
            ticket_article_id: article_id,
            time_unit: new.time_unit,
            type_id: new.type_id,
            created_by_id: new.created_by_id,
            created_at,
            updated_at: now,
        };
        self.next_accounting_id += 1;
        self.accountings.insert(accounting.id, accounting.clone());
        let changed = self.recompute_sum(new.ticket_id, new.created_by_id, now);
        Ok((
            accounting,
            changed.then_some(SumChanged {
                ticket_id: new.ticket_id,
                article_id,
            }),
        ))
    }

    pub fn change_accounting(
        &mut self,
        id: u64,
        change: AccountingChange,
        now: DateTime<Utc>,
    ) -> Result<(Accounting, Option<SumChanged>), StoreError> {
        if let Some(t) = change.time_unit {
            check_amount(t)?;
        }
        if let Some(type_id) = change.type_id {
            self.check_type(type_id)?;
        }
        let accounting = self.accountings.get_mut(&id).ok_or(StoreError::NotFound {
            model: "Ticket::TimeAccounting",
            id,
        })?;
        if let Some(t) = change.time_unit {
            accounting.time_unit = t;
        }
        if let Some(type_id) = change.type_id {
            accounting.type_id = type_id;
        }
        accounting.updated_at = now;
        let accounting = accounting.clone();
        let changed = self.recompute_sum(accounting.ticket_id, accounting.created_by_id, now);
        let event = changed.then_some(SumChanged {
            ticket_id: accounting.ticket_id,
            article_id: None,
        });
        Ok((accounting, event))
    }

    pub fn delete_accounting(
        &mut self,
        id: u64,
        now: DateTime<Utc>,
    ) -> Result<(Accounting, Option<SumChanged>), StoreError> {
        let accounting = self.accountings.remove(&id).ok_or(StoreError::NotFound {
            model: "Ticket::TimeAccounting",
            id,
        })?;
        let changed = self.recompute_sum(accounting.ticket_id, accounting.created_by_id, now);
        let event = changed.then_some(SumChanged {
            ticket_id: accounting.ticket_id,
            article_id: None,
        });
        Ok((accounting, event))
    }

    /// Zammad's `after_save`/`after_destroy`: save the ticket only when its sum moved.
    fn recompute_sum(&mut self, ticket_id: u64, by: u64, now: DateTime<Utc>) -> bool {
        let sum: Decimal = self
            .ticket_accountings(ticket_id)
            .map(|a| a.time_unit)
            .sum();
        let ticket = self
            .tickets
            .get_mut(&ticket_id)
            .expect("ticket checked before");
        if ticket.time_unit == Some(sum) {
            return false;
        }
        ticket.time_unit = Some(sum);
        ticket.updated_at = now;
        ticket.updated_by_id = by;
        true
    }

    fn require_ticket(&self, id: u64) -> Result<(), StoreError> {
        if self.tickets.contains_key(&id) {
            Ok(())
        } else {
            Err(StoreError::NotFound {
                model: "Ticket",
                id,
            })
        }
    }

    fn require_agent(&self, id: u64) -> Result<(), StoreError> {
        match self.users.get(&id) {
            None => Err(StoreError::NotFound { model: "User", id }),
            Some(u) if u.role == Role::Customer => Err(StoreError::Invalid(format!(
                "user {id} is a customer and cannot book time"
            ))),
            Some(_) => Ok(()),
        }
    }

    fn check_type(&self, type_id: Option<u64>) -> Result<(), StoreError> {
        match type_id {
            Some(id) if !self.types.contains_key(&id) => Err(StoreError::NotFound {
                model: "Ticket::TimeAccounting::Type",
                id,
            }),
            _ => Ok(()),
        }
    }
}

fn check_amount(value: Decimal) -> Result<(), StoreError> {
    if time_unit_fits(value) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "time_unit {value} does not fit decimal(6,2)"
        )))
    }
}

fn accounting_from(a: &AccountingRecord) -> Accounting {
    Accounting {
        id: a.id,
        ticket_id: a.ticket_id,
        ticket_article_id: a.ticket_article_id,
        time_unit: a.time_unit,
        type_id: a.type_id,
        created_by_id: a.created_by_id,
        created_at: a.created_at,
        updated_at: a.updated_at.unwrap_or(a.created_at),
    }
}
