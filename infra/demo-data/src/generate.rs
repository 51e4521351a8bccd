//! Builds both datasets from a [`DemoSpec`]: first a draft of tickets and their time (random,
//! from the seed), then ids in creation order, then the two simulators' records.

use crate::cast::{self, Agent, ORGS, TITLES, TYPES};
use crate::spec::{DemoSpec, Unit};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use kimai_sim::dataset as k;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use zammad_sim::dataset as z;

/// Positive amounts, in minutes. All are multiples of three, so that each is an exact number of
/// hundredths of an hour and the hours variant says the same with two places.
const MINUTES: [i64; 10] = [15, 30, 45, 60, 75, 90, 120, 150, 180, 240];

/// Everything about one ticket before ids are given out.
struct DraftTicket {
    org: Option<usize>,
    group: u64,
    owner: usize,
    title: String,
    state: &'static str,
    created_at: DateTime<Utc>,
    entries: Vec<DraftEntry>,
}

struct DraftEntry {
    agent: usize,
    minutes: i64,
    type_id: Option<u64>,
    at: DateTime<Utc>,
    /// A pre-existing Kimai timesheet to write for this entry.
    kimai: Option<Existing>,
}

#[derive(Clone, Copy)]
enum Existing {
    /// Written by the older tool, with its `ZAM:T<number>|TA:<id>` first line.
    LegacyMarker,
    /// Booked by hand: no marker, same user, project, day and duration, another hour.
    ProbableDuplicate,
}

struct Draft {
    rng: ChaCha8Rng,
    days: Vec<NaiveDate>,
    agents: Vec<Agent>,
}

/// Both datasets for `spec`. The same spec always gives the same data.
pub fn generate(spec: &DemoSpec) -> (z::Dataset, k::Dataset) {
    let mut draft = Draft {
        rng: ChaCha8Rng::seed_from_u64(spec.seed()),
        days: working_days(spec.start(), spec.weeks()),
        agents: cast::agents(spec.agents()),
    };
    let mut tickets = draft.special_tickets();
    while tickets.len() < spec.tickets() {
        let t = draft.ordinary_ticket();
        tickets.push(t);
    }
    // Zammad hands out ids in creation order; so do we.
    tickets.sort_by_key(|t| t.created_at);
    build(spec, &tickets, &draft.agents)
}

/// Monday to Friday from `start` on, for `weeks` weeks.
fn working_days(start: NaiveDate, weeks: u32) -> Vec<NaiveDate> {
    start
        .iter_days()
        .take(weeks as usize * 7)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

/// A wall-clock time in `zone` as an instant. The hours used here are never in a DST gap; if
/// one were, the earliest valid reading (or the same wall time as UTC) is taken, not a panic.
fn at_local(zone: Tz, day: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    let wall = day
        .and_hms_opt(h, m, s)
        .expect("hours and minutes in range");
    zone.from_local_datetime(&wall)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&wall))
}

impl Draft {
    fn agent_in(&mut self, group: u64) -> usize {
        let fits: Vec<usize> = (0..self.agents.len())
            .filter(|&i| self.agents[i].groups.contains(&group))
            .collect();
        *fits.choose(&mut self.rng).expect("every group has agents")
    }

    fn title(&mut self) -> String {
        TITLES.choose(&mut self.rng).expect("titles").to_string()
    }

