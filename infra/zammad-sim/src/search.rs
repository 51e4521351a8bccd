//! The part of Elasticsearch's `query_string` syntax the sync and the tests use.
//!
//! Supported: `*`; clauses joined by `AND`; `field:value`; `field:>value` / `>=` / `<` / `<=`;
//! ranges `field:[a TO b]` (inclusive) and `field:{a TO b}` (exclusive) with `*` for open ends;
//! a bare word matches the title (case-insensitive) or the number. Fields: `id`, `number`,
//! `title`, `state`, `group_id`, `organization_id`, `customer_id`, `owner_id`, `created_at`,
//! `updated_at`. Anything else is a syntax error, answered 422 (real Zammad would hand it to
//! Elasticsearch; failing loudly is more useful in a simulator).

use crate::store::Ticket;
use chrono::{DateTime, NaiveDate, Utc};
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq)]
pub struct Query(Vec<Clause>);

#[derive(Debug, Clone, PartialEq)]
enum Clause {
    All,
    Word(String),
    Compare {
        field: Field,
        op: Op,
        value: Value,
    },
    Range {
        field: Field,
        low: Option<(Value, bool)>,
        high: Option<(Value, bool)>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Id,
    Number,
    Title,
    State,
    GroupId,
    OrganizationId,
    CustomerId,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(u64),
    Time(DateTime<Utc>),
    Text(String),
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, String> {
        let text = text.trim();
        if text.is_empty() || text == "*" {
            return Ok(Query(vec![Clause::All]));
        }
        text.split(" AND ")
            .map(|c| parse_clause(c.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(Query)
    }

    pub fn matches(&self, ticket: &Ticket) -> bool {
        self.0.iter().all(|c| clause_matches(c, ticket))
    }
}

fn parse_clause(text: &str) -> Result<Clause, String> {
    if text == "*" {
        return Ok(Clause::All);
    }
    let Some((name, rest)) = text.split_once(':') else {
        if text.is_empty() || text.contains(['[', ']', '{', '}']) {
            return Err(format!("cannot parse query clause {text:?}"));
        }
        return Ok(Clause::Word(text.trim_matches('"').to_lowercase()));
    };
    let field = parse_field(name)?;
    if let Some(inner) = rest.strip_prefix('[').or_else(|| rest.strip_prefix('{')) {
        let low_inclusive = rest.starts_with('[');
        let (inner, high_inclusive) = if let Some(i) = inner.strip_suffix(']') {
            (i, true)
        } else if let Some(i) = inner.strip_suffix('}') {
            (i, false)
        } else {
            return Err(format!("unclosed range in {text:?}"));
        };
        let (low, high) = inner
            .split_once(" TO ")
            .ok_or_else(|| format!("range without TO in {text:?}"))?;
        let bound = |v: &str, inclusive: bool| -> Result<Option<(Value, bool)>, String> {
            let v = v.trim();
            if v == "*" {
                Ok(None)
            } else {
                Ok(Some((parse_value(field, v)?, inclusive)))
            }
        };
        return Ok(Clause::Range {
            field,
            low: bound(low, low_inclusive)?,
            high: bound(high, high_inclusive)?,
        });
    }
    let (op, value) = if let Some(v) = rest.strip_prefix(">=") {
        (Op::Ge, v)
    } else if let Some(v) = rest.strip_prefix("<=") {
        (Op::Le, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Op::Gt, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Op::Lt, v)
    } else {
        (Op::Eq, rest)
    };
    Ok(Clause::Compare {
        field,
        op,
        value: parse_value(field, value.trim())?,
    })
}

fn parse_field(name: &str) -> Result<Field, String> {
    Ok(match name.trim() {
        "id" => Field::Id,
        "number" => Field::Number,
        "title" => Field::Title,
        "state" | "state.name" => Field::State,
        "group_id" => Field::GroupId,
        "organization_id" => Field::OrganizationId,
        "customer_id" => Field::CustomerId,
        "owner_id" => Field::OwnerId,
        "created_at" => Field::CreatedAt,
        "updated_at" => Field::UpdatedAt,
        other => return Err(format!("unknown search field {other:?}")),
    })
}

fn parse_value(field: Field, text: &str) -> Result<Value, String> {
    let text = text.trim_matches('"');
    match field {
        Field::Id | Field::GroupId | Field::OrganizationId | Field::CustomerId | Field::OwnerId => {
            text.parse()
                .map(Value::Int)
                .map_err(|_| format!("{text:?} is not a number"))
        }
        Field::CreatedAt | Field::UpdatedAt => parse_time(text).map(Value::Time),
        Field::Number | Field::Title | Field::State => Ok(Value::Text(text.to_owned())),
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|_| format!("{text:?} is not a date or timestamp"))
}

fn field_value(field: Field, t: &Ticket) -> Option<Value> {
    let r = &t.record;
    Some(match field {
        Field::Id => Value::Int(r.id),
        Field::Number => Value::Text(r.number.clone()),
        Field::Title => Value::Text(r.title.clone()),
        Field::State => Value::Text(r.state.clone()),
        Field::GroupId => Value::Int(r.group_id),
        Field::OrganizationId => Value::Int(t.organization_id?),
        Field::CustomerId => Value::Int(r.customer_id),
        Field::OwnerId => Value::Int(t.owner_id),
        Field::CreatedAt => Value::Time(r.created_at),
        Field::UpdatedAt => Value::Time(t.updated_at),
    })
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Time(x), Value::Time(y)) => Some(x.cmp(y)),
        (Value::Text(x), Value::Text(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        _ => None,
    }
}

fn clause_matches(clause: &Clause, t: &Ticket) -> bool {
    match clause {
        Clause::All => true,
        Clause::Word(w) => t.record.title.to_lowercase().contains(w) || t.record.number == *w,
        Clause::Compare { field, op, value } => {
            let Some(actual) = field_value(*field, t) else {
                return false;
            };
            let Some(ord) = compare(&actual, value) else {
                return false;
            };
            match op {
                Op::Eq => ord == Ordering::Equal,
                Op::Gt => ord == Ordering::Greater,
                Op::Ge => ord != Ordering::Less,
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
            }
        }
        Clause::Range { field, low, high } => {
            let Some(actual) = field_value(*field, t) else {
                return false;
            };
            let above = low.as_ref().is_none_or(|(v, inclusive)| {
                matches!(compare(&actual, v), Some(Ordering::Greater))
                    || (*inclusive && compare(&actual, v) == Some(Ordering::Equal))
            });
            let below = high.as_ref().is_none_or(|(v, inclusive)| {
                matches!(compare(&actual, v), Some(Ordering::Less))
                    || (*inclusive && compare(&actual, v) == Some(Ordering::Equal))
            });
            above && below
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::TicketRecord;

    fn ticket(id: u64, title: &str, updated: &str) -> Ticket {
        let at = DateTime::parse_from_rfc3339(updated)
            .unwrap()
            .with_timezone(&Utc);
        Ticket {
            record: TicketRecord {
                id,
                number: format!("3100{id}"),
                title: title.to_owned(),
                group_id: 1,
                customer_id: 5,
                organization_id: None,
                owner_id: None,
                state: "open".to_owned(),
                created_at: at,
                updated_at: Some(at),
            },
            organization_id: Some(2),
            owner_id: 1,
            updated_at: at,
            updated_by_id: 5,
            time_unit: None,
        }
    }

    #[test]
    fn updated_at_ranges_are_inclusive_or_exclusive() {
        let t = ticket(1, "VPN down", "2024-03-17T19:03:13.234Z");
        let q = |s: &str| Query::parse(s).unwrap().matches(&t);
        assert!(q("updated_at:[2024-03-17T19:03:13.234Z TO *]"));
        assert!(!q("updated_at:{2024-03-17T19:03:13.234Z TO *]"));
        assert!(q("updated_at:>=2024-03-17"));
        assert!(!q("updated_at:<2024-03-17"));
        assert!(q("updated_at:[* TO 2024-03-18]"));
    }

    #[test]
    fn words_fields_and_and() {
        let t = ticket(1, "VPN down", "2024-03-17T19:03:13.234Z");
        let q = |s: &str| Query::parse(s).unwrap().matches(&t);
        assert!(q("vpn"));
        assert!(q("*"));
        assert!(q("organization_id:2 AND state:open"));
        assert!(!q("organization_id:3 AND state:open"));
        assert!(q("number:31001"));
    }

    #[test]
    fn syntax_errors_are_reported() {
        for bad in [
            "updated_at:[2024-01-01 TO",
            "colour:red",
            "updated_at:>yesterday",
            "id:abc",
        ] {
            assert!(Query::parse(bad).is_err(), "{bad}");
        }
    }
}
