//! Offset-paged listings as one stream of items: the File, Geoscience Object and Block Model
//! APIs page with `offset` and `limit`; each client says how to read a page and whether more
//! follow, and [`offset_pages`] does the rest.

use std::future::Future;

use futures_core::Stream;

/// One page of a listing, the same shape from every service client: the items, where the
/// page starts, the page size asked for, the total the server reports, and the link to the
/// next page.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page, in order.
    pub items: Vec<T>,
    /// How many items come before this page (the `offset` asked for, 0 by default).
    pub offset: u64,
    /// The page size asked for, when the server says.
    pub limit: Option<u64>,
    /// How many items all pages hold, when the server says.
    pub total: Option<u64>,
    /// The absolute URL of the next page, for APIs that link their pages; `None` on the last
    /// page and for APIs that page by offset alone.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page.
    pub fn new(
        items: Vec<T>,
        offset: u64,
        limit: Option<u64>,
        total: Option<u64>,
        next: Option<String>,
    ) -> Self {
        Page {
            items,
            offset,
            limit,
            total,
            next,
        }
    }

    /// The offset of the next page.
    pub fn next_offset(&self) -> u64 {
        self.offset + self.items.len() as u64
    }

    /// True when no page follows this one: no next link, and no items left by the total
    /// (when the server reports one). An empty page is always the last.
    pub fn is_last(&self) -> bool {
        self.items.is_empty()
            || (self.next.is_none() && self.total.is_none_or(|t| self.next_offset() >= t))
    }
}

/// A page read by [`offset_pages`]: its items, and whether the server says more follow (a
/// `next` link, a `total` not reached yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetPage<T> {
    /// The items of the page, in order.
    pub items: Vec<T>,
    /// True when the server says another page follows this one.
    pub more: bool,
}

/// The items of every page from `offset` on. `fetch(offset)` reads the page at `offset` when
/// the previous one is used up. The stream ends after a page that says no more follow, after
/// an empty page, or with the first error (yielded last).
///
/// The offset advances by the items received, never by the page size asked for, so a server
/// that returns fewer items than asked skips nothing, and one that repeats itself cannot make
/// the stream loop forever (an empty page ends it).
pub fn offset_pages<T, E, F, Fut>(
    offset: u64,
    fetch: F,
) -> impl Stream<Item = Result<T, E>> + Send + 'static
where
    T: Send + 'static,
    E: Send + 'static,
    F: FnMut(u64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<OffsetPage<T>, E>> + Send,
{
    struct State<T, F> {
        fetch: F,
        offset: u64,
        buffered: std::vec::IntoIter<T>,
        done: bool,
    }
    let state = State {
        fetch,
        offset,
        buffered: Vec::new().into_iter(),
        done: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.buffered.next() {
                return Some((Ok(item), state));
            }
            if state.done {
                return None;
            }
            match (state.fetch)(state.offset).await {
                Ok(page) => {
                    let received = page.items.len() as u64;
                    state.done = received == 0 || !page.more;
                    state.offset += received;
                    state.buffered = page.items.into_iter();
                }
                Err(e) => {
                    state.done = true;
                    return Some((Err(e), state));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::{Arc, Mutex};

    /// A server holding `0..len`, answering pages of at most `page` items.
    fn server(
        len: u64,
        page: u64,
        asked: Arc<Mutex<Vec<u64>>>,
    ) -> impl FnMut(u64) -> std::future::Ready<Result<OffsetPage<u64>, String>> + Send + 'static
    {
        move |offset| {
            asked.lock().unwrap().push(offset);
            let end = (offset + page).min(len);
            std::future::ready(Ok(OffsetPage {
                items: (offset..end).collect(),
                more: end < len,
            }))
        }
    }

    #[tokio::test]
    async fn every_item_once_from_the_offset_on() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let items: Vec<u64> = offset_pages(3, server(10, 4, asked.clone()))
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(items, (3..10).collect::<Vec<_>>());
        assert_eq!(*asked.lock().unwrap(), [3, 7]);
    }

    #[tokio::test]
    async fn short_pages_advance_by_what_was_received() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let items: Vec<u64> = offset_pages(0, server(5, 2, asked.clone()))
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(items, (0..5).collect::<Vec<_>>());
        assert_eq!(*asked.lock().unwrap(), [0, 2, 4]);
    }

    #[tokio::test]
    async fn an_empty_page_ends_the_stream_even_when_more_are_claimed() {
        let calls = Arc::new(Mutex::new(0));
        let counter = calls.clone();
        let items: Vec<Result<u64, String>> = offset_pages(0, move |_| {
            *counter.lock().unwrap() += 1;
            std::future::ready(Ok(OffsetPage {
                items: Vec::new(),
                more: true,
            }))
        })
        .collect()
        .await;
        assert!(items.is_empty());
        assert_eq!(*calls.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn an_error_is_yielded_after_the_items_before_it_and_ends_the_stream() {
        let items: Vec<Result<u64, String>> = offset_pages(0, |offset| {
            std::future::ready(if offset == 0 {
                Ok(OffsetPage {
                    items: vec![1, 2],
                    more: true,
                })
            } else {
                Err(format!("failed at {offset}"))
            })
        })
        .collect()
        .await;
        assert_eq!(items, [Ok(1), Ok(2), Err("failed at 2".to_owned())]);
    }
}
