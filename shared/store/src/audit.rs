//! The audit log: who did what and what the sync did, kept for a limited time.

use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Access events (logins, console actions) are kept this long.
pub const ACCESS_RETENTION_DAYS: i64 = 90;
/// Default for sync events; the deployment may choose another (`AUDIT_SYNC_RETENTION_DAYS`).
pub const DEFAULT_SYNC_RETENTION_DAYS: i64 = 30;
/// Longest day range one query may span (bounds the work of a request).
pub const MAX_QUERY_DAYS: i64 = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A person used the console or the API (login, resolve, settings change).
    Access,
    /// The sync did something (run started, entry written, conflict opened).
    Sync,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    pub kind: AuditKind,
    /// What happened, e.g. `login`, `conflict.resolve`, `timesheet.create`.
    pub action: String,
    /// Console user or `system`.
    pub actor: String,
    pub ip: Option<String>,
    /// Free-form detail (ids, counts); never secrets.
    pub detail: serde_json::Value,
}

/// How long each kind of event is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRetention {
    pub access: Duration,
    pub sync: Duration,
}

impl Default for AuditRetention {
    fn default() -> Self {
        AuditRetention {
            access: Duration::days(ACCESS_RETENTION_DAYS),
            sync: Duration::days(DEFAULT_SYNC_RETENTION_DAYS),
        }
    }
}

impl AuditRetention {
    /// The longest any row is kept: how far back a search for every row must reach.
    pub fn longest(&self) -> Duration {
        self.access.max(self.sync)
    }

    pub fn expiry_of(&self, event: &AuditEvent) -> DateTime<Utc> {
        event.at
            + match event.kind {
                AuditKind::Access => self.access,
                AuditKind::Sync => self.sync,
            }
    }
}

/// Console filters of the audit log; `None` matches everything. Matches are exact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub kind: Option<AuditKind>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub ip: Option<String>,
}

impl AuditFilter {
    pub fn matches(&self, event: &AuditEvent) -> bool {
        self.kind.is_none_or(|k| event.kind == k)
            && self.action.as_ref().is_none_or(|a| *a == event.action)
            && self.actor.as_ref().is_none_or(|a| *a == event.actor)
            && self
                .ip
                .as_ref()
                .is_none_or(|ip| event.ip.as_ref() == Some(ip))
    }
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Access => "access",
            AuditKind::Sync => "sync",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Unique within its day; sorts by time.
    pub id: String,
    pub event: AuditEvent,
    /// When the store will drop it (DynamoDB TTL; the in-memory store only records it).
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn append(&self, event: &AuditEvent) -> StoreResult<AuditRecord>;

    /// Events of the UTC days `from..=to` that match `filter`, newest first. With a filter a
    /// page may hold fewer items than asked while `next` is set: keep paging.
    async fn query(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditRecord>>;

    /// Removes one row (a GDPR purge): the row's id and the UTC day of its `at`; `false` if
    /// there was none.
    async fn delete(&self, day: NaiveDate, id: &str) -> StoreResult<bool>;

    /// How long rows are kept (rows expire by TTL; DynamoDB may keep them up to 48 h longer).
    fn retention(&self) -> AuditRetention;
}

/// Checks a day range the same way for both adapters.
pub(crate) fn check_range(from: NaiveDate, to: NaiveDate) -> StoreResult<()> {
    if from > to {
        return Err(StoreError::Invalid(format!(
            "day range {from}..{to} is reversed"
        )));
    }
    if (to - from).num_days() >= MAX_QUERY_DAYS {
        return Err(StoreError::Invalid(format!(
            "day range {from}..{to} spans more than {MAX_QUERY_DAYS} days"
        )));
    }
    Ok(())
}

/// Sortable, unique id of an audit row within its day: time, then randomness.
pub(crate) fn audit_id(event: &AuditEvent) -> String {
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!("{}#{}", event.at.format("%H:%M:%S%.6fZ"), &rand[..12])
}
