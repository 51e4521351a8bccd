//! Zammad's time → desired timesheets: normalised, and resolved by the core against the
//! catalog, mappings and policy. Keys the mappings cannot place stay unresolved. With
//! auto-create `on` (and not in a dry run), the Kimai customers and projects they wait for are
//! created here, and the ticket is resolved again, so its entries are written in this run.

use super::context::{Context, InvocationCache};
use super::read_zammad::ZammadSide;
use super::{ReconcileError, Reconciler};
use crate::autocreate::{AutoCreated, describe, find_or_create, refused_reason};
use std::collections::BTreeSet;
use std::sync::Arc;
use sync_core::desired::DesiredTimesheet;
use sync_core::ids::TicketId;
use sync_core::mapping::{AutoCreate, Blocker, TicketFacts, Unresolved, resolve_all, zones_for};
use sync_core::needed_action::NeededAction;
use sync_core::normalise::{TimedEntry, normalise};
use sync_core::placement::Taken;
use sync_core::plan::Plan;
use sync_core::subject::name_subjects;

/// Rounds of auto-create per ticket: a customer, then its project, then a last resolve.
const MAX_PROVISION_ROUNDS: usize = 3;

/// What Zammad's time of one ticket should be in Kimai.
#[derive(Clone)]
pub(super) struct Wanted {
    /// The normalised accountings (or aggregates), resolved or not.
    pub(super) entries: Vec<TimedEntry>,
    pub(super) desired: Vec<DesiredTimesheet>,
    pub(super) unresolved: Vec<Unresolved>,
    /// The Kimai customers and projects auto-create made or found, with what happened to each.
    pub(super) auto_created: Vec<(NeededAction, AutoCreated)>,
}

impl Reconciler {
    /// The ticket resolved against `ctx`, after auto-create if the policy asks for it; answers
    /// the context too, which is read again when auto-create changed the catalog.
    pub(super) async fn desired(
        &self,
        cache: &InvocationCache,
        mut ctx: Arc<Context>,
        zammad: &ZammadSide,
        ticket_id: TicketId,
        dry_run: bool,
    ) -> Result<(Arc<Context>, Wanted), ReconcileError> {
        let nothing = Taken::default();
        let (mut entries, mut desired, mut unresolved) =
            self.resolve_ticket(cache, &ctx, zammad, &nothing).await?;
        if !unresolved.is_empty() && ctx.catalog_cached {
            // The cached catalog may predate a user, project or activity added since.
            ctx = self.catalog_missed(cache).await?;
            (entries, desired, unresolved) =
                self.resolve_ticket(cache, &ctx, zammad, &nothing).await?;
        }
        let mut auto_created: Vec<(NeededAction, AutoCreated)> = Vec::new();
        // Auto-create: make what is missing, re-read the catalog and resolve again, so the
        // entries are written in this run. A customer comes before its project, so a ticket
        // may need two rounds (and a third to resolve).
        if !dry_run && ctx.policy.mappings.customer_auto_create == AutoCreate::On {
            for _ in 0..MAX_PROVISION_ROUNDS {
                let changed = self
                    .create_needed(ticket_id, &ctx, &unresolved, &mut auto_created)
                    .await?;
                if !changed {
                    break;
                }
                ctx = self.refresh_context(cache).await?;
                (entries, desired, unresolved) =
                    self.resolve_ticket(cache, &ctx, zammad, &nothing).await?;
            }
            refused_to_conflicts(&mut unresolved, &auto_created);
        }
        let wanted = Wanted {
            entries,
            desired,
            unresolved,
            auto_created,
        };
        Ok((ctx, wanted))
    }

    /// The ticket placed again around what Kimai holds on its days (`taken`): other bookings
    /// of its agents are avoided, and its own timesheets stay where they are. Nothing taken:
    /// `wanted` as it was.
    pub(super) async fn place_around(
        &self,
        cache: &InvocationCache,
        ctx: &Context,
        zammad: &ZammadSide,
        wanted: &Wanted,
        taken: &Taken,
    ) -> Result<Wanted, ReconcileError> {
        if taken.busy.is_empty() && taken.pinned.is_empty() {
            return Ok(wanted.clone());
        }
        let (entries, desired, mut unresolved) =
            self.resolve_ticket(cache, ctx, zammad, taken).await?;
        refused_to_conflicts(&mut unresolved, &wanted.auto_created);
        Ok(Wanted {
            entries,
            desired,
            unresolved,
            auto_created: wanted.auto_created.clone(),
        })
    }

