//! Extractors whose rejections are problem+json 400s instead of axum's plain-text answers, so
//! bad input never turns into a 500 or an unexplained body; and document versions in headers
//! (`If-Match` in, `ETag` out).

use crate::problem::ApiError;
use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sync_service::console::FieldError;
use sync_store::control::ExpectedVersion;

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A raw body (CSV imports); over the 2 MB limit is a 413 problem.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        Ok(ApiBytes(axum::body::Bytes::from_request(req, state).await?))
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::invalid_many(
                "the request body cannot be read",
                vec![FieldError::new("body", r.body_text())],
            )
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::TooLarge;
        }
        ApiError::invalid_many(
            "the request body is not the expected JSON",
            vec![FieldError::new("body", r.body_text())],
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::invalid_many(
            "the path is not valid",
            vec![FieldError::new("path", r.body_text())],
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::invalid_many(
            "the query string is not valid",
            vec![FieldError::new("query", r.body_text())],
        )
    }
}

/// The version named by `If-Match` (a bare number or a quoted ETag), if the header is there.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| ApiError::invalid("If-Match", "must be the version number of the document"))
}

/// `If-Match` as the write condition of a settings document: `0` means "must not exist yet", a
/// version "must still be that", none "any".
pub fn if_match_expected(headers: &HeaderMap) -> Result<ExpectedVersion, ApiError> {
    Ok(match if_match(headers)? {
        Some(0) => ExpectedVersion::New,
        Some(v) => ExpectedVersion::Version(v),
        None => ExpectedVersion::Any,
    })
}

/// `body` as JSON with its document version as `ETag` (send it back as `If-Match`).
pub fn with_etag(body: impl Serialize, version: u64) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header"),
    );
    response
}
