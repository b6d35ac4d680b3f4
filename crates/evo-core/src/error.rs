//! The error type of evo-core and of every service client built on [`crate::ApiConnector`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::redact::redact_url;

/// A boxed error from another library, kept as the `source()` of an evo-core error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when talking to an Evo API.
///
/// Match on the variant for the category, or use the accessors ([`Error::status`],
/// [`Error::is_retryable`], [`Error::is_not_found`], …), which keep working when variants are added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status the operation does not expect (4xx, 5xx, or an
    /// unexpected 1xx/2xx/3xx). Status, headers, request id and raw body are kept.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The request did not complete at the HTTP level: connect failure, timeout, reset, TLS.
    #[error(transparent)]
    Transport(Box<TransportError>),
    /// A successful response whose body is not what the operation expects.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The caller's input cannot be turned into a valid request (checked before sending).
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What was wrong.
        message: String,
    },
    /// Credentials could not be obtained or refreshed.
    #[error(transparent)]
    Auth(Box<AuthError>),
    /// Local I/O failed (reading a source file, writing a download, the cache).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, including the path when there is one.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An [`Error::InvalidRequest`] with this message.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            message: message.into(),
        }
    }

    /// An [`Error::Io`] with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<StatusCode> {
        self.as_api().map(ApiError::status)
    }

    /// The API error, when this is one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The transport error, when this is one.
    pub fn as_transport(&self) -> Option<&TransportError> {
        match self {
            Error::Transport(e) => Some(e),
            _ => None,
        }
    }

    /// True when trying the same request again may succeed: 408, 429, 500, 502, 503, 504,
    /// connection failures, timeouts and resets, and auth errors marked transient.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => e.is_retryable(),
            Error::Transport(e) => e.is_retryable(),
            Error::Auth(e) => e.is_retryable(),
            Error::Decode(_) | Error::InvalidRequest { .. } | Error::Io { .. } => false,
        }
    }

    /// 400 Bad Request.
    pub fn is_bad_request(&self) -> bool {
        self.status() == Some(StatusCode::BAD_REQUEST)
    }
    /// 401 Unauthorized.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }
    /// 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }
    /// 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
    /// 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }
    /// 410 Gone.
    pub fn is_gone(&self) -> bool {
        self.status() == Some(StatusCode::GONE)
    }
    /// 429 Too Many Requests.
    pub fn is_too_many_requests(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }
    /// Any 5xx status.
    pub fn is_server_error(&self) -> bool {
        self.status().is_some_and(|s| s.is_server_error())
    }
    /// A connect, read or idle timeout.
    pub fn is_timeout(&self) -> bool {
        self.as_transport()
            .is_some_and(|t| t.kind() == TransportErrorKind::Timeout)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}
impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(Box::new(e))
    }
}
impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(Box::new(e))
    }
}
impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Error::Auth(Box::new(e))
    }
}

/// RFC 7807 problem details, the JSON error body of the Evo APIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProblemDetails {
    /// A URI naming the error type, e.g. `https://seequent.com/error-codes/file-api/files/not-found`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_uri: Option<String>,
    /// A short summary of the error type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The HTTP status the server meant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// An explanation of this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Validation failures, per parameter (Workspaces API).
    #[serde(
        rename = "invalid-params",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub invalid_params: Vec<InvalidParam>,
    /// Any other members (`your_role`, `permitted_roles`, `existing_id`, …).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One entry of `invalid-params` in a validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidParam {
    /// The parameter's name.
    pub name: String,
    /// Why it was rejected.
    pub reason: String,
}

/// How much of a body an error message quotes.
const SNIPPET_CHARS: usize = 200;
/// How many `invalid-params` entries an error message lists.
const SHOWN_INVALID_PARAMS: usize = 10;

/// `text` cut to [`SNIPPET_CHARS`] characters, with `…` when cut.
fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(SNIPPET_CHARS) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..end])),
    }
}

pub(crate) fn snippet(body: &[u8]) -> String {
    // Redact before cutting, so that a secret split by the cut is still found.
    let head = &body[..body.len().min(SNIPPET_CHARS * 4 + 1024)];
    let text = crate::redact::redact_json_secrets(&String::from_utf8_lossy(head));
    let text = crate::redact::redact_text_secrets(&text);
    match clip(&text) {
        // Short enough, but the body went on past the part read.
        std::borrow::Cow::Borrowed(all) if head.len() < body.len() => format!("{all}…"),
        clipped => clipped.into_owned(),
    }
}

