//! The reconcile step: plan one ticket and hand its writes to the `kimai-write` queue.
//!
//! Per `ticket-sync` message: read the ticket, its accountings, agents and organisation from
//! Zammad; normalise and resolve them with the core against the Kimai catalog, mappings and
//! policy; load the stored base (one query) and Kimai's current state (linked ids, marker
//! matches, look-alikes on the same users' days); plan; then persist entry states, links and
//! conflicts and enqueue one [`KimaiWriteMessage`] per operation, with an id derived from the
//! operation so a retried reconcile enqueues nothing new. A dry run stops after planning.
//!
//! The Kimai catalog, the API user and the policy are read once per invocation
//! ([`InvocationCache`]), not per ticket.

use crate::batch::QueueRecord;
use crate::decisions::{TicketDecisions, load_ticket_decisions};
use crate::identity::{conflict_id, operation_id, planned_context};
use crate::policies::{PolicyError, SyncPolicy, load_sync_policy};
use crate::provision::{Provisioned, describe, provision, refused_reason};
use crate::settings::ZammadConnection;
use crate::sync_stores::{SYSTEM_ACTOR, SyncStores};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use kimai_client::{CurrentUser, KimaiClient, KimaiError, TimesheetQuery, UserFilter};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use sync_core::aggregation::Aggregation;
use sync_core::catalog::{Catalog, KimaiActivity, KimaiCustomer, KimaiProject, KimaiUser};
use sync_core::desired::{DesiredTimesheet, EntryKey};
use sync_core::ids::{AccountingId, AccountingTypeId, KimaiUserId, TicketId, TimesheetId};
use sync_core::kimai::Timesheet;
use sync_core::mapping::{
    AutoCreate, Blocker, NeededAction, TicketFacts, Unresolved, resolve_all, zones_for,
};
use sync_core::marker::Marker;
use sync_core::normalise::{NormaliseError, TimedEntry, normalise};
use sync_core::plan::{Base, Conflict, ConflictReason, Operation, Plan};
use sync_core::planner::{PlanError, PlanInput, plan};
use sync_core::zammad::{Organisation, Ticket, TimeAccounting, ZammadUser};
use sync_core::zone::{day_bounds, parse_zone, utc_to_local};
use sync_store::conflicts::{
    ConflictFilter, ConflictId, ConflictStatus, Resolution, ResolutionEffect, ResolveOutcome,
};
use sync_store::control::RunCounters;
use sync_store::entries::{EntryRecord, EntryStatus, ExpectedLink, LinkOutcome};
use sync_store::queue::{
    DecodeError, KimaiWriteMessage, MessageQueue, SendFailure, TicketSyncMessage, decode,
};
use sync_store::schema::TICKET_SYNC_QUEUE;
use sync_store::{PageRequest, StoreError};
use thiserror::Error;
use tokio::sync::{Mutex, OnceCell};
use zammad_client::{ZammadClient, ZammadError};

