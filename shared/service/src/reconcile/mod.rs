//! The reconcile step: plan one ticket and hand its writes to the `kimai-write` queue.
//!
//! Per `ticket-sync` message: read the ticket, its accountings, agents and organisation from
//! Zammad; normalise and resolve them with the core against the Kimai catalog, mappings and
//! policy; load the stored base (one query) and Kimai's current state (linked ids, marker
//! matches, look-alikes on the same users' days); plan; then persist entry states, links and
//! conflicts and enqueue one [`KimaiWriteMessage`] per operation, with an id derived from the
//! operation so a retried reconcile enqueues nothing new. A dry run stops after planning.
//!
//! The policy is read once per invocation ([`InvocationCache`]); the Kimai catalog and API
//! user, Zammad's agents and organisations, and a verify sweep's or backfill's Kimai snapshot
//! live in the function instance's [`ReconcileCache`] for a short expiry.
//!
//! [`Reconciler::reconcile`] reads as the sequence of the steps; each step has its file, in
//! the order one ticket passes through them:
//! - `context`: the Kimai catalog, API user and policy of the invocation;
//! - `instance`: what the function instance keeps across invocations;
//! - `snapshot`: Kimai's timesheets of a run's window, read once;
//! - `read_zammad`: the ticket, its accountings, agents and organisation;
//! - `desired`: Zammad's time resolved to desired timesheets, with the auto-create of missing
//!   Kimai customers and projects;
//! - `read_kimai`: what Kimai holds of the ticket now;
//! - `decisions`: the console's decisions (link, apply Zammad, recreate) applied to the base;
//! - `plan`: the planner's input;
//! - `persist`: entry states and links;
//! - `conflicts`: conflicts opened, and mapping conflicts a fixed mapping closes;
//! - `enqueue`: one `kimai-write` message per operation;
//! - `report`: what the run did, counted in the run and audited (or, in a dry run, would do).
//!
//! [`KimaiWriteMessage`]: sync_store::queue::KimaiWriteMessage

mod claims;
mod conflicts;
mod context;
mod decisions;
mod desired;
mod enqueue;
mod instance;
mod persist;
mod plan;
mod read_kimai;
mod read_zammad;
mod report;
mod snapshot;
mod taken;
mod turn;

pub use context::{Context, InvocationCache};
pub use instance::{INSTANCE_CACHE_TTL, ReconcileCache};
pub use read_kimai::MAX_LIST_WINDOW_DAYS;
pub use report::{MovedEntry, ReconcileReport};
pub use snapshot::{MAX_SNAPSHOT_DAYS, WindowSnapshot};

use crate::batch::QueueRecord;
use crate::outage::{self, RecordOutcome, WaitForKimai};
use crate::policies::PolicyError;
use crate::settings::ZammadConnection;
use crate::sync_stores::{DeadLetter, SyncStores};
use crate::upstream::{Kimai, Zammad};
use desired::Wanted;
use kimai_client::KimaiError;
use persist::PlanState;
use read_zammad::ZammadSide;
use std::sync::Arc;
use sync_core::normalise::NormaliseError;
use sync_core::plan::Base;
use sync_core::planner::PlanError;
use sync_store::StoreError;
use sync_store::queue::{DecodeError, KimaiWriteMessage, MessageQueue, TicketSyncMessage, decode};
use sync_store::schema::TICKET_SYNC_QUEUE;
use thiserror::Error;
use turn::Turn;
use zammad_client::ZammadError;

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
    /// Another plan of the ticket is being recorded: try again once it is.
    #[error("another plan of the ticket is being recorded (until {until} at most)")]
    TicketBusy {
        until: chrono::DateTime<chrono::Utc>,
    },
    /// Reconciles of the same agent's other tickets kept claiming slots on the same days:
    /// try again once they are done.
    #[error("slots on the same days were claimed by other tickets {rounds} times in a row")]
    SlotsContended { rounds: usize },
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
            ReconcileError::TicketBusy { .. } | ReconcileError::SlotsContended { .. } => true,
            ReconcileError::BadMessage(_)
            | ReconcileError::ZammadSettings(_)
            | ReconcileError::ApiUserZone(_)
            | ReconcileError::Normalise(_)
            | ReconcileError::Plan(_) => false,
        }
    }
}

pub struct Reconciler {
    pub zammad: Arc<dyn Zammad>,
    /// The unit of `time_unit` and the default zone of the Zammad connection.
    pub zammad_settings: ZammadConnection,
    pub kimai: Arc<dyn Kimai>,
    pub stores: SyncStores,
    pub writes: Arc<dyn MessageQueue<KimaiWriteMessage>>,
    /// The `maxReceiveCount` of the ticket-sync queue as deployed (the schema's value on AWS):
    /// a failure on that delivery is the last one and is counted and audited as a dead letter.
    pub max_receive_count: u32,
    /// Lets records wait while Kimai is down ([`crate::outage`]); `None`: they fail and are
    /// retried by SQS.
    pub wait: Option<WaitForKimai<TicketSyncMessage>>,
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
                        serde_json::json!({"queue": TICKET_SYNC_QUEUE.logical, "message_id": message_id, "error": e.to_string()}),
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

