//! Mappings from Zammad to Kimai, one list per kind, inside the `policy/sync` document
//! ([`SyncPolicyDocument`]):
//!
//! | kind | Zammad side | Kimai side | field under `mappings` |
//! |---|---|---|---|
//! | `activity` | accounting type id, or `none` (entries without a type) | activity id | `activity_by_type` / `activity_without_type` |
//! | `customer` | organisation id | customer id | `customer_by_organisation` |
//! | `project` | group id | project id | `project_by_group` |
//! | `user` | agent (user) id | user id | `user_by_agent` |
//!
//! Writes are conditional on the document version (the one the caller read, else the one just
//! read), so two people editing at once get a conflict instead of losing an edit. Every change
//! is audited. CSV import is all or nothing: any bad row is reported, one error per row, and
//! nothing is written.

mod csv_rows;

use crate::console::access::{AccessLog, Actor};
use crate::console::error::{ConsoleError, ConsoleResult};
use crate::policies::SyncPolicyDocument;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use sync_store::control::ControlStore;
use utoipa::ToSchema;

pub use csv_rows::{MAX_IMPORT_ROWS, parse_csv, to_csv};

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

    pub fn as_str(self) -> &'static str {
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Rows add to or replace the existing mappings; others stay.
    #[default]
    Merge,
    /// The file becomes the whole list of this kind.
    Replace,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    pub version: u64,
    /// Rows read from the file.
    pub rows: usize,
    pub items: Vec<Mapping>,
}

/// The mappings of one kind as CSV (`zammad,kimai`), the import's format.
pub struct MappingsCsv {
    pub bytes: Vec<u8>,
    /// The version of the document they were read from.
    pub version: u64,
}

/// A parsed Zammad key: an id, or "no type" for activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZammadKey {
    NoType,
    Id(u64),
}

pub type Entries = BTreeMap<ZammadKey, u64>;

