//! Zammad's side of one ticket: the ticket, its time accountings, the agents who booked them and
//! the ticket's organisation.

use super::{ReconcileError, Reconciler};
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

impl Reconciler {
    pub(super) async fn read_zammad(
        &self,
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
        let agents = self.read_agents(&accountings).await?;
        let organisation = self.read_organisation(ticket.organization_id).await?;
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
        accountings: &[TimeAccounting],
    ) -> Result<HashMap<ZammadUserId, ZammadUser>, ReconcileError> {
        let agent_ids: BTreeSet<_> = accountings.iter().map(|a| a.agent_id).collect();
        let mut agents = HashMap::new();
        for id in agent_ids {
            match self.zammad.user(id).await {
                Ok(u) => {
                    agents.insert(id, u);
                }
                // A removed agent: resolution reports it as unmapped, nothing is guessed.
                Err(ZammadError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(agents)
    }

    async fn read_organisation(
        &self,
        organisation: Option<OrganisationId>,
    ) -> Result<Option<Organisation>, ReconcileError> {
        let Some(org) = organisation else {
            return Ok(None);
        };
        match self.zammad.organisation(org).await {
            Ok(o) => Ok(Some(o)),
            Err(ZammadError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
