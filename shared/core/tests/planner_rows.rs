//! One test per row of the planner's decision table, plus the guard rails around it.

mod support;

use chrono::{Duration, NaiveDate};
use std::collections::HashMap;
use support::*;
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{CustomerId, ProjectId, TimesheetId};
use sync_core::kimai::Timesheet;
use sync_core::mapping::{Blocker, Unresolved};
use sync_core::needed_action::NeededAction;
use sync_core::plan::{Base, ConflictReason, Operation, Plan};
use sync_core::planner::{PlanError, PlanInput, plan};
use sync_core::rounding::{Rounding, RoundingMode};

struct World {
    desired: Vec<DesiredTimesheet>,
    unresolved: Vec<Unresolved>,
    base: Vec<Base>,
    kimai: Vec<Timesheet>,
    complete: bool,
    approval: bool,
    rounding: Rounding,
    create_anyway: Vec<EntryKey>,
    ignored: Vec<EntryKey>,
    locked_until: HashMap<ProjectId, NaiveDate>,
}

impl World {
    fn new() -> Self {
        World {
            desired: vec![],
            unresolved: vec![],
            base: vec![],
            kimai: vec![],
            complete: true,
            approval: false,
            rounding: Rounding::NONE,
            create_anyway: vec![],
            ignored: vec![],
            locked_until: HashMap::new(),
        }
    }

    fn plan(&self) -> Plan {
        self.try_plan().unwrap()
    }

    fn try_plan(&self) -> Result<Plan, PlanError> {
        plan(&PlanInput {
            ticket_id: TICKET,
            desired: &self.desired,
            unresolved: &self.unresolved,
            base: &self.base,
            kimai: &self.kimai,
            zammad_complete: self.complete,
            approval_required: self.approval,
            rounding: self.rounding,
            create_anyway: &self.create_anyway,
            ignored: &self.ignored,
            locked_until: &self.locked_until,
        })
    }

    /// D, B and K all agree on accounting `id`, linked to Kimai timesheet `id + 100`.
    fn synced(id: u64) -> Self {
        let d = desired(id, 0, 30);
        let mut w = World::new();
        w.base.push(base_for(&d, id + 100));
        w.kimai.push(timesheet_for(&d, id + 100));
        w.desired.push(d);
        w
    }
}

fn only_conflict(p: &Plan) -> ConflictReason {
    assert!(p.operations.is_empty(), "{:?}", p.operations);
    assert_eq!(p.conflicts.len(), 1, "{:?}", p.conflicts);
    p.conflicts[0].reason
}

#[test]
fn new_time_is_created() {
    let mut w = World::new();
    w.desired.push(desired(1, 0, 30));
    let p = w.plan();
    assert!(
        matches!(&p.operations[..], [Operation::Create { desired }] if desired.key.as_str() == "ta:1")
    );
    assert!(p.conflicts.is_empty());
}

#[test]
fn approval_mode_holds_creates_back() {
    let mut w = World::new();
    w.approval = true;
    w.desired.push(desired(1, 0, 30));
    let p = w.plan();
    assert!(p.operations.is_empty());
    assert_eq!(p.awaiting_approval.len(), 1);
}

#[test]
fn missing_mapping_is_a_conflict_and_needed_creations_are_reported() {
    let mut w = World::new();
    w.unresolved.push(Unresolved {
        key: EntryKey("ta:1".into()),
        ticket_id: TICKET,
        blocker: Blocker::Conflict {
            reason: ConflictReason::UnmappedUser,
            detail: "no Kimai user".into(),
        },
    });
    let action = NeededAction::CreateProject {
        customer: CustomerId(1),
        name: "Support".into(),
        number: None,
    };
    for key in ["ta:2", "ta:3"] {
        w.unresolved.push(Unresolved {
            key: EntryKey(key.into()),
            ticket_id: TICKET,
            blocker: Blocker::NeedsCreation {
                actions: vec![action.clone()],
            },
        });
    }
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::UnmappedUser);
    assert_eq!(p.needed_actions, vec![action], "deduplicated");
}

#[test]
fn our_marker_in_kimai_is_adopted_not_duplicated() {
    let mut w = World::new();
    let d = desired(1, 0, 30);
    w.kimai.push(timesheet_for(&d, 77));
    w.desired.push(d);
    let p = w.plan();
    assert!(p.operations.is_empty());
    assert_eq!(p.adopted.len(), 1);
    assert_eq!(p.adopted[0].kimai_id, TimesheetId(77));
    assert_eq!(p.adopted[0].written, None);
}

