//! The loopback redirect listener of the authorization code flow: a small HTTP/1 server on
//! 127.0.0.1 and/or ::1 that hands each request to the redirect path to the login, and answers
//! with the page the login decides on (so "success" is shown only after the code was
//! exchanged). Requests whose `Host` is not a loopback name at the listener's port are refused
//! (DNS rebinding); a client gets [`HEADER_TIMEOUT`] to send its request head.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, REFERRER_POLICY};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::OAuthError;

/// The most connections served at once (a browser opens a few).
const MAX_CONNECTIONS: usize = 16;
/// The longest one connection may live.
const CONNECTION_LIMIT: Duration = Duration::from_secs(120);

/// A request that reached the redirect path.
pub(crate) struct Callback {
    /// The query parameters, decoded.
    pub(crate) params: Vec<(String, String)>,
    /// Where to send the page to answer with.
    pub(crate) reply: oneshot::Sender<Page>,
}

impl Callback {
    /// The first value of a query parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Answers the browser.
    pub(crate) fn answer(self, page: Page) {
        // The browser may have gone away; nothing to do then.
        let _ = self.reply.send(page);
    }
}

/// An HTML page for the browser.
pub(crate) struct Page {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl Page {
    pub(crate) fn success() -> Self {
        Page {
            status: StatusCode::OK,
            title: "Seequent Evo - Authorisation successful",
            message: "You are logged in. You can close this window and return to the application."
                .into(),
        }
    }

    pub(crate) fn failure(status: StatusCode, message: impl Into<String>) -> Self {
        Page {
            status,
            title: "Seequent Evo - Authorisation failed",
            message: message.into(),
        }
    }

    fn waiting() -> Self {
        Page {
            status: StatusCode::BAD_REQUEST,
            title: "Seequent Evo - Waiting for the login",
            message:
                "This address receives the redirect from the login page; it was opened without one."
                    .into(),
        }
    }

    fn over() -> Self {
        Page {
            status: StatusCode::GONE,
            title: "Seequent Evo - Login over",
            message: "This login attempt is over. Return to the application.".into(),
        }
    }

    fn render(&self) -> Response<Full<Bytes>> {
        let html = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{message}</p></body></html>\n",
            title = escape_html(self.title),
            message = escape_html(&self.message),
        );
        let mut response = Response::new(Full::new(Bytes::from(html)));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            "text/html; charset=utf-8".parse().expect("static"),
        );
        headers.insert(CACHE_CONTROL, "no-store".parse().expect("static"));
        // The page's URL holds the code: do not leak it to anything the page might load.
        headers.insert(REFERRER_POLICY, "no-referrer".parse().expect("static"));
        response
    }
}

/// Escapes text for HTML element content and attributes.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Which loopback addresses the listener binds, from the redirect URL's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoopbackHost {
    /// `localhost`: both 127.0.0.1 and ::1 (the browser may resolve it to either).
    Localhost,
    /// `127.0.0.1`.
    V4,
    /// `[::1]`.
    V6,
}

impl LoopbackHost {
    /// The loopback host of a redirect URL, if it names one.
    pub(crate) fn of(url: &url::Url) -> Option<LoopbackHost> {
        match url.host()? {
            url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => {
                Some(LoopbackHost::Localhost)
            }
            url::Host::Ipv4(ip) if ip == Ipv4Addr::LOCALHOST => Some(LoopbackHost::V4),
            url::Host::Ipv6(ip) if ip == Ipv6Addr::LOCALHOST => Some(LoopbackHost::V6),
            _ => None,
        }
    }
}

/// How long a connection may take to send its request head (a slow or silent client must not
/// hold one of the few connection slots).
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an ephemeral port is tried again when its IPv6 twin is taken.
const PORT_ATTEMPTS: usize = 8;

/// The running listener; stops when dropped.
pub(crate) struct Listener {
    callbacks: mpsc::Receiver<Callback>,
    accept_loops: Vec<JoinHandle<()>>,
    port: u16,
}

impl Drop for Listener {
    fn drop(&mut self) {
        for accept_loop in &self.accept_loops {
            accept_loop.abort();
        }
    }
}

async fn bind_one(ip: IpAddr, port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::new(ip, port)).await
}

