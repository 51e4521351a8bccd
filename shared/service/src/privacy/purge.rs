//! The purge job, as the gdpr-purge function runs it: one [`PurgeOrder`] (the job id and the
//! person), the steps in an order that keeps each one findable until the step that needs it
//! (the entries go last of the key-based steps: conflicts, decisions and queue bodies are
//! matched by their keys), progress written after every step, and a final report and audit row
//! with counts only.
//!
//! Every step deletes what it finds, so a second attempt (Lambda retries an invocation that
//! timed out; a person may request the purge again) finds only what is left and finishes the
//! job. Counts add up over the attempts.

use super::find::{self, Theirs, audit_about, audit_window, conflicts_about, entries_of};
use super::job::{self, JobStatus, PurgeCounts, PurgeJob};
use super::{Person, PrivacyPorts, suppression};
use crate::decisions::{RecordError, forget_keys};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, ZammadUserId};
use sync_store::StoreError;
use sync_store::audit::{AuditEvent, AuditKind, MAX_QUERY_DAYS};
use sync_store::dead_letters::remove_where;
use thiserror::Error;

/// What the api hands to gdpr-purge: the job, and the person (the only place their
/// identifiers travel; the job record holds none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeOrder {
    pub job: String,
    pub agent_id: u64,
    pub identifiers: Vec<String>,
}

impl PurgeOrder {
    pub fn person(&self) -> Person {
        Person {
            agent_id: ZammadUserId(self.agent_id),
            identifiers: self.identifiers.clone(),
        }
    }
}

#[derive(Debug, Error)]
pub enum PurgeError {
    #[error("no purge job {0}")]
    NoJob(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Decisions(#[from] RecordError),
}

/// Runs the job to its end; the job as finished (`done`, or `failed` with the error, which is
/// also returned). A job already done is answered as it is.
pub async fn run_purge(ports: &PrivacyPorts, order: &PurgeOrder) -> Result<PurgeJob, PurgeError> {
    let control = ports.control.as_ref();
    let mut job = job::load(control, &order.job)
        .await?
        .ok_or_else(|| PurgeError::NoJob(order.job.clone()))?;
    if job.status == JobStatus::Done {
        return Ok(job);
    }
    let now = ports.clock.now();
    job.status = JobStatus::Running;
    job.started_at.get_or_insert(now);
    job.attempts += 1;
    job.error = None;
    match steps(ports, &order.person(), &mut job).await {
        Ok(()) => {
            let now = ports.clock.now();
            job.status = JobStatus::Done;
            job.step = Some("done".into());
            job.finished_at = Some(now);
            job.updated_at = now;
            job::save(control, &job).await?;
            audit_purge(ports, &job).await?;
            tracing::info!(job = %job.id, counts = ?job.counts, "purge done");
            Ok(job)
        }
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "purge failed");
            job.status = JobStatus::Failed;
            job.error = Some(e.to_string());
            job.updated_at = ports.clock.now();
            // The error that stopped it is what the caller hears of, even if this write fails.
            let _ = job::save(control, &job).await;
            Err(e)
        }
    }
}

