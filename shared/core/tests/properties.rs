//! Property tests of the planner (against a model of Kimai) and of the time pipeline.

mod support;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use support::*;
use sync_core::aggregation::Aggregation;
use sync_core::desired::EntryKey;
use sync_core::ids::{
    AccountingId, AccountingTypeId, ProjectId, TicketId, TimesheetId, ZammadUserId,
};
use sync_core::kimai::Timesheet;
use sync_core::mapping::{Blocker, Unresolved};
use sync_core::marker::Marker;
use sync_core::normalise::{TimePolicy, Zones, normalise};
use sync_core::placement::Taken;
use sync_core::plan::{ConflictReason, Operation, Plan};
use sync_core::planner::{PlanInput, plan};
use sync_core::rounding::Rounding;
use sync_core::units::TimeUnit;
use sync_core::zammad::TimeAccounting;
use sync_core::zone::{day_bounds, reads_back};

#[derive(Debug, Clone, Copy)]
enum KimaiState {
    Missing,
    AsEchoed,
    Edited,
    Exported,
    ExportedAndEdited,
}

#[derive(Debug, Clone)]
struct KeySpec {
    desired: Option<i64>,
    base: Option<i64>,
    kimai: KimaiState,
    blocked: bool,
    /// An unlinked timesheet carrying this key's marker (state lost, or the legacy tool).
    stray: Option<(i64, bool)>,
}

fn key_spec() -> impl Strategy<Value = KeySpec> {
    let state = prop_oneof![
        Just(KimaiState::Missing),
        Just(KimaiState::AsEchoed),
        Just(KimaiState::Edited),
        Just(KimaiState::Exported),
        Just(KimaiState::ExportedAndEdited),
    ];
    (
        proptest::option::of(0i64..3),
        proptest::option::of(0i64..3),
        state,
        proptest::bool::weighted(0.15),
        proptest::option::weighted(0.3, (0i64..3, any::<bool>())),
    )
        .prop_map(|(desired, base, kimai, blocked, stray)| KeySpec {
            desired,
            base,
            kimai,
            blocked,
            stray,
        })
}

#[derive(Debug, Clone)]
struct World {
    keys: Vec<KeySpec>,
    /// (duration variant, project variant) of hand-made, unmarked timesheets.
    unmarked: Vec<(i64, u64)>,
    complete: bool,
    kimai_rounds: bool,
}

fn world() -> impl Strategy<Value = World> {
    (
        proptest::collection::vec(key_spec(), 0..12),
        proptest::collection::vec((0i64..3, 0u64..2), 0..4),
        proptest::bool::weighted(0.8),
        any::<bool>(),
    )
        .prop_map(|(keys, unmarked, complete, kimai_rounds)| World {
            keys,
            unmarked,
            complete,
            kimai_rounds,
        })
}

fn minutes(variant: i64) -> i64 {
    15 + 15 * variant
}

struct Built {
    fake: FakeKimai,
    desired: Vec<sync_core::desired::DesiredTimesheet>,
    unresolved: Vec<Unresolved>,
}

fn build(w: &World) -> Built {
    let mut fake = FakeKimai {
        round_end_to_min: w.kimai_rounds.then_some(20),
        ..Default::default()
    };
    let mut desired_list = Vec::new();
    let mut unresolved = Vec::new();
    for (i, spec) in w.keys.iter().enumerate() {
        let id = i as u64 + 1;
        let slot = i as i64 * 60;
        if let Some(v) = spec.desired {
            if spec.blocked {
                unresolved.push(Unresolved {
                    key: EntryKey::for_accounting(AccountingId(id)),
                    ticket_id: TICKET,
                    blocker: Blocker::Conflict {
                        reason: ConflictReason::UnmappedActivity,
                        detail: "no activity".into(),
                    },
                });
            } else {
                desired_list.push(desired(id, slot, minutes(v)));
            }
        }
        if let Some(v) = spec.base {
            let b = base_for(&desired(id, slot, minutes(v)), 1000 + id);
            let mut k = b.echoed.clone();
            if matches!(
                spec.kimai,
                KimaiState::Edited | KimaiState::ExportedAndEdited
            ) {
                k.description = Some(format!(
                    "{} edited by hand",
                    Marker::for_key(&b.key).unwrap().render()
                ));
            }
            if matches!(
                spec.kimai,
                KimaiState::Exported | KimaiState::ExportedAndEdited
            ) {
                k.exported = true;
            }
            if !matches!(spec.kimai, KimaiState::Missing) {
                fake.timesheets.insert(k.id, k);
            }
            fake.base.insert(b.key.clone(), b);
        } else if let Some((v, exported)) = spec.stray {
            let mut k = timesheet_for(&desired(id, slot, minutes(v)), 2000 + id);
            k.exported = exported;
            fake.timesheets.insert(k.id, k);
        }
    }
    for (j, &(v, project)) in w.unmarked.iter().enumerate() {
        let j = j as u64;
        let mut k = timesheet_for(&desired(500 + j, 30 * j as i64, minutes(v)), 3000 + j);
        k.description = Some("booked by hand".into());
        k.project = ProjectId(2 + project);
        fake.timesheets.insert(k.id, k);
    }
    Built {
        fake,
        desired: desired_list,
        unresolved,
    }
}

