//! The sync policy document the reconcile step reads: placement, aggregation, rounding,
//! mappings and approve-before-post. Stored in the control store as `DocumentKind::Policy`, id
//! `sync`. The unit of `time_unit` and the default zone belong to the Zammad connection
//! (`settings::ZammadConnection`).
//!
//! The console edits the same document as a [`SyncPolicyDocument`] (mappings and policies).
//!
//! **Mappings live in their own items.** The four maps under `mappings` (`activity_by_type`,
//! `customer_by_organisation`, `project_by_group`, `user_by_agent`) grow with the customer's
//! Zammad; inside one document they would reach DynamoDB's 400 KB item limit at a few thousand
//! entries. Each mapping is a `DocumentKind::Mapping` document of its own (id
//! `<map>.<zammad id>`, body `{"kimai": <id>}`), and the policy document holds the rest. A
//! reader gets the document with the maps filled in from the items ([`load_sync_policy`],
//! [`SyncPolicyDocument::load`]: two reads, the items in one paged query). Maps written inline
//! (the demo seed, documents from before) are read too; an item wins over an inline entry, and
//! the first console save moves them into items.
//!
//! The Kimai API user of the mappings is always the owner of the configured Kimai token (read
//! with `GET /api/users/me`), whatever the document says: the token decides who writes.

use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use sync_core::aggregation::Aggregation;
use sync_core::ids::KimaiUserId;
use sync_core::mapping::Mappings;
use sync_core::normalise::TimePolicy;
use sync_core::placement::Placement;
use sync_core::rounding::Rounding;
use sync_core::units::TimeUnit;
use sync_store::StoreError;
use sync_store::control::{ControlStore, DocumentKind, DocumentWrite, ExpectedVersion};
use thiserror::Error;

/// Id of the policy document.
pub const SYNC_POLICY_ID: &str = "sync";

/// How Zammad time becomes Kimai time, and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPolicy {
    #[serde(default)]
    pub placement: Placement,
    #[serde(default)]
    pub aggregation: Aggregation,
    #[serde(default)]
    pub rounding: Rounding,
    /// Approve-before-post: creates wait in `awaiting_approval` for a human.
    #[serde(default)]
    pub approval_required: bool,
    pub mappings: Mappings,
}

impl SyncPolicy {
    /// Nothing configured: default placement and aggregation, no rounding, no mappings (every
    /// entry becomes an `unmapped_*` conflict until someone maps it, which is visible, rather
    /// than a refusal to run).
    pub fn unconfigured(api_user: KimaiUserId) -> Self {
        SyncPolicy {
            placement: Placement::default(),
            aggregation: Aggregation::default(),
            rounding: Rounding::NONE,
            approval_required: false,
            mappings: Mappings::new(api_user),
        }
    }

    /// The time policy with the connection's unit.
    pub fn time_policy(&self, unit: TimeUnit) -> TimePolicy {
        TimePolicy {
            unit,
            placement: self.placement,
            aggregation: self.aggregation,
            rounding: self.rounding,
        }
    }

    /// Checks what the core would otherwise refuse later, per ticket.
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.rounding
            .validate()
            .map_err(|e| PolicyError::Invalid(e.to_string()))?;
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum PolicyError {
    /// The store could not be read (retry when it is `Unavailable`).
    #[error("cannot read the sync policy: {0}")]
    Store(#[from] StoreError),
    /// The stored document is not a policy: an administrator must fix it; retrying won't help.
    #[error("the sync policy document is invalid: {0}")]
    Invalid(String),
}

impl PolicyError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, PolicyError::Store(e) if e.is_retryable())
    }
}