    fn state(&mut self) -> &'static str {
        ["open", "open", "closed", "closed", "pending reminder"]
            .choose(&mut self.rng)
            .expect("states")
    }

    fn type_id(&mut self) -> u64 {
        TYPES.choose(&mut self.rng).expect("types").0
    }

    /// A random working-hours instant (08:00–17:59 local) of day index `day`.
    fn working_time(&mut self, agent: usize, day: usize) -> DateTime<Utc> {
        let h = self.rng.random_range(8..18);
        let m = self.rng.random_range(0..60);
        let s = self.rng.random_range(0..60);
        let ms = self.rng.random_range(0..1000);
        at_local(self.agents[agent].zone, self.days[day], h, m, s) + Duration::milliseconds(ms)
    }

    /// The ticket opened a little before its first booking.
    fn opened_before(&mut self, entries: &[DraftEntry]) -> DateTime<Utc> {
        let first = entries.iter().map(|e| e.at).min().expect("entries");
        first - Duration::minutes(self.rng.random_range(10..=240))
    }

    fn ticket(&mut self, org: Option<usize>, mut entries: Vec<DraftEntry>) -> DraftTicket {
        entries.sort_by_key(|e| e.at);
        let owner = entries[0].agent;
        let group = *self.agents[owner]
            .groups
            .choose(&mut self.rng)
            .expect("groups");
        DraftTicket {
            org,
            group,
            owner,
            title: self.title(),
            state: self.state(),
            created_at: self.opened_before(&entries),
            entries,
        }
    }

    fn entry(&mut self, agent: usize, minutes: i64, day: usize) -> DraftEntry {
        DraftEntry {
            agent,
            minutes,
            type_id: Some(self.type_id()),
            at: self.working_time(agent, day),
            kimai: None,
        }
    }

    fn last_day(&self) -> usize {
        self.days.len() - 1
    }

    /// One ticket per case the sync must handle, so every seed and size holds each of them.
    fn special_tickets(&mut self) -> Vec<DraftTicket> {
        let last = self.last_day();
        let mut out = Vec::new();

        // A correction smaller than the time it corrects (60 − 15).
        let agent = self.rng.random_range(0..self.agents.len());
        let org = self.rng.random_range(0..ORGS.len());
        let day = self.rng.random_range(0..last);
        let first = self.entry(agent, 60, day);
        let mut fix = self.entry(agent, -15, day + 1);
        fix.type_id = first.type_id;
        out.push(self.ticket(Some(org), vec![first, fix]));

        // A correction larger than the time booked before it (30 − 45): net time is negative.
        let agent = self.rng.random_range(0..self.agents.len());
        let org = self.rng.random_range(0..ORGS.len());
        let day = self.rng.random_range(0..last);
        let first = self.entry(agent, 30, day);
        let mut fix = self.entry(agent, -45, day + 1);
        fix.type_id = first.type_id;
        out.push(self.ticket(Some(org), vec![first, fix]));

        // No organisation (a walk-in customer), and time without a type.
        let agent = self.rng.random_range(0..self.agents.len());
        let day = self.rng.random_range(0..=last);
        let mut untyped = self.entry(agent, 45, day);
        untyped.type_id = None;
        let typed = self.entry(agent, 30, day);
        out.push(self.ticket(None, vec![untyped, typed]));

        // Logged just after local midnight by an agent in Berlin: the UTC date is the day before.
        let agent = 0;
        let org = self.rng.random_range(0..ORGS.len());
        let day = self.rng.random_range(1..=last);
        let minute = self.rng.random_range(2..20);
        let mut late = self.entry(agent, 30, day);
        late.at = at_local(self.agents[agent].zone, self.days[day], 0, minute, 0);
        out.push(self.ticket(Some(org), vec![late]));

        // Already in Kimai under the older tool's marker (to be adopted).
        let agent = 1;
        let day = self.rng.random_range(0..=last);
        let mut legacy = self.entry(agent, 45, day);
        legacy.at = at_local(self.agents[agent].zone, self.days[day], 11, 30, 0);
        legacy.kimai = Some(Existing::LegacyMarker);
        out.push(self.ticket(Some(0), vec![legacy]));

        // Already in Kimai by hand, without marker: a probable duplicate (in New York).
        let agent = 3;
        let day = self.rng.random_range(0..=last);
        let mut typed = self.entry(agent, 60, day);
        typed.at = at_local(self.agents[agent].zone, self.days[day], 15, 0, 0);
        typed.kimai = Some(Existing::ProbableDuplicate);
        out.push(self.ticket(Some(1), vec![typed]));

        debug_assert_eq!(out.len(), crate::spec::MIN_TICKETS);
        out
    }

    /// One to four bookings within a week; some untyped, some tickets with a later correction.
    fn ordinary_ticket(&mut self) -> DraftTicket {
        let last = self.last_day();
        let org = self.rng.random_range(0..ORGS.len());
        let group = self.rng.random_range(1..=3);
        let owner = self.agent_in(group);
        let corrected = self.rng.random_bool(0.08);
        // A correction needs a later day than every booking it follows.
        let latest = if corrected { last - 1 } else { last };
        let start = self.rng.random_range(0..=latest);
        let end = (start + 4).min(latest);
        let count = self.rng.random_range(1..=4);
        let mut entries = Vec::new();
        for _ in 0..count {
            let agent = if self.rng.random_bool(0.75) {
                owner
            } else {
                self.agent_in(group)
            };
            let minutes = *MINUTES.choose(&mut self.rng).expect("amounts");
            let day = self.rng.random_range(start..=end);
            let mut e = self.entry(agent, minutes, day);
            if self.rng.random_bool(0.1) {
                e.type_id = None;
            }
            entries.push(e);
        }
        if corrected {
            let target = entries.iter().max_by_key(|e| e.at).expect("entries");
            let (agent, type_id) = (target.agent, target.type_id);
            let amount = if target.minutes >= 30 { -15 } else { -3 };
            let day = self.rng.random_range(end + 1..=(end + 2).min(last));
            let mut fix = self.entry(agent, amount, day);
            fix.type_id = type_id;
            entries.push(fix);
        }
        let mut t = self.ticket(Some(org), entries);
        t.owner = owner;
        t.group = group;
        t
    }
}

