//! The three-way planner for one ticket: desired (from Zammad) × base (what we last wrote or
//! adopted) × Kimai (current state) → operations and conflicts.
//!
//! | situation                                   | result                                        |
//! |---------------------------------------------|-----------------------------------------------|
//! | in D, not in B, nothing in K                | create (approval mode: awaiting approval)     |
//! | in D, not in B, marker match in K           | adopt the link; update if it differs          |
//! | in D, not in B, unmarked same user, project, day, rounded duration in K | `probable_duplicate` |
//! | D = B, K = B                                | nothing                                       |
//! | D ≠ B, K = B                                | update (exported: `locked_or_exported`)       |
//! | D = B, K ≠ B                                | hand edit respected, recorded as new echo     |
//! | D ≠ B, K ≠ B                                | `both_changed` (unless K already equals D)    |
//! | in B, K missing, still in D                 | `deleted_in_kimai`                            |
//! | in B, not in D, K = B                       | delete (exported: `locked_or_exported`)       |
//! | in B, not in D, K ≠ B                       | `orphaned`                                    |
//! | in B, not in D, K missing                   | drop the link (both sides agree)              |
//! | blocked by a missing mapping                | its `unmapped_*` conflict; never deleted      |
//! | a create, update or delete on a day its project is locked (Kimai's `lockedUntil`) | `project_locked` |
//!
//! "D = B" compares the desired timesheet with what we wrote (`Base::written`; for an adopted
//! timesheet, with the echo); "K = B" compares Kimai with what it echoed (`Base::echoed`).
//! Nothing is deleted (nor called orphaned) when the Zammad read was incomplete. Keys a human
//! chose to leave alone (`ignored`) are skipped; `create_anyway` skips the duplicate check.
//!
//! Every input is indexed once in a hash map; each key is then decided in constant time, so the
//! planner is linear in the size of its input.

use crate::desired::{DesiredTimesheet, EntryKey};
use crate::ids::{ActivityId, KimaiUserId, ProjectId, TicketId, TimesheetId};
use crate::kimai::Timesheet;
use crate::mapping::{Blocker, Unresolved};
use crate::marker::Marker;
use crate::needed_action::NeededAction;
use crate::plan::{Base, Conflict, ConflictReason, Operation, Plan};
use crate::rounding::Rounding;
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashMap, HashSet};
use thiserror::Error;

/// Everything the planner looks at for one ticket.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub ticket_id: TicketId,
    /// D: resolved desired timesheets, unique keys.
    pub desired: &'a [DesiredTimesheet],
    /// Keys of Zammad time that could not be resolved (they count as present in D).
    pub unresolved: &'a [Unresolved],
    /// B: one record per linked key.
    pub base: &'a [Base],
    /// K: Kimai's current state of every linked id, plus marker matches and the other
    /// timesheets of the same users and days (duplicate candidates). A linked id absent here
    /// means the timesheet is gone from Kimai.
    pub kimai: &'a [Timesheet],
    /// False when the Zammad read was incomplete or failed: then nothing is deleted.
    pub zammad_complete: bool,
    /// Approve-before-post: creates wait for a human.
    pub approval_required: bool,
    /// The connection's rounding, to compare durations of unmarked timesheets as we would book them.
    pub rounding: Rounding,
    /// Keys a human resolved as "create anyway" after a `probable_duplicate`.
    pub create_anyway: &'a [EntryKey],
    /// Keys a human resolved as "leave it" (e.g. accepted a deletion in Kimai or an orphan):
    /// no operation and no conflict for them until the decision is withdrawn.
    pub ignored: &'a [EntryKey],
    /// Projects Kimai locks up to and including a day (`lockedUntil`, Kimai ≥ 2.66): no
    /// timesheet on or before it may be created, changed or deleted there, admins included.
    pub locked_until: &'a HashMap<ProjectId, NaiveDate>,
}

