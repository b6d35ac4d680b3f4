//! HTTP `CONNECT` tunnels through `http://` and `https://` proxies.

use http::Uri;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use evo_core::TransportErrorKind;

use super::authority_of;
use crate::error::{BoxError, ConnectFailure, host_port};

/// The longest proxy answer to `CONNECT` read before giving up.
pub(crate) const MAX_CONNECT_RESPONSE: usize = 16 * 1024;

/// Asks an HTTP(S) proxy for a tunnel to `dst` and checks it answered 2xx.
pub(crate) async fn tunnel<S>(
    mut stream: S,
    dst: &Uri,
    proxy: &Uri,
    auth: Option<&http::HeaderValue>,
) -> Result<S, BoxError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let authority = authority_of(dst);
    let proxy_name = host_port(proxy);
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    if let Some(auth) = auth {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let failed = |message: String| ConnectFailure::new(TransportErrorKind::Connect, message);
    stream.write_all(&request).await.map_err(|e| {
        failed(format!(
            "sending CONNECT to the proxy {proxy_name} failed: {e}"
        ))
    })?;
    stream.flush().await.map_err(|e| {
        failed(format!(
            "sending CONNECT to the proxy {proxy_name} failed: {e}"
        ))
    })?;
    let mut answer = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await.map_err(|e| {
            failed(format!(
                "reading the answer of the proxy {proxy_name} to CONNECT failed: {e}"
            ))
        })?;
        if n == 0 {
            return Err(failed(format!(
                "the proxy {proxy_name} closed the connection during CONNECT"
            ))
            .into());
        }
        answer.extend_from_slice(&buf[..n]);
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            // Nothing may follow the answer before we speak (the origin's TLS waits for our
            // ClientHello): bytes there would be lost, so they are an error, not dropped.
            if answer.len() > end + 4 {
                return Err(ConnectFailure::new(
                    TransportErrorKind::Protocol,
                    format!("the proxy {proxy_name} sent data after its answer to CONNECT"),
                )
                .into());
            }
            break;
        }
        if answer.len() > MAX_CONNECT_RESPONSE {
            return Err(ConnectFailure::new(
                TransportErrorKind::Protocol,
                format!("the answer of the proxy {proxy_name} to CONNECT is too long"),
            )
            .into());
        }
    }
    let status_line = answer
        .split(|b| *b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_owned())
        .unwrap_or_default();
    let mut words = status_line.split_whitespace();
    let version = words.next().unwrap_or_default();
    let status = words.next().unwrap_or_default();
    // `HTTP/1.x 2xx`: three digits, so that "20-" or a line that is not HTTP is no success.
    if version.starts_with("HTTP/1.")
        && status.len() == 3
        && status.starts_with('2')
        && status.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(stream)
    } else {
        Err(failed(format!(
            "the proxy {proxy_name} refused the tunnel to {authority}: {status_line:?}"
        ))
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// Fuzz-style properties of reading a proxy's answer to `CONNECT`: whatever the proxy
    /// sends, in whatever pieces, the tunnel opens only on a complete 2xx answer, reads a
    /// bounded amount, and fails with a typed error that does not show the credentials.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        const CREDENTIALS: &str = "Basic U0VDUkVUOnBhc3N3b3Jk";

        /// A proxy connection that answers with `answer`, cut into reads of the given sizes,
        /// then ends (or, with `endless`, keeps sending `x` forever).
        struct Scripted {
            answer: Vec<u8>,
            position: usize,
            chunks: Vec<usize>,
            endless: bool,
            handed_out: usize,
            written: Vec<u8>,
        }

        impl Scripted {
            fn new(answer: Vec<u8>, chunks: Vec<usize>) -> Self {
                Scripted {
                    answer,
                    position: 0,
                    chunks,
                    endless: false,
                    handed_out: 0,
                    written: Vec::new(),
                }
            }
        }

        impl AsyncRead for Scripted {
            fn poll_read(
                mut self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let this = &mut *self;
                let step = this
                    .chunks
                    .get(this.handed_out % this.chunks.len().max(1))
                    .copied();
                let want = step.unwrap_or(usize::MAX).max(1).min(buf.remaining());
                let n = if this.position < this.answer.len() {
                    let n = want.min(this.answer.len() - this.position);
                    buf.put_slice(&this.answer[this.position..this.position + n]);
                    this.position += n;
                    n
                } else if this.endless {
                    buf.put_slice(&vec![b'x'; want]);
                    want
                } else {
                    0
                };
                this.handed_out += n;
                Poll::Ready(Ok(()))
            }
        }

        impl AsyncWrite for Scripted {
            fn poll_write(
                mut self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                data: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.written.extend_from_slice(data);
                Poll::Ready(Ok(data.len()))
            }
            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }

        /// Runs `tunnel` over `stream`: the stream back, or the typed failure.
        fn run(stream: Scripted) -> Result<Scripted, ConnectFailure> {
            let dst: Uri = "https://origin.test/".parse().expect("dst");
            let proxy: Uri = "http://proxy.test:3128".parse().expect("proxy");
            let auth = http::HeaderValue::from_static(CREDENTIALS);
            let result = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(tunnel(stream, &dst, &proxy, Some(&auth)));
            result.map_err(|e| {
                let failure = *e.downcast::<ConnectFailure>().expect("a ConnectFailure");
                let shown = format!("{failure} {failure:?}");
                assert!(
                    !shown.contains("U0VDUkVU"),
                    "an error shows the credentials: {shown}"
                );
                assert!(
                    matches!(
                        failure.kind,
                        TransportErrorKind::Connect | TransportErrorKind::Protocol
                    ),
                    "{failure:?}"
                );
                failure
            })
        }

        /// Runs `tunnel` where it must fail: the failure.
        fn fails(stream: Scripted) -> ConnectFailure {
            match run(stream) {
                Ok(_) => panic!("the tunnel opened"),
                Err(failure) => failure,
            }
        }

        fn chunks() -> impl Strategy<Value = Vec<usize>> {
            prop::collection::vec(1usize..64, 1..8)
        }

        fn header_lines() -> impl Strategy<Value = Vec<String>> {
            prop::collection::vec("[A-Za-z-]{1,20}: [ -~]{0,60}", 0..6)
        }

        fn answer(status_line: &str, headers: &[String]) -> Vec<u8> {
            let mut text = format!("{status_line}\r\n");
            for h in headers {
                text.push_str(h);
                text.push_str("\r\n");
            }
            text.push_str("\r\n");
            text.into_bytes()
        }

        proptest! {
            #[test]
            fn arbitrary_answers_never_panic_and_fail_typed(
                bytes in prop::collection::vec(any::<u8>(), 0..2048),
                chunks in chunks(),
            ) {
                let _ = run(Scripted::new(bytes, chunks));
            }

            #[test]
            fn a_2xx_answer_in_any_pieces_opens_the_tunnel_after_a_well_formed_request(
                code in 200u16..300,
                version in prop::sample::select(vec!["HTTP/1.0", "HTTP/1.1"]),
                reason in "[ -~]{0,40}",
                headers in header_lines(),
                chunks in chunks(),
            ) {
                let answer = answer(&format!("{version} {code} {reason}"), &headers);
                let stream = run(Scripted::new(answer.clone(), chunks)).expect("tunnel opens");
                prop_assert_eq!(stream.position, answer.len());
                prop_assert_eq!(
                    String::from_utf8(stream.written).expect("utf-8"),
                    format!("CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\nProxy-Authorization: {CREDENTIALS}\r\n\r\n")
                );
            }

            #[test]
            fn only_three_digit_2xx_statuses_open_the_tunnel(
                status in prop_oneof![
                    (0u16..1000).prop_map(|c| format!("{c:03}")),
                    "[0-9a-zA-Z+-]{1,5}",
                    "2[0-9a-zA-Z+ -]{2}",
                ],
                headers in header_lines(),
            ) {
                let accepted = run(Scripted::new(answer(&format!("HTTP/1.1 {status} Reason"), &headers), vec![7])).is_ok();
                let is_2xx = status.len() == 3
                    && status.starts_with('2')
                    && status.bytes().all(|b| b.is_ascii_digit());
                prop_assert_eq!(accepted, is_2xx, "status {:?}", status);
            }

            #[test]
            fn only_http_1_status_lines_open_the_tunnel(
                version in prop_oneof!["HTTP/1\\.[01]", "[A-Z]{1,5}/?[0-9.]{0,3}", "[ -~]{0,8}"],
            ) {
                let line = format!("{version} 200 OK");
                let accepted = run(Scripted::new(answer(&line, &[]), vec![64])).is_ok();
                let mut words = line.split_whitespace();
                let well_formed = words.next().is_some_and(|v| v.starts_with("HTTP/1."))
                    && words.next() == Some("200");
                prop_assert_eq!(accepted, well_formed, "status line {:?}", line);
            }

            #[test]
            fn a_truncated_answer_is_a_connect_error(
                headers in header_lines(),
                cut in any::<prop::sample::Index>(),
                chunks in chunks(),
            ) {
                let full = answer("HTTP/1.1 200 Connection established", &headers);
                let cut = cut.index(full.len());
                let failure = fails(Scripted::new(full[..cut].to_vec(), chunks));
                prop_assert_eq!(failure.kind, TransportErrorKind::Connect);
                prop_assert!(failure.message.contains("closed the connection"), "{}", failure.message);
            }

            #[test]
            fn bytes_after_the_answer_are_a_protocol_error(
                extra in prop::collection::vec(any::<u8>(), 1..64),
                headers in header_lines(),
            ) {
                let mut bytes = answer("HTTP/1.1 200 OK", &headers);
                bytes.extend(extra);
                // In one read, so the extra bytes arrive with the answer.
                let failure = fails(Scripted::new(bytes, vec![1 << 20]));
                prop_assert_eq!(failure.kind, TransportErrorKind::Protocol);
            }

            #[test]
            fn byte_flips_in_a_valid_answer_never_panic(
                headers in header_lines(),
                at in any::<prop::sample::Index>(),
                xor in 1u8..=255,
                chunks in chunks(),
            ) {
                let mut bytes = answer("HTTP/1.1 200 Connection established", &headers);
                let i = at.index(bytes.len());
                bytes[i] ^= xor;
                let _ = run(Scripted::new(bytes, chunks));
            }

            #[test]
            fn an_endless_answer_stops_at_the_size_bound(
                status_line in "HTTP/1.1 200[ -~]{0,40}",
                chunks in prop::collection::vec(1usize..4096, 1..4),
            ) {
                let mut stream = Scripted::new(format!("{status_line}\r\n").into_bytes(), chunks);
                stream.endless = true;
                let dst: Uri = "https://origin.test/".parse().expect("dst");
                let proxy: Uri = "http://proxy.test:3128".parse().expect("proxy");
                let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
                let mut counted = Box::pin(async move {
                    let mut s = stream;
                    let r = tunnel(&mut s, &dst, &proxy, None).await.map(|_| ());
                    (r, s.handed_out)
                });
                let (result, handed_out) = runtime.block_on(&mut counted);
                let failure = *result.expect_err("fails").downcast::<ConnectFailure>().expect("typed");
                prop_assert_eq!(failure.kind, TransportErrorKind::Protocol);
                prop_assert!(failure.message.contains("too long"), "{}", failure.message);
                // Read at most the bound plus one read buffer.
                prop_assert!(handed_out <= MAX_CONNECT_RESPONSE + 1024, "{}", handed_out);
            }

            #[test]
            fn a_proxy_echoing_the_request_does_not_show_the_credentials(chunks in chunks()) {
                let echo = format!("CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\nProxy-Authorization: {CREDENTIALS}\r\n\r\n");
                prop_assert!(run(Scripted::new(echo.into_bytes(), chunks)).is_err());
            }
        }
    }
}
