//! Zammad domain types, parsed at the edge from the wire format (`docs/zammad.md`).
//!
//! Each type deserialises from the JSON Zammad sends (unknown keys ignored, key order irrelevant)
//! and rejects what we cannot trust with a [`ParseError`].

use crate::error::ParseError;
use crate::ids::{AccountingId, AccountingTypeId, GroupId, OrganisationId, TicketId, ZammadUserId};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// One time accounting: an agent booked `amount` units on a ticket at `created_at`.
///
/// `amount` has **no unit** on the wire (Zammad's unit setting is only a label); the connection's
/// configured unit turns it into a duration. It may be negative: a correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TimeAccountingWire")]
pub struct TimeAccounting {
    pub id: AccountingId,
    pub ticket_id: TicketId,
    pub article_id: Option<u64>,
    /// Unitless decimal exactly as Zammad stored it (`decimal(6,2)`).
    pub amount: Decimal,
    pub type_id: Option<AccountingTypeId>,
    /// The agent who booked the time (`created_by_id`).
    pub agent_id: ZammadUserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `time_unit` is a JSON string (Rails serialises BigDecimal so); accept a number too.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum DecimalOnWire {
    Text(String),
    Number(serde_json::Number),
}

impl DecimalOnWire {
    fn parse(self, field: &'static str) -> Result<Decimal, ParseError> {
        let text = match self {
            DecimalOnWire::Text(s) => s,
            DecimalOnWire::Number(n) => n.to_string(),
        };
        let trimmed = text.trim();
        Decimal::from_str(trimmed)
            .or_else(|_| Decimal::from_scientific(trimmed))
            .map_err(|_| ParseError::Decimal { field, value: text })
    }
}

#[derive(Deserialize)]
struct TimeAccountingWire {
    id: u64,
    ticket_id: u64,
    #[serde(default)]
    ticket_article_id: Option<u64>,
    time_unit: DecimalOnWire,
    #[serde(default)]
    type_id: Option<u64>,
    created_by_id: u64,
    created_at: String,
    updated_at: String,
}

impl TryFrom<TimeAccountingWire> for TimeAccounting {
    type Error = ParseError;

    fn try_from(w: TimeAccountingWire) -> Result<Self, Self::Error> {
        Ok(TimeAccounting {
            id: AccountingId(w.id),
            ticket_id: TicketId(w.ticket_id),
            article_id: w.ticket_article_id,
            amount: w.time_unit.parse("time_unit")?,
            type_id: w.type_id.map(AccountingTypeId),
            agent_id: ZammadUserId(w.created_by_id),
            created_at: parse_zammad_timestamp("created_at", &w.created_at)?,
            updated_at: parse_zammad_timestamp("updated_at", &w.updated_at)?,
        })
    }
}

/// Zammad timestamps are UTC ISO-8601 with milliseconds and `Z` (`2024-03-17T19:03:13.234Z`).
/// Any RFC 3339 offset is accepted and converted to UTC.
pub fn parse_zammad_timestamp(
    field: &'static str,
    value: &str,
) -> Result<DateTime<Utc>, ParseError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ParseError::Timestamp {
            field,
            value: value.to_owned(),
            expected: "RFC 3339, e.g. 2024-03-17T19:03:13.234Z",
        })
}

/// The ticket facts the sync needs: what to call it and whom to bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TicketWire")]
pub struct Ticket {
    pub id: TicketId,
    /// Human-facing number, e.g. `"31001"` (a string on the wire).
    pub number: String,
    pub title: String,
    pub group_id: Option<GroupId>,
    pub organization_id: Option<OrganisationId>,
    pub customer_id: Option<ZammadUserId>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct TicketWire {
    id: u64,
    number: serde_json::Value,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    group_id: Option<u64>,
    #[serde(default)]
    organization_id: Option<u64>,
    #[serde(default)]
    customer_id: Option<u64>,
    updated_at: String,
}

impl TryFrom<TicketWire> for Ticket {
    type Error = ParseError;

    fn try_from(w: TicketWire) -> Result<Self, Self::Error> {
        let number = match w.number {
            serde_json::Value::String(s) if !s.is_empty() => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => {
                return Err(ParseError::Invalid {
                    field: "number",
                    reason: format!("expected a ticket number, got {other}"),
                });
            }
        };
        Ok(Ticket {
            id: TicketId(w.id),
            number,
            title: w.title.unwrap_or_default(),
            group_id: w.group_id.map(GroupId),
            organization_id: w.organization_id.map(OrganisationId),
            customer_id: w.customer_id.map(ZammadUserId),
            updated_at: parse_zammad_timestamp("updated_at", &w.updated_at)?,
        })
    }
}

/// A Zammad organisation (the customer company).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
}

