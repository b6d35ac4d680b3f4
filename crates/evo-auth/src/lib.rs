//! # evo-auth
//!
//! OAuth2 for evo-rs: how an application obtains the bearer tokens the Evo APIs want, from
//! Bentley IMS (`https://ims.bentley.com`) or any OAuth2 server with the same endpoints.
//!
//! - [`OAuthConnector`]: issuer, authorize and token endpoints, client id and optional secret,
//!   and the [`evo_core::Transport`] the token requests go through.
//! - [`ClientCredentialsAuthorizer`]: a service authenticating with its client secret.
//! - [`AuthorizationCodeAuthorizer`]: a user logging in through the browser (PKCE S256, a
//!   loopback redirect listener on 127.0.0.1), kept logged in with the refresh token.
//! - [`AccessTokenAuthorizer`]: a token obtained elsewhere, optionally refreshable.
//! - [`Scopes`] / [`EvoScope`]: the Evo scope strings as sorted sets.
//! - [`TokenStore`], [`MemoryTokenStore`], [`FileTokenStore`]: tokens kept between runs.
//!
//! Every authorizer implements [`evo_core::Authorizer`] over one shared token cache
//! (`token_cache.rs`, where the token is refreshed): the token is renewed in the background a
//! margin before it expires (default 5 minutes) while callers keep the valid one; a refresh
//! runs in a spawned task that every waiting caller shares (one token request however many
//! wait; a caller that gives up does not cancel it, so a rotated refresh token is always
//! saved); a failed renewal keeps the still-valid old token in use (the next early renewal is
//! tried 5 s later at the earliest); after a 401 one forced renewal is made (none when a
//! concurrent caller already renewed). Processes sharing a [`TokenStore`] refresh under its
//! lock ([`TokenStore::lock`], an OS file lock for [`FileTokenStore`]) and read it again first
//! and after `invalid_grant`, so rotating refresh tokens do not log each other out.
//! Token endpoint errors are [`OAuthError`]s (RFC 6749 §5.2 codes); 502/503/504 answers are
//! retried. Tokens and secrets never appear in `Debug`, `Display`, logs or errors.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = evo_emulator::Emulator::builder().start().await?;
//! # let (issuer, service) = (emulator.ims_url(), emulator.service_client());
//! # let (client_id, client_secret) = (service.client_id, service.client_secret);
//! use std::sync::Arc;
//! use evo_auth::{ClientCredentialsAuthorizer, OAuthConnector, Scopes};
//!
//! // The emulator's IMS stands in for Bentley IMS (the default issuer); the client id and
//! // secret are a service application's, e.g. from `EVO_CLIENT_SECRET`.
//! let transport: evo_core::SharedTransport = Arc::new(evo_hyper::HyperTransport::new());
//! let connector = OAuthConnector::builder(transport.clone(), client_id)
//!     .issuer(issuer.as_str())
//!     .client_secret(client_secret)
//!     .build()?;
//! let authorizer = Arc::new(ClientCredentialsAuthorizer::new(connector, Scopes::all_evo())?);
//! let api = evo_core::ApiConnector::builder(emulator.discovery_url())
//!     .transport(transport)
//!     .authorizer(authorizer.clone())
//!     .build()?;
//!
//! // Every request carries a token, requested on first use and renewed before it expires.
//! let discovery: serde_json::Value = api
//!     .request(evo_core::http::Method::GET, "evo/identity/v2/discovery")
//!     .send_json()
//!     .await?;
//! assert_eq!(discovery["discovery"]["organizations"][0]["id"], emulator.org_id().to_string());
//! assert_eq!(authorizer.token().await?.scopes(), Some(&Scopes::all_evo()));
//! # Ok(()) }
//! ```
//!
//! A user's login through the browser ([`AuthorizationCodeAuthorizer::login`]), a token
//! obtained elsewhere ([`AccessTokenAuthorizer`]) and token stores have runnable examples on
//! their types' methods.

mod access_token;
mod authorization_code;
mod browser;
mod client_credentials;
mod connector;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod loopback;
mod pkce;
mod scope;
mod store;
mod token;
mod token_cache;

pub use access_token::AccessTokenAuthorizer;
pub use authorization_code::{
    AuthorizationCodeAuthorizer, AuthorizationCodeAuthorizerBuilder, DEFAULT_LOGIN_TIMEOUT,
    DEFAULT_REDIRECT_URL,
};
pub use browser::{BrowserFn, BrowserLauncher, PrintUrl, SystemBrowser, browser_fn};
pub use client_credentials::{ClientCredentialsAuthorizer, ClientCredentialsAuthorizerBuilder};
pub use connector::{
    DEFAULT_AUTHORIZE_PATH, DEFAULT_END_SESSION_PATH, DEFAULT_ISSUER, DEFAULT_REVOCATION_PATH,
    DEFAULT_TOKEN_PATH, OAuthConnector, OAuthConnectorBuilder, TokenKind,
};
pub use error::{OAuthError, OAuthErrorCode};
/// The secret string type of tokens and client secrets (from evo-core).
pub use evo_core::Secret;
pub use scope::{EvoScope, Scopes};
pub use store::{FileTokenStore, MemoryTokenStore, TokenKey, TokenStore, TokenStoreLock};
pub use token::Token;
pub use token_cache::DEFAULT_REFRESH_MARGIN;
