//! The plan's conflicts in the conflicts store: new ones opened (one per key and reason, with
//! ids derived from what they are about, so a retry opens none), and open mapping conflicts
//! that a mapping change has fixed closed.

use super::Reconciler;
use crate::idempotency::{conflict_id, planned_context};
use crate::sync_stores::SYSTEM_ACTOR;
use std::collections::HashSet;
use sync_core::desired::EntryKey;
use sync_core::ids::TicketId;
use sync_core::plan::{Conflict, ConflictReason, Plan};
use sync_store::conflicts::{
    ConflictFilter, ConflictId, ConflictRecord, ConflictStatus, Resolution, ResolutionEffect,
    ResolveOutcome,
};
use sync_store::control::RunId;
use sync_store::entries::{EntryRecord, EntryStatus};
use sync_store::{PageRequest, StoreError};

impl Reconciler {
    pub(super) async fn open_conflicts(
        &self,
        ticket_id: TicketId,
        planned: &Plan,
        run: Option<&RunId>,
    ) -> Result<usize, StoreError> {
        let mut opened = 0;
        for (id, c) in self.conflicts_to_open(ticket_id, planned).await? {
            if self.stores.open_conflict(&id, c, run).await? {
                opened += 1;
            }
        }
        Ok(opened)
    }

    /// The plan's conflicts that are new, with their ids. Left out: those whose id exists
    /// (open, or resolved: a resolution stands until the base moves; `persist` has marked their
    /// entries already), and those whose key and reason another conflict still open has (e.g.
    /// one opened under an older id scheme), so a person sees one conflict per key and reason,
    /// never two. The ticket's open conflicts are listed only when some planned id is unknown.
    pub(super) async fn conflicts_to_open<'p>(
        &self,
        ticket_id: TicketId,
        planned: &'p Plan,
    ) -> Result<Vec<(ConflictId, &'p Conflict)>, StoreError> {
        let mut open: Option<HashSet<(EntryKey, ConflictReason)>> = None;
        let mut fresh = Vec::new();
        for c in &planned.conflicts {
            let id = conflict_id(
                ticket_id,
                &c.key,
                c.reason,
                &planned_context(c.base.as_ref()),
            );
            if self.stores.conflicts.get(&id).await?.is_some() {
                continue;
            }
            if open.is_none() {
                open = Some(self.open_conflict_keys(ticket_id).await?);
            }
            let open = open.as_mut().expect("listed above");
            if open.contains(&(c.key.clone(), c.reason)) {
                tracing::info!(key = %c.key, reason = c.reason.as_str(), "the same conflict is open already; not opened twice");
                continue;
            }
            open.insert((c.key.clone(), c.reason));
            fresh.push((id, c));
        }
        Ok(fresh)
    }

    async fn open_conflict_keys(
        &self,
        ticket_id: TicketId,
    ) -> Result<HashSet<(EntryKey, ConflictReason)>, StoreError> {
        let filter = open_of(ticket_id);
        let mut page = PageRequest::first(100);
        let mut keys = HashSet::new();
        loop {
            let found = self.stores.conflicts.list(&filter, &page).await?;
            keys.extend(
                found
                    .items
                    .into_iter()
                    .map(|r| (r.conflict.key, r.conflict.reason)),
            );
            match found.next {
                Some(next) => {
                    page = PageRequest {
                        limit: 100,
                        after: Some(next),
                    }
                }
                None => return Ok(keys),
            }
        }
    }

    /// A mapping conflict (`unmapped_*`) whose key the plan no longer blocks for that reason was fixed by a
    /// mapping change, and a `duplicate_timesheets` one by deleting the extra timesheets in
    /// Kimai: it is closed (`dismiss`, actor `system`) so the console does not show a solved
    /// problem. Other reasons stay for a human, whatever the plan says now: the writer raises
    /// some of them, and the planner cannot tell that a human's decision is still due. Only
    /// tickets with an entry in `conflict` state pay for the lookup.
    pub(super) async fn close_fixed_conflicts(
        &self,
        ticket_id: TicketId,
        records: &[EntryRecord],
        planned: &Plan,
    ) -> Result<usize, StoreError> {
        // By key and reason: an entry the user mapping fixed may be blocked by an activity or
        // project mapping now; its user conflict is solved all the same.
        let still: HashSet<(&EntryKey, ConflictReason)> = planned
            .conflicts
            .iter()
            .map(|c| (&c.key, c.reason))
            .collect();
        let in_conflict: HashSet<&EntryKey> = records
            .iter()
            .filter(|r| r.status == EntryStatus::Conflict)
            .map(|r| &r.key)
            .collect();
        if in_conflict.is_empty() {
            return Ok(0);
        }
        let filter = open_of(ticket_id);
        let mut page = PageRequest::first(100);
        let mut closed = 0;
        loop {
            let found = self.stores.conflicts.list(&filter, &page).await?;
            for record in found.items {
                let c = &record.conflict;
                if in_conflict.contains(&c.key)
                    && !still.contains(&(&c.key, c.reason))
                    && fixes_show_in_the_plan(c.reason)
                    && self.dismiss_fixed(ticket_id, &record).await?
                {
                    closed += 1;
                }
            }
            match found.next {
                Some(next) => {
                    page = PageRequest {
                        limit: 100,
                        after: Some(next),
                    }
                }
                None => return Ok(closed),
            }
        }
    }

    /// Dismisses one fixed mapping conflict; false when it was resolved meanwhile.
    async fn dismiss_fixed(
        &self,
        ticket_id: TicketId,
        record: &ConflictRecord,
    ) -> Result<bool, StoreError> {
        let c = &record.conflict;
        let resolution = Resolution {
            action: ResolutionEffect::Dismiss,
            actor: SYSTEM_ACTOR.to_owned(),
            note: Some(
                match c.reason {
                    ConflictReason::DuplicateTimesheets => "only one timesheet is left in Kimai",
                    ConflictReason::ProjectLocked => "the project's lock no longer covers the day",
                    ConflictReason::NoRoomOnDay => "the day has room for the entry now",
                    _ => "the mapping was fixed; the entry resolves now",
                }
                .to_owned(),
            ),
            resolved_at: self.stores.now(),
        };
        let outcome = self
            .stores
            .conflicts
            .resolve(&record.id, &resolution)
            .await?;
        let ResolveOutcome::Resolved(_) = outcome else {
            return Ok(false);
        };
        self.stores
            .audit(
                "conflict.auto_resolve",
                serde_json::json!({
                    "conflict_id": record.id.0,
                    "ticket_id": ticket_id.0,
                    "key": c.key.0,
                    "reason": c.reason.as_str(),
                }),
            )
            .await?;
        Ok(true)
    }
}

/// The ticket's open conflicts, of every reason.
fn open_of(ticket_id: TicketId) -> ConflictFilter {
    ConflictFilter {
        status: ConflictStatus::Open,
        reason: None,
        ticket_id: Some(ticket_id),
    }
}

/// Reasons whose fix the next plan sees by itself: a mapping, or extra timesheets deleted.
fn fixes_show_in_the_plan(reason: ConflictReason) -> bool {
    matches!(
        reason,
        ConflictReason::UnmappedUser
            | ConflictReason::UnmappedActivity
            | ConflictReason::UnmappedCustomer
            | ConflictReason::UnmappedProject
            | ConflictReason::DuplicateTimesheets
            | ConflictReason::ProjectLocked
            | ConflictReason::NoRoomOnDay
    )
}
