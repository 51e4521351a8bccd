//! Where on the timeline a piece of time goes.
//!
//! Zammad only knows when time was logged. The connection's [`Placement`] turns that into a
//! natural interval; then entries of the same agent are kept from overlapping:
//!
//! 1. An entry whose natural interval overlaps nothing (no other entry, no busy interval) stays
//!    exactly there, even across local midnight.
//! 2. The others are placed one by one, ordered by anchor instant then key (the entry logged
//!    first keeps its natural place if it is still free). An entry whose natural place is taken
//!    moves to the nearest free slot **earlier** inside its local day (the day of its anchor);
//!    if there is none, the nearest free slot **later** inside that day; if the day is full, it
//!    stays where it was (Kimai may then reject the overlap; that surfaces as a conflict).
//!
//! All arithmetic is on UTC instants, so a 23- or 25-hour DST day is just a shorter or longer
//! window.
//!
//! No begin or end may fall in the second pass of an autumn fall-back (02:00–03:00 CET in
//! Berlin): Kimai reads local times without offset, so it would book them an hour off
//! (`zone::reads_back`). An entry with such an end moves like one that overlaps (earlier
//! first: to end a minute before the repeated hour; else to begin when it is over), keeping
//! its duration, and says why ([`Moved::RepeatedHour`]). An entry spanning the repeated hour
//! is fine and stays.

use crate::desired::EntryKey;
use crate::ids::ZammadUserId;
use crate::zone::{day_bounds, repeated_span};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// The work ended when it was logged: begin = created_at − duration.
    #[default]
    EndAtLogged,
    /// The work began when it was logged: end = created_at + duration.
    BeginAtLogged,
}

/// A time the agent is already booked elsewhere (e.g. another ticket's timesheet in Kimai).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyInterval {
    pub agent_id: ZammadUserId,
    pub begin: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What already holds time on the agents' days, for placing new entries around it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taken {
    /// Other bookings of the agents (other tickets' timesheets, time entered by hand in
    /// Kimai): avoided, never moved.
    pub busy: Vec<BusyInterval>,
    /// Entries already in Kimai, by key, where they are there: an entry whose length did not
    /// change stays exactly there, and the others are placed around it. Entries in Kimai are
    /// never moved to make room.
    pub pinned: HashMap<EntryKey, (DateTime<Utc>, DateTime<Utc>)>,
}

impl Taken {
    pub fn busy(busy: Vec<BusyInterval>) -> Taken {
        Taken {
            busy,
            ..Taken::default()
        }
    }
}

/// One entry to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementRequest {
    pub key: EntryKey,
    pub agent_id: ZammadUserId,
    pub zone: Tz,
    /// Local day that bounds any move.
    pub day: NaiveDate,
    pub anchor: DateTime<Utc>,
    pub duration_secs: i64,
    /// Clamp the natural interval into `day` first (aggregates).
    pub keep_within_day: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub begin: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Shifted away from its natural interval, and why.
    pub moved: Option<Moved>,
    /// Its natural interval is taken and its day has no free slot as long as it: the day's
    /// bookings, by begin. It stays where it was (and is reported, not written).
    pub no_room: Option<Vec<(DateTime<Utc>, DateTime<Utc>)>>,
}

/// Why an entry left its natural interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moved {
    /// It overlapped another entry or a busy interval of the agent.
    Overlap,
    /// Its begin or end fell in the repeated hour of a fall-back, which Kimai cannot tell from
    /// the first pass.
    RepeatedHour,
}

/// How far before a fall-back's second pass an entry moved earlier ends or begins: an end
/// right at its start cannot be written (the wall time names the first pass), and whole
/// minutes suit Kimai's rounding.
const BEFORE_REPEATED: Duration = Duration::minutes(1);

/// The fall-back second passes on an agent's days: no begin or end may fall in one.
struct Folds(Vec<Span>);

impl Folds {
    /// The repeated spans on the local days of `indices`' entries.
    fn of(requests: &[PlacementRequest], indices: &[usize]) -> Folds {
        let mut spans: Vec<Span> = indices
            .iter()
            .filter_map(|&i| repeated_span(requests[i].zone, requests[i].day))
            .collect();
        spans.sort();
        spans.dedup();
        Folds(spans)
    }

