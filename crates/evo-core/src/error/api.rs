//! [`ApiError`]: a response with a status the operation does not accept, with its RFC 7807
//! [`ProblemDetails`] when the body has them.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::quote::{clip, snippet};
use crate::redact::redact_url;

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

/// How many `invalid-params` entries an error message lists.
const SHOWN_INVALID_PARAMS: usize = 10;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> url::Url {
        "https://hub.example/file/v2/x?sig=SECRET&se=2026"
            .parse()
            .unwrap()
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
