//! Kimai's side of one ticket (the planner's K): linked timesheets, marker matches of unlinked
//! keys, and the timesheets of the same users on the days of entries to place (probable
//! duplicates, and the bookings new and changed entries are placed around).
//!
//! Linked timesheets are read with one list call per Kimai user over the days they are on
//! (so an unchanged ticket costs a list call per agent, not a read per timesheet); one that
//! is not in its window (moved or reassigned by hand) is then read by id. A user whose
//! entries span more than [`MAX_LIST_WINDOW_DAYS`] is read by id instead of listing a long
//! stretch of unrelated timesheets.
//!
//! In a verify sweep or a backfill, the run's snapshot of its window answers the list calls and
//! marker searches it covers ([`super::snapshot`]); only the rest reach Kimai.

use super::context::{Context, InvocationCache};
use super::snapshot::WindowSnapshot;
use super::{ReconcileError, Reconciler};
use chrono::{DateTime, Duration, Utc};
use kimai_client::{KimaiError, TimesheetQuery, UserFilter};
use std::collections::{BTreeMap, HashMap, HashSet};
use sync_core::aggregation::Aggregation;
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{AccountingId, KimaiUserId, TicketId, TimesheetId};
use sync_core::kimai::Timesheet;
use sync_core::marker::Marker;
use sync_core::plan::Base;
use sync_core::zone::{day_bounds, parse_zone, utc_to_local};
use sync_store::control::RunId;
use sync_store::entries::EntryRecord;
use sync_store::queue::SyncWindow;

/// A linked entry changed this close to the snapshot's read (or after it) is read by id: the
/// write behind the change may not be in the snapshot. Covers the clocks of two instances.
const SNAPSHOT_SKEW: Duration = Duration::seconds(5);

/// Longest stretch of one user's timesheets read with a list call; beyond it, linked
/// timesheets are read by id.
pub const MAX_LIST_WINDOW_DAYS: i64 = 31;

/// A stretch of time one list call reads.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// What was read so far, by id (a timesheet found twice counts once).
type Found = BTreeMap<TimesheetId, Timesheet>;

/// What one ticket's read of Kimai starts from.
pub(super) struct KimaiRead<'a> {
    pub(super) ticket_id: TicketId,
    pub(super) desired: &'a [DesiredTimesheet],
    pub(super) base: &'a [Base],
    pub(super) records: &'a [EntryRecord],
    /// The run's window, when the ticket belongs to a verify sweep or backfill.
    pub(super) window: Option<&'a SyncWindow>,
    /// The run it belongs to: each run reads its own snapshot.
    pub(super) run: Option<&'a RunId>,
}

impl Reconciler {
    pub(super) async fn read_kimai(
        &self,
        cache: &InvocationCache,
        ctx: &Context,
        read: KimaiRead<'_>,
    ) -> Result<Vec<Timesheet>, ReconcileError> {
        let KimaiRead {
            ticket_id,
            desired,
            base,
            records,
            window,
            run,
        } = read;
        let linked: HashSet<&EntryKey> = base.iter().map(|b| &b.key).collect();
        let unlinked: Vec<&EntryKey> = desired
            .iter()
            .map(|d| &d.key)
            .filter(|k| !linked.contains(k))
            .collect();
        // Whole days for entries to place: new ones, and linked ones whose length changed
        // (the others stay where they are in Kimai).
        let echoed: HashMap<&EntryKey, i64> = base
            .iter()
            .map(|b| (&b.key, b.echoed.duration_secs))
            .collect();
        let to_place: HashSet<&EntryKey> = desired
            .iter()
            .filter(|d| echoed.get(&d.key) != Some(&d.duration_secs))
            .map(|d| &d.key)
            .collect();

        let snapshot = match window {
            Some(w) if WindowSnapshot::fits(w) => {
                let snapshots = &cache.instance.snapshots;
                snapshots
                    .get(&self.kimai, ctx, w, run, self.stores.now())
                    .await
            }
            _ => None,
        };
        let mut found = Found::new();
        let mut windows = list_windows(ctx, desired, base, &to_place);
        let mut search: Vec<&EntryKey> = unlinked.clone();
        if let Some(snap) = &snapshot {
            windows.retain(|&user, &mut (from, to)| {
                let (from, to) = widened((from, to));
                if !snap.covers(from, to) {
                    return true;
                }
                for t in snap.of_user(user, from, to) {
                    found.entry(t.id).or_insert_with(|| t.clone());
                }
                false
            });
            search.retain(|k| !answers_marker(snap, ctx, desired, records, k));
            for key in &unlinked {
                for t in snap.with_marker(key) {
                    found.entry(t.id).or_insert_with(|| t.clone());
                }
            }
            // Our own writes since the read: those timesheets are read again by id.
            let changed_since: HashSet<TimesheetId> = records
                .iter()
                .filter(|r| r.updated_at + SNAPSHOT_SKEW >= snap.read_at())
                .filter_map(EntryRecord::kimai_id)
                .collect();
            found.retain(|id, _| !changed_since.contains(id));
        }
        self.list_in_windows(ctx, windows, &mut found).await?;
        self.read_missing_linked(base, &mut found).await?;
        let wanted: HashSet<&EntryKey> = search.iter().copied().collect();
        let terms = marker_terms(ctx, ticket_id, &search);
        self.search_markers(terms, &wanted, &mut found).await?;
        Ok(found.into_values().collect())
    }