    /// [`Reconciler::reconcile_body`] for one queue record. While Kimai is down the record
    /// waits ([`crate::outage`]); a failure on the last delivery is counted in the run and
    /// audited as a dead letter.
    pub async fn reconcile_record(
        &self,
        cache: &InvocationCache,
        record: &QueueRecord,
    ) -> Result<RecordOutcome<ReconcileReport>, ReconcileError> {
        let result = outage::run_record(
            self.wait.as_ref(),
            &record.body,
            || self.stores.now(),
            self.reconcile_body(cache, &record.message_id, &record.body),
            |e| match e {
                ReconcileError::Kimai(kimai) if outage::kimai_unreachable(kimai) => Some(kimai),
                _ => None,
            },
            // Every plan reads Kimai.
            |_| true,
        )
        .await;
        if let Err(e) = &result {
            if record.is_last_attempt(self.max_receive_count) {
                let message = decode::<TicketSyncMessage>(&record.body).ok();
                let error = e.to_string();
                let dead = DeadLetter {
                    queue: TICKET_SYNC_QUEUE.logical,
                    message_id: &record.message_id,
                    body: &record.body,
                    error: &error,
                };
                self.stores
                    .dead_lettered(
                        dead,
                        message.as_ref().and_then(|m| m.run_id.as_ref()),
                        message.as_ref().map(|m| m.ticket_id),
                    )
                    .await;
            }
        }
        result
    }

    /// Plans one ticket and, unless it is a dry run, records and enqueues the plan.
    #[tracing::instrument(skip(self, cache, message), fields(ticket_id = message.ticket_id.0, dry_run = message.dry_run))]
    pub async fn reconcile(
        &self,
        cache: &InvocationCache,
        message: &TicketSyncMessage,
    ) -> Result<ReconcileReport, ReconcileError> {
        let ticket_id = message.ticket_id;
        let ctx = self.context(cache).await?;
        let read_at = self.stores.now();
        let mut zammad = self.read_zammad(cache, ticket_id).await?;
        zammad.leave_out(&ctx.suppressed);
        sync_metrics::accountings_seen(zammad.accountings.len());
        let (ctx, wanted) = self
            .desired(cache, ctx, &zammad, ticket_id, message.dry_run)
            .await?;
        if message.dry_run {
            return self
                .plan_and_record(cache, message, &ctx, &zammad, wanted)
                .await;
        }
        // From here on, plans of this ticket are recorded one at a time, newest read last.
        let holder = match self.take_turn(ticket_id, read_at).await? {
            Turn::Ours(holder) => holder,
            Turn::Stale { newer } => return self.out_of_date(message, read_at, newer).await,
        };
        let result = self
            .plan_and_record(cache, message, &ctx, &zammad, wanted)
            .await;
        self.end_turn(ticket_id, &holder).await;
        result
    }

    /// Plans the ticket against what is stored and what Kimai holds, and, unless it is a dry
    /// run, records and enqueues the plan.
    async fn plan_and_record(
        &self,
        cache: &InvocationCache,
        message: &TicketSyncMessage,
        ctx: &Context,
        zammad: &ZammadSide,
        wanted: Wanted,
    ) -> Result<ReconcileReport, ReconcileError> {
        let ticket_id = message.ticket_id;
        // Base: one query. A purged person's records, should one be left, are not planned
        // with: their Kimai timesheets are neither updated nor deleted by us.
        let mut records = self.stores.entries.load_ticket(ticket_id).await?;
        records.retain(|r| !ctx.suppressed.contains(r.agent_id));
        let mut base: Vec<Base> = records.iter().filter_map(|r| r.base.clone()).collect();
        let read = read_kimai::KimaiRead {
            ticket_id,
            desired: &wanted.desired,
            base: &base,
            records: &records,
            window: message.window.as_ref(),
            run: message.run_id.as_ref(),
        };
        let mut kimai = self.read_kimai(cache, ctx, read).await?;
        let decisions = self.load_decisions(ticket_id).await?;
        if !message.dry_run {
            self.apply_decisions(ticket_id, &decisions, &records, &mut base, &mut kimai)
                .await?;
        }
        // Placed again around the agents' other bookings on those days, and with the ticket's
        // own timesheets where they are.
        let taken = taken::taken_in_kimai(&wanted, &kimai, &base);
        let mut wanted = self
            .place_and_claim(
                cache,
                ctx,
                zammad,
                wanted,
                &taken,
                &records,
                message.dry_run,
            )
            .await?;

        let mut planned = plan::plan_ticket(
            ticket_id,
            ctx,
            &wanted,
            &base,
            &kimai,
            zammad.complete,
            &decisions,
        )?;
        // Conflicts say whose time and which ticket, in Zammad's words, for the person deciding.
        self.name_subjects(cache, zammad, &wanted.entries, &mut planned)
            .await?;
        let auto_created = std::mem::take(&mut wanted.auto_created);
        let mut report = ReconcileReport::of_plan(message, zammad.complete, &planned, auto_created);
        report.moved = MovedEntry::of(&wanted.entries, &planned);
        if message.dry_run {
            return self.finish_dry_run(message, report, planned).await;
        }

        let state = PlanState {
            records: &records,
            wanted: &wanted,
            planned: &planned,
            zammad_complete: zammad.complete,
        };
        self.persist(ticket_id, state).await?;
        // Creates held for approval that were not held before: a person has something new to
        // approve (a sweep planning the same held creates again tells nothing).
        let newly_awaiting = planned
            .awaiting_approval
            .iter()
            .filter(|op| {
                records.iter().all(|r| {
                    r.key != *op.key()
                        || r.status != sync_store::entries::EntryStatus::AwaitingApproval
                })
            })
            .count();
        self.stores
            .events
            .approvals_awaiting(message.run_id.as_ref(), ticket_id.0, newly_awaiting);
        report.conflicts_opened = self
            .open_conflicts(ticket_id, &planned, message.run_id.as_ref())
            .await?;
        report.conflicts_closed = self
            .close_fixed_conflicts(ticket_id, &records, &planned)
            .await?;
        report.enqueued = self
            .enqueue(message, &zammad.accountings, &planned, &decisions)
            .await?;
        report.plan = planned;
        self.record_run(message, &report).await?;
        Ok(report)
    }
}
