//! The connect timeout: one limit over the whole connection stack (TCP, proxy tunnel, TLS),
//! the request's own ([`evo_core::Timeouts::connect`]) or the builder's default.

use std::task::{Context, Poll};
use std::time::Duration;

use evo_core::TransportErrorKind;
use http::Uri;
use tower_service::Service;

use crate::error::{BoxError, BoxFuture, ConnectFailure, host_port};

tokio::task_local! {
    /// The connect timeout asked for by the request being sent (`Some(None)`: no timeout),
    /// set by `HyperTransport::send` around the client call. The pooled client creates the
    /// connect future inside that call, so the connector can read it.
    pub(crate) static REQUEST_CONNECT_TIMEOUT: Option<Duration>;
}

/// Applies the connect timeout to the whole stack (TCP, proxy tunnel, TLS) and classifies
/// failures as [`ConnectFailure`].
#[derive(Clone)]
pub(crate) struct TimeoutConnector<C> {
    pub(crate) inner: C,
    pub(crate) default_timeout: Option<Duration>,
}

impl<C> Service<Uri> for TimeoutConnector<C>
where
    C: Service<Uri, Error = BoxError> + Clone + Send + 'static,
    C::Future: Send + 'static,
    C::Response: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = BoxFuture<Result<C::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let timeout = REQUEST_CONNECT_TIMEOUT
            .try_with(|t| *t)
            .unwrap_or(self.default_timeout);
        let connecting = self.inner.call(dst.clone());
        Box::pin(async move {
            let result = match timeout {
                Some(limit) => match tokio::time::timeout(limit, connecting).await {
                    Ok(result) => result,
                    Err(_) => {
                        return Err(ConnectFailure::new(
                            TransportErrorKind::Timeout,
                            format!(
                                "connecting to {} took longer than the connect timeout of {limit:?}",
                                host_port(&dst)
                            ),
                        )
                        .into());
                    }
                },
                None => connecting.await,
            };
            result.map_err(|e| Box::new(ConnectFailure::classify(e, &dst)) as BoxError)
        })
    }
}