/// `time_unit` as Zammad stores it: minutes `"15.0"`, or hours `"0.25"`, `"1.5"`, `"2.0"`.
pub fn amount(minutes: i64, unit: Unit) -> Decimal {
    match unit {
        Unit::Minutes => Decimal::new(minutes * 10, 1),
        Unit::Hours => {
            let mut hours = (Decimal::from(minutes) / Decimal::from(60)).normalize();
            if hours.scale() == 0 {
                hours.rescale(1);
            }
            hours
        }
    }
}

fn build(spec: &DemoSpec, tickets: &[DraftTicket], agents: &[Agent]) -> (z::Dataset, k::Dataset) {
    let first_day = spec.start();
    let setup = at_local(Tz::Europe__Berlin, first_day, 7, 0, 0) - Duration::days(90);
    let mut zammad = z::Dataset {
        organisations: ORGS
            .iter()
            .map(|o| z::OrganisationRecord {
                id: o.id,
                name: o.name.to_owned(),
                note: None,
                created_at: setup,
            })
            .collect(),
        groups: cast::GROUPS
            .iter()
            .map(|&(id, name)| z::GroupRecord {
                id,
                name: name.to_owned(),
                created_at: setup,
            })
            .collect(),
        users: zammad_users(setup, agents),
        accounting_types: TYPES
            .iter()
            .map(|&(id, name)| z::AccountingTypeRecord {
                id,
                name: name.to_owned(),
                note: None,
                active: true,
                created_at: setup,
            })
            .collect(),
        tokens: vec![
            z::TokenRecord {
                token: cast::ADMIN_TOKEN.to_owned(),
                user_id: cast::ADMIN_ZAMMAD_ID,
            },
            z::TokenRecord {
                token: cast::AGENT_TOKEN.to_owned(),
                user_id: agents[cast::TOKEN_AGENT].zammad_id,
            },
        ],
        ..z::Dataset::default()
    };
    let mut kimai = kimai_catalog(agents);

    // Accounting ids follow creation time across all tickets, as in Zammad.
    let mut bookings: Vec<(DateTime<Utc>, usize, usize)> = Vec::new();
    for (ti, t) in tickets.iter().enumerate() {
        let id = 1001 + ti as u64;
        let org = t.org.map(|o| &ORGS[o]);
        zammad.tickets.push(z::TicketRecord {
            id,
            number: ticket_number(ti),
            title: t.title.clone(),
            group_id: t.group,
            customer_id: org.map_or(cast::WALK_IN_ID, |o| o.contact_id),
            organization_id: org.map(|o| o.id),
            owner_id: Some(agents[t.owner].zammad_id),
            state: t.state.to_owned(),
            created_at: t.created_at,
            updated_at: None,
        });
        for (ei, e) in t.entries.iter().enumerate() {
            bookings.push((e.at, ti, ei));
        }
    }
    bookings.sort();
    for (n, &(_, ti, ei)) in bookings.iter().enumerate() {
        let id = 1 + n as u64;
        let t = &tickets[ti];
        let e = &t.entries[ei];
        zammad.accountings.push(z::AccountingRecord {
            id,
            ticket_id: 1001 + ti as u64,
            ticket_article_id: None,
            time_unit: amount(e.minutes, spec.unit()),
            type_id: e.type_id,
            created_by_id: agents[e.agent].zammad_id,
            created_at: e.at,
            updated_at: None,
        });
        if let Some(kind) = e.kimai {
            kimai
                .timesheets
                .push(existing_timesheet(kind, &kimai, agents, ti, t, e, id));
        }
    }
    kimai.timesheets.push(internal_meeting(
        &kimai,
        &agents[cast::TOKEN_AGENT],
        first_day,
    ));
    (zammad, kimai)
}

