//! Test data written for these tests: small, valid values of the core types.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, SubsecRound, Utc};
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{
    AccountingId, ActivityId, KimaiUserId, ProjectId, TicketId, TimesheetId, ZammadUserId,
};
use sync_core::kimai::{KimaiLocalDateTime, Timesheet};
use sync_core::plan::{Base, Conflict, ConflictReason};
use sync_store::entries::{EntryRecord, EntryStatus};

/// "Now" for a test: the real time (items with TTL must not look expired to the emulator's
/// reaper), whole seconds so every adapter stores it exactly.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

pub fn day(offset_days: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).unwrap() + Duration::days(offset_days)
}

pub fn desired(ticket: u64, accounting: u64, agent: u64, on: NaiveDate) -> DesiredTimesheet {
    let begin = on.and_hms_opt(9, 0, 0).unwrap();
    let end = on.and_hms_opt(9, 30, 0).unwrap();
    DesiredTimesheet {
        key: EntryKey::for_accounting(AccountingId(accounting)),
        ticket_id: TicketId(ticket),
        agent_id: ZammadUserId(agent),
        accounting_ids: vec![AccountingId(accounting)],
        zone: "Europe/Berlin".into(),
        day: on,
        begin: KimaiLocalDateTime(begin),
        end: KimaiLocalDateTime(end),
        begin_utc: begin.and_utc() - Duration::hours(1),
        end_utc: end.and_utc() - Duration::hours(1),
        duration_secs: 1800,
        user: KimaiUserId(3),
        project: ProjectId(7),
        activity: ActivityId(2),
        description: format!("[zammad:ta={accounting}] #{ticket} Printer jam"),
        tags: vec!["zammad".into()],
        billable: Some(true),
    }
}

pub fn record(
    ticket: u64,
    accounting: u64,
    agent: u64,
    on: NaiveDate,
    at: DateTime<Utc>,
) -> EntryRecord {
    let desired = desired(ticket, accounting, agent, on);
    EntryRecord {
        ticket_id: TicketId(ticket),
        key: desired.key.clone(),
        agent_id: ZammadUserId(agent),
        day: on,
        status: EntryStatus::Pending,
        desired: Some(desired),
        base: None,
        updated_at: at,
        create_sent_at: None,
    }
}

pub fn timesheet(id: u64, desired: &DesiredTimesheet) -> Timesheet {
    let zone = FixedOffset::east_opt(3600).unwrap();
    Timesheet {
        id: TimesheetId(id),
        begin: desired.begin_utc.with_timezone(&zone),
        end: Some(desired.end_utc.with_timezone(&zone)),
        duration_secs: desired.duration_secs,
        break_secs: 0,
        description: Some(desired.description.clone()),
        activity: desired.activity,
        project: desired.project,
        user: desired.user,
        tags: desired.tags.clone(),
        exported: false,
        billable: true,
    }
}

pub fn base(kimai_id: u64, desired: &DesiredTimesheet) -> Base {
    Base {
        key: desired.key.clone(),
        kimai_id: TimesheetId(kimai_id),
        written: Some(desired.clone()),
        echoed: timesheet(kimai_id, desired),
    }
}

pub fn conflict(ticket: u64, accounting: u64) -> Conflict {
    let desired = desired(ticket, accounting, 5, day(0));
    Conflict {
        key: desired.key.clone(),
        ticket_id: TicketId(ticket),
        reason: ConflictReason::BothChanged,
        detail: "Zammad and Kimai both changed".into(),
        base: Some(base(900 + accounting, &desired)),
        kimai: Some(timesheet(900 + accounting, &desired)),
        desired: Some(desired),
        candidates: vec![],
        subject: None,
    }
}
