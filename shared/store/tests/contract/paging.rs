//! Reading a paged listing to its end, the way every listing contract checks it.

use sync_store::{Page, PageRequest, StoreResult};

/// Reads every page of a listing, checking each page's size.
pub async fn all_pages<T, F, Fut>(limit: u32, mut fetch: F) -> (Vec<T>, usize)
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = StoreResult<Page<T>>>,
{
    let mut items = Vec::new();
    let mut pages = 0;
    let mut request = PageRequest::first(limit);
    loop {
        let page = fetch(request.clone()).await.expect("listing failed");
        pages += 1;
        assert!(
            page.items.len() <= limit as usize,
            "page larger than its limit"
        );
        items.extend(page.items);
        match page.next {
            Some(token) => request = PageRequest::next(limit, token),
            None => return (items, pages),
        }
        assert!(pages < 100, "paging does not end");
    }
}
