//! The plan of one ticket: the core's planner over what the earlier steps gathered (desired
//! timesheets, the base, Kimai's state) and the policy, project locks and decisions that
//! shape it.

use super::context::Context;
use super::decisions::Decided;
use super::desired::Wanted;
use sync_core::ids::TicketId;
use sync_core::kimai::Timesheet;
use sync_core::plan::{Base, Plan};
use sync_core::planner::{PlanError, PlanInput, plan};

pub(super) fn plan_ticket(
    ticket_id: TicketId,
    ctx: &Context,
    wanted: &Wanted,
    base: &[Base],
    kimai: &[Timesheet],
    zammad_complete: bool,
    decided: &Decided,
) -> Result<Plan, PlanError> {
    plan(&PlanInput {
        ticket_id,
        desired: &wanted.desired,
        unresolved: &wanted.unresolved,
        base,
        kimai,
        zammad_complete,
        approval_required: ctx.policy.approval_required,
        rounding: ctx.policy.rounding,
        create_anyway: decided.create_anyway(),
        ignored: decided.ignored(),
        locked_until: ctx.catalog.project_locks(),
    })
}