/// An HTTP response with a status the operation does not accept.
#[derive(Clone)]
pub struct ApiError {
    status: StatusCode,
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Bytes,
    problem: Option<ProblemDetails>,
}

impl ApiError {
    /// Builds an API error from a response; the body is parsed as problem details when it can be.
    /// The URL is stored with secrets (signatures, codes, tokens) redacted.
    pub fn new(
        method: Method,
        url: &url::Url,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        let problem = serde_json::from_slice::<ProblemDetails>(&body)
            .ok()
            .filter(|p| p.title.is_some() || p.type_uri.is_some() || p.detail.is_some());
        let mut headers = headers;
        for name in [http::header::SET_COOKIE, http::header::AUTHORIZATION] {
            headers.remove(name);
        }
        ApiError {
            status,
            method,
            url: redact_url(url),
            headers,
            body,
            problem,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }
    /// The request URL, with secrets in the query redacted.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The response headers (`Set-Cookie` removed).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// The raw response body (possibly empty or not JSON).
    pub fn body(&self) -> &Bytes {
        &self.body
    }
    /// The parsed problem details, when the body is an RFC 7807 document.
    pub fn problem(&self) -> Option<&ProblemDetails> {
        self.problem.as_ref()
    }
    /// The request id the server sent (`x-request-id`, `request-id`, `x-ms-request-id`,
    /// `x-correlation-id`), for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        [
            "x-request-id",
            "request-id",
            "x-ms-request-id",
            "x-correlation-id",
        ]
        .iter()
        .find_map(|name| self.headers.get(*name)?.to_str().ok())
    }
    /// The server's `x-ms-error-code` (blob storage) when present.
    pub fn storage_error_code(&self) -> Option<&str> {
        self.headers.get("x-ms-error-code")?.to_str().ok()
    }
    /// The delay the server asked for with `Retry-After` (delta-seconds or HTTP-date).
    pub fn retry_after(&self) -> Option<Duration> {
        crate::retry::parse_retry_after(&self.headers, std::time::SystemTime::now())
    }
    /// True for 408, 429, 500, 502, 503 and 504 ([`crate::retry::is_retryable_status`]).
    pub fn is_retryable(&self) -> bool {
        crate::retry::is_retryable_status(self.status)
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("request_id", &self.request_id())
            .field("problem", &self.problem)
            .field("body", &snippet(&self.body))
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} answered {}", self.method, self.url, self.status)?;
        match &self.problem {
            // Every server-chosen text is clipped: a message stays readable whatever it sent.
            Some(p) => {
                if let Some(title) = &p.title {
                    write!(f, ": {}", clip(title))?;
                }
                if let Some(detail) = &p.detail {
                    write!(f, " ({})", clip(detail))?;
                }
                for param in p.invalid_params.iter().take(SHOWN_INVALID_PARAMS) {
                    write!(f, "; {}: {}", clip(&param.name), clip(&param.reason))?;
                }
                if p.invalid_params.len() > SHOWN_INVALID_PARAMS {
                    let more = p.invalid_params.len() - SHOWN_INVALID_PARAMS;
                    write!(f, "; and {more} more")?;
                }
                if let Some(t) = &p.type_uri {
                    write!(f, " [{}]", clip(t))?;
                }
            }
            None if self.body.is_empty() => write!(f, " with an empty body")?,
            None => write!(f, ": {}", snippet(&self.body))?,
        }
        if let Some(id) = self.request_id() {
            write!(f, " (request id {})", clip(id))?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The category of a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, unreachable). The request was not sent.
    Connect,
    /// A connect, read or idle timeout elapsed.
    Timeout,
    /// The connection broke while sending or receiving (reset, closed early, truncated body).
    Connection,
    /// TLS negotiation or certificate verification failed.
    Tls,
    /// The peer broke the HTTP protocol (malformed status line, huge headers, bad framing).
    Protocol,
    /// Anything else a transport reports.
    Other,
}

/// A failure below HTTP: the request did not get a complete response.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    request_sent: bool,
    source: Option<BoxError>,
}

