//! The timesheet we want Kimai to hold for some Zammad time, and its stable identity.

use crate::ids::{AccountingId, ActivityId, KimaiUserId, ProjectId, TicketId, ZammadUserId};
use crate::kimai::KimaiLocalDateTime;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable identity of a desired timesheet across runs.
///
/// `ta:<accounting id>` in `per_accounting` mode; `agg:<hex>` (a hash of ticket, agent, activity
/// type and local day) in aggregate mode. The link key → Kimai id is stored under this key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntryKey(pub String);

impl EntryKey {
    pub fn for_accounting(id: AccountingId) -> Self {
        EntryKey(format!("ta:{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything needed to create or update one Kimai timesheet, in Kimai's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredTimesheet {
    pub key: EntryKey,
    pub ticket_id: TicketId,
    /// The Zammad agent whose time this is.
    pub agent_id: ZammadUserId,
    /// The accountings that make up this timesheet (one, or a group in aggregate mode).
    pub accounting_ids: Vec<AccountingId>,
    /// IANA zone the local times are in (the Kimai user's zone, else the connection default).
    pub zone: String,
    /// Local day the entry is booked on (of `begin`), used for indexes and aggregation.
    pub day: NaiveDate,
    pub begin: KimaiLocalDateTime,
    pub end: KimaiLocalDateTime,
    /// The same instants in UTC, for comparison with what Kimai reports.
    pub begin_utc: DateTime<Utc>,
    pub end_utc: DateTime<Utc>,
    pub duration_secs: i64,
    pub user: KimaiUserId,
    pub project: ProjectId,
    pub activity: ActivityId,
    /// Description including our marker, e.g. `[zammad:ta=123] #31001 Printer jam`.
    pub description: String,
    pub tags: Vec<String>,
    /// `None` leaves Kimai's automatic billable mode alone (the field needs `edit_billable`).
    pub billable: Option<bool>,
}
