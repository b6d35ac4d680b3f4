//! A hand-rolled blob server on a real socket that answers however a test says: sizes no blob
//! has, ignored `Range` headers, missing ETags. It records every request it sees.

use std::sync::{Arc, Mutex};

use axum::body::Body as AxumBody;
use http::{HeaderMap, Method, Response};
use url::Url;

/// A request as the hostile server saw it.
#[derive(Debug, Clone)]
pub struct Asked {
    pub method: Method,
    pub headers: HeaderMap,
}

impl Asked {
    /// The `Range` header, if any.
    pub fn range(&self) -> Option<String> {
        self.headers
            .get(http::header::RANGE)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

type Answer = dyn Fn(&Asked) -> Response<AxumBody> + Send + Sync;

/// The server; stopped when dropped.
pub struct HostileServer {
    /// A blob URL on it (with a dummy signature).
    pub url: Url,
    asked: Arc<Mutex<Vec<Asked>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HostileServer {
    pub async fn start(
        answer: impl Fn(&Asked) -> Response<AxumBody> + Send + Sync + 'static,
    ) -> HostileServer {
        let answer: Arc<Answer> = Arc::new(answer);
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let (answer, log) = (answer.clone(), log.clone());
            async move {
                let seen = Asked {
                    method: request.method().clone(),
                    headers: request.headers().clone(),
                };
                log.lock().unwrap().push(seen.clone());
                answer(&seen)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HostileServer {
            url: format!("http://127.0.0.1:{port}/c/blob?sig=SECRET")
                .parse()
                .unwrap(),
            asked,
            task,
        }
    }

    /// Every request so far.
    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }

    /// The requests with this method.
    pub fn asked_with(&self, method: Method) -> Vec<Asked> {
        self.asked()
            .into_iter()
            .filter(|a| a.method == method)
            .collect()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An answer with a status, headers and a body.
pub fn answer(
    status: u16,
    headers: &[(&str, String)],
    body: impl Into<AxumBody>,
) -> Response<AxumBody> {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, value);
    }
    response.body(body.into()).unwrap()
}

/// A server below HTTP libraries: it answers every request with `raw` bytes as they are (a
/// `Content-Length` no body has, say) and closes the connection. Stopped when dropped.
pub struct RawServer {
    pub url: Url,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    pub async fn start(raw: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> RawServer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let raw = Arc::new(raw);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let raw = raw.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let _ = socket.write_all(&raw(&head)).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        RawServer {
            url: format!("http://127.0.0.1:{port}/c/blob?sig=SECRET")
                .parse()
                .unwrap(),
            task,
        }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