/// Reads the policy with its mappings; nothing stored gives [`SyncPolicy::unconfigured`].
pub async fn load_sync_policy(
    control: &dyn ControlStore,
    api_user: KimaiUserId,
) -> Result<SyncPolicy, PolicyError> {
    let head = control
        .get_document(DocumentKind::Policy, SYNC_POLICY_ID)
        .await?;
    let items = load_mapping_items(control).await?;
    let mut body = match head {
        None if items.is_empty() => return Ok(SyncPolicy::unconfigured(api_user)),
        None => Map::new(),
        Some(doc) => match doc.body {
            Value::Object(body) => body,
            _ => {
                return Err(PolicyError::Invalid(
                    "policy/sync is not a JSON object".into(),
                ));
            }
        },
    };
    merge_items(&mut body, &items);
    read_policy(Value::Object(body), api_user)
}

/// The maps under `mappings` whose entries are items of their own.
const MAPPING_MAPS: [&str; 4] = [
    "activity_by_type",
    "customer_by_organisation",
    "project_by_group",
    "user_by_agent",
];

/// Every mapping item: id (`<map>.<zammad id>`) → the Kimai id as stored.
async fn load_mapping_items(
    control: &dyn ControlStore,
) -> Result<BTreeMap<String, Value>, StoreError> {
    Ok(control
        .list_documents(DocumentKind::Mapping)
        .await?
        .into_iter()
        .filter_map(|d| Some((d.id, d.body.get("kimai")?.clone())))
        .collect())
}

/// Fills the maps under `mappings` in from the items (an item wins over an inline entry).
fn merge_items(body: &mut Map<String, Value>, items: &BTreeMap<String, Value>) {
    if items.is_empty() {
        return;
    }
    let mappings = mappings_object(body);
    for (id, kimai) in items {
        let Some((map, zammad)) = id.split_once('.') else {
            continue;
        };
        if !MAPPING_MAPS.contains(&map) {
            continue;
        }
        let entry = mappings
            .entry(map)
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Some(entries) = entry.as_object_mut() {
            entries.insert(zammad.to_owned(), kimai.clone());
        }
    }
}

/// The body as stored (the maps emptied) and the items its maps make.
fn split_items(body: &Map<String, Value>) -> (Map<String, Value>, BTreeMap<String, Value>) {
    let mut head = body.clone();
    let mut items = BTreeMap::new();
    if let Some(mappings) = head.get_mut("mappings").and_then(Value::as_object_mut) {
        for map in MAPPING_MAPS {
            if let Some(Value::Object(entries)) = mappings.remove(map) {
                for (zammad, kimai) in entries {
                    items.insert(format!("{map}.{zammad}"), kimai);
                }
            }
        }
    }
    (head, items)
}

/// The `mappings` object of a body, made one if it is missing or not an object.
fn mappings_object(body: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let entry = body
        .entry("mappings")
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("made an object above")
}

/// The body as a validated policy.
fn read_policy(mut body: Value, api_user: KimaiUserId) -> Result<SyncPolicy, PolicyError> {
    fill_in_api_user(&mut body, api_user);
    let policy: SyncPolicy =
        serde_json::from_value(body).map_err(|e| PolicyError::Invalid(e.to_string()))?;
    policy.validate()?;
    Ok(policy)
}

/// The token decides the API user; it is filled in so the document need not (and cannot) lie.
/// A document without mappings yet means "nothing mapped".
fn fill_in_api_user(body: &mut Value, api_user: KimaiUserId) {
    if let Some(b) = body.as_object_mut() {
        let mappings = b.entry("mappings").or_insert_with(|| json!({}));
        if let Some(m) = mappings.as_object_mut() {
            m.insert("api_user".into(), json!(api_user.0));
        }
    }
}

// ---------------------------------------------------------------- as the console edits it

/// The policy document as the console edits it: the time policy, approval mode and, under
/// `mappings`, every mapping (filled in from their items) and mapping policy. The policy
/// document's version is the unit of optimistic concurrency for all of it, mappings included.
///
/// The body is edited as JSON so fields this code does not know survive an edit; every write
/// is checked by reading it back as a [`SyncPolicy`] first.
pub struct SyncPolicyDocument {
    /// An object with a `mappings` object (once edited), the maps filled in.
    pub body: Map<String, Value>,
    /// 0: not stored yet.
    pub version: u64,
    /// The mapping items as read: a save writes only what changed.
    items: BTreeMap<String, Value>,
}