#[test]
fn legacy_marker_is_adopted_and_updated_to_ours() {
    let mut w = World::new();
    let d = desired(1, 0, 30);
    let mut legacy = timesheet_for(&d, 77);
    legacy.description = Some("ZAM:T31|TA:1\nPrinter".into());
    w.kimai.push(legacy);
    w.desired.push(d);
    let p = w.plan();
    assert_eq!(p.adopted.len(), 1);
    assert!(matches!(
        &p.operations[..],
        [Operation::Update {
            kimai_id: TimesheetId(77),
            ..
        }]
    ));
}

#[test]
fn adopting_an_exported_timesheet_that_differs_is_locked() {
    let mut w = World::new();
    let d = desired(1, 0, 30);
    let mut k = timesheet_for(&desired(1, 0, 45), 77);
    k.exported = true;
    w.kimai.push(k);
    w.desired.push(d);
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::LockedOrExported);
    assert_eq!(p.adopted.len(), 1);
}

#[test]
fn several_marker_matches_are_a_conflict_naming_each_not_an_adoption() {
    let mut w = World::new();
    let d = desired(1, 0, 30);
    w.kimai.push(timesheet_for(&d, 90));
    w.kimai.push(timesheet_for(&d, 80));
    w.desired.push(d);
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::DuplicateTimesheets);
    assert_eq!(
        p.conflicts[0].candidates,
        vec![TimesheetId(80), TimesheetId(90)]
    );
    assert!(p.adopted.is_empty());
}

#[test]
fn a_linked_key_with_another_timesheet_carrying_its_marker_is_a_duplicate_conflict() {
    let mut w = World::synced(1);
    let extra = timesheet_for(&w.desired[0], 150);
    w.kimai.push(extra);
    // Even when Zammad changed: the key waits for a person, nothing is written.
    w.desired[0] = desired(1, 0, 45);
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::DuplicateTimesheets);
    assert_eq!(
        p.conflicts[0].candidates,
        vec![TimesheetId(101), TimesheetId(150)]
    );
    assert!(
        p.conflicts[0].detail.contains("101, 150"),
        "{}",
        p.conflicts[0].detail
    );
}

#[test]
fn a_gone_key_with_two_timesheets_deletes_neither_and_names_both() {
    let mut w = World::synced(1);
    let extra = timesheet_for(&w.desired[0], 150);
    w.kimai.push(extra);
    w.desired.clear();
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::DuplicateTimesheets);
    assert_eq!(
        p.conflicts[0].candidates,
        vec![TimesheetId(101), TimesheetId(150)]
    );
}

#[test]
fn a_marker_of_a_key_outside_the_plan_on_the_same_day_is_no_duplicate() {
    let mut w = World::synced(1);
    w.kimai.push(timesheet_for(&desired(2, 60, 30), 150));
    let p = w.plan();
    assert!(p.conflicts.is_empty(), "{:?}", p.conflicts);
}

#[test]
fn unmarked_lookalike_is_a_probable_duplicate_after_rounding() {
    let mut w = World::new();
    w.rounding = Rounding::new(RoundingMode::Up, 15, None).unwrap();
    let d = desired(1, 0, 30);
    // Someone booked 22 minutes by hand at another time of the same day: rounds to 30.
    let mut by_hand = timesheet_for(&desired(1, 120, 22), 55);
    by_hand.description = Some("printer".into());
    w.kimai.push(by_hand);
    w.desired.push(d);
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::ProbableDuplicate);
    assert_eq!(p.conflicts[0].candidates, vec![TimesheetId(55)]);
}

#[test]
fn unmarked_timesheet_of_another_duration_or_project_is_not_a_duplicate() {
    let mut w = World::new();
    let d = desired(1, 0, 30);
    let mut other = timesheet_for(&desired(1, 0, 45), 55);
    other.description = None;
    w.kimai.push(other);
    let mut other_project = timesheet_for(&d, 56);
    other_project.description = None;
    other_project.project = sync_core::ids::ProjectId(99);
    w.kimai.push(other_project);
    w.desired.push(d);
    assert!(matches!(
        &w.plan().operations[..],
        [Operation::Create { .. }]
    ));
}