/// The project locks of a plan. Kimai compares the timesheet's begin with the end of the lock
/// day in the project's zone; we compare local days in the timesheet owner's zone, which is the
/// same for a desk in one zone and never writes into a locked day.
#[derive(Clone, Copy)]
struct Locks<'a>(&'a HashMap<ProjectId, NaiveDate>);

impl Locks<'_> {
    /// The lock day when `day` is locked in `project`.
    fn on(&self, project: ProjectId, day: NaiveDate) -> Option<NaiveDate> {
        self.0.get(&project).copied().filter(|until| day <= *until)
    }

    /// The lock that stops changing `k` into `d` (either day may be locked).
    fn on_update(&self, d: &DesiredTimesheet, k: &Timesheet) -> Option<(ProjectId, NaiveDate)> {
        let from = (k.project, k.begin.date_naive());
        let to = (d.project, d.day);
        [from, to]
            .into_iter()
            .find_map(|(project, day)| self.on(project, day).map(|until| (project, until)))
    }
}

/// The inputs contradict themselves: a bug in the caller, not a user problem; do not retry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    #[error("desired key {0} appears twice")]
    DuplicateDesiredKey(EntryKey),
    #[error("base key {0} appears twice")]
    DuplicateBaseKey(EntryKey),
    #[error("Kimai timesheet {0} is linked to two keys")]
    TimesheetLinkedTwice(TimesheetId),
    #[error("key {0} is both resolved and blocked")]
    KeyBothReadyAndBlocked(EntryKey),
}

type DuplicateKey = (KimaiUserId, ProjectId, NaiveDate, i64);

