//! What can go wrong in a console use case, said in terms of whose fault it is, so the API can
//! pick the answer (status, title, detail) without knowing the use case.

use serde::Serialize;
use sync_store::StoreError;
use thiserror::Error;
use utoipa::ToSchema;

/// One invalid input field (only in 400 answers).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct FieldError {
    /// The field (`base_url`), a CSV row (`row 3`) or `body` for unreadable JSON.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Error)]
pub enum ConsoleError {
    /// The input is invalid: fix it and send again.
    #[error("invalid request: {detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Wrong user name or password, or the user is gone: log in (again).
    #[error("not authenticated: {0}")]
    Unauthenticated(String),
    /// Logged in, but the credential this change needs is wrong (the current password).
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// Someone else changed it first, or something must be configured first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many failed logins: wait `retry_after_secs`.
    #[error("too many failed logins")]
    TooManyLogins { retry_after_secs: u64 },
    /// Zammad or Kimai failed or refused the call.
    #[error("upstream failure: {0}")]
    Upstream(String),
    /// A queue or store refused for now: retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A deployment or data fault the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConsoleError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ConsoleError::Invalid {
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    pub fn invalid_many(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        ConsoleError::Invalid {
            detail: detail.into(),
            errors,
        }
    }

    /// `Ok` when nothing was found wrong, else every error at once under `detail`.
    pub fn check(detail: &str, errors: Vec<FieldError>) -> Result<(), ConsoleError> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConsoleError::invalid_many(detail, errors))
        }
    }
}

pub type ConsoleResult<T> = Result<T, ConsoleError>;

/// Settings that are missing or unreadable must be fixed in the console first: a conflict with
/// the current state, not a fault of the request.
impl From<crate::settings::SettingsError> for ConsoleError {
    fn from(e: crate::settings::SettingsError) -> Self {
        use crate::settings::SettingsError;
        match e {
            SettingsError::NotConfigured(name) => ConsoleError::Conflict(format!(
                "configure the connection first ({name} is not set)"
            )),
            SettingsError::Invalid { name, reason } => {
                ConsoleError::Conflict(format!("the stored settings {name} are invalid: {reason}"))
            }
            SettingsError::Store(e) => ConsoleError::Store(e),
        }
    }
}
