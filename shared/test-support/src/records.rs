//! Records the console's tests store before they act: a desired timesheet of Anna's printer
//! ticket, its entry record, an open conflict. Written for these tests; none comes from a
//! simulator.

use chrono::{DateTime, NaiveDate, Utc};
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{
    AccountingId, ActivityId, KimaiUserId, ProjectId, TicketId, TimesheetId, ZammadUserId,
};
use sync_core::kimai::KimaiLocalDateTime;
use sync_core::plan::{Conflict, ConflictReason};
use sync_store::entries::{EntryRecord, EntryStatus};

/// A desired timesheet of 45 minutes from 09:00 on `day` in Europe/Berlin for `accounting`
/// of `agent` on `ticket`: Kimai user 3, project 7, activity 2, billable, no tags.
pub fn desired(ticket: u64, accounting: u64, agent: u64, day: NaiveDate) -> DesiredTimesheet {
    let begin = day.and_hms_opt(9, 0, 0).unwrap();
    let end = day.and_hms_opt(9, 45, 0).unwrap();
    DesiredTimesheet {
        key: EntryKey::for_accounting(AccountingId(accounting)),
        ticket_id: TicketId(ticket),
        agent_id: ZammadUserId(agent),
        accounting_ids: vec![AccountingId(accounting)],
        zone: "Europe/Berlin".into(),
        day,
        begin: KimaiLocalDateTime(begin),
        end: KimaiLocalDateTime(end),
        begin_utc: begin.and_utc(),
        end_utc: end.and_utc(),
        duration_secs: 45 * 60,
        user: KimaiUserId(3),
        project: ProjectId(7),
        activity: ActivityId(2),
        description: format!("[zammad:ta={accounting}] #{ticket} Printer"),
        tags: vec![],
        billable: Some(true),
    }
}

/// An entry record around [`desired`] in `status`, updated `at`, not linked to a timesheet.
pub fn entry_record(
    ticket: u64,
    accounting: u64,
    agent: u64,
    day: NaiveDate,
    status: EntryStatus,
    at: DateTime<Utc>,
) -> EntryRecord {
    let d = desired(ticket, accounting, agent, day);
    EntryRecord {
        ticket_id: TicketId(ticket),
        key: d.key.clone(),
        agent_id: ZammadUserId(agent),
        day,
        status,
        desired: Some(d),
        base: None,
        updated_at: at,
        create_sent_at: None,
    }
}

/// A conflict of `reason` on `accounting` of `ticket`, detail "test", with nothing desired,
/// linked or read; a probable duplicate names the candidate timesheets 70 and 71.
pub fn conflict(ticket: u64, accounting: u64, reason: ConflictReason) -> Conflict {
    Conflict {
        key: EntryKey::for_accounting(AccountingId(accounting)),
        ticket_id: TicketId(ticket),
        reason,
        detail: "test".into(),
        desired: None,
        base: None,
        kimai: None,
        candidates: if reason == ConflictReason::ProbableDuplicate {
            vec![TimesheetId(70), TimesheetId(71)]
        } else {
            vec![]
        },
        subject: None,
    }
}