    /// The span `t` falls in.
    fn holding(&self, t: DateTime<Utc>) -> Option<Span> {
        self.0.iter().copied().find(|&(s, e)| s <= t && t < e)
    }

    fn expressible(&self, (begin, end): Span) -> bool {
        self.holding(begin).is_none() && self.holding(end).is_none()
    }

    /// The latest begin at or before `begin` for an entry of length `d` that Kimai can read.
    fn earlier(&self, mut begin: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
        for _ in 0..2 * self.0.len() + 1 {
            begin = match (self.holding(begin), self.holding(begin + d)) {
                (Some((s, _)), _) => s - BEFORE_REPEATED,
                (None, Some((s, _))) => s - BEFORE_REPEATED - d,
                (None, None) => return begin,
            };
        }
        begin
    }

    /// The earliest begin at or after `begin` for an entry of length `d` that Kimai can read.
    fn later(&self, mut begin: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
        for _ in 0..2 * self.0.len() + 1 {
            begin = match (self.holding(begin), self.holding(begin + d)) {
                (Some((_, e)), _) => e,
                (None, Some((_, e))) => e - d,
                (None, None) => return begin,
            };
        }
        begin
    }
}

impl Placement {
    pub fn natural(
        self,
        anchor: DateTime<Utc>,
        duration_secs: i64,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let d = Duration::seconds(duration_secs);
        match self {
            Placement::EndAtLogged => (anchor - d, anchor),
            Placement::BeginAtLogged => (anchor, anchor + d),
        }
    }
}

fn natural_of(policy: Placement, r: &PlacementRequest) -> (DateTime<Utc>, DateTime<Utc>) {
    let (mut begin, mut end) = policy.natural(r.anchor, r.duration_secs);
    if r.keep_within_day {
        let (start, stop) = day_bounds(r.zone, r.day);
        let d = Duration::seconds(r.duration_secs);
        if end > stop {
            end = stop;
            begin = end - d;
        }
        if begin < start {
            begin = start;
            end = begin + d;
        }
    }
    (begin, end)
}

/// A half-open `[begin, end)` span of time.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// Intervals already placed for one agent, by begin. `max_len` bounds the look-back of range
/// queries, so overlap checks are logarithmic plus the hits.
#[derive(Default)]
struct Timeline {
    by_begin: BTreeMap<(DateTime<Utc>, usize), DateTime<Utc>>,
    max_len: Duration,
}

impl Timeline {
    fn insert(&mut self, begin: DateTime<Utc>, end: DateTime<Utc>) {
        let seq = self.by_begin.len();
        self.by_begin.insert((begin, seq), end);
        self.max_len = self.max_len.max(end - begin);
    }

    /// Placed intervals that intersect `[from, to)`, ordered by begin.
    fn within(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let lo = (from - self.max_len, 0);
        self.by_begin
            .range(lo..(to, 0))
            .map(|(&(b, _), &e)| (b, e))
            .filter(move |&(_, e)| e > from)
    }

    fn is_free(&self, begin: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.within(begin, end).next().is_none()
    }

    /// The free slot of length `d` inside `[start, stop)` nearest to `natural` whose begin and
    /// end Kimai can read: earlier first, then later.
    fn nearest_free(
        &self,
        start: DateTime<Utc>,
        stop: DateTime<Utc>,
        natural: (DateTime<Utc>, DateTime<Utc>),
        d: Duration,
        folds: &Folds,
    ) -> Option<DateTime<Utc>> {
        let mut gaps = Vec::new();
        let mut cursor = start;
        for (b, e) in self.within(start, stop) {
            if b > cursor {
                gaps.push((cursor, b));
            }
            cursor = cursor.max(e);
        }
        if cursor < stop {
            gaps.push((cursor, stop));
        }
        let earlier = gaps
            .iter()
            .filter_map(|&(gs, ge)| {
                let begin = folds.earlier(ge.min(natural.1) - d, d);
                (begin >= gs && begin < natural.0).then_some(begin)
            })
            .max();
        earlier.or_else(|| {
            gaps.iter()
                .filter_map(|&(gs, ge)| {
                    let begin = folds.later(gs.max(natural.0), d);
                    (begin >= gs && begin + d <= ge).then_some(begin)
                })
                .min()
        })
    }
}

