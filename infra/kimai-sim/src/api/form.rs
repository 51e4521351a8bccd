//! Reading a Kimai entity form (customer, project, activity, user) from a JSON body.
//!
//! A form is a list of fields, each with the kind of value Kimai's form type takes. Reading
//! checks every given value, turns it into the value the record shows afterwards, and
//! collects Kimai's messages in form shape 1. A key that is not a field of the form is the
//! form-level "extra fields" error, as in Kimai: which fields exist depends on the caller's
//! permissions and on the record, so the field list is built per request.

use crate::respond::{EXTRA_FIELDS, FormErrors};
use crate::state::State;
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};

pub const INVALID: &str = "This value is not valid.";
pub const CHOICE_INVALID: &str = "The selected choice is invalid.";
pub const BLANK: &str = "This value should not be blank.";
const BAD_EMAIL: &str = "This value is not a valid email address.";
const BAD_URL: &str = "This value is not a valid URL.";

/// The languages Kimai is translated into (`config/services.yaml`, `kimai_locales`, the
/// entries without a region): the choices of its language field.
const LANGUAGES: [&str; 42] = [
    "ar",
    "bg",
    "ca",
    "cs",
    "da",
    "de",
    "de_CH",
    "el",
    "en",
    "eo",
    "es",
    "eu",
    "fa",
    "fi",
    "fo",
    "fr",
    "he",
    "hr",
    "hu",
    "id",
    "it",
    "ja",
    "ko",
    "nb_NO",
    "nl",
    "pa",
    "pl",
    "pt",
    "pt_BR",
    "ro",
    "ru",
    "sk",
    "sl",
    "sr",
    "sv",
    "ta",
    "tr",
    "uk",
    "vi",
    "zh_CN",
    "zh_Hant",
    "zh_Hant_TW",
];

/// Kimai's built-in roles, the choices of a user's `roles`.
const ROLES: [&str; 4] = [
    "ROLE_USER",
    "ROLE_TEAMLEAD",
    "ROLE_ADMIN",
    "ROLE_SUPER_ADMIN",
];

/// The kind of value a field takes, after Kimai's form type and entity constraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text up to so many characters (`None`: no limit). Empty or null clears it.
    Text(Option<usize>),
    /// The record's name: 2–150 characters, checked by the caller once the form is read.
    Name,
    Email(usize),
    Url(usize),
    /// ISO 3166 alpha-2, ISO 4217 and an IANA zone: required on the record, so null is refused.
    Country,
    Currency,
    Timezone,
    Language,
    Locale,
    Bool,
    /// A money amount (`budget`): a number or a numeric string.
    Money,
    /// A duration (`timeBudget`): seconds out, Kimai's duration formats in.
    Duration,
    /// `month` or nothing (Kimai's only budget type besides the full one).
    BudgetType,
    Color,
    /// A project date; `with_time` for PATCH, where Kimai's form takes an HTML5 date-time.
    Date {
        with_time: bool,
    },
    Customer,
    /// A project or nothing (an activity without project is global).
    Project,
    /// Another user or nothing (a user's supervisor).
    User,
    /// Team ids. The simulator has no teams, so only an empty list can be valid.
    Teams,
    /// An invoice template. The simulator has none, so only nothing is valid.
    InvoiceTemplate,
    /// Meta fields. Plain Kimai defines none, so only an empty collection is valid.
    MetaFields,
    Roles,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
}

pub const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

/// What a body read against a form gave.
pub struct Submitted {
    /// The given fields in their stored form, in body order.
    pub values: Map<String, Value>,
    pub errors: FormErrors,
}

/// Read `body` against `fields`; `subject` is the record's own id for reference checks (a user
/// cannot supervise themself).
pub fn read(
    st: &State,
    body: &Map<String, Value>,
    fields: &[Field],
    subject: Option<u64>,
) -> Submitted {
    let names: Vec<&'static str> = fields.iter().map(|f| f.name).collect();
    let mut errors = FormErrors::for_fields(&names);
    let mut values = Map::new();
    for (key, value) in body {
        let Some(f) = fields.iter().find(|f| f.name == key) else {
            if errors.form.is_empty() {
                errors.form.push(EXTRA_FIELDS.to_owned());
            }
            continue;
        };
        match normalise(st, f.kind, value, subject) {
            Ok(Some(v)) => {
                values.insert(key.clone(), v);
            }
            Ok(None) => {}
            Err(message) => errors.add(f.name, message),
        }
    }
    Submitted { values, errors }
}

