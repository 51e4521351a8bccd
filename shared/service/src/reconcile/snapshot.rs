//! Kimai's timesheets over a verify sweep's or backfill's whole window, read once (all users,
//! pages of 500) and shared by every ticket of the run the function instance reconciles while
//! it is fresh ([`super::instance`]).
//!
//! Before, each ticket listed its agents' days and searched Kimai for each new key's marker: a
//! backfill cost about two Kimai reads per timesheet, a verify sweep one per agent of every
//! ticket. Now `read_kimai` answers from the snapshot what it can and reads narrowly the rest:
//! - days outside the snapshot's span;
//! - a linked timesheet whose entry changed after the snapshot was read: our own write may have
//!   come after it, so it is read by id;
//! - a key whose create was ever sent: the POST may have landed after the snapshot.
//!
//! A timesheet carrying our marker that a person moved out of the window, after its link was
//! lost, is not found by the snapshot; the per-ticket read would have found it. The verify
//! sweep's duplicate check reports the two timesheets if that ever happens.
//!
//! A webhook or an incremental run has no window: its ticket reads its own days, as before.

use super::context::Context;
use chrono::{DateTime, Duration, Utc};
use kimai_client::{TimesheetQuery, UserFilter};
use std::collections::HashMap;
use sync_core::desired::EntryKey;
use sync_core::ids::KimaiUserId;
use sync_core::kimai::Timesheet;
use sync_core::marker::Marker;
use sync_core::zone::utc_to_local;
use sync_store::queue::SyncWindow;

/// Longest window read as one snapshot (a quarter). A longer backfill reads per ticket: its
/// snapshot would hold every timesheet of every user for months, in memory.
pub const MAX_SNAPSHOT_DAYS: i64 = 93;

/// A run's window as Kimai held it when it was read.
pub struct WindowSnapshot {
    /// Every timesheet whose begin lies in here is in the snapshot: the window with a day each
    /// side, so the whole local days of its first and last day are in, in any zone.
    span: (DateTime<Utc>, DateTime<Utc>),
    /// When the read began: a write that committed earlier is in it.
    read_at: DateTime<Utc>,
    by_user: HashMap<KimaiUserId, Vec<Timesheet>>,
    /// By the key the marker in the description names (ours or the older tool's).
    by_key: HashMap<EntryKey, Vec<Timesheet>>,
    len: usize,
}

impl WindowSnapshot {
    /// Whether a window this long is read as a snapshot.
    pub fn fits(window: &SyncWindow) -> bool {
        window.to - window.from <= Duration::days(MAX_SNAPSHOT_DAYS)
    }

    /// The span whose timesheets the snapshot holds.
    pub fn span_of(window: &SyncWindow) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            window.from - Duration::days(1),
            window.to + Duration::days(1),
        )
    }

    /// The query that reads the span: every user, Kimai's filter (on the begin, in the API
    /// user's wall-clock time) an hour wider each side so a DST change cannot cut an edge off.
    pub fn query(ctx: &Context, window: &SyncWindow) -> TimesheetQuery {
        let (from, to) = Self::span_of(window);
        TimesheetQuery {
            user: UserFilter::All,
            begin: Some(utc_to_local(ctx.api_zone, from - Duration::hours(1))),
            end: Some(utc_to_local(ctx.api_zone, to + Duration::hours(1))),
            ..TimesheetQuery::default()
        }
    }

    pub fn new(window: &SyncWindow, read_at: DateTime<Utc>, timesheets: Vec<Timesheet>) -> Self {
        let len = timesheets.len();
        let mut by_user: HashMap<KimaiUserId, Vec<Timesheet>> = HashMap::new();
        let mut by_key: HashMap<EntryKey, Vec<Timesheet>> = HashMap::new();
        for t in timesheets {
            if let Some(m) = t.description.as_deref().and_then(Marker::parse) {
                by_key.entry(m.key()).or_default().push(t.clone());
            }
            by_user.entry(t.user).or_default().push(t);
        }
        WindowSnapshot {
            span: Self::span_of(window),
            read_at,
            by_user,
            by_key,
            len,
        }
    }

    pub fn read_at(&self) -> DateTime<Utc> {
        self.read_at
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether every timesheet beginning in `from..=to` is in the snapshot.
    pub fn covers(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.span.0 <= from && to <= self.span.1
    }

    /// The user's timesheets beginning in `from..=to`, as a list call for that user and those
    /// bounds would answer (only meaningful where [`Self::covers`] them).
    pub fn of_user(
        &self,
        user: KimaiUserId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Iterator<Item = &Timesheet> {
        self.by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter(move |t| {
                let begin = t.begin.with_timezone(&Utc);
                from <= begin && begin <= to
            })
    }

    /// The timesheets whose marker names `key`, anywhere in the span.
    pub fn with_marker(&self, key: &EntryKey) -> &[Timesheet] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }
}
