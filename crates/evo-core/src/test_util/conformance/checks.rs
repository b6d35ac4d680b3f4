//! The checks, one function each: what a transport must do, asked of the suite's server.

use std::sync::atomic::Ordering;

use futures_util::StreamExt;
use http::{HeaderValue, Method, Request, StatusCode};

use super::server::Server;
use super::stream::{STREAM_CHUNK, STREAM_CHUNKS, STREAM_WAIT, chunk, expected_stream_hash, fnv};
use crate::body::Body;
use crate::error::TransportErrorKind;
use crate::transport::Transport;

pub(super) type CheckOutcome = Result<(), String>;

fn request(method: Method, url: String, body: Body) -> Result<Request<Body>, String> {
    Request::builder()
        .method(method)
        .uri(url)
        .body(body)
        .map_err(|e| format!("cannot build the request: {e}"))
}

async fn send(
    transport: &dyn Transport,
    request: Request<Body>,
) -> Result<http::Response<Body>, String> {
    transport
        .send(request)
        .await
        .map_err(|e| format!("the transport failed: {e}"))
}

async fn text(body: Body) -> Result<String, String> {
    let bytes = body
        .collect(64 * 1024 * 1024)
        .await
        .map_err(|e| format!("reading the response body failed: {e}"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub(super) async fn statuses(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    for code in [
        200u16, 201, 202, 204, 304, 400, 401, 403, 404, 409, 410, 429, 500, 502, 503,
    ] {
        let url = server.url(&format!("/status/{code}"));
        let response = send(transport, request(Method::GET, url, Body::empty())?).await?;
        if response.status().as_u16() != code {
            return Err(format!("/status/{code} came back as {}", response.status()));
        }
        let _ = text(response.into_body()).await?;
    }
    Ok(())
}

pub(super) async fn redirects(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let before = server.state.target_hits.load(Ordering::SeqCst);
    for code in [301u16, 302, 303, 307, 308] {
        let url = server.url(&format!("/redirect/{code}"));
        let response = send(transport, request(Method::GET, url, Body::empty())?).await?;
        if response.status().as_u16() != code {
            return Err(format!(
                "expected the {code} itself, got {}",
                response.status()
            ));
        }
        if response
            .headers()
            .get("location")
            .map(HeaderValue::as_bytes)
            != Some(b"/target")
        {
            return Err(format!("the Location header of the {code} was not kept"));
        }
        let body = text(response.into_body()).await?;
        if body != "redirecting" {
            return Err(format!("the body of the {code} was {body:?}"));
        }
    }
    let after = server.state.target_hits.load(Ordering::SeqCst);
    if after != before {
        return Err("the redirect target was requested: redirects were followed".into());
    }
    Ok(())
}

pub(super) async fn request_headers(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let mut req = request(Method::GET, server.url("/echo"), Body::empty())?;
    let headers = req.headers_mut();
    headers.insert("x-conf-single", HeaderValue::from_static("one"));
    headers.append("x-conf-multi", HeaderValue::from_static("a"));
    headers.append("x-conf-multi", HeaderValue::from_static("b"));
    headers.insert("x-conf-case", HeaderValue::from_static("MiXeD Value; q=1"));
    let response = send(transport, req).await?;
    let echo = text(response.into_body()).await?;
    for expected in ["x-conf-single: one", "x-conf-case: MiXeD Value; q=1"] {
        if !echo.lines().any(|l| l.eq_ignore_ascii_case(expected)) {
            return Err(format!(
                "the server did not see {expected:?}; it saw:\n{echo}"
            ));
        }
    }
    let multi: Vec<&str> = echo
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(": ")?;
            name.eq_ignore_ascii_case("x-conf-multi").then_some(value)
        })
        .flat_map(|v| v.split(',').map(str::trim))
        .collect();
    if multi != ["a", "b"] {
        return Err(format!(
            "x-conf-multi arrived as {multi:?}, expected [\"a\", \"b\"]"
        ));
    }
    Ok(())
}

pub(super) async fn response_headers(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let response = send(
        transport,
        request(Method::GET, server.url("/headers-out"), Body::empty())?,
    )
    .await?;
    let multi: Vec<&[u8]> = response
        .headers()
        .get_all("x-multi")
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if multi != [b"a".as_slice(), b"b".as_slice()] {
        return Err(format!("x-multi came back as {multi:?}"));
    }
    let case = response
        .headers()
        .get("x-conf-case")
        .map(HeaderValue::as_bytes);
    if case != Some(b"MiXeD Value") {
        return Err(format!("x-conf-case came back as {case:?}"));
    }
    Ok(())
}

pub(super) async fn query_string(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let query = "a=1&b=x%20y&c=%7C&c=2&d=a%2Cb&e=";
    let response = send(
        transport,
        request(
            Method::GET,
            server.url(&format!("/echo?{query}")),
            Body::empty(),
        )?,
    )
    .await?;
    let echo = text(response.into_body()).await?;
    let expected = format!("target: /echo?{query}");
    if !echo.lines().any(|l| l == expected) {
        return Err(format!("expected {expected:?}, the server saw:\n{echo}"));
    }
    Ok(())
}

pub(super) async fn in_memory_body(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let data: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
    let expected = format!("received: {} {:016x}", data.len(), fnv(0, &data));
    let response = send(
        transport,
        request(Method::PUT, server.url("/echo"), Body::from(data.clone()))?,
    )
    .await?;
    let echo = text(response.into_body()).await?;
    if !echo.lines().any(|l| l == expected) {
        return Err(format!("expected {expected:?}, the server saw:\n{echo}"));
    }
    if !echo.lines().any(|l| l == "method: PUT") {
        return Err(format!("the method was not PUT:\n{echo}"));
    }
    if !echo
        .lines()
        .any(|l| l.eq_ignore_ascii_case(&format!("content-length: {}", data.len())))
    {
        return Err(format!(
            "no Content-Length {} was sent:\n{echo}",
            data.len()
        ));
    }
    Ok(())
}

pub(super) async fn request_streaming(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let state = server.state.clone();
    // The body yields its first chunk, then waits until the server has received it: a
    // transport that reads the whole body before sending would wait forever.
    let stream = futures_util::stream::unfold(0usize, move |i| {
        let state = state.clone();
        async move {
            if i == STREAM_CHUNKS {
                return None;
            }
            if i == 1
                && tokio::time::timeout(STREAM_WAIT, state.upload_first_chunk.notified())
                    .await
                    .is_err()
            {
                let e = std::io::Error::other("the server never saw the first chunk");
                return Some((Err(e), STREAM_CHUNKS));
            }
            Some((Ok(chunk(i)), i + 1))
        }
    });
    let body = Body::from_stream(stream, None);
    let response = send(
        transport,
        request(Method::POST, server.url("/upload-stream"), body)?,
    )
    .await?;
    let echo = text(response.into_body()).await?;
    let expected = format!(
        "received: {} {:016x}",
        STREAM_CHUNK * STREAM_CHUNKS,
        expected_stream_hash()
    );
    if echo.trim() != expected {
        return Err(format!(
            "expected {expected:?}, the server answered {echo:?}"
        ));
    }
    Ok(())
}

pub(super) async fn response_streaming(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let response = send(
        transport,
        request(Method::GET, server.url("/download-stream"), Body::empty())?,
    )
    .await?;
    if response.status() != StatusCode::OK {
        return Err(format!("status {}", response.status()));
    }
    let mut stream = response.into_body().into_stream();
    let mut total = 0usize;
    let mut hash = 0u64;
    let mut signalled = false;
    while let Some(item) = stream.next().await {
        let bytes = item.map_err(|e| {
            format!(
                "the body failed after {total} bytes (was it buffered before being returned?): {e}"
            )
        })?;
        total += bytes.len();
        hash = fnv(hash, &bytes);
        if !signalled && total > 0 {
            signalled = true;
            server.state.download_client_got_data.notify_one();
        }
    }
    let expected_len = STREAM_CHUNK * STREAM_CHUNKS;
    if total != expected_len || hash != expected_stream_hash() {
        return Err(format!(
            "received {total} bytes (expected {expected_len}) or wrong content"
        ));
    }
    Ok(())
}

pub(super) async fn head_has_no_body(transport: &dyn Transport, server: &Server) -> CheckOutcome {
    let response = send(
        transport,
        request(Method::HEAD, server.url("/status/200"), Body::empty())?,
    )
    .await?;
    if response.status() != StatusCode::OK {
        return Err(format!("status {}", response.status()));
    }
    let body = text(response.into_body()).await?;
    if !body.is_empty() {
        return Err(format!("a HEAD response had a body: {body:?}"));
    }
    Ok(())
}

pub(super) async fn connect_refused(transport: &dyn Transport, _server: &Server) -> CheckOutcome {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot reserve a port: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("cannot read the port: {e}"))?
        .port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/nothing-listens-here");
    match transport
        .send(request(Method::POST, url, Body::from("payload"))?)
        .await
    {
        Ok(r) => Err(format!("a closed port answered {}", r.status())),
        Err(e) if e.kind() != TransportErrorKind::Connect => {
            Err(format!("expected a Connect error, got {:?}: {e}", e.kind()))
        }
        Err(e) if e.request_sent() => {
            Err(format!("a refused connection was reported as sent: {e}"))
        }
        Err(_) => Ok(()),
    }
}
