//! The plan recorded in the entries store: one record per key with its status (what the plan
//! decided, or what the key waits for), and the links of adopted timesheets and of hand edits
//! the plan respects. Only records that change are written, so an unchanged ticket costs no
//! store writes.

use super::Reconciler;
use super::desired::Wanted;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use sync_core::desired::EntryKey;
use sync_core::ids::TicketId;
use sync_core::mapping::Blocker;
use sync_core::normalise::TimedEntry;
use sync_core::plan::{Base, Plan};
use sync_store::StoreError;
use sync_store::entries::{EntryRecord, EntryStatus, ExpectedLink, LinkOutcome};

/// What one plan was made from and decided, for persisting it.
#[derive(Clone, Copy)]
pub(super) struct PlanState<'a> {
    pub(super) records: &'a [EntryRecord],
    pub(super) wanted: &'a Wanted,
    pub(super) planned: &'a Plan,
    pub(super) zammad_complete: bool,
}

impl Reconciler {
    /// Entry states and links.
    pub(super) async fn persist(
        &self,
        ticket_id: TicketId,
        state: PlanState<'_>,
    ) -> Result<(), StoreError> {
        let now = self.stores.now();
        let status = status_by_key(state.planned);
        let existing: HashMap<&EntryKey, &EntryRecord> =
            state.records.iter().map(|r| (&r.key, r)).collect();
        for mut record in entry_records(ticket_id, state, &status, now) {
            if let Some(old) = existing.get(&record.key) {
                if old.status == record.status && old.desired == record.desired {
                    continue;
                }
                record.base = old.base.clone();
            }
            self.stores.entries.save(&record).await?;
        }

        for adopted in &state.planned.adopted {
            let s = status
                .get(&adopted.key)
                .copied()
                .unwrap_or(EntryStatus::Synced);
            self.link(ticket_id, ExpectedLink::Unlinked, adopted, s)
                .await?;
        }
        for respected in &state.planned.kimai_edits_respected {
            self.link(
                ticket_id,
                ExpectedLink::LinkedTo(respected.kimai_id),
                respected,
                EntryStatus::Synced,
            )
            .await?;
        }
        Ok(())
    }

    async fn link(
        &self,
        ticket_id: TicketId,
        expected: ExpectedLink,
        base: &Base,
        status: EntryStatus,
    ) -> Result<(), StoreError> {
        let now = self.stores.now();
        match self
            .stores
            .entries
            .link(ticket_id, &base.key, expected, base, status, now)
            .await?
        {
            LinkOutcome::Linked(_) => Ok(()),
            // Someone linked the key meanwhile (a writer, another reconcile): their link stands;
            // the next reconcile plans against it.
            LinkOutcome::LostRace { current } => {
                tracing::warn!(key = %base.key, ?current, "link changed meanwhile; left as is");
                Ok(())
            }
            LinkOutcome::NoSuchEntry => {
                tracing::warn!(key = %base.key, "no entry to link");
                Ok(())
            }
        }
    }
}

/// Every key's record as the plan leaves it (without its base, which the store keeps): the
/// desired keys, the unresolved ones, and those only in the stored records.
fn entry_records(
    ticket_id: TicketId,
    state: PlanState<'_>,
    status: &HashMap<EntryKey, EntryStatus>,
    now: DateTime<Utc>,
) -> Vec<EntryRecord> {
    let record = |key: &EntryKey, agent_id, day, fallback: EntryStatus| EntryRecord {
        ticket_id,
        key: key.clone(),
        agent_id,
        day,
        status: status.get(key).copied().unwrap_or(fallback),
        desired: None,
        base: None,
        updated_at: now,
        create_sent_at: None,
    };
    let mut wanted: Vec<EntryRecord> = Vec::new();
    for d in &state.wanted.desired {
        wanted.push(EntryRecord {
            desired: Some(d.clone()),
            ..record(&d.key, d.agent_id, d.day, EntryStatus::Synced)
        });
    }
    let existing: HashMap<&EntryKey, &EntryRecord> =
        state.records.iter().map(|r| (&r.key, r)).collect();
    let timed: HashMap<&EntryKey, &TimedEntry> =
        state.wanted.entries.iter().map(|e| (&e.key, e)).collect();
    for u in &state.wanted.unresolved {
        let (agent_id, day) = match (timed.get(&u.key), existing.get(&u.key)) {
            (Some(e), _) => (e.agent_id, e.begin_day()),
            (None, Some(r)) => (r.agent_id, r.day),
            (None, None) => continue,
        };
        let fallback = match u.blocker {
            Blocker::Conflict { .. } => EntryStatus::Conflict,
            // Waiting for a customer or project to be created in Kimai.
            Blocker::NeedsCreation { .. } => EntryStatus::Pending,
        };
        wanted.push(record(&u.key, agent_id, day, fallback));
    }
    let gone = gone_records(state, status, &wanted, now);
    wanted.extend(gone);
    wanted
}

/// Keys only in the stored records: the Zammad time is gone (or unreadable).
fn gone_records(
    state: PlanState<'_>,
    status: &HashMap<EntryKey, EntryStatus>,
    wanted: &[EntryRecord],
    now: DateTime<Utc>,
) -> Vec<EntryRecord> {
    let present: HashSet<&EntryKey> = wanted.iter().map(|r| &r.key).collect();
    let mut gone = Vec::new();
    for r in state.records.iter().filter(|r| !present.contains(&r.key)) {
        // A key that was never linked and whose time is gone has nothing left to sync.
        let fallback = if r.base.is_none() && state.zammad_complete {
            EntryStatus::Deleted
        } else {
            r.status
        };
        let s = status.get(&r.key).copied().unwrap_or(fallback);
        gone.push(EntryRecord {
            status: s,
            desired: None,
            updated_at: now,
            create_sent_at: None,
            ..r.clone()
        });
    }
    gone
}

/// Status per key the plan decides; keys it does not mention keep their default.
fn status_by_key(planned: &Plan) -> HashMap<EntryKey, EntryStatus> {
    let mut s = HashMap::new();
    for key in &planned.links_to_drop {
        s.insert(key.clone(), EntryStatus::Deleted);
    }
    for b in planned.adopted.iter().chain(&planned.kimai_edits_respected) {
        s.insert(b.key.clone(), EntryStatus::Synced);
    }
    for op in &planned.operations {
        s.insert(op.key().clone(), EntryStatus::Pending);
    }
    for op in &planned.awaiting_approval {
        s.insert(op.key().clone(), EntryStatus::AwaitingApproval);
    }
    for c in &planned.conflicts {
        s.insert(c.key.clone(), EntryStatus::Conflict);
    }
    s
}
