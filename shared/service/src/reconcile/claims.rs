//! Slots claimed per Kimai user and local day (docs/core.md "Placement", docs/storage.md):
//! placement avoids what other tickets claimed as it avoids Kimai's bookings, then claims its
//! own. Two reconciles of one agent's tickets at the same moment cannot pick the same slot:
//! the second one's write finds a newer version of the day, reads it again and places again.

use super::context::{Context, InvocationCache};
use super::desired::Wanted;
use super::read_zammad::ZammadSide;
use super::taken::agents_by_user;
use super::{ReconcileError, Reconciler};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::desired::DesiredTimesheet;
use sync_core::ids::{KimaiUserId, TicketId};
use sync_core::placement::{BusyInterval, Taken};
use sync_store::StoreError;
use sync_store::control::{ClaimsWrite, DayClaims, SlotClaim};
use sync_store::entries::EntryRecord;

/// Rounds of read, place and claim before the record is retried later (through SQS).
const CLAIM_ROUNDS: usize = 5;

type Day = (KimaiUserId, NaiveDate);

impl Reconciler {
    /// `wanted` placed around what Kimai holds (`in_kimai`) and what other tickets claimed on
    /// the same days, with this ticket's claims written (not in a dry run). The days are those
    /// of its entries now and of the ticket's stored entries (`records`), so claims of entries
    /// that moved or went away are dropped.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn place_and_claim(
        &self,
        cache: &InvocationCache,
        ctx: &Context,
        zammad: &ZammadSide,
        wanted: Wanted,
        in_kimai: &Taken,
        records: &[EntryRecord],
        dry_run: bool,
    ) -> Result<Wanted, ReconcileError> {
        let Some(ticket) = zammad.ticket.as_ref().map(|t| t.id) else {
            return Ok(wanted);
        };
        let mut days = days_of(&wanted.desired);
        days.extend(
            records
                .iter()
                .filter_map(|r| r.desired.as_ref())
                .map(|d| (d.user, d.day)),
        );
        for _ in 0..CLAIM_ROUNDS {
            let mut read: BTreeMap<Day, DayClaims> = BTreeMap::new();
            for &(user, day) in &days {
                read.insert(
                    (user, day),
                    self.stores.control.day_claims(user.0, day).await?,
                );
            }
            let mut taken = in_kimai.clone();
            taken
                .busy
                .extend(claimed_by_others(&read, ticket, &wanted.desired));
            let placed = self
                .place_around(cache, ctx, zammad, &wanted, &taken)
                .await?;
            let placed_days = days_of(&placed.desired);
            if !placed_days.is_subset(&days) {
                // An entry landed on a day not read (it crosses midnight): read that day too.
                days.extend(placed_days);
                continue;
            }
            if dry_run || self.claim(ticket, &read, &placed.desired).await? {
                return Ok(placed);
            }
            tracing::info!(
                "another reconcile claimed slots on the same days meanwhile; placing again"
            );
        }
        Err(ReconcileError::SlotsContended {
            rounds: CLAIM_ROUNDS,
        })
    }

    /// Writes this ticket's claims into each day read, leaving the other tickets' as they are.
    /// `false` when another reconcile wrote one of the days since it was read.
    async fn claim(
        &self,
        ticket: TicketId,
        read: &BTreeMap<Day, DayClaims>,
        desired: &[DesiredTimesheet],
    ) -> Result<bool, StoreError> {
        for (&(user, day), current) in read {
            let mut next = current.clone();
            next.claims.retain(|_, c| c.ticket != ticket.0);
            for d in desired.iter().filter(|d| d.user == user && d.day == day) {
                next.claims.insert(
                    d.key.as_str().to_owned(),
                    SlotClaim {
                        ticket: ticket.0,
                        begin: d.begin_utc,
                        end: d.end_utc,
                    },
                );
            }
            if next.claims == current.claims {
                continue;
            }
            let written = self
                .stores
                .control
                .put_day_claims(user.0, day, &next)
                .await?;
            if written == ClaimsWrite::Changed {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn days_of(desired: &[DesiredTimesheet]) -> BTreeSet<Day> {
    desired.iter().map(|d| (d.user, d.day)).collect()
}

/// Other tickets' claims as busy time of every agent booked as the claim's user.
fn claimed_by_others(
    read: &BTreeMap<Day, DayClaims>,
    ticket: TicketId,
    desired: &[DesiredTimesheet],
) -> Vec<BusyInterval> {
    let agents_of = agents_by_user(desired);
    let mut busy = Vec::new();
    for ((user, _), day) in read {
        for c in day.claims.values().filter(|c| c.ticket != ticket.0) {
            for &agent_id in agents_of.get(user).into_iter().flatten() {
                busy.push(BusyInterval {
                    agent_id,
                    begin: c.begin,
                    end: c.end,
                });
            }
        }
    }
    busy
}