/// Place every request; the result is in the order of `requests`.
pub fn place(policy: Placement, requests: &[PlacementRequest], taken: &Taken) -> Vec<Placed> {
    // A pinned entry's natural place is where it is in Kimai. Kimai keeps whole seconds and
    // Zammad logs milliseconds: where Kimai holds the natural interval to the second, the
    // natural interval itself is kept, so the entry reads as unchanged since it was written.
    let naturals: Vec<_> = requests
        .iter()
        .map(|r| {
            let natural = natural_of(policy, r);
            match pinned_span(taken, r) {
                Some(pinned) if !same_second(pinned, natural) => pinned,
                _ => natural,
            }
        })
        .collect();
    let mut out: Vec<Placed> = naturals
        .iter()
        .map(|&(begin, end)| Placed {
            begin,
            end,
            moved: None,
            no_room: None,
        })
        .collect();

    let mut by_agent: HashMap<ZammadUserId, Vec<usize>> = HashMap::new();
    for (i, r) in requests.iter().enumerate() {
        by_agent.entry(r.agent_id).or_default().push(i);
    }
    let mut busy_by_agent: HashMap<ZammadUserId, Vec<Span>> = HashMap::new();
    for b in taken.busy.iter().filter(|b| b.end > b.begin) {
        busy_by_agent
            .entry(b.agent_id)
            .or_default()
            .push((b.begin, b.end));
    }

    // Agents are independent; iterate them in id order only so that debugging is reproducible.
    let mut agents: Vec<_> = by_agent.into_iter().collect();
    agents.sort_by_key(|(a, _)| *a);
    for (agent, indices) in agents {
        let mut busy = busy_by_agent.remove(&agent).unwrap_or_default();
        let folds = Folds::of(requests, &indices);
        // 0. Entries in Kimai stay where they are: they are busy time for the others.
        let (pinned, indices): (Vec<usize>, Vec<usize>) = indices
            .into_iter()
            .partition(|&i| pinned_span(taken, &requests[i]).is_some());
        busy.extend(pinned.iter().map(|&i| naturals[i]));
        let overlapping = overlapping_entries(&indices, &naturals, &busy);
        let mut timeline = Timeline::default();
        for &(b, e) in &busy {
            timeline.insert(b, e);
        }
        // 1. Entries that overlap nothing, and that Kimai can read, are fixed where they are.
        let mut rest = Vec::new();
        for &i in &indices {
            if overlapping.contains(&i) || !folds.expressible(naturals[i]) {
                rest.push(i);
            } else {
                timeline.insert(naturals[i].0, naturals[i].1);
            }
        }
        // 2. The others, first logged first.
        rest.sort_by(|&a, &b| {
            (requests[a].anchor, &requests[a].key).cmp(&(requests[b].anchor, &requests[b].key))
        });
        for i in rest {
            let (nb, ne) = naturals[i];
            let readable = folds.expressible((nb, ne));
            if readable && timeline.is_free(nb, ne) {
                timeline.insert(nb, ne);
                continue;
            }
            let r = &requests[i];
            let (start, stop) = day_bounds(r.zone, r.day);
            let d = Duration::seconds(r.duration_secs);
            if let Some(begin) = timeline.nearest_free(start, stop, (nb, ne), d, &folds) {
                let why = if readable {
                    Moved::Overlap
                } else {
                    Moved::RepeatedHour
                };
                out[i] = Placed {
                    begin,
                    end: begin + d,
                    moved: Some(why),
                    no_room: None,
                };
                timeline.insert(begin, begin + d);
            } else if !timeline.is_free(nb, ne) {
                // Not written (a `no_room_on_day` conflict), so it takes no room either.
                out[i].no_room = Some(timeline.within(start, stop).collect());
            }
            // Else its natural place is free but Kimai cannot read it and the day has no
            // other room: it becomes `ambiguous_local_time`, and takes no room either.
        }
    }
    out
}

fn same_second(a: Span, b: Span) -> bool {
    a.0.timestamp() == b.0.timestamp() && a.1.timestamp() == b.1.timestamp()
}

/// Where the request's entry is in Kimai, when it is pinned there and its length is unchanged
/// (an entry whose Zammad time changed is placed again).
fn pinned_span(taken: &Taken, r: &PlacementRequest) -> Option<Span> {
    taken
        .pinned
        .get(&r.key)
        .copied()
        .filter(|&(b, e)| (e - b).num_seconds() == r.duration_secs)
}

