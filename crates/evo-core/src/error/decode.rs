//! [`DecodeError`]: a successful response whose body is not the expected type.

use std::fmt;

use bytes::Bytes;
use http::StatusCode;

use super::quote::snippet;

/// How much of a body that failed to decode is kept raw in a [`DecodeError`].
const KEPT_DECODE_BODY_BYTES: usize = 64 * 1024;

/// A successful response whose body did not decode as the expected type.
pub struct DecodeError {
    type_name: &'static str,
    status: StatusCode,
    message: String,
    body_start: String,
    body: Bytes,
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("type_name", &self.type_name)
            .field("status", &self.status)
            .field("message", &self.message)
            .field("body_start", &self.body_start)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl DecodeError {
    /// A decode failure of `type_name` from `body`; quotes the first 200 characters of the
    /// body with secrets redacted, and keeps up to 64 KiB of it raw ([`DecodeError::body`]).
    pub fn new(
        type_name: &'static str,
        status: StatusCode,
        message: impl Into<String>,
        body: &[u8],
    ) -> Self {
        DecodeError {
            type_name,
            status,
            message: message.into(),
            body_start: snippet(body),
            body: Bytes::copy_from_slice(&body[..body.len().min(KEPT_DECODE_BODY_BYTES)]),
        }
    }
    /// The raw body (its first 64 KiB), secrets included: never log it as it is.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
    /// The Rust type that failed to decode.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// What the decoder said.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The first characters of the body, with secrets redacted.
    pub fn body_start(&self) -> &str {
        &self.body_start
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not decode the {} response as {}: {}; body starts with {:?}",
            self.status, self.type_name, self.message, self.body_start
        )
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::quote::SNIPPET_CHARS;

    #[test]
    fn decode_error_quotes_the_start_of_the_body() {
        let garbage = vec![b'x'; 10_000_000];
        let e = DecodeError::new("Thing", StatusCode::OK, "expected value", &garbage);
        assert!(e.body_start().chars().count() <= SNIPPET_CHARS + 1);
        assert!(e.to_string().contains("Thing"));
    }
}
