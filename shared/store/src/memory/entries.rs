use crate::entries::{EntriesStore, EntryRecord, EntryStatus, ExpectedLink, LinkOutcome};
use crate::error::StoreResult;
use crate::memory::page_of;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use sync_core::desired::EntryKey;
use sync_core::ids::{TicketId, TimesheetId, ZammadUserId};
use sync_core::plan::Base;

#[derive(Default)]
pub struct MemoryEntries {
    records: Mutex<BTreeMap<(TicketId, EntryKey), EntryRecord>>,
}

impl MemoryEntries {
    pub fn new() -> Self {
        Self::default()
    }

    fn matching(&self, keep: impl Fn(&EntryRecord) -> bool) -> Vec<EntryRecord> {
        let records = self.records.lock().expect("entries lock poisoned");
        records.values().filter(|r| keep(r)).cloned().collect()
    }
}

/// The value as DynamoDB gives it back: its `desired` and `base` are stored as JSON, and local
/// times keep whole seconds there. Kept the same here, so a test over memory sees what a
/// deployed function sees.
fn as_stored<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_value(serde_json::to_value(value).expect("stored types serialise"))
        .expect("stored types read back")
}

/// Ticket and key as one string that sorts like the pair.
fn ticket_key(r: &EntryRecord) -> String {
    format!("{:020}#{}", r.ticket_id.0, r.key)
}

#[async_trait]
impl EntriesStore for MemoryEntries {
    async fn save(&self, record: &EntryRecord) -> StoreResult<()> {
        let mut records = self.records.lock().expect("entries lock poisoned");
        let id = (record.ticket_id, record.key.clone());
        let stored = records.get(&id);
        let base = stored.and_then(|r| r.base.clone());
        let create_sent_at = stored.and_then(|r| r.create_sent_at);
        records.insert(
            id,
            EntryRecord {
                base,
                create_sent_at,
                ..as_stored(record)
            },
        );
        Ok(())
    }

    async fn note_create_sent(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut records = self.records.lock().expect("entries lock poisoned");
        match records.get_mut(&(ticket, key.clone())) {
            Some(record) => {
                record.create_sent_at = Some(at);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn get(&self, ticket: TicketId, key: &EntryKey) -> StoreResult<Option<EntryRecord>> {
        let records = self.records.lock().expect("entries lock poisoned");
        Ok(records.get(&(ticket, key.clone())).cloned())
    }

    async fn load_ticket(&self, ticket: TicketId) -> StoreResult<Vec<EntryRecord>> {
        Ok(self.matching(|r| r.ticket_id == ticket))
    }

    async fn link(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        expected: ExpectedLink,
        base: &Base,
        status: EntryStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome> {
        let mut records = self.records.lock().expect("entries lock poisoned");
        let Some(record) = records.get_mut(&(ticket, key.clone())) else {
            return Ok(LinkOutcome::NoSuchEntry);
        };
        let current = record.kimai_id();
        let as_expected = match expected {
            ExpectedLink::Unlinked => current.is_none(),
            ExpectedLink::LinkedTo(id) => current == Some(id),
        };
        if !as_expected {
            return Ok(LinkOutcome::LostRace { current });
        }
        record.base = Some(as_stored(base));
        record.status = status;
        record.updated_at = at;
        Ok(LinkOutcome::Linked(Box::new(record.clone())))
    }

    async fn set_status(
        &self,
        ticket: TicketId,
        key: &EntryKey,
        status: EntryStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut records = self.records.lock().expect("entries lock poisoned");
        match records.get_mut(&(ticket, key.clone())) {
            Some(record) => {
                record.status = status;
                record.updated_at = at;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn list_by_status(
        &self,
        status: EntryStatus,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>> {
        let mut items: Vec<(String, EntryRecord)> = self
            .matching(|r| r.status == status)
            .into_iter()
            .map(|r| {
                (
                    format!("{}#{}", r.updated_at.timestamp_micros(), ticket_key(&r)),
                    r,
                )
            })
            .collect();
        items.sort_by(|a, b| b.0.cmp(&a.0));
        page_of(&items, true, page)
    }

    async fn list_by_day(
        &self,
        day: NaiveDate,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>> {
        let items: Vec<(String, EntryRecord)> = self
            .matching(|r| r.day == day)
            .into_iter()
            .map(|r| (ticket_key(&r), r))
            .collect();
        page_of(&items, false, page)
    }

    async fn list_by_agent(
        &self,
        agent: ZammadUserId,
        from: NaiveDate,
        to: NaiveDate,
        page: &PageRequest,
    ) -> StoreResult<Page<EntryRecord>> {
        let mut items: Vec<(String, EntryRecord)> = self
            .matching(|r| r.agent_id == agent && r.day >= from && r.day <= to)
            .into_iter()
            .map(|r| (format!("{}#{}", r.day, ticket_key(&r)), r))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        page_of(&items, false, page)
    }

    async fn tickets_on_day(&self, day: NaiveDate) -> StoreResult<BTreeSet<TicketId>> {
        Ok(self
            .matching(|r| r.day == day)
            .into_iter()
            .map(|r| r.ticket_id)
            .collect())
    }

    async fn find_by_kimai_id(&self, id: TimesheetId) -> StoreResult<Option<EntryRecord>> {
        Ok(self
            .matching(|r| r.kimai_id() == Some(id))
            .into_iter()
            .next())
    }

    async fn delete(&self, ticket: TicketId, key: &EntryKey) -> StoreResult<bool> {
        let mut records = self.records.lock().expect("entries lock poisoned");
        Ok(records.remove(&(ticket, key.clone())).is_some())
    }
}
