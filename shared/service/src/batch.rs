//! One delivery of a queue message, as the two queue consumers (reconcile, kimai-writer) take
//! it: the message id, the raw body, and how often SQS has delivered it.
//!
//! The consumers decode the body themselves, because an undecodable message is audited and,
//! on its last delivery, dead-lettered like any other failure. Running a whole SQS batch
//! (concurrency, partial batch failures) is Lambda glue: `sync_lambda::sqs`.

/// One record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    pub message_id: String,
    pub body: String,
    /// SQS's `ApproximateReceiveCount` (1 on the first delivery): when it reaches the queue's
    /// `maxReceiveCount`, a failure sends the message to the dead-letter queue.
    pub receive_count: u32,
}

impl QueueRecord {
    /// Whether failing now moves the message to the DLQ (no further retry).
    pub fn is_last_attempt(&self, max_receive_count: u32) -> bool {
        self.receive_count >= max_receive_count
    }
}
