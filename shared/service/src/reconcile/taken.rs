//! What Kimai already holds on the days of a ticket's entries, for placing them around it
//! (docs/core.md "Placement"): the timesheets of the same users that are not this ticket's
//! (other tickets' and time entered by hand) are busy, and this ticket's own timesheets pin
//! their entries where they are.

use super::desired::Wanted;
use chrono::Utc;
use std::collections::{HashMap, HashSet};
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{KimaiUserId, ZammadUserId};
use sync_core::kimai::Timesheet;
use sync_core::marker::Marker;
use sync_core::placement::{BusyInterval, Taken};
use sync_core::plan::Base;

/// `kimai` is what reconcile read for the ticket: its linked timesheets, marker matches, and
/// the timesheets of its users around its entries' days.
pub(super) fn taken_in_kimai(wanted: &Wanted, kimai: &[Timesheet], base: &[Base]) -> Taken {
    let mut ours: HashSet<&EntryKey> = wanted.desired.iter().map(|d| &d.key).collect();
    ours.extend(wanted.unresolved.iter().map(|u| &u.key));
    ours.extend(base.iter().map(|b| &b.key));
    let by_id: HashMap<_, &Timesheet> = kimai.iter().map(|t| (t.id, t)).collect();
    let span = |t: &Timesheet| {
        t.end
            .map(|end| (t.begin.with_timezone(&Utc), end.with_timezone(&Utc)))
    };

    // Where a linked timesheet is: where we wrote it while Kimai still holds what it answered
    // then (Kimai keeps whole seconds, and may round), else where someone moved it.
    let mut pinned = HashMap::new();
    for b in base {
        let Some(now) = by_id.get(&b.kimai_id).and_then(|t| span(t)) else {
            continue;
        };
        let as_echoed = span(&b.echoed).is_some_and(|echo| echo == now);
        let written = b.written.as_ref().map(|w| (w.begin_utc, w.end_utc));
        let at = match (as_echoed, written) {
            (true, Some(written)) => written,
            _ => now,
        };
        pinned.insert(b.key.clone(), at);
    }
    let linked: HashSet<_> = base.iter().map(|b| b.kimai_id).collect();
    let agents_of = agents_by_user(&wanted.desired);
    let mut busy = Vec::new();
    for t in kimai.iter().filter(|t| !linked.contains(&t.id)) {
        let Some((begin, end)) = span(t) else {
            continue;
        };
        let marked = t.description.as_deref().and_then(Marker::parse);
        if let Some(key) = marked.map(|m| m.key()).filter(|k| ours.contains(k)) {
            // Not linked yet but ours (the planner adopts it): where it is, like a linked one.
            pinned.entry(key).or_insert((begin, end));
            continue;
        }
        for &agent_id in agents_of.get(&t.user).into_iter().flatten() {
            busy.push(BusyInterval {
                agent_id,
                begin,
                end,
            });
        }
    }
    Taken { busy, pinned }
}

/// The agents booked as each Kimai user: a user's time is busy for all of them (several, when
/// unmapped agents are booked as the API user).
pub(super) fn agents_by_user(
    desired: &[DesiredTimesheet],
) -> HashMap<KimaiUserId, HashSet<ZammadUserId>> {
    let mut agents: HashMap<KimaiUserId, HashSet<ZammadUserId>> = HashMap::new();
    for d in desired {
        agents.entry(d.user).or_default().insert(d.agent_id);
    }
    agents
}
