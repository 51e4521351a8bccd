//! Deterministic ids of conflicts and write operations.
//!
//! SQS delivers at least once and a failed reconcile is retried, so whatever a step opens or
//! enqueues must carry an id derived from what it is about: the second attempt then finds the
//! conflict already open (`OpenOutcome::AlreadyExists`) and the write already claimed or done
//! (`ClaimOutcome::Done`) instead of doing it twice.

use sha2::{Digest, Sha256};
use sync_core::desired::EntryKey;
use sync_core::ids::TicketId;
use sync_core::plan::{Base, ConflictReason, Operation};
use sync_store::conflicts::ConflictId;
use sync_store::control::OperationId;

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so ("a|b", "c") and ("a", "b|c") never collide.
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// One conflict per ticket, key, reason and context. The planner's conflicts use the base as
/// context ([`planned_context`]), so a key whose base moved after a resolution can raise the
/// same reason again; the writer's use the operation id, so a later, different write that
/// Kimai refuses again opens a new conflict.
pub fn conflict_id(
    ticket: TicketId,
    key: &EntryKey,
    reason: ConflictReason,
    context: &str,
) -> ConflictId {
    let d = digest(&[
        "conflict",
        &ticket.to_string(),
        key.as_str(),
        reason.as_str(),
        context,
    ]);
    ConflictId(format!("c-{}", &d[..40]))
}

/// Context of a planner conflict: the base it was planned from (linked timesheet and what we
/// last recorded of it), or `-` for an unlinked key. Retried reconciles of the same state get
/// the same id; once the base moves (a resolution applied Zammad's version, an edit was
/// respected, the key was relinked), the same reason on the same key is a new conflict instead
/// of hiding behind the resolved one.
pub fn planned_context(base: Option<&Base>) -> String {
    base.map_or_else(
        || "-".to_owned(),
        |b| {
            // Plain data: serialising cannot fail and is canonical (see `operation_id`).
            let recorded = serde_json::to_string(&(&b.written, &b.echoed)).unwrap_or_default();
            format!("ts{}@{}", b.kimai_id, &digest(&[&recorded])[..16])
        },
    )
}

/// The id of one write: ticket, key, kind and the full content of the operation (desired state,
/// expected Kimai state), plus a `revision` that the caller takes from Zammad (the newest
/// `updated_at` of the accountings behind the key). A retried reconcile of an unchanged ticket
/// thus produces the same id (the writer acks it as done), while a later, different change
/// gets a new one even when it happens to restore an earlier state.
pub fn operation_id(ticket: TicketId, operation: &Operation, revision: &str) -> OperationId {
    let kind = match operation {
        Operation::Create { .. } => "create",
        Operation::Update { .. } => "update",
        Operation::Delete { .. } => "delete",
    };
    // Operations hold only strings, numbers and string-keyed maps: serialising cannot fail,
    // and serde_json writes struct fields in declaration order, so the text is canonical.
    let content = serde_json::to_string(operation).unwrap_or_default();
    let d = digest(&[
        "operation",
        &ticket.to_string(),
        operation.key().as_str(),
        kind,
        &content,
        revision,
    ]);
    OperationId(format!("op-{kind}-{}", &d[..40]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::ids::TimesheetId;

    fn base_of(id: u64, description: &str) -> Base {
        let begin = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00+01:00").unwrap();
        let echoed = sync_core::kimai::Timesheet {
            id: TimesheetId(id),
            begin,
            end: Some(begin + chrono::Duration::minutes(30)),
            duration_secs: 1800,
            break_secs: 0,
            description: Some(description.to_owned()),
            activity: sync_core::ids::ActivityId(1),
            project: sync_core::ids::ProjectId(1),
            user: sync_core::ids::KimaiUserId(2),
            tags: Vec::new(),
            exported: false,
            billable: true,
        };
        Base {
            key: EntryKey("ta:1".into()),
            kimai_id: TimesheetId(id),
            written: None,
            echoed,
        }
    }

    #[test]
    fn a_planner_conflicts_context_moves_with_its_base() {
        let a = base_of(5, "x");
        assert_eq!(planned_context(Some(&a)), planned_context(Some(&a.clone())));
        assert_ne!(
            planned_context(Some(&a)),
            planned_context(Some(&base_of(5, "y")))
        );
        assert_ne!(
            planned_context(Some(&a)),
            planned_context(Some(&base_of(6, "x")))
        );
        assert_ne!(planned_context(Some(&a)), planned_context(None));
        assert!(planned_context(Some(&a)).starts_with("ts5@"));
    }

    #[test]
    fn conflict_ids_depend_on_every_part() {
        let k = EntryKey("ta:1".into());
        let none = planned_context(None);
        let base = conflict_id(TicketId(1), &k, ConflictReason::BothChanged, &none);
        assert_eq!(
            base,
            conflict_id(TicketId(1), &k, ConflictReason::BothChanged, &none)
        );
        let others = [
            conflict_id(TicketId(2), &k, ConflictReason::BothChanged, &none),
            conflict_id(
                TicketId(1),
                &EntryKey("ta:2".into()),
                ConflictReason::BothChanged,
                &none,
            ),
            conflict_id(TicketId(1), &k, ConflictReason::Orphaned, &none),
            conflict_id(
                TicketId(1),
                &k,
                ConflictReason::BothChanged,
                &planned_context(Some(&base_of(5, "x"))),
            ),
        ];
        for o in others {
            assert_ne!(o, base);
        }
        assert!(base.0.starts_with("c-") && base.0.len() == 42);
    }

    #[test]
    fn operation_ids_follow_content_and_revision() {
        let sheet: sync_core::kimai::Timesheet = serde_json::from_value(serde_json::json!({
            "id": 4, "begin": "2026-03-02T09:00:00+0100", "end": "2026-03-02T10:00:00+0100",
            "duration": 3600, "description": "[zammad:ta=1]", "activity": 1, "project": 1,
            "user": 1, "tags": [], "exported": false, "billable": true
        }))
        .unwrap();
        let delete = |id| Operation::Delete {
            key: EntryKey("ta:1".into()),
            kimai_id: TimesheetId(id),
            expected: sheet.clone(),
        };
        let a = operation_id(TicketId(1), &delete(4), "r1");
        assert_eq!(a, operation_id(TicketId(1), &delete(4), "r1"));
        assert_ne!(a, operation_id(TicketId(1), &delete(5), "r1"));
        assert_ne!(a, operation_id(TicketId(1), &delete(4), "r2"));
        assert_ne!(a, operation_id(TicketId(2), &delete(4), "r1"));
        assert!(a.0.starts_with("op-delete-"));
    }
}
