//! The `policy/sync` document that reconcile reads (`sync_service::policies::SyncPolicy`): the
//! time policy, approval mode and, under `mappings`, every mapping and mapping policy. Mappings
//! and policies are edited inside this one document, so the pipeline sees exactly what the
//! console saved, and its version is the unit of optimistic concurrency (`ETag` / `If-Match`).
//!
//! The body is edited as JSON so fields this code does not know survive an edit; every write
//! is checked by reading it back as a `SyncPolicy` first.

use crate::problem::{ApiError, FieldError};
use crate::state::ApiState;
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sync_service::policies::{SYNC_POLICY_ID, SyncPolicy};
use sync_store::control::{DocumentKind, DocumentWrite, ExpectedVersion};

/// The stored body (an object with a `mappings` object) and its version (0: not stored yet).
pub struct SyncDoc {
    pub body: Map<String, Value>,
    pub version: u64,
}

impl SyncDoc {
    pub fn mappings_mut(&mut self) -> &mut Map<String, Value> {
        let entry = self
            .body
            .entry("mappings")
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        entry.as_object_mut().expect("made an object above")
    }

    pub fn mappings(&self) -> Option<&Map<String, Value>> {
        self.body.get("mappings").and_then(Value::as_object)
    }

    /// Reads the body as the pipeline will (with a placeholder API user: the pipeline fills
    /// in the token's owner).
    pub fn parse(&self) -> Result<SyncPolicy, String> {
        let mut body = Value::Object(self.body.clone());
        let mappings = body
            .as_object_mut()
            .expect("object")
            .entry("mappings")
            .or_insert_with(|| json!({}));
        if let Some(m) = mappings.as_object_mut() {
            m.insert("api_user".into(), json!(0));
        }
        let policy: SyncPolicy = serde_json::from_value(body).map_err(|e| e.to_string())?;
        policy.validate().map_err(|e| e.to_string())?;
        Ok(policy)
    }
}

pub async fn load(state: &ApiState) -> Result<SyncDoc, ApiError> {
    let doc = state
        .control
        .get_document(DocumentKind::Policy, SYNC_POLICY_ID)
        .await?;
    Ok(match doc {
        None => SyncDoc {
            body: Map::new(),
            version: 0,
        },
        Some(doc) => SyncDoc {
            body: match doc.body {
                Value::Object(m) => m,
                _ => {
                    return Err(ApiError::Internal(
                        "policy/sync is not a JSON object".into(),
                    ));
                }
            },
            version: doc.version,
        },
    })
}

/// Refuses when the caller's `If-Match` is not the version just read.
pub fn check_if_match(headers: &HeaderMap, doc: &SyncDoc) -> Result<(), ApiError> {
    match crate::extract::if_match(headers)? {
        Some(v) if v != doc.version => Err(stale(doc.version)),
        _ => Ok(()),
    }
}

fn stale(current: u64) -> ApiError {
    ApiError::Conflict(format!(
        "the mappings and policies were changed meanwhile (now version {current}); reload and retry"
    ))
}

/// Validates and writes the document, conditional on the version it was read at.
pub async fn save(state: &ApiState, doc: &SyncDoc) -> Result<u64, ApiError> {
    if let Err(e) = doc.parse() {
        return Err(ApiError::invalid_many(
            "the result would not be a valid sync policy",
            vec![FieldError::new("policy", e)],
        ));
    }
    let expected = match doc.version {
        0 => ExpectedVersion::New,
        v => ExpectedVersion::Version(v),
    };
    let write = state
        .control
        .put_document(
            DocumentKind::Policy,
            SYNC_POLICY_ID,
            &Value::Object(doc.body.clone()),
            expected,
            state.clock.now(),
        )
        .await?;
    match write {
        DocumentWrite::Written { version } => Ok(version),
        DocumentWrite::VersionConflict { current } => Err(stale(current.unwrap_or(0))),
    }
}

pub fn with_etag(body: impl Serialize, version: u64) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header"),
    );
    response
}
