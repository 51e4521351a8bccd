//! Planner benchmark: N accountings against N Kimai timesheets, at several N, against a naive
//! nested-loop matcher on the same data. A program, not a test: it prints numbers for
//! `docs/benchmarks.md`.
//!
//! Run: `cargo run --profile bench -p sync-core --example planner_bench`
//! Optional arguments: the sizes, e.g. `... -- 10000 100000`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;
use sync_core::catalog::{Catalog, KimaiActivity, KimaiCustomer, KimaiProject, KimaiUser};
use sync_core::desired::DesiredTimesheet;
use sync_core::ids::*;
use sync_core::kimai::Timesheet;
use sync_core::mapping::{Mappings, TicketFacts, resolve_all, zones_for};
use sync_core::marker::Marker;
use sync_core::normalise::{TimePolicy, normalise};
use sync_core::placement::Taken;
use sync_core::plan::{Base, Plan};
use sync_core::planner::{PlanInput, desired_matches_kimai, plan};
use sync_core::rounding::Rounding;
use sync_core::units::TimeUnit;
use sync_core::zammad::{Organisation, Ticket, TimeAccounting, ZammadUser};

const AGENTS: u64 = 200;
/// Largest N the nested-loop matcher runs at; beyond it, it is quadratic minutes.
const NAIVE_MAX: usize = 50_000;

