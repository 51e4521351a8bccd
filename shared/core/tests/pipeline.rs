//! The whole pure pipeline: accountings → zones → normalise → resolve → plan, on DST days.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;
use support::FakeKimai;
use sync_core::catalog::{Catalog, KimaiActivity, KimaiCustomer, KimaiProject, KimaiUser};
use sync_core::ids::*;
use sync_core::mapping::{Mappings, TicketFacts, resolve_all, zones_for};
use sync_core::normalise::{TimePolicy, normalise};
use sync_core::placement::{Moved, Taken};
use sync_core::plan::{Operation, Plan};
use sync_core::planner::{PlanInput, plan};
use sync_core::rounding::{Rounding, RoundingMode};
use sync_core::units::TimeUnit;
use sync_core::zammad::{Organisation, Ticket, TimeAccounting, ZammadUser};

fn acc(id: u64, agent: u64, amount: &str, at: DateTime<Utc>) -> TimeAccounting {
    TimeAccounting {
        id: AccountingId(id),
        ticket_id: TicketId(42),
        article_id: None,
        amount: Decimal::from_str(amount).unwrap(),
        type_id: None,
        agent_id: ZammadUserId(agent),
        created_at: at,
        updated_at: at,
    }
}

struct Setup {
    ticket: Ticket,
    org: Organisation,
    agents: HashMap<ZammadUserId, ZammadUser>,
    types: HashMap<AccountingTypeId, String>,
    catalog: Catalog,
    mappings: Mappings,
}

fn setup() -> Setup {
    let agent = |id: u64, email: &str| ZammadUser {
        id: ZammadUserId(id),
        login: None,
        email: Some(email.into()),
        firstname: None,
        lastname: None,
        organization_id: None,
    };
    let mut mappings = Mappings::new(KimaiUserId(1));
    mappings.can_book_for_others = true;
    mappings.default_activity = Some(ActivityId(30));
    Setup {
        ticket: Ticket {
            id: TicketId(42),
            number: "31001".into(),
            title: "VPN down".into(),
            group_id: None,
            organization_id: Some(OrganisationId(5)),
            customer_id: None,
            updated_at: Utc::now(),
        },
        org: Organisation {
            id: OrganisationId(5),
            name: "ACME".into(),
        },
        agents: HashMap::from([
            (ZammadUserId(3), agent(3, "berlin@example.com")),
            (ZammadUserId(4), agent(4, "ny@example.com")),
        ]),
        types: HashMap::new(),
        catalog: Catalog::new(
            &[KimaiCustomer {
                id: CustomerId(10),
                name: "ACME".into(),
                number: None,
                visible: true,
            }],
            &[KimaiProject {
                id: ProjectId(20),
                name: "Support".into(),
                customer: CustomerId(10),
                number: None,
                visible: true,
                global_activities: true,
                locked_until: None,
            }],
            &[KimaiActivity {
                id: ActivityId(30),
                name: "Support".into(),
                project: None,
                visible: true,
            }],
            &[
                KimaiUser {
                    id: KimaiUserId(5),
                    username: "b".into(),
                    email: Some("berlin@example.com".into()),
                    timezone: Some("Europe/Berlin".into()),
                    alias: None,
                    enabled: true,
                },
                KimaiUser {
                    id: KimaiUserId(6),
                    username: "n".into(),
                    email: Some("ny@example.com".into()),
                    timezone: Some("America/New_York".into()),
                    alias: None,
                    enabled: true,
                },
            ],
        ),
        mappings,
    }
}

fn desired_for(
    s: &Setup,
    list: &[TimeAccounting],
    policy: &TimePolicy,
) -> Vec<sync_core::desired::DesiredTimesheet> {
    let zones = zones_for(&s.agents, &s.mappings, &s.catalog, chrono_tz::UTC);
    let timed = normalise(list, policy, &zones, &Taken::default()).unwrap();
    let facts = TicketFacts {
        ticket: &s.ticket,
        organisation: Some(&s.org),
        agents: &s.agents,
        type_names: &s.types,
    };
    let (ready, blocked) = resolve_all(&timed.entries, &facts, &s.mappings, &s.catalog);
    assert!(blocked.is_empty(), "{blocked:?}");
    ready
}

#[test]
fn spring_forward_in_berlin_and_new_york() {
    let s = setup();
    let policy = TimePolicy::new(TimeUnit::Hours);
    let list = [
        // Berlin, 29 March 2026 04:00 CEST (02:00 UTC): 1.5 h back is 01:30 CET.
        acc(
            1,
            3,
            "1.5",
            Utc.with_ymd_and_hms(2026, 3, 29, 2, 0, 0).unwrap(),
        ),
        // New York, 8 March 2026 03:30 EDT (07:30 UTC): 1 h back is 01:30 EST.
        acc(
            2,
            4,
            "1",
            Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap(),
        ),
    ];
    let d = desired_for(&s, &list, &policy);
    assert_eq!(
        (d[0].begin.to_string(), d[0].end.to_string()),
        ("2026-03-29T01:30:00".into(), "2026-03-29T04:00:00".into())
    );
    assert_eq!(d[0].duration_secs, 5400);
    assert_eq!(d[0].zone, "Europe/Berlin");
    assert_eq!(
        (d[1].begin.to_string(), d[1].end.to_string()),
        ("2026-03-08T01:30:00".into(), "2026-03-08T03:30:00".into())
    );
    assert_eq!(d[1].user, KimaiUserId(6));
}