impl TransportError {
    /// A transport error of this kind. Unless told otherwise with [`TransportError::not_sent`],
    /// the request is assumed to have (perhaps) reached the server, which forbids retrying a
    /// non-idempotent request.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
            request_sent: kind != TransportErrorKind::Connect,
            source: None,
        }
    }
    /// Marks that no byte of the request reached the server (safe to retry any method).
    pub fn not_sent(mut self) -> Self {
        self.request_sent = false;
        self
    }
    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }
    /// The category.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Whether the request may have reached the server.
    pub fn request_sent(&self) -> bool {
        self.request_sent
    }
    /// Connect failures, timeouts and broken connections are worth retrying.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect
                | TransportErrorKind::Timeout
                | TransportErrorKind::Connection
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TransportErrorKind::Connect => "connect error",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Connection => "connection error",
            TransportErrorKind::Tls => "TLS error",
            TransportErrorKind::Protocol => "HTTP protocol error",
            TransportErrorKind::Other => "transport error",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

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

/// Credentials could not be obtained.
#[derive(Debug)]
pub struct AuthError {
    message: String,
    retryable: bool,
    source: Option<BoxError>,
}

impl AuthError {
    /// An auth error with a message (which must not contain secrets).
    pub fn new(message: impl Into<String>) -> Self {
        AuthError {
            message: message.into(),
            retryable: false,
            source: None,
        }
    }
    /// Marks the failure as transient (a token endpoint answered 5xx, a connection broke).
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }
    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Whether trying again may help.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "authorization failed: {}", self.message)
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> url::Url {
        "https://hub.example/file/v2/x?sig=SECRET&se=2026"
            .parse()
            .unwrap()
    }

    #[test]
    fn problem_details_are_parsed_and_shown() {
        let body = br#"{"type":"https://seequent.com/error-codes/file-api/files/not-found","title":"File Not Found.","status":404,"detail":"nope","extra_member":1}"#;
        let e = ApiError::new(
            Method::GET,
            &url(),
            StatusCode::NOT_FOUND,
            HeaderMap::new(),
            Bytes::from_static(body),
        );
        let p = e.problem().unwrap();
        assert_eq!(p.title.as_deref(), Some("File Not Found."));
        assert_eq!(p.extra["extra_member"], 1);
        let shown = e.to_string();
        assert!(shown.contains("404"), "{shown}");
        assert!(shown.contains("File Not Found."), "{shown}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(!format!("{e:?}").contains("SECRET"));
        assert!(Error::from(e).is_not_found());
    }

    #[test]
    fn non_json_and_empty_bodies_are_kept() {
        let html = ApiError::new(
            Method::GET,
            &url(),
            StatusCode::BAD_GATEWAY,
            HeaderMap::new(),
            Bytes::from_static(b"<html>bad gateway</html>"),
        );
        assert!(html.problem().is_none());
        assert_eq!(html.body().as_ref(), b"<html>bad gateway</html>");
        assert!(html.to_string().contains("<html>bad gateway"));
        assert!(html.is_retryable());
        let empty = ApiError::new(
            Method::DELETE,
            &url(),
            StatusCode::CONFLICT,
            HeaderMap::new(),
            Bytes::new(),
        );
        assert!(empty.to_string().contains("empty body"));
        assert!(!empty.is_retryable());
    }

    #[test]
    fn invalid_params_are_listed() {
        let body = br#"{"type":"about:blank","title":"Validation","status":400,"invalid-params":[{"name":"name","reason":"too long"}]}"#;
        let e = ApiError::new(
            Method::POST,
            &url(),
            StatusCode::BAD_REQUEST,
            HeaderMap::new(),
            Bytes::from_static(body),
        );
        assert_eq!(e.problem().unwrap().invalid_params[0].reason, "too long");
        assert!(e.to_string().contains("name: too long"));
    }

    #[test]
    fn quoted_bodies_hide_tokens() {
        let body = br#"{"access_token":"eyJhbGciOi.SECRET","expires_in":"soon"}"#;
        let e = DecodeError::new("Token", StatusCode::OK, "invalid type", body);
        assert!(!e.to_string().contains("SECRET"), "{e}");
        assert!(!format!("{e:?}").contains("SECRET"));
        let api = ApiError::new(
            Method::POST,
            &url(),
            StatusCode::BAD_REQUEST,
            HeaderMap::new(),
            Bytes::from_static(body),
        );
        assert!(!api.to_string().contains("SECRET"), "{api}");
        assert!(!format!("{api:?}").contains("SECRET"));
    }

    #[test]
    fn signatures_in_quoted_bodies_are_redacted_and_the_raw_body_kept() {
        let body = b"<Error><Code>AuthenticationFailed</Code><Url>https://acct.blob.core.windows.net/c/b?sv=2023-11-03&skoid=OID-SECRET&sktid=TID-SECRET&skt=2026&ske=2027&sks=b&skv=2023&sig=SIG%2BSECRET</Url>\
            <Aws>https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA-SECRET&X-Amz-Security-Token=STS-SECRET&X-Amz-Signature=AWS-SECRET</Aws></Error>";
        let e = DecodeError::new("Thing", StatusCode::OK, "expected value", body);
        let shown = format!("{e} {e:?}");
        for secret in [
            "OID-SECRET",
            "TID-SECRET",
            "SIG%2BSECRET",
            "AKIA",
            "STS-SECRET",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("AuthenticationFailed"), "{shown}");
        assert_eq!(e.body().as_ref(), body, "the raw body is kept");
        let api = ApiError::new(
            Method::GET,
            &url(),
            StatusCode::FORBIDDEN,
            HeaderMap::new(),
            Bytes::from_static(body),
        );
        let shown = format!("{api} {api:?}");
        assert!(
            !shown.contains("SIG%2BSECRET") && !shown.contains("OID-SECRET"),
            "{shown}"
        );
    }

    #[test]
    fn decode_error_quotes_the_start_of_the_body() {
        let garbage = vec![b'x'; 10_000_000];
        let e = DecodeError::new("Thing", StatusCode::OK, "expected value", &garbage);
        assert!(e.body_start().chars().count() <= SNIPPET_CHARS + 1);
        assert!(e.to_string().contains("Thing"));
    }

    fn api_error_with(body: Vec<u8>, request_id: Option<&str>) -> ApiError {
        let mut headers = HeaderMap::new();
        if let Some(id) = request_id.and_then(|id| http::HeaderValue::from_str(id).ok()) {
            headers.insert("x-request-id", id);
        }
        ApiError::new(
            Method::GET,
            &"https://hub.example/api/x".parse().unwrap(),
            StatusCode::BAD_REQUEST,
            headers,
            Bytes::from(body),
        )
    }

    proptest::proptest! {
        // Large generated texts: fewer cases keep the suite quick.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever bytes a server answers with, the error reads them without panicking and
        /// its message stays short.
        #[test]
        fn any_error_body_gives_a_bounded_message(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..20_000),
        ) {
            let e = api_error_with(body, None);
            proptest::prop_assert!(e.to_string().chars().count() < 400);
            let _ = format!("{e:?}");
        }

        /// Problem details with huge or many fields still give a bounded message.
        #[test]
        fn any_problem_details_give_a_bounded_message(
            title in ".{0,3000}",
            detail in ".{0,3000}",
            type_uri in ".{0,3000}",
            params in proptest::collection::vec((".{0,500}", ".{0,500}"), 0..40),
            request_id in "[ -~]{0,5000}",
        ) {
            let problem = serde_json::json!({
                "type": type_uri,
                "title": title,
                "detail": detail,
                "invalid-params": params
                    .iter()
                    .map(|(name, reason)| serde_json::json!({"name": name, "reason": reason}))
                    .collect::<Vec<_>>(),
            });
            let e = api_error_with(problem.to_string().into_bytes(), Some(&request_id));
            proptest::prop_assert!(e.problem().is_some());
            // Four clipped texts, ten clipped parameter pairs and the request id, 201 chars each.
            proptest::prop_assert!(e.to_string().chars().count() < 201 * 25 + 300);
        }

        /// Any `Retry-After` text is read without panicking; whole seconds are read exactly.
        #[test]
        fn retry_after_reads_any_text_and_exact_seconds(text in "\\PC{0,64}", secs in 0u64..10_000_000) {
            let now = std::time::SystemTime::now();
            if let Ok(v) = http::HeaderValue::from_str(&text) {
                let mut h = HeaderMap::new();
                h.insert(http::header::RETRY_AFTER, v);
                let _ = crate::retry::parse_retry_after(&h, now);
            }
            let mut h = HeaderMap::new();
            h.insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
            proptest::prop_assert_eq!(
                crate::retry::parse_retry_after(&h, now),
                Some(Duration::from_secs(secs))
            );
        }
    }
}
