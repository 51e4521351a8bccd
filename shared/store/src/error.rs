//! The one error type of every port. Variants say what the caller should do, not which SDK call
//! failed: retry later, fix the configuration, or treat the request (or the stored data) as bad.
//!
//! Losing a race is never an error: each conditional write has its own outcome enum.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// Throttled, timed out, 5xx, connection refused: try again later (SQS redelivery does).
    #[error("storage unavailable, retry later: {0}")]
    Unavailable(String),
    /// A table, queue, secret or schedule named in the configuration does not exist.
    #[error("storage resource not found (check the configuration): {0}")]
    NotFound(String),
    /// The credentials may not do this (deployment fault).
    #[error("access denied by the storage service: {0}")]
    AccessDenied(String),
    /// The caller passed something the store cannot hold (caller's fault; retrying won't help).
    #[error("invalid request to the store: {0}")]
    Invalid(String),
    /// What is stored cannot be read back as our types (a bug or a hand edit; needs a human).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A required environment variable is missing or empty.
    #[error("missing configuration: environment variable {0} is not set")]
    MissingConfig(&'static str),
}

impl StoreError {
    /// Whether the same call may succeed later without anybody changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailability_is_retryable() {
        assert!(StoreError::Unavailable("throttled".into()).is_retryable());
        for e in [
            StoreError::NotFound("t".into()),
            StoreError::AccessDenied("t".into()),
            StoreError::Invalid("t".into()),
            StoreError::Corrupt("t".into()),
            StoreError::MissingConfig("ENTRIES_TABLE"),
        ] {
            assert!(!e.is_retryable(), "{e}");
        }
        assert!(
            StoreError::MissingConfig("ENTRIES_TABLE")
                .to_string()
                .contains("ENTRIES_TABLE")
        );
    }
}
