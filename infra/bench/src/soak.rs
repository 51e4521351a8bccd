//! The limits harness (`infra/soak/soak-limits.sh`, docs/reliability.md "Limits harness"):
//! a backfill started from the console against a slow, rate-limiting Kimai, waited for until
//! it has settled, then checked against the world it was given.
//!
//! [`check_world`] is the oracle. It is written from the rules in docs/core.md, not with the
//! sync's own code, so a bug in the sync's planning cannot hide in its own check:
//! - accountings are grouped by (ticket, agent, type); a group's net time is
//!   `max(0, sum of its amounts)` (netting);
//! - a group with net time has timesheets carrying `[zammad:ta=<id>]` markers of its own
//!   accountings, owned by the Kimai user with the agent's e-mail, whose durations add up to the
//!   net time; each accounting id is in at most one timesheet, and a group without corrections
//!   has every accounting in exactly one;
//! - a group without net time has none;
//! - no marked timesheet names an accounting the world does not have.
//!
//! Three exceptions are expected, and reported apart, by design of the demo world and the
//! harness's policy: a group whose time someone already booked by hand (an unmarked timesheet
//! of the same user, day and duration in Kimai's seed) is held back as a probable duplicate;
//! a ticket without organisation has no project (projects are per customer, none created); and
//! an accounting whose agent's local day has no free span as long as it between the timesheets
//! Kimai holds at the end is held back as `no_room_on_day` (docs/core.md, "No room"), which
//! must then be an open conflict of its ticket when the open conflicts are given. A generated
//! world's busiest agents log more than a day's worth of time on some days.

use crate::error::BenchError;
use crate::sync_run::{self, Calls};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// What the world check found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorldCheck {
    pub accountings: usize,
    /// (ticket, agent, type) groups, and those with net time.
    pub groups: usize,
    pub groups_with_time: usize,
    /// Timesheets carrying one of our per-accounting markers.
    pub synced_timesheets: usize,
    /// Time held back by design: probable duplicates of a hand-made timesheet, tickets without
    /// project, accountings without room on their day.
    pub held_back: Vec<String>,
    /// Everything that is wrong; empty when the check passes.
    pub problems: Vec<String>,
}

/// The accounting ids named by `[zammad:ta=<id>]` markers in a description.
pub fn marked_ids(description: &str) -> Vec<u64> {
    const OPEN: &str = "[zammad:ta=";
    let mut ids = Vec::new();
    let mut rest = description;
    while let Some(at) = rest.find(OPEN) {
        rest = &rest[at + OPEN.len()..];
        if let Some(end) = rest.find(']') {
            if let Ok(id) = rest[..end].parse() {
                ids.push(id);
            }
        }
    }
    ids
}

/// Whether a Kimai time (with its offset) falls on the local day one of the accountings was
/// logged on, in that offset.
fn same_local_day(begin: &str, accountings: &[&zammad_sim::dataset::AccountingRecord]) -> bool {
    let Ok(begin) = sync_core::kimai::parse_kimai_datetime("begin", begin) else {
        return false;
    };
    accountings
        .iter()
        .any(|a| a.created_at.with_timezone(begin.offset()).date_naive() == begin.date_naive())
}

