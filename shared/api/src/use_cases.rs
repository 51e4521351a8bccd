//! The bridge to the service's console use cases: who asks (from the login and the request),
//! and each use case's error as a problem answer.

use crate::auth::Caller;
use crate::context::Origin;
use crate::problem::{ApiError, FieldError};
use sync_service::approvals::ApproveError;
use sync_service::console::{Actor, Invalid};
use sync_service::gdpr::GdprError;
use sync_service::ledger::LedgerError;
use sync_service::resolution::ResolveError;
use sync_service::runs::RunError;

/// The caller as the use cases record them in the audit log.
pub fn actor(caller: &Caller, origin: &Origin) -> Actor {
    Actor {
        username: caller.username.clone(),
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        let errors = e
            .fields
            .into_iter()
            .map(|f| FieldError::new(f.field, f.message))
            .collect();
        ApiError::invalid_many(e.detail, errors)
    }
}

impl From<ResolveError> for ApiError {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::Invalid(i) => i.into(),
            ResolveError::NotFound(_) => ApiError::NotFound(e.to_string()),
            ResolveError::AlreadyResolved(_) => ApiError::Conflict(e.to_string()),
            ResolveError::Unfinished(m) => ApiError::Unavailable(m),
            ResolveError::Store(s) => s.into(),
        }
    }
}

impl From<ApproveError> for ApiError {
    fn from(e: ApproveError) -> Self {
        match e {
            ApproveError::Invalid(i) => i.into(),
            ApproveError::NoneQueued => ApiError::Unavailable(e.to_string()),
            ApproveError::Store(s) => s.into(),
        }
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Invalid(i) => i.into(),
            LedgerError::Store(s) => s.into(),
        }
    }
}

impl From<RunError> for ApiError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Invalid(i) => i.into(),
            RunError::Refused(m) => ApiError::Conflict(m),
            RunError::Unavailable(m) => ApiError::Unavailable(m),
            RunError::Vanished(m) => ApiError::Internal(m),
            RunError::Store(s) => s.into(),
        }
    }
}

impl From<GdprError> for ApiError {
    fn from(e: GdprError) -> Self {
        match e {
            GdprError::Invalid(i) => i.into(),
            GdprError::Store(s) => s.into(),
        }
    }
}
