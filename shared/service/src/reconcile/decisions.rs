//! The console's decisions on the ticket's conflicts, applied before planning so the plan starts
//! from what the person decided. This file is reconcile's one reader of the decisions document
//! ([`TicketDecisions`]): the plan and the enqueue step ask [`Decided`] instead.
//!
//! - `link`: an unlinked key is linked to the chosen timesheet (as an adoption: we never
//!   wrote it); the planner then updates it to Zammad's version if they differ. A key that
//!   is linked already (to that timesheet, or by now to another) is left alone.
//! - `recreate`: a key whose timesheet is gone is planned as unlinked, so it is created again.
//! - `apply_zammad`: a linked key whose entry has not changed since the decision is rebased
//!   on what Kimai holds now, so the hand edit no longer counts as one: the planner writes
//!   Zammad's version over it (update, or delete when Zammad's time is gone). Once applied,
//!   the entry is newer than the decision, so a later hand edit is a conflict again.
//! - `create_anyway` and `ignored` go to the planner as they are.

use super::{ReconcileError, Reconciler};
use crate::decisions::{TicketDecisions, load_ticket_decisions};
use chrono::{DateTime, Utc};
use kimai_client::KimaiError;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::kimai::Timesheet;
use sync_core::plan::Base;
use sync_store::entries::{EntryRecord, EntryStatus, ExpectedLink, LinkOutcome};

/// A ticket's decisions, as the later steps of reconcile need them.
pub(super) struct Decided(TicketDecisions);

impl Decided {
    /// Keys a person resolved as "create anyway" (the planner skips the duplicate check).
    pub(super) fn create_anyway(&self) -> &[EntryKey] {
        &self.0.create_anyway
    }

    /// Keys a person resolved as "leave it".
    pub(super) fn ignored(&self) -> &[EntryKey] {
        &self.0.ignored
    }

    /// The revision of a write of `key`. "Apply Zammad" and "recreate" ask for a write even
    /// when Zammad did not change (Kimai rejected it and was fixed since; the timesheet was
    /// deleted): the decision is part of the revision, so the operation gets a new id once.
    pub(super) fn revision(&self, key: &EntryKey, zammad_revision: String) -> String {
        match self.0.write_forced_at(key) {
            Some(at) => format!("{zammad_revision}+decided:{}", at.to_rfc3339()),
            None => zammad_revision,
        }
    }
}

impl Reconciler {
    pub(super) async fn load_decisions(&self, ticket: TicketId) -> Result<Decided, ReconcileError> {
        let decisions = load_ticket_decisions(self.stores.control.as_ref(), ticket).await?;
        Ok(Decided(decisions))
    }

    /// Applies `link`, `recreate` and `apply_zammad` to the base (and Kimai's state, for a
    /// linked timesheet not read yet), and records link and apply_zammad in the entries store.
    pub(super) async fn apply_decisions(
        &self,
        ticket: TicketId,
        decided: &Decided,
        records: &[EntryRecord],
        base: &mut Vec<Base>,
        kimai: &mut Vec<Timesheet>,
    ) -> Result<(), ReconcileError> {
        let decisions = &decided.0;
        let now = self.stores.now();
        for (key, kimai_id) in decisions.links() {
            let unlinked = records
                .iter()
                .find(|r| &r.key == key)
                .is_some_and(|r| r.base.is_none());
            if unlinked {
                self.link_as_decided(ticket, key, kimai_id, base, kimai, now)
                    .await?;
            }
        }
        // "Recreate" (the console adds the key to `create_anyway`) on a key whose timesheet is
        // gone: plan it as unlinked, so the planner creates it; the writer replaces the dead
        // link when it records the new timesheet. The store keeps the dead link until then.
        base.retain(|b| {
            let gone = !kimai.iter().any(|t| t.id == b.kimai_id);
            let recreate = gone && decisions.create_anyway.contains(&b.key);
            if recreate {
                tracing::info!(key = %b.key.0, kimai_id = b.kimai_id.0, "recreating the deleted timesheet, as decided");
            }
            !recreate
        });
        for record in records {
            let Some(at) = decisions.apply_zammad_at(&record.key) else {
                continue;
            };
            self.apply_zammad_as_decided(ticket, record, at, base, kimai, now)
                .await?;
        }
        Ok(())
    }

