//! The time pipeline: Zammad accountings → timed entries (key, day, begin, end, duration).
//!
//! Order: convert units → net corrections per (ticket, agent, type) → aggregate → round →
//! place without overlap. Rounding comes before placement so the placed interval has the
//! rounded length.

use crate::aggregation::{Aggregation, GroupKey, aggregate};
use crate::desired::EntryKey;
use crate::ids::{AccountingId, AccountingTypeId, TicketId, ZammadUserId};
use crate::kimai::KimaiLocalDateTime;
use crate::netting::{Booking, net_group};
use crate::placement::{Moved, Placement, PlacementRequest, Taken, place};
use crate::rounding::{Rounding, RoundingError};
use crate::units::{TimeUnit, UnitError};
use crate::zammad::TimeAccounting;
use crate::zone::utc_to_local;
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap, HashSet};
use thiserror::Error;

/// The time policy of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimePolicy {
    pub unit: TimeUnit,
    pub placement: Placement,
    pub aggregation: Aggregation,
    pub rounding: Rounding,
}

impl TimePolicy {
    /// Minutes, end_at_logged, per accounting, no rounding.
    pub fn new(unit: TimeUnit) -> Self {
        TimePolicy {
            unit,
            placement: Placement::default(),
            aggregation: Aggregation::default(),
            rounding: Rounding::NONE,
        }
    }
}

/// Which zone each agent's time is placed in: the mapped Kimai user's zone, else the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zones {
    pub default_zone: Tz,
    pub by_agent: HashMap<ZammadUserId, Tz>,
}

impl Zones {
    pub fn new(default_zone: Tz) -> Self {
        Zones {
            default_zone,
            by_agent: HashMap::new(),
        }
    }

    pub fn of(&self, agent: ZammadUserId) -> Tz {
        self.by_agent
            .get(&agent)
            .copied()
            .unwrap_or(self.default_zone)
    }
}

/// Bad input: the whole batch is refused, so no correction is ever applied to half a group.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NormaliseError {
    #[error("accounting {accounting}: {source}")]
    Unit {
        accounting: AccountingId,
        source: UnitError,
    },
    #[error("accounting {0} appears twice in the input")]
    DuplicateAccounting(AccountingId),
    #[error(transparent)]
    Rounding(#[from] RoundingError),
}

/// A piece of Zammad time with its place on the timeline, ready for mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedEntry {
    pub key: EntryKey,
    pub ticket_id: TicketId,
    pub agent_id: ZammadUserId,
    pub type_id: Option<AccountingTypeId>,
    pub accounting_ids: Vec<AccountingId>,
    pub zone: Tz,
    /// Local day of the anchor (`created_at`); the day an aggregate stands for.
    pub anchor_day: NaiveDate,
    pub begin_utc: DateTime<Utc>,
    pub end_utc: DateTime<Utc>,
    /// After rounding; always positive.
    pub duration_secs: i64,
    /// After corrections, before rounding.
    pub net_secs: i64,
    /// Shifted from its natural position (to avoid an overlap or a repeated hour).
    pub moved: Option<Moved>,
    /// No free slot on its day: the day's bookings (see [`crate::placement::Placed`]).
    pub no_room: Option<Vec<(DateTime<Utc>, DateTime<Utc>)>>,
}

impl TimedEntry {
    /// Whole seconds, as Kimai keeps them and as a stored desired timesheet reads back: Zammad's
    /// instants carry milliseconds, and a local time that kept them would never compare equal to
    /// its stored self, so every unchanged entry would be written again on each pass.
    pub fn begin_local(&self) -> KimaiLocalDateTime {
        whole_seconds(utc_to_local(self.zone, self.begin_utc))
    }

    pub fn end_local(&self) -> KimaiLocalDateTime {
        whole_seconds(utc_to_local(self.zone, self.end_utc))
    }