fn main() {
    let sizes: Vec<usize> = {
        let args: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if args.is_empty() {
            vec![5_000, 10_000, 20_000, 50_000, 100_000]
        } else {
            args
        }
    };
    println!("baseline VmHWM {} MiB", vm_hwm_mib());
    println!(
        "{:>7} | {:>10} {:>10} {:>10} | {:>11} {:>10} | {:>9} | plan summary",
        "N", "normalise", "resolve", "plan", "naive", "naive/plan", "VmHWM MiB"
    );
    for n in sizes {
        let world = World::build(n);
        let t_norm = best_of(3, || {
            black_box(
                normalise(
                    &world.accountings,
                    &world.policy,
                    &world.zones,
                    &Taken::default(),
                )
                .unwrap(),
            );
        });
        let normalised = normalise(
            &world.accountings,
            &world.policy,
            &world.zones,
            &Taken::default(),
        )
        .unwrap();
        assert_eq!(normalised.entries.len(), n);
        let t_resolve = best_of(3, || {
            black_box(world.resolve(&normalised.entries));
        });
        let (desired, blocked) = world.resolve(&normalised.entries);
        assert!(blocked.is_empty());
        let (base, kimai) = world.base_and_kimai(&desired);
        let input = PlanInput {
            ticket_id: TicketId(1),
            desired: &desired,
            unresolved: &[],
            base: &base,
            kimai: &kimai,
            zammad_complete: true,
            approval_required: false,
            rounding: Rounding::NONE,
            create_anyway: &[],
            ignored: &[],
            locked_until: &Default::default(),
        };
        let t_plan = best_of(5, || {
            black_box(plan(&input).unwrap());
        });
        let p = plan(&input).unwrap();
        let summary = Summary::of(&p);
        let (t_naive, ratio) = if n <= NAIVE_MAX {
            let t = best_of(1, || {
                let naive = naive_match(&desired, &base, &kimai);
                assert_eq!(naive, summary, "naive matcher disagrees with the planner");
            });
            (
                format!("{:.1} ms", ms(t)),
                format!("{:.0}x", t.as_secs_f64() / t_plan.as_secs_f64()),
            )
        } else {
            ("-".to_owned(), "-".to_owned())
        };
        println!(
            "{:>7} | {:>7.1} ms {:>7.1} ms {:>7.1} ms | {:>11} {:>10} | {:>9} | {:?}",
            n,
            ms(t_norm),
            ms(t_resolve),
            ms(t_plan),
            t_naive,
            ratio,
            vm_hwm_mib(),
            summary
        );
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn best_of(runs: usize, mut f: impl FnMut()) -> std::time::Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Peak resident set size of this process so far (Linux), in MiB.
fn vm_hwm_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

struct World {
    accountings: Vec<TimeAccounting>,
    policy: TimePolicy,
    zones: sync_core::normalise::Zones,
    ticket: Ticket,
    org: Organisation,
    agents: HashMap<ZammadUserId, ZammadUser>,
    types: HashMap<AccountingTypeId, String>,
    catalog: Catalog,
    mappings: Mappings,
}

impl World {
    /// N accountings of 200 agents, ten a day each, 5 to 60 minutes, on one (huge) ticket.
    fn build(n: usize) -> World {
        let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 5, 7, 0, 0).unwrap();
        let accountings = (0..n as u64)
            .map(|i| {
                let agent = i % AGENTS;
                let nth = i / AGENTS; // the agent's nth booking
                let day = nth / 10;
                let at =
                    start + Duration::days(day as i64) + Duration::minutes((nth % 10) as i64 * 50);
                TimeAccounting {
                    id: AccountingId(i + 1),
                    ticket_id: TicketId(1),
                    article_id: None,
                    amount: Decimal::from(5 + (i * 7919) % 56),
                    type_id: Some(AccountingTypeId(1 + i % 3)),
                    agent_id: ZammadUserId(agent + 1),
                    created_at: at,
                    updated_at: at,
                }
            })
            .collect();
        let agents: HashMap<_, _> = (1..=AGENTS)
            .map(|a| {
                let u = ZammadUser {
                    id: ZammadUserId(a),
                    login: None,
                    email: Some(format!("agent{a}@example.com")),
                    firstname: Some("Agent".into()),
                    lastname: Some(a.to_string()),
                    organization_id: None,
                };
                (u.id, u)
            })
            .collect();
        let users: Vec<_> = (1..=AGENTS)
            .map(|a| KimaiUser {
                id: KimaiUserId(100 + a),
                username: format!("agent{a}"),
                email: Some(format!("agent{a}@example.com")),
                timezone: Some(
                    if a % 2 == 0 {
                        "Europe/Berlin"
                    } else {
                        "America/New_York"
                    }
                    .into(),
                ),
                alias: None,
                enabled: true,
            })
            .collect();
        let catalog = Catalog::new(
            &[KimaiCustomer {
                id: CustomerId(1),
                name: "ACME".into(),
                number: Some("OID-1".into()),
                visible: true,
            }],
            &[KimaiProject {
                id: ProjectId(1),
                name: "Support".into(),
                customer: CustomerId(1),
                number: None,
                visible: true,
                global_activities: true,
                locked_until: None,
            }],
            &[KimaiActivity {
                id: ActivityId(1),
                name: "Support".into(),
                project: None,
                visible: true,
            }],
            &users,
        );
        let mut mappings = Mappings::new(KimaiUserId(1));
        mappings.can_book_for_others = true;
        mappings.default_activity = Some(ActivityId(1));
        let zones = zones_for(&agents, &mappings, &catalog, chrono_tz::UTC);
        World {
            accountings,
            policy: TimePolicy::new(TimeUnit::Minutes),
            zones,
            ticket: Ticket {
                id: TicketId(1),
                number: "31001".into(),
                title: "Benchmark".into(),
                group_id: None,
                organization_id: Some(OrganisationId(1)),
                customer_id: None,
                updated_at: start,
            },
            org: Organisation {
                id: OrganisationId(1),
                name: "ACME".into(),
            },
            agents,
            types: HashMap::new(),
            catalog,
            mappings,
        }
    }

    fn resolve(
        &self,
        entries: &[sync_core::normalise::TimedEntry],
    ) -> (Vec<DesiredTimesheet>, Vec<sync_core::mapping::Unresolved>) {
        let facts = TicketFacts {
            ticket: &self.ticket,
            organisation: Some(&self.org),
            agents: &self.agents,
            type_names: &self.types,
        };
        resolve_all(entries, &facts, &self.mappings, &self.catalog)
    }

    /// Base and Kimai state for the desired list, in a realistic mix: most in sync, some changed
    /// on either side, some new, some gone, some to adopt from markers, some hand-made.
    fn base_and_kimai(&self, desired: &[DesiredTimesheet]) -> (Vec<Base>, Vec<Timesheet>) {
        let mut base = Vec::with_capacity(desired.len());
        let mut kimai = Vec::with_capacity(desired.len());
        for (i, d) in desired.iter().enumerate() {
            let id = TimesheetId(1_000_000 + i as u64);
            let echoed = timesheet_for(d, id);
            match i % 100 {
                // new in Zammad: nothing on the other sides
                0..=2 => {}
                // state lost, marker in Kimai: adopt
                3..=4 => kimai.push(echoed),
                // a hand-made look-alike in Kimai: probable duplicate
                5 => {
                    let mut t = echoed;
                    t.description = Some("booked by hand".into());
                    kimai.push(t);
                }
                // Zammad changed since we wrote
                6..=10 => {
                    let mut written = d.clone();
                    written.description.push_str(" (old)");
                    base.push(Base {
                        key: d.key.clone(),
                        kimai_id: id,
                        written: Some(written.clone()),
                        echoed: timesheet_for(&written, id),
                    });
                    kimai.push(timesheet_for(&written, id));
                }
                // Kimai edited by hand
                11..=15 => {
                    base.push(Base {
                        key: d.key.clone(),
                        kimai_id: id,
                        written: Some(d.clone()),
                        echoed: echoed.clone(),
                    });
                    let mut t = echoed;
                    t.description = Some(format!("{} reviewed", d.description));
                    kimai.push(t);
                }
                // deleted in Kimai
                16 => base.push(Base {
                    key: d.key.clone(),
                    kimai_id: id,
                    written: Some(d.clone()),
                    echoed,
                }),
                // in sync
                _ => {
                    base.push(Base {
                        key: d.key.clone(),
                        kimai_id: id,
                        written: Some(d.clone()),
                        echoed: echoed.clone(),
                    });
                    kimai.push(echoed);
                }
            }
        }
        // Time gone from Zammad: 2 % extra linked timesheets to delete.
        for (j, source) in desired.iter().enumerate().take(desired.len() / 50) {
            let id = TimesheetId(5_000_000 + j as u64);
            let mut gone = source.clone();
            gone.key = sync_core::desired::EntryKey(format!("ta:{}", 9_000_000 + j));
            gone.description = format!("{} #1 gone", Marker::for_key(&gone.key).unwrap().render());
            let t = timesheet_for(&gone, id);
            base.push(Base {
                key: gone.key.clone(),
                kimai_id: id,
                written: Some(gone),
                echoed: t.clone(),
            });
            kimai.push(t);
        }
        (base, kimai)
    }
}

fn timesheet_for(d: &DesiredTimesheet, id: TimesheetId) -> Timesheet {
    let zone: chrono_tz::Tz = d.zone.parse().unwrap();
    let begin = d.begin_utc.with_timezone(&zone).fixed_offset();
    let end = d.end_utc.with_timezone(&zone).fixed_offset();
    Timesheet {
        id,
        begin,
        end: Some(end),
        duration_secs: d.duration_secs,
        break_secs: 0,
        description: Some(d.description.clone()),
        activity: d.activity,
        project: d.project,
        user: d.user,
        tags: d.tags.clone(),
        exported: false,
        billable: true,
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    creates: usize,
    updates: usize,
    deletes: usize,
    adopted: usize,
    respected: usize,
    conflicts: usize,
}

impl Summary {
    fn of(p: &Plan) -> Summary {
        use sync_core::plan::Operation::*;
        let count = |f: fn(&sync_core::plan::Operation) -> bool| {
            p.operations.iter().filter(|o| f(o)).count()
        };
        Summary {
            creates: count(|o| matches!(o, Create { .. })),
            updates: count(|o| matches!(o, Update { .. })),
            deletes: count(|o| matches!(o, Delete { .. })),
            adopted: p.adopted.len(),
            respected: p.kimai_edits_respected.len(),
            conflicts: p.conflicts.len(),
        }
    }
}

/// What a first attempt looks like: for every desired entry, scan the base for its key and Kimai
/// for its timesheet or marker; for every base entry, scan the desired list. Same decisions as
/// the planner (rows without exported timesheets), quadratic time.
fn naive_match(desired: &[DesiredTimesheet], base: &[Base], kimai: &[Timesheet]) -> Summary {
    let mut s = Summary::default();
    let same_ts = |a: &Timesheet, b: &Timesheet| {
        a.begin == b.begin
            && a.end == b.end
            && a.duration_secs == b.duration_secs
            && a.description == b.description
            && (a.user, a.project, a.activity) == (b.user, b.project, b.activity)
            && a.tags == b.tags
            && a.billable == b.billable
    };
    // One nested pass marks the linked timesheets, so the scans below stay quadratic overall.
    let linked_flags: Vec<bool> = kimai
        .iter()
        .map(|k| base.iter().any(|b| b.kimai_id == k.id))
        .collect();
    for d in desired {
        match base.iter().find(|b| b.key == d.key) {
            Some(b) => match kimai.iter().find(|k| k.id == b.kimai_id) {
                None => s.conflicts += 1,
                Some(k) => {
                    let zammad_changed = b.written.as_ref().is_none_or(|w| {
                        w.description != d.description
                            || w.begin_utc != d.begin_utc
                            || w.end_utc != d.end_utc
                    });
                    let kimai_changed = !same_ts(k, &b.echoed);
                    match (zammad_changed, kimai_changed) {
                        (false, false) => {}
                        (true, false) => s.updates += 1,
                        (false, true) => s.respected += 1,
                        (true, true) if desired_matches_kimai(d, k) => s.respected += 1,
                        (true, true) => s.conflicts += 1,
                    }
                }
            },
            None => {
                let unlinked = || {
                    kimai
                        .iter()
                        .zip(&linked_flags)
                        .filter(|(_, l)| !**l)
                        .map(|(k, _)| k)
                };
                let marked = unlinked().find(|k| {
                    k.description
                        .as_deref()
                        .and_then(Marker::parse)
                        .is_some_and(|m| m.key() == d.key)
                });
                if let Some(k) = marked {
                    s.adopted += 1;
                    if !desired_matches_kimai(d, k) {
                        s.updates += 1;
                    }
                } else if unlinked().any(|k| {
                    k.description.as_deref().and_then(Marker::parse).is_none()
                        && (k.user, k.project, k.begin.date_naive(), k.duration_secs)
                            == (d.user, d.project, d.day, d.duration_secs)
                }) {
                    s.conflicts += 1;
                } else {
                    s.creates += 1;
                }
            }
        }
    }
    for b in base {
        if desired.iter().any(|d| d.key == b.key) {
            continue;
        }
        match kimai.iter().find(|k| k.id == b.kimai_id) {
            None => {}
            Some(k) if !same_ts(k, &b.echoed) => s.conflicts += 1,
            Some(_) => s.deletes += 1,
        }
    }
    s
}