fn run(b: &Built, complete: bool) -> Plan {
    let base = b.fake.base_list();
    let kimai = b.fake.kimai_list();
    plan(&PlanInput {
        ticket_id: TICKET,
        desired: &b.desired,
        unresolved: &b.unresolved,
        base: &base,
        kimai: &kimai,
        zammad_complete: complete,
        approval_required: false,
        rounding: Rounding::NONE,
        create_anyway: &[],
        ignored: &[],
        locked_until: &Default::default(),
    })
    .expect("consistent input")
}

proptest! {
    #[test]
    fn applying_a_plan_and_planning_again_yields_no_operations(w in world()) {
        let mut b = build(&w);
        let first = run(&b, w.complete);
        b.fake.apply(&first);
        let second = run(&b, w.complete);
        prop_assert!(second.operations.is_empty(), "second plan: {:?}", second.operations);
        prop_assert!(second.adopted.is_empty());
        prop_assert!(second.kimai_edits_respected.is_empty());
        prop_assert!(second.links_to_drop.is_empty());
    }

    #[test]
    fn no_key_is_created_twice_nor_next_to_a_link_or_marker(w in world()) {
        let b = build(&w);
        let p = run(&b, w.complete);
        let marked: HashSet<EntryKey> = b
            .fake
            .timesheets
            .values()
            .filter_map(|t| t.description.as_deref().and_then(Marker::parse))
            .map(|m| m.key())
            .collect();
        let mut created = HashSet::new();
        for op in &p.operations {
            if let Operation::Create { desired } = op {
                prop_assert!(created.insert(desired.key.clone()), "created twice: {}", desired.key);
                prop_assert!(!b.fake.base.contains_key(&desired.key));
                prop_assert!(!marked.contains(&desired.key), "marker match ignored: {}", desired.key);
            }
        }
    }

    #[test]
    fn nothing_outside_the_base_is_ever_deleted(w in world()) {
        let b = build(&w);
        let p = run(&b, w.complete);
        let blocked: HashSet<&EntryKey> = b.unresolved.iter().map(|u| &u.key).collect();
        let linked: HashMap<&EntryKey, TimesheetId> =
            b.fake.base.iter().map(|(k, v)| (k, v.kimai_id)).collect();
        for op in &p.operations {
            if let Operation::Delete { key, kimai_id, .. } = op {
                prop_assert!(w.complete, "deleted after an incomplete read");
                prop_assert_eq!(linked.get(key), Some(kimai_id));
                prop_assert!(!blocked.contains(key));
                prop_assert!(!b.desired.iter().any(|d| &d.key == key));
            }
            if let Operation::Update { kimai_id, .. } = op {
                let adopted = p.adopted.iter().any(|a| a.kimai_id == *kimai_id);
                prop_assert!(linked.values().any(|id| id == kimai_id) || adopted);
            }
        }
    }
}

// ---- the time pipeline ----

#[derive(Debug, Clone)]
struct Booked {
    agent: u64,
    type_id: Option<u64>,
    minutes: i64,
    at_minute: i64,
}

fn booked() -> impl Strategy<Value = Booked> {
    (
        1u64..3,
        proptest::option::of(1u64..3),
        -90i64..60,
        0i64..4000,
    )
        .prop_map(|(agent, type_id, minutes, at_minute)| Booked {
            agent,
            type_id,
            minutes,
            at_minute,
        })
}

