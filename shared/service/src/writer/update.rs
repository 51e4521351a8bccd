//! Steps 2 and 4 for an update: the timesheet is read again and compared with the expected
//! state (a hand edit since planning is `both_changed`, a timesheet that is gone is
//! `deleted_in_kimai`), then PATCHed with its times in the owner's zone.

use super::cache::WriterCache;
use super::compare::kimai_edited;
use super::park::{parked, refusal};
use super::tags::KnownTag;
use super::{Step, WriteError, WriteOutcome, Writer};
use chrono_tz::Tz;
use kimai_client::{KimaiError, Retries, TimesheetPatch};
use sync_core::desired::DesiredTimesheet;
use sync_core::ids::TimesheetId;
use sync_core::kimai::Timesheet;
use sync_core::plan::ConflictReason;
use sync_core::planner::desired_matches_kimai;
use sync_core::zone::{parse_zone, reads_back, utc_to_local};
use sync_store::queue::KimaiWriteMessage;

impl Writer {
    pub(super) async fn update(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        expected: &Timesheet,
    ) -> Result<Step, WriteError> {
        let current = match self.kimai.timesheet(kimai_id).await {
            Ok(t) => t,
            Err(KimaiError::NotFound) => {
                return Ok(Step::Park(parked(
                    ConflictReason::DeletedInKimai,
                    format!(
                        "Kimai timesheet {kimai_id} was deleted before the update; recreate it or accept the deletion"
                    ),
                    None,
                )));
            }
            Err(e) => return Err(WriteError::Kimai(e)),
        };
        self.update_read(cache, message, kimai_id, desired, expected, current)
            .await
    }

    /// The update once the timesheet is read (`current`): recorded if it already holds the
    /// desired values, parked if edited by hand since `expected`, PATCHed otherwise. A create
    /// that finds its key linked comes here with the timesheet it has just read.
    pub(super) async fn update_read(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        expected: &Timesheet,
        current: Timesheet,
    ) -> Result<Step, WriteError> {
        if desired_matches_kimai(desired, &current) {
            // An earlier attempt wrote it but did not get to record it.
            return self
                .record_update(message, kimai_id, desired, current)
                .await;
        }
        if kimai_edited(&current, expected) {
            match self
                .own_later_write(message.ticket_id, &desired.key, kimai_id, &current)
                .await?
            {
                // Our own newer write: go on only if this is still the latest plan.
                Some(latest) if latest.as_ref() == Some(desired) => {}
                Some(_) => return Ok(Step::Done(WriteOutcome::Superseded { kimai_id })),
                None => {
                    return Ok(Step::Park(parked(
                        ConflictReason::BothChanged,
                        format!(
                            "Kimai timesheet {kimai_id} was edited after planning; not overwritten"
                        ),
                        Some(current),
                    )));
                }
            }
        }
        self.patch(cache, message, kimai_id, desired, current).await
    }

    /// PATCHes the timesheet (`current`, as just read) to the desired state and records it.
    async fn patch(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        current: Timesheet,
    ) -> Result<Step, WriteError> {
        // Kimai reads PATCHed times in the owner's zone: the zone the desired times are in.
        let zone = parse_zone(&desired.zone).map_err(|e| WriteError::Config(e.to_string()))?;
        if !reads_back(zone, desired.begin_utc) || !reads_back(zone, desired.end_utc) {
            return Ok(Step::Park(parked(
                ConflictReason::AmbiguousLocalTime,
                format!(
                    "begin or end falls in a repeated hour of {zone}; Kimai would book it an hour off"
                ),
                Some(current),
            )));
        }
        let known_tags = self.ensure_tags(cache, &desired.tags).await?;
        let patch = full_patch(zone, desired, &current);
        // A PATCH of absolute values is idempotent: the client may retry it.
        match self
            .kimai
            .update_timesheet(kimai_id, &patch, Retries::Allowed)
            .await
        {
            Ok(updated) => {
                let updated = self
                    .in_owner_zone(kimai_id, desired, &patch, updated)
                    .await?;
                self.patched(cache, message, kimai_id, desired, &known_tags, updated)
                    .await
            }
            Err(KimaiError::NotFound) => Ok(Step::Park(parked(
                ConflictReason::DeletedInKimai,
                format!("Kimai timesheet {kimai_id} was deleted during the update"),
                None,
            ))),
            Err(e) => match refusal(&e, ConflictReason::KimaiRejected) {
                Some(mut p) => {
                    p.kimai = Some(current);
                    Ok(Step::Park(p))
                }
                None => Err(WriteError::Kimai(e)),
            },
        }
    }

    /// A PATCH that changed the owner: Kimai read the times in the previous owner's zone; the
    /// record is the new owner's now, so the same wall-clock times are sent again to be read
    /// in the right zone.
    async fn in_owner_zone(
        &self,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        patch: &TimesheetPatch,
        updated: Timesheet,
    ) -> Result<Timesheet, WriteError> {
        let moved = updated.begin != desired.begin_utc
            || updated.end != Some(desired.end_utc.fixed_offset());
        if patch.user.is_none() || !moved {
            return Ok(updated);
        }
        let times = TimesheetPatch {
            begin: patch.begin,
            end: patch.end,
            ..TimesheetPatch::default()
        };
        self.kimai
            .update_timesheet(kimai_id, &times, Retries::Allowed)
            .await
            .map_err(WriteError::Kimai)
    }

    /// Kimai answered the PATCH: repair dropped tags, audit, record.
    async fn patched(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
        kimai_id: TimesheetId,
        desired: &DesiredTimesheet,
        known_tags: &[KnownTag],
        updated: Timesheet,
    ) -> Result<Step, WriteError> {
        let updated = self
            .restore_dropped_tags(cache, kimai_id, desired, known_tags, updated)
            .await;
        self.stores
            .audit(
                "timesheet.update",
                serde_json::json!({
                    "operation_id": message.operation_id.0,
                    "ticket_id": message.ticket_id.0,
                    "key": desired.key.0,
                    "kimai_id": kimai_id.0,
                    "begin": updated.begin.to_rfc3339(),
                    "duration_secs": updated.duration_secs,
                }),
            )
            .await?;
        self.record_update(message, kimai_id, desired, updated)
            .await
    }
}

/// Every field the desired state sets, with times as wall-clock time in `zone`.
fn full_patch(zone: Tz, desired: &DesiredTimesheet, current: &Timesheet) -> TimesheetPatch {
    TimesheetPatch {
        begin: Some(utc_to_local(zone, desired.begin_utc)),
        end: Some(utc_to_local(zone, desired.end_utc)),
        project: Some(desired.project),
        activity: Some(desired.activity),
        description: Some(desired.description.clone()),
        tags: Some(desired.tags.clone()),
        // Only sent when it changes: it needs edit_other_timesheet.
        user: (current.user != desired.user).then_some(desired.user),
        billable: desired.billable,
    }
}