#[test]
fn nothing_changed_means_nothing_to_do() {
    let p = World::synced(1).plan();
    assert_eq!(p, Plan::default());
}

#[test]
fn zammad_changed_kimai_untouched_is_an_update() {
    let mut w = World::synced(1);
    w.desired[0] = desired(1, 0, 45);
    let p = w.plan();
    match &p.operations[..] {
        [
            Operation::Update {
                kimai_id,
                desired,
                expected,
            },
        ] => {
            assert_eq!(*kimai_id, TimesheetId(101));
            assert_eq!(desired.duration_secs, 45 * 60);
            assert_eq!(expected, &w.kimai[0]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn zammad_changed_but_exported_is_locked() {
    let mut w = World::synced(1);
    w.desired[0] = desired(1, 0, 45);
    w.kimai[0].exported = true;
    assert_eq!(only_conflict(&w.plan()), ConflictReason::LockedOrExported);
}

#[test]
fn kimai_edited_by_hand_is_respected_and_recorded() {
    let mut w = World::synced(1);
    w.kimai[0].description = Some("[zammad:ta=1] fixed the wording".into());
    let p = w.plan();
    assert!(p.operations.is_empty() && p.conflicts.is_empty());
    assert_eq!(p.kimai_edits_respected.len(), 1);
    assert_eq!(p.kimai_edits_respected[0].echoed, w.kimai[0]);
    assert_eq!(p.kimai_edits_respected[0].written, w.base[0].written);
}

#[test]
fn exporting_alone_is_not_an_edit() {
    let mut w = World::synced(1);
    w.kimai[0].exported = true;
    assert_eq!(w.plan(), Plan::default());
}

#[test]
fn kimai_rounding_on_save_is_not_a_change_on_either_side() {
    // We wrote 30 min; Kimai echoed 35 (its rounding). Next run: D = written, K = echoed.
    let mut w = World::synced(1);
    let mut echoed = w.kimai[0].clone();
    echoed.end = echoed.end.map(|e| e + Duration::minutes(5));
    echoed.duration_secs += 300;
    w.base[0].echoed = echoed.clone();
    w.kimai[0] = echoed;
    assert_eq!(w.plan(), Plan::default());
}

#[test]
fn both_changed_is_a_conflict() {
    let mut w = World::synced(1);
    w.desired[0] = desired(1, 0, 45);
    w.kimai[0].description = Some("edited".into());
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::BothChanged);
    let c = &p.conflicts[0];
    assert!(c.desired.is_some() && c.base.is_some() && c.kimai.is_some());
}

#[test]
fn both_changed_to_the_same_state_is_recorded_not_a_conflict() {
    let mut w = World::synced(1);
    let d = desired(1, 0, 45);
    w.kimai[0] = timesheet_for(&d, 101);
    w.desired[0] = d.clone();
    let p = w.plan();
    assert!(p.conflicts.is_empty() && p.operations.is_empty());
    assert_eq!(p.kimai_edits_respected[0].written, Some(d));
}

#[test]
fn linked_timesheet_gone_from_kimai_is_deleted_in_kimai() {
    let mut w = World::synced(1);
    w.kimai.clear();
    assert_eq!(only_conflict(&w.plan()), ConflictReason::DeletedInKimai);
}

#[test]
fn zammad_time_gone_and_kimai_untouched_is_deleted() {
    let mut w = World::synced(1);
    w.desired.clear();
    let p = w.plan();
    assert!(matches!(
        &p.operations[..],
        [Operation::Delete {
            kimai_id: TimesheetId(101),
            ..
        }]
    ));
}

#[test]
fn zammad_time_gone_but_exported_is_locked() {
    let mut w = World::synced(1);
    w.desired.clear();
    w.kimai[0].exported = true;
    assert_eq!(only_conflict(&w.plan()), ConflictReason::LockedOrExported);
}

#[test]
fn zammad_time_gone_and_kimai_edited_is_orphaned() {
    let mut w = World::synced(1);
    w.desired.clear();
    w.kimai[0].tags.push("reviewed".into());
    assert_eq!(only_conflict(&w.plan()), ConflictReason::Orphaned);
}

#[test]
fn both_sides_gone_drops_the_link() {
    let mut w = World::synced(1);
    w.desired.clear();
    w.kimai.clear();
    let p = w.plan();
    assert!(p.operations.is_empty() && p.conflicts.is_empty());
    assert_eq!(p.links_to_drop, vec![EntryKey("ta:1".into())]);
}

#[test]
fn incomplete_zammad_read_deletes_nothing() {
    let mut w = World::synced(1);
    w.desired.clear();
    w.complete = false;
    assert_eq!(w.plan(), Plan::default());
    w.kimai[0].tags.push("edited".into());
    assert_eq!(w.plan(), Plan::default(), "nor calls anything orphaned");
}

#[test]
fn a_blocked_key_is_never_deleted() {
    let mut w = World::synced(1);
    w.desired.clear();
    w.unresolved.push(Unresolved {
        key: EntryKey("ta:1".into()),
        ticket_id: TICKET,
        blocker: Blocker::Conflict {
            reason: ConflictReason::UnmappedActivity,
            detail: "type removed".into(),
        },
    });
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::UnmappedActivity);
    assert_eq!(
        p.conflicts[0].kimai.as_ref().map(|k| k.id),
        Some(TimesheetId(101))
    );
}

#[test]
fn timesheets_outside_the_base_are_never_deleted() {
    let mut w = World::new();
    // A marked timesheet of ours whose key is in neither D nor B, and an unmarked one.
    w.kimai.push(timesheet_for(&desired(9, 0, 30), 500));
    let mut other = timesheet_for(&desired(8, 60, 30), 501);
    other.description = None;
    w.kimai.push(other);
    assert_eq!(w.plan(), Plan::default());
}

#[test]
fn a_linked_timesheet_is_not_adopted_again_for_another_key() {
    // Timesheet 101 carries ta:1's marker and is linked to ta:1; ta:2 must not adopt it.
    let mut w = World::synced(1);
    w.kimai[0].description = Some("[zammad:ta=2]".into());
    w.base[0].echoed.description = Some("[zammad:ta=2]".into());
    w.desired.push(desired(2, 60, 30));
    let p = w.plan();
    assert!(p.adopted.is_empty());
    assert!(
        p.operations
            .iter()
            .any(|o| matches!(o, Operation::Create { desired } if desired.key.as_str() == "ta:2"))
    );
}

#[test]
fn contradictory_inputs_are_typed_errors() {
    let mut w = World::new();
    w.desired = vec![desired(1, 0, 30), desired(1, 5, 30)];
    assert!(matches!(
        w.try_plan(),
        Err(PlanError::DuplicateDesiredKey(_))
    ));

    let mut w = World::synced(1);
    w.base.push(w.base[0].clone());
    assert!(matches!(w.try_plan(), Err(PlanError::DuplicateBaseKey(_))));

    let mut w = World::synced(1);
    let mut other = w.base[0].clone();
    other.key = EntryKey("ta:2".into());
    w.base.push(other);
    assert!(matches!(
        w.try_plan(),
        Err(PlanError::TimesheetLinkedTwice(TimesheetId(101)))
    ));

    let mut w = World::synced(1);
    w.unresolved.push(Unresolved {
        key: EntryKey("ta:1".into()),
        ticket_id: TICKET,
        blocker: Blocker::NeedsCreation { actions: vec![] },
    });
    assert!(matches!(
        w.try_plan(),
        Err(PlanError::KeyBothReadyAndBlocked(_))
    ));
}

#[test]
fn applying_a_plan_then_planning_again_is_quiet_even_when_kimai_rounds() {
    let mut fake = FakeKimai {
        round_end_to_min: Some(15),
        ..Default::default()
    };
    let desired_now = vec![desired(1, 0, 31), desired(2, 60, 10)];
    let run = |fake: &FakeKimai| {
        let base = fake.base_list();
        let kimai = fake.kimai_list();
        plan(&PlanInput {
            ticket_id: TICKET,
            desired: &desired_now,
            unresolved: &[],
            base: &base,
            kimai: &kimai,
            zammad_complete: true,
            approval_required: false,
            rounding: Rounding::NONE,
            create_anyway: &[],
            ignored: &[],
            locked_until: &Default::default(),
        })
        .unwrap()
    };
    let first = run(&fake);
    assert_eq!(first.operations.len(), 2);
    fake.apply(&first);
    assert_eq!(
        fake.timesheets.values().next().unwrap().duration_secs,
        45 * 60
    );
    assert_eq!(run(&fake), Plan::default());
}

#[test]
fn create_anyway_skips_the_duplicate_check() {
    let mut w = World::new();
    let d = desired(1, 0, 30);
    let mut by_hand = timesheet_for(&d, 55);
    by_hand.description = None;
    w.kimai.push(by_hand);
    w.desired.push(d);
    assert_eq!(only_conflict(&w.plan()), ConflictReason::ProbableDuplicate);
    w.create_anyway.push(EntryKey("ta:1".into()));
    assert!(matches!(
        &w.plan().operations[..],
        [Operation::Create { .. }]
    ));
}

#[test]
fn ignored_keys_get_neither_operations_nor_conflicts() {
    // An accepted deletion in Kimai stays accepted.
    let mut w = World::synced(1);
    w.kimai.clear();
    w.ignored.push(EntryKey("ta:1".into()));
    assert_eq!(w.plan(), Plan::default());
    // An accepted orphan is not deleted either.
    let mut w = World::synced(1);
    w.desired.clear();
    w.ignored.push(EntryKey("ta:1".into()));
    assert_eq!(w.plan(), Plan::default());
    // Other keys are still planned.
    w.desired.push(desired(2, 60, 30));
    assert_eq!(w.plan().operations.len(), 1);
}

/// The day of `desired(..)` (2026-05-04 in Berlin), and project 2's lock on it or the day before.
fn lock_day(days_after: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, 4).unwrap() + Duration::days(days_after)
}

#[test]
fn a_create_on_a_locked_day_is_project_locked_and_one_after_it_is_created() {
    let mut w = World::new();
    w.desired.push(desired(1, 0, 30));
    w.locked_until.insert(ProjectId(2), lock_day(0));
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::ProjectLocked);
    assert!(
        p.conflicts[0].detail.contains("locked until 2026-05-04"),
        "{}",
        p.conflicts[0].detail
    );
    // Locked until the day before: the day is open again.
    w.locked_until.insert(ProjectId(2), lock_day(-1));
    assert!(matches!(
        w.plan().operations[..],
        [Operation::Create { .. }]
    ));
    // Another project's lock does not matter.
    w.locked_until = HashMap::from([(ProjectId(9), lock_day(30))]);
    assert!(matches!(
        w.plan().operations[..],
        [Operation::Create { .. }]
    ));
}