    /// Zammad → desired timesheets and blocked keys, against `ctx`'s catalog and policy, placed
    /// around what is `taken`.
    async fn resolve_ticket(
        &self,
        cache: &InvocationCache,
        ctx: &Context,
        zammad: &ZammadSide,
        taken: &Taken,
    ) -> Result<(Vec<TimedEntry>, Vec<DesiredTimesheet>, Vec<Unresolved>), ReconcileError> {
        let Some(ticket) = &zammad.ticket else {
            return Ok((Vec::new(), Vec::new(), Vec::new()));
        };
        let policy = &ctx.policy;
        let zones = zones_for(
            &zammad.agents,
            &policy.mappings,
            &ctx.catalog,
            ctx.default_zone,
        );
        let time_policy = policy.time_policy(self.zammad_settings.time_unit);
        let normalised = normalise(&zammad.accountings, &time_policy, &zones, taken)?;
        let type_names = self.type_names(cache).await?;
        let facts = TicketFacts {
            ticket,
            organisation: zammad.organisation.as_ref(),
            agents: &zammad.agents,
            type_names: &type_names,
        };
        let (desired, unresolved) =
            resolve_all(&normalised.entries, &facts, &policy.mappings, &ctx.catalog);
        Ok((normalised.entries, desired, unresolved))
    }

    /// Names who and what `plan`'s conflicts are about, from the ticket's Zammad side (nothing
    /// for a ticket Zammad no longer has).
    pub(super) async fn name_subjects(
        &self,
        cache: &InvocationCache,
        zammad: &ZammadSide,
        entries: &[TimedEntry],
        plan: &mut Plan,
    ) -> Result<(), ReconcileError> {
        let Some(ticket) = &zammad.ticket else {
            return Ok(());
        };
        let type_names = self.type_names(cache).await?;
        let facts = TicketFacts {
            ticket,
            organisation: zammad.organisation.as_ref(),
            agents: &zammad.agents,
            type_names: &type_names,
        };
        name_subjects(plan, entries, &facts);
        Ok(())
    }

    /// One round of auto-create: performs the needed actions not tried yet. Answers whether a
    /// record was created or found, i.e. whether resolving again can get further; nothing left
    /// to do, or only refusals, ends the rounds.
    async fn create_needed(
        &self,
        ticket_id: TicketId,
        ctx: &Context,
        unresolved: &[Unresolved],
        auto_created: &mut Vec<(NeededAction, AutoCreated)>,
    ) -> Result<bool, ReconcileError> {
        let actions: BTreeSet<NeededAction> = needed_actions(unresolved)
            .filter(|a| !auto_created.iter().any(|(done, _)| done == *a))
            .cloned()
            .collect();
        let mut changed = false;
        for action in actions {
            let outcome = find_or_create(self.kimai.as_ref(), ctx.default_zone, &action).await?;
            changed |= !matches!(outcome, AutoCreated::Refused { .. });
            self.audit_auto_created(ticket_id, &action, &outcome)
                .await?;
            auto_created.push((action, outcome));
        }
        Ok(changed)
    }

    /// One audit event per needed action handled: created, found, or refused by Kimai.
    async fn audit_auto_created(
        &self,
        ticket_id: TicketId,
        action: &NeededAction,
        outcome: &AutoCreated,
    ) -> Result<(), ReconcileError> {
        let (event, id, message) = match outcome {
            AutoCreated::Created { id } => ("kimai.record_created", Some(*id), None),
            AutoCreated::Found { id } => ("kimai.record_found", Some(*id), None),
            AutoCreated::Refused { message } => ("kimai.record_refused", None, Some(message)),
        };
        tracing::info!(event, what = %describe(action), ?id, ?message, "needed Kimai record");
        self.stores
            .audit(
                event,
                serde_json::json!({
                    "ticket_id": ticket_id.0,
                    "action": action,
                    "what": describe(action),
                    "kimai_id": id,
                    "message": message,
                }),
            )
            .await?;
        Ok(())
    }
}

/// The create actions the blocked keys wait for.
fn needed_actions(unresolved: &[Unresolved]) -> impl Iterator<Item = &NeededAction> {
    unresolved.iter().flat_map(|u| match &u.blocker {
        Blocker::NeedsCreation { actions } => actions.as_slice(),
        Blocker::Conflict { .. } => &[],
    })
}

/// Keys waiting for a record Kimai refused to create become conflicts carrying Kimai's message,
/// so a human sees why (rather than the keys staying pending without a word).
fn refused_to_conflicts(
    unresolved: &mut [Unresolved],
    auto_created: &[(NeededAction, AutoCreated)],
) {
    for u in unresolved {
        let Blocker::NeedsCreation { actions } = &u.blocker else {
            continue;
        };
        let refused = auto_created.iter().find_map(|(a, outcome)| match outcome {
            AutoCreated::Refused { message } if actions.contains(a) => Some((a, message)),
            _ => None,
        });
        if let Some((action, message)) = refused {
            u.blocker = Blocker::Conflict {
                reason: refused_reason(action),
                detail: format!("Kimai refused to create {}: {message}", describe(action)),
            };
        }
    }
}
