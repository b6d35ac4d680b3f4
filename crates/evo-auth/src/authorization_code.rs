//! The authorization code grant with PKCE and a loopback redirect (users logging in).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::{HeaderMap, StatusCode};
use url::Url;

use crate::browser::{BrowserLauncher, PrintUrl, SystemBrowser};
use crate::connector::OAuthConnector;
use crate::error::{OAuthError, OAuthErrorCode, truncate};
use crate::loopback::{Callback, Listener, LoopbackHost, Page};
use crate::pkce;
use crate::scope::{EvoScope, Scopes};
use crate::store::{TokenKey, TokenStore};
use crate::token::Token;
use crate::token_cache::{DEFAULT_REFRESH_MARGIN, Grant, TokenCache};

/// The redirect URL of the Python SDK's notebooks, registered for many Evo apps.
pub const DEFAULT_REDIRECT_URL: &str = "http://localhost:3000/signin-callback";
/// How long [`AuthorizationCodeAuthorizer::login`] waits for the browser by default.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(180);

/// Logs a user in through the browser (authorization code grant, PKCE S256) and keeps the
/// session alive with the refresh token.
///
/// [`login`](Self::login) listens on the redirect URL's loopback address (127.0.0.1 and ::1 for
/// `localhost`) at its port (or an ephemeral port when the URL has none or port 0), opens the
/// authorize URL in the browser, checks the returned `state` in constant time, exchanges the
/// code (with the PKCE verifier), and only then shows the browser a success page. A redirect
/// without the login's `state` (a wrong one, or an `error=` without any) is answered 400 and
/// does not end the login: anything on this machine can send one. Tokens are renewed with the refresh-token grant (ask
/// for `offline_access`, included in the default scopes) a margin before they expire and after
/// a 401, and saved to the [`TokenStore`] when one is configured, so that
/// [`login_if_needed`](Self::login_if_needed) skips the browser on the next run.
///
/// ```no_run
/// # async fn demo(transport: evo_core::SharedTransport) -> Result<(), evo_auth::OAuthError> {
/// // no_run: this opens the system browser for a person to log in to production IMS; the
/// // examples on `login` and `login_if_needed` run the same flow against the emulator.
/// use std::sync::Arc;
/// use evo_auth::{AuthorizationCodeAuthorizer, FileTokenStore, OAuthConnector};
/// let connector = OAuthConnector::builder(transport, "my-app-client-id").build()?;
/// let authorizer = AuthorizationCodeAuthorizer::builder(connector)
///     .redirect_url("http://localhost:3000/signin-callback")
///     .store(Arc::new(FileTokenStore::new("/home/me/.config/my-app/evo-token.json")))
///     .build()?;
/// authorizer.login_if_needed().await?;
/// # Ok(()) }
/// ```
pub struct AuthorizationCodeAuthorizer {
    cache: Arc<TokenCache>,
    connector: OAuthConnector,
    redirect_url: Url,
    loopback: LoopbackHost,
    scopes: Scopes,
    browser: Arc<dyn BrowserLauncher>,
    login_timeout: Duration,
    has_store: bool,
    login_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for AuthorizationCodeAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeAuthorizer")
            .field("connector", &self.connector)
            .field("redirect_url", &self.redirect_url.as_str())
            .field("scopes", &self.scopes.to_string())
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// Builds an [`AuthorizationCodeAuthorizer`].
#[derive(Debug)]
pub struct AuthorizationCodeAuthorizerBuilder {
    connector: OAuthConnector,
    redirect_url: String,
    scopes: Scopes,
    browser: Arc<dyn BrowserLauncher>,
    login_timeout: Duration,
    margin: Duration,
    store: Option<Arc<dyn TokenStore>>,
}

impl AuthorizationCodeAuthorizerBuilder {
    /// The redirect URL registered for the client: `http://localhost:PORT/path`,
    /// `http://127.0.0.1:PORT/path` or `http://[::1]:PORT/path` (default
    /// [`DEFAULT_REDIRECT_URL`]). Without a port, or with
    /// port 0, an ephemeral port is used.
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.redirect_url = url.into();
        self
    }
    /// The scopes to ask for (default: [`Scopes::all_evo`] plus `offline_access`).
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }
    /// How the authorize URL is shown (default [`SystemBrowser`]).
    pub fn browser(mut self, browser: Arc<dyn BrowserLauncher>) -> Self {
        self.browser = browser;
        self
    }
    /// How long a login waits for the redirect (default 180 s).
    pub fn login_timeout(mut self, timeout: Duration) -> Self {
        self.login_timeout = timeout;
        self
    }
    /// Renew the token when less than this is left (default 5 minutes; at most half the
    /// token's lifetime is used). Renewal starts somewhere between the margin and 1.2 times
    /// it, fixed per token and different in each process, so that many clients started
    /// together do not all renew at the same moment.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }
    /// Keep tokens in this store.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }
    /// Checks the redirect URL and builds the authorizer.
    pub fn build(self) -> Result<AuthorizationCodeAuthorizer, OAuthError> {
        let redirect_url = Url::parse(&self.redirect_url).map_err(|e| {
            OAuthError::config(format!("redirect URL {:?}: {e}", self.redirect_url))
        })?;
        let Some(loopback) =
            LoopbackHost::of(&redirect_url).filter(|_| redirect_url.scheme() == "http")
        else {
            return Err(OAuthError::config(
                "the redirect URL must be http://localhost:PORT/…, http://127.0.0.1:PORT/… or http://[::1]:PORT/… (the listener binds the loopback address)",
            ));
        };
        if redirect_url.query().is_some() || redirect_url.fragment().is_some() {
            return Err(OAuthError::config(
                "the redirect URL must not have a query or a fragment",
            ));
        }
        let key = TokenKey::new(
            self.connector.issuer().as_str(),
            self.connector.client_id(),
            &self.scopes,
        );
        let has_store = self.store.is_some();
        let cache = TokenCache::new(
            Some(self.connector.clone()),
            Grant::RefreshToken,
            self.margin,
            self.store.map(|s| (s, key)),
            None,
        );
        Ok(AuthorizationCodeAuthorizer {
            cache: Arc::new(cache),
            connector: self.connector,
            redirect_url,
            loopback,
            scopes: self.scopes,
            browser: self.browser,
            login_timeout: self.login_timeout,
            has_store,
            login_lock: tokio::sync::Mutex::new(()),
        })
    }
}

