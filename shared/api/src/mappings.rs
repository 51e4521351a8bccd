//! Mappings from Zammad to Kimai, one list per kind, inside the `policy/sync` document:
//!
//! | kind | Zammad side | Kimai side | field under `mappings` |
//! |---|---|---|---|
//! | `activity` | accounting type id, or `none` (entries without a type) | activity id | `activity_by_type` / `activity_without_type` |
//! | `customer` | organisation id | customer id | `customer_by_organisation` |
//! | `project` | group id | project id | `project_by_group` |
//! | `user` | agent (user) id | user id | `user_by_agent` |
//!
//! Writes are conditional on the document version (`If-Match`, else the version just read), so
//! two people editing at once get a 409 instead of losing an edit. CSV import is all or
//! nothing: any bad row answers 400 with one error per row and nothing is written.

use crate::audit;
use crate::auth::{Admin, Caller};
use crate::context::Origin;
use crate::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery};
use crate::problem::{ApiError, FieldError};
use crate::state::ApiState;
use crate::sync_doc::{self, SyncDoc, with_etag};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Largest CSV accepted by the import (a helpdesk has hundreds of mappings, not millions).
pub const MAX_IMPORT_ROWS: usize = 5_000;
/// The Zammad key of the activity used for entries without a type.
pub const NO_TYPE: &str = "none";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MappingKind {
    Activity,
    Customer,
    Project,
    User,
}

impl MappingKind {
    pub const ALL: [MappingKind; 4] = [
        MappingKind::Activity,
        MappingKind::Customer,
        MappingKind::Project,
        MappingKind::User,
    ];

    fn field(self) -> &'static str {
        match self {
            MappingKind::Activity => "activity_by_type",
            MappingKind::Customer => "customer_by_organisation",
            MappingKind::Project => "project_by_group",
            MappingKind::User => "user_by_agent",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            MappingKind::Activity => "activity",
            MappingKind::Customer => "customer",
            MappingKind::Project => "project",
            MappingKind::User => "user",
        }
    }
}

/// One mapping: Zammad id (as text; `none` for activities without a type) → Kimai id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Mapping {
    pub zammad: String,
    pub kimai: u64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MappingList {
    /// Version of the document; send as `If-Match` with the next change.
    pub version: u64,
    pub kind: MappingKind,
    pub items: Vec<Mapping>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AllMappings {
    pub version: u64,
    pub activity: Vec<Mapping>,
    pub customer: Vec<Mapping>,
    pub project: Vec<Mapping>,
    pub user: Vec<Mapping>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingTarget {
    /// The Kimai id (activity, customer, project or user).
    pub kimai: u64,
}

/// A parsed Zammad key: an id, or "no type" for activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ZammadKey {
    NoType,
    Id(u64),
}

fn parse_key(kind: MappingKind, text: &str) -> Result<ZammadKey, String> {
    let text = text.trim();
    if kind == MappingKind::Activity && text.eq_ignore_ascii_case(NO_TYPE) {
        return Ok(ZammadKey::NoType);
    }
    match text.parse::<u64>() {
        Ok(id) if id > 0 => Ok(ZammadKey::Id(id)),
        _ if kind == MappingKind::Activity => Err(format!(
            "{text:?} is not a Zammad type id (a positive number) or \"none\""
        )),
        _ => Err(format!("{text:?} is not a Zammad id (a positive number)")),
    }
}

fn check_kimai(id: u64) -> Result<u64, String> {
    if id == 0 {
        Err("the Kimai id must be a positive number".into())
    } else {
        Ok(id)
    }
}

fn read(doc: &SyncDoc, kind: MappingKind) -> BTreeMap<ZammadKey, u64> {
    let mut out = BTreeMap::new();
    let Some(m) = doc.mappings() else {
        return out;
    };
    if let Some(map) = m.get(kind.field()).and_then(Value::as_object) {
        for (k, v) in map {
            if let (Ok(id), Some(kimai)) = (k.parse::<u64>(), v.as_u64()) {
                out.insert(ZammadKey::Id(id), kimai);
            }
        }
    }
    if kind == MappingKind::Activity
        && let Some(kimai) = m.get("activity_without_type").and_then(Value::as_u64)
    {
        out.insert(ZammadKey::NoType, kimai);
    }
    out
}

fn write(doc: &mut SyncDoc, kind: MappingKind, entries: &BTreeMap<ZammadKey, u64>) {
    let mappings = doc.mappings_mut();
    let map: Map<String, Value> = entries
        .iter()
        .filter_map(|(k, v)| match k {
            ZammadKey::Id(id) => Some((id.to_string(), json!(v))),
            ZammadKey::NoType => None,
        })
        .collect();
    mappings.insert(kind.field().into(), Value::Object(map));
    if kind == MappingKind::Activity {
        match entries.get(&ZammadKey::NoType) {
            Some(v) => mappings.insert("activity_without_type".into(), json!(v)),
            None => mappings.insert("activity_without_type".into(), Value::Null),
        };
    }
}

fn items(entries: &BTreeMap<ZammadKey, u64>) -> Vec<Mapping> {
    entries
        .iter()
        .map(|(k, &kimai)| Mapping {
            zammad: match k {
                ZammadKey::NoType => NO_TYPE.to_owned(),
                ZammadKey::Id(id) => id.to_string(),
            },
            kimai,
        })
        .collect()
}

/// Every mapping of every kind.
#[utoipa::path(get, path = "/api/mappings", tag = "mappings", security(("bearer" = [])),
    responses((status = 200, body = AllMappings), (status = 401, body = crate::problem::Problem)))]