impl SyncPolicyDocument {
    /// The stored document, or an empty one at version 0.
    pub async fn load(control: &dyn ControlStore) -> ConsoleResult<Self> {
        let doc = control
            .get_document(DocumentKind::Policy, SYNC_POLICY_ID)
            .await?;
        let items = load_mapping_items(control).await?;
        let (mut body, version) = match doc {
            None => (Map::new(), 0),
            Some(doc) => match doc.body {
                Value::Object(body) => (body, doc.version),
                _ => {
                    return Err(ConsoleError::Internal(
                        "policy/sync is not a JSON object".into(),
                    ));
                }
            },
        };
        merge_items(&mut body, &items);
        Ok(SyncPolicyDocument {
            body,
            version,
            items,
        })
    }

    /// Refuses an edit based on another version than the one just read (`read_at`, when the
    /// caller names one).
    pub fn check_version(&self, read_at: Option<u64>) -> ConsoleResult<()> {
        match read_at {
            Some(v) if v != self.version => Err(stale(self.version)),
            _ => Ok(()),
        }
    }

    pub fn mappings(&self) -> Option<&Map<String, Value>> {
        self.body.get("mappings").and_then(Value::as_object)
    }

    pub fn mappings_mut(&mut self) -> &mut Map<String, Value> {
        mappings_object(&mut self.body)
    }

    /// Reads the body as the pipeline will (with a placeholder API user: the pipeline fills
    /// in the token's owner).
    pub fn parse(&self) -> Result<SyncPolicy, String> {
        let mut body = Value::Object(self.body.clone());
        fill_in_api_user(&mut body, KimaiUserId(0));
        let policy: SyncPolicy = serde_json::from_value(body).map_err(|e| e.to_string())?;
        policy.validate().map_err(|e| e.to_string())?;
        Ok(policy)
    }

    /// Validates and writes the document, conditional on the version it was read at, then the
    /// mapping items that changed; the new version is kept in `self.version`.
    ///
    /// The policy document goes first: its conditional write is what refuses a stale edit, so
    /// items are written only by the edit that won. Between the two writes a reader sees the
    /// new version with some items still old; a failure there leaves the version advanced and
    /// the edit partly written, and saving the same edit again finishes it.
    pub async fn save(
        &mut self,
        control: &dyn ControlStore,
        now: DateTime<Utc>,
    ) -> ConsoleResult<u64> {
        if let Err(e) = self.parse() {
            return Err(ConsoleError::invalid_many(
                "the result would not be a valid sync policy",
                vec![FieldError::new("policy", e)],
            ));
        }
        let expected = match self.version {
            0 => ExpectedVersion::New,
            v => ExpectedVersion::Version(v),
        };
        let (head, wanted) = split_items(&self.body);
        let write = control
            .put_document(
                DocumentKind::Policy,
                SYNC_POLICY_ID,
                &Value::Object(head),
                expected,
                now,
            )
            .await?;
        let version = match write {
            DocumentWrite::Written { version } => version,
            DocumentWrite::VersionConflict { current } => return Err(stale(current.unwrap_or(0))),
        };
        self.version = version;
        let changed: Vec<(String, Value)> = wanted
            .iter()
            .filter(|(id, kimai)| self.items.get(*id) != Some(kimai))
            .map(|(id, kimai)| (id.clone(), json!({ "kimai": kimai })))
            .collect();
        let removed: Vec<String> = self
            .items
            .keys()
            .filter(|id| !wanted.contains_key(*id))
            .cloned()
            .collect();
        control
            .put_documents(DocumentKind::Mapping, &changed, now)
            .await?;
        control
            .delete_documents(DocumentKind::Mapping, &removed)
            .await?;
        self.items = wanted;
        Ok(version)
    }
}

