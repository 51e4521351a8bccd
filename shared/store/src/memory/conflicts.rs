use crate::conflicts::{
    ConflictFilter, ConflictId, ConflictRecord, ConflictStatus, ConflictsStore, OpenOutcome,
    Resolution, ResolveOutcome,
};
use crate::error::StoreResult;
use crate::memory::page_of;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use sync_core::plan::Conflict;

#[derive(Default)]
pub struct MemoryConflicts {
    records: Mutex<HashMap<ConflictId, ConflictRecord>>,
}

impl MemoryConflicts {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ConflictsStore for MemoryConflicts {
    async fn open(
        &self,
        id: &ConflictId,
        conflict: &Conflict,
        at: DateTime<Utc>,
    ) -> StoreResult<OpenOutcome> {
        let mut records = self.records.lock().expect("conflicts lock poisoned");
        if records.contains_key(id) {
            return Ok(OpenOutcome::AlreadyExists);
        }
        records.insert(
            id.clone(),
            ConflictRecord {
                id: id.clone(),
                status: ConflictStatus::Open,
                opened_at: at,
                conflict: conflict.clone(),
                resolution: None,
            },
        );
        Ok(OpenOutcome::Opened)
    }

    async fn get(&self, id: &ConflictId) -> StoreResult<Option<ConflictRecord>> {
        Ok(self
            .records
            .lock()
            .expect("conflicts lock poisoned")
            .get(id)
            .cloned())
    }

    async fn resolve(
        &self,
        id: &ConflictId,
        resolution: &Resolution,
    ) -> StoreResult<ResolveOutcome> {
        let mut records = self.records.lock().expect("conflicts lock poisoned");
        let Some(record) = records.get_mut(id) else {
            return Ok(ResolveOutcome::NotFound);
        };
        if record.status == ConflictStatus::Resolved {
            return Ok(ResolveOutcome::AlreadyResolved(record.clone()));
        }
        record.status = ConflictStatus::Resolved;
        record.resolution = Some(resolution.clone());
        Ok(ResolveOutcome::Resolved(record.clone()))
    }

    async fn list(
        &self,
        filter: &ConflictFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ConflictRecord>> {
        let records = self.records.lock().expect("conflicts lock poisoned");
        let mut items: Vec<(String, ConflictRecord)> = records
            .values()
            .filter(|r| filter.matches(r))
            .map(|r| {
                (
                    format!("{:020}#{}", r.opened_at.timestamp_micros(), r.id),
                    r.clone(),
                )
            })
            .collect();
        items.sort_by(|a, b| b.0.cmp(&a.0));
        page_of(&items, true, page)
    }

    async fn delete(&self, id: &ConflictId) -> StoreResult<bool> {
        let mut records = self.records.lock().expect("conflicts lock poisoned");
        Ok(records.remove(id).is_some())
    }
}
