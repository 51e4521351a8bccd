//! A person's decisions on a ticket's conflicts: the console records them when a conflict is
//! resolved, and reconcile reads them so the next plan honours them (design §6: "create anyway"
//! skips the duplicate check, "keep Kimai" / "accept deletion" / "ignore" leave the key alone,
//! "link" makes the chosen Kimai timesheet the key's, "apply Zammad" writes Zammad's version
//! over what Kimai holds).
//!
//! One control-store document per ticket (`decisions` / `decisions.<ticket id>`), so a
//! resolution only contends with resolutions of the same ticket. [`TicketDecisions`] is that
//! document, written by [`record_decision`] and read by [`load_ticket_decisions`].
//!
//! It lives on the pipeline side, beside the policy document, although the console writes it
//! (`console::resolution`): it is an input of reconcile's plan, read on every run, and its
//! format is what reconcile must keep reading.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, TimesheetId};
use sync_core::plan::ConflictReason;
use sync_store::StoreError;
use sync_store::conflicts::{ConflictId, ResolutionAction};
use sync_store::control::{ControlStore, DocumentKind, DocumentWrite, ExpectedVersion};

/// Document kind of the decisions documents.
pub const DECISIONS_KIND: DocumentKind = DocumentKind::Decisions;
/// Attempts at the conditional write of a decisions document before giving up.
const WRITE_ATTEMPTS: usize = 5;

/// Id of the decisions document of one ticket.
pub fn decisions_id(ticket: TicketId) -> String {
    format!("decisions.{}", ticket.0)
}

/// The decisions document of one ticket: the planner's inputs (`create_anyway`, `ignored`),
/// and the latest decision per key (`decisions`), of which reconcile applies `link`,
/// `apply_zammad` and `recreate` itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDecisions {
    /// The ticket (absent only in a document nobody wrote through [`record_decision`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketId>,
    #[serde(default)]
    pub create_anyway: Vec<EntryKey>,
    #[serde(default)]
    pub ignored: Vec<EntryKey>,
    #[serde(default)]
    pub decisions: Vec<Decision>,
}

/// One action a person took on a key (the newest per key; a new one replaces it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub key: EntryKey,
    pub action: ResolutionAction,
    /// The timesheet of a `link`.
    #[serde(default)]
    pub kimai_id: Option<TimesheetId>,
    /// The conflict it resolved.
    #[serde(default)]
    pub conflict_id: Option<ConflictId>,
    #[serde(default)]
    pub reason: Option<ConflictReason>,
    /// Console user who decided.
    #[serde(default)]
    pub actor: Option<String>,
    /// When it was decided.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

impl TicketDecisions {
    fn latest(&self, key: &EntryKey, action: ResolutionAction) -> Option<&Decision> {
        self.decisions
            .iter()
            .rev()
            .find(|d| &d.key == key && d.action == action)
    }

    /// The timesheet a person linked `key` to, if the key's decision is a link.
    pub fn link_for(&self, key: &EntryKey) -> Option<TimesheetId> {
        self.latest(key, ResolutionAction::Link)
            .and_then(|d| d.kimai_id)
    }

    /// When a person asked for Zammad's version of `key` to be written, if they did. A decision
    /// without a time counts as the oldest possible one.
    pub fn apply_zammad_at(&self, key: &EntryKey) -> Option<DateTime<Utc>> {
        self.latest(key, ResolutionAction::ApplyZammad)
            .map(|d| d.at.unwrap_or(DateTime::<Utc>::MIN_UTC))
    }

    /// When a person asked for a write of `key` that Zammad alone would not cause (apply
    /// Zammad's version, or recreate a deleted timesheet), if they did: the time goes into the
    /// revision of the key's operations, so they get a new id once.
    pub fn write_forced_at(&self, key: &EntryKey) -> Option<DateTime<Utc>> {
        [ResolutionAction::ApplyZammad, ResolutionAction::Recreate]
            .into_iter()
            .filter_map(|action| self.latest(key, action))
            .map(|d| d.at.unwrap_or(DateTime::<Utc>::MIN_UTC))
            .max()
    }

    /// Keys with a `link` decision, and their timesheets.
    pub fn links(&self) -> impl Iterator<Item = (&EntryKey, TimesheetId)> {
        self.decisions
            .iter()
            .filter(|d| d.action == ResolutionAction::Link)
            .filter_map(|d| d.kimai_id.map(|id| (&d.key, id)))
    }

