//! Listeners, per-connection serving (with the ability to kill a connection on purpose), and the
//! fault-injection layer.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use crate::faults::{Fault, RouteClass};
use crate::http_util::bearer;
use crate::state::Shared;
use crate::wan::{Throttled, WanProfile};

const KILL_RESET: u8 = 1;
const KILL_CLOSE: u8 = 2;

/// Lets a request handler end its own connection (for the reset and truncation faults).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnHandle {
    inner: Arc<(Notify, AtomicU8)>,
}

impl ConnHandle {
    /// Ends the connection: with a TCP reset when `reset`, else with a normal close.
    pub(crate) fn kill(&self, reset: bool) {
        self.inner.1.store(
            if reset { KILL_RESET } else { KILL_CLOSE },
            Ordering::SeqCst,
        );
        self.inner.0.notify_one();
    }

    async fn killed(&self) -> bool {
        self.inner.0.notified().await;
        self.inner.1.load(Ordering::SeqCst) == KILL_RESET
    }
}

/// How a listener speaks: TLS or not, HTTP/2 or not, and the WAN profile its connections play.
#[derive(Clone)]
pub(crate) struct ListenerConfig {
    /// TLS with this acceptor (its ALPN list must match `http1_only`), or plain HTTP.
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    /// Serves HTTP/1.1 only (no h2 by ALPN, no h2c prior knowledge), as Azure's blob endpoints.
    pub(crate) http1_only: bool,
    /// Added latency per request and bandwidth cap per connection.
    pub(crate) wan: WanProfile,
}

/// Serves `app` on `listener` until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    config: ListenerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((tcp, _)) => {
                        conns.spawn(serve_connection(tcp, app.clone(), config.clone(), shutdown.clone()));
                    }
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
}

async fn serve_connection(
    tcp: tokio::net::TcpStream,
    app: Router,
    config: ListenerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    // A second handle on the socket, so a kill can set SO_LINGER=0 (reset) after the stream
    // itself has been moved into hyper.
    let dup = socket2::SockRef::from(&tcp).try_clone().ok();
    let handle = ConnHandle::default();
    let h = handle.clone();
    let wan = config.wan;
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(h.clone());
        let app = app.clone();
        async move {
            wan.delay_request().await;
            app.oneshot(req.map(Body::new)).await
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if config.http1_only {
        builder = builder.http1_only();
    }
    // Paced under TLS, so the cap counts the bytes on the wire.
    let tcp = Throttled::new(tcp, &config.wan);
    let reset = match config.tls {
        None => {
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), svc);
            tokio::select! {
                _ = conn => None,
                reset = handle.killed() => Some(reset),
                _ = shutdown.changed() => None,
            }
        }
        Some(acceptor) => {
            let Ok(Ok(stream)) =
                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
            else {
                return;
            };
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => None,
                reset = handle.killed() => Some(reset),
                _ = shutdown.changed() => None,
            }
        }
    };
    if let (Some(true), Some(sock)) = (reset, &dup) {
        let _ = sock.set_linger(Some(Duration::ZERO));
    }
    // Dropping the connection future (above) and `dup` (here) closes the socket.
    drop(dup);
}

/// Reads a request's body to its end before an injected status answers it. A server that
/// answers before reading closes the connection under a client still sending, which then sees
/// a broken connection instead of the status (a test of 503 handling would flake).
async fn drain(req: Request) {
    let _ = axum::body::to_bytes(req.into_body(), usize::MAX).await;
}

/// The fault-injection middleware; it also counts the body bytes of blob `GET` answers.
pub(crate) async fn fault_layer(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let blob_read = req.method() == http::Method::GET
        && crate::services::classify(req.uri().path())
            .is_some_and(|(_, class)| class == RouteClass::Blob);
    let response = inject(shared.clone(), req, next).await;
    if !blob_read {
        return response;
    }
    response.map(|inner| Body::new(CountedBody { inner, shared }))
}