/// Whether the Kimai user's local day of `logged` (in `zone`) has no free span of `length`
/// seconds between the user's `timesheets` (docs/core.md: an entry is placed within its day).
fn no_room_on_day(
    timesheets: &[kimai_sim::AdminTimesheet],
    user: u64,
    zone: Tz,
    logged: DateTime<Utc>,
    length: i64,
) -> bool {
    let day = logged.with_timezone(&zone).date_naive();
    let midnight = |d: NaiveDate| {
        zone.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    let (Some(start), Some(end)) = (midnight(day), day.succ_opt().and_then(midnight)) else {
        return false;
    };
    let mut busy: Vec<(DateTime<Utc>, DateTime<Utc>)> = timesheets
        .iter()
        .filter(|t| t.user == user)
        .filter_map(|t| {
            let begin = sync_core::kimai::parse_kimai_datetime("begin", &t.begin).ok()?;
            let end = sync_core::kimai::parse_kimai_datetime("end", t.end.as_deref()?).ok()?;
            Some((begin.with_timezone(&Utc), end.with_timezone(&Utc)))
        })
        .filter(|(b, e)| *b < end && *e > start)
        .collect();
    busy.sort();
    let mut free_from = start;
    let mut widest = chrono::Duration::zero();
    for (b, e) in busy {
        widest = widest.max(b - free_from);
        free_from = free_from.max(e);
    }
    widest = widest.max(end - free_from);
    widest < chrono::Duration::seconds(length)
}

/// Seconds of a Zammad amount in minutes (the unit the soak's world is generated in).
fn seconds(time_unit: &impl ToString) -> i64 {
    let minutes: f64 = time_unit.to_string().parse().unwrap_or(f64::NAN);
    (minutes * 60.0).round() as i64
}

/// The activity each Zammad type is booked on, from the policy the harness configured.
#[derive(Debug, Clone, PartialEq)]
pub struct Activities {
    pub by_type: BTreeMap<u64, u64>,
    pub default: u64,
}

impl Activities {
    /// `mappings.activity_by_type` and `mappings.default_activity` of a policy document.
    pub fn from_policy_file(path: &str) -> Result<Activities, BenchError> {
        let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
            path: path.into(),
            source,
        })?;
        let policy: Value =
            serde_json::from_str(&text).map_err(|e| BenchError::Dataset(e.to_string()))?;
        let mappings = &policy["mappings"];
        let by_type = mappings["activity_by_type"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_u64()?)))
            .collect();
        let default = mappings["default_activity"]
            .as_u64()
            .ok_or_else(|| BenchError::Dataset(format!("{path}: no default_activity")))?;
        Ok(Activities { by_type, default })
    }

    fn of(&self, type_id: Option<u64>) -> u64 {
        type_id
            .and_then(|t| self.by_type.get(&t).copied())
            .unwrap_or(self.default)
    }
}

/// Compares Kimai's timesheets after the sync with the world the simulators were seeded with.
pub fn check_world(
    zammad: &zammad_sim::Dataset,
    kimai_seed: &kimai_sim::Dataset,
    timesheets: &[kimai_sim::AdminTimesheet],
) -> WorldCheck {
    check_world_with(zammad, kimai_seed, timesheets, None, None)
}

