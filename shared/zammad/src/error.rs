//! What can go wrong talking to Zammad, phrased as what the caller should do about it.

use std::time::Duration;
use thiserror::Error;

/// Why Zammad answered 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForbiddenReason {
    /// No credentials reached Zammad (`Authentication required`): a configuration or proxy problem.
    MissingCredentials,
    /// The token is valid but its user lacks the permission (e.g. an agent token on an admin-only
    /// endpoint such as the global `/time_accountings` listing). Callers fall back to a route the
    /// agent may use (ticket search) or ask for an admin token.
    NotPermitted,
}

/// A failed Zammad call. `path` is the API path (never the token, never headers).
#[derive(Debug, Error)]
pub enum ZammadError {
    #[error("Zammad rejected the API token on {path} (401: {message}); renew or replace the token")]
    Unauthorised { path: String, message: String },

    #[error("Zammad refused {path} (403: {message})")]
    Forbidden {
        path: String,
        message: String,
        reason: ForbiddenReason,
    },

    #[error("Zammad has no such resource at {path} (404: {message})")]
    NotFound { path: String, message: String },

    #[error("Zammad rejected the request to {path} as invalid (422: {message}); fix the request")]
    Validation { path: String, message: String },

    #[error(
        "Zammad (or a proxy in front of it) is rate limiting {path} (429, retry after {retry_after:?})"
    )]
    RateLimited {
        path: String,
        retry_after: Option<Duration>,
    },

    #[error("Zammad failed on {path} ({status}: {message}); try again later")]
    Server {
        path: String,
        status: u16,
        message: String,
    },

    #[error("Zammad did not answer {path} in time")]
    Timeout { path: String },

    #[error("could not reach Zammad for {path}: {detail}")]
    Connection { path: String, detail: String },

    #[error("Zammad answered {path} with a body we cannot read: {detail}")]
    MalformedBody { path: String, detail: String },

    #[error("the Zammad connection settings cannot work: {detail}")]
    InvalidConfig { detail: String },

    #[error("Zammad answered {path} with unexpected status {status}: {message}")]
    UnexpectedStatus {
        path: String,
        status: u16,
        message: String,
    },

    /// A listing still had full pages after [`crate::MAX_INDEX_PAGES`]: what was read is
    /// incomplete, so nothing may be decided from it (no deletion of what it lacks). A server
    /// that ignores `page` and repeats page 1 ends here too.
    #[error("Zammad's listing {path} has more than {pages} pages; it was not read to the end")]
    TooManyPages { path: String, pages: u32 },
}

impl ZammadError {
    /// Worth trying again later with the same input: the fault is transient, not ours or the
    /// configuration's.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ZammadError::RateLimited { .. }
                | ZammadError::Server { .. }
                | ZammadError::Timeout { .. }
                | ZammadError::Connection { .. }
        )
    }

    /// The token works but may not do this (403 with a valid token): use an agent-level route.
    pub fn is_permission_denied(&self) -> bool {
        matches!(
            self,
            ZammadError::Forbidden {
                reason: ForbiddenReason::NotPermitted,
                ..
            }
        )
    }

    /// The credentials are wrong or missing: an operator has to fix the connection settings.
    pub fn is_credentials_problem(&self) -> bool {
        matches!(
            self,
            ZammadError::Unauthorised { .. }
                | ZammadError::Forbidden {
                    reason: ForbiddenReason::MissingCredentials,
                    ..
                }
        )
    }

    /// The HTTP status Zammad answered with, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ZammadError::Unauthorised { .. } => Some(401),
            ZammadError::Forbidden { .. } => Some(403),
            ZammadError::NotFound { .. } => Some(404),
            ZammadError::Validation { .. } => Some(422),
            ZammadError::RateLimited { .. } => Some(429),
            ZammadError::Server { status, .. } | ZammadError::UnexpectedStatus { status, .. } => {
                Some(*status)
            }
            ZammadError::Timeout { .. }
            | ZammadError::Connection { .. }
            | ZammadError::MalformedBody { .. }
            | ZammadError::InvalidConfig { .. }
            | ZammadError::TooManyPages { .. } => None,
        }
    }
}