pub async fn list_all(_: Caller, State(state): State<ApiState>) -> Result<Response, ApiError> {
    let doc = sync_doc::load(&state).await?;
    let body = AllMappings {
        version: doc.version,
        activity: items(&read(&doc, MappingKind::Activity)),
        customer: items(&read(&doc, MappingKind::Customer)),
        project: items(&read(&doc, MappingKind::Project)),
        user: items(&read(&doc, MappingKind::User)),
    };
    Ok(with_etag(body, doc.version))
}

/// The mappings of one kind.
#[utoipa::path(get, path = "/api/mappings/{kind}", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path)),
    responses((status = 200, body = MappingList), (status = 400, body = crate::problem::Problem),
              (status = 401, body = crate::problem::Problem)))]
pub async fn list_kind(
    _: Caller,
    State(state): State<ApiState>,
    ApiPath(kind): ApiPath<MappingKind>,
) -> Result<Response, ApiError> {
    let doc = sync_doc::load(&state).await?;
    let body = MappingList {
        version: doc.version,
        kind,
        items: items(&read(&doc, kind)),
    };
    Ok(with_etag(body, doc.version))
}

/// Sets one mapping (creates or replaces).
#[utoipa::path(put, path = "/api/mappings/{kind}/{zammad}", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path), ("zammad" = String, Path, description = "Zammad id, or `none` (activity only)", pattern = r"^(none|[0-9]{1,19})$"),
           ("If-Match" = Option<String>, Header, description = "document version read before")),
    request_body = MappingTarget,
    responses((status = 200, body = MappingList), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn put_one(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath((kind, zammad)): ApiPath<(MappingKind, String)>,
    headers: HeaderMap,
    ApiJson(target): ApiJson<MappingTarget>,
) -> Result<Response, ApiError> {
    let key = parse_key(kind, &zammad).map_err(|e| ApiError::invalid("zammad", e))?;
    let kimai = check_kimai(target.kimai).map_err(|e| ApiError::invalid("kimai", e))?;
    let mut doc = sync_doc::load(&state).await?;
    sync_doc::check_if_match(&headers, &doc)?;
    let mut entries = read(&doc, kind);
    let previous = entries.insert(key, kimai);
    write(&mut doc, kind, &entries);
    doc.version = sync_doc::save(&state, &doc).await?;
    audit::record(
        &state,
        &caller.username,
        &origin,
        "mapping.set",
        json!({"kind": kind.as_str(), "zammad": zammad.trim(), "kimai": kimai, "previous": previous, "version": doc.version}),
    )
    .await?;
    Ok(with_etag(
        MappingList {
            version: doc.version,
            kind,
            items: items(&entries),
        },
        doc.version,
    ))
}

/// Removes one mapping.
#[utoipa::path(delete, path = "/api/mappings/{kind}/{zammad}", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path), ("zammad" = String, Path, pattern = r"^(none|[0-9]{1,19})$"),
           ("If-Match" = Option<String>, Header, description = "document version read before")),
    responses((status = 200, body = MappingList), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem),
              (status = 409, body = crate::problem::Problem)))]
