//! Who and what a ticket's conflicts are about ([`ConflictSubject`]), named from the Zammad
//! side the sync read: the planner decides on ids; a person deciding a conflict needs the
//! agent's name and e-mail and the ticket's number and title.

use crate::desired::EntryKey;
use crate::ids::{AccountingTypeId, ZammadUserId};
use crate::mapping::TicketFacts;
use crate::normalise::TimedEntry;
use crate::plan::{ConflictSubject, Plan};
use crate::zammad::ZammadUser;
use std::collections::HashMap;

/// The subjects of one ticket's entries, and the ticket's facts for a conflict whose entry is
/// gone from Zammad (an orphan: its agent comes from what was last written).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subjects {
    by_key: HashMap<EntryKey, ConflictSubject>,
    ticket: Option<TicketSide>,
}

#[derive(Debug, Clone, PartialEq)]
struct TicketSide {
    number: String,
    title: String,
    organisation: Option<(crate::ids::OrganisationId, String)>,
    group_id: Option<crate::ids::GroupId>,
    agents: HashMap<ZammadUserId, (String, Option<String>)>,
    type_names: HashMap<AccountingTypeId, String>,
}

impl TicketSide {
    fn subject(
        &self,
        agent_id: ZammadUserId,
        type_id: Option<AccountingTypeId>,
    ) -> ConflictSubject {
        let (agent_name, agent_email) = self
            .agents
            .get(&agent_id)
            .cloned()
            .unwrap_or_else(|| (format!("agent {agent_id}"), None));
        ConflictSubject {
            ticket_number: self.number.clone(),
            ticket_title: self.title.clone(),
            agent_id,
            agent_name,
            agent_email,
            type_id,
            type_name: type_id.and_then(|t| self.type_names.get(&t).cloned()),
            organisation_id: self.organisation.as_ref().map(|o| o.0),
            organisation_name: self.organisation.as_ref().map(|o| o.1.clone()),
            group_id: self.group_id,
        }
    }
}

impl Subjects {
    /// The subject of every entry of the ticket `facts` describes.
    pub fn of(entries: &[TimedEntry], facts: &TicketFacts<'_>) -> Self {
        let ticket = TicketSide {
            number: facts.ticket.number.clone(),
            title: facts.ticket.title.clone(),
            organisation: facts.organisation.map(|o| (o.id, o.name.clone())),
            group_id: facts.ticket.group_id,
            agents: facts
                .agents
                .iter()
                .map(|(id, a)| (*id, (ZammadUser::display_name(a), a.email.clone())))
                .collect(),
            type_names: facts.type_names.clone(),
        };
        let by_key = entries
            .iter()
            .map(|e| (e.key.clone(), ticket.subject(e.agent_id, e.type_id)))
            .collect();
        Subjects {
            by_key,
            ticket: Some(ticket),
        }
    }

    /// Names the subject of each conflict of `plan` that has none: by its entry, else (an
    /// orphan) by the agent of what it wanted or last wrote.
    pub fn name(&self, plan: &mut Plan) {
        let Some(ticket) = &self.ticket else {
            return;
        };
        for c in plan.conflicts.iter_mut().filter(|c| c.subject.is_none()) {
            c.subject = self.by_key.get(&c.key).cloned().or_else(|| {
                let agent = c
                    .desired
                    .as_ref()
                    .or_else(|| c.base.as_ref().and_then(|b| b.written.as_ref()))
                    .map(|d| d.agent_id)?;
                Some(ticket.subject(agent, None))
            });
        }
    }
}
