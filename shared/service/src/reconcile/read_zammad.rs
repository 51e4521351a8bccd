//! Zammad's side of one ticket: the ticket, its time accountings, the agents who booked them and
//! the ticket's organisation. Agents and organisations come from the instance's cache while it
//! is fresh ([`super::instance`]): a backfill's tickets share a few of each.

use super::context::InvocationCache;
use super::{ReconcileError, Reconciler};
use crate::privacy::suppression::Suppressed;
use std::collections::{BTreeSet, HashMap};
use sync_core::ids::{OrganisationId, TicketId, ZammadUserId};
use sync_core::zammad::{Organisation, Ticket, TimeAccounting, ZammadUser};
use zammad_client::ZammadError;

/// Zammad's side of one ticket.
pub(super) struct ZammadSide {
    pub(super) ticket: Option<Ticket>,
    pub(super) accountings: Vec<TimeAccounting>,
    pub(super) agents: HashMap<ZammadUserId, ZammadUser>,
    pub(super) organisation: Option<Organisation>,
    pub(super) complete: bool,
}

impl ZammadSide {
    /// Drops the accountings (and agents) of purged people: their time is not synced again,
    /// so nothing of theirs is planned, adopted by marker or written back
    /// (`crate::privacy::suppression`).
    pub(super) fn leave_out(&mut self, suppressed: &Suppressed) {
        if suppressed.is_empty() {
            return;
        }
        let before = self.accountings.len();
        self.accountings
            .retain(|a| !suppressed.contains(a.agent_id));
        self.agents.retain(|id, _| !suppressed.contains(*id));
        if self.accountings.len() < before {
            tracing::info!(
                left_out = before - self.accountings.len(),
                "accountings of purged people left out"
            );
        }
    }
}

impl Reconciler {
    pub(super) async fn read_zammad(
        &self,
        cache: &InvocationCache,
        ticket_id: TicketId,
    ) -> Result<ZammadSide, ReconcileError> {
        let ticket = match self.zammad.ticket(ticket_id).await {
            Ok(t) => t,
            Err(ZammadError::NotFound { .. }) => {
                // Gone (or merged) in Zammad: we cannot tell what happened to its time, so
                // this read counts as incomplete and nothing will be deleted.
                tracing::warn!(ticket_id = ticket_id.0, "ticket not found in Zammad");
                return Ok(ZammadSide {
                    ticket: None,
                    accountings: Vec::new(),
                    agents: HashMap::new(),
                    organisation: None,
                    complete: false,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let accountings = self.zammad.ticket_time_accountings(ticket_id).await?;
        let agents = self.read_agents(cache, &accountings).await?;
        let organisation = self
            .read_organisation(cache, ticket.organization_id)
            .await?;
        Ok(ZammadSide {
            ticket: Some(ticket),
            accountings,
            agents,
            organisation,
            complete: true,
        })
    }

    async fn read_agents(
        &self,
        cache: &InvocationCache,
        accountings: &[TimeAccounting],
    ) -> Result<HashMap<ZammadUserId, ZammadUser>, ReconcileError> {
        let agent_ids: BTreeSet<_> = accountings.iter().map(|a| a.agent_id).collect();
        let instance = &cache.instance;
        let mut agents = HashMap::new();
        for id in agent_ids {
            let key = (self.zammad.base_url().to_owned(), id);
            let agent = instance
                .agents
                .get_or_fetch(&key, self.stores.now(), instance.ttl, || async {
                    // A removed agent: resolution reports it as unmapped, nothing is guessed.
                    found(self.zammad.user(id).await)
                })
                .await?;
            if let Some(agent) = agent {
                agents.insert(id, agent);
            }
        }
        Ok(agents)
    }

    async fn read_organisation(
        &self,
        cache: &InvocationCache,
        organisation: Option<OrganisationId>,
    ) -> Result<Option<Organisation>, ReconcileError> {
        let Some(org) = organisation else {
            return Ok(None);
        };
        let instance = &cache.instance;
        let key = (self.zammad.base_url().to_owned(), org);
        let organisation = instance
            .organisations
            .get_or_fetch(&key, self.stores.now(), instance.ttl, || async {
                found(self.zammad.organisation(org).await)
            })
            .await?;
        Ok(organisation)
    }
}

/// A record, or `None` when Zammad has none by that id.
fn found<T>(read: Result<T, ZammadError>) -> Result<Option<T>, ReconcileError> {
    match read {
        Ok(t) => Ok(Some(t)),
        Err(ZammadError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
