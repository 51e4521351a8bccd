//! What can go wrong talking to Kimai, classified so the caller knows what to do next.
//!
//! - Retry later: [`KimaiError::is_retryable`] (429, 5xx, timeouts, connection failures).
//! - Fix the configuration: `Unauthorized`, `Forbidden`, `Config`.
//! - Raise a conflict for a human: `Locked`, `Validation`, `ExtraFields`, `NotFound`.
//! - Report a bug or a Kimai change: `MalformedBody`, `BadRequest`, `UnexpectedStatus`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use thiserror::Error;

/// The form-level message Kimai gives when a request carries a field the API user may not set
/// (`user` without `create_other_timesheet`, `billable` without `edit_billable`, `duration`, …).
pub const EXTRA_FIELDS_MESSAGE: &str = "This form should not contain extra fields.";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KimaiError {
    /// 401: the token is unknown, expired or missing. Not retryable; fix the token.
    #[error("Kimai rejected the API token (401): check the token and its expiry")]
    Unauthorized,
    /// 403 on a read or a create: the API user lacks a permission. Not retryable.
    #[error("Kimai denied access (403): the API user lacks a permission for this call")]
    Forbidden,
    /// 403 on editing or deleting a timesheet: it is exported (or in a locked period, or not
    /// editable by this API user). Not retryable; leave the timesheet alone and raise a conflict.
    #[error("the timesheet is exported or locked (403): Kimai refuses to change or delete it")]
    Locked,
    /// 404: the record does not exist (or a page past the end).
    #[error("not found in Kimai (404)")]
    NotFound,
    /// 400 "This form should not contain extra fields.": we sent a field this API user may not
    /// set. Not retryable; adjust what is sent or the API user's permissions.
    #[error("Kimai refuses fields this API user may not set: {0}")]
    ExtraFields(ValidationErrors),
    /// 400 with per-field messages. Not retryable; the input must change.
    #[error("Kimai rejected the input: {0}")]
    Validation(ValidationErrors),
    /// 400 without a form (e.g. a malformed query parameter): a bug on our side.
    #[error("Kimai answered 400 Bad Request: {message}")]
    BadRequest { message: String },
    /// 429 from Kimai or a proxy in front of it. Retryable after `retry_after` when given.
    #[error("rate limited by Kimai (429){}", retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx. Retryable for reads and idempotent writes; after a create the outcome is unknown.
    #[error("Kimai answered {status} (server error)")]
    Server { status: u16 },
    /// No complete answer within the configured timeout. Retryable; after a create the outcome
    /// is unknown.
    #[error("Kimai did not answer in time")]
    Timeout,
    /// The connection could not be made or broke. Retryable.
    #[error("could not talk to Kimai: {0}")]
    Connection(String),
    /// Kimai answered, but not in the format we rely on. Not retryable.
    #[error("Kimai answered {status} with a body we cannot read: {reason}")]
    MalformedBody { status: u16, reason: String },
    /// Any other status (e.g. 410 Gone for a removed endpoint). Not retryable.
    #[error("Kimai answered an unexpected {status}: {message}")]
    UnexpectedStatus { status: u16, message: String },
    /// The client could not be built from its configuration.
    #[error("invalid Kimai client configuration: {0}")]
    Config(String),
}

impl KimaiError {
    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            KimaiError::RateLimited { .. }
                | KimaiError::Server { .. }
                | KimaiError::Timeout
                | KimaiError::Connection(_)
        )
    }

    /// The wait Kimai asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            KimaiError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Per-field messages of a validation error (`ExtraFields` or `Validation`).
    pub fn validation(&self) -> Option<&ValidationErrors> {
        match self {
            KimaiError::ExtraFields(v) | KimaiError::Validation(v) => Some(v),
            _ => None,
        }
    }

    /// Kimai's message when a timesheet would begin in a project's locked period (Kimai ≥
    /// 2.66, `lockedUntil`), from a 400 on create or on a change that moves it there. An edit
    /// or delete of a timesheet already in the period is a bare 403 (`Locked`).
    pub fn project_locked(&self) -> Option<&str> {
        let v = self.validation()?;
        v.form
            .iter()
            .chain(v.fields.values().flatten())
            .find(|m| m.starts_with(PROJECT_LOCKED_MESSAGE))
            .map(String::as_str)
    }
}