#[test]
fn fall_back_in_berlin_and_new_york() {
    let s = setup();
    let policy = TimePolicy::new(TimeUnit::Minutes);
    let list = [
        // Berlin, 25 Oct 2026 04:00 CET (03:00 UTC), 3 h back: 02:00 CEST, the first 02:00.
        acc(
            1,
            3,
            "180",
            Utc.with_ymd_and_hms(2026, 10, 25, 3, 0, 0).unwrap(),
        ),
        // New York, 1 Nov 2026 02:15 EST (07:15 UTC), 90 min back: 01:45 EDT, the first 01:45.
        acc(
            2,
            4,
            "90",
            Utc.with_ymd_and_hms(2026, 11, 1, 7, 15, 0).unwrap(),
        ),
    ];
    let d = desired_for(&s, &list, &policy);
    assert_eq!(
        (d[0].begin.to_string(), d[0].end.to_string()),
        ("2026-10-25T02:00:00".into(), "2026-10-25T04:00:00".into())
    );
    assert_eq!(
        d[0].duration_secs,
        3 * 3600,
        "three hours passed, the wall clock shows two"
    );
    assert_eq!(
        (d[1].begin.to_string(), d[1].end.to_string()),
        ("2026-11-01T01:45:00".into(), "2026-11-01T02:15:00".into())
    );
    assert_eq!((d[1].end_utc - d[1].begin_utc).num_minutes(), 90);
}

#[test]
fn time_in_the_repeated_hour_is_booked_just_before_it_not_an_hour_off() {
    let s = setup();
    let policy = TimePolicy::new(TimeUnit::Minutes);
    // Logged at 02:30 CET (01:30 UTC), the second 02:30 of the Berlin fall-back night.
    let list = [acc(
        1,
        3,
        "30",
        Utc.with_ymd_and_hms(2026, 10, 25, 1, 30, 0).unwrap(),
    )];
    let zones = zones_for(&s.agents, &s.mappings, &s.catalog, chrono_tz::UTC);
    let timed = normalise(&list, &policy, &zones, &Taken::default()).unwrap();
    let facts = TicketFacts {
        ticket: &s.ticket,
        organisation: Some(&s.org),
        agents: &s.agents,
        type_names: &s.types,
    };
    assert_eq!(timed.entries[0].moved, Some(Moved::RepeatedHour));
    let (ready, blocked) = resolve_all(&timed.entries, &facts, &s.mappings, &s.catalog);
    assert!(blocked.is_empty(), "{blocked:?}");
    // 02:00–02:30 CET would read as CEST: it ends a minute before the repeated hour instead,
    // on the same day, as long as it was.
    assert_eq!(
        (ready[0].begin.to_string(), ready[0].end.to_string()),
        ("2026-10-25T02:29:00".into(), "2026-10-25T02:59:00".into())
    );
    assert_eq!(
        ready[0].begin_utc,
        Utc.with_ymd_and_hms(2026, 10, 25, 0, 29, 0).unwrap(),
        "the first 02:29, in summer time"
    );
    assert_eq!(ready[0].duration_secs, 30 * 60);
}

#[test]
fn full_cycle_with_a_correction_and_rounding_is_stable() {
    let s = setup();
    let mut policy = TimePolicy::new(TimeUnit::Minutes);
    policy.rounding = Rounding::new(RoundingMode::Up, 15, None).unwrap();
    let day = |h, m| Utc.with_ymd_and_hms(2026, 5, 4, h, m, 0).unwrap();
    let mut list = vec![acc(1, 3, "50", day(10, 0)), acc(2, 3, "20", day(10, 0))];
    let mut fake = FakeKimai::default();
    let run = |fake: &FakeKimai, list: &[TimeAccounting]| -> Plan {
        let d = desired_for(&s, list, &policy);
        let (base, kimai) = (fake.base_list(), fake.kimai_list());
        plan(&PlanInput {
            ticket_id: TicketId(42),
            desired: &d,
            unresolved: &[],
            base: &base,
            kimai: &kimai,
            zammad_complete: true,
            approval_required: false,
            rounding: policy.rounding,
            create_anyway: &[],
            ignored: &[],
            locked_until: &Default::default(),
        })
        .unwrap()
    };
    let first = run(&fake, &list);
    assert_eq!(first.operations.len(), 2);
    fake.apply(&first);
    let mut spans: Vec<_> = fake
        .timesheets
        .values()
        .map(|t| (t.begin, t.end.unwrap()))
        .collect();
    spans.sort();
    assert!(
        spans[0].1 <= spans[1].0,
        "placed without overlap: {spans:?}"
    );
    assert_eq!(run(&fake, &list), Plan::default());

    // A correction of -20 removes accounting 2's time (the most recent): its timesheet goes.
    list.push(acc(3, 3, "-20", day(11, 0)));
    let second = run(&fake, &list);
    assert!(
        matches!(&second.operations[..], [Operation::Delete { key, .. }] if key.as_str() == "ta:2"),
        "{:?}",
        second.operations
    );
    fake.apply(&second);
    assert_eq!(run(&fake, &list), Plan::default());
    assert_eq!(
        fake.timesheets.values().next().unwrap().duration_secs,
        60 * 60,
        "50 min rounded up"
    );
}
