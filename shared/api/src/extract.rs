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
use serde::de::DeserializeOwned;
use serde_json::Value;
use sync_service::console::FieldError;
use sync_service::console::schemas::MAX_ID;
use sync_store::control::ExpectedVersion;

/// A JSON body, read as its schema in the OpenAPI document means it: JSON Schema's `integer` is
/// any number without a fraction, so `20.0` is as good a ticket id as `20`, and clients
/// (JavaScript's among them) may send either. serde takes only the second for an integer
/// field, so whole numbers are made integers before the body is read into `T`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let Json(mut body) = Json::<Value>::from_request(req, state).await?;
        whole_numbers_as_integers(&mut body);
        serde_path_to_error::deserialize(body)
            .map(ApiJson)
            .map_err(|e| {
                let at = e.path().to_string();
                let message = match at.as_str() {
                    "." => e.inner().to_string(),
                    _ => format!("{at}: {}", e.inner()),
                };
                ApiError::invalid_many(
                    "the request body is not the expected JSON",
                    vec![FieldError::new("body", message)],
                )
            })
    }
}

/// Past JavaScript's largest exact integer (the largest id, [`MAX_ID`]) a float no longer says
/// which whole number it is; below it the reading is exact, as the workspace's serde_json
/// parses with `float_roundtrip`.
const MAX_EXACT: f64 = MAX_ID as f64;

/// Turns every number without a fraction (up to [`MAX_EXACT`]) into an integer, everywhere in
/// the body.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() <= MAX_EXACT
            {
                *value = if f < 0.0 {
                    Value::from(f as i64)
                } else {
                    Value::from(f as u64)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_numbers_become_integers_and_fractions_stay() {
        let mut body = json!({
            "ticket": 20.0, "kimai": 9007199254740991.0, "minus": -3.0, "zero": -0.0,
            "half": 4390.5, "huge": 1e300, "plain": 7, "text": "8.0",
            "nested": [{"id": 2.0}, [3.0]]
        });
        whole_numbers_as_integers(&mut body);
        assert_eq!(
            body,
            json!({
                "ticket": 20, "kimai": 9007199254740991_u64, "minus": -3, "zero": 0,
                "half": 4390.5, "huge": 1e300, "plain": 7, "text": "8.0",
                "nested": [{"id": 2}, [3]]
            })
        );
        assert!(body["ticket"].is_u64());
        assert!(body["huge"].is_f64());
    }
}