pub fn plan(input: &PlanInput<'_>) -> Result<Plan, PlanError> {
    let mut desired_keys: HashSet<&EntryKey> = HashSet::with_capacity(input.desired.len());
    for d in input.desired {
        if !desired_keys.insert(&d.key) {
            return Err(PlanError::DuplicateDesiredKey(d.key.clone()));
        }
    }
    let mut blocked: HashMap<&EntryKey, &Unresolved> =
        HashMap::with_capacity(input.unresolved.len());
    for u in input.unresolved {
        if desired_keys.contains(&u.key) {
            return Err(PlanError::KeyBothReadyAndBlocked(u.key.clone()));
        }
        blocked.insert(&u.key, u);
    }
    let mut base: HashMap<&EntryKey, &Base> = HashMap::with_capacity(input.base.len());
    let mut linked: HashSet<TimesheetId> = HashSet::with_capacity(input.base.len());
    for b in input.base {
        if base.insert(&b.key, b).is_some() {
            return Err(PlanError::DuplicateBaseKey(b.key.clone()));
        }
        if !linked.insert(b.kimai_id) {
            return Err(PlanError::TimesheetLinkedTwice(b.kimai_id));
        }
    }
    let kimai: HashMap<TimesheetId, &Timesheet> = input.kimai.iter().map(|t| (t.id, t)).collect();

    // Unlinked timesheets: by marker (adoptable) or, unmarked, by what a duplicate looks like.
    let mut by_marker: HashMap<EntryKey, &Timesheet> = HashMap::new();
    let mut unmarked: HashMap<DuplicateKey, Vec<TimesheetId>> = HashMap::new();
    for t in input.kimai.iter().filter(|t| !linked.contains(&t.id)) {
        match t.description.as_deref().and_then(Marker::parse) {
            Some(m) => {
                // Lowest id wins, whatever the input order; the others are left alone.
                let slot = by_marker.entry(m.key()).or_insert(t);
                if t.id < slot.id {
                    *slot = t;
                }
            }
            None => {
                let k = (
                    t.user,
                    t.project,
                    t.begin.date_naive(),
                    input.rounding.apply(t.duration_secs),
                );
                unmarked.entry(k).or_default().push(t.id);
            }
        }
    }

    let duplicated = duplicated_keys(input, &base);
    let locks = Locks(input.locked_until);
    let create_anyway: HashSet<&EntryKey> = input.create_anyway.iter().collect();
    let ignored: HashSet<&EntryKey> = input.ignored.iter().collect();

    let mut out = Plan::default();
    let conflict = |key: &EntryKey, reason, detail: String| Conflict {
        key: key.clone(),
        ticket_id: input.ticket_id,
        reason,
        detail,
        desired: None,
        base: None,
        kimai: None,
        candidates: Vec::new(),
        subject: None,
    };

    for d in input.desired.iter().filter(|d| !ignored.contains(&d.key)) {
        if let Some(ids) = duplicated.get(&d.key) {
            out.conflicts.push(duplicates_conflict(
                conflict(&d.key, ConflictReason::DuplicateTimesheets, String::new()),
                ids,
                Some(d),
                base.get(&d.key).copied(),
            ));
            continue;
        }
        let current_base = base.get(&d.key).copied();
        match current_base {
            Some(b) => match kimai.get(&b.kimai_id).copied() {
                None => out.conflicts.push(Conflict {
                    desired: Some(d.clone()),
                    base: Some(b.clone()),
                    ..conflict(
                        &d.key,
                        ConflictReason::DeletedInKimai,
                        format!(
                            "Kimai timesheet {} was deleted; recreate it or accept the deletion",
                            b.kimai_id
                        ),
                    )
                }),
                Some(k) => {
                    let zammad_changed = !unchanged_since(d, b);
                    let kimai_changed = !same_as_echo(k, &b.echoed);
                    match (zammad_changed, kimai_changed) {
                        (false, false) => {}
                        (true, false) => {
                            push_update(&mut out, d, k, Some(b), locks, &conflict)
                        }
                        (false, true) => out.kimai_edits_respected.push(Base {
                            echoed: k.clone(),
                            ..b.clone()
                        }),
                        (true, true) if desired_matches_kimai(d, k) => {
                            // Both sides moved to the same state: nothing to write.
                            out.kimai_edits_respected.push(Base {
                                written: Some(d.clone()),
                                echoed: k.clone(),
                                ..b.clone()
                            })
                        }
                        (true, true) => out.conflicts.push(Conflict {
                            desired: Some(d.clone()),
                            base: Some(b.clone()),
                            kimai: Some(k.clone()),
                            ..conflict(&d.key, ConflictReason::BothChanged, format!(
                                "Zammad changed and Kimai timesheet {} was edited since our last write",
                                k.id
                            ))
                        }),
                    }
                }
            },
            None => {
                if let Some(&k) = by_marker.get(&d.key) {
                    let adopted = Base {
                        key: d.key.clone(),
                        kimai_id: k.id,
                        written: None,
                        echoed: k.clone(),
                    };
                    if !desired_matches_kimai(d, k) {
                        push_update(&mut out, d, k, Some(&adopted), locks, &conflict);
                    }
                    out.adopted.push(adopted);
                    continue;
                }
                let dup_key = (
                    d.user,
                    d.project,
                    d.day,
                    input.rounding.apply(d.duration_secs),
                );
                let lookalikes = unmarked
                    .get(&dup_key)
                    .filter(|_| !create_anyway.contains(&d.key));
                if let Some(candidates) = lookalikes {
                    let mut candidates = candidates.clone();
                    candidates.sort();
                    out.conflicts.push(Conflict {
                        desired: Some(d.clone()),
                        candidates,
                        ..conflict(&d.key, ConflictReason::ProbableDuplicate, format!(
                            "an unmarked Kimai timesheet with the same user, project, day ({}) and duration exists; link it or create anyway",
                            d.day
                        ))
                    });
                    continue;
                }
                if let Some(until) = locks.on(d.project, d.day) {
                    out.conflicts.push(Conflict {
                        desired: Some(d.clone()),
                        ..conflict(&d.key, ConflictReason::ProjectLocked, format!(
                            "Kimai project {} is locked until {until}: no timesheet can be booked on {}",
                            d.project, d.day
                        ))
                    });
                    continue;
                }
                let op = Operation::Create { desired: d.clone() };
                if input.approval_required {
                    out.awaiting_approval.push(op);
                } else {
                    out.operations.push(op);
                }
            }
        }
    }

    let mut needed: BTreeSet<NeededAction> = BTreeSet::new();
    for u in input
        .unresolved
        .iter()
        .filter(|u| !ignored.contains(&u.key))
    {
        match &u.blocker {
            Blocker::Conflict { reason, detail } => {
                let b = base.get(&u.key).copied();
                out.conflicts.push(Conflict {
                    base: b.cloned(),
                    kimai: b.and_then(|b| kimai.get(&b.kimai_id)).map(|k| (*k).clone()),
                    ..conflict(&u.key, *reason, detail.clone())
                });
            }
            Blocker::NeedsCreation { actions } => needed.extend(actions.iter().cloned()),
        }
    }
    out.needed_actions = needed.into_iter().collect();

    if input.zammad_complete {
        for b in input.base {
            if desired_keys.contains(&b.key)
                || blocked.contains_key(&b.key)
                || ignored.contains(&b.key)
            {
                continue;
            }
            if let Some(ids) = duplicated.get(&b.key) {
                out.conflicts.push(duplicates_conflict(
                    conflict(&b.key, ConflictReason::DuplicateTimesheets, String::new()),
                    ids,
                    None,
                    Some(b),
                ));
                continue;
            }
            match kimai.get(&b.kimai_id).copied() {
                None => out.links_to_drop.push(b.key.clone()),
                Some(k) if !same_as_echo(k, &b.echoed) => out.conflicts.push(Conflict {
                    base: Some(b.clone()),
                    kimai: Some(k.clone()),
                    ..conflict(
                        &b.key,
                        ConflictReason::Orphaned,
                        format!(
                            "the Zammad time is gone but Kimai timesheet {} was edited by hand",
                            k.id
                        ),
                    )
                }),
                Some(k) if k.exported => out.conflicts.push(Conflict {
                    base: Some(b.clone()),
                    kimai: Some(k.clone()),
                    ..conflict(
                        &b.key,
                        ConflictReason::LockedOrExported,
                        format!(
                            "the Zammad time is gone but Kimai timesheet {} is exported",
                            k.id
                        ),
                    )
                }),
                Some(k) if locks.on(k.project, k.begin.date_naive()).is_some() => {
                    out.conflicts.push(Conflict {
                        base: Some(b.clone()),
                        kimai: Some(k.clone()),
                        ..conflict(
                            &b.key,
                            ConflictReason::ProjectLocked,
                            format!(
                                "the Zammad time is gone but Kimai timesheet {} is in project {}'s locked period",
                                k.id, k.project
                            ),
                        )
                    })
                }
                Some(k) => out.operations.push(Operation::Delete {
                    key: b.key.clone(),
                    kimai_id: k.id,
                    expected: k.clone(),
                }),
            }
        }
    }
    Ok(out)
}