pub async fn delete_one(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath((kind, zammad)): ApiPath<(MappingKind, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = parse_key(kind, &zammad).map_err(|e| ApiError::invalid("zammad", e))?;
    let mut doc = sync_doc::load(&state).await?;
    sync_doc::check_if_match(&headers, &doc)?;
    let mut entries = read(&doc, kind);
    let Some(previous) = entries.remove(&key) else {
        return Err(ApiError::NotFound(format!(
            "no {} mapping for {}",
            kind.as_str(),
            zammad.trim()
        )));
    };
    write(&mut doc, kind, &entries);
    doc.version = sync_doc::save(&state, &doc).await?;
    audit::record(
        &state,
        &caller.username,
        &origin,
        "mapping.delete",
        json!({"kind": kind.as_str(), "zammad": zammad.trim(), "previous": previous, "version": doc.version}),
    )
    .await?;
    Ok(with_etag(
        MappingList {
            version: doc.version,
            kind,
            items: items(&entries),
        },
        doc.version,
    ))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Rows add to or replace the existing mappings; others stay.
    #[default]
    Merge,
    /// The file becomes the whole list of this kind.
    Replace,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    #[serde(default)]
    pub mode: ImportMode,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    pub version: u64,
    /// Rows read from the file.
    pub rows: usize,
    pub items: Vec<Mapping>,
}

/// Parses `zammad,kimai` rows; every bad row is reported (row 1 is the header).
fn parse_csv(kind: MappingKind, body: &[u8]) -> Result<BTreeMap<ZammadKey, u64>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid("body", "the CSV must be UTF-8 text"))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ApiError::invalid("row 1", e.to_string()))?
        .clone();
    let columns: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    if columns != ["zammad", "kimai"] {
        return Err(ApiError::invalid(
            "row 1",
            format!(
                "the header must be `zammad,kimai`, found `{}`",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    let mut entries = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = format!("row {}", i + 2);
        if i >= MAX_IMPORT_ROWS {
            errors.push(FieldError::new(
                row,
                format!("more than {MAX_IMPORT_ROWS} rows"),
            ));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(FieldError::new(row, e.to_string()));
                continue;
            }
        };
        if record.len() != 2 {
            errors.push(FieldError::new(
                row,
                format!("expected 2 columns, found {}", record.len()),
            ));
            continue;
        }
        let key = parse_key(kind, &record[0]);
        let kimai = record[1]
            .parse::<u64>()
            .map_err(|_| format!("{:?} is not a Kimai id", &record[1]))
            .and_then(check_kimai);
        match (key, kimai) {
            (Ok(key), Ok(kimai)) => {
                if entries.insert(key, kimai).is_some() {
                    errors.push(FieldError::new(
                        row,
                        format!("Zammad id {} appears twice", &record[0]),
                    ));
                }
            }
            (key, kimai) => {
                let message = [key.err(), kimai.err()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; ");
                errors.push(FieldError::new(row, message));
            }
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(ApiError::invalid_many(
            format!(
                "{} row(s) of the CSV are invalid; nothing was imported",
                errors.len()
            ),
            errors,
        ))
    }
}

/// Imports `zammad,kimai` rows (text/csv). All or nothing.
#[utoipa::path(post, path = "/api/mappings/{kind}/import", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path), ImportParams,
           ("If-Match" = Option<String>, Header, description = "document version read before")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportResult), (status = 400, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn import_csv(
    Admin(caller): Admin,
    State(state): State<ApiState>,
    origin: Origin,
    ApiPath(kind): ApiPath<MappingKind>,
    ApiQuery(params): ApiQuery<ImportParams>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let rows = parse_csv(kind, &body)?;
    let mut doc = sync_doc::load(&state).await?;
    sync_doc::check_if_match(&headers, &doc)?;
    let mut entries = match params.mode {
        ImportMode::Merge => read(&doc, kind),
        ImportMode::Replace => BTreeMap::new(),
    };
    let count = rows.len();
    entries.extend(rows);
    write(&mut doc, kind, &entries);
    doc.version = sync_doc::save(&state, &doc).await?;
    audit::record(
        &state,
        &caller.username,
        &origin,
        "mapping.import",
        json!({"kind": kind.as_str(), "rows": count, "mode": format!("{:?}", params.mode).to_lowercase(), "version": doc.version}),
    )
    .await?;
    Ok(with_etag(
        ImportResult {
            version: doc.version,
            rows: count,
            items: items(&entries),
        },
        doc.version,
    ))
}

/// The mappings of one kind as CSV (`zammad,kimai`), the import's format.
#[utoipa::path(get, path = "/api/mappings/{kind}/export", operation_id = "export_mappings_csv", tag = "mappings", security(("bearer" = [])),
    params(("kind" = MappingKind, Path)),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 401, body = crate::problem::Problem)))]
pub async fn export_csv(
    _: Caller,
    State(state): State<ApiState>,
    ApiPath(kind): ApiPath<MappingKind>,
) -> Result<Response, ApiError> {
    let doc = sync_doc::load(&state).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["zammad", "kimai"])
        .and_then(|_| {
            items(&read(&doc, kind))
                .iter()
                .try_for_each(|m| writer.write_record([m.zammad.clone(), m.kimai.to_string()]))
        })
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!(
            "attachment; filename=\"{}-mappings.csv\"",
            kind.as_str()
        ))
        .expect("ascii"),
    );
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", doc.version)).expect("digits"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_checked_one_by_one() {
        let ok = parse_csv(MappingKind::Activity, b"zammad,kimai\n3,7\nnone,9\n").unwrap();
        assert_eq!(ok.get(&ZammadKey::Id(3)), Some(&7));
        assert_eq!(ok.get(&ZammadKey::NoType), Some(&9));

        let err =
            parse_csv(MappingKind::User, b"zammad,kimai\n3,7\nx,9\n4,0\n3,8\n5\n").unwrap_err();
        let ApiError::Invalid { errors, .. } = err else {
            panic!("{err:?}")
        };
        let rows: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(rows, ["row 3", "row 4", "row 5", "row 6"]);

        assert!(parse_csv(MappingKind::User, b"agent,user\n1,2\n").is_err());
        assert!(
            parse_csv(MappingKind::User, b"zammad,kimai\nnone,2\n").is_err(),
            "none is for activities only"
        );
    }
}