    /// `link`: an unlinked key gets the chosen timesheet as its base.
    async fn link_as_decided(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        kimai_id: TimesheetId,
        base: &mut Vec<Base>,
        kimai: &mut Vec<Timesheet>,
        now: DateTime<Utc>,
    ) -> Result<(), ReconcileError> {
        let Some(timesheet) = self.chosen_timesheet(key, kimai_id, kimai).await? else {
            return Ok(());
        };
        let linked = Base {
            key: key.clone(),
            kimai_id,
            written: None,
            echoed: timesheet.clone(),
        };
        let entries = &self.stores.entries;
        let outcome = entries
            .link(
                ticket,
                key,
                ExpectedLink::Unlinked,
                &linked,
                EntryStatus::Synced,
                now,
            )
            .await?;
        if let LinkOutcome::Linked(_) = outcome {
            tracing::info!(key = %key.0, kimai_id = kimai_id.0, "linked as decided");
            self.audit_decision("decision.link", ticket, key, kimai_id)
                .await;
            if !kimai.iter().any(|t| t.id == kimai_id) {
                kimai.push(timesheet);
            }
            base.push(linked);
        }
        Ok(())
    }

    /// The timesheet a person chose to link, from what was read or else from Kimai; `None`
    /// when it is gone (then the key is planned as before).
    async fn chosen_timesheet(
        &self,
        key: &EntryKey,
        kimai_id: TimesheetId,
        kimai: &[Timesheet],
    ) -> Result<Option<Timesheet>, ReconcileError> {
        if let Some(t) = kimai.iter().find(|t| t.id == kimai_id) {
            return Ok(Some(t.clone()));
        }
        match self.kimai.timesheet(kimai_id).await {
            Ok(t) => Ok(Some(t)),
            Err(KimaiError::NotFound) => {
                tracing::warn!(key = %key.0, kimai_id = kimai_id.0, "the timesheet chosen to link is gone; the key is planned as before");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `apply_zammad` decided at `at`: a linked key not changed since is rebased on what Kimai
    /// holds now.
    async fn apply_zammad_as_decided(
        &self,
        ticket: TicketId,
        record: &EntryRecord,
        at: DateTime<Utc>,
        base: &mut [Base],
        kimai: &[Timesheet],
        now: DateTime<Utc>,
    ) -> Result<(), ReconcileError> {
        let Some(b) = &record.base else {
            return Ok(());
        };
        if record.updated_at > at {
            return Ok(());
        }
        let Some(now_in_kimai) = kimai.iter().find(|t| t.id == b.kimai_id) else {
            return Ok(());
        };
        if *now_in_kimai == b.echoed {
            return Ok(());
        }
        let rebased = Base {
            echoed: now_in_kimai.clone(),
            ..b.clone()
        };
        let expected = ExpectedLink::LinkedTo(b.kimai_id);
        let outcome = self
            .stores
            .entries
            .link(
                ticket,
                &record.key,
                expected,
                &rebased,
                EntryStatus::Pending,
                now,
            )
            .await?;
        if let LinkOutcome::Linked(_) = outcome {
            tracing::info!(key = %record.key.0, kimai_id = b.kimai_id.0, "Zammad's version applies, as decided");
            self.audit_decision("decision.apply_zammad", ticket, &record.key, b.kimai_id)
                .await;
            if let Some(slot) = base.iter_mut().find(|x| x.key == record.key) {
                *slot = rebased;
            }
        }
        Ok(())
    }

    /// Best effort: the decision is applied either way.
    async fn audit_decision(
        &self,
        action: &str,
        ticket: TicketId,
        key: &EntryKey,
        id: TimesheetId,
    ) {
        let detail = serde_json::json!({"ticket_id": ticket.0, "key": key.0, "kimai_id": id.0});
        if let Err(e) = self.stores.audit(action, detail).await {
            tracing::warn!(error = %e, "could not audit the applied decision");
        }
    }
}