/// Applies the fault, if any, the plan picks for this request.
async fn inject(shared: Arc<Shared>, req: Request, next: Next) -> Response {
    // Counted before faults, so single-flight tests see every attempt, answered or not.
    if req.uri().path() == "/connect/token" {
        shared
            .token_requests
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    let Some((service, class)) = crate::services::classify(req.uri().path()) else {
        return next.run(req).await;
    };
    let fault_status = |status: u16| (service.fault_response)(status);
    let fault = shared.faults().decide(class, req.method());
    let Some(fault) = fault else {
        return next.run(req).await;
    };
    tracing::debug!(?class, ?fault, path = req.uri().path(), "injecting fault");
    let conn = req.extensions().get::<ConnHandle>().cloned();
    match fault {
        Fault::Latency(d) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Fault::Status(code) => {
            drain(req).await;
            fault_status(code)
        }
        Fault::TooManyRequests { retry_after_secs } => {
            drain(req).await;
            let mut r = fault_status(429);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            r
        }
        Fault::Unavailable { retry_after_secs } => {
            drain(req).await;
            let mut r = fault_status(503);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            r
        }
        Fault::ResetMidRequest => {
            let Some(c) = conn else {
                return fault_status(500);
            };
            let announced = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let mut body = req.into_body();
            let mut read = 0u64;
            // Take about half of what the client sends, then cut the connection: the request
            // never reaches its handler.
            while read < announced / 2 {
                match std::future::poll_fn(|cx| {
                    http_body::Body::poll_frame(Pin::new(&mut body), cx)
                })
                .await
                {
                    Some(Ok(frame)) => {
                        read += frame.data_ref().map_or(0, |d| d.len() as u64);
                    }
                    _ => break,
                }
            }
            c.kill(true);
            std::future::pending::<Response>().await
        }
        Fault::ResetBeforeBody => match conn {
            Some(c) => {
                c.kill(true);
                std::future::pending::<Response>().await
            }
            None => fault_status(500),
        },
        Fault::ResetMidBody | Fault::TruncatedBody => {
            let reset = matches!(fault, Fault::ResetMidBody);
            let resp = next.run(req).await;
            let Some(c) = conn else { return resp };
            let (parts, body) = resp.into_parts();
            let full = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .or_else(|| http_body::Body::size_hint(&body).exact())
                .unwrap_or(2);
            if full == 0 {
                c.kill(reset);
                return std::future::pending::<Response>().await;
            }
            let mut parts = parts;
            if !parts.headers.contains_key(header::CONTENT_LENGTH) {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            }
            let cut = CutBody {
                inner: body,
                allowance: full / 2,
                sent: 0,
                conn: c,
                reset,
                triggered: false,
                full,
            };
            Response::from_parts(parts, Body::new(cut))
        }
        Fault::ExpireUrl => {
            if class == RouteClass::Blob {
                let q = crate::http_util::Query::parse(req.uri().query());
                if let Some((_, sig)) = q.0.iter().find(|(k, _)| k == "sig") {
                    shared.model().revoked_signatures.insert(sig.clone());
                }
            }
            next.run(req).await
        }
        Fault::FlipByte => {
            let (parts, body) = next.run(req).await.into_parts();
            Response::from_parts(
                parts,
                Body::new(FlippedBody {
                    inner: body,
                    done: false,
                }),
            )
        }
        Fault::ExpireToken => {
            if let Some(t) = bearer(req.headers()) {
                if let Some(info) = shared.model().tokens.get_mut(t) {
                    info.expires = std::time::Instant::now();
                }
            }
            next.run(req).await
        }
    }
}

/// A body that passes `allowance` bytes through, then ends the connection.
struct CutBody {
    inner: Body,
    allowance: u64,
    sent: u64,
    conn: ConnHandle,
    reset: bool,
    triggered: bool,
    full: u64,
}

impl http_body::Body for CutBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.sent >= this.allowance {
            if !this.triggered {
                this.triggered = true;
                let conn = this.conn.clone();
                let reset = this.reset;
                // Give hyper a moment to flush what was sent before the connection goes away.
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    conn.kill(reset);
                });
            }
            return Poll::Pending;
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(mut data) => {
                    let left = this.allowance - this.sent;
                    if data.len() as u64 > left {
                        data = data.slice(..left as usize);
                    }
                    this.sent += data.len() as u64;
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            Poll::Ready(None) => {
                // The body was shorter than announced: stop here and cut the connection.
                this.sent = this.allowance;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.full)
    }
}

/// A body that adds the bytes it passes on to the emulator's count of blob bytes sent.
struct CountedBody {
    inner: Body,
    shared: Arc<Shared>,
}

impl http_body::Body for CountedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                this.shared
                    .blob_bytes_sent
                    .fetch_add(data.len() as u64, Ordering::Relaxed);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A body with one byte inverted: the middle byte of its first non-empty data frame.
struct FlippedBody {
    inner: Body,
    done: bool,
}

impl http_body::Body for FlippedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) if !this.done => match frame.into_data() {
                Ok(data) if !data.is_empty() => {
                    this.done = true;
                    let mut flipped = data.to_vec();
                    let middle = flipped.len() / 2;
                    flipped[middle] ^= 0xFF;
                    Poll::Ready(Some(Ok(Frame::data(Bytes::from(flipped)))))
                }
                Ok(data) => Poll::Ready(Some(Ok(Frame::data(data)))),
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
