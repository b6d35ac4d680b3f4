//! # evo-core
//!
//! The core of evo-rs, an async Rust SDK for the Seequent Evo geoscience platform.
//!
//! - [`Transport`]: the HTTP seam (`evo-hyper` has the default; write your own in a few lines).
//! - [`Authorizer`]: credentials per request, refreshed once after a 401 (`evo-auth` does OAuth2).
//! - [`ApiConnector`]: base URL + transport + authorizer; builds URLs, retries with full-jitter
//!   backoff, honours `Retry-After`, applies timeouts and decodes JSON into typed values.
//! - [`retry`]: where requests are retried — the one retry driver, its policy and budget, used
//!   by the connector, the blob transfers (evo-io) and the token requests (evo-auth).
//! - [`polling`]: waiting for a polled job (capped jittered backoff, timeout, progress
//!   stream, a typed [`Outcome`](polling::Outcome)), used by evo-compute and evo-blockmodels.
//! - [`send_with_read_timeout`]: read timeouts that restart on progress (idle, not total),
//!   for the connector and the blob transfers.
//! - [`Error`]: one error type; API errors keep status, headers, request id and body.
//! - [`Environment`], [`Feedback`]/[`Progress`], [`Cache`].
//! - What the service clients (evo-files, evo-objects, evo-blockmodels) share:
//!   [`paging`] (listings as streams of [`Page`]s), [`listing`] (ordering keys, page-size and
//!   time-filter checks, query pairs; [`TimeFilter`]), [`workspace_path`] (the rules of file
//!   and object paths) and [`models`] (the [`ServiceUser`] of `created_by` and the like,
//!   unknown members, the services' timestamps).
//!
//! Enable the `test-util` feature for `test_util::MockTransport` (a scriptable, recording
//! transport for your own tests), `NeverTransport`, `FailingTransport`, and
//! `test_util::conformance::run`, a conformance suite any custom [`Transport`] can run.
//!
//! A connector on a transport of your own, here one that answers every request itself:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), evo_core::Error> {
//! use std::sync::Arc;
//! use evo_core::http::{Method, Response};
//! use evo_core::{ApiConnector, Body, StaticTokenAuthorizer, transport_fn};
//!
//! let transport = transport_fn(|request: evo_core::http::Request<Body>| async move {
//!     // A real transport sends the request: evo-hyper's HyperTransport, or your own.
//!     let authorized = request.headers().contains_key("authorization");
//!     let body = format!(r#"{{"path": "{}", "authorized": {authorized}}}"#, request.uri().path());
//!     Ok(Response::builder()
//!         .status(200)
//!         .header("content-type", "application/json")
//!         .body(Body::from_bytes(body))
//!         .unwrap())
//! });
//! let connector = ApiConnector::builder("https://evo.example/".parse().unwrap())
//!     .transport(Arc::new(transport))
//!     .authorizer(Arc::new(StaticTokenAuthorizer::new("a token")))
//!     .build()?;
//!
//! #[derive(serde::Deserialize)]
//! struct Echo {
//!     path: String,
//!     authorized: bool,
//! }
//! let echo: Echo = connector
//!     .request(Method::GET, "/workspace/orgs/{org_id}/workspaces")
//!     .path_param("org_id", "8a4e")
//!     .send_json()
//!     .await?;
//! assert_eq!(echo.path, "/workspace/orgs/8a4e/workspaces");
//! assert!(echo.authorized);
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod body;
pub mod cache;
mod connector;
mod environment;
mod error;
mod feedback;
pub mod listing;
pub mod models;
pub mod paging;
mod plain_http;
pub mod polling;
mod read_timeout;
mod redact;
pub mod retry;
mod time_filter;
mod transport;
pub mod workspace_path;

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;

pub use auth::{Authorizer, NoAuth, RotatingTokenAuthorizer, StaticTokenAuthorizer, bearer_header};
pub use body::{Body, BodyStream, StreamFactory};
pub use cache::Cache;
pub use connector::{
    ApiConnector, ApiConnectorBuilder, CollectionFormat, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_SDK_SOURCE, DEFAULT_USER_AGENT, RequestBuilder, SDK_SOURCE_HEADER,
    api_error_from_response, check_status, decode_json,
};
pub use environment::Environment;
pub use error::{
    ApiError, AuthError, BoxError, DecodeError, Error, InvalidParam, ProblemDetails,
    TransportError, TransportErrorKind,
};
pub use feedback::{Feedback, NoFeedback, Progress};
pub use models::ServiceUser;
pub use paging::Page;
pub use plain_http::{check_plain_http, is_loopback_url};
pub use read_timeout::{send_with_read_timeout, with_idle_timeout};
pub use redact::{
    Secret, redact_json_secrets, redact_text_secrets, redact_uri, redact_url, redact_url_text,
    redacted_snippet,
};
pub use retry::{RequestRetries, RetryBudget, RetryPolicy, is_retryable_status, parse_retry_after};
pub use time_filter::{TimeFilter, TimeOp};
pub use transport::{SharedTransport, Timeouts, Transport, TransportFn, transport_fn};

/// The attribute [`Transport`] and [`Authorizer`] implementations need (re-exported from the
/// `async-trait` crate, so that custom transports need no other dependency):
/// `#[evo_core::async_trait] impl Transport for MyTransport { ... }`.
pub use async_trait::async_trait;
/// Re-export of the `bytes` crate.
pub use bytes;
/// Re-exports of the `http` crate types used in this crate's public API.
pub use http;
/// Re-export of the `url` crate.
pub use url;
/// Re-export of the `uuid` crate.
pub use uuid;
