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
//!
//! The read runs as a task of its own ([`Snapshots`]): a ticket waits for it at most
//! [`SNAPSHOT_WAIT`], then reads its own days. Against a slow Kimai, months of timesheets can
//! take longer than an invocation may last (20 pages at 2 s a call); the task goes on in the
//! instance's next invocations, and the tickets after it use the snapshot.

use super::context::Context;
use crate::upstream::Kimai;
use chrono::{DateTime, Duration, Utc};
use kimai_client::{TimesheetQuery, UserFilter};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use sync_core::desired::EntryKey;
use sync_core::ids::KimaiUserId;
use sync_core::kimai::Timesheet;
use sync_core::marker::Marker;
use sync_core::zone::utc_to_local;
use sync_store::control::RunId;
use sync_store::queue::SyncWindow;
use tokio::sync::watch;

/// Longest window read as one snapshot (a quarter). A longer backfill reads per ticket: its
/// snapshot would hold every timesheet of every user for months, in memory.
pub const MAX_SNAPSHOT_DAYS: i64 = 93;

/// How long a ticket waits for a snapshot being read before it reads its own days.
pub const SNAPSHOT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A read under way or done: `None` until it ends, then the snapshot or why it failed.
type Reading = watch::Receiver<Option<Result<Arc<WindowSnapshot>, String>>>;

/// Reads by Kimai base URL, window and run, each with when it started. A new run of the same
/// window (tonight's sweep after a backfill a minute ago) reads again: the older snapshot would
/// send every timesheet written since to a read by id.
type Reads = HashMap<(String, SyncWindow, Option<String>), (DateTime<Utc>, Reading)>;

/// The snapshots of one function instance, by Kimai and window, each read by a task of its own.
pub struct Snapshots {
    ttl: Duration,
    wait: std::time::Duration,
    reads: Mutex<Reads>,
}

impl Snapshots {
    pub fn new(ttl: Duration, wait: std::time::Duration) -> Self {
        Snapshots {
            ttl,
            wait,
            reads: Mutex::new(HashMap::new()),
        }
    }

    /// The snapshot of `window` for `run`, if it is read within the wait. A read is started
    /// unless one is under way or done within the expiry; a failed one is started again.
    pub(super) async fn get(
        &self,
        kimai: &Arc<dyn Kimai>,
        ctx: &Context,
        window: &SyncWindow,
        run: Option<&RunId>,
        now: DateTime<Utc>,
    ) -> Option<Arc<WindowSnapshot>> {
        let mut reading = self.reading(kimai, ctx, window, run, now);
        let ended = tokio::time::timeout(self.wait, reading.wait_for(Option::is_some)).await;
        match ended.ok()?.ok()?.as_ref()? {
            Ok(snapshot) => Some(snapshot.clone()),
            Err(e) => {
                tracing::warn!(error = %e, "no snapshot of the run's window; the ticket reads its own days");
                None
            }
        }
    }

    fn reading(
        &self,
        kimai: &Arc<dyn Kimai>,
        ctx: &Context,
        window: &SyncWindow,
        run: Option<&RunId>,
        now: DateTime<Utc>,
    ) -> Reading {
        let key = (
            kimai.base_url().to_owned(),
            *window,
            run.map(|r| r.0.clone()),
        );
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        reads.retain(|_, (at, _)| now - *at < self.ttl);
        if let Some((_, reading)) = reads.get(&key) {
            if !matches!(*reading.borrow(), Some(Err(_))) {
                return reading.clone();
            }
        }
        let (tx, rx) = watch::channel(None);
        let (kimai, query, window) = (kimai.clone(), WindowSnapshot::query(ctx, window), *window);
        tokio::spawn(async move {
            let read = kimai.list_timesheets(&query).await;
            let result = match read {
                Ok(timesheets) => {
                    tracing::info!(
                        from = %window.from,
                        to = %window.to,
                        timesheets = timesheets.len(),
                        "read Kimai's timesheets of the run's window"
                    );
                    Ok(Arc::new(WindowSnapshot::new(&window, now, timesheets)))
                }
                Err(e) => Err(e.to_string()),
            };
            // Nobody waiting any more is fine: the result stays in the channel.
            tx.send_replace(Some(result));
        });
        reads.insert(key, (now, rx.clone()));
        rx
    }
}

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