/// [`check_world`]; with `activities` also each timesheet's activity, and with
/// `no_room_tickets` (the tickets with an open `no_room_on_day` conflict) that time held back
/// for want of room was reported.
pub fn check_world_with(
    zammad: &zammad_sim::Dataset,
    kimai_seed: &kimai_sim::Dataset,
    timesheets: &[kimai_sim::AdminTimesheet],
    activities: Option<&Activities>,
    no_room_tickets: Option<&BTreeSet<u64>>,
) -> WorldCheck {
    let mut check = WorldCheck {
        accountings: zammad.accountings.len(),
        ..WorldCheck::default()
    };
    let kimai_user_by_email: BTreeMap<String, u64> = kimai_seed
        .users
        .iter()
        .map(|u| (u.email.to_lowercase(), u.id))
        .collect();
    let kimai_user_of_agent = |agent: u64| -> Option<u64> {
        let email = zammad
            .users
            .iter()
            .find(|u| u.id == agent)?
            .email
            .to_lowercase();
        kimai_user_by_email.get(&email).copied()
    };
    let zone_of_user = |user: u64| -> Option<Tz> {
        kimai_seed
            .users
            .iter()
            .find(|u| u.id == user)?
            .timezone
            .parse()
            .ok()
    };
    // Time held back for want of room on its day: reported, or a problem.
    let no_room = |check: &mut WorldCheck, name: &str, ticket: u64, what: String| {
        if no_room_tickets.is_none_or(|open| open.contains(&ticket)) {
            check
                .held_back
                .push(format!("{name}: {what}, no room on its day"));
        } else {
            check.problems.push(format!(
                "{name}: {what} has no room on its day, but no open no_room_on_day conflict says so"
            ));
        }
    };

    // Which timesheets name each accounting.
    let mut sheets_of: BTreeMap<u64, Vec<&kimai_sim::AdminTimesheet>> = BTreeMap::new();
    for t in timesheets {
        let ids = marked_ids(t.description.as_deref().unwrap_or(""));
        if !ids.is_empty() {
            check.synced_timesheets += 1;
        }
        if ids.len() > 1 {
            check.problems.push(format!(
                "timesheet {} carries {} markers: {ids:?}",
                t.id,
                ids.len()
            ));
        }
        for id in ids {
            sheets_of.entry(id).or_default().push(t);
        }
    }
    let known: BTreeSet<u64> = zammad.accountings.iter().map(|a| a.id).collect();
    for (id, sheets) in &sheets_of {
        if !known.contains(id) {
            let ids: Vec<u64> = sheets.iter().map(|t| t.id).collect();
            check.problems.push(format!(
                "timesheet(s) {ids:?} name accounting {id}, which the world does not have"
            ));
        }
    }

    let mut groups: BTreeMap<(u64, u64, Option<u64>), Vec<&zammad_sim::dataset::AccountingRecord>> =
        BTreeMap::new();
    for a in &zammad.accountings {
        groups
            .entry((a.ticket_id, a.created_by_id, a.type_id))
            .or_default()
            .push(a);
    }
    check.groups = groups.len();
    for ((ticket, agent, type_id), accountings) in &groups {
        let name = format!(
            "ticket {ticket}, agent {agent}, type {}",
            type_id.map_or("none".to_owned(), |t| t.to_string())
        );
        let net = accountings
            .iter()
            .map(|a| seconds(&a.time_unit))
            .sum::<i64>()
            .max(0);
        let corrected = accountings.iter().any(|a| seconds(&a.time_unit) < 0);
        let mut sheets: BTreeMap<u64, &kimai_sim::AdminTimesheet> = BTreeMap::new();
        // Without a correction every accounting keeps its own timesheet.
        let mut missing = Vec::new();
        for a in accountings {
            let named = sheets_of.get(&a.id).map_or(&[][..], Vec::as_slice);
            if named.len() > 1 {
                let ids: Vec<u64> = named.iter().map(|t| t.id).collect();
                check.problems.push(format!(
                    "{name}: accounting {} is in {} timesheets {ids:?}",
                    a.id,
                    named.len()
                ));
            }
            if !corrected && named.is_empty() {
                missing.push(a.id);
            }
            for t in named {
                sheets.insert(t.id, t);
            }
        }
        // An accounting someone had booked by hand (an unmarked, unexported timesheet of the
        // same user, local day and length, in Kimai before the sync) is held back on its own as
        // a probable duplicate, whatever else its group holds: the sync plans per accounting.
        let mut net = net;
        let expected_user = kimai_user_of_agent(*agent);
        let day_is_full = |logged: DateTime<Utc>, length: i64| {
            let Some(user) = expected_user else {
                return false;
            };
            zone_of_user(user)
                .is_some_and(|zone| no_room_on_day(timesheets, user, zone, logged, length))
        };
        missing.retain(|id| {
            let Some(a) = accountings.iter().find(|a| a.id == *id) else {
                return true;
            };
            let own = seconds(&a.time_unit);
            let by_hand = kimai_seed.timesheets.iter().find(|t| {
                let description = t.description.as_deref().unwrap_or("");
                own > 0
                    && Some(t.user) == expected_user
                    && !t.exported
                    && marked_ids(description).is_empty()
                    && !description.starts_with("ZAM:")
                    && timesheets
                        .iter()
                        .any(|now| now.id == t.id && now.duration == own)
                    && same_local_day(&t.begin, &[*a])
            });
            match by_hand {
                Some(t) => {
                    check.held_back.push(format!(
                        "{name}: accounting {}, {} min, booked by hand as timesheet {}",
                        a.id,
                        own / 60,
                        t.id
                    ));
                    net -= own;
                    false
                }
                None if own > 0 && day_is_full(a.created_at, own) => {
                    let what = format!("accounting {}, {} min", a.id, own / 60);
                    no_room(&mut check, &name, *ticket, what);
                    net -= own;
                    false
                }
                None => true,
            }
        });
        if net == 0 {
            if !sheets.is_empty() {
                check.problems.push(format!(
                    "{name}: no net time, yet timesheets {:?}",
                    sheets.keys().collect::<Vec<_>>()
                ));
            }
            continue;
        }
        check.groups_with_time += 1;
        let walk_in = zammad
            .tickets
            .iter()
            .any(|t| t.id == *ticket && t.organization_id.is_none());
        if sheets.is_empty() && walk_in {
            // The harness's policy books per customer and creates none: a ticket without
            // organisation has no project, and is left as a conflict by design.
            check.held_back.push(format!(
                "{name}: {} min, ticket without organisation (no project under the policy)",
                net / 60
            ));
            continue;
        }
        if sheets.is_empty() {
            // Booked by hand before: an unmarked, unexported timesheet of the same user and
            // length that was in Kimai before the sync (not the older tool's, which is adopted).
            let by_hand = kimai_seed.timesheets.iter().find(|t| {
                let description = t.description.as_deref().unwrap_or("");
                Some(t.user) == expected_user
                    && !t.exported
                    && marked_ids(description).is_empty()
                    && !description.starts_with("ZAM:")
                    && timesheets
                        .iter()
                        .any(|now| now.id == t.id && now.duration == net)
                    && same_local_day(&t.begin, accountings)
            });
            match by_hand {
                Some(t) => check.held_back.push(format!(
                    "{name}: {} min, booked by hand as timesheet {}",
                    net / 60,
                    t.id
                )),
                None if accountings.iter().any(|a| day_is_full(a.created_at, net)) => {
                    no_room(&mut check, &name, *ticket, format!("{} min", net / 60))
                }
                None => check
                    .problems
                    .push(format!("{name}: {net} s of net time, but no timesheet")),
            }
            continue;
        }
        if !missing.is_empty() {
            check
                .problems
                .push(format!("{name}: accounting(s) {missing:?} in no timesheet"));
        }
        let booked: i64 = sheets.values().map(|t| t.duration).sum();
        if booked != net {
            check.problems.push(format!(
                "{name}: timesheets {:?} last {booked} s, the net time is {net} s",
                sheets.keys().collect::<Vec<_>>()
            ));
        }
        for t in sheets.values() {
            if Some(t.user) != expected_user {
                check.problems.push(format!(
                    "{name}: timesheet {} belongs to user {}, expected {expected_user:?}",
                    t.id, t.user
                ));
            }
            // The local day of the booking is kept (in the owner's zone, the timesheet's): the
            // timesheet begins or ends on it. An entry ending at a booking just after midnight
            // begins the day before and is listed there (docs/core.md, "Days and zones").
            let own: Vec<&zammad_sim::dataset::AccountingRecord> =
                marked_ids(t.description.as_deref().unwrap_or(""))
                    .iter()
                    .filter_map(|id| accountings.iter().find(|a| a.id == *id).copied())
                    .collect();
            let ends_on_it = t
                .end
                .as_deref()
                .is_some_and(|end| same_local_day(end, &own));
            if !own.is_empty() && !same_local_day(&t.begin, &own) && !ends_on_it {
                check.problems.push(format!(
                    "{name}: timesheet {} ({} .. {:?}) is not on the local day its accounting was logged ({})",
                    t.id, t.begin, t.end, own[0].created_at
                ));
            }
            if let Some(activities) = activities {
                let expected = activities.of(*type_id);
                if t.activity != expected {
                    check.problems.push(format!(
                        "{name}: timesheet {} is on activity {}, expected {expected}",
                        t.id, t.activity
                    ));
                }
            }
        }
    }
    check
}