/// How Kimai's project-lock message begins (`TimesheetProjectLocked`: "The project is locked
/// until %date%, please choose a later date.", the date in the user's locale).
pub const PROJECT_LOCKED_MESSAGE: &str = "The project is locked until";

/// Messages of a Kimai 400 validation answer: form-level ones and those per field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors {
    /// The top-level `message`, e.g. `Validation Failed`.
    pub message: String,
    /// Form-level messages (`errors.errors`), e.g. the extra-fields message.
    pub form: Vec<String>,
    /// Field path (nested children joined with `.`) → messages. Fields without errors are left out.
    pub fields: BTreeMap<String, Vec<String>>,
    /// Every field the form knew (`errors.children` keys, also those without errors). For the
    /// extra-fields error this is the list of fields the API user may send.
    pub accepted_fields: Vec<String>,
}

impl ValidationErrors {
    pub fn field(&self, name: &str) -> &[String] {
        self.fields.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self.form.clone();
        parts.extend(
            self.fields
                .iter()
                .map(|(field, msgs)| format!("{field}: {}", msgs.join(" "))),
        );
        if parts.is_empty() {
            f.write_str(&self.message)
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

/// What kind of call produced an answer: a 403 means "locked" only for edits and deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Read,
    Create,
    /// PATCH or DELETE of a timesheet.
    ChangeTimesheet,
    /// Any other write (e.g. creating a tag).
    OtherWrite,
}

/// Both validation shapes: `code` is an int (form errors) or the string `"400"`
/// (`ValidationFailedException`); the rest has the same layout.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Option<FormNode>,
}

#[derive(Deserialize, Default)]
struct FormNode {
    #[serde(default)]
    errors: Vec<String>,
    #[serde(default)]
    children: Option<BTreeMap<String, FormNode>>,
}

fn collect_children(
    prefix: &str,
    children: &BTreeMap<String, FormNode>,
    out: &mut ValidationErrors,
    top: bool,
) {
    for (name, node) in children {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if top {
            out.accepted_fields.push(path.clone());
        }
        if !node.errors.is_empty() {
            out.fields
                .entry(path.clone())
                .or_default()
                .extend(node.errors.iter().cloned());
        }
        if let Some(grand) = &node.children {
            collect_children(&path, grand, out, false);
        }
    }
}

/// Parse a Kimai validation body (either shape). `None` when the body has no `errors` form.
pub fn parse_validation_body(body: &[u8]) -> Option<ValidationErrors> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    let form = parsed.errors?;
    let mut out = ValidationErrors {
        message: parsed.message.unwrap_or_default(),
        form: form.errors,
        ..ValidationErrors::default()
    };
    if let Some(children) = &form.children {
        collect_children("", children, &mut out, true);
    }
    Some(out)
}

/// Parse `Retry-After`: delta seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// Kimai's timesheet PATCH controller renders an invalid form with status 200 (docs/kimai.md),
/// so a 2xx body carrying the form-error envelope (`errors.children`) is the validation failure
/// a 400 would have been. `None` for any other body (a record, a list).
pub fn form_errors_in_success(kind: CallKind, body: &[u8]) -> Option<KimaiError> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    parsed.errors?.children?;
    Some(classify_response(kind, 400, None, body))
}