fn bind_error(ip: IpAddr, port: u16, e: std::io::Error) -> OAuthError {
    OAuthError::io(
        format!(
            "listening for the login redirect on {}",
            SocketAddr::new(ip, port)
        ),
        e,
    )
}

/// Binds the sockets of `host` at `port` (0: one ephemeral port shared by both loopbacks).
async fn bind_sockets(host: LoopbackHost, port: u16) -> Result<Vec<TcpListener>, OAuthError> {
    let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    match host {
        LoopbackHost::V4 => Ok(vec![
            bind_one(v4, port)
                .await
                .map_err(|e| bind_error(v4, port, e))?,
        ]),
        LoopbackHost::V6 => Ok(vec![
            bind_one(v6, port)
                .await
                .map_err(|e| bind_error(v6, port, e))?,
        ]),
        LoopbackHost::Localhost => {
            for _ in 0..PORT_ATTEMPTS {
                let first = bind_one(v4, port)
                    .await
                    .map_err(|e| bind_error(v4, port, e))?;
                let bound = first
                    .local_addr()
                    .map_err(|e| OAuthError::io("reading the redirect listener's address", e))?
                    .port();
                match bind_one(v6, bound).await {
                    Ok(second) => return Ok(vec![first, second]),
                    // Another program has ::1 at this port: with an ephemeral port, try another.
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && port == 0 => continue,
                    // A browser resolving localhost to ::1 would reach that program: refuse.
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                        return Err(bind_error(v6, bound, e));
                    }
                    // No IPv6 on this machine: 127.0.0.1 is the only localhost.
                    Err(e) => {
                        tracing::debug!(error = %e, "no IPv6 loopback; listening on 127.0.0.1 only");
                        return Ok(vec![first]);
                    }
                }
            }
            Err(OAuthError::io(
                "listening for the login redirect on localhost",
                std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    "no ephemeral port was free on both 127.0.0.1 and ::1",
                ),
            ))
        }
    }
}

impl Listener {
    /// Listens on `host`'s loopback addresses at `port` (0: an ephemeral port) for
    /// `GET <path>`.
    pub(crate) async fn bind(
        host: LoopbackHost,
        port: u16,
        path: String,
    ) -> Result<Listener, OAuthError> {
        Listener::bind_with(host, port, path, HEADER_TIMEOUT).await
    }

    /// [`bind`](Self::bind) with another header read timeout.
    pub(crate) async fn bind_with(
        host: LoopbackHost,
        port: u16,
        path: String,
        header_timeout: Duration,
    ) -> Result<Listener, OAuthError> {
        let sockets = bind_sockets(host, port).await?;
        let port = sockets[0]
            .local_addr()
            .map_err(|e| OAuthError::io("reading the redirect listener's address", e))?
            .port();
        let (tx, rx) = mpsc::channel(8);
        let shared = Arc::new(Shared {
            path,
            port,
            header_timeout,
            permits: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            tx,
        });
        let accept_loops = sockets
            .into_iter()
            .map(|socket| tokio::spawn(accept_loop(socket, shared.clone())))
            .collect();
        Ok(Listener {
            callbacks: rx,
            accept_loops,
            port,
        })
    }

    /// The port listened on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The next request to the redirect path.
    pub(crate) async fn next(&mut self) -> Option<Callback> {
        self.callbacks.recv().await
    }
}

/// What the accept loops of one listener share.
struct Shared {
    path: String,
    port: u16,
    header_timeout: Duration,
    permits: Arc<Semaphore>,
    tx: mpsc::Sender<Callback>,
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok(permit) = shared.permits.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::debug!(error = %e, "accepting a redirect connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let header_timeout = shared.header_timeout;
            let service = service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(request, &shared).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .max_buf_size(64 * 1024)
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIMIT, connection).await;
            drop(permit);
        });
    }
}

/// True when the `Host` header names this listener: `localhost`, `127.0.0.1` or `[::1]` at its
/// port. Anything else is a page of another site whose name resolves here (DNS rebinding).
fn host_is_ours(request: &Request<Incoming>, port: u16) -> bool {
    let Some(host) = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<http::uri::Authority>().ok())
    else {
        return false;
    };
    let name = host.host();
    let loopback = name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1" || name == "[::1]";
    loopback && host.port_u16().unwrap_or(80) == port
}

