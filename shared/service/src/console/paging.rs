//! The page a listing is asked for: a size and the `next` token of the previous page.

use crate::console::error::{ConsoleError, ConsoleResult};
use sync_store::page::MAX_PAGE_SIZE;
use sync_store::{PageRequest, PageToken};

/// Page size when the caller names none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// A page of `limit` (default [`DEFAULT_PAGE_SIZE`], at most the store's `MAX_PAGE_SIZE`) after
/// the token `after` (empty: the first page).
pub fn page_request(limit: Option<u32>, after: Option<String>) -> ConsoleResult<PageRequest> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(ConsoleError::invalid(
            "limit",
            format!("must be 1..={MAX_PAGE_SIZE}"),
        ));
    }
    Ok(PageRequest {
        limit,
        after: after.filter(|a| !a.is_empty()).map(PageToken),
    })
}
