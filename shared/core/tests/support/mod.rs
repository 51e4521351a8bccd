//! Test helpers shared by the integration tests: builders for desired timesheets and a small
//! in-memory model of Kimai that applies a plan the way the writer would.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::BTreeMap;
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{
    AccountingId, ActivityId, KimaiUserId, ProjectId, TicketId, TimesheetId, ZammadUserId,
};
use sync_core::kimai::Timesheet;
use sync_core::marker::Marker;
use sync_core::plan::{Base, Operation, Plan};
use sync_core::zone::{parse_zone, utc_to_local};

pub const TICKET: TicketId = TicketId(31);

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
}

/// A desired per-accounting timesheet for accounting `id`, starting `offset_min` after 10:00
/// Berlin, lasting `minutes`.
pub fn desired(id: u64, offset_min: i64, minutes: i64) -> DesiredTimesheet {
    let zone = parse_zone("Europe/Berlin").unwrap();
    let begin_utc = t0() + Duration::minutes(offset_min);
    let end_utc = begin_utc + Duration::minutes(minutes);
    let key = EntryKey::for_accounting(AccountingId(id));
    let marker = Marker::for_key(&key).unwrap().render();
    DesiredTimesheet {
        key,
        ticket_id: TICKET,
        agent_id: ZammadUserId(3),
        accounting_ids: vec![AccountingId(id)],
        zone: zone.name().to_owned(),
        day: utc_to_local(zone, begin_utc).0.date(),
        begin: utc_to_local(zone, begin_utc),
        end: utc_to_local(zone, end_utc),
        begin_utc,
        end_utc,
        duration_secs: minutes * 60,
        user: KimaiUserId(5),
        project: ProjectId(2),
        activity: ActivityId(4),
        description: format!("{marker} #31001 Printer"),
        tags: vec!["zammad".to_owned()],
        billable: Some(true),
    }
}

/// What Kimai stores for a desired timesheet (no rounding).
pub fn timesheet_for(d: &DesiredTimesheet, id: u64) -> Timesheet {
    let zone = parse_zone(&d.zone).unwrap();
    let begin = d.begin_utc.with_timezone(&zone).fixed_offset();
    let end = d.end_utc.with_timezone(&zone).fixed_offset();
    Timesheet {
        id: TimesheetId(id),
        begin,
        end: Some(end),
        duration_secs: (end - begin).num_seconds(),
        break_secs: 0,
        description: Some(d.description.clone()),
        activity: d.activity,
        project: d.project,
        user: d.user,
        tags: d.tags.clone(),
        exported: false,
        billable: d.billable.unwrap_or(true),
    }
}

pub fn base_for(d: &DesiredTimesheet, id: u64) -> Base {
    Base {
        key: d.key.clone(),
        kimai_id: TimesheetId(id),
        written: Some(d.clone()),
        echoed: timesheet_for(d, id),
    }
}

/// A test model of Kimai plus our stored base. Optionally rounds every saved end up to a
/// multiple of `round_end_to_min` minutes, as Kimai's rounding rules may.
#[derive(Debug, Default, Clone)]
pub struct FakeKimai {
    pub timesheets: BTreeMap<TimesheetId, Timesheet>,
    pub base: BTreeMap<EntryKey, Base>,
    pub next_id: u64,
    pub round_end_to_min: Option<i64>,
}

impl FakeKimai {
    fn save(&self, d: &DesiredTimesheet, id: TimesheetId, exported: bool) -> Timesheet {
        let mut t = timesheet_for(d, id.0);
        if let (Some(step), Some(end)) = (self.round_end_to_min, t.end) {
            let step = step * 60;
            let secs = (end - t.begin).num_seconds();
            let rounded = (secs + step - 1) / step * step;
            t.end = Some(t.begin + Duration::seconds(rounded));
            t.duration_secs = rounded;
        }
        t.exported = exported;
        t
    }

    /// Apply a plan the way the writer does: record adoptions and respected edits, then each
    /// operation only if Kimai still holds what the plan expected.
    pub fn apply(&mut self, plan: &Plan) {
        for b in plan.adopted.iter().chain(&plan.kimai_edits_respected) {
            self.base.insert(b.key.clone(), b.clone());
        }
        for k in &plan.links_to_drop {
            self.base.remove(k);
        }
        for op in &plan.operations {
            match op {
                Operation::Create { desired } => {
                    self.next_id += 1;
                    let id = TimesheetId(90_000 + self.next_id);
                    let t = self.save(desired, id, false);
                    self.timesheets.insert(id, t.clone());
                    self.base.insert(
                        desired.key.clone(),
                        Base {
                            key: desired.key.clone(),
                            kimai_id: id,
                            written: Some(desired.clone()),
                            echoed: t,
                        },
                    );
                }
                Operation::Update {
                    kimai_id,
                    desired,
                    expected,
                } => {
                    let current = self
                        .timesheets
                        .get(kimai_id)
                        .expect("update of a missing timesheet");
                    assert_eq!(
                        current, expected,
                        "writer would refuse: Kimai changed after planning"
                    );
                    let t = self.save(desired, *kimai_id, current.exported);
                    self.timesheets.insert(*kimai_id, t.clone());
                    self.base.insert(
                        desired.key.clone(),
                        Base {
                            key: desired.key.clone(),
                            kimai_id: *kimai_id,
                            written: Some(desired.clone()),
                            echoed: t,
                        },
                    );
                }
                Operation::Delete {
                    key,
                    kimai_id,
                    expected,
                } => {
                    let current = self
                        .timesheets
                        .remove(kimai_id)
                        .expect("delete of a missing timesheet");
                    assert_eq!(&current, expected);
                    self.base.remove(key);
                }
            }
        }
    }

    pub fn base_list(&self) -> Vec<Base> {
        self.base.values().cloned().collect()
    }

    pub fn kimai_list(&self) -> Vec<Timesheet> {
        self.timesheets.values().cloned().collect()
    }
}