    /// Local day of `begin`: the day Kimai lists the timesheet on.
    pub fn begin_day(&self) -> NaiveDate {
        self.begin_local().0.date()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalised {
    /// Sorted by key.
    pub entries: Vec<TimedEntry>,
    /// Positive time that rounding brought to zero (policy `down`/`nearest` without minimum):
    /// no timesheet, listed so it is visible rather than silently gone.
    pub rounded_away: Vec<EntryKey>,
}

pub fn normalise(
    accountings: &[TimeAccounting],
    policy: &TimePolicy,
    zones: &Zones,
    taken: &Taken,
) -> Result<Normalised, NormaliseError> {
    policy.rounding.validate()?;
    let mut seen = HashSet::with_capacity(accountings.len());
    let mut groups: BTreeMap<GroupKey, Vec<Booking>> = BTreeMap::new();
    for a in accountings {
        if !seen.insert(a.id) {
            return Err(NormaliseError::DuplicateAccounting(a.id));
        }
        let secs = policy
            .unit
            .to_seconds(a.amount)
            .map_err(|source| NormaliseError::Unit {
                accounting: a.id,
                source,
            })?;
        let group = GroupKey {
            ticket_id: a.ticket_id,
            agent_id: a.agent_id,
            type_id: a.type_id,
        };
        groups.entry(group).or_default().push(Booking {
            id: a.id,
            created_at: a.created_at,
            secs,
        });
    }

    let mut unplaced = Vec::new();
    let mut rounded_away = Vec::new();
    for (group, bookings) in &groups {
        let zone = zones.of(group.agent_id);
        let netted = net_group(bookings);
        for mut u in aggregate(policy.aggregation, policy.placement, *group, zone, &netted) {
            let rounded = policy.rounding.apply(u.net_secs);
            if rounded <= 0 {
                rounded_away.push(u.key);
                continue;
            }
            let net = std::mem::replace(&mut u.net_secs, rounded);
            unplaced.push((u, net));
        }
    }

    let requests: Vec<PlacementRequest> = unplaced
        .iter()
        .map(|(u, _)| PlacementRequest {
            key: u.key.clone(),
            agent_id: u.group.agent_id,
            zone: u.zone,
            day: u.day,
            anchor: u.anchor,
            duration_secs: u.net_secs,
            keep_within_day: u.keep_within_day,
        })
        .collect();
    let placed = place(policy.placement, &requests, taken);

    let mut entries: Vec<TimedEntry> = unplaced
        .into_iter()
        .zip(placed)
        .map(|((u, net_secs), p)| TimedEntry {
            key: u.key,
            ticket_id: u.group.ticket_id,
            agent_id: u.group.agent_id,
            type_id: u.group.type_id,
            accounting_ids: u.accounting_ids,
            zone: u.zone,
            anchor_day: u.day,
            begin_utc: p.begin,
            end_utc: p.end,
            duration_secs: u.net_secs,
            net_secs,
            moved: p.moved,
            no_room: p.no_room,
        })
        .collect();
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    rounded_away.sort();
    Ok(Normalised {
        entries,
        rounded_away,
    })
}

fn whole_seconds(t: KimaiLocalDateTime) -> KimaiLocalDateTime {
    KimaiLocalDateTime(t.0.trunc_subsecs(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rounding::RoundingMode;
    use chrono::TimeZone;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn acc(
        id: u64,
        agent: u64,
        ty: Option<u64>,
        amount: &str,
        at: DateTime<Utc>,
    ) -> TimeAccounting {
        TimeAccounting {
            id: AccountingId(id),
            ticket_id: TicketId(1),
            article_id: None,
            amount: Decimal::from_str(amount).unwrap(),
            type_id: ty.map(AccountingTypeId),
            agent_id: ZammadUserId(agent),
            created_at: at,
            updated_at: at,
        }
    }

    fn utc(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, h, m, 0).unwrap()
    }

    fn berlin() -> Zones {
        Zones::new(chrono_tz::Europe::Berlin)
    }

    #[test]
    fn hours_unit_places_in_the_agents_zone() {
        let mut zones = berlin();
        zones
            .by_agent
            .insert(ZammadUserId(2), chrono_tz::America::New_York);
        let out = normalise(
            &[acc(1, 2, None, "1.25", utc(14, 0))],
            &TimePolicy::new(TimeUnit::Hours),
            &zones,
            &Taken::default(),
        )
        .unwrap();
        let e = &out.entries[0];
        assert_eq!(e.duration_secs, 75 * 60);
        assert_eq!(e.begin_local().to_string(), "2026-05-04T08:45:00");
        assert_eq!(e.end_local().to_string(), "2026-05-04T10:00:00");
        assert_eq!(e.zone, chrono_tz::America::New_York);
    }

    #[test]
    fn local_times_are_whole_seconds_like_their_stored_form() {
        // Zammad stamps accountings to the millisecond.
        let at = utc(14, 0) + chrono::Duration::milliseconds(305);
        let out = normalise(
            &[acc(1, 2, None, "15", at)],
            &TimePolicy::new(TimeUnit::Minutes),
            &berlin(),
            &Taken::default(),
        )
        .unwrap();
        let e = &out.entries[0];
        for local in [e.begin_local(), e.end_local()] {
            let stored = KimaiLocalDateTime::parse(&local.to_string()).unwrap();
            assert_eq!(local, stored);
        }
        assert_eq!(e.end_local().to_string(), "2026-05-04T16:00:00");
    }

    #[test]
    fn custom_factor_unit() {
        let unit = TimeUnit::minutes_per_unit(Decimal::from(6)).unwrap();
        let out = normalise(
            &[acc(1, 2, None, "2.5", utc(9, 0))],
            &TimePolicy::new(unit),
            &berlin(),
            &Taken::default(),
        )
        .unwrap();
        assert_eq!(out.entries[0].duration_secs, 15 * 60);
    }

    #[test]
    fn correction_larger_than_earlier_time_removes_the_group() {
        let out = normalise(
            &[
                acc(1, 2, Some(1), "30", utc(9, 0)),
                acc(2, 2, Some(1), "-45", utc(10, 0)),
                // Another type is another group: untouched.
                acc(3, 2, Some(2), "10", utc(11, 0)),
            ],
            &TimePolicy::new(TimeUnit::Minutes),
            &berlin(),
            &Taken::default(),
        )
        .unwrap();
        let keys: Vec<_> = out.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, vec!["ta:3"]);
    }

    #[test]
    fn shortened_entry_keeps_its_end_and_lists_its_correction() {
        let out = normalise(
            &[
                acc(1, 2, None, "60", utc(9, 0)),
                acc(2, 2, None, "-15", utc(10, 0)),
            ],
            &TimePolicy::new(TimeUnit::Minutes),
            &berlin(),
            &Taken::default(),
        )
        .unwrap();
        let e = &out.entries[0];
        assert_eq!(e.duration_secs, 45 * 60);
        assert_eq!(e.end_utc, utc(9, 0));
        assert_eq!(e.accounting_ids, vec![AccountingId(1), AccountingId(2)]);
    }

    #[test]
    fn aggregate_then_round() {
        // 3 × 7 min on one day: per accounting rounded up to 15 would be 45; aggregated first
        // it is 21 → 30.
        let mut policy = TimePolicy::new(TimeUnit::Minutes);
        policy.aggregation = Aggregation::PerTicketAgentActivityDay;
        policy.rounding = Rounding::new(RoundingMode::Up, 15, None).unwrap();
        let list = [
            acc(1, 2, None, "7", utc(9, 0)),
            acc(2, 2, None, "7", utc(10, 0)),
            acc(3, 2, None, "7", utc(11, 0)),
        ];
        let out = normalise(&list, &policy, &berlin(), &Taken::default()).unwrap();
        assert_eq!(out.entries.len(), 1);
        let e = &out.entries[0];
        assert_eq!((e.net_secs, e.duration_secs), (21 * 60, 30 * 60));
        assert_eq!(e.end_utc, utc(11, 0));
        assert_eq!(e.accounting_ids.len(), 3);
        policy.aggregation = Aggregation::PerAccounting;
        let out = normalise(&list, &policy, &berlin(), &Taken::default()).unwrap();
        let total: i64 = out.entries.iter().map(|e| e.duration_secs).sum();
        assert_eq!(total, 45 * 60);
    }

    #[test]
    fn rounding_to_zero_is_reported() {
        let mut policy = TimePolicy::new(TimeUnit::Minutes);
        policy.rounding = Rounding::new(RoundingMode::Down, 15, None).unwrap();
        let out = normalise(
            &[acc(1, 2, None, "10", utc(9, 0))],
            &policy,
            &berlin(),
            &Taken::default(),
        )
        .unwrap();
        assert!(out.entries.is_empty());
        assert_eq!(out.rounded_away, vec![EntryKey("ta:1".into())]);
    }

    #[test]
    fn logged_just_after_local_midnight() {
        // 22:05 UTC = 00:05 on 5 May in Berlin; 30 min end_at_logged begins on 4 May.
        let out = normalise(
            &[acc(1, 2, None, "30", utc(22, 5))],
            &TimePolicy::new(TimeUnit::Minutes),
            &berlin(),
            &Taken::default(),
        )
        .unwrap();
        let e = &out.entries[0];
        assert_eq!(e.anchor_day, NaiveDate::from_ymd_opt(2026, 5, 5).unwrap());
        assert_eq!(e.begin_day(), NaiveDate::from_ymd_opt(2026, 5, 4).unwrap());
        assert_eq!(e.begin_local().to_string(), "2026-05-04T23:35:00");
        assert!(e.moved.is_none());
    }

    #[test]
    fn overlapping_bookings_are_shifted() {
        let out = normalise(
            &[
                acc(1, 2, None, "60", utc(10, 0)),
                acc(2, 2, Some(1), "60", utc(10, 0)),
            ],
            &TimePolicy::new(TimeUnit::Minutes),
            &berlin(),
            &Taken::default(),
        )
        .unwrap();
        let (a, b) = (&out.entries[0], &out.entries[1]);
        assert!(a.end_utc <= b.begin_utc || b.end_utc <= a.begin_utc);
        assert!(a.moved.is_some() != b.moved.is_some());
    }

    #[test]
    fn errors_name_the_accounting() {
        let err = normalise(
            &[acc(9, 2, None, "1", utc(9, 0))],
            &TimePolicy::new(TimeUnit::MinutesPerUnit {
                minutes: Decimal::ZERO,
            }),
            &berlin(),
            &Taken::default(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            NormaliseError::Unit {
                accounting: AccountingId(9),
                ..
            }
        ));
        let err = normalise(
            &[
                acc(9, 2, None, "1", utc(9, 0)),
                acc(9, 2, None, "1", utc(9, 0)),
            ],
            &TimePolicy::new(TimeUnit::Minutes),
            &berlin(),
            &Taken::default(),
        )
        .unwrap_err();
        assert_eq!(err, NormaliseError::DuplicateAccounting(AccountingId(9)));
        let mut policy = TimePolicy::new(TimeUnit::Minutes);
        policy.rounding = Rounding {
            mode: RoundingMode::Up,
            step_minutes: 0,
            minimum_minutes: None,
        };
        assert!(matches!(
            normalise(&[], &policy, &berlin(), &Taken::default()),
            Err(NormaliseError::Rounding(_))
        ));
    }
}
