use crate::audit::{
    AuditEvent, AuditFilter, AuditLog, AuditRecord, AuditRetention, audit_id, check_range,
};
use crate::error::StoreResult;
use crate::memory::page_of;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::NaiveDate;
use std::sync::Mutex;

pub struct MemoryAuditLog {
    retention: AuditRetention,
    records: Mutex<Vec<AuditRecord>>,
}

impl MemoryAuditLog {
    pub fn new(retention: AuditRetention) -> Self {
        MemoryAuditLog {
            retention,
            records: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl AuditLog for MemoryAuditLog {
    fn retention(&self) -> AuditRetention {
        self.retention
    }

    async fn append(&self, event: &AuditEvent) -> StoreResult<AuditRecord> {
        let record = AuditRecord {
            id: audit_id(event),
            event: event.clone(),
            expires_at: self.retention.expiry_of(event),
        };
        self.records
            .lock()
            .expect("audit lock poisoned")
            .push(record.clone());
        Ok(record)
    }

    async fn query(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditRecord>> {
        check_range(from, to)?;
        let records = self.records.lock().expect("audit lock poisoned");
        let mut items: Vec<(String, AuditRecord)> = records
            .iter()
            .filter(|r| {
                let day = r.event.at.date_naive();
                day >= from && day <= to && filter.matches(&r.event)
            })
            .map(|r| (format!("{}#{}", r.event.at.date_naive(), r.id), r.clone()))
            .collect();
        items.sort_by(|a, b| b.0.cmp(&a.0));
        page_of(&items, true, page)
    }

    async fn delete(&self, day: NaiveDate, id: &str) -> StoreResult<bool> {
        let mut records = self.records.lock().expect("audit lock poisoned");
        let before = records.len();
        records.retain(|r| !(r.id == id && r.event.at.date_naive() == day));
        Ok(records.len() < before)
    }
}
