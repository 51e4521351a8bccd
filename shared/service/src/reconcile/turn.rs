//! Plans of one ticket are recorded one at a time, in the order of their Zammad reads.
//!
//! Two reconciles of one ticket can run at once (a webhook and a scheduled run). Without
//! order, an older plan recorded after a newer one rolls `desired` back, and the writer then
//! writes stale values. So after reading Zammad, a reconcile takes the ticket's turn in the
//! control store ([`ControlStore::take_plan_turn`]) before it loads the stored records, and
//! gives it back after enqueueing. A plan read before the last one that took a turn gives up:
//! the newer plan saw everything it saw. While another plan holds the turn, this one waits a
//! little, then fails retryably so the queue brings it back.
//!
//! [`ControlStore::take_plan_turn`]: sync_store::control::ControlStore::take_plan_turn

use super::{ReconcileError, Reconciler};
use chrono::{DateTime, Duration, Utc};
use sync_core::ids::TicketId;
use sync_store::control::PlanTurn;

/// How long a turn keeps other plans of the ticket off: longer than one function run (60 s),
/// so a live holder never loses it; a crashed holder's turn lapses after it.
const TURN_TTL: Duration = Duration::seconds(120);
/// A turn is held for the time of a few store writes and queue sends; waiting this long
/// (`BUSY_CHECKS` × `BUSY_PAUSE`) usually sees it given back.
const BUSY_CHECKS: u32 = 8;
const BUSY_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// The outcome of asking for the turn.
pub(super) enum Turn {
    /// Ours, held under this name until given back.
    Ours(String),
    /// A plan read from Zammad at `newer` took a turn after this one's read.
    Stale { newer: DateTime<Utc> },
}

impl Reconciler {
    pub(super) async fn take_turn(
        &self,
        ticket: TicketId,
        read_at: DateTime<Utc>,
    ) -> Result<Turn, ReconcileError> {
        let holder = uuid::Uuid::new_v4().to_string();
        let mut checks = 0;
        loop {
            let now = self.stores.now();
            let turn = self
                .stores
                .control
                .take_plan_turn(ticket.0, read_at, &holder, TURN_TTL, now)
                .await?;
            match turn {
                PlanTurn::Ours => return Ok(Turn::Ours(holder)),
                PlanTurn::Stale { newer } => return Ok(Turn::Stale { newer }),
                PlanTurn::Busy { until } => {
                    checks += 1;
                    if checks >= BUSY_CHECKS {
                        return Err(ReconcileError::TicketBusy { until });
                    }
                    tokio::time::sleep(BUSY_PAUSE).await;
                }
            }
        }
    }

    /// Gives the turn back. A failure only makes the next plan of the ticket wait for the turn
    /// to lapse, so it is logged, not returned.
    pub(super) async fn end_turn(&self, ticket: TicketId, holder: &str) {
        match self.stores.control.end_plan_turn(ticket.0, holder).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(ticket_id = ticket.0, "the plan turn had lapsed"),
            Err(e) => {
                tracing::warn!(ticket_id = ticket.0, error = %e, "could not give the plan turn back")
            }
        }
    }
}
