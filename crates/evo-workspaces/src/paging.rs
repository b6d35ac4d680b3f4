//! Pages of list results, and streams that follow the servers' paging links.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;

use evo_core::http::{Method, StatusCode};
use evo_core::url::Url;
use evo_core::{ApiConnector, DecodeError, Error};
use futures_core::Stream;
use serde::de::DeserializeOwned;

pub use evo_core::Page;

/// Streams every item: `first` fetches the first page, then each `next` link is fetched with
/// `connector` and decoded as `P`; every page, the first included, is split into items and the
/// next link by `split`.
///
/// Guards against misbehaving servers: a link that is not a URL, a link seen before (a loop),
/// or an empty page that still has a next link ends the stream with an error.
///
/// The stream is `Send` when the connector's request futures are.
pub(crate) fn follow_links<F, P, T>(
    connector: ApiConnector,
    first: F,
    split: fn(P) -> (Vec<T>, Option<String>),
) -> impl Stream<Item = Result<T, Error>> + 'static
where
    F: Future<Output = Result<P, Error>> + 'static,
    P: DeserializeOwned + 'static,
    T: 'static,
{
    enum Next<F> {
        First(Pin<Box<F>>),
        Link(String),
        /// The items before it are yielded first, then this error ends the stream.
        Fail(Error),
        Done,
    }
    struct State<T, F> {
        pending: VecDeque<T>,
        next: Next<F>,
        seen: HashSet<String>,
    }
    let state = State {
        pending: VecDeque::new(),
        next: Next::First(Box::pin(first)),
        seen: HashSet::new(),
    };
    futures_util::stream::try_unfold(state, move |mut state| {
        let connector = connector.clone();
        async move {
            loop {
                if let Some(item) = state.pending.pop_front() {
                    return Ok(Some((item, state)));
                }
                let (items, next) = match std::mem::replace(&mut state.next, Next::Done) {
                    Next::Done => return Ok(None),
                    Next::Fail(error) => return Err(error),
                    Next::First(fetch) => split(fetch.await?),
                    Next::Link(link) => {
                        let url = parse_link(&link)?;
                        let page: P = connector.request_url(Method::GET, url).send_json().await?;
                        split(page)
                    }
                };
                if let Some(link) = next {
                    state.next = if items.is_empty() {
                        Next::Fail(bad_link(&link, "an empty page still has a next link"))
                    } else if !state.seen.insert(link.clone()) {
                        Next::Fail(bad_link(&link, "the paging links form a loop"))
                    } else {
                        Next::Link(link)
                    };
                }
                state.pending.extend(items);
            }
        }
    })
}

fn parse_link(link: &str) -> Result<Url, Error> {
    let url = Url::parse(link).map_err(|e| bad_link(link, &format!("not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad_link(link, "not an http or https URL"));
    }
    Ok(url)
}

fn bad_link(link: &str, why: &str) -> Error {
    DecodeError::new(
        "a paging link",
        StatusCode::OK,
        why.to_owned(),
        link.as_bytes(),
    )
    .into()
}
