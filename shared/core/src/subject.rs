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

/// The subject of a conflict on `agent_id`'s time (of `type_id`) in the ticket `facts` describe.
pub fn subject(
    facts: &TicketFacts<'_>,
    agent_id: ZammadUserId,
    type_id: Option<AccountingTypeId>,
) -> ConflictSubject {
    let agent = facts.agents.get(&agent_id);
    ConflictSubject {
        ticket_number: facts.ticket.number.clone(),
        ticket_title: facts.ticket.title.clone(),
        agent_id,
        agent_name: agent.map_or_else(|| format!("agent {agent_id}"), ZammadUser::display_name),
        agent_email: agent.and_then(|a| a.email.clone()),
        type_id,
        type_name: type_id.and_then(|t| facts.type_names.get(&t).cloned()),
        organisation_id: facts.organisation.map(|o| o.id),
        organisation_name: facts.organisation.map(|o| o.name.clone()),
        group_id: facts.ticket.group_id,
    }
}

/// Names the subject of each conflict of `plan` that has none: by its entry among `entries`,
/// else (an orphan: its entry is gone from Zammad) by the agent of what it wanted or last wrote.
pub fn name_subjects(plan: &mut Plan, entries: &[TimedEntry], facts: &TicketFacts<'_>) {
    let by_key: HashMap<&EntryKey, &TimedEntry> = entries.iter().map(|e| (&e.key, e)).collect();
    for c in plan.conflicts.iter_mut().filter(|c| c.subject.is_none()) {
        let whose = match by_key.get(&c.key) {
            Some(e) => Some((e.agent_id, e.type_id)),
            None => c
                .desired
                .as_ref()
                .or_else(|| c.base.as_ref().and_then(|b| b.written.as_ref()))
                .map(|d| (d.agent_id, None)),
        };
        c.subject = whose.map(|(agent, type_id)| subject(facts, agent, type_id));
    }
}