fn too_long(max: usize) -> String {
    format!("This value is too long. It should have {max} characters or less.")
}

/// A trimmed text, `None` when empty (Symfony's text types submit "" as null).
fn text(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        _ => Err(INVALID.to_owned()),
    }
}

fn limited(value: &Value, max: Option<usize>) -> Result<Value, String> {
    match text(value)? {
        Some(s) if max.is_some_and(|m| s.chars().count() > m) => Err(too_long(max.unwrap_or(0))),
        other => Ok(json!(other)),
    }
}

/// `Ok(None)`: accepted, nothing to store (an empty collection).
fn normalise(
    st: &State,
    kind: Kind,
    value: &Value,
    subject: Option<u64>,
) -> Result<Option<Value>, String> {
    let stored = match kind {
        Kind::Text(max) => limited(value, max)?,
        Kind::Name => match value {
            Value::String(s) => json!(s.trim()),
            _ => return Err(INVALID.to_owned()),
        },
        Kind::Email(max) => {
            let v = limited(value, Some(max))?;
            if v.as_str().is_some_and(|s| !looks_like_email(s)) {
                return Err(BAD_EMAIL.to_owned());
            }
            v
        }
        Kind::Url(max) => match text(value)? {
            None => Value::Null,
            Some(s) => {
                // Kimai's homepage field adds `https://` to an address without a scheme.
                let s = if s.contains("://") {
                    s
                } else {
                    format!("https://{s}")
                };
                let ok = url::Url::parse(&s)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
                if !ok {
                    return Err(BAD_URL.to_owned());
                }
                if s.chars().count() > max {
                    return Err(too_long(max));
                }
                json!(s)
            }
        },
        Kind::Country => required(value, |s| upper(s, 2))?,
        Kind::Currency => required(value, |s| upper(s, 3))?,
        Kind::Timezone => required(value, |s| s.parse::<chrono_tz::Tz>().is_ok())?,
        Kind::Language => required(value, |s| LANGUAGES.contains(&s))?,
        Kind::Locale => required(value, |s| LANGUAGES.contains(&s) || is_region(s))?,
        Kind::Bool => match value {
            Value::Bool(b) => json!(b),
            _ => return Err(INVALID.to_owned()),
        },
        Kind::Money => match number(value) {
            Some(n) => json!(n),
            None if text(value)?.is_none() => json!(0.0),
            None => return Err(INVALID.to_owned()),
        },
        Kind::Duration => json!(duration_secs(value).ok_or_else(|| INVALID.to_owned())?),
        Kind::BudgetType => match text(value)? {
            None => Value::Null,
            Some(s) if s == "month" => json!(s),
            Some(_) => return Err(CHOICE_INVALID.to_owned()),
        },
        Kind::Color => match text(value)? {
            None => Value::Null,
            Some(s) if is_hex_color(&s) => json!(s),
            Some(_) => return Err(INVALID.to_owned()),
        },
        Kind::Date { with_time } => match text(value)? {
            None => Value::Null,
            Some(s) => json!(date(&s, with_time).ok_or_else(|| INVALID.to_owned())?),
        },
        Kind::Customer => match id(value).filter(|id| st.customers.contains_key(id)) {
            Some(id) => json!(id),
            None => return Err(INVALID.to_owned()),
        },
        Kind::Project => optional_ref(value, |id| st.projects.contains_key(&id))?,
        Kind::User => optional_ref(value, |id| {
            Some(id) != subject && st.users.contains_key(&id)
        })?,
        Kind::Teams => match value {
            Value::Array(a) if a.is_empty() => return Ok(None),
            Value::Null => return Ok(None),
            _ => return Err(CHOICE_INVALID.to_owned()),
        },
        Kind::InvoiceTemplate => match text(value) {
            Ok(None) => Value::Null,
            _ => return Err(CHOICE_INVALID.to_owned()),
        },
        Kind::MetaFields => match value {
            Value::Array(a) if a.is_empty() => return Ok(None),
            Value::Object(o) if o.is_empty() => return Ok(None),
            Value::Null => return Ok(None),
            // Each meta field is a sub-form; one Kimai does not define is extra data there.
            _ => return Err(EXTRA_FIELDS.to_owned()),
        },
        Kind::Roles => match value {
            Value::Array(a)
                if a.iter()
                    .all(|r| r.as_str().is_some_and(|r| ROLES.contains(&r))) =>
            {
                json!(a)
            }
            _ => return Err(CHOICE_INVALID.to_owned()),
        },
    };
    Ok(Some(stored))
}

