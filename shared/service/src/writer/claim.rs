//! Step 1 and its end: the operation is claimed in the control store before anything is
//! written, and the claim is completed with the outcome (and the run counted), or given back
//! when the write failed, so that exactly one writer applies an operation.

use super::{WriteError, WriteOutcome, Writer, WriterCache};
use sync_store::control::{ClaimOutcome, CompleteOutcome, RunCounters};
use sync_store::entries::EntryStatus;
use sync_store::queue::KimaiWriteMessage;

impl Writer {
    /// Claims, performs and completes one operation; the caller holds the key's lock.
    pub(super) async fn apply_serialised(
        &self,
        cache: &WriterCache,
        message: &KimaiWriteMessage,
    ) -> Result<WriteOutcome, WriteError> {
        let Some(attempt) = self.claim(message).await? else {
            return Ok(WriteOutcome::AlreadyDone);
        };
        match self.perform(cache, message, attempt).await {
            Ok(outcome) => {
                self.finish(message, &outcome).await?;
                Ok(outcome)
            }
            Err(e) => {
                self.release(message, attempt, &e).await;
                Err(e)
            }
        }
    }

    /// The attempt this claim is, or `None` when the operation is done already (a redelivered
    /// message). Held by another writer: an error, so SQS retries later.
    async fn claim(&self, message: &KimaiWriteMessage) -> Result<Option<u32>, WriteError> {
        let op_id = &message.operation_id;
        match self
            .stores
            .control
            .claim_operation(op_id, &self.holder, self.lease, self.stores.now())
            .await?
        {
            ClaimOutcome::Claimed { attempt, .. } => Ok(Some(attempt)),
            ClaimOutcome::InFlight { holder, .. } => Err(WriteError::InFlight {
                operation: op_id.0.clone(),
                holder,
            }),
            ClaimOutcome::Done { result } => {
                tracing::info!(%result, "operation already done; acknowledging");
                // The same operation was parked before: a reconcile that planned it again
                // marked the entry pending; it is still blocked by that conflict.
                if let Ok(WriteOutcome::Conflict { .. }) = serde_json::from_value(result) {
                    self.stores
                        .entries
                        .set_status(
                            message.ticket_id,
                            message.operation.key(),
                            EntryStatus::Conflict,
                            self.stores.now(),
                        )
                        .await?;
                }
                Ok(None)
            }
        }
    }

    /// Gives the claim back so the retry need not wait for the lease; if that fails too, the
    /// lease runs out on its own.
    async fn release(&self, message: &KimaiWriteMessage, attempt: u32, e: &WriteError) {
        if let Err(release) = self
            .stores
            .control
            .release_operation(&message.operation_id, &self.holder, self.stores.now())
            .await
        {
            tracing::warn!(error = %release, "could not release the claim");
        }
        if e.is_retryable() {
            tracing::warn!(error = %e, attempt, "write failed; SQS will retry");
        } else {
            tracing::error!(error = %e, attempt, "write failed for good; it will dead-letter");
        }
    }

    /// Completes the claim with the outcome and counts it in the run.
    async fn finish(
        &self,
        message: &KimaiWriteMessage,
        outcome: &WriteOutcome,
    ) -> Result<(), WriteError> {
        let result = serde_json::to_value(outcome).unwrap_or_default();
        let completed = self
            .stores
            .control
            .complete_operation(
                &message.operation_id,
                &self.holder,
                &result,
                self.stores.now(),
            )
            .await?;
        if completed == CompleteOutcome::NotHolder {
            // Our lease ran out and someone else claimed it; the link write was conditional,
            // so at most one of us recorded a base.
            tracing::warn!("claim lost before completion");
        }
        let mut delta = RunCounters::default();
        match outcome {
            WriteOutcome::Created { .. } | WriteOutcome::Adopted { .. } => delta.created = 1,
            WriteOutcome::Updated { .. } => delta.updated = 1,
            WriteOutcome::Deleted { .. } | WriteOutcome::AlreadyGone { .. } => delta.deleted = 1,
            WriteOutcome::Conflict { .. } => delta.conflicts = 1,
            WriteOutcome::AlreadyDone
            | WriteOutcome::Superseded { .. }
            | WriteOutcome::OutOfDate => {}
        }
        self.stores.count(message.run_id.as_ref(), &delta).await?;
        Ok(())
    }
}