/// Why a ticket could not be reconciled, and so whether SQS should try again.
#[derive(Debug, Error)]
pub enum ReconcileError {
    /// The body is not a `ticket-sync` message: never retryable, it dead-letters.
    #[error("undecodable ticket-sync message: {0}")]
    BadMessage(#[from] DecodeError),
    #[error("Zammad: {0}")]
    Zammad(#[from] ZammadError),
    #[error("Kimai: {0}")]
    Kimai(#[from] KimaiError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// The Zammad connection settings cannot be used (e.g. an unknown default zone).
    #[error("Zammad connection settings: {0}")]
    ZammadSettings(String),
    /// The API user's zone from Kimai is not an IANA zone: a Kimai configuration problem.
    #[error("the Kimai API user's time zone {0:?} is not an IANA zone")]
    ApiUserZone(String),
    /// Zammad data the core refuses (e.g. an amount out of range): a data problem.
    #[error("the ticket's accountings cannot be normalised: {0}")]
    Normalise(#[from] NormaliseError),
    /// Contradictory planner input: a bug, never fixed by retrying.
    #[error("planner refused its input: {0}")]
    Plan(#[from] PlanError),
    #[error("{failed} write messages were not enqueued: {first}")]
    Enqueue {
        failed: usize,
        retryable: bool,
        first: String,
    },
}

impl ReconcileError {
    /// Retry later (through SQS) or not: a non-retryable error still fails the record, so
    /// it reaches the DLQ after `maxReceiveCount` and can be replayed once fixed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ReconcileError::Zammad(e) => e.is_retryable(),
            ReconcileError::Kimai(e) => e.is_retryable(),
            ReconcileError::Store(e) => e.is_retryable(),
            ReconcileError::Policy(e) => e.is_retryable(),
            ReconcileError::Enqueue { retryable, .. } => *retryable,
            ReconcileError::BadMessage(_)
            | ReconcileError::ZammadSettings(_)
            | ReconcileError::ApiUserZone(_)
            | ReconcileError::Normalise(_)
            | ReconcileError::Plan(_) => false,
        }
    }
}

/// What one reconcile did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    pub ticket_id: TicketId,
    pub dry_run: bool,
    /// False when the ticket could not be read from Zammad (then nothing is deleted).
    pub zammad_complete: bool,
    pub creates: usize,
    pub updates: usize,
    pub deletes: usize,
    pub awaiting_approval: usize,
    pub adopted: usize,
    pub kimai_edits_respected: usize,
    pub links_dropped: usize,
    /// Every conflict of the plan (open ones included, also those opened earlier).
    pub conflicts: usize,
    /// Conflicts opened by this run (a retry opens none).
    pub conflicts_opened: usize,
    /// Open `unmapped_*` conflicts closed because the plan no longer reports them.
    pub conflicts_closed: usize,
    pub needed_actions: Vec<NeededAction>,
    /// Kimai customers and projects this run created or found for needed actions (auto-create
    /// `on`), with what happened to each.
    pub provisioned: Vec<(NeededAction, Provisioned)>,
    /// Messages put on the `kimai-write` queue.
    pub enqueued: usize,
    pub plan: Plan,
}

/// Rounds of auto-create per ticket: a customer, then its project, then a last resolve.
const MAX_PROVISION_ROUNDS: usize = 3;

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
    provisioned: &[(NeededAction, Provisioned)],
) {
    for u in unresolved {
        let Blocker::NeedsCreation { actions } = &u.blocker else {
            continue;
        };
        let refused = provisioned.iter().find_map(|(a, outcome)| match outcome {
            Provisioned::Refused { message } if actions.contains(a) => Some((a, message)),
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

/// Longest stretch of one user's timesheets read with a list call; beyond it, linked
/// timesheets are read by id.
pub const MAX_LIST_WINDOW_DAYS: i64 = 31;

/// Kimai facts and the policy, read once per Lambda invocation.
pub struct Context {
    pub api_user: CurrentUser,
    pub api_zone: Tz,
    pub catalog: Catalog,
    pub policy: SyncPolicy,
    pub default_zone: Tz,
}

/// One per invocation (batch): the first ticket loads the [`Context`], the others reuse it.
#[derive(Default)]
pub struct InvocationCache {
    /// Loaded by the first ticket; loaded again after a customer or project was created.
    context: Mutex<Option<Arc<Context>>>,
    type_names: OnceCell<HashMap<AccountingTypeId, String>>,
}

impl InvocationCache {
    pub fn new() -> Self {
        Self::default()
    }
}

pub struct Reconciler {
    pub zammad: ZammadClient,
    /// The unit of `time_unit` and the default zone of the Zammad connection.
    pub zammad_settings: ZammadConnection,
    pub kimai: KimaiClient,
    pub stores: SyncStores,
    pub writes: Arc<dyn MessageQueue<KimaiWriteMessage>>,
    /// The `maxReceiveCount` of the ticket-sync queue as deployed (the schema's value on AWS):
    /// a failure on that delivery is the last one and is counted and audited as a dead letter.
    pub max_receive_count: u32,
}

/// What one plan was made from and decided, for persisting it.
#[derive(Clone, Copy)]
struct PlanState<'a> {
    records: &'a [EntryRecord],
    entries: &'a [TimedEntry],
    desired: &'a [DesiredTimesheet],
    unresolved: &'a [Unresolved],
    planned: &'a Plan,
    zammad_complete: bool,
}

/// Zammad's side of one ticket.
struct ZammadSide {
    ticket: Option<Ticket>,
    accountings: Vec<TimeAccounting>,
    agents: HashMap<sync_core::ids::ZammadUserId, ZammadUser>,
    organisation: Option<Organisation>,
    complete: bool,
}

impl Reconciler {
    /// Decodes a raw body and reconciles it; an undecodable body is audited as dropped.
    pub async fn reconcile_body(
        &self,
        cache: &InvocationCache,
        message_id: &str,
        body: &str,
    ) -> Result<ReconcileReport, ReconcileError> {
        let message: TicketSyncMessage = match decode(body) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(message_id, error = %e, "undecodable ticket-sync message; it will dead-letter");
                // Auditing is best effort here: the message fails either way.
                if let Err(audit_err) = self
                    .stores
                    .audit(
                        "message.undecodable",
                        serde_json::json!({"queue": "ticket-sync", "message_id": message_id, "error": e.to_string()}),
                    )
                    .await
                {
                    tracing::warn!(error = %audit_err, "could not audit the undecodable message");
                }
                return Err(e.into());
            }
        };
        self.reconcile(cache, &message).await
    }

    /// [`Reconciler::reconcile_body`] for one queue record; a failure on the last delivery is
    /// counted in the run and audited as a dead letter.
    pub async fn reconcile_record(
        &self,
        cache: &InvocationCache,
        record: &QueueRecord,
    ) -> Result<ReconcileReport, ReconcileError> {
        let result = self
            .reconcile_body(cache, &record.message_id, &record.body)
            .await;
        if let Err(e) = &result {
            if record.is_last_attempt(self.max_receive_count) {
                let run = decode::<TicketSyncMessage>(&record.body)
                    .ok()
                    .and_then(|m| m.run_id);
                self.stores
                    .dead_lettered(
                        TICKET_SYNC_QUEUE.logical,
                        &record.message_id,
                        run.as_ref(),
                        &e.to_string(),
                    )
                    .await;
            }
        }
        result
    }

    pub async fn context(&self, cache: &InvocationCache) -> Result<Arc<Context>, ReconcileError> {
        // Held across the load so concurrent tickets of a batch load it once.
        let mut slot = cache.context.lock().await;
        if let Some(ctx) = slot.as_ref() {
            return Ok(ctx.clone());
        }
        let ctx = Arc::new(self.load_context().await?);
        *slot = Some(ctx.clone());
        Ok(ctx)
    }

    /// Reads the catalog (and policy) again, for this ticket and the rest of the batch: after
    /// a creation the old catalog would block the same entries again.
    async fn refresh_context(
        &self,
        cache: &InvocationCache,
    ) -> Result<Arc<Context>, ReconcileError> {
        let mut slot = cache.context.lock().await;
        let ctx = Arc::new(self.load_context().await?);
        *slot = Some(ctx.clone());
        Ok(ctx)
    }

    async fn load_context(&self) -> Result<Context, ReconcileError> {
        let k = &self.kimai;
        let (me, customers, projects, activities, users) = tokio::try_join!(
            k.me(),
            k.customers(None),
            k.projects(None, None),
            k.activities(None, None),
            k.users(None),
        )?;
        let api_zone = parse_zone(&me.timezone)
            .map_err(|_| ReconcileError::ApiUserZone(me.timezone.clone()))?;
        let policy = load_sync_policy(self.stores.control.as_ref(), me.id).await?;
        let default_zone = self
            .zammad_settings
            .zone()
            .map_err(ReconcileError::ZammadSettings)?;
        let catalog = Catalog::new(
            &customers
                .into_iter()
                .map(|c| KimaiCustomer {
                    id: c.id,
                    name: c.name,
                    number: c.number,
                })
                .collect::<Vec<_>>(),
            &projects
                .into_iter()
                .map(|p| KimaiProject {
                    id: p.id,
                    name: p.name,
                    customer: p.customer,
                    number: p.number,
                })
                .collect::<Vec<_>>(),
            &activities
                .into_iter()
                .map(|a| KimaiActivity {
                    id: a.id,
                    name: a.name,
                    project: a.project,
                })
                .collect::<Vec<_>>(),
            &users
                .into_iter()
                .map(|u| KimaiUser {
                    id: u.id,
                    username: u.username,
                    email: u.email,
                    timezone: u.timezone,
                })
                .collect::<Vec<_>>(),
        );
        Ok(Context {
            api_user: me,
            api_zone,
            catalog,
            policy,
            default_zone,
        })
    }

    /// Names of accounting types for the description template. Reading them needs an admin
    /// token; without one the template's `{type}` stays empty rather than failing the ticket.
    async fn type_names(
        &self,
        cache: &InvocationCache,
    ) -> Result<HashMap<AccountingTypeId, String>, ReconcileError> {
        cache
            .type_names
            .get_or_try_init(|| async {
                match self.zammad.accounting_types().await {
                    Ok(types) => Ok(types.into_iter().map(|t| (t.id, t.name)).collect()),
                    Err(e) if e.is_permission_denied() => {
                        tracing::info!(
                            "accounting types need an admin token; {{type}} stays empty"
                        );
                        Ok(HashMap::new())
                    }
                    Err(e) => Err(ReconcileError::Zammad(e)),
                }
            })
            .await
            .cloned()
    }

    async fn read_zammad(&self, ticket_id: TicketId) -> Result<ZammadSide, ReconcileError> {
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
        let organisation = match ticket.organization_id {
            None => None,
            Some(org) => match self.zammad.organisation(org).await {
                Ok(o) => Some(o),
                Err(ZammadError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            },
        };
        Ok(ZammadSide {
            ticket: Some(ticket),
            accountings,
            agents,
            organisation,
            complete: true,
        })
    }

    /// Zammad → desired timesheets and blocked keys, against `ctx`'s catalog and policy.
    async fn resolve_ticket(
        &self,
        cache: &InvocationCache,
        ctx: &Context,
        zammad: &ZammadSide,
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
        let normalised = normalise(&zammad.accountings, &time_policy, &zones, &[])?;
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

    /// One audit event per needed action handled: created, found, or refused by Kimai.
    async fn audit_provisioned(
        &self,
        ticket_id: TicketId,
        action: &NeededAction,
        outcome: &Provisioned,
    ) -> Result<(), ReconcileError> {
        let (event, id, message) = match outcome {
            Provisioned::Created { id } => ("kimai.record_created", Some(*id), None),
            Provisioned::Found { id } => ("kimai.record_found", Some(*id), None),
            Provisioned::Refused { message } => ("kimai.record_refused", None, Some(message)),
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

    /// Plans one ticket and, unless it is a dry run, records and enqueues the plan.
    #[tracing::instrument(skip(self, cache, message), fields(ticket_id = message.ticket_id.0, dry_run = message.dry_run))]
    pub async fn reconcile(
        &self,
        cache: &InvocationCache,
        message: &TicketSyncMessage,
    ) -> Result<ReconcileReport, ReconcileError> {
        let ticket_id = message.ticket_id;
        let mut ctx = self.context(cache).await?;
        let zammad = self.read_zammad(ticket_id).await?;
        let (mut entries, mut desired, mut unresolved) =
            self.resolve_ticket(cache, &ctx, &zammad).await?;

        // Auto-create: make what is missing, re-read the catalog and resolve again, so the
        // entries are written in this run. A customer comes before its project, so a ticket
        // may need two rounds (and a third to resolve).
        let mut provisioned: Vec<(NeededAction, Provisioned)> = Vec::new();
        if !message.dry_run && ctx.policy.mappings.customer_auto_create == AutoCreate::On {
            for _ in 0..MAX_PROVISION_ROUNDS {
                let actions: BTreeSet<NeededAction> = needed_actions(&unresolved)
                    .filter(|a| !provisioned.iter().any(|(done, _)| done == *a))
                    .cloned()
                    .collect();
                if actions.is_empty() {
                    break;
                }
                let mut changed = false;
                for action in actions {
                    let outcome = provision(&self.kimai, ctx.default_zone, &action).await?;
                    changed |= !matches!(outcome, Provisioned::Refused { .. });
                    self.audit_provisioned(ticket_id, &action, &outcome).await?;
                    provisioned.push((action, outcome));
                }
                if !changed {
                    break;
                }
                ctx = self.refresh_context(cache).await?;
                (entries, desired, unresolved) = self.resolve_ticket(cache, &ctx, &zammad).await?;
            }
            refused_to_conflicts(&mut unresolved, &provisioned);
        }
        let policy = &ctx.policy;

        // Base: one query.
        let records = self.stores.entries.load_ticket(ticket_id).await?;
        let mut base: Vec<Base> = records.iter().filter_map(|r| r.base.clone()).collect();

        let mut kimai = self.read_kimai(&ctx, ticket_id, &desired, &base).await?;
        let decisions = load_ticket_decisions(self.stores.control.as_ref(), ticket_id).await?;
        if !message.dry_run {
            self.apply_decisions(ticket_id, &decisions, &records, &mut base, &mut kimai)
                .await?;
        }

        let planned = plan(&PlanInput {
            ticket_id,
            desired: &desired,
            unresolved: &unresolved,
            base: &base,
            kimai: &kimai,
            zammad_complete: zammad.complete,
            approval_required: policy.approval_required,
            rounding: policy.rounding,
            create_anyway: &decisions.create_anyway,
            ignored: &decisions.ignored,
        })?;

        let mut report = ReconcileReport {
            ticket_id,
            dry_run: message.dry_run,
            zammad_complete: zammad.complete,
            creates: count_ops(&planned, |o| matches!(o, Operation::Create { .. })),
            updates: count_ops(&planned, |o| matches!(o, Operation::Update { .. })),
            deletes: count_ops(&planned, |o| matches!(o, Operation::Delete { .. })),
            awaiting_approval: planned.awaiting_approval.len(),
            adopted: planned.adopted.len(),
            kimai_edits_respected: planned.kimai_edits_respected.len(),
            links_dropped: planned.links_to_drop.len(),
            conflicts: planned.conflicts.len(),
            conflicts_opened: 0,
            conflicts_closed: 0,
            needed_actions: planned.needed_actions.clone(),
            provisioned,
            enqueued: 0,
            plan: Plan::default(),
        };

        if message.dry_run {
            // The run shows what a real run would do: the same counters, nothing written.
            let would_open = self.conflicts_to_open(ticket_id, &planned).await?.len();
            report.conflicts_opened = would_open;
            tracing::info!(
                creates = report.creates,
                updates = report.updates,
                deletes = report.deletes,
                adopted = report.adopted,
                conflicts = would_open,
                "dry run: nothing persisted or enqueued"
            );
            self.stores
                .count(
                    message.run_id.as_ref(),
                    &RunCounters {
                        tickets_done: 1,
                        created: report.creates as u64,
                        updated: report.updates as u64,
                        deleted: report.deletes as u64,
                        adopted: report.adopted as u64,
                        conflicts: would_open as u64,
                        ..RunCounters::default()
                    },
                )
                .await?;
            report.plan = planned;
            return Ok(report);
        }

        self.persist(
            ticket_id,
            PlanState {
                records: &records,
                entries: &entries,
                desired: &desired,
                unresolved: &unresolved,
                planned: &planned,
                zammad_complete: zammad.complete,
            },
        )
        .await?;
        report.conflicts_opened = self.open_conflicts(ticket_id, &planned).await?;
        report.conflicts_closed = self
            .close_fixed_mapping_conflicts(ticket_id, &records, &planned)
            .await?;
        report.enqueued = self
            .enqueue(message, &zammad.accountings, &planned, &decisions)
            .await?;

        if !planned.needed_actions.is_empty() {
            // Auto-create is off (or after review) for these: the keys stay blocked (pending)
            // and the audit log says what is needed.
            tracing::warn!(actions = ?planned.needed_actions, "Kimai records must be created before these entries can sync");
        }
        self.stores
            .count(
                message.run_id.as_ref(),
                &RunCounters {
                    tickets_done: 1,
                    // Reconcile links adoptions itself; creates, updates and deletes are
                    // counted by the writer once they happened.
                    adopted: report.adopted as u64,
                    conflicts: report.conflicts_opened as u64,
                    ..RunCounters::default()
                },
            )
            .await?;
        self.stores
            .audit(
                "ticket.reconcile",
                serde_json::json!({
                    "ticket_id": ticket_id.0,
                    "reason": message.reason,
                    "run_id": message.run_id,
                    "zammad_complete": report.zammad_complete,
                    "creates": report.creates,
                    "updates": report.updates,
                    "deletes": report.deletes,
                    "awaiting_approval": report.awaiting_approval,
                    "adopted": report.adopted,
                    "kimai_edits_respected": report.kimai_edits_respected,
                    "conflicts": report.conflicts,
                    "conflicts_opened": report.conflicts_opened,
                    "conflicts_closed": report.conflicts_closed,
                    "needed_actions": report.needed_actions,
                    "enqueued": report.enqueued,
                }),
            )
            .await?;
        tracing::info!(
            creates = report.creates,
            updates = report.updates,
            deletes = report.deletes,
            conflicts = report.conflicts,
            enqueued = report.enqueued,
            "ticket reconciled"
        );
        report.plan = planned;
        Ok(report)
    }

    /// K: linked timesheets, marker matches of unlinked keys, and the timesheets of the same
    /// users around the same days (probable duplicates).
    ///
    /// Linked timesheets are read with one list call per Kimai user over the days they are on
    /// (so an unchanged ticket costs a list call per agent, not a read per timesheet); one that
    /// is not in its window (moved or reassigned by hand) is then read by id. A user whose
    /// entries span more than [`MAX_LIST_WINDOW_DAYS`] is read by id instead of listing a long
    /// stretch of unrelated timesheets.
    async fn read_kimai(
        &self,
        ctx: &Context,
        ticket_id: TicketId,
        desired: &[DesiredTimesheet],
        base: &[Base],
    ) -> Result<Vec<Timesheet>, KimaiError> {
        let mut found: BTreeMap<TimesheetId, Timesheet> = BTreeMap::new();
        let linked: HashSet<&EntryKey> = base.iter().map(|b| &b.key).collect();
        let unlinked: Vec<&EntryKey> = desired
            .iter()
            .map(|d| &d.key)
            .filter(|k| !linked.contains(k))
            .collect();
        let wanted: HashSet<&EntryKey> = unlinked.iter().copied().collect();

        // Windows per Kimai user: the echoes of linked keys, and the whole local days of
        // unlinked desired keys (look-alikes are compared per day).
        type Window = (DateTime<Utc>, DateTime<Utc>);
        fn widen(windows: &mut BTreeMap<KimaiUserId, Window>, user: KimaiUserId, w: Window) {
            windows
                .entry(user)
                .and_modify(|(from, to)| {
                    *from = (*from).min(w.0);
                    *to = (*to).max(w.1);
                })
                .or_insert(w);
        }
        let mut linked_windows: BTreeMap<KimaiUserId, Window> = BTreeMap::new();
        for b in base {
            let begin = b.echoed.begin.with_timezone(&Utc);
            let end = b.echoed.end.map_or(begin, |e| e.with_timezone(&Utc));
            widen(&mut linked_windows, b.echoed.user, (begin, end));
        }
        let mut day_windows: BTreeMap<KimaiUserId, Window> = BTreeMap::new();
        for d in desired.iter().filter(|d| wanted.contains(&d.key)) {
            let zone = parse_zone(&d.zone).unwrap_or(ctx.default_zone);
            let (start, end) = day_bounds(zone, d.day);
            widen(
                &mut day_windows,
                d.user,
                (start, end - Duration::seconds(1)),
            );
        }
        let max_span = Duration::days(MAX_LIST_WINDOW_DAYS);
        let mut windows = day_windows.clone();
        for (user, w) in linked_windows {
            let mut merged = windows.clone();
            widen(&mut merged, user, w);
            if merged[&user].1 - merged[&user].0 <= max_span {
                windows = merged;
            }
        }
        for (user, (from, to)) in windows {
            // The filter is wall-clock time in the API user's zone; an hour each side keeps a
            // DST change at the edge from cutting a timesheet off.
            let query = TimesheetQuery {
                user: UserFilter::One(user),
                begin: Some(utc_to_local(ctx.api_zone, from - Duration::hours(1))),
                end: Some(utc_to_local(ctx.api_zone, to + Duration::hours(1))),
                ..TimesheetQuery::default()
            };
            for t in self.kimai.list_timesheets(&query).await? {
                found.entry(t.id).or_insert(t);
            }
        }
        let missing: Vec<TimesheetId> = base
            .iter()
            .map(|b| b.kimai_id)
            .filter(|id| !found.contains_key(id))
            .collect();
        for id in missing {
            match self.kimai.timesheet(id).await {
                Ok(t) => {
                    found.insert(t.id, t);
                }
                Err(KimaiError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }

        // Marker matches, one `term` search per unlinked key (ours), plus one for the legacy
        // marker of the older tool, which names the ticket.
        let mut terms: Vec<String> = unlinked
            .iter()
            .filter_map(|k| Marker::for_key(k))
            .map(|m| m.search_term())
            .collect();
        let per_accounting = ctx.policy.aggregation == Aggregation::PerAccounting;
        if per_accounting && unlinked.iter().any(|k| k.as_str().starts_with("ta:")) {
            terms.push(
                Marker::Legacy {
                    ticket: ticket_id.0,
                    accounting: AccountingId(0),
                }
                .search_term(),
            );
        }
        for term in terms {
            let query = TimesheetQuery {
                term: Some(term),
                ..TimesheetQuery::default()
            };
            for t in self.kimai.list_timesheets(&query).await? {
                let ours = t
                    .description
                    .as_deref()
                    .and_then(Marker::parse)
                    .is_some_and(|m| wanted.contains(&m.key()));
                if ours {
                    found.entry(t.id).or_insert(t);
                }
            }
        }
        Ok(found.into_values().collect())
    }

    /// Entry states and links. Only records that change are written, so an unchanged ticket
    /// costs no store writes.
    async fn persist(&self, ticket_id: TicketId, state: PlanState<'_>) -> Result<(), StoreError> {
        let PlanState {
            records,
            entries,
            desired,
            unresolved,
            planned,
            zammad_complete,
        } = state;
        let now = self.stores.now();
        let existing: HashMap<&EntryKey, &EntryRecord> =
            records.iter().map(|r| (&r.key, r)).collect();
        let timed: HashMap<&EntryKey, &TimedEntry> = entries.iter().map(|e| (&e.key, e)).collect();
        let status = status_by_key(planned);

        let mut wanted: Vec<EntryRecord> = Vec::new();
        for d in desired {
            wanted.push(EntryRecord {
                ticket_id,
                key: d.key.clone(),
                agent_id: d.agent_id,
                day: d.day,
                status: status.get(&d.key).copied().unwrap_or(EntryStatus::Synced),
                desired: Some(d.clone()),
                base: None,
                updated_at: now,
            });
        }
        for u in unresolved {
            let (agent_id, day) = match (timed.get(&u.key), existing.get(&u.key)) {
                (Some(e), _) => (e.agent_id, e.begin_day()),
                (None, Some(r)) => (r.agent_id, r.day),
                (None, None) => continue,
            };
            let fallback = match u.blocker {
                Blocker::Conflict { .. } => EntryStatus::Conflict,
                // Waiting for a customer or project to be created in Kimai.
                Blocker::NeedsCreation { .. } => EntryStatus::Pending,
            };
            wanted.push(EntryRecord {
                ticket_id,
                key: u.key.clone(),
                agent_id,
                day,
                status: status.get(&u.key).copied().unwrap_or(fallback),
                desired: None,
                base: None,
                updated_at: now,
            });
        }
        let present: HashSet<&EntryKey> = wanted.iter().map(|r| &r.key).collect();
        // Keys only in the base: the Zammad time is gone (or unreadable).
        let mut gone = Vec::new();
        for r in records.iter().filter(|r| !present.contains(&r.key)) {
            // A key that was never linked and whose time is gone has nothing left to sync.
            let fallback = if r.base.is_none() && zammad_complete {
                EntryStatus::Deleted
            } else {
                r.status
            };
            let s = status.get(&r.key).copied().unwrap_or(fallback);
            gone.push(EntryRecord {
                status: s,
                desired: None,
                updated_at: now,
                ..r.clone()
            });
        }
        wanted.extend(gone);

        for mut record in wanted {
            if let Some(old) = existing.get(&record.key) {
                if old.status == record.status && old.desired == record.desired {
                    continue;
                }
                record.base = old.base.clone();
            }
            self.stores.entries.save(&record).await?;
        }

        for adopted in &planned.adopted {
            let s = status
                .get(&adopted.key)
                .copied()
                .unwrap_or(EntryStatus::Synced);
            self.link(ticket_id, ExpectedLink::Unlinked, adopted, s)
                .await?;
        }
        for respected in &planned.kimai_edits_respected {
            self.link(
                ticket_id,
                ExpectedLink::LinkedTo(respected.kimai_id),
                respected,
                EntryStatus::Synced,
            )
            .await?;
        }
        Ok(())
    }

    async fn link(
        &self,
        ticket_id: TicketId,
        expected: ExpectedLink,
        base: &Base,
        status: EntryStatus,
    ) -> Result<(), StoreError> {
        let now = self.stores.now();
        match self
            .stores
            .entries
            .link(ticket_id, &base.key, expected, base, status, now)
            .await?
        {
            LinkOutcome::Linked(_) => Ok(()),
            // Someone linked the key meanwhile (a writer, another reconcile): their link stands;
            // the next reconcile plans against it.
            LinkOutcome::LostRace { current } => {
                tracing::warn!(key = %base.key, ?current, "link changed meanwhile; left as is");
                Ok(())
            }
            LinkOutcome::NoSuchEntry => {
                tracing::warn!(key = %base.key, "no entry to link");
                Ok(())
            }
        }
    }

    /// A mapping conflict (`unmapped_*`) whose key the plan no longer blocks was fixed by a
    /// mapping change: it is closed (`dismiss`, actor `system`) so the console does not show a
    /// solved problem. Other reasons stay for a human, whatever the plan says now: the writer
    /// raises some of them, and the planner cannot tell that a human's decision is still due.
    /// Only tickets with an entry in `conflict` state pay for the lookup.
    async fn close_fixed_mapping_conflicts(
        &self,
        ticket_id: TicketId,
        records: &[EntryRecord],
        planned: &Plan,
    ) -> Result<usize, StoreError> {
        let still: HashSet<&EntryKey> = planned.conflicts.iter().map(|c| &c.key).collect();
        let fixed: HashSet<&EntryKey> = records
            .iter()
            .filter(|r| r.status == EntryStatus::Conflict && !still.contains(&r.key))
            .map(|r| &r.key)
            .collect();
        if fixed.is_empty() {
            return Ok(0);
        }
        let filter = ConflictFilter {
            status: ConflictStatus::Open,
            reason: None,
            ticket_id: Some(ticket_id),
        };
        let mut page = PageRequest::first(100);
        let mut closed = 0;
        loop {
            let found = self.stores.conflicts.list(&filter, &page).await?;
            for record in found.items {
                let c = &record.conflict;
                if !fixed.contains(&c.key) || !is_mapping_problem(c.reason) {
                    continue;
                }
                let resolution = Resolution {
                    action: ResolutionEffect::Dismiss,
                    actor: SYSTEM_ACTOR.to_owned(),
                    note: Some("the mapping was fixed; the entry resolves now".to_owned()),
                    resolved_at: self.stores.now(),
                };
                if let ResolveOutcome::Resolved(_) = self
                    .stores
                    .conflicts
                    .resolve(&record.id, &resolution)
                    .await?
                {
                    closed += 1;
                    self.stores
                        .audit(
                            "conflict.auto_resolve",
                            serde_json::json!({
                                "conflict_id": record.id.0,
                                "ticket_id": ticket_id.0,
                                "key": c.key.0,
                                "reason": c.reason.as_str(),
                            }),
                        )
                        .await?;
                }
            }
            match found.next {
                Some(next) => {
                    page = PageRequest {
                        limit: 100,
                        after: Some(next),
                    }
                }
                None => return Ok(closed),
            }
        }
    }

    async fn open_conflicts(
        &self,
        ticket_id: TicketId,
        planned: &Plan,
    ) -> Result<usize, StoreError> {
        let mut opened = 0;
        for (id, c) in self.conflicts_to_open(ticket_id, planned).await? {
            if self.stores.open_conflict(&id, c).await? {
                opened += 1;
            }
        }
        Ok(opened)
    }

    /// The plan's conflicts that are new, with their ids. Left out: those whose id exists
    /// (open, or resolved: a resolution stands until the base moves; `persist` has marked their
    /// entries already), and those whose key and reason another conflict still open has (e.g.
    /// one opened under an older id scheme), so a person sees one conflict per key and reason,
    /// never two. The ticket's open conflicts are listed only when some planned id is unknown.
    async fn conflicts_to_open<'p>(
        &self,
        ticket_id: TicketId,
        planned: &'p Plan,
    ) -> Result<Vec<(ConflictId, &'p Conflict)>, StoreError> {
        let mut open: Option<HashSet<(EntryKey, ConflictReason)>> = None;
        let mut fresh = Vec::new();
        for c in &planned.conflicts {
            let id = conflict_id(
                ticket_id,
                &c.key,
                c.reason,
                &planned_context(c.base.as_ref()),
            );
            if self.stores.conflicts.get(&id).await?.is_some() {
                continue;
            }
            if open.is_none() {
                open = Some(self.open_conflict_keys(ticket_id).await?);
            }
            let open = open.as_mut().expect("listed above");
            if open.contains(&(c.key.clone(), c.reason)) {
                tracing::info!(key = %c.key, reason = c.reason.as_str(), "the same conflict is open already; not opened twice");
                continue;
            }
            open.insert((c.key.clone(), c.reason));
            fresh.push((id, c));
        }
        Ok(fresh)
    }

    async fn open_conflict_keys(
        &self,
        ticket_id: TicketId,
    ) -> Result<HashSet<(EntryKey, ConflictReason)>, StoreError> {
        let filter = ConflictFilter {
            status: ConflictStatus::Open,
            reason: None,
            ticket_id: Some(ticket_id),
        };
        let mut page = PageRequest::first(100);
        let mut keys = HashSet::new();
        loop {
            let found = self.stores.conflicts.list(&filter, &page).await?;
            keys.extend(
                found
                    .items
                    .into_iter()
                    .map(|r| (r.conflict.key, r.conflict.reason)),
            );
            match found.next {
                Some(next) => {
                    page = PageRequest {
                        limit: 100,
                        after: Some(next),
                    }
                }
                None => return Ok(keys),
            }
        }
    }

    /// Applies the console's `link`, `recreate` and `apply_zammad` decisions to the base before
    /// planning, and records link and apply_zammad, so the plan starts from what the person
    /// decided:
    /// - `link`: an unlinked key is linked to the chosen timesheet (as an adoption: we never
    ///   wrote it); the planner then updates it to Zammad's version if they differ. A key that
    ///   is linked already (to that timesheet, or by now to another) is left alone.
    /// - `apply_zammad`: a linked key whose entry has not changed since the decision is rebased
    ///   on what Kimai holds now, so the hand edit no longer counts as one: the planner writes
    ///   Zammad's version over it (update, or delete when Zammad's time is gone). Once applied,
    ///   the entry is newer than the decision, so a later hand edit is a conflict again.
    async fn apply_decisions(
        &self,
        ticket: TicketId,
        decisions: &TicketDecisions,
        records: &[EntryRecord],
        base: &mut Vec<Base>,
        kimai: &mut Vec<Timesheet>,
    ) -> Result<(), ReconcileError> {
        let now = self.stores.now();
        for (key, kimai_id) in decisions.links() {
            let Some(record) = records.iter().find(|r| &r.key == key) else {
                continue;
            };
            if record.base.is_some() {
                continue;
            }
            let timesheet = match kimai.iter().find(|t| t.id == kimai_id) {
                Some(t) => t.clone(),
                None => match self.kimai.timesheet(kimai_id).await {
                    Ok(t) => t,
                    Err(KimaiError::NotFound) => {
                        tracing::warn!(key = %key.0, kimai_id = kimai_id.0, "the timesheet chosen to link is gone; the key is planned as before");
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                },
            };
            let linked = Base {
                key: key.clone(),
                kimai_id,
                written: None,
                echoed: timesheet.clone(),
            };
            match self
                .stores
                .entries
                .link(
                    ticket,
                    key,
                    ExpectedLink::Unlinked,
                    &linked,
                    EntryStatus::Synced,
                    now,
                )
                .await?
            {
                LinkOutcome::Linked(_) => {
                    tracing::info!(key = %key.0, kimai_id = kimai_id.0, "linked as decided");
                    self.audit_decision("decision.link", ticket, key, kimai_id)
                        .await;
                    if !kimai.iter().any(|t| t.id == kimai_id) {
                        kimai.push(timesheet);
                    }
                    base.push(linked);
                }
                LinkOutcome::LostRace { .. } | LinkOutcome::NoSuchEntry => {}
            }
        }
        // "Recreate" (the console adds the key to `create_anyway`) on a key whose timesheet is
        // gone: plan it as unlinked, so the planner creates it; the writer replaces the dead
        // link when it records the new timesheet. The store keeps the dead link until then.
        base.retain(|b| {
            let gone = !kimai.iter().any(|t| t.id == b.kimai_id);
            let recreate = gone && decisions.create_anyway.contains(&b.key);
            if recreate {
                tracing::info!(key = %b.key.0, kimai_id = b.kimai_id.0, "recreating the deleted timesheet, as decided");
            }
            !recreate
        });
        for record in records {
            let (Some(at), Some(b)) = (decisions.apply_zammad_at(&record.key), &record.base) else {
                continue;
            };
            if record.updated_at > at {
                continue;
            }
            let Some(now_in_kimai) = kimai.iter().find(|t| t.id == b.kimai_id) else {
                continue;
            };
            if *now_in_kimai == b.echoed {
                continue;
            }
            let rebased = Base {
                echoed: now_in_kimai.clone(),
                ..b.clone()
            };
            match self
                .stores
                .entries
                .link(
                    ticket,
                    &record.key,
                    ExpectedLink::LinkedTo(b.kimai_id),
                    &rebased,
                    EntryStatus::Pending,
                    now,
                )
                .await?
            {
                LinkOutcome::Linked(_) => {
                    tracing::info!(key = %record.key.0, kimai_id = b.kimai_id.0, "Zammad's version applies, as decided");
                    self.audit_decision("decision.apply_zammad", ticket, &record.key, b.kimai_id)
                        .await;
                    if let Some(slot) = base.iter_mut().find(|x| x.key == record.key) {
                        *slot = rebased;
                    }
                }
                LinkOutcome::LostRace { .. } | LinkOutcome::NoSuchEntry => {}
            }
        }
        Ok(())
    }

    /// Best effort: the decision is applied either way.
    async fn audit_decision(
        &self,
        action: &str,
        ticket: TicketId,
        key: &EntryKey,
        id: TimesheetId,
    ) {
        let detail = serde_json::json!({"ticket_id": ticket.0, "key": key.0, "kimai_id": id.0});
        if let Err(e) = self.stores.audit(action, detail).await {
            tracing::warn!(error = %e, "could not audit the applied decision");
        }
    }

    async fn enqueue(
        &self,
        message: &TicketSyncMessage,
        accountings: &[TimeAccounting],
        planned: &Plan,
        decisions: &TicketDecisions,
    ) -> Result<usize, ReconcileError> {
        if planned.operations.is_empty() {
            return Ok(0);
        }
        let updated: HashMap<AccountingId, DateTime<Utc>> =
            accountings.iter().map(|a| (a.id, a.updated_at)).collect();
        let messages: Vec<KimaiWriteMessage> = planned
            .operations
            .iter()
            .map(|op| {
                let mut revision = revision_of(op, &updated);
                // "Apply Zammad" and "recreate" ask for a write even when Zammad did not change
                // (Kimai rejected it and was fixed since; the timesheet was deleted): the
                // decision is part of the revision, so the operation gets a new id once.
                if let Some(at) = decisions.write_forced_at(op.key()) {
                    revision = format!("{revision}+decided:{}", at.to_rfc3339());
                }
                KimaiWriteMessage::new(
                    operation_id(message.ticket_id, op, &revision),
                    message.ticket_id,
                    message.run_id.clone(),
                    op.clone(),
                )
            })
            .collect();
        let report = self.writes.send_many(&messages).await;
        if report.all_sent() {
            return Ok(report.sent);
        }
        // Op ids are deterministic: resending the whole plan on retry cannot double a write.
        let retryable = report.failed.iter().any(|(_, f)| match f {
            SendFailure::TooLarge { .. } => false,
            SendFailure::Rejected { sender_fault, .. } => !sender_fault,
            SendFailure::Unavailable(_) => true,
        });
        Err(ReconcileError::Enqueue {
            failed: report.failed.len(),
            retryable,
            first: format!("{:?}", report.failed[0].1),
        })
    }
}

fn is_mapping_problem(reason: ConflictReason) -> bool {
    matches!(
        reason,
        ConflictReason::UnmappedUser
            | ConflictReason::UnmappedActivity
            | ConflictReason::UnmappedCustomer
            | ConflictReason::UnmappedProject
    )
}

fn count_ops(plan: &Plan, f: impl Fn(&Operation) -> bool) -> usize {
    plan.operations.iter().filter(|o| f(o)).count()
}

/// Status per key the plan decides; keys it does not mention keep their default.
fn status_by_key(planned: &Plan) -> HashMap<EntryKey, EntryStatus> {
    let mut s = HashMap::new();
    for key in &planned.links_to_drop {
        s.insert(key.clone(), EntryStatus::Deleted);
    }
    for b in planned.adopted.iter().chain(&planned.kimai_edits_respected) {
        s.insert(b.key.clone(), EntryStatus::Synced);
    }
    for op in &planned.operations {
        s.insert(op.key().clone(), EntryStatus::Pending);
    }
    for op in &planned.awaiting_approval {
        s.insert(op.key().clone(), EntryStatus::AwaitingApproval);
    }
    for c in &planned.conflicts {
        s.insert(c.key.clone(), EntryStatus::Conflict);
    }
    s
}

/// Zammad's revision of what an operation writes: the newest `updated_at` of its accountings.
fn revision_of(op: &Operation, updated: &HashMap<AccountingId, DateTime<Utc>>) -> String {
    match op {
        Operation::Create { desired } | Operation::Update { desired, .. } => desired
            .accounting_ids
            .iter()
            .filter_map(|id| updated.get(id))
            .max()
            .map_or_else(|| "-".to_owned(), |t| t.to_rfc3339()),
        // A delete names the timesheet and its expected state; that is unique enough.
        Operation::Delete { .. } => "-".to_owned(),
    }
}