/// A Zammad user: the agent who booked time, or the ticket's customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZammadUser {
    pub id: ZammadUserId,
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub firstname: Option<String>,
    #[serde(default)]
    pub lastname: Option<String>,
    #[serde(default)]
    pub organization_id: Option<OrganisationId>,
}

impl ZammadUser {
    /// The address used to find the matching Kimai user: email, else a login that looks like one.
    /// Lower-cased, because both systems compare e-mail addresses case-insensitively.
    pub fn email_key(&self) -> Option<String> {
        let candidate = self
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .or(self.login.as_deref().filter(|l| l.contains('@')))?;
        Some(candidate.trim().to_lowercase())
    }

    pub fn display_name(&self) -> String {
        let name = [self.firstname.as_deref(), self.lastname.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            self.email_key()
                .unwrap_or_else(|| format!("user {}", self.id))
        } else {
            name
        }
    }
}

/// A time accounting type (Zammad ≥ 6.2), mapped to a Kimai activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountingType {
    pub id: AccountingTypeId,
    pub name: String,
    #[serde(default = "default_true")]
    pub active: bool,
}

fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounting(json: &str) -> Result<TimeAccounting, String> {
        serde_json::from_str::<TimeAccounting>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_the_wire_shape_with_string_decimal_and_nulls() {
        let a = accounting(
            r#"{"ticket_article_id":null,"time_unit":"12.3","type_id":null,"id":7,"ticket_id":3,
                "created_by_id":3,"created_at":"2024-03-17T19:03:13.234Z","updated_at":"2024-03-17T19:03:13.234Z"}"#,
        )
        .unwrap();
        assert_eq!(a.amount, Decimal::from_str("12.3").unwrap());
        assert_eq!(a.type_id, None);
        assert_eq!(a.article_id, None);
        assert_eq!(a.created_at.timestamp_subsec_millis(), 234);
    }

    #[test]
    fn accepts_a_numeric_time_unit_and_negative_values() {
        let a = accounting(
            r#"{"id":1,"ticket_id":1,"time_unit":-15,"type_id":4,"created_by_id":2,
                "created_at":"2024-01-01T00:00:00.000Z","updated_at":"2024-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(a.amount, Decimal::from(-15));
        assert_eq!(a.type_id, Some(AccountingTypeId(4)));
    }

    #[test]
    fn rejects_garbage_time_unit_with_a_typed_error() {
        let err = accounting(
            r#"{"id":1,"ticket_id":1,"time_unit":"ten","created_by_id":2,
                "created_at":"2024-01-01T00:00:00.000Z","updated_at":"2024-01-01T00:00:00.000Z"}"#,
        )
        .unwrap_err();
        assert!(err.contains("time_unit"), "{err}");
    }

    #[test]
    fn rejects_a_timestamp_without_zone() {
        let err = accounting(
            r#"{"id":1,"ticket_id":1,"time_unit":"1","created_by_id":2,
                "created_at":"2024-01-01 00:00:00","updated_at":"2024-01-01T00:00:00.000Z"}"#,
        )
        .unwrap_err();
        assert!(err.contains("created_at"), "{err}");
    }

    #[test]
    fn ticket_number_may_be_string_or_number() {
        let t: Ticket = serde_json::from_str(
            r#"{"id":5,"number":"31005","title":"Printer","group_id":1,"organization_id":null,
                "customer_id":9,"updated_at":"2024-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(t.number, "31005");
        let t: Ticket = serde_json::from_str(
            r#"{"id":5,"number":31005,"updated_at":"2024-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(t.number, "31005");
        assert_eq!(t.organization_id, None);
    }

    #[test]
    fn email_key_is_lowercased_and_falls_back_to_login() {
        let u: ZammadUser =
            serde_json::from_str(r#"{"id":3,"login":"Anna@Example.com","email":""}"#).unwrap();
        assert_eq!(u.email_key().as_deref(), Some("anna@example.com"));
        let u: ZammadUser = serde_json::from_str(r#"{"id":4,"login":"bob"}"#).unwrap();
        assert_eq!(u.email_key(), None);
    }
}