    /// Adds a decision on `ticket`: the newest decision for a key replaces older ones, in the
    /// list and in `create_anyway` / `ignored` (kept sorted, without duplicates).
    pub fn record(&mut self, ticket: TicketId, decision: Decision) {
        let key = &decision.key;
        let mut create_anyway: BTreeSet<EntryKey> = self.create_anyway.drain(..).collect();
        let mut ignored: BTreeSet<EntryKey> = self.ignored.drain(..).collect();
        create_anyway.remove(key);
        ignored.remove(key);
        match decision.action {
            ResolutionAction::CreateAnyway | ResolutionAction::Recreate => {
                create_anyway.insert(key.clone());
            }
            ResolutionAction::KeepKimai
            | ResolutionAction::AcceptDeletion
            | ResolutionAction::Ignore => {
                ignored.insert(key.clone());
            }
            ResolutionAction::Link | ResolutionAction::ApplyZammad => {}
        }
        self.decisions.retain(|d| &d.key != key);
        self.decisions.push(decision);
        self.ticket = Some(ticket);
        self.create_anyway = create_anyway.into_iter().collect();
        self.ignored = ignored.into_iter().collect();
    }
}

/// Reads the decisions of one ticket; none recorded gives empty lists.
pub async fn load_ticket_decisions(
    control: &dyn ControlStore,
    ticket: TicketId,
) -> Result<TicketDecisions, StoreError> {
    Ok(load_versioned(control, ticket)
        .await?
        .map(|(decisions, _)| decisions)
        .unwrap_or_default())
}

async fn load_versioned(
    control: &dyn ControlStore,
    ticket: TicketId,
) -> Result<Option<(TicketDecisions, u64)>, StoreError> {
    let Some(doc) = control
        .get_document(DECISIONS_KIND, &decisions_id(ticket))
        .await?
    else {
        return Ok(None);
    };
    let decisions = serde_json::from_value(doc.body)
        .map_err(|e| StoreError::Corrupt(format!("decisions of ticket {}: {e}", ticket.0)))?;
    Ok(Some((decisions, doc.version)))
}

