//! The one way to build a `kimai-write` message: its operation id is derived from the ticket,
//! the operation and a revision, so the same write planned twice (a retried reconcile, two
//! people approving at once) gets the same id, and the writer claims each id once.
//!
//! It lives on the pipeline side, beside the writer that consumes the message and the
//! [`crate::idempotency`] ids it derives from; reconcile plans most of them, and a console
//! approval (`console::approvals`) sends the rest.

use crate::idempotency::operation_id;
use sync_core::ids::TicketId;
use sync_core::plan::Operation;
use sync_store::control::RunId;
use sync_store::queue::KimaiWriteMessage;

/// The message that asks the writer to carry out `operation` of `ticket_id`. `revision` names
/// what the operation was planned from (the Zammad times, a decision, an approval): a new
/// revision of the same operation is a new write.
pub fn message(
    ticket_id: TicketId,
    run_id: Option<RunId>,
    operation: Operation,
    revision: &str,
) -> KimaiWriteMessage {
    KimaiWriteMessage::new(
        operation_id(ticket_id, &operation, revision),
        ticket_id,
        run_id,
        operation,
    )
}