/// Indices (of `indices`) whose natural interval overlaps another entry's or a busy interval.
/// A sweep over intervals sorted by begin: an interval that starts before the running maximum
/// end overlaps the interval holding that maximum.
fn overlapping_entries(
    indices: &[usize],
    naturals: &[Span],
    busy: &[Span],
) -> std::collections::HashSet<usize> {
    // `None` marks a busy interval: it can make entries overlap but is never moved itself.
    let mut all: Vec<(DateTime<Utc>, DateTime<Utc>, Option<usize>)> = indices
        .iter()
        .map(|&i| (naturals[i].0, naturals[i].1, Some(i)))
        .chain(busy.iter().map(|&(b, e)| (b, e, None)))
        .collect();
    all.sort_by_key(|&(b, e, i)| (b, e, i));
    let mut result = std::collections::HashSet::new();
    let mut holder: Option<(DateTime<Utc>, Option<usize>)> = None;
    for (b, e, i) in all {
        if let Some((max_end, h)) = holder {
            if b < max_end {
                result.extend(i);
                result.extend(h);
            }
            if e > max_end {
                holder = Some((e, i));
            }
        } else {
            holder = Some((e, i));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::{local_to_utc, reads_back, utc_to_local};
    use chrono::NaiveDateTime;

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn at(zone: Tz, local: &str) -> DateTime<Utc> {
        local_to_utc(
            zone,
            NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").unwrap(),
        )
    }

    fn req(key: &str, zone: Tz, local_anchor: &str, minutes: i64) -> PlacementRequest {
        let anchor = at(zone, local_anchor);
        PlacementRequest {
            key: EntryKey(key.into()),
            agent_id: ZammadUserId(1),
            zone,
            day: crate::zone::local_date(zone, anchor),
            anchor,
            duration_secs: minutes * 60,
            keep_within_day: false,
        }
    }

    fn local(zone: Tz, p: &Placed) -> (String, String) {
        (
            utc_to_local(zone, p.begin).to_string(),
            utc_to_local(zone, p.end).to_string(),
        )
    }

    #[test]
    fn end_at_logged_and_begin_at_logged() {
        let r = req("ta:1", BERLIN, "2026-05-04T10:00", 30);
        let p = place(
            Placement::EndAtLogged,
            std::slice::from_ref(&r),
            &Taken::default(),
        );
        assert_eq!(local(BERLIN, &p[0]).0, "2026-05-04T09:30:00");
        let p = place(Placement::BeginAtLogged, &[r], &Taken::default());
        assert_eq!(local(BERLIN, &p[0]).1, "2026-05-04T10:30:00");
    }

    #[test]
    fn logged_just_after_midnight_crosses_midnight_when_it_overlaps_nothing() {
        let r = req("ta:1", BERLIN, "2026-05-05T00:10", 45);
        let p = place(Placement::EndAtLogged, &[r], &Taken::default());
        assert_eq!(
            local(BERLIN, &p[0]),
            ("2026-05-04T23:25:00".into(), "2026-05-05T00:10:00".into())
        );
        assert!(p[0].moved.is_none());
    }

    #[test]
    fn overlapping_entry_after_midnight_moves_later_within_its_own_day() {
        // Both logged just after midnight; the second cannot go earlier within 5 May.
        let a = req("ta:1", BERLIN, "2026-05-05T00:10", 45);
        let b = req("ta:2", BERLIN, "2026-05-05T00:20", 30);
        let p = place(Placement::EndAtLogged, &[a, b], &Taken::default());
        assert_eq!(local(BERLIN, &p[0]).0, "2026-05-04T23:25:00");
        assert!(p[0].moved.is_none());
        assert_eq!(
            local(BERLIN, &p[1]),
            ("2026-05-05T00:10:00".into(), "2026-05-05T00:40:00".into())
        );
        assert!(p[1].moved.is_some());
    }

    #[test]
    fn a_full_day_of_overlaps_is_packed_earlier_without_overlap() {
        // Eight one-hour bookings all logged at 17:00 end up back to back 09:00–17:00.
        let reqs: Vec<_> = (1..=8)
            .map(|i| req(&format!("ta:{i}"), BERLIN, "2026-05-04T17:00", 60))
            .collect();
        let p = place(Placement::EndAtLogged, &reqs, &Taken::default());
        let mut spans: Vec<_> = p.iter().map(|x| local(BERLIN, x)).collect();
        spans.sort();
        let expected: Vec<_> = (9..17)
            .map(|h| {
                (
                    format!("2026-05-04T{h:02}:00:00"),
                    format!("2026-05-04T{:02}:00:00", h + 1),
                )
            })
            .collect();
        assert_eq!(spans, expected);
        // The first by key keeps its natural place.
        assert_eq!(local(BERLIN, &p[0]).0, "2026-05-04T16:00:00");
        assert!(p[0].moved.is_none() && p[1..].iter().all(|x| x.moved.is_some()));
    }

    #[test]
    fn moves_later_when_nothing_earlier_is_free() {
        // 00:00–12:00 is busy, a 2 h entry logged 11:00 must go after noon.
        let busy = BusyInterval {
            agent_id: ZammadUserId(1),
            begin: at(BERLIN, "2026-05-04T00:00"),
            end: at(BERLIN, "2026-05-04T12:00"),
        };
        let p = place(
            Placement::EndAtLogged,
            &[req("ta:1", BERLIN, "2026-05-04T11:00", 120)],
            &Taken::busy(vec![busy]),
        );
        assert_eq!(local(BERLIN, &p[0]).0, "2026-05-04T12:00:00");
        assert!(p[0].moved.is_some());
    }

    #[test]
    fn a_full_day_leaves_the_entry_where_it_was() {
        let busy = BusyInterval {
            agent_id: ZammadUserId(1),
            begin: at(BERLIN, "2026-05-04T00:00"),
            end: at(BERLIN, "2026-05-05T00:00"),
        };
        let p = place(
            Placement::EndAtLogged,
            &[req("ta:1", BERLIN, "2026-05-04T11:00", 60)],
            &Taken::busy(vec![busy]),
        );
        assert_eq!(local(BERLIN, &p[0]).0, "2026-05-04T10:00:00");
        assert!(p[0].moved.is_none());
        // It says so, with the day's bookings.
        let taken = p[0].no_room.as_ref().unwrap();
        assert_eq!(
            taken,
            &vec![(
                at(BERLIN, "2026-05-04T00:00"),
                at(BERLIN, "2026-05-05T00:00")
            )]
        );
    }

    #[test]
    fn entries_in_kimai_stay_where_they_are_and_new_ones_move_around_them() {
        // ta:1 is in Kimai at 14:00–15:00 (moved there by hand, say); ta:2, logged at 14:30,
        // would overlap it and moves earlier.
        let one = req("ta:1", BERLIN, "2026-05-04T10:00", 60);
        let two = req("ta:2", BERLIN, "2026-05-04T14:30", 30);
        let taken = Taken {
            pinned: HashMap::from([(
                one.key.clone(),
                (
                    at(BERLIN, "2026-05-04T14:00"),
                    at(BERLIN, "2026-05-04T15:00"),
                ),
            )]),
            ..Taken::default()
        };
        let p = place(Placement::EndAtLogged, &[one.clone(), two], &taken);
        assert_eq!(
            local(BERLIN, &p[0]),
            ("2026-05-04T14:00:00".into(), "2026-05-04T15:00:00".into())
        );
        assert_eq!(p[0].moved, None);
        assert_eq!(
            local(BERLIN, &p[1]),
            ("2026-05-04T13:30:00".into(), "2026-05-04T14:00:00".into())
        );
        assert_eq!(p[1].moved, Some(Moved::Overlap));
        // Its Zammad time changed (45 minutes now): placed again from where it was logged.
        let mut longer = one;
        longer.duration_secs = 45 * 60;
        let p = place(Placement::EndAtLogged, &[longer], &taken);
        assert_eq!(local(BERLIN, &p[0]).0, "2026-05-04T09:15:00");
    }

    /// The example day of docs/core.md.
    #[test]
    fn the_example_day_of_the_docs() {
        let meeting = BusyInterval {
            agent_id: ZammadUserId(1),
            begin: at(BERLIN, "2026-05-04T09:00"),
            end: at(BERLIN, "2026-05-04T10:00"),
        };
        let ticket_a = BusyInterval {
            begin: at(BERLIN, "2026-05-04T10:30"),
            end: at(BERLIN, "2026-05-04T11:00"),
            ..meeting
        };
        let reqs = [
            req("ta:1", BERLIN, "2026-05-04T10:15", 30),
            req("ta:2", BERLIN, "2026-05-04T14:00", 45),
        ];
        let p = place(
            Placement::EndAtLogged,
            &reqs,
            &Taken::busy(vec![meeting, ticket_a]),
        );
        assert_eq!(
            local(BERLIN, &p[0]),
            ("2026-05-04T08:30:00".into(), "2026-05-04T09:00:00".into())
        );
        assert_eq!(
            local(BERLIN, &p[1]),
            ("2026-05-04T13:15:00".into(), "2026-05-04T14:00:00".into())
        );
        assert_eq!((p[0].moved, p[1].moved), (Some(Moved::Overlap), None));
    }

    #[test]
    fn other_agents_and_non_overlapping_entries_are_never_moved() {
        let a = req("ta:1", BERLIN, "2026-05-04T10:00", 60);
        let mut b = req("ta:2", BERLIN, "2026-05-04T10:00", 60);
        b.agent_id = ZammadUserId(2);
        let c = req("ta:3", BERLIN, "2026-05-04T12:00", 60);
        let p = place(Placement::EndAtLogged, &[a, b, c], &Taken::default());
        assert!(p.iter().all(|x| x.moved.is_none()));
    }

    #[test]
    fn an_entry_that_overlaps_nothing_keeps_its_place_even_if_a_moved_one_wants_it() {
        // 1 and 2 overlap at 16–17; 3 sits free at 15–16. 2 must skip over 3 to 14–15.
        let reqs = [
            req("ta:1", BERLIN, "2026-05-04T17:00", 60),
            req("ta:2", BERLIN, "2026-05-04T17:00", 60),
            req("ta:3", BERLIN, "2026-05-04T16:00", 60),
        ];
        let p = place(Placement::EndAtLogged, &reqs, &Taken::default());
        assert_eq!(local(BERLIN, &p[2]).0, "2026-05-04T15:00:00");
        assert!(p[2].moved.is_none());
        assert_eq!(local(BERLIN, &p[1]).0, "2026-05-04T14:00:00");
    }

    #[test]
    fn spring_forward_day_in_berlin() {
        // 03:30 CEST on 29 March; 90 min end_at_logged begins at 01:00 CET (the clock skips 02:xx).
        let r = req("ta:1", BERLIN, "2026-03-29T03:30", 90);
        let p = place(
            Placement::EndAtLogged,
            std::slice::from_ref(&r),
            &Taken::default(),
        );
        assert_eq!(local(BERLIN, &p[0]).0, "2026-03-29T01:00:00");
        assert_eq!((p[0].end - p[0].begin).num_minutes(), 90);
        // A second, 30 min, logged at the same time: its natural 03:00–03:30 is taken, so it
        // moves earlier to the only free half hour before, 00:30–01:00 CET.
        let r2 = PlacementRequest {
            key: EntryKey("ta:2".into()),
            duration_secs: 30 * 60,
            ..r.clone()
        };
        let p = place(Placement::EndAtLogged, &[r, r2], &Taken::default());
        assert_eq!(
            local(BERLIN, &p[1]),
            ("2026-03-29T00:30:00".into(), "2026-03-29T01:00:00".into())
        );
    }

    #[test]
    fn fall_back_day_in_new_york() {
        let ny = chrono_tz::America::New_York;
        // 01:30 happens twice on 1 Nov 2026; the earlier (EDT) instant is meant.
        let r = req("ta:1", ny, "2026-11-01T01:30", 60);
        let p = place(Placement::EndAtLogged, &[r], &Taken::default());
        assert_eq!(
            local(ny, &p[0]),
            ("2026-11-01T00:30:00".into(), "2026-11-01T01:30:00".into())
        );
        let r = req("ta:2", ny, "2026-11-01T02:00", 60);
        let p = place(Placement::EndAtLogged, &[r], &Taken::default());
        // 60 real minutes before 02:00 EST begin at 01:00 EST, the second 01:00 of the day,
        // which Kimai would read as EDT: the entry moves before the repeated hour instead.
        assert_eq!(
            local(ny, &p[0]),
            ("2026-11-01T00:59:00".into(), "2026-11-01T01:59:00".into())
        );
        assert_eq!(p[0].moved, Some(Moved::RepeatedHour));
        assert_eq!((p[0].end - p[0].begin).num_minutes(), 60);
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// Logged at `anchor` (UTC) in Berlin on the fall-back day, lasting `minutes`.
    fn fold_req(key: &str, anchor: &str, minutes: i64) -> PlacementRequest {
        let anchor = utc(anchor);
        PlacementRequest {
            day: crate::zone::local_date(BERLIN, anchor),
            anchor,
            ..req(key, BERLIN, "2026-10-25T12:00", minutes)
        }
    }

    #[test]
    fn time_in_the_repeated_hour_moves_before_it_with_its_duration() {
        // Logged at 02:40 CET, the second pass: 02:10–02:40 CET cannot be written for Kimai.
        let p = place(
            Placement::EndAtLogged,
            &[fold_req("ta:1", "2026-10-25T01:40:00Z", 30)],
            &Taken::default(),
        );
        assert_eq!(p[0].moved, Some(Moved::RepeatedHour));
        assert_eq!(
            (p[0].begin, p[0].end),
            (utc("2026-10-25T00:29:00Z"), utc("2026-10-25T00:59:00Z"))
        );
        assert!(reads_back(BERLIN, p[0].begin) && reads_back(BERLIN, p[0].end));
        // Beginning in the first pass and ending in the second: moved the same way.
        let p = place(
            Placement::EndAtLogged,
            &[fold_req("ta:2", "2026-10-25T01:10:00Z", 30)],
            &Taken::default(),
        );
        assert_eq!(
            (p[0].begin, p[0].end),
            (utc("2026-10-25T00:29:00Z"), utc("2026-10-25T00:59:00Z"))
        );
        // Wholly in the first pass (02:05–02:20 CEST): where it was.
        let p = place(
            Placement::EndAtLogged,
            &[fold_req("ta:3", "2026-10-25T00:20:00Z", 15)],
            &Taken::default(),
        );
        assert_eq!(p[0].moved, None);
        assert_eq!(p[0].begin, utc("2026-10-25T00:05:00Z"));
        // Before the repeated hour is taken: after it, from 03:00 CET.
        let busy = [BusyInterval {
            agent_id: ZammadUserId(1),
            begin: utc("2026-10-24T22:00:00Z"),
            end: utc("2026-10-25T01:00:00Z"),
        }];
        let p = place(
            Placement::BeginAtLogged,
            &[fold_req("ta:4", "2026-10-25T01:20:00Z", 30)],
            &Taken::busy(busy.to_vec()),
        );
        assert_eq!(p[0].moved, Some(Moved::RepeatedHour));
        assert_eq!(
            (p[0].begin, p[0].end),
            (utc("2026-10-25T02:00:00Z"), utc("2026-10-25T02:30:00Z"))
        );
    }

    #[test]
    fn a_day_without_room_outside_the_repeated_hour_leaves_the_entry_where_it_was() {
        let busy = [
            BusyInterval {
                agent_id: ZammadUserId(1),
                begin: utc("2026-10-24T22:00:00Z"),
                end: utc("2026-10-25T00:59:00Z"),
            },
            BusyInterval {
                agent_id: ZammadUserId(1),
                begin: utc("2026-10-25T02:00:00Z"),
                end: utc("2026-10-25T23:00:00Z"),
            },
        ];
        let p = place(
            Placement::EndAtLogged,
            &[fold_req("ta:1", "2026-10-25T01:40:00Z", 30)],
            &Taken::busy(busy.to_vec()),
        );
        // The mapping then parks it as `ambiguous_local_time`.
        assert_eq!(p[0].moved, None);
        assert!(!reads_back(BERLIN, p[0].end));
    }

    #[test]
    fn aggregates_are_kept_inside_their_day() {
        let mut r = req("agg:x", BERLIN, "2026-05-05T00:10", 60);
        r.keep_within_day = true;
        let p = place(Placement::EndAtLogged, &[r], &Taken::default());
        assert_eq!(
            local(BERLIN, &p[0]),
            ("2026-05-05T00:00:00".into(), "2026-05-05T01:00:00".into())
        );
    }
}