async fn steps(
    ports: &PrivacyPorts,
    person: &Person,
    job: &mut PurgeJob,
) -> Result<(), PurgeError> {
    let control = ports.control.as_ref();
    let (from, to) = audit_window(ports);
    job.audit_days = (to - from).num_days() + 1;

    // First, so a reconcile running meanwhile stops planning their time.
    progress(ports, job, "suppress", PurgeCounts::default()).await?;
    suppression::suppress(control, person.agent_id, ports.clock.now()).await?;

    let entries = entries_of(ports, person).await?;
    let theirs = Theirs::new(person, &entries);

    progress(ports, job, "work_queues", PurgeCounts::default()).await?;
    let about = |body: &str| theirs.body(body);
    let queued_messages = remove_where(ports.ticket_sync.as_ref(), about).await?
        + remove_where(ports.kimai_write.as_ref(), about).await?;

    let decisions = forget_decisions(ports, &theirs).await?;
    progress(
        ports,
        job,
        "decisions",
        PurgeCounts {
            queued_messages,
            decisions,
            ..Default::default()
        },
    )
    .await?;

    let mut conflicts = 0;
    for c in conflicts_about(ports, &theirs).await? {
        conflicts += usize::from(ports.conflicts.delete(&c.id).await?);
    }
    progress(
        ports,
        job,
        "conflicts",
        PurgeCounts {
            conflicts,
            ..Default::default()
        },
    )
    .await?;

    let mut dead_letters = 0;
    for r in find::dead_letter_records_about(ports, &theirs).await? {
        dead_letters += usize::from(control.delete_dead_letter(&r.queue, &r.message_id).await?);
    }
    dead_letters += remove_where(ports.ticket_sync_dead.as_ref(), about).await?
        + remove_where(ports.kimai_write_dead.as_ref(), about).await?;
    progress(
        ports,
        job,
        "dead_letters",
        PurgeCounts {
            dead_letters,
            ..Default::default()
        },
    )
    .await?;

    let mut deleted = 0;
    for r in &entries {
        deleted += usize::from(ports.entries.delete(r.ticket_id, &r.key).await?);
    }
    progress(
        ports,
        job,
        "entries",
        PurgeCounts {
            entries: deleted,
            ..Default::default()
        },
    )
    .await?;

    // The audit log, a slice of days at a time, oldest first, with progress after each.
    let mut start = from;
    while start <= to {
        let end = start
            .checked_add_days(chrono::Days::new(MAX_QUERY_DAYS as u64 - 1))
            .map_or(to, |d| d.min(to));
        let mut audit = 0;
        for row in audit_about(ports, person, start, end).await? {
            audit += usize::from(
                ports
                    .audit
                    .delete(row.event.at.date_naive(), &row.id)
                    .await?,
            );
        }
        job.audit_days_searched = (end - from).num_days() + 1;
        progress(
            ports,
            job,
            "audit",
            PurgeCounts {
                audit,
                ..Default::default()
            },
        )
        .await?;
        match end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    Ok(())
}

/// Removes the decisions on their keys from each of their tickets' documents.
async fn forget_decisions(ports: &PrivacyPorts, theirs: &Theirs<'_>) -> Result<usize, PurgeError> {
    let mut by_ticket: BTreeMap<TicketId, BTreeSet<EntryKey>> = BTreeMap::new();
    for (ticket, key) in &theirs.keys {
        by_ticket.entry(*ticket).or_default().insert(key.clone());
    }
    let mut removed = 0;
    for (ticket, keys) in by_ticket {
        removed += forget_keys(ports.control.as_ref(), ticket, &keys, ports.clock.now()).await?;
    }
    Ok(removed)
}

/// Adds what a step deleted and writes the job with the step now running.
async fn progress(
    ports: &PrivacyPorts,
    job: &mut PurgeJob,
    step: &str,
    deleted: PurgeCounts,
) -> Result<(), StoreError> {
    job.counts.add(deleted);
    job.step = Some(step.to_owned());
    job.updated_at = ports.clock.now();
    job::save(ports.control.as_ref(), job).await
}

/// `gdpr.purge`, by who asked, with the job and the counts: nothing of the person.
async fn audit_purge(ports: &PrivacyPorts, job: &PurgeJob) -> Result<(), StoreError> {
    let c = job.counts;
    let event = AuditEvent {
        at: ports.clock.now(),
        kind: AuditKind::Access,
        action: "gdpr.purge".into(),
        actor: job.requested_by.clone(),
        ip: None,
        detail: json!({"job": job.id, "entries": c.entries, "conflicts": c.conflicts,
                       "decisions": c.decisions, "audit": c.audit,
                       "dead_letters": c.dead_letters, "queued_messages": c.queued_messages}),
    };
    ports.audit.append(&event).await.map(|_| ())
}
