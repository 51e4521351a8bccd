//! A person's decisions on a ticket's conflicts: the console records them when a conflict is
//! resolved, and reconcile reads them so the next plan honours them (design §6: "create anyway"
//! skips the duplicate check, "keep Kimai" / "accept deletion" / "ignore" leave the key alone).
//!
//! One control-store document per ticket (`policy` / `decisions.<ticket id>`), so a resolution
//! only contends with resolutions of the same ticket.

use serde::Deserialize;
use sync_core::desired::EntryKey;
use sync_core::ids::TicketId;
use sync_store::StoreError;
use sync_store::control::{ControlStore, DocumentKind};

/// Document kind of the decisions documents (beside the sync policy).
pub const DECISIONS_KIND: DocumentKind = DocumentKind::Policy;

/// Id of the decisions document of one ticket.
pub fn decisions_id(ticket: TicketId) -> String {
    format!("decisions.{}", ticket.0)
}

/// The planner's inputs from a ticket's decisions. The console keeps more in the document (the
/// history of actions, who took them); reconcile needs only these two lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TicketDecisions {
    #[serde(default)]
    pub create_anyway: Vec<EntryKey>,
    #[serde(default)]
    pub ignored: Vec<EntryKey>,
}

/// Reads the decisions of one ticket; none recorded gives empty lists.
pub async fn load_ticket_decisions(
    control: &dyn ControlStore,
    ticket: TicketId,
) -> Result<TicketDecisions, StoreError> {
    let Some(doc) = control
        .get_document(DECISIONS_KIND, &decisions_id(ticket))
        .await?
    else {
        return Ok(TicketDecisions::default());
    };
    serde_json::from_value(doc.body)
        .map_err(|e| StoreError::Corrupt(format!("decisions of ticket {}: {e}", ticket.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;
    use sync_store::control::ExpectedVersion;
    use sync_store::memory::MemoryControl;

    async fn put(control: &MemoryControl, ticket: u64, body: serde_json::Value) {
        control
            .put_document(
                DECISIONS_KIND,
                &decisions_id(TicketId(ticket)),
                &body,
                ExpectedVersion::Any,
                Utc::now(),
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn no_document_means_no_decisions() {
        let control = MemoryControl::new();
        let d = load_ticket_decisions(&control, TicketId(1)).await.unwrap();
        assert_eq!(d, TicketDecisions::default());
    }

    #[tokio::test]
    async fn reads_the_lists_and_ignores_the_history() {
        let control = MemoryControl::new();
        put(
            &control,
            7,
            json!({"ticket": 7, "create_anyway": ["ta:1"], "ignored": ["ta:2", "ta:3"],
                   "decisions": [{"key": "ta:1", "action": "create_anyway"}]}),
        )
        .await;
        let d = load_ticket_decisions(&control, TicketId(7)).await.unwrap();
        assert_eq!(d.create_anyway, vec![EntryKey("ta:1".into())]);
        assert_eq!(d.ignored.len(), 2);
        // Another ticket's decisions are its own.
        let other = load_ticket_decisions(&control, TicketId(8)).await.unwrap();
        assert!(other.ignored.is_empty());
    }

    #[tokio::test]
    async fn a_malformed_document_is_a_corrupt_store_error_not_silence() {
        let control = MemoryControl::new();
        put(&control, 7, json!({"ignored": "ta:2"})).await;
        let err = load_ticket_decisions(&control, TicketId(7))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    }
}