/// Time that has nothing to do with Zammad: the sync must leave it alone.
fn internal_meeting(kimai: &k::Dataset, agent: &Agent, day: NaiveDate) -> k::TimesheetRecord {
    let begin = at_local(agent.zone, day, 8, 0, 0);
    k::TimesheetRecord {
        id: kimai.timesheets.len() as u64 + 1,
        user: agent.kimai_id,
        project: cast::INTERNAL_CUSTOMER,
        activity: 3,
        begin: kimai_time(begin, agent.zone),
        end: Some(kimai_time(begin + Duration::minutes(30), agent.zone)),
        break_secs: 0,
        description: Some("Team meeting".to_owned()),
        tags: Vec::new(),
        exported: true,
        billable: false,
        modified_at: None,
    }
}

fn ticket_number(index: usize) -> String {
    (50001 + index).to_string()
}

fn zammad_users(setup: DateTime<Utc>, agents: &[Agent]) -> Vec<z::UserRecord> {
    let user = |id: u64, login: &str, first: &str, last: &str, email: &str| z::UserRecord {
        id,
        login: login.to_owned(),
        firstname: first.to_owned(),
        lastname: last.to_owned(),
        email: email.to_owned(),
        organization_id: None,
        role: z::Role::Customer,
        group_ids: Vec::new(),
        active: true,
        created_at: setup,
    };
    let mut users = vec![z::UserRecord {
        role: z::Role::Admin,
        ..user(
            cast::ADMIN_ZAMMAD_ID,
            cast::ADMIN_EMAIL,
            "Ada",
            "Admin",
            cast::ADMIN_EMAIL,
        )
    }];
    for a in agents {
        users.push(z::UserRecord {
            role: z::Role::Agent,
            group_ids: a.groups.to_vec(),
            ..user(a.zammad_id, &a.login, &a.firstname, &a.lastname, &a.email)
        });
    }
    for o in &ORGS {
        users.push(z::UserRecord {
            organization_id: Some(o.id),
            ..user(
                o.contact_id,
                o.contact_email,
                o.contact_first,
                o.contact_last,
                o.contact_email,
            )
        });
    }
    users.push(user(
        cast::WALK_IN_ID,
        "walk-in@example.com",
        "Paul",
        "Privat",
        "walk-in@example.com",
    ));
    users
}