/// Where the console and the stack's resources are.
pub struct Console {
    /// `<gateway>/api`.
    pub api_url: String,
    pub user: String,
    pub password: String,
}

/// One console backfill, measured.
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub run_id: String,
    /// What `POST /api/sync-runs` answered (status, state).
    pub started_status: u16,
    pub started_state: String,
    /// POST → the last activity before the pipeline went quiet.
    pub settled_s: f64,
    pub last_create_s: Option<f64>,
    pub run: Option<Value>,
    pub calls: Calls,
    pub dead_letters: BTreeMap<String, u64>,
}

/// Logs in as the console admin, starts a date-range run, and waits until the run has ended,
/// every ticket it queued is reconciled, the work queues are empty and neither simulator was
/// called for `polling.quiet`.
pub async fn console_backfill(
    clients: &sync_run::Clients,
    targets: &sync_run::Targets,
    console: &Console,
    polling: sync_run::Polling,
    from: &str,
    to: &str,
) -> Result<SoakReport, BenchError> {
    let login_url = format!("{}/auth/login", console.api_url);
    let login: Value = clients
        .http
        .post(&login_url)
        .json(&serde_json::json!({"username": console.user, "password": console.password}))
        .send()
        .await
        .map_err(|e| BenchError::http(&login_url, e))?
        .json()
        .await
        .map_err(|e| BenchError::http(&login_url, e))?;
    let token = login["token"]
        .as_str()
        .ok_or_else(|| BenchError::http(&login_url, format!("no token in {login}")))?
        .to_owned();

    let before = sync_run::calls(&clients.http, targets).await?;
    let runs_url = format!("{}/sync-runs", console.api_url);
    let started = Instant::now();
    let response = clients
        .http
        .post(&runs_url)
        .bearer_auth(&token)
        .json(&serde_json::json!({"from": from, "to": to}))
        .send()
        .await
        .map_err(|e| BenchError::http(&runs_url, e))?;
    let status = response.status().as_u16();
    let body: Value = response
        .json()
        .await
        .map_err(|e| BenchError::http(&runs_url, e))?;
    let run_id = body["id"].as_str().unwrap_or_default().to_owned();
    let started_state = body["state"].as_str().unwrap_or_default().to_owned();
    if status != 202 || started_state != "running" || run_id.is_empty() {
        return Err(BenchError::Unsuccessful {
            function: "api".into(),
            detail: format!("POST /api/sync-runs answered {status}, expected 202 running"),
            body: body.to_string(),
        });
    }

    let mut settling = sync_run::Settling::new(
        polling.quiet,
        before.total(),
        before
            .kimai
            .get(sync_run::KIMAI_CREATE)
            .copied()
            .unwrap_or(0),
    );
    let mut last_print = Instant::now();
    loop {
        let now = sync_run::calls(&clients.http, targets).await?;
        let queued = sync_run::queue_depth(&clients.sqs, &targets.work_queues).await?;
        let run = sync_run::run_counters(&clients.control, &run_id).await?;
        let at = started.elapsed();
        let creates = now.kimai.get(sync_run::KIMAI_CREATE).copied().unwrap_or(0);
        // Until the run has ended and reconciled what it queued, it counts as queued work.
        let unfinished = u64::from(!run_finished(run.as_ref()));
        let quiet = settling.observe(at, now.total(), creates, queued + unfinished);
        if quiet {
            break;
        }
        if at >= polling.limit {
            return Err(BenchError::NotSettled {
                limit: polling.limit,
                last: format!(
                    "{queued} message(s) queued, run {}, {} calls so far",
                    run.map_or("not found".to_owned(), |r| r.to_string()),
                    now.since(&before).total()
                ),
            });
        }
        if last_print.elapsed() >= Duration::from_secs(30) {
            last_print = Instant::now();
            eprintln!(
                "  {:>5} s: {queued} message(s) queued, {} Kimai creates, run {}",
                at.as_secs(),
                creates.saturating_sub(
                    before
                        .kimai
                        .get(sync_run::KIMAI_CREATE)
                        .copied()
                        .unwrap_or(0)
                ),
                run.map_or("not found".to_owned(), |r| r["counters"].to_string())
            );
        }
        tokio::time::sleep(polling.every).await;
    }
    let after = sync_run::calls(&clients.http, targets).await?;
    let mut dead_letters = BTreeMap::new();
    for (name, url) in &targets.dead_letter_queues {
        let depth = sync_run::queue_depth(&clients.sqs, &[(name.clone(), url.clone())]).await?;
        dead_letters.insert(name.clone(), depth);
    }
    Ok(SoakReport {
        run: sync_run::run_counters(&clients.control, &run_id).await?,
        run_id,
        started_status: status,
        started_state,
        settled_s: settling.last_activity.as_secs_f64(),
        last_create_s: settling.last_create.map(|d| d.as_secs_f64()),
        calls: after.since(&before),
        dead_letters,
    })
}

