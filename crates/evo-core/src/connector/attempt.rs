//! Sending a built request: each attempt (credentials, the one refresh after a 401, the
//! request, its outcome sorted for the retry driver), run by [`crate::retry`], which decides
//! whether and when to try again.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{ACCEPT, HeaderValue};
use http::{HeaderMap, Request, Response, StatusCode};

use super::request::RequestBuilder;
use super::response::{MAX_ERROR_BODY_BYTES, collect_prefix, tag};
use crate::body::Body;
use crate::error::Error;
use crate::read_timeout::send_with_read_timeout;
use crate::retry::{Attempt, Failure, is_retryable_status, parse_retry_after};
use crate::transport::Timeouts;

impl RequestBuilder {
    pub(super) async fn run(mut self, url: url::Url) -> Result<Response<Body>, Error> {
        let same_origin = url.origin() == self.connector.inner.base_url.origin();
        let conditions = Conditions {
            credentials: self.send_credentials && same_origin,
            // A body that cannot be replayed is sent once: nothing is repeated after it left.
            replayable: self.body.as_ref().is_none_or(Body::is_replayable),
            body: std::sync::Mutex::new(self.body.take()),
            refreshed: AtomicBool::new(false),
        };
        let policy = self.settings.retry.clone();
        let this = &self;
        let outcome = policy
            .driver(url.host_str().unwrap_or_default())
            .idempotent(self.is_idempotent())
            .run(|attempt| {
                let (url, conditions) = (&url, &conditions);
                async move { this.attempt(attempt, url, conditions).await }
            })
            .await;
        match outcome {
            Ok(response) => Ok(response),
            Err(failed) => match failed.into_error() {
                Unanswered::Error(error) => Err(error),
                // The retries of a retryable status are used up: that answer is the response.
                Unanswered::Status(parts, body) => Ok(tag(
                    Response::from_parts(parts, Body::from(body)),
                    &self.method,
                    &url,
                )),
            },
        }
    }

    /// One attempt of [`run`](Self::run): credentials, the request, and its outcome sorted
    /// for the retry driver.
    async fn attempt(
        &self,
        attempt: Attempt,
        url: &url::Url,
        conditions: &Conditions,
    ) -> Result<Response<Body>, Failure<Unanswered>> {
        let authorizer = &self.connector.inner.authorizer;
        let auth_headers = if conditions.credentials {
            // Nothing was sent: a transient credential failure (the token endpoint answered
            // 503) is retried like any other.
            authorizer
                .headers()
                .await
                .map_err(|e| Failure::classify(e).unprocessed().map(Unanswered::Error))?
        } else {
            HeaderMap::new()
        };
        if !auth_headers.is_empty() {
            crate::plain_http::check_plain_http(
                url,
                "credentials",
                self.settings.allow_insecure_http,
            )
            .map_err(|m| Failure::fatal(Unanswered::Error(Error::invalid_request(m))))?;
        }
        let body = {
            let mut slot = conditions.body.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(b) if b.is_replayable() => b.try_clone().unwrap_or_default(),
                Some(_) => slot.take().unwrap_or_default(),
                None => Body::empty(),
            }
        };
        let request = self
            .build_request(url, &auth_headers, body)
            .map_err(|e| Failure::fatal(Unanswered::Error(e)))?;
        tracing::debug!(attempt = attempt.number(), "sending");
        let response = match self.send_once(request).await {
            Ok(response) => response,
            Err(error) => return Err(conditions.unless_replayable(Failure::classify(error))),
        };
        authorizer.observe_response_to(&auth_headers, response.headers());
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED
            && conditions.credentials
            && conditions.replayable
            && !conditions.refreshed.swap(true, Ordering::Relaxed)
        {
            let renewed = authorizer
                .refresh(&auth_headers)
                .await
                .map_err(|e| Failure::fatal(Unanswered::Error(e)))?;
            if renewed {
                tracing::debug!("credentials refreshed after 401; sending again");
                let (parts, _) = response.into_parts();
                return Err(Failure::renewed(Unanswered::Status(parts, Bytes::new())));
            }
        }
        let wanted = self.expected.as_ref().is_some_and(|e| e.contains(&status));
        if !is_retryable_status(status) || wanted {
            return Ok(tag(response, &self.method, url));
        }
        let (parts, body) = response.into_parts();
        let body = collect_prefix(body, MAX_ERROR_BODY_BYTES).await;
        let retry_after = parse_retry_after(&parts.headers, SystemTime::now());
        let failure = Failure::transient(Unanswered::Status(parts, body)).retry_after(retry_after);
        Err(conditions.unless_replayable(failure))
    }

    fn build_request(
        &self,
        url: &url::Url,
        auth_headers: &HeaderMap,
        body: Body,
    ) -> Result<Request<Body>, Error> {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(url.as_str())
            .body(body)
            .map_err(|e| Error::invalid_request(format!("cannot build the request: {e}")))?;
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &self.connector.inner.default_headers {
            headers.insert(name, value.clone());
        }
        for (name, value) in auth_headers {
            headers.insert(name, value.clone());
        }
        for (name, value) in &self.headers {
            headers.insert(name, value.clone());
        }
        request.extensions_mut().insert(Timeouts::new(
            self.settings.connect_timeout,
            self.settings.read_timeout,
        ));
        Ok(request)
    }

    /// Sends one attempt, within the read timeout when there is one (an idle timeout: see
    /// [`send_with_read_timeout`]).
    async fn send_once(&self, request: Request<Body>) -> Result<Response<Body>, Error> {
        let transport = &self.connector.inner.transport;
        Ok(match self.settings.read_timeout {
            Some(limit) => send_with_read_timeout(transport.as_ref(), request, limit).await?,
            None => transport.send(request).await?,
        })
    }
}

/// What every attempt of one request shares.
struct Conditions {
    /// Credentials are sent (asked for, and the URL has the base URL's origin).
    credentials: bool,
    /// The body can be sent again.
    replayable: bool,
    /// The body; a body that cannot be replayed is taken by the attempt that sends it.
    body: std::sync::Mutex<Option<Body>>,
    /// The one credential refresh after a 401 was made.
    refreshed: AtomicBool,
}

impl Conditions {
    /// A failure after the body left cannot be retried when the body cannot be replayed.
    fn unless_replayable<E>(&self, failure: Failure<E>) -> Failure<Unanswered>
    where
        Unanswered: From<E>,
    {
        let failure = failure.map(Unanswered::from);
        if self.replayable {
            failure
        } else {
            Failure::fatal(failure.into_error())
        }
    }
}

/// Why an attempt got no response to return: an error, or a retryable status (kept with its
/// body, to be returned as the response once the retries are used up).
enum Unanswered {
    Error(Error),
    Status(http::response::Parts, Bytes),
}

impl From<Error> for Unanswered {
    fn from(error: Error) -> Self {
        Unanswered::Error(error)
    }
}

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unanswered::Error(error) => error.fmt(f),
            Unanswered::Status(parts, _) => write!(f, "the server answered {}", parts.status),
        }
    }
}
