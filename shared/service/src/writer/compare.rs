//! Step 2: before an update or a delete, the timesheet is read again and compared with the
//! state the plan expected. A difference is a hand edit (not overwritten), unless it is exactly
//! what a later write of our own left there.

use super::{WriteError, Writer};
use std::collections::BTreeSet;
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::kimai::Timesheet;

impl Writer {
    /// Kimai differs from what this operation expected. If it is exactly what we recorded after
    /// a later write of our own (two plans of one ticket queued before either was written),
    /// it is no hand edit: answers `Some(the latest desired state)` (`Some(None)`: the time is
    /// gone). `None` means someone else changed it.
    pub(super) async fn own_later_write(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        kimai_id: TimesheetId,
        current: &Timesheet,
    ) -> Result<Option<Option<DesiredTimesheet>>, WriteError> {
        let Some(record) = self.stores.entries.get(ticket, key).await? else {
            return Ok(None);
        };
        let ours = record
            .base
            .as_ref()
            .is_some_and(|b| b.kimai_id == kimai_id && !kimai_edited(current, &b.echoed));
        Ok(ours.then_some(record.desired))
    }
}

/// "Was the timesheet changed since we expected it?" Everything a person can edit, not the
/// `exported` flag (exporting is not an edit; Kimai's 403 handles it).
pub(super) fn kimai_edited(current: &Timesheet, expected: &Timesheet) -> bool {
    let tags = |t: &Timesheet| t.tags.iter().cloned().collect::<BTreeSet<String>>();
    !(current.begin == expected.begin
        && current.end == expected.end
        && current.duration_secs == expected.duration_secs
        && current.break_secs == expected.break_secs
        && current.description == expected.description
        && (current.user, current.project, current.activity)
            == (expected.user, expected.project, expected.activity)
        && tags(current) == tags(expected)
        && current.billable == expected.billable)
}