#[test]
fn an_update_from_or_into_a_locked_day_is_project_locked() {
    let mut w = World::synced(1);
    w.desired[0] = desired(1, 0, 45);
    w.locked_until.insert(ProjectId(2), lock_day(0));
    assert_eq!(only_conflict(&w.plan()), ConflictReason::ProjectLocked);
    // Moved a day later in Zammad: the timesheet still sits on the locked day.
    w.desired[0] = desired(1, 24 * 60, 45);
    assert_eq!(only_conflict(&w.plan()), ConflictReason::ProjectLocked);
    // The timesheet is after the lock, the change would move it into it.
    let mut w = World::synced(1);
    w.desired[0] = desired(1, -24 * 60, 30);
    w.locked_until.insert(ProjectId(2), lock_day(-1));
    assert_eq!(only_conflict(&w.plan()), ConflictReason::ProjectLocked);
    // Nothing to change: no conflict, locked or not.
    let mut w = World::synced(1);
    w.locked_until.insert(ProjectId(2), lock_day(0));
    assert!(w.plan().conflicts.is_empty());
}

#[test]
fn a_delete_on_a_locked_day_is_project_locked() {
    let mut w = World::synced(1);
    w.desired.clear();
    w.locked_until.insert(ProjectId(2), lock_day(3));
    let p = w.plan();
    assert_eq!(only_conflict(&p), ConflictReason::ProjectLocked);
    assert!(p.conflicts[0].kimai.is_some());
    w.locked_until.clear();
    assert!(matches!(
        w.plan().operations[..],
        [Operation::Delete { .. }]
    ));
}

#[test]
fn an_exported_timesheet_in_a_locked_project_is_exported_first() {
    let mut w = World::synced(1);
    w.desired[0] = desired(1, 0, 45);
    w.kimai[0].exported = true;
    w.locked_until.insert(ProjectId(2), lock_day(0));
    assert_eq!(only_conflict(&w.plan()), ConflictReason::LockedOrExported);
}
