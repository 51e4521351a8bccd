//! A purged person stays forgotten: the purge leaves a suppression record, and reconcile drops
//! the time accountings of suppressed agents before it plans. Without it the next reconcile of
//! one of their tickets would find their timesheets in Kimai by our marker, adopt them, and
//! write their entries again.
//!
//! The record is a control-store document whose id is the SHA-256 of the person's Zammad user
//! id (with a fixed prefix): it holds no name or address. Zammad ids are small numbers, so the
//! hash is a pseudonym, not anonymity: whoever can read the table can test an id against it.
//! Re-enabling a person is deleting that document (not offered by the console).

use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use sync_core::ids::ZammadUserId;
use sync_store::StoreResult;
use sync_store::control::{ControlStore, DocumentKind, ExpectedVersion};

/// The hash a suppressed person is known by.
pub fn identity_hash(agent: ZammadUserId) -> String {
    hex::encode(Sha256::digest(format!("zammad-user:{}", agent.0)))
}

/// Records that `agent` was purged (again is harmless).
pub async fn suppress(
    control: &dyn ControlStore,
    agent: ZammadUserId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let body = json!({"since": now.date_naive()});
    control
        .put_document(
            DocumentKind::Suppression,
            &identity_hash(agent),
            &body,
            ExpectedVersion::Any,
            now,
        )
        .await
        .map(|_| ())
}

/// The suppressed people, as reconcile checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppressed(HashSet<String>);

impl Suppressed {
    /// Every suppression record (one query).
    pub async fn load(control: &dyn ControlStore) -> StoreResult<Self> {
        let docs = control.list_documents(DocumentKind::Suppression).await?;
        Ok(Suppressed(docs.into_iter().map(|d| d.id).collect()))
    }

    pub fn contains(&self, agent: ZammadUserId) -> bool {
        !self.0.is_empty() && self.0.contains(&identity_hash(agent))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_store::memory::MemoryControl;

    #[tokio::test]
    async fn a_suppressed_agent_is_known_by_a_hash_only() {
        let control = MemoryControl::new();
        suppress(&control, ZammadUserId(4711), Utc::now())
            .await
            .unwrap();
        let suppressed = Suppressed::load(&control).await.unwrap();
        assert!(suppressed.contains(ZammadUserId(4711)));
        assert!(!suppressed.contains(ZammadUserId(4712)));
        let docs = control
            .list_documents(DocumentKind::Suppression)
            .await
            .unwrap();
        assert_eq!(docs.len(), 1);
        let stored = format!("{:?}", docs[0]);
        assert!(!stored.contains("4711"), "the id is not stored: {stored}");
        assert_eq!(docs[0].id.len(), 64);
    }
}