/// A field the record cannot be without: null is "blank", anything else must pass `ok`.
fn required(value: &Value, ok: impl Fn(&str) -> bool) -> Result<Value, String> {
    match value {
        Value::Null => Err(BLANK.to_owned()),
        Value::String(s) if s.is_empty() => Err(BLANK.to_owned()),
        Value::String(s) if ok(s) => Ok(json!(s)),
        _ => Err(INVALID.to_owned()),
    }
}

fn optional_ref(value: &Value, exists: impl Fn(u64) -> bool) -> Result<Value, String> {
    if text(value).is_ok_and(|t| t.is_none()) {
        return Ok(Value::Null);
    }
    match id(value).filter(|id| exists(*id)) {
        Some(id) => Ok(json!(id)),
        None => Err(INVALID.to_owned()),
    }
}

/// An id as a JSON number or a string of digits (Kimai's body decoder turns both into text).
fn id(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', ".").parse().ok(),
        _ => None,
    }
}

fn upper(s: &str, len: usize) -> bool {
    s.len() == len && s.chars().all(|c| c.is_ascii_uppercase())
}

fn is_region(s: &str) -> bool {
    let mut parts = s.split('_');
    let lang = parts.next().unwrap_or("");
    let region = parts.next().unwrap_or("");
    parts.next().is_none()
        && lang.len() == 2
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && upper(region, 2)
}

fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// The HTML5 rule Kimai's email constraint uses, loosely: one `@`, something on both sides, no
/// spaces.
fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// `Y-m-d` out; in, a date (POST) or an HTML5 date-time (PATCH), as Kimai's project controller
/// configures the date fields.
fn date(s: &str, with_time: bool) -> Option<String> {
    let d = if with_time {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
            .ok()?
            .date()
    } else {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?
    };
    Some(d.format("%Y-%m-%d").to_string())
}

/// Kimai's duration input: `H:MM[:SS]`, or decimal hours (`1.5`, `1,5`, a bare number). A bare
/// number is hours, not seconds. Empty is 0.
fn duration_secs(value: &Value) -> Option<i64> {
    let s = match value {
        Value::Null => return Some(0),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    if s.is_empty() {
        return Some(0);
    }
    if s.contains(':') {
        let parts: Vec<i64> = s
            .split(':')
            .map(|p| p.parse::<i64>().ok().filter(|n| *n >= 0))
            .collect::<Option<_>>()?;
        return match parts.as_slice() {
            [h, m] => Some(h * 3600 + m * 60),
            [h, m, sec] => Some(h * 3600 + m * 60 + sec),
            _ => None,
        };
    }
    let hours: f64 = s.replace(',', ".").parse().ok()?;
    (hours >= 0.0).then(|| (hours * 3600.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_kimai_reads_them() {
        assert_eq!(duration_secs(&json!("10,25")), Some(36900));
        assert_eq!(duration_secs(&json!("1:30")), Some(5400));
        assert_eq!(duration_secs(&json!("0:00:45")), Some(45));
        assert_eq!(
            duration_secs(&json!(2)),
            Some(7200),
            "a bare number is hours"
        );
        assert_eq!(duration_secs(&json!("")), Some(0));
        assert_eq!(duration_secs(&json!("soon")), None);
        assert_eq!(duration_secs(&json!("-1")), None);
    }

    #[test]
    fn small_checks() {
        assert!(looks_like_email("a@example.org"));
        assert!(!looks_like_email("a example.org"));
        assert!(!looks_like_email("@example.org"));
        assert!(is_hex_color("#ff00AA"));
        assert!(!is_hex_color("red"));
        assert!(is_region("de_AT"));
        assert!(!is_region("de-AT"));
        assert_eq!(date("2026-03-01", false).as_deref(), Some("2026-03-01"));
        assert_eq!(
            date("2026-03-01T10:00:00", true).as_deref(),
            Some("2026-03-01")
        );
        assert_eq!(date("2026-03-01", true), None);
    }
}