    async fn list_in_windows(
        &self,
        ctx: &Context,
        windows: BTreeMap<KimaiUserId, Window>,
        found: &mut Found,
    ) -> Result<(), KimaiError> {
        for (user, (from, to)) in windows {
            let (from, to) = widened((from, to));
            let query = TimesheetQuery {
                user: UserFilter::One(user),
                begin: Some(utc_to_local(ctx.api_zone, from)),
                end: Some(utc_to_local(ctx.api_zone, to)),
                ..TimesheetQuery::default()
            };
            for t in self.kimai.list_timesheets(&query).await? {
                found.entry(t.id).or_insert(t);
            }
        }
        Ok(())
    }

    /// Linked timesheets no list call found, read by id; one that is gone stays missing.
    async fn read_missing_linked(
        &self,
        base: &[Base],
        found: &mut Found,
    ) -> Result<(), KimaiError> {
        let missing: Vec<TimesheetId> = base
            .iter()
            .map(|b| b.kimai_id)
            .filter(|id| !found.contains_key(id))
            .collect();
        for id in missing {
            match self.kimai.timesheet(id).await {
                Ok(t) => {
                    found.insert(t.id, t);
                }
                Err(KimaiError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Keeps only the hits whose marker names a wanted key: a `term` search matches anywhere
    /// in the description.
    async fn search_markers(
        &self,
        terms: Vec<String>,
        wanted: &HashSet<&EntryKey>,
        found: &mut Found,
    ) -> Result<(), KimaiError> {
        for term in terms {
            let query = TimesheetQuery {
                term: Some(term),
                ..TimesheetQuery::default()
            };
            for t in self.kimai.list_timesheets(&query).await? {
                let ours = t
                    .description
                    .as_deref()
                    .and_then(Marker::parse)
                    .is_some_and(|m| wanted.contains(&m.key()));
                if ours {
                    found.entry(t.id).or_insert(t);
                }
            }
        }
        Ok(())
    }
}

/// Windows per Kimai user: the echoes of linked keys, and the whole local days of the desired
/// keys to place (`to_place`; look-alikes are compared per day, and the day's bookings are
/// placed around). A user's linked timesheets join the window only while it stays within
/// [`MAX_LIST_WINDOW_DAYS`].
fn list_windows(
    ctx: &Context,
    desired: &[DesiredTimesheet],
    base: &[Base],
    to_place: &HashSet<&EntryKey>,
) -> BTreeMap<KimaiUserId, Window> {
    let mut linked_windows: BTreeMap<KimaiUserId, Window> = BTreeMap::new();
    for b in base {
        let begin = b.echoed.begin.with_timezone(&Utc);
        let end = b.echoed.end.map_or(begin, |e| e.with_timezone(&Utc));
        widen(&mut linked_windows, b.echoed.user, (begin, end));
    }
    let mut day_windows: BTreeMap<KimaiUserId, Window> = BTreeMap::new();
    for d in desired.iter().filter(|d| to_place.contains(&d.key)) {
        let zone = parse_zone(&d.zone).unwrap_or(ctx.default_zone);
        let (start, end) = day_bounds(zone, d.day);
        widen(
            &mut day_windows,
            d.user,
            (start, end - Duration::seconds(1)),
        );
    }
    let max_span = Duration::days(MAX_LIST_WINDOW_DAYS);
    let mut windows = day_windows;
    for (user, w) in linked_windows {
        let mut merged = windows.clone();
        widen(&mut merged, user, w);
        if merged[&user].1 - merged[&user].0 <= max_span {
            windows = merged;
        }
    }
    windows
}

/// The bounds a list call for `w` uses. The filter is wall-clock time in the API user's zone;
/// an hour each side keeps a DST change at the edge from cutting a timesheet off.
fn widened(w: Window) -> Window {
    (w.0 - Duration::hours(1), w.1 + Duration::hours(1))
}

/// Whether the snapshot can say if Kimai holds a timesheet with `key`'s marker: the key's day
/// lies in its span, and no create of the key was ever sent (that POST may have landed after
/// the read).
fn answers_marker(
    snap: &WindowSnapshot,
    ctx: &Context,
    desired: &[DesiredTimesheet],
    records: &[EntryRecord],
    key: &EntryKey,
) -> bool {
    let sent = records
        .iter()
        .any(|r| &r.key == key && r.create_sent_at.is_some());
    let day_inside = desired.iter().filter(|d| &d.key == key).all(|d| {
        let zone = parse_zone(&d.zone).unwrap_or(ctx.default_zone);
        let (start, end) = day_bounds(zone, d.day);
        snap.covers(start, end)
    });
    !sent && day_inside
}

fn widen(windows: &mut BTreeMap<KimaiUserId, Window>, user: KimaiUserId, w: Window) {
    windows
        .entry(user)
        .and_modify(|(from, to)| {
            *from = (*from).min(w.0);
            *to = (*to).max(w.1);
        })
        .or_insert(w);
}

/// One `term` search per unlinked key (ours), plus one for the legacy marker of the older
/// tool, which names the ticket.
fn marker_terms(ctx: &Context, ticket_id: TicketId, unlinked: &[&EntryKey]) -> Vec<String> {
    let mut terms: Vec<String> = unlinked
        .iter()
        .filter_map(|k| Marker::for_key(k))
        .map(|m| m.search_term())
        .collect();
    let per_accounting = ctx.policy.aggregation == Aggregation::PerAccounting;
    if per_accounting && unlinked.iter().any(|k| k.as_str().starts_with("ta:")) {
        terms.push(
            Marker::Legacy {
                ticket: ticket_id.0,
                accounting: AccountingId(0),
            }
            .search_term(),
        );
    }
    terms
}
