//! The conflict list of the console's Reconcile section: filter by status, reason and ticket,
//! newest first, paged with the store's opaque token. Resolving them is [`super::resolution`].

use crate::console::error::{ConsoleError, ConsoleResult};
use sync_store::conflicts::{ConflictFilter, ConflictRecord, ConflictsStore};
use sync_store::{Page, PageRequest, StoreError};

/// One page of the conflicts `filter` selects (a page may be short, even empty, while `next`
/// is set).
pub async fn list(
    conflicts: &dyn ConflictsStore,
    filter: &ConflictFilter,
    page: &PageRequest,
) -> ConsoleResult<Page<ConflictRecord>> {
    conflicts.list(filter, page).await.map_err(|e| match e {
        // A page token the store refuses is the caller's `after`.
        StoreError::Invalid(d) => ConsoleError::invalid("after", d),
        other => other.into(),
    })
}