/// The run has left `Running` and every ticket it queued is done or failed.
fn run_finished(run: Option<&Value>) -> bool {
    let Some(run) = run else { return false };
    let counter = |name: &str| run["counters"][name].as_u64().unwrap_or(0);
    run["state"].as_str() != Some("Running")
        && counter("tickets_done") + counter("failed") >= counter("tickets_queued")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn world() -> (zammad_sim::Dataset, kimai_sim::Dataset) {
        let (_, zammad, kimai) = crate::dataset::exact(
            60,
            2,
            chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            demo_data::cast::NAMED_AGENTS,
        )
        .unwrap();
        (zammad, kimai)
    }

    /// What a correct sync leaves in Kimai, built from the rules (one timesheet per surviving
    /// positive accounting, the group's net time on its first one), plus the seed's records.
    fn synced(
        zammad: &zammad_sim::Dataset,
        kimai: &kimai_sim::Dataset,
    ) -> Vec<kimai_sim::AdminTimesheet> {
        let user_of = |agent: u64| {
            let email = &zammad.users.iter().find(|u| u.id == agent).unwrap().email;
            kimai.users.iter().find(|u| &u.email == email).unwrap().id
        };
        let mut out: Vec<kimai_sim::AdminTimesheet> = kimai
            .timesheets
            .iter()
            .map(|t| sheet(t.id, t.user, 0, t.description.clone().unwrap_or_default()))
            .collect();
        // The hand-made duplicate keeps its own duration: read it from the seed's times.
        for (t, seed) in out.iter_mut().zip(&kimai.timesheets) {
            let begin = sync_core::kimai::parse_kimai_datetime("begin", &seed.begin).unwrap();
            let end =
                sync_core::kimai::parse_kimai_datetime("end", seed.end.as_ref().unwrap()).unwrap();
            t.duration = (end - begin).num_seconds();
        }
        let mut groups: BTreeMap<
            (u64, u64, Option<u64>),
            Vec<&zammad_sim::dataset::AccountingRecord>,
        > = BTreeMap::new();
        for a in &zammad.accountings {
            groups
                .entry((a.ticket_id, a.created_by_id, a.type_id))
                .or_default()
                .push(a);
        }
        let mut next = 10_000;
        for ((ticket, agent, type_id), accountings) in groups {
            let net = accountings
                .iter()
                .map(|a| seconds(&a.time_unit))
                .sum::<i64>();
            if net <= 0 {
                continue;
            }
            let by_hand = kimai.timesheets.iter().zip(&out).any(|(seed, now)| {
                let description = seed.description.as_deref().unwrap_or("");
                seed.user == user_of(agent)
                    && !seed.exported
                    && !description.starts_with("ZAM:")
                    && now.duration == net
                    && same_local_day(&seed.begin, &accountings)
            });
            let walk_in = zammad
                .tickets
                .iter()
                .any(|t| t.id == ticket && t.organization_id.is_none());
            if by_hand || walk_in {
                continue;
            }
            let positive: Vec<_> = accountings
                .iter()
                .filter(|a| seconds(&a.time_unit) > 0)
                .collect();
            let mut left = net;
            for a in positive {
                let own = seconds(&a.time_unit).min(left);
                if own == 0 {
                    break;
                }
                left -= own;
                next += 1;
                let mut t = sheet(
                    next,
                    user_of(agent),
                    own,
                    format!("[zammad:ta={}] #{}", a.id, a.ticket_id),
                );
                // Ending when it was logged, on its activity (the types map to equal ids).
                let format = "%Y-%m-%dT%H:%M:%S%z";
                t.begin = (a.created_at - chrono::Duration::seconds(own))
                    .format(format)
                    .to_string();
                t.end = Some(a.created_at.format(format).to_string());
                t.activity = type_id.unwrap_or(1);
                out.push(t);
            }
        }
        out
    }

    fn sheet(id: u64, user: u64, duration: i64, description: String) -> kimai_sim::AdminTimesheet {
        serde_json::from_value(json!({
            "id": id, "user": user, "project": 1, "activity": 1,
            "begin": "2026-03-02T09:00:00+0100", "end": null, "duration": duration, "break": 0,
            "description": description, "tags": [], "exported": false, "billable": true,
            "timezone": "Europe/Berlin", "modified_at": "2026-03-02T09:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn markers_are_read_wherever_they_stand() {
        assert_eq!(marked_ids("[zammad:ta=12] #50001 Printer"), vec![12]);
        assert_eq!(marked_ids("x [zammad:ta=3]\n[zammad:ta=4]"), vec![3, 4]);
        assert!(marked_ids("ZAM:T50001|TA:5 [zammad:agg=ab] [zammad:ta=]").is_empty());
    }

    #[test]
    fn a_correct_sync_passes_and_the_hand_booked_duplicate_is_held_back() {
        let (zammad, kimai) = world();
        let sheets = synced(&zammad, &kimai);
        let check = check_world(&zammad, &kimai, &sheets);
        assert_eq!(check.problems, Vec::<String>::new());
        assert_eq!(check.accountings, 60);
        // The hand-booked duplicate, and the walk-in ticket's typed and untyped time.
        assert_eq!(check.held_back.len(), 3, "{:?}", check.held_back);
        assert_eq!(
            check
                .held_back
                .iter()
                .filter(|h| h.contains("without organisation"))
                .count(),
            2
        );
        assert!(check.synced_timesheets > 40, "{check:?}");
    }

    /// The chaos driver books more time beside the accounting someone had booked by hand: the
    /// sync books the new one and still holds the duplicate back, which the check accepts (the
    /// full soak's first run flagged it as missing time).
    #[test]
    fn time_added_beside_a_hand_booked_duplicate_is_booked_and_the_duplicate_still_held_back() {
        let (mut zammad, kimai) = world();
        let before = synced(&zammad, &kimai);
        let hand = check_world(&zammad, &kimai, &before)
            .held_back
            .into_iter()
            .find(|h| h.contains("booked by hand"))
            .unwrap();
        // "ticket T, agent A, type Y: …": the duplicated accounting is the group's only one.
        let ticket: u64 = hand["ticket ".len()..]
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let original = zammad
            .accountings
            .iter()
            .find(|a| a.ticket_id == ticket)
            .unwrap()
            .clone();
        let mut added = original.clone();
        added.id = 99_999;
        added.time_unit = "25".parse().unwrap();
        added.created_at = original.created_at + chrono::Duration::minutes(2);
        zammad.accountings.push(added.clone());
        let format = "%Y-%m-%dT%H:%M:%S%z";
        let mut new = sheet(
            20_000,
            before
                .iter()
                .find(|t| hand.ends_with(&format!("timesheet {}", t.id)))
                .unwrap()
                .user,
            1500,
            format!("[zammad:ta={}] #{ticket}", added.id),
        );
        new.begin = (added.created_at - chrono::Duration::minutes(25))
            .format(format)
            .to_string();
        new.end = Some(added.created_at.format(format).to_string());
        new.activity = added.type_id.unwrap_or(1);
        let mut after = before.clone();
        after.push(new);
        let check = check_world(&zammad, &kimai, &after);
        assert_eq!(check.problems, Vec::<String>::new());
        assert!(
            check
                .held_back
                .iter()
                .any(|h| h.contains(&format!("accounting {}, 60 min", original.id))),
            "{:?}",
            check.held_back
        );
        // Without the new timesheet, the added time is missing.
        let check = check_world(&zammad, &kimai, &before);
        assert!(!check.problems.is_empty());
    }

    #[test]
    fn time_without_room_on_its_day_is_held_back_only_when_the_day_is_full_and_reported() {
        let (zammad, kimai) = world();
        let good = synced(&zammad, &kimai);
        let missing = good
            .iter()
            .find(|t| !marked_ids(t.description.as_deref().unwrap()).is_empty())
            .unwrap()
            .clone();
        let accounting = marked_ids(missing.description.as_deref().unwrap())[0];
        let ticket = zammad
            .accountings
            .iter()
            .find(|a| a.id == accounting)
            .unwrap()
            .ticket_id;
        let without: Vec<_> = good
            .iter()
            .filter(|t| t.id != missing.id)
            .cloned()
            .collect();
        // The same user's day filled by one booking from local midnight to midnight.
        let zone: Tz = kimai
            .users
            .iter()
            .find(|u| u.id == missing.user)
            .unwrap()
            .timezone
            .parse()
            .unwrap();
        let begin = sync_core::kimai::parse_kimai_datetime("begin", &missing.begin).unwrap();
        let day = begin.with_timezone(&zone).date_naive();
        let local = |d: NaiveDate| {
            zone.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
                .earliest()
                .unwrap()
        };
        let mut meeting = sheet(77_777, missing.user, 0, "all-day workshop".into());
        meeting.begin = local(day).format("%Y-%m-%dT%H:%M:%S%z").to_string();
        meeting.end = Some(
            local(day.succ_opt().unwrap())
                .format("%Y-%m-%dT%H:%M:%S%z")
                .to_string(),
        );
        let mut full = without.clone();
        full.push(meeting.clone());

        // A free day: the missing time is a problem, reported or not.
        let open = BTreeSet::from([ticket]);
        let check = check_world_with(&zammad, &kimai, &without, None, Some(&open));
        assert!(
            !check.problems.is_empty(),
            "missing time on a free day passed"
        );

        // A full day, told as no_room_on_day: held back.
        let check = check_world_with(&zammad, &kimai, &full, None, Some(&open));
        assert_eq!(check.problems, Vec::<String>::new());
        assert!(
            check
                .held_back
                .iter()
                .any(|h| h.contains(&format!("accounting {accounting}")) && h.contains("no room")),
            "{:?}",
            check.held_back
        );

        // A full day nobody was told about: a problem.
        let check = check_world_with(&zammad, &kimai, &full, None, Some(&BTreeSet::new()));
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.contains("no open no_room_on_day conflict")),
            "{:?}",
            check.problems
        );

        // A minute free at the end of the day is not room for the entry.
        let mut nearly = without;
        meeting.end = Some(
            (local(day.succ_opt().unwrap()) - chrono::Duration::minutes(1))
                .format("%Y-%m-%dT%H:%M:%S%z")
                .to_string(),
        );
        nearly.push(meeting);
        let check = check_world_with(&zammad, &kimai, &nearly, None, Some(&open));
        assert_eq!(check.problems, Vec::<String>::new());
    }

    #[test]
    fn a_missing_a_doubled_a_misowned_a_wrong_length_a_wrong_day_and_a_wrong_activity_timesheet_are_each_found()
     {
        let (zammad, kimai) = world();
        let good = synced(&zammad, &kimai);
        let ours = |i: usize| {
            good.iter()
                .filter(|t| !marked_ids(t.description.as_deref().unwrap()).is_empty())
                .nth(i)
                .unwrap()
                .clone()
        };

        let missing = ours(0);
        let sheets: Vec<_> = good
            .iter()
            .filter(|t| t.id != missing.id)
            .cloned()
            .collect();
        let check = check_world(&zammad, &kimai, &sheets);
        assert!(!check.problems.is_empty(), "a missing timesheet passed");

        let mut doubled = good.clone();
        let mut copy = ours(1);
        copy.id = 99_999;
        doubled.push(copy);
        let check = check_world(&zammad, &kimai, &doubled);
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.contains("is in 2 timesheets")),
            "{:?}",
            check.problems
        );

        let mut misowned = good.clone();
        let target = ours(2).id;
        misowned.iter_mut().find(|t| t.id == target).unwrap().user = 999;
        let check = check_world(&zammad, &kimai, &misowned);
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.contains("belongs to user 999")),
            "{:?}",
            check.problems
        );

        let mut longer = good.clone();
        let target = ours(3).id;
        longer.iter_mut().find(|t| t.id == target).unwrap().duration += 60;
        let check = check_world(&zammad, &kimai, &longer);
        assert!(
            check.problems.iter().any(|p| p.contains("the net time is")),
            "{:?}",
            check.problems
        );

        let mut elsewhere = good.clone();
        let target = ours(4).id;
        let moved = elsewhere.iter_mut().find(|t| t.id == target).unwrap();
        moved.begin = "2026-01-05T09:00:00+0100".into();
        moved.end = Some("2026-01-05T09:30:00+0100".into());
        let check = check_world(&zammad, &kimai, &elsewhere);
        assert!(
            check
                .problems
                .iter()
                .any(|p| p.contains("not on the local day")),
            "{:?}",
            check.problems
        );

        let activities = Activities {
            by_type: (1..=4).map(|t| (t, t)).collect(),
            default: 1,
        };
        let check = check_world_with(&zammad, &kimai, &good, Some(&activities), None);
        assert_eq!(
            check.problems,
            Vec::<String>::new(),
            "the right activities pass"
        );
        let mut misfiled = good.clone();
        let target = ours(5).id;
        let sheet_of = misfiled.iter_mut().find(|t| t.id == target).unwrap();
        sheet_of.activity = 99;
        let check = check_world_with(&zammad, &kimai, &misfiled, Some(&activities), None);
        assert!(
            check.problems.iter().any(|p| p.contains("on activity 99")),
            "{:?}",
            check.problems
        );

        let mut stray = good;
        stray.push(sheet(88_888, 1, 60, "[zammad:ta=777777]".into()));
        let check = check_world(&zammad, &kimai, &stray);
        assert!(
            check.problems.iter().any(|p| p.contains("does not have")),
            "{:?}",
            check.problems
        );
    }

    #[test]
    fn a_run_is_finished_once_it_ended_and_reconciled_what_it_queued() {
        let run = |state: &str, queued: u64, done: u64, failed: u64| json!({"state": state, "counters": {"tickets_queued": queued, "tickets_done": done, "failed": failed}});
        assert!(!run_finished(None));
        assert!(!run_finished(Some(&run("Running", 10, 10, 0))));
        assert!(!run_finished(Some(&run("Succeeded", 10, 8, 1))));
        assert!(run_finished(Some(&run("Succeeded", 10, 9, 1))));
        assert!(run_finished(Some(&run("Failed", 0, 0, 0))));
    }
}
