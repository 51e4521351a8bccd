//! The audit log as the console's History section reads it: filter by day range, kind, action,
//! actor and IP; a page of entries, or CSV of the whole selection (up to [`MAX_CSV_ROWS`]).

use crate::console::error::{ConsoleError, ConsoleResult};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sync_store::PageRequest;
use sync_store::audit::{AuditFilter, AuditKind, AuditLog, AuditRecord};
use sync_store::clock::Clock;
use sync_store::page::MAX_PAGE_SIZE;
use utoipa::ToSchema;

/// The CSV export stops here (and says so in a last line) so one request stays bounded.
pub const MAX_CSV_ROWS: usize = 10_000;
/// Without `from`, this many days up to `to` are read.
pub const DEFAULT_DAYS: u64 = 7;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub action: String,
    pub actor: String,
    pub ip: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        AuditEntry {
            id: r.id,
            at: r.event.at,
            kind: r.event.kind.as_str().to_owned(),
            action: r.event.action,
            actor: r.event.actor,
            ip: r.event.ip,
            detail: r.event.detail,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next: Option<String>,
}

/// Which events to read. Empty texts filter nothing.
#[derive(Debug, Clone, Default)]
pub struct AuditSelection {
    /// First UTC day; default a week before `to`.
    pub from: Option<NaiveDate>,
    /// Last UTC day; default today.
    pub to: Option<NaiveDate>,
    pub kind: Option<AuditKind>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub ip: Option<String>,
}

impl AuditSelection {
    /// The day range and the store's filter.
    fn resolve(&self, clock: &dyn Clock) -> (NaiveDate, NaiveDate, AuditFilter) {
        let to = self.to.unwrap_or_else(|| clock.now().date_naive());
        let from = self.from.unwrap_or_else(|| {
            to.checked_sub_days(Days::new(DEFAULT_DAYS - 1))
                .unwrap_or(to)
        });
        let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let filter = AuditFilter {
            kind: self.kind,
            action: non_empty(&self.action),
            actor: non_empty(&self.actor),
            ip: non_empty(&self.ip),
        };
        (from, to, filter)
    }
}

/// The audit log and the clock that says what "today" is.
#[derive(Clone, Copy)]
pub struct AuditReader<'a> {
    pub log: &'a dyn AuditLog,
    pub clock: &'a dyn Clock,
}

/// One page of the selected events, newest first. A reversed or too long range, or a foreign
/// page token, is the store's `Invalid`: the caller's input.
pub async fn audit_page(
    reader: AuditReader<'_>,
    selection: &AuditSelection,
    page: &PageRequest,
) -> ConsoleResult<AuditPage> {
    let (from, to, filter) = selection.resolve(reader.clock);
    let found = reader.log.query(from, to, &filter, page).await?;
    Ok(AuditPage {
        items: found.items.into_iter().map(AuditEntry::from).collect(),
        next: found.next.map(|t| t.0),
    })
}

/// A spreadsheet must not run a cell as a formula.
pub fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The selected events as CSV (`at,kind,action,actor,ip,detail`), newest first; after
/// [`MAX_CSV_ROWS`] a last line says the export was cut.
pub async fn audit_csv(
    reader: AuditReader<'_>,
    selection: &AuditSelection,
) -> ConsoleResult<Vec<u8>> {
    let (from, to, filter) = selection.resolve(reader.clock);
    let mut csv = AuditCsv::new()?;
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let found = reader.log.query(from, to, &filter, &page).await?;
        for r in found.items {
            if !csv.row(AuditEntry::from(r))? {
                return csv.finish();
            }
        }
        match found.next {
            Some(next) => page = PageRequest::next(MAX_PAGE_SIZE, next),
            None => return csv.finish(),
        }
    }
}

struct AuditCsv {
    writer: csv::Writer<Vec<u8>>,
    rows: usize,
}

fn csv_error(e: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::Internal(e.to_string())
}

impl AuditCsv {
    fn new() -> ConsoleResult<Self> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(["at", "kind", "action", "actor", "ip", "detail"])
            .map_err(csv_error)?;
        Ok(AuditCsv { writer, rows: 0 })
    }

    /// Writes one event; `false` (and the cut line instead) once the limit is reached.
    fn row(&mut self, e: AuditEntry) -> ConsoleResult<bool> {
        if self.rows == MAX_CSV_ROWS {
            let cut = format!("truncated after {MAX_CSV_ROWS} rows; narrow the filter");
            self.writer
                .write_record(["", "", "", "", "", &cut])
                .map_err(csv_error)?;
            return Ok(false);
        }
        self.writer
            .write_record([
                e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                e.kind,
                cell(&e.action),
                cell(&e.actor),
                cell(e.ip.as_deref().unwrap_or("")),
                cell(&e.detail.to_string()),
            ])
            .map_err(csv_error)?;
        self.rows += 1;
        Ok(true)
    }

    fn finish(self) -> ConsoleResult<Vec<u8>> {
        self.writer.into_inner().map_err(csv_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_never_start_a_formula() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("login"), "login");
    }
}