fn accountings(list: &[Booked]) -> Vec<TimeAccounting> {
    list.iter()
        .enumerate()
        .map(|(i, b)| {
            let at = t0() + Duration::minutes(b.at_minute);
            TimeAccounting {
                id: AccountingId(i as u64 + 1),
                ticket_id: TicketId(1),
                article_id: None,
                amount: Decimal::from(b.minutes),
                type_id: b.type_id.map(AccountingTypeId),
                agent_id: ZammadUserId(b.agent),
                created_at: at,
                updated_at: at,
            }
        })
        .collect()
}

fn overlap(a: &sync_core::normalise::TimedEntry, b: &sync_core::normalise::TimedEntry) -> bool {
    a.begin_utc < b.end_utc && b.begin_utc < a.end_utc
}

proptest! {
    #[test]
    fn net_time_before_rounding_equals_the_sum_of_the_accountings(
        list in proptest::collection::vec(booked(), 0..10),
        aggregate in any::<bool>(),
    ) {
        let mut policy = TimePolicy::new(TimeUnit::Minutes);
        if aggregate {
            policy.aggregation = Aggregation::PerTicketAgentActivityDay;
        }
        let zones = Zones::new(chrono_tz::Europe::Berlin);
        let out = normalise(&accountings(&list), &policy, &zones, &Taken::default()).unwrap();
        let mut expected: HashMap<(u64, Option<u64>), i64> = HashMap::new();
        for b in &list {
            *expected.entry((b.agent, b.type_id)).or_default() += b.minutes * 60;
        }
        let mut actual: HashMap<(u64, Option<u64>), i64> = HashMap::new();
        for e in &out.entries {
            prop_assert!(e.net_secs > 0);
            prop_assert_eq!(e.duration_secs, e.net_secs, "no rounding configured");
            *actual.entry((e.agent_id.0, e.type_id.map(|t| t.0))).or_default() += e.net_secs;
        }
        for (group, sum) in expected {
            prop_assert_eq!(actual.get(&group).copied().unwrap_or(0), sum.max(0), "group {:?}", group);
        }
        // With at most ten hours per agent, every day has room: no agent overlaps itself.
        for a in &out.entries {
            for b in &out.entries {
                if a.key != b.key && a.agent_id == b.agent_id {
                    prop_assert!(!overlap(a, b), "{} and {} overlap", a.key, b.key);
                }
            }
        }
        // Keys are unique.
        let keys: HashSet<_> = out.entries.iter().map(|e| &e.key).collect();
        prop_assert_eq!(keys.len(), out.entries.len());
        // Per accounting, an entry whose natural interval (ending at its created_at) overlaps no
        // other entry's natural interval is never moved.
        if !aggregate {
            let input = accountings(&list);
            let logged: HashMap<String, chrono::DateTime<chrono::Utc>> = input
                .iter()
                .map(|a| (format!("ta:{}", a.id), a.created_at))
                .collect();
            let natural = |e: &sync_core::normalise::TimedEntry| {
                let end = logged[e.key.as_str()];
                (end - Duration::seconds(e.duration_secs), end)
            };
            for a in &out.entries {
                let (ab, ae) = natural(a);
                let alone = out.entries.iter().all(|b| {
                    let (bb, be) = natural(b);
                    b.key == a.key || b.agent_id != a.agent_id || !(ab < be && bb < ae)
                });
                if alone {
                    prop_assert!(a.moved.is_none(), "{} was moved", a.key);
                    prop_assert_eq!((a.begin_utc, a.end_utc), (ab, ae));
                }
            }
        }
    }
}

#[test]
fn the_model_rejects_an_update_whose_expectation_is_stale() {
    // Guard for the helper itself: it must fail loudly, or the properties above prove nothing.
    let d = desired(1, 0, 30);
    let mut fake = FakeKimai::default();
    let stale: Timesheet = timesheet_for(&d, 7);
    let mut current = stale.clone();
    current.description = Some("changed".into());
    fake.timesheets.insert(TimesheetId(7), current);
    let p = Plan {
        operations: vec![Operation::Update {
            kimai_id: TimesheetId(7),
            desired: d,
            expected: stale,
        }],
        ..Plan::default()
    };
    let result = std::panic::catch_unwind(move || fake.apply(&p));
    assert!(result.is_err());
}