pub fn parse_key(kind: MappingKind, text: &str) -> Result<ZammadKey, String> {
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

pub fn check_kimai(id: u64) -> Result<u64, String> {
    if crate::console::schemas::is_id(id) {
        Ok(id)
    } else {
        Err(format!(
            "the Kimai id must be a positive number up to {}",
            crate::console::schemas::MAX_ID
        ))
    }
}

fn read(doc: &SyncPolicyDocument, kind: MappingKind) -> Entries {
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

fn write(doc: &mut SyncPolicyDocument, kind: MappingKind, entries: &Entries) {
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

fn items(entries: &Entries) -> Vec<Mapping> {
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

fn list(doc: &SyncPolicyDocument, kind: MappingKind, entries: &Entries) -> MappingList {
    MappingList {
        version: doc.version,
        kind,
        items: items(entries),
    }
}

/// What the mappings use cases need: the document's store and (for changes) the access log.
#[derive(Clone, Copy)]
pub struct MappingStores<'a> {
    pub control: &'a dyn ControlStore,
    pub access: AccessLog<'a>,
}

impl MappingStores<'_> {
    /// The document to change, refused when the caller read another version (`read_at`).
    async fn load_at(&self, read_at: Option<u64>) -> ConsoleResult<SyncPolicyDocument> {
        let doc = SyncPolicyDocument::load(self.control).await?;
        doc.check_version(read_at)?;
        Ok(doc)
    }

    /// Stores `entries` as the mappings of `kind` and audits `action` with `detail` (plus the
    /// new version).
    async fn save(
        &self,
        doc: &mut SyncPolicyDocument,
        kind: MappingKind,
        entries: &Entries,
        actor: &Actor,
        action: &str,
        mut detail: Value,
    ) -> ConsoleResult<()> {
        write(doc, kind, entries);
        let version = doc.save(self.control, self.access.clock.now()).await?;
        detail["version"] = json!(version);
        Ok(self.access.record(actor, action, detail).await?)
    }
}

/// Every mapping of every kind.
pub async fn all_mappings(stores: MappingStores<'_>) -> ConsoleResult<AllMappings> {
    let doc = SyncPolicyDocument::load(stores.control).await?;
    Ok(AllMappings {
        version: doc.version,
        activity: items(&read(&doc, MappingKind::Activity)),
        customer: items(&read(&doc, MappingKind::Customer)),
        project: items(&read(&doc, MappingKind::Project)),
        user: items(&read(&doc, MappingKind::User)),
    })
}

/// The mappings of one kind.
pub async fn mappings_of(
    stores: MappingStores<'_>,
    kind: MappingKind,
) -> ConsoleResult<MappingList> {
    let doc = SyncPolicyDocument::load(stores.control).await?;
    Ok(list(&doc, kind, &read(&doc, kind)))
}

/// Sets one mapping (creates or replaces it).
pub async fn set_mapping(
    stores: MappingStores<'_>,
    actor: &Actor,
    read_at: Option<u64>,
    (kind, zammad): (MappingKind, &str),
    kimai: u64,
) -> ConsoleResult<MappingList> {
    let key = parse_key(kind, zammad).map_err(|e| ConsoleError::invalid("zammad", e))?;
    let kimai = check_kimai(kimai).map_err(|e| ConsoleError::invalid("kimai", e))?;
    let mut doc = stores.load_at(read_at).await?;
    let mut entries = read(&doc, kind);
    let previous = entries.insert(key, kimai);
    let detail = json!({"kind": kind.as_str(), "zammad": zammad.trim(), "kimai": kimai, "previous": previous});
    stores
        .save(&mut doc, kind, &entries, actor, "mapping.set", detail)
        .await?;
    Ok(list(&doc, kind, &entries))
}

/// Removes one mapping; not found when there is none.
pub async fn delete_mapping(
    stores: MappingStores<'_>,
    actor: &Actor,
    read_at: Option<u64>,
    (kind, zammad): (MappingKind, &str),
) -> ConsoleResult<MappingList> {
    let key = parse_key(kind, zammad).map_err(|e| ConsoleError::invalid("zammad", e))?;
    let mut doc = stores.load_at(read_at).await?;
    let mut entries = read(&doc, kind);
    let Some(previous) = entries.remove(&key) else {
        return Err(ConsoleError::NotFound(format!(
            "no {} mapping for {}",
            kind.as_str(),
            zammad.trim()
        )));
    };
    let detail = json!({"kind": kind.as_str(), "zammad": zammad.trim(), "previous": previous});
    stores
        .save(&mut doc, kind, &entries, actor, "mapping.delete", detail)
        .await?;
    Ok(list(&doc, kind, &entries))
}

/// Imports `zammad,kimai` rows: all or nothing.
pub async fn import_csv(
    stores: MappingStores<'_>,
    actor: &Actor,
    read_at: Option<u64>,
    (kind, mode): (MappingKind, ImportMode),
    csv: &[u8],
) -> ConsoleResult<ImportResult> {
    let rows = parse_csv(kind, csv)?;
    let mut doc = stores.load_at(read_at).await?;
    let mut entries = match mode {
        ImportMode::Merge => read(&doc, kind),
        ImportMode::Replace => BTreeMap::new(),
    };
    let count = rows.len();
    entries.extend(rows);
    let mode = format!("{mode:?}").to_lowercase();
    let detail = json!({"kind": kind.as_str(), "rows": count, "mode": mode});
    stores
        .save(&mut doc, kind, &entries, actor, "mapping.import", detail)
        .await?;
    Ok(ImportResult {
        version: doc.version,
        rows: count,
        items: items(&entries),
    })
}

/// The mappings of one kind as CSV, the import's format.
pub async fn export_csv(
    stores: MappingStores<'_>,
    kind: MappingKind,
) -> ConsoleResult<MappingsCsv> {
    let doc = SyncPolicyDocument::load(stores.control).await?;
    Ok(MappingsCsv {
        bytes: to_csv(&items(&read(&doc, kind)))?,
        version: doc.version,
    })
}
