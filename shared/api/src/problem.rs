//! Errors as RFC 9457 problem details (`application/problem+json`). Every handler answers
//! `Result<_, ApiError>`; the variants say whose fault it is and so which status to send.
//! The request id is stamped into the body by [`crate::context::middleware`].

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sync_service::console::{ConsoleError, FieldError};
use sync_store::StoreError;
use utoipa::ToSchema;

pub const CONTENT_TYPE: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The id of the request (also in the `x-request-id` header and the logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// What went wrong, from the caller's point of view.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or invalid: fix it and send again.
    #[error("invalid request: {detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// No token, or a bad or expired one: log in again.
    #[error("not authenticated: {0}")]
    Unauthenticated(String),
    /// The user may not do this (a viewer asked for a change).
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is over the limit (2 MB): send less (e.g. split a CSV).
    #[error("request body too large")]
    TooLarge,
    /// Someone else changed it first (or it exists already): reload and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many failed logins: wait `retry_after_secs`.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// Zammad or Kimai failed or refused the call.
    #[error("upstream failure: {0}")]
    Upstream(String),
    /// The store is unavailable: retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A deployment or data fault the caller cannot fix (logged; no detail in the answer).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// One bad field; the same shape as the use cases' refusals ([`ConsoleError::invalid`]).
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ConsoleError::invalid(field, message).into()
    }

    pub fn invalid_many(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        ConsoleError::invalid_many(detail, errors).into()
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::Invalid { .. } => "validation",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::TooLarge => "too-large",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooManyRequests { .. } => "too-many-requests",
            ApiError::Upstream(_) => "upstream",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            ApiError::Invalid { detail, .. } => Some(detail.clone()),
            ApiError::Unauthenticated(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::Upstream(d)
            | ApiError::Unavailable(d) => Some(d.clone()),
            ApiError::TooManyRequests { retry_after_secs } => Some(format!(
                "too many failed logins; try again in {retry_after_secs} s"
            )),
            ApiError::MethodNotAllowed => None,
            ApiError::TooLarge => Some("the request body is larger than 2 MB".into()),
            // Internal details go to the log, not to the caller.
            ApiError::Internal(_) => None,
        };
        Problem {
            kind: format!("/api/problems/{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            request_id: None,
            errors: match self {
                ApiError::Invalid { errors, .. } => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(d) => ApiError::Unavailable(format!("storage: {d}")),
            StoreError::Invalid(d) => ApiError::invalid("query", d),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The one mapping of a console use case's error to an answer: the same status, title and
/// detail for every use case.
impl From<ConsoleError> for ApiError {
    fn from(e: ConsoleError) -> Self {
        match e {
            ConsoleError::Invalid { detail, errors } => ApiError::Invalid { detail, errors },
            ConsoleError::Unauthenticated(d) => ApiError::Unauthenticated(d),
            ConsoleError::Forbidden(d) => ApiError::Forbidden(d),
            ConsoleError::NotFound(d) => ApiError::NotFound(d),
            ConsoleError::Conflict(d) => ApiError::Conflict(d),
            ConsoleError::TooManyLogins { retry_after_secs } => {
                ApiError::TooManyRequests { retry_after_secs }
            }
            ConsoleError::Upstream(d) => ApiError::Upstream(d),
            ConsoleError::Unavailable(d) => ApiError::Unavailable(d),
            ConsoleError::Internal(d) => ApiError::Internal(d),
            ConsoleError::Store(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if matches!(self, ApiError::Internal(_) | ApiError::Unavailable(_)) {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = self.to_problem().into_response();
        if let ApiError::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.clone())).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        // The context middleware takes it back out to add the request id.
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail() {
        let p = ApiError::Internal("table xyz corrupt".into()).to_problem();
        assert_eq!(p.status, 500);
        assert_eq!(p.detail, None);
        let p = ApiError::invalid("base_url", "must be http").to_problem();
        assert_eq!(p.status, 400);
        assert_eq!(p.errors.unwrap()[0].field, "base_url");
    }
}