fn push_update(
    out: &mut Plan,
    d: &DesiredTimesheet,
    k: &Timesheet,
    b: Option<&Base>,
    locks: Locks<'_>,
    conflict: &impl Fn(&EntryKey, ConflictReason, String) -> Conflict,
) {
    // Kimai refuses the change: exported (reported first), or in a locked project period.
    let refused = if k.exported {
        Some((
            ConflictReason::LockedOrExported,
            format!("Zammad changed but Kimai timesheet {} is exported", k.id),
        ))
    } else {
        locks.on_update(d, k).map(|(project, until)| {
            (
                ConflictReason::ProjectLocked,
                format!(
                    "Zammad changed but Kimai project {project} is locked until {until}: timesheet {} cannot change",
                    k.id
                ),
            )
        })
    };
    if let Some((reason, detail)) = refused {
        out.conflicts.push(Conflict {
            desired: Some(d.clone()),
            base: b.cloned(),
            kimai: Some(k.clone()),
            ..conflict(&d.key, reason, detail)
        });
    } else {
        out.operations.push(Operation::Update {
            kimai_id: k.id,
            desired: d.clone(),
            expected: k.clone(),
        });
    }
}

fn tag_set(tags: &[String]) -> BTreeSet<&str> {
    tags.iter().map(String::as_str).collect()
}

