//! Paging of list queries: a limit and an opaque continuation token.

use crate::error::{StoreError, StoreResult};
use serde::{Deserialize, Serialize};

/// Largest page a caller may ask for (DynamoDB reads at most 1 MB per query anyway).
pub const MAX_PAGE_SIZE: u32 = 500;

/// An opaque position in a listing. Clients pass back exactly what they got; its content is an
/// adapter detail (a DynamoDB `LastEvaluatedKey`, an offset in memory).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageToken(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<PageToken>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        PageRequest { limit, after: None }
    }

    pub fn next(limit: u32, after: PageToken) -> Self {
        PageRequest {
            limit,
            after: Some(after),
        }
    }

    /// The limit, checked: 1..=MAX_PAGE_SIZE.
    pub(crate) fn checked_limit(&self) -> StoreResult<u32> {
        if self.limit == 0 || self.limit > MAX_PAGE_SIZE {
            return Err(StoreError::Invalid(format!(
                "page size {} is outside 1..={MAX_PAGE_SIZE}",
                self.limit
            )));
        }
        Ok(self.limit)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `None` on the last page.
    pub next: Option<PageToken>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}