async fn handle(request: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    if !host_is_ours(&request, shared.port) {
        return Page::failure(StatusCode::BAD_REQUEST, "Unexpected Host header.").render();
    }
    if request.uri().path() != shared.path {
        return Page::failure(StatusCode::NOT_FOUND, "Not found.").render();
    }
    if request.method() != Method::GET {
        return Page::failure(StatusCode::METHOD_NOT_ALLOWED, "Only GET is accepted here.")
            .render();
    }
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let interesting = params
        .iter()
        .any(|(k, _)| matches!(k.as_str(), "code" | "error" | "state"));
    if !interesting {
        return Page::waiting().render();
    }
    let (reply, page) = oneshot::channel();
    if shared.tx.send(Callback { params, reply }).await.is_err() {
        return Page::over().render();
    }
    match page.await {
        Ok(page) => page.render(),
        Err(_) => Page::over().render(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }

    /// Fuzz-style properties of the redirect listener, over real TCP connections: whatever a
    /// browser (or anything else on this machine) sends, the listener answers or closes, keeps
    /// serving, and hands the login exactly the query parameters that were sent.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::TcpStream;

        const PATH: &str = "/signin-callback";

        fn runtime() -> tokio::runtime::Runtime {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
        }

        /// Sends `request` (then, with `half_close`, ends the write side) and reads the answer
        /// until the listener closes the connection.
        async fn exchange(port: u16, request: &[u8], half_close: bool) -> Vec<u8> {
            let mut stream = TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            // The listener may answer and close before it read everything: not a failure.
            let _ = stream.write_all(request).await;
            if half_close {
                let _ = stream.shutdown().await;
            }
            let mut answer = Vec::new();
            let read =
                tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
                    .await;
            assert!(read.is_ok(), "the listener neither answered nor closed");
            answer
        }

        fn get(port: u16, query: &str) -> Vec<u8> {
            format!("GET {PATH}?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").into_bytes()
        }

        /// Sends a callback with `query` and returns the parameters the login received.
        async fn callback(listener: &mut Listener, query: &str) -> Vec<(String, String)> {
            let port = listener.port();
            let request = get(port, query);
            let client = tokio::spawn(async move { exchange(port, &request, false).await });
            let callback = tokio::time::timeout(Duration::from_secs(30), listener.next())
                .await
                .expect("a callback in time")
                .expect("the listener runs");
            let params = callback.params.clone();
            callback.answer(Page::success());
            let answer = client.await.expect("client");
            assert!(
                answer.starts_with(b"HTTP/1.1 200 "),
                "{:?}",
                String::from_utf8_lossy(&answer)
            );
            params
        }

        fn percent_encode_all(bytes: &[u8]) -> String {
            bytes.iter().map(|b| format!("%{b:02X}")).collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(32))]

            #[test]
            fn arbitrary_bytes_get_an_http_answer_or_a_close_and_the_listener_keeps_serving(
                garbage in prop_oneof![
                    prop::collection::vec(any::<u8>(), 0..2048),
                    (".{0,64}", prop::collection::vec(any::<u8>(), 0..256)).prop_map(|(q, tail)| {
                        let mut r = format!("GET {PATH}?{q}").into_bytes();
                        r.extend(tail);
                        r
                    }),
                ],
            ) {
                runtime().block_on(async {
                    let mut listener = Listener::bind(LoopbackHost::V4, 0, PATH.to_owned()).await.expect("bind");
                    let answer = exchange(listener.port(), &garbage, true).await;
                    assert!(
                        answer.is_empty() || answer.starts_with(b"HTTP/1.1 "),
                        "{:?}",
                        String::from_utf8_lossy(&answer)
                    );
                    let params = callback(&mut listener, "state=after&code=c").await;
                    assert_eq!(params, vec![
                        ("state".to_owned(), "after".to_owned()),
                        ("code".to_owned(), "c".to_owned()),
                    ]);
                });
            }

            #[test]
            fn query_parameters_reach_the_login_exactly_as_sent(
                params in prop::collection::vec((".{0,16}", ".{0,300}"), 0..6),
                duplicate_state in prop::option::of(".{0,16}"),
                long_code in prop::option::of(0usize..20_000),
                raw_code in prop::collection::vec(any::<u8>(), 0..64),
            ) {
                let mut sent = vec![("state".to_owned(), "s".to_owned())];
                sent.extend(params);
                if let Some(second) = duplicate_state {
                    sent.push(("state".to_owned(), second));
                }
                if let Some(len) = long_code {
                    sent.push(("code".to_owned(), "c".repeat(len)));
                }
                let mut query = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&sent)
                    .finish();
                // Percent-escaped bytes that need not be UTF-8 arrive decoded lossily.
                query.push_str("&code=");
                query.push_str(&percent_encode_all(&raw_code));
                sent.push(("code".to_owned(), String::from_utf8_lossy(&raw_code).into_owned()));
                let received = runtime().block_on(async {
                    let mut listener = Listener::bind(LoopbackHost::V4, 0, PATH.to_owned()).await.expect("bind");
                    callback(&mut listener, &query).await
                });
                prop_assert_eq!(received, sent);
            }
        }

        /// Clients that open connections and never finish their request head are cut off
        /// after the header timeout, so they cannot hold every connection slot.
        #[test]
        fn silent_clients_are_cut_off_and_the_login_still_gets_its_redirect() {
            runtime().block_on(async {
                let mut listener = Listener::bind_with(
                    LoopbackHost::V4,
                    0,
                    PATH.to_owned(),
                    Duration::from_millis(300),
                )
                .await
                .expect("bind");
                let mut silent = Vec::new();
                for _ in 0..MAX_CONNECTIONS + 4 {
                    let mut stream = TcpStream::connect(("127.0.0.1", listener.port()))
                        .await
                        .expect("connect");
                    let _ = stream.write_all(b"GET /signin-callback HTTP/1.1\r\n").await;
                    silent.push(stream);
                }
                let got = tokio::time::timeout(
                    Duration::from_secs(10),
                    callback(&mut listener, "state=s"),
                )
                .await
                .expect("the redirect got through while silent clients waited");
                assert_eq!(got, vec![("state".to_owned(), "s".to_owned())]);
                // The silent connections were closed by the listener.
                let mut first = silent.swap_remove(0);
                let mut rest = Vec::new();
                let closed =
                    tokio::time::timeout(Duration::from_secs(5), first.read_to_end(&mut rest))
                        .await;
                assert!(closed.is_ok(), "a silent connection stayed open");
            });
        }

        #[test]
        fn a_request_without_a_loopback_host_is_refused() {
            runtime().block_on(async {
                let listener = Listener::bind(LoopbackHost::V4, 0, PATH.to_owned())
                    .await
                    .expect("bind");
                let port = listener.port();
                for host in [
                    format!("Host: attacker.example:{port}\r\n"),
                    format!("Host: 127.0.0.1:{}\r\n", port.wrapping_add(1)),
                    "Host: 127.0.0.1\r\n".to_owned(),
                    String::new(),
                ] {
                    let request = format!("GET {PATH}?state=s&code=c HTTP/1.1\r\n{host}\r\n");
                    let answer = exchange(port, request.as_bytes(), false).await;
                    assert!(
                        answer.starts_with(b"HTTP/1.1 400 "),
                        "{host}: {:?}",
                        String::from_utf8_lossy(&answer)
                    );
                }
            });
        }

        #[test]
        fn an_oversized_request_is_refused_and_the_listener_keeps_serving() {
            runtime().block_on(async {
                let mut listener = Listener::bind(LoopbackHost::V4, 0, PATH.to_owned())
                    .await
                    .expect("bind");
                let huge = get(listener.port(), &format!("code={}", "x".repeat(200_000)));
                let answer = exchange(listener.port(), &huge, true).await;
                assert!(
                    answer.is_empty() || answer.starts_with(b"HTTP/1.1 4"),
                    "{:?}",
                    String::from_utf8_lossy(&answer[..answer.len().min(200)])
                );
                let params = callback(&mut listener, "state=a").await;
                assert_eq!(params, vec![("state".to_owned(), "a".to_owned())]);
            });
        }
    }
}