/// Users, customers (one per organisation plus an internal one), a project each, the global
/// activities, the `zammad` tag and an unrelated internal timesheet. Project ids equal the
/// customer ids.
fn kimai_catalog(agents: &[Agent]) -> k::Dataset {
    let mut users = vec![k::UserRecord {
        id: cast::KIMAI_API_USER,
        username: "sync-bot".to_owned(),
        alias: Some("Zammad Sync".to_owned()),
        email: "sync@support.example".to_owned(),
        timezone: "Europe/Berlin".to_owned(),
        roles: vec!["ROLE_SUPER_ADMIN".to_owned()],
        permissions: None,
        enabled: true,
    }];
    for a in agents {
        users.push(k::UserRecord {
            id: a.kimai_id,
            username: a.login.clone(),
            alias: Some(format!("{} {}", a.firstname, a.lastname)),
            email: a.email.clone(),
            timezone: a.zone.name().to_owned(),
            roles: vec![a.kimai_role.to_owned()],
            permissions: None,
            enabled: true,
        });
    }
    let mut customers: Vec<k::CustomerRecord> = ORGS
        .iter()
        .map(|o| k::CustomerRecord {
            id: o.kimai_customer,
            name: o.name.to_owned(),
            number: Some(o.kimai_number.map_or("K-2004", |n| n).to_owned()),
            visible: true,
            comment: None,
        })
        .collect();
    customers.push(k::CustomerRecord {
        id: cast::INTERNAL_CUSTOMER,
        name: "Internal".to_owned(),
        number: Some("INT".to_owned()),
        visible: true,
        comment: Some("Work that belongs to no customer".to_owned()),
    });
    let projects = customers
        .iter()
        .map(|c| k::ProjectRecord {
            id: c.id,
            customer: c.id,
            name: if c.id == cast::INTERNAL_CUSTOMER {
                "Administration".to_owned()
            } else {
                "Support".to_owned()
            },
            number: None,
            visible: true,
            global_activities: true,
            locked_until: None,
        })
        .collect();
    k::Dataset {
        version: "2.65.0".to_owned(),
        users,
        tokens: vec![
            k::TokenRecord {
                token: cast::ADMIN_TOKEN.to_owned(),
                user: cast::KIMAI_API_USER,
            },
            k::TokenRecord {
                token: cast::AGENT_TOKEN.to_owned(),
                user: agents[cast::TOKEN_AGENT].kimai_id,
            },
        ],
        customers,
        projects,
        activities: TYPES
            .iter()
            .map(|&(id, name)| k::ActivityRecord {
                id,
                name: name.to_owned(),
                project: None,
                visible: true,
            })
            .collect(),
        tags: vec![k::TagRecord {
            id: 1,
            name: "zammad".to_owned(),
            color: Some("#1f7a8c".to_owned()),
            visible: true,
        }],
        timesheets: Vec::new(),
        settings: k::Settings::default(),
    }
}

fn kimai_time(t: DateTime<Utc>, zone: Tz) -> String {
    sync_core::kimai::format_kimai_datetime(&t.with_timezone(&zone).fixed_offset())
}

fn existing_timesheet(
    kind: Existing,
    kimai: &k::Dataset,
    agents: &[Agent],
    ticket_index: usize,
    t: &DraftTicket,
    e: &DraftEntry,
    accounting_id: u64,
) -> k::TimesheetRecord {
    let agent = &agents[e.agent];
    let org = &ORGS[t
        .org
        .expect("tickets with an existing timesheet have an organisation")];
    let length = Duration::minutes(e.minutes);
    // The older tool ended an entry when it was logged; a person booked it an hour earlier.
    let end = match kind {
        Existing::LegacyMarker => e.at,
        Existing::ProbableDuplicate => e.at - Duration::hours(1),
    };
    let description = match kind {
        Existing::LegacyMarker => format!(
            "ZAM:T{}|TA:{accounting_id}\n{}",
            ticket_number(ticket_index),
            t.title
        ),
        Existing::ProbableDuplicate => format!("Phone call: {}", t.title),
    };
    k::TimesheetRecord {
        id: kimai.timesheets.len() as u64 + 1,
        user: agent.kimai_id,
        project: org.kimai_customer,
        activity: e.type_id.expect("existing timesheets are typed"),
        begin: kimai_time(end - length, agent.zone),
        end: Some(kimai_time(end, agent.zone)),
        break_secs: 0,
        description: Some(description),
        tags: Vec::new(),
        exported: false,
        billable: true,
        modified_at: None,
    }
}