fn stale(current: u64) -> ConsoleError {
    ConsoleError::Conflict(format!(
        "the mappings and policies were changed meanwhile (now version {current}); reload and retry"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use sync_store::control::ExpectedVersion;
    use sync_store::memory::MemoryControl;

    #[tokio::test]
    async fn missing_document_means_unconfigured_and_the_token_owner_is_the_api_user() {
        let control = MemoryControl::new();
        let p = load_sync_policy(&control, KimaiUserId(7)).await.unwrap();
        assert_eq!(p, SyncPolicy::unconfigured(KimaiUserId(7)));

        let body = serde_json::json!({
            "approval_required": true,
            "mappings": {"api_user": 99, "default_activity": 3}
        });
        control
            .put_document(
                DocumentKind::Policy,
                SYNC_POLICY_ID,
                &body,
                ExpectedVersion::Any,
                Utc::now(),
            )
            .await
            .unwrap();
        let p = load_sync_policy(&control, KimaiUserId(7)).await.unwrap();
        assert_eq!(p.mappings.api_user, KimaiUserId(7));
        assert!(p.approval_required);
        assert_eq!(
            p.mappings.default_activity,
            Some(sync_core::ids::ActivityId(3))
        );
        assert_eq!(p.rounding, Rounding::NONE);

        let only_approval = serde_json::json!({"approval_required": true});
        control
            .put_document(
                DocumentKind::Policy,
                SYNC_POLICY_ID,
                &only_approval,
                ExpectedVersion::Any,
                Utc::now(),
            )
            .await
            .unwrap();
        let p = load_sync_policy(&control, KimaiUserId(7)).await.unwrap();
        assert!(p.approval_required);
        assert_eq!(p.mappings, Mappings::new(KimaiUserId(7)));
    }

    #[tokio::test]
    async fn a_bad_document_is_invalid_not_retryable() {
        let control = MemoryControl::new();
        for body in [
            serde_json::json!({"mappings": {}, "placement": "sideways"}),
            serde_json::json!({"mappings": "nope"}),
            serde_json::json!({"mappings": {}, "rounding": {"mode": "up", "step_minutes": 0}}),
        ] {
            control
                .put_document(
                    DocumentKind::Policy,
                    SYNC_POLICY_ID,
                    &body,
                    ExpectedVersion::Any,
                    Utc::now(),
                )
                .await
                .unwrap();
            let err = load_sync_policy(&control, KimaiUserId(1))
                .await
                .unwrap_err();
            assert!(matches!(err, PolicyError::Invalid(_)), "{body}: {err}");
            assert!(!err.is_retryable());
        }
    }

    #[tokio::test]
    async fn the_console_edits_the_document_keeping_unknown_fields_and_refusing_stale_writes() {
        let control = MemoryControl::new();
        let now = Utc::now();
        let mut doc = SyncPolicyDocument::load(&control).await.unwrap();
        assert_eq!(doc.version, 0);
        doc.body.insert("future_field".into(), json!(1));
        doc.mappings_mut().insert("tags".into(), json!(["a"]));
        let v1 = doc.save(&control, now).await.unwrap();
        assert_eq!(doc.version, v1);

        let read = SyncPolicyDocument::load(&control).await.unwrap();
        assert_eq!(read.body["future_field"], json!(1));
        assert_eq!(read.parse().unwrap().mappings.tags, ["a"]);
        assert!(read.check_version(Some(v1)).is_ok());
        assert!(matches!(
            read.check_version(Some(v1 + 1)),
            Err(ConsoleError::Conflict(_))
        ));

        // Someone else saves after `read` was loaded at v1: saving `read` now is stale.
        let mut other = SyncPolicyDocument::load(&control).await.unwrap();
        other.save(&control, now).await.unwrap();
        let mut stale = read;
        assert!(matches!(
            stale.save(&control, now).await,
            Err(ConsoleError::Conflict(_))
        ));

        // A result that would not read as a policy is refused and not written.
        let mut bad = SyncPolicyDocument::load(&control).await.unwrap();
        bad.body.insert("placement".into(), json!("sideways"));
        let Err(ConsoleError::Invalid { errors, .. }) = bad.save(&control, now).await else {
            panic!("an invalid policy was written");
        };
        assert_eq!(errors[0].field, "policy");
    }
}
