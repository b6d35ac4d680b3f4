//! The loopback redirect listener of the authorization code flow: a small HTTP/1 server on
//! 127.0.0.1 that hands each request to the redirect path to the login, and answers with the
//! page the login decides on (so "success" is shown only after the code was exchanged).

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
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

/// The running listener; stops when dropped.
pub(crate) struct Listener {
    callbacks: mpsc::Receiver<Callback>,
    accept_loop: JoinHandle<()>,
    port: u16,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl Listener {
    /// Listens on 127.0.0.1:`port` (0: an ephemeral port) for `GET <path>`.
    pub(crate) async fn bind(port: u16, path: String) -> Result<Listener, OAuthError> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            OAuthError::io(
                format!("listening for the login redirect on 127.0.0.1:{port}"),
                e,
            )
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| OAuthError::io("reading the redirect listener's address", e))?
            .port();
        let (tx, rx) = mpsc::channel(8);
        let accept_loop = tokio::spawn(accept_loop(listener, path, tx));
        Ok(Listener {
            callbacks: rx,
            accept_loop,
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

async fn accept_loop(listener: TcpListener, path: String, tx: mpsc::Sender<Callback>) {
    let permits = std::sync::Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
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
        let tx = tx.clone();
        let path = path.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let tx = tx.clone();
                let path = path.clone();
                async move { Ok::<_, Infallible>(handle(request, &path, &tx).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIMIT, connection).await;
            drop(permit);
        });
    }
}

async fn handle(
    request: Request<Incoming>,
    path: &str,
    tx: &mpsc::Sender<Callback>,
) -> Response<Full<Bytes>> {
    if request.uri().path() != path {
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
    if tx.send(Callback { params, reply }).await.is_err() {
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

        fn get(query: &str) -> Vec<u8> {
            format!("GET {PATH}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
        }

        /// Sends a callback with `query` and returns the parameters the login received.
        async fn callback(listener: &mut Listener, query: &str) -> Vec<(String, String)> {
            let port = listener.port();
            let request = get(query);
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
                    let mut listener = Listener::bind(0, PATH.to_owned()).await.expect("bind");
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
                    let mut listener = Listener::bind(0, PATH.to_owned()).await.expect("bind");
                    callback(&mut listener, &query).await
                });
                prop_assert_eq!(received, sent);
            }
        }

        #[test]
        fn an_oversized_request_is_refused_and_the_listener_keeps_serving() {
            runtime().block_on(async {
                let mut listener = Listener::bind(0, PATH.to_owned()).await.expect("bind");
                let huge = get(&format!("code={}", "x".repeat(200_000)));
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