/// Keys of this ticket for which Kimai holds more than one timesheet: the linked one (if Kimai
/// still has it) and every other one carrying the key's marker. A past failure left them
/// (a create whose answer was lost, before creates searched by marker); each is billed, so a
/// person must see them all. Sorted ids per key.
fn duplicated_keys(
    input: &PlanInput<'_>,
    base: &HashMap<&EntryKey, &Base>,
) -> HashMap<EntryKey, Vec<TimesheetId>> {
    let ours: HashSet<&EntryKey> = input
        .desired
        .iter()
        .map(|d| &d.key)
        .chain(base.keys().copied())
        .collect();
    let mut ids: HashMap<EntryKey, BTreeSet<TimesheetId>> = HashMap::new();
    for t in input.kimai {
        if let Some(m) = t.description.as_deref().and_then(Marker::parse) {
            let key = m.key();
            if ours.contains(&key) {
                ids.entry(key).or_default().insert(t.id);
            }
        }
    }
    for b in base.values() {
        if input.kimai.iter().any(|t| t.id == b.kimai_id) {
            ids.entry(b.key.clone()).or_default().insert(b.kimai_id);
        }
    }
    ids.into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(key, ids)| (key, ids.into_iter().collect()))
        .collect()
}

/// The conflict that names every timesheet Kimai holds for one key.
fn duplicates_conflict(
    blank: Conflict,
    ids: &[TimesheetId],
    desired: Option<&DesiredTimesheet>,
    base: Option<&Base>,
) -> Conflict {
    let list = ids
        .iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Conflict {
        detail: format!(
            "Kimai holds {} timesheets for this entry ({list}); delete the extra ones in Kimai and this conflict closes on the next sync",
            ids.len()
        ),
        desired: desired.cloned(),
        base: base.cloned(),
        candidates: ids.to_vec(),
        ..blank
    }
}

/// The fields of a desired timesheet that Kimai holds.
fn same_desired(a: &DesiredTimesheet, b: &DesiredTimesheet) -> bool {
    a.begin_utc == b.begin_utc
        && a.end_utc == b.end_utc
        && (a.user, a.project, a.activity) == (b.user, b.project, b.activity)
        && a.description == b.description
        && tag_set(&a.tags) == tag_set(&b.tags)
        && a.billable == b.billable
}

/// "Did Zammad change?": desired against what we wrote, or for an adopted timesheet against
/// what Kimai held when we adopted it.
fn unchanged_since(d: &DesiredTimesheet, b: &Base) -> bool {
    match &b.written {
        Some(w) => same_desired(d, w),
        None => desired_matches_kimai(d, &b.echoed),
    }
}

/// "Was Kimai edited?": everything a person can change, not the `exported` flag.
fn same_as_echo(k: &Timesheet, echoed: &Timesheet) -> bool {
    k.begin == echoed.begin
        && k.end == echoed.end
        && k.duration_secs == echoed.duration_secs
        && k.break_secs == echoed.break_secs
        && k.description == echoed.description
        && ids(k) == ids(echoed)
        && tag_set(&k.tags) == tag_set(&echoed.tags)
        && k.billable == echoed.billable
}

fn ids(t: &Timesheet) -> (KimaiUserId, ProjectId, ActivityId) {
    (t.user, t.project, t.activity)
}

/// Does Kimai already hold what we want? Instants are compared, not wall-clock strings, and an
/// unset billable flag accepts whatever Kimai decided.
pub fn desired_matches_kimai(d: &DesiredTimesheet, k: &Timesheet) -> bool {
    k.begin == d.begin_utc
        && k.end == Some(d.end_utc.fixed_offset())
        && (d.user, d.project, d.activity) == ids(k)
        && k.description.as_deref() == Some(d.description.as_str())
        && tag_set(&d.tags) == tag_set(&k.tags)
        && d.billable.is_none_or(|b| b == k.billable)
}