proptest! {
    /// Bookings around the Berlin fall-back night (25 Oct 2026, 00:00–06:00 local): every entry
    /// is written so that Kimai reads it back, keeps its duration and anchor day, and no agent
    /// overlaps itself (a few hours of time leave room on a 25-hour day).
    #[test]
    fn around_the_repeated_hour_every_entry_reads_back_and_keeps_its_length(
        list in proptest::collection::vec((1u64..3, 5i64..60, 0i64..360), 1..6),
    ) {
        let night = Utc.with_ymd_and_hms(2026, 10, 24, 22, 0, 0).unwrap();
        let input: Vec<TimeAccounting> = list
            .iter()
            .enumerate()
            .map(|(i, &(agent, minutes, at_minute))| {
                let at = night + Duration::minutes(at_minute);
                TimeAccounting {
                    id: AccountingId(i as u64 + 1),
                    ticket_id: TicketId(1),
                    article_id: None,
                    amount: Decimal::from(minutes),
                    type_id: None,
                    agent_id: ZammadUserId(agent),
                    created_at: at,
                    updated_at: at,
                }
            })
            .collect();
        let zone = chrono_tz::Europe::Berlin;
        let zones = Zones::new(zone);
        let out = normalise(&input, &TimePolicy::new(TimeUnit::Minutes), &zones, &Taken::default()).unwrap();
        for e in &out.entries {
            prop_assert!(reads_back(zone, e.begin_utc) && reads_back(zone, e.end_utc), "{} at {}..{}", e.key, e.begin_utc, e.end_utc);
            prop_assert_eq!((e.end_utc - e.begin_utc).num_seconds(), e.duration_secs);
            // A moved entry stays inside its anchor day (an unmoved one may cross midnight).
            if e.moved.is_some() {
                let (start, stop) = day_bounds(zone, e.anchor_day);
                prop_assert!(e.begin_utc >= start && e.end_utc <= stop, "{} left its day", e.key);
            }
            for other in &out.entries {
                if other.key != e.key && other.agent_id == e.agent_id {
                    prop_assert!(!overlap(e, other), "{} and {} overlap", e.key, other.key);
                }
            }
        }
    }
}

proptest! {
    /// Around random bookings of other tickets: no placed entry overlaps another entry or a
    /// booking unless it is reported as having no room, every entry keeps its length, and one
    /// that moved stays on its day, so each agent's minutes per day are what was booked.
    #[test]
    fn placed_entries_never_overlap_anything_and_keep_their_minutes(
        busy in proptest::collection::vec((1u64..3, 0i64..1200, 10i64..180), 0..6),
        entries in proptest::collection::vec((1u64..3, 0i64..1400, 5i64..120), 1..8),
    ) {
        use sync_core::placement::{BusyInterval, Placement, PlacementRequest, place};
        let zone = chrono_tz::Europe::Berlin;
        let day = chrono::NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
        let (start, stop) = day_bounds(zone, day);
        let busy: Vec<BusyInterval> = busy
            .iter()
            .map(|&(agent, from, minutes)| BusyInterval {
                agent_id: ZammadUserId(agent),
                begin: start + Duration::minutes(from),
                end: start + Duration::minutes(from + minutes),
            })
            .collect();
        let requests: Vec<PlacementRequest> = entries
            .iter()
            .enumerate()
            .map(|(i, &(agent, at, minutes))| PlacementRequest {
                key: EntryKey(format!("ta:{i}")),
                agent_id: ZammadUserId(agent),
                zone,
                day,
                anchor: start + Duration::minutes(at + minutes),
                duration_secs: minutes * 60,
                keep_within_day: false,
            })
            .collect();
        let placed = place(Placement::EndAtLogged, &requests, &Taken::busy(busy.clone()));
        let written: Vec<usize> = (0..placed.len()).filter(|&i| placed[i].no_room.is_none()).collect();
        for &i in &written {
            let (p, r) = (&placed[i], &requests[i]);
            prop_assert_eq!((p.end - p.begin).num_seconds(), r.duration_secs);
            if p.moved.is_some() {
                prop_assert!(p.begin >= start && p.end <= stop, "{} left its day", r.key);
            }
            for b in busy.iter().filter(|b| b.agent_id == r.agent_id) {
                prop_assert!(!(p.begin < b.end && b.begin < p.end), "{} overlaps a booking", r.key);
            }
        }
        // Written entries of one agent never overlap each other.
        for &i in &written {
            for &j in written.iter().filter(|&&j| j > i) {
                if requests[i].agent_id == requests[j].agent_id {
                    prop_assert!(
                        !(placed[i].begin < placed[j].end && placed[j].begin < placed[i].end),
                        "{} and {} overlap", requests[i].key, requests[j].key
                    );
                }
            }
        }
    }
}
