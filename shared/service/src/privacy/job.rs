//! A purge job's record: a control-store document (`purge_job` / the job id) the api writes when
//! it hands the purge off, the gdpr-purge function updates after every step, and the console
//! reads for progress and the final report. It holds counts, never the person.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sync_store::control::{ControlStore, DocumentKind, DocumentWrite, ExpectedVersion};
use sync_store::{StoreError, StoreResult};
use utoipa::ToSchema;

/// A job that has not moved for this long has stopped (gdpr-purge's timeout is 15 minutes and
/// it writes progress after every step): requesting the purge again finishes it.
pub const STALLED_AFTER: Duration = Duration::minutes(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Handed to the gdpr-purge function, not started yet.
    Queued,
    Running,
    Done,
    /// Stopped on an error (`error`); requesting the purge again finishes it.
    Failed,
}

/// What the purge deleted so far (all attempts together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PurgeCounts {
    /// Entries (their ledger rows and Kimai links).
    pub entries: usize,
    /// Conflicts, open and resolved.
    pub conflicts: usize,
    /// Decisions on their keys, removed from the tickets' decision documents.
    pub decisions: usize,
    /// Audit rows.
    pub audit: usize,
    /// Dead-letter records and messages in the two dead-letter queues.
    pub dead_letters: usize,
    /// Messages waiting in the two work queues.
    pub queued_messages: usize,
}

impl PurgeCounts {
    pub fn add(&mut self, other: PurgeCounts) {
        self.entries += other.entries;
        self.conflicts += other.conflicts;
        self.decisions += other.decisions;
        self.audit += other.audit;
        self.dead_letters += other.dead_letters;
        self.queued_messages += other.queued_messages;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PurgeJob {
    pub id: String,
    pub status: JobStatus,
    /// The console user who asked for it.
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    /// Last progress written.
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The step running now or last (`suppress`, `work_queues`, `decisions`, `conflicts`,
    /// `dead_letters`, `entries`, `audit`, `done`).
    pub step: Option<String>,
    /// Audit days searched of `audit_days` (the audit step's progress).
    pub audit_days_searched: i64,
    /// Every day an audit row can still live on (the longest retention, plus TTL's lag).
    pub audit_days: i64,
    /// Invocations that worked on it (Lambda retries one that timed out).
    pub attempts: u32,
    pub counts: PurgeCounts,
    /// Why it failed.
    pub error: Option<String>,
}

impl PurgeJob {
    /// A job just handed off.
    pub fn queued(requested_by: &str, now: DateTime<Utc>) -> Self {
        let rand = uuid::Uuid::new_v4().simple().to_string();
        PurgeJob {
            id: format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), &rand[..12]),
            status: JobStatus::Queued,
            requested_by: requested_by.to_owned(),
            requested_at: now,
            started_at: None,
            updated_at: now,
            finished_at: None,
            step: None,
            audit_days_searched: 0,
            audit_days: 0,
            attempts: 0,
            counts: PurgeCounts::default(),
            error: None,
        }
    }

    /// Queued or running, but not moved for [`STALLED_AFTER`].
    pub fn stalled(&self, now: DateTime<Utc>) -> bool {
        matches!(self.status, JobStatus::Queued | JobStatus::Running)
            && now - self.updated_at > STALLED_AFTER
    }
}

/// Job ids are generated: anything else is refused before it reaches the store.
pub fn check_job_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

pub async fn load(control: &dyn ControlStore, id: &str) -> StoreResult<Option<PurgeJob>> {
    let Some(doc) = control.get_document(DocumentKind::PurgeJob, id).await? else {
        return Ok(None);
    };
    serde_json::from_value(doc.body)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("purge job {id}: {e}")))
}

/// Writes the job (last writer wins: only one invocation works on a job at a time, and the
/// api writes it once, before the hand-off).
pub async fn save(control: &dyn ControlStore, job: &PurgeJob) -> StoreResult<()> {
    let body = serde_json::to_value(job).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    match control
        .put_document(
            DocumentKind::PurgeJob,
            &job.id,
            &body,
            ExpectedVersion::Any,
            job.updated_at,
        )
        .await?
    {
        DocumentWrite::Written { .. } => Ok(()),
        DocumentWrite::VersionConflict { .. } => Err(StoreError::Unavailable(format!(
            "purge job {} could not be written",
            job.id
        ))),
    }
}
