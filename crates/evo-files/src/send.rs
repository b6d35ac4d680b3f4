//! Sending File API requests from futures that must be `Send`.
//!
//! The futures of evo-core's `RequestBuilder::send*` are not `Send` at the time of writing:
//! `RequestBuilder` holds a `Body` (a `Send` but not `Sync` stream) and its send loop keeps a
//! `&self` borrow across an await, which makes the future `!Send`. evo-files' uploads,
//! downloads and listings must be `Send` (users spawn them; evo-io's URL renewal callback must
//! be `Send`), so each request future is driven on its own blocking-pool thread of the current
//! runtime, and only the `Send` builder crosses threads. Remove this module when evo-core's
//! request futures are `Send` (the fix there: do not borrow the builder across `send_once`).

use std::future::Future;

use serde::de::DeserializeOwned;

use evo_core::{Body, RequestBuilder};

/// Runs `make()`'s future to completion on a blocking thread of the current runtime.
async fn detached<T, F, Fut>(make: F) -> Result<T, evo_core::Error>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, evo_core::Error>>,
    T: Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(make()))
        .await
        .map_err(|e| evo_core::Error::invalid_request(format!("the request task failed: {e}")))?
}

/// `request.send_json()`.
pub(crate) async fn json<T: DeserializeOwned + Send + 'static>(
    request: RequestBuilder,
) -> Result<T, evo_core::Error> {
    detached(move || request.send_json::<T>()).await
}

/// `request.send_empty()`, returning the status.
pub(crate) async fn empty(request: RequestBuilder) -> Result<http::StatusCode, evo_core::Error> {
    detached(move || async move { request.send_empty().await.map(|(status, _)| status) }).await
}

/// `request.send()`, with the body read into memory (up to `limit` bytes).
pub(crate) async fn buffered(
    request: RequestBuilder,
    limit: usize,
) -> Result<http::Response<bytes::Bytes>, evo_core::Error> {
    detached(move || async move {
        let response = request.send().await?;
        let (parts, body) = response.into_parts();
        let bytes = Body::collect(body, limit).await.map_err(|e| {
            evo_core::Error::from(
                evo_core::TransportError::new(
                    evo_core::TransportErrorKind::Connection,
                    format!("reading the response body failed: {e}"),
                )
                .with_source(e),
            )
        })?;
        Ok(http::Response::from_parts(parts, bytes))
    })
    .await
}
