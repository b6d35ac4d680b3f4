//! The HTTP transport seam.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::{Request, Response};

use crate::body::Body;
use crate::error::TransportError;

/// Sends one HTTP request and returns the response, whatever its status.
///
/// A transport must not follow redirects (a `303` is data for the caller), must not interpret
/// status codes, and should report failures as a [`TransportError`] whose
/// [`request_sent`](TransportError::request_sent) flag is false only when no byte of the request
/// left the machine (that is what allows retrying a `POST`).
///
/// The connector puts a [`Timeouts`] value in the request's extensions; a transport applies the
/// connect timeout it asks for when it can. Read and idle timeouts are enforced by the connector.
///
/// `evo-hyper` provides the default implementation; [`transport_fn`] turns a closure into one.
///
/// Implement it with the [`async_trait`](crate::async_trait) attribute re-exported here (no
/// other dependency needed), e.g. a middleware that logs and delegates:
///
/// ```
/// use evo_core::{Body, SharedTransport, Transport, TransportError, async_trait};
///
/// #[derive(Debug)]
/// struct Logged(SharedTransport);
///
/// #[async_trait]
/// impl Transport for Logged {
///     async fn send(
///         &self,
///         request: http::Request<Body>,
///     ) -> Result<http::Response<Body>, TransportError> {
///         let line = format!("{} {}", request.method(), evo_core::redact_uri(request.uri()));
///         let response = self.0.send(request).await?;
///         eprintln!("{line} -> {}", response.status());
///         Ok(response)
///     }
/// }
/// ```
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends the request.
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError>;
}

/// A transport shared between clients.
pub type SharedTransport = Arc<dyn Transport>;

/// Timeouts requested for one request, carried in [`http::Request::extensions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Timeouts {
    /// How long establishing a connection (TCP + TLS) may take.
    pub connect: Option<Duration>,
    /// How long to wait for the response head, and for each body chunk after it.
    pub read: Option<Duration>,
}

impl Timeouts {
    /// Timeouts with both values set.
    pub fn new(connect: Option<Duration>, read: Option<Duration>) -> Self {
        Timeouts { connect, read }
    }
}

/// A [`Transport`] made from an async closure, for middleware and tests.
///
/// ```
/// use std::sync::Arc;
/// use evo_core::{transport_fn, Body, Transport};
///
/// let transport: Arc<dyn Transport> = Arc::new(transport_fn(|_request| async {
///     Ok(http::Response::builder().status(204).body(Body::empty()).unwrap())
/// }));
/// ```
pub fn transport_fn<F, Fut>(f: F) -> TransportFn<F>
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Body>, TransportError>> + Send + 'static,
{
    TransportFn(f)
}

/// The transport returned by [`transport_fn`].
pub struct TransportFn<F>(F);

impl<F> fmt::Debug for TransportFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransportFn")
    }
}

#[async_trait]
impl<F, Fut> Transport for TransportFn<F>
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Body>, TransportError>> + Send + 'static,
{
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        (self.0)(request).await
    }
}
