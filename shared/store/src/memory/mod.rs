//! In-memory adapters: the same behaviour as the AWS adapters (conditional writes, outcomes,
//! paging), held in maps behind a mutex. For unit tests of the code above the ports.

mod audit;
mod conflicts;
mod control;
mod entries;
mod events;
mod launch;
mod queue;
mod schedule;
mod secrets;

pub use audit::MemoryAuditLog;
pub use conflicts::MemoryConflicts;
pub use control::MemoryControl;
pub use entries::MemoryEntries;
pub use events::MemoryEventBus;
pub use launch::MemoryLauncher;
pub use queue::MemoryQueue;
pub use schedule::MemorySchedule;
pub use secrets::MemorySecrets;

use crate::error::{StoreError, StoreResult};
use crate::page::{Page, PageRequest, PageToken};

/// One page of `items`, which are already in listing order and carry a unique sort key each.
/// The token is the last key returned; the next page starts after it.
pub(crate) fn page_of<T: Clone>(
    items: &[(String, T)],
    descending: bool,
    page: &PageRequest,
) -> StoreResult<Page<T>> {
    let limit = page.checked_limit()? as usize;
    let start = match &page.after {
        None => 0,
        Some(PageToken(after)) => {
            if after.is_empty() {
                return Err(StoreError::Invalid("empty page token".into()));
            }
            items
                .iter()
                .position(|(k, _)| if descending { k < after } else { k > after })
                .unwrap_or(items.len())
        }
    };
    let rest = &items[start..];
    let taken: Vec<&(String, T)> = rest.iter().take(limit).collect();
    let next = if rest.len() > limit {
        taken.last().map(|(k, _)| PageToken(k.clone()))
    } else {
        None
    };
    Ok(Page {
        items: taken.into_iter().map(|(_, v)| v.clone()).collect(),
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Paging through any listing with any page size yields every item once, in order.
        #[test]
        fn pages_cover_every_item_once(
            mut keys in proptest::collection::btree_set("[a-z0-9#]{1,8}", 0..60),
            limit in 1u32..15,
            descending in any::<bool>(),
        ) {
            let mut sorted: Vec<String> = std::mem::take(&mut keys).into_iter().collect();
            if descending {
                sorted.reverse();
            }
            let items: Vec<(String, String)> = sorted.iter().map(|k| (k.clone(), k.clone())).collect();
            let mut seen = Vec::new();
            let mut request = PageRequest::first(limit);
            loop {
                let page = page_of(&items, descending, &request).unwrap();
                prop_assert!(page.items.len() <= limit as usize);
                seen.extend(page.items);
                match page.next {
                    Some(token) => request = PageRequest::next(limit, token),
                    None => break,
                }
            }
            prop_assert_eq!(seen, sorted);
        }
    }
}