impl AuthorizationCodeAuthorizer {
    /// Starts a builder.
    pub fn builder(connector: OAuthConnector) -> AuthorizationCodeAuthorizerBuilder {
        AuthorizationCodeAuthorizerBuilder {
            connector,
            redirect_url: DEFAULT_REDIRECT_URL.to_owned(),
            scopes: Scopes::all_evo().with(EvoScope::OfflineAccess),
            browser: Arc::new(SystemBrowser),
            login_timeout: DEFAULT_LOGIN_TIMEOUT,
            margin: DEFAULT_REFRESH_MARGIN,
            store: None,
        }
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// The current token, if logged in.
    ///
    /// See the example on [`login`](Self::login).
    pub fn token(&self) -> Option<Token> {
        self.cache.current().map(|t| (*t).clone())
    }

    /// Loads the stored token, if there is a store and it holds one for this issuer, client
    /// and scope set. Returns whether a token was loaded.
    ///
    /// See the example on [`login_if_needed`](Self::login_if_needed).
    pub async fn restore(&self) -> Result<bool, OAuthError> {
        self.cache.restore().await
    }

    /// Forgets the token, here and in the store. The issuer still honours its refresh token
    /// until it expires: [`sign_out`](Self::sign_out) also ends it there.
    ///
    /// See the example on [`login_if_needed`](Self::login_if_needed).
    pub async fn logout(&self) -> Result<(), OAuthError> {
        self.cache.forget().await
    }

    /// Signs out everywhere: forgets the token here and in the store, revokes its refresh
    /// token at the issuer (RFC 7009) so that no copy of it can renew access any more, and
    /// opens the browser on the issuer's end-session page (ending the browser's login there,
    /// then going to `post_logout_redirect_uri` when it is registered for the client).
    /// Returns the end-session URL, for applications that show it themselves.
    ///
    /// The token is forgotten locally even when the revocation fails; the error then says
    /// the issuer may still honour the refresh token until it expires. Access tokens already
    /// handed out stay valid until they expire (they are self-contained).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let issuer = emulator.ims_url();
    /// # let service = emulator.service_client();
    /// # let api = |authorizer: std::sync::Arc<dyn evo_core::Authorizer>| evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(transport.clone()).authorizer(authorizer).build().unwrap();
    /// # let org_id = emulator.org_id();
    /// # let list_workspaces = |api: evo_core::ApiConnector| async move {
    /// #     api.request(evo_core::http::Method::GET, "workspace/orgs/{org}/workspaces")
    /// #         .path_param("org", org_id).send_json::<serde_json::Value>().await
    /// # };
    /// # let web = transport.clone();
    /// # // A stand-in for the user's browser: the emulator approves the login at once, and the
    /// # // browser follows the redirect back to the loopback listener.
    /// # let browser = std::sync::Arc::new(evo_auth::browser_fn(move |url: &str| {
    /// #     let (web, url) = (web.clone(), url.to_owned());
    /// #     tokio::spawn(async move {
    /// #         use evo_core::Transport as _;
    /// #         let get = |url: &str| evo_core::http::Request::get(url).body(evo_core::Body::empty()).unwrap();
    /// #         let Ok(answer) = web.send(get(&url)).await else { return };
    /// #         if let Some(back) = answer.headers().get("location").and_then(|v| v.to_str().ok()) {
    /// #             let _ = web.send(get(back)).await;
    /// #         }
    /// #     });
    /// #     Ok(())
    /// # }));
    /// # let public = evo_auth::OAuthConnector::builder(transport.clone(), emulator.public_client_id())
    /// #     .issuer(issuer.as_str()).build()?;
    /// // `public`: the emulator's IMS with a public (desktop) client id; `browser` opens a URL.
    /// use evo_auth::{AuthorizationCodeAuthorizer, EvoScope, Scopes};
    ///
    /// let authorizer = AuthorizationCodeAuthorizer::builder(public)
    ///     .redirect_url("http://localhost:0/signin-callback")
    ///     .scopes(Scopes::all_evo() | EvoScope::OfflineAccess)
    ///     .browser(browser)
    ///     .build()?;
    /// authorizer.login().await?;
    /// // Revokes the refresh token at the issuer and opens its end-session page.
    /// let end_session = authorizer.sign_out(None).await?;
    /// assert!(end_session.path().ends_with("/connect/endsession"));
    /// assert!(authorizer.token().is_none());
    /// # Ok(()) }
    /// ```
    pub async fn sign_out(
        &self,
        post_logout_redirect_uri: Option<&Url>,
    ) -> Result<Url, OAuthError> {
        let _no_login_meanwhile = self.login_lock.lock().await;
        let token = self.cache.current();
        self.cache.forget().await?;
        if let Some(refresh) = token.as_deref().and_then(Token::refresh_token) {
            self.connector
                .revoke(refresh, crate::connector::TokenKind::RefreshToken)
                .await?;
        }
        let url = self
            .connector
            .end_session_request_url(post_logout_redirect_uri, None);
        let browser = self.browser.clone();
        let shown = url.to_string();
        let opened = tokio::task::spawn_blocking(move || browser.open(&shown)).await;
        if !matches!(opened, Ok(Ok(()))) {
            tracing::info!("no browser could be opened for the end-session page");
        }
        Ok(url)
    }

    /// Uses the stored or current token when it is valid or can be refreshed; logs in through
    /// the browser otherwise.
    ///
    /// Concurrent calls share one login: a call that finds a login under way waits for it and
    /// uses its token instead of opening the browser again.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let issuer = emulator.ims_url();
    /// # let service = emulator.service_client();
    /// # let api = |authorizer: std::sync::Arc<dyn evo_core::Authorizer>| evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(transport.clone()).authorizer(authorizer).build().unwrap();
    /// # let org_id = emulator.org_id();
    /// # let list_workspaces = |api: evo_core::ApiConnector| async move {
    /// #     api.request(evo_core::http::Method::GET, "workspace/orgs/{org}/workspaces")
    /// #         .path_param("org", org_id).send_json::<serde_json::Value>().await
    /// # };
    /// # let web = transport.clone();
    /// # // A stand-in for the user's browser: the emulator approves the login at once, and the
    /// # // browser follows the redirect back to the loopback listener.
    /// # let browser = std::sync::Arc::new(evo_auth::browser_fn(move |url: &str| {
    /// #     let (web, url) = (web.clone(), url.to_owned());
    /// #     tokio::spawn(async move {
    /// #         use evo_core::Transport as _;
    /// #         let get = |url: &str| evo_core::http::Request::get(url).body(evo_core::Body::empty()).unwrap();
    /// #         let Ok(answer) = web.send(get(&url)).await else { return };
    /// #         if let Some(back) = answer.headers().get("location").and_then(|v| v.to_str().ok()) {
    /// #             let _ = web.send(get(back)).await;
    /// #         }
    /// #     });
    /// #     Ok(())
    /// # }));
    /// # let public = evo_auth::OAuthConnector::builder(transport.clone(), emulator.public_client_id())
    /// #     .issuer(issuer.as_str()).build()?;
    /// // `public`: the emulator's IMS with a public (desktop) client id; `browser` opens a URL.
    /// use std::sync::Arc;
    /// use evo_auth::{AuthorizationCodeAuthorizer, MemoryTokenStore};
    ///
    /// let store = Arc::new(MemoryTokenStore::new()); // a FileTokenStore keeps it between runs
    /// let build = || {
    ///     AuthorizationCodeAuthorizer::builder(public.clone())
    ///         .redirect_url("http://localhost:0/signin-callback")
    ///         .browser(browser.clone())
    ///         .store(store.clone())
    ///         .build()
    /// };
    /// let first = build()?;
    /// assert!(!first.restore().await?); // nothing stored yet
    /// first.login_if_needed().await?; // logs in through the browser
    /// assert_eq!(emulator.token_requests(), 1);
    ///
    /// // The next run finds the stored token: no browser, no token request.
    /// let next = build()?;
    /// assert!(next.restore().await?);
    /// next.login_if_needed().await?;
    /// assert_eq!(emulator.token_requests(), 1);
    ///
    /// next.logout().await?; // forgotten here and in the store
    /// assert!(next.token().is_none() && !build()?.restore().await?);
    /// # Ok(()) }
    /// ```
    pub async fn login_if_needed(&self) -> Result<(), OAuthError> {
        if self.session_is_usable().await? {
            return Ok(());
        }
        let _one_at_a_time = self.login_lock.lock().await;
        // A login that ran while this call waited may have left a usable token.
        if self.session_is_usable().await? {
            return Ok(());
        }
        self.login_locked().await
    }

    /// True when the current or stored token is valid or can be refreshed.
    async fn session_is_usable(&self) -> Result<bool, OAuthError> {
        if self.cache.current().is_none() && self.has_store {
            self.restore().await?;
        }
        if self.cache.current().is_none() {
            return Ok(false);
        }
        match self.cache.token().await {
            Ok(_) => Ok(true),
            Err(e) if e.needs_login() => {
                tracing::info!(error = %e, "the saved session cannot be renewed; logging in");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Logs in through the browser: see the type's documentation. One login runs at a time.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emulator = evo_emulator::Emulator::builder().start().await?;
    /// # let transport: evo_core::SharedTransport = std::sync::Arc::new(evo_hyper::HyperTransport::new());
    /// # let issuer = emulator.ims_url();
    /// # let service = emulator.service_client();
    /// # let api = |authorizer: std::sync::Arc<dyn evo_core::Authorizer>| evo_core::ApiConnector::builder(emulator.hub_url())
    /// #     .transport(transport.clone()).authorizer(authorizer).build().unwrap();
    /// # let org_id = emulator.org_id();
    /// # let list_workspaces = |api: evo_core::ApiConnector| async move {
    /// #     api.request(evo_core::http::Method::GET, "workspace/orgs/{org}/workspaces")
    /// #         .path_param("org", org_id).send_json::<serde_json::Value>().await
    /// # };
    /// # let web = transport.clone();
    /// # // A stand-in for the user's browser: the emulator approves the login at once, and the
    /// # // browser follows the redirect back to the loopback listener.
    /// # let browser = std::sync::Arc::new(evo_auth::browser_fn(move |url: &str| {
    /// #     let (web, url) = (web.clone(), url.to_owned());
    /// #     tokio::spawn(async move {
    /// #         use evo_core::Transport as _;
    /// #         let get = |url: &str| evo_core::http::Request::get(url).body(evo_core::Body::empty()).unwrap();
    /// #         let Ok(answer) = web.send(get(&url)).await else { return };
    /// #         if let Some(back) = answer.headers().get("location").and_then(|v| v.to_str().ok()) {
    /// #             let _ = web.send(get(back)).await;
    /// #         }
    /// #     });
    /// #     Ok(())
    /// # }));
    /// # let public = evo_auth::OAuthConnector::builder(transport.clone(), emulator.public_client_id())
    /// #     .issuer(issuer.as_str()).build()?;
    /// // `public`: the emulator's IMS with a public (desktop) client id; `browser` opens a URL.
    /// use std::sync::Arc;
    /// use evo_auth::{AuthorizationCodeAuthorizer, EvoScope, Scopes};
    ///
    /// let authorizer = Arc::new(
    ///     AuthorizationCodeAuthorizer::builder(public)
    ///         .redirect_url("http://localhost:0/signin-callback") // any free loopback port
    ///         .scopes(Scopes::all_evo() | EvoScope::OfflineAccess)
    ///         .browser(browser)
    ///         .build()?,
    /// );
    /// authorizer.login().await?; // opens the browser and waits for the redirect
    /// assert!(authorizer.token().unwrap().refresh_token().is_some());
    /// list_workspaces(api(authorizer)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn login(&self) -> Result<(), OAuthError> {
        let _one_at_a_time = self.login_lock.lock().await;
        self.login_locked().await
    }

    /// The login itself; the caller holds `login_lock`.
    async fn login_locked(&self) -> Result<(), OAuthError> {
        let port = self.redirect_url.port().unwrap_or(0);
        let mut listener =
            Listener::bind(self.loopback, port, self.redirect_url.path().to_owned()).await?;
        let mut redirect = self.redirect_url.clone();
        if port == 0 {
            let _ = redirect.set_port(Some(listener.port()));
        }
        let state = pkce::new_state()?;
        let verifier = pkce::new_verifier()?;
        let authorize_url = self.connector.authorization_request_url(
            &redirect,
            &self.scopes,
            &state,
            &pkce::challenge(&verifier),
        );
        tracing::info!(
            authorize_url = %evo_core::redact_url(&authorize_url),
            redirect = %redirect,
            "waiting for the browser to log in"
        );
        let browser = self.browser.clone();
        let shown = authorize_url.to_string();
        let opened = tokio::task::spawn_blocking(move || browser.open(&shown)).await;
        if !matches!(opened, Ok(Ok(()))) {
            tracing::info!("no browser could be opened; printing the URL");
            let _ = PrintUrl.open(authorize_url.as_str());
        }
        let wait = async {
            // The listener passes on only requests carrying code, error or state; those with
            // this login's state end it, successfully or not.
            loop {
                let Some(callback) = listener.next().await else {
                    return Err(OAuthError::InvalidRedirect {
                        reason: "the redirect listener stopped".into(),
                    });
                };
                if let Some(result) = self
                    .on_callback(callback, &state, &verifier, &redirect)
                    .await
                {
                    return result;
                }
            }
        };
        match tokio::time::timeout(self.login_timeout, wait).await {
            Ok(result) => result,
            Err(_) => Err(OAuthError::LoginTimeout {
                timeout: self.login_timeout,
            }),
        }
    }

    /// Handles one redirect: `None` when it did not carry this login's state (answered 400,
    /// the login goes on waiting), the login's outcome otherwise.
    async fn on_callback(
        &self,
        callback: Callback,
        state: &str,
        verifier: &str,
        redirect: &Url,
    ) -> Option<Result<(), OAuthError>> {
        let fail = |callback: Callback, status: StatusCode, error: OAuthError| {
            callback.answer(Page::failure(status, error.to_string()));
            Some(Err(error))
        };
        let ignored = match callback.get("state") {
            Some(got) if pkce::same_secret(got, state) => None,
            Some(_) => Some(OAuthError::StateMismatch),
            None => Some(OAuthError::InvalidRedirect {
                reason: "the redirect has no state".into(),
            }),
        };
        if let Some(error) = ignored {
            // Anything on this machine can call the listener: only the authorization server,
            // which echoes the state, may end the login.
            tracing::warn!(error = %error, "ignoring a login redirect without this login's state");
            callback.answer(Page::failure(
                StatusCode::BAD_REQUEST,
                format!("{error}. This redirect was ignored; the login is still waiting."),
            ));
            return None;
        }
        if let Some(code) = callback.get("error") {
            let error = OAuthError::Authorization {
                code: OAuthErrorCode::parse(code),
                description: callback.get("error_description").map(|d| truncate(d, 500)),
            };
            tracing::info!(error = %error, "the login was refused");
            return fail(callback, StatusCode::OK, error);
        }
        let Some(code) = callback.get("code").map(str::to_owned) else {
            let error = OAuthError::InvalidRedirect {
                reason: "the redirect has neither code nor error".into(),
            };
            return fail(callback, StatusCode::BAD_REQUEST, error);
        };
        let exchanged = self
            .connector
            .request_token(
                "authorization_code",
                &[
                    ("code", code.as_str()),
                    ("code_verifier", verifier),
                    ("redirect_uri", redirect.as_str()),
                ],
                false,
            )
            .await;
        match exchanged {
            Ok(token) => {
                self.cache.install(token).await;
                tracing::info!("logged in");
                callback.answer(Page::success());
                Some(Ok(()))
            }
            Err(error) => fail(callback, StatusCode::OK, error),
        }
    }
}

#[async_trait]
impl evo_core::Authorizer for AuthorizationCodeAuthorizer {
    async fn headers(&self) -> Result<HeaderMap, evo_core::Error> {
        if self.cache.current().is_none() && self.has_store {
            self.restore().await?;
        }
        self.cache.authorizer_headers().await
    }
    async fn refresh(&self, rejected: &HeaderMap) -> Result<bool, evo_core::Error> {
        self.cache.authorizer_refresh(rejected).await
    }
}
