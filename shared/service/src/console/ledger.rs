//! The entries ledger: one row per desired timesheet key (what Zammad wants, where it stands,
//! which Kimai timesheet it owns), filtered and paged.
//!
//! A listing reads through the store index that fits the filters best and applies the other
//! filters to what it read, so a page may be short while `next` is set:
//! `ticket` → the ticket's records (one read, no paging); `agent` → `by-agent` over the day
//! range; `status` → `by-status`, newest change first; otherwise the days `from..=to`
//! (default: the last [`DEFAULT_DAYS`] days) through `by-day`, newest day first.

use crate::console::error::{ConsoleError, ConsoleResult};
use chrono::{Days, NaiveDate};
use sync_core::ids::{TicketId, ZammadUserId};
use sync_store::clock::Clock;
use sync_store::entries::{EntriesStore, EntryRecord, EntryStatus};
use sync_store::{Page, PageRequest, PageToken, StoreError};

/// Without `from`, `to` and another filter, this many days up to today are listed.
pub const DEFAULT_DAYS: u64 = 30;
/// Longest day range of one listing.
pub const MAX_DAYS: i64 = 366;

/// What the ledger is asked for; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerQuery {
    /// A status name (`synced`, `pending`, ...), checked here.
    pub status: Option<String>,
    pub ticket: Option<TicketId>,
    pub agent: Option<ZammadUserId>,
    /// First local day, inclusive.
    pub from: Option<NaiveDate>,
    /// Last local day, inclusive.
    pub to: Option<NaiveDate>,
}

/// The entries store, and the clock that says what "today" is.
#[derive(Clone, Copy)]
pub struct LedgerStores<'a> {
    pub entries: &'a dyn EntriesStore,
    pub clock: &'a dyn Clock,
}

/// One page of the ledger.
pub async fn list(
    stores: LedgerStores<'_>,
    q: &LedgerQuery,
    page: &PageRequest,
) -> ConsoleResult<Page<EntryRecord>> {
    let LedgerStores { entries, clock } = stores;
    let status = q.status.as_deref().map(parse_status).transpose()?;
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from > to
    {
        return Err(ConsoleError::invalid("from", "must not be after to"));
    }
    let found = if let Some(ticket) = q.ticket {
        Page {
            items: entries.load_ticket(ticket).await?,
            next: None,
        }
    } else if let Some(agent) = q.agent {
        let from = q.from.unwrap_or_else(first_day);
        let to = q.to.unwrap_or_else(last_day);
        let found = entries.list_by_agent(agent, from, to, page).await;
        found.map_err(after_error)?
    } else if let Some(status) = status {
        entries
            .list_by_status(status, page)
            .await
            .map_err(after_error)?
    } else {
        let (from, to) = day_range(clock, q.from, q.to)?;
        by_days(entries, from, to, page).await?
    };
    let keep = |r: &EntryRecord| {
        status.is_none_or(|s| r.status == s)
            && q.agent.is_none_or(|a| r.agent_id == a)
            && q.ticket.is_none_or(|t| r.ticket_id == t)
            && q.from.is_none_or(|f| r.day >= f)
            && q.to.is_none_or(|t| r.day <= t)
    };
    Ok(Page {
        items: found.items.into_iter().filter(|r| keep(r)).collect(),
        next: found.next,
    })
}

fn parse_status(s: &str) -> ConsoleResult<EntryStatus> {
    EntryStatus::parse(s).ok_or_else(|| {
        ConsoleError::invalid(
            "status",
            format!(
                "must be one of {}",
                EntryStatus::ALL.map(|s| s.as_str()).join(", ")
            ),
        )
    })
}

/// A page token the store refuses is the caller's `after`.
fn after_error(e: StoreError) -> ConsoleError {
    match e {
        StoreError::Invalid(d) => ConsoleError::invalid("after", d),
        other => other.into(),
    }
}

/// The day range of a listing: checked, defaulted.
fn day_range(
    clock: &dyn Clock,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ConsoleResult<(NaiveDate, NaiveDate)> {
    let to = to.unwrap_or_else(|| clock.now().date_naive());
    let from = from.unwrap_or_else(|| {
        to.checked_sub_days(Days::new(DEFAULT_DAYS - 1))
            .unwrap_or(to)
    });
    if from > to {
        return Err(ConsoleError::invalid("from", "must not be after to"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ConsoleError::invalid(
            "to",
            format!("the range may span at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// Bounds of an agent listing without a day range: any day the store holds.
fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date")
}

fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date")
}

/// Days `to` down to `from`, filling the page across days. The token is `<day>|<store token>`
/// (an empty store token: that day from its start), hex-encoded so it is safe in a URL.
async fn by_days(
    entries: &dyn EntriesStore,
    from: NaiveDate,
    to: NaiveDate,
    page: &PageRequest,
) -> ConsoleResult<Page<EntryRecord>> {
    let (mut day, mut inner) = start_of(page, from, to)?;
    let mut items = Vec::new();
    loop {
        let request = PageRequest {
            limit: page.limit - items.len() as u32,
            after: inner.take(),
        };
        let found = entries
            .list_by_day(day, &request)
            .await
            .map_err(after_error)?;
        items.extend(found.items);
        let next_position = match found.next {
            Some(t) => Some((day, Some(t))),
            None => day.pred_opt().filter(|d| *d >= from).map(|d| (d, None)),
        };
        match next_position {
            None => return Ok(Page { items, next: None }),
            Some((d, t)) if items.len() as u32 >= page.limit => {
                let token = hex(&format!("{d}|{}", t.map(|t| t.0).unwrap_or_default()));
                return Ok(Page {
                    items,
                    next: Some(PageToken(token)),
                });
            }
            Some((d, t)) => {
                day = d;
                inner = t;
            }
        }
    }
}

/// Where a day-by-day listing starts: `to` from its start, or where the token says.
fn start_of(
    page: &PageRequest,
    from: NaiveDate,
    to: NaiveDate,
) -> ConsoleResult<(NaiveDate, Option<PageToken>)> {
    let bad = || ConsoleError::invalid("after", "not a token of this listing");
    let Some(PageToken(t)) = &page.after else {
        return Ok((to, None));
    };
    let t = unhex(t).ok_or_else(bad)?;
    let (d, rest) = t.split_once('|').ok_or_else(bad)?;
    let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| bad())?;
    if d < from || d > to {
        return Err(bad());
    }
    Ok((d, (!rest.is_empty()).then(|| PageToken(rest.to_owned()))))
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}