/// Why a decision was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Other resolutions of the ticket kept writing first.
    #[error("the decisions of ticket {} kept changing", .0.0)]
    KeptChanging(TicketId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds `decision` to the decisions document of `ticket` (see [`TicketDecisions::record`]),
/// conditional on the version read, reading again when another resolution wrote first.
pub async fn record_decision(
    control: &dyn ControlStore,
    ticket: TicketId,
    decision: &Decision,
    now: DateTime<Utc>,
) -> Result<(), RecordError> {
    update(control, ticket, now, |decisions| {
        decisions.record(ticket, decision.clone());
        true
    })
    .await
    .map(|_| ())
}

/// Removes every decision on `keys` from the ticket's document (a GDPR purge: the keys are a
/// purged person's entries). A document left empty stays (the ticket id is all it holds):
/// deleting it could drop a resolution written in between. How many list items went.
pub async fn forget_keys(
    control: &dyn ControlStore,
    ticket: TicketId,
    keys: &BTreeSet<EntryKey>,
    now: DateTime<Utc>,
) -> Result<usize, RecordError> {
    let mut removed = 0;
    update(control, ticket, now, |d| {
        let before = d.create_anyway.len() + d.ignored.len() + d.decisions.len();
        d.create_anyway.retain(|k| !keys.contains(k));
        d.ignored.retain(|k| !keys.contains(k));
        d.decisions.retain(|x| !keys.contains(&x.key));
        removed = before - (d.create_anyway.len() + d.ignored.len() + d.decisions.len());
        removed > 0
    })
    .await?;
    Ok(removed)
}

/// Reads the ticket's document, lets `change` edit it, and writes it back conditional on the
/// version read (again when another writer came first). `change` answers whether it changed
/// anything (nothing is written otherwise). The document as written, `None` if there was
/// nothing to write.
async fn update(
    control: &dyn ControlStore,
    ticket: TicketId,
    now: DateTime<Utc>,
    mut change: impl FnMut(&mut TicketDecisions) -> bool,
) -> Result<Option<TicketDecisions>, RecordError> {
    let id = decisions_id(ticket);
    for _ in 0..WRITE_ATTEMPTS {
        let (mut decisions, expected) = match load_versioned(control, ticket).await? {
            Some((d, version)) => (d, ExpectedVersion::Version(version)),
            None => (TicketDecisions::default(), ExpectedVersion::New),
        };
        if !change(&mut decisions) {
            return Ok(None);
        }
        let body = serde_json::to_value(&decisions)
            .map_err(|e| StoreError::Corrupt(format!("decisions of ticket {}: {e}", ticket.0)))?;
        match control
            .put_document(DECISIONS_KIND, &id, &body, expected, now)
            .await?
        {
            DocumentWrite::Written { .. } => return Ok(Some(decisions)),
            DocumentWrite::VersionConflict { .. } => continue,
        }
    }
    Err(RecordError::KeptChanging(ticket))
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
    async fn reads_link_and_apply_zammad_actions_as_the_console_writes_them() {
        let control = MemoryControl::new();
        put(
            &control,
            9,
            json!({"ticket": 9, "create_anyway": [], "ignored": [], "decisions": [
                {"key": "ta:1", "action": "link", "kimai_id": 51, "conflict_id": "c1",
                 "reason": "probable_duplicate", "actor": "admin", "at": "2026-03-02T10:00:00Z"},
                {"key": "ta:2", "action": "apply_zammad", "kimai_id": null, "conflict_id": "c2",
                 "reason": "both_changed", "actor": "admin", "at": "2026-03-02T11:00:00Z"},
                {"key": "ta:3", "action": "keep_kimai", "kimai_id": null}
            ]}),
        )
        .await;
        let d = load_ticket_decisions(&control, TicketId(9)).await.unwrap();
        let key = |k: &str| EntryKey(k.into());
        assert_eq!(d.link_for(&key("ta:1")), Some(TimesheetId(51)));
        assert_eq!(d.link_for(&key("ta:2")), None);
        assert_eq!(
            d.apply_zammad_at(&key("ta:2")),
            Some("2026-03-02T11:00:00Z".parse().unwrap())
        );
        assert_eq!(d.apply_zammad_at(&key("ta:1")), None);
        assert_eq!(d.apply_zammad_at(&key("ta:3")), None);
        assert_eq!(d.links().count(), 1);
        assert_eq!(
            d.write_forced_at(&key("ta:2")),
            d.apply_zammad_at(&key("ta:2"))
        );
        assert_eq!(d.write_forced_at(&key("ta:1")), None);
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

    fn decision(key: &str, action: ResolutionAction) -> Decision {
        Decision {
            key: EntryKey(key.into()),
            action,
            kimai_id: None,
            conflict_id: Some(ConflictId(format!("c-{key}"))),
            reason: Some(ConflictReason::DeletedInKimai),
            actor: Some("admin".into()),
            at: Some("2026-03-02T10:00:00Z".parse().unwrap()),
        }
    }

    #[tokio::test]
    async fn the_newest_decision_for_a_key_replaces_older_ones_in_the_lists_too() {
        let control = MemoryControl::new();
        let now = Utc::now();
        let ticket = TicketId(7);
        for d in [
            decision("ta:2", ResolutionAction::Recreate),
            decision("ta:1", ResolutionAction::CreateAnyway),
            decision("ta:2", ResolutionAction::AcceptDeletion),
        ] {
            record_decision(&control, ticket, &d, now).await.unwrap();
        }
        let d = load_ticket_decisions(&control, ticket).await.unwrap();
        assert_eq!(d.create_anyway, vec![EntryKey("ta:1".into())]);
        assert_eq!(d.ignored, vec![EntryKey("ta:2".into())]);
        let actions: Vec<_> = d.decisions.iter().map(|d| d.action).collect();
        assert_eq!(
            actions,
            [
                ResolutionAction::CreateAnyway,
                ResolutionAction::AcceptDeletion
            ]
        );
        assert_eq!(d.write_forced_at(&EntryKey("ta:2".into())), None);
    }

    #[tokio::test]
    async fn the_stored_document_keeps_its_json_shape() {
        let control = MemoryControl::new();
        let mut link = decision("ta:1", ResolutionAction::Link);
        link.kimai_id = Some(TimesheetId(51));
        record_decision(&control, TicketId(9), &link, Utc::now())
            .await
            .unwrap();
        let doc = control
            .get_document(DocumentKind::Decisions, "decisions.9")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            doc.body,
            json!({"ticket": 9, "create_anyway": [], "ignored": [], "decisions": [
                {"key": "ta:1", "action": "link", "kimai_id": 51, "conflict_id": "c-ta:1",
                 "reason": "deleted_in_kimai", "actor": "admin", "at": "2026-03-02T10:00:00Z"}
            ]})
        );
    }
}