/// Turn a non-success answer into a typed error. `retry_after` is the raw header value.
pub fn classify_response(
    kind: CallKind,
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
) -> KimaiError {
    match status {
        // The 401 for a bad token has an empty body; the one without credentials has JSON. Both
        // mean the same to us.
        401 => KimaiError::Unauthorized,
        403 if kind == CallKind::ChangeTimesheet => KimaiError::Locked,
        403 => KimaiError::Forbidden,
        404 => KimaiError::NotFound,
        400 => match parse_validation_body(body) {
            Some(v) if v.form.iter().any(|m| m == EXTRA_FIELDS_MESSAGE) => {
                KimaiError::ExtraFields(v)
            }
            Some(v) => KimaiError::Validation(v),
            None => match serde_json::from_slice::<ErrorBody>(body) {
                Ok(b) => KimaiError::BadRequest {
                    message: b.message.unwrap_or_else(|| "Bad Request".to_owned()),
                },
                Err(e) => KimaiError::MalformedBody {
                    status,
                    reason: e.to_string(),
                },
            },
        },
        429 => KimaiError::RateLimited {
            retry_after: retry_after.and_then(|v| parse_retry_after(v, chrono::Utc::now())),
        },
        500..=599 => KimaiError::Server { status },
        _ => KimaiError::UnexpectedStatus {
            status,
            message: serde_json::from_slice::<ErrorBody>(body)
                .ok()
                .and_then(|b| b.message)
                .unwrap_or_default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_shape_with_int_code_gives_messages_per_field() {
        let body = br#"{"code":400,"message":"Validation Failed","errors":{"children":{"begin":{},"end":{"errors":["The end date must not be earlier than the start date."]},"project":{"errors":["The selected choice is invalid."]}}}}"#;
        let e = classify_response(CallKind::Create, 400, None, body);
        let KimaiError::Validation(v) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            v.field("end"),
            ["The end date must not be earlier than the start date."]
        );
        assert_eq!(v.field("project"), ["The selected choice is invalid."]);
        assert!(v.field("begin").is_empty());
        assert_eq!(v.accepted_fields, ["begin", "end", "project"]);
        assert!(!e.is_retryable());
    }

    #[test]
    fn exception_shape_with_string_code_is_parsed_too() {
        let body = br#"{"code":"400","message":"Maximum duration of 8 hours exceeded.","errors":{"children":{"duration":{"errors":["Maximum duration of 8 hours exceeded."]}}}}"#;
        let e = classify_response(CallKind::ChangeTimesheet, 400, None, body);
        assert_eq!(
            e.validation().unwrap().field("duration"),
            ["Maximum duration of 8 hours exceeded."]
        );
    }

    #[test]
    fn extra_fields_is_its_own_variant() {
        let body = br#"{"code":400,"message":"Validation Failed","errors":{"errors":["This form should not contain extra fields."],"children":{"project":{},"activity":{}}}}"#;
        let e = classify_response(CallKind::Create, 400, None, body);
        assert!(matches!(e, KimaiError::ExtraFields(_)), "{e:?}");
        assert!(e.to_string().contains("extra fields"), "{e}");
    }

    #[test]
    fn plain_bad_request_and_garbage() {
        let e = classify_response(
            CallKind::Read,
            400,
            None,
            br#"{"code":400,"message":"Bad Request"}"#,
        );
        assert_eq!(
            e,
            KimaiError::BadRequest {
                message: "Bad Request".into()
            }
        );
        let e = classify_response(CallKind::Read, 400, None, b"<html>");
        assert!(matches!(e, KimaiError::MalformedBody { status: 400, .. }));
    }

    #[test]
    fn status_codes_map_to_what_the_caller_does() {
        assert_eq!(
            classify_response(CallKind::Read, 401, None, b""),
            KimaiError::Unauthorized
        );
        let forbidden = br#"{"code":403,"message":"Forbidden"}"#;
        assert_eq!(
            classify_response(CallKind::ChangeTimesheet, 403, None, forbidden),
            KimaiError::Locked
        );
        assert_eq!(
            classify_response(CallKind::Read, 403, None, forbidden),
            KimaiError::Forbidden
        );
        assert_eq!(
            classify_response(CallKind::Read, 404, None, b""),
            KimaiError::NotFound
        );
        let e = classify_response(CallKind::Read, 503, None, b"");
        assert!(e.is_retryable());
        let e = classify_response(
            CallKind::Read,
            410,
            None,
            br#"{"code":410,"message":"Gone"}"#,
        );
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("Gone"));
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        let e = classify_response(CallKind::Read, 429, Some("2"), b"");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        assert!(e.is_retryable());
    }

    proptest::proptest! {
        /// Whatever Kimai or a proxy sends, classification gives a value and never panics.
        #[test]
        fn any_body_and_status_classifies_without_panicking(
            status in 400u16..600,
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            retry_after in proptest::option::of("[ -~]{0,30}"),
        ) {
            let e = classify_response(CallKind::Create, status, retry_after.as_deref(), &body);
            proptest::prop_assert_eq!(e.is_retryable(), status == 429 || status >= 500);
        }
    }
}
