//! Where the token is refreshed: the token cache every authorizer shares.
//!
//! - A valid token is always served at once. Once it is due for renewal (a margin before it
//!   expires), one background refresh starts and callers keep the valid token meanwhile: a
//!   slow or hung token endpoint never stalls traffic while the token is still good.
//! - A refresh runs in a spawned task (a "flight") that every caller needing its result
//!   shares: dropping a caller never cancels it, so a rotated refresh token is never lost
//!   between the answer and the save. Callers that wait take the flight's result as it is
//!   (even a token that expires at once) instead of asking again.
//! - Refresh and save run under the store's cross-process lock ([`TokenStore::lock`], an OS
//!   file lock for [`FileTokenStore`](crate::FileTokenStore)); the store is read again first,
//!   so a token another process renewed is taken instead of spending a rotated refresh token,
//!   and again after `invalid_grant`, in case another process rotated it meanwhile.
//! - A failed renewal keeps the still-valid token in use (the next background renewal starts
//!   [`RENEWAL_COOLDOWN`] later at the earliest); after a 401 one forced refresh is made (none
//!   when a concurrent caller already replaced the token).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http::HeaderMap;
use http::header::AUTHORIZATION;
use tokio::sync::watch;

use crate::connector::OAuthConnector;
use crate::error::{OAuthError, OAuthErrorCode};
use crate::scope::Scopes;
use crate::store::{TokenKey, TokenStore};
use crate::token::Token;

/// The default time before expiry at which a token is renewed.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Renewal starts at a point spread over this fraction of the margin beyond it (per token and
/// per process), so that processes holding tokens of the same age do not all renew at once.
const MARGIN_SPREAD: f64 = 0.2;

/// After a failed early renewal, how long the still-valid token is used before trying again
/// (so that a failing token endpoint is not asked on every request).
const RENEWAL_COOLDOWN: Duration = Duration::from_secs(5);

/// How the cache obtains a new token.
pub(crate) enum Grant {
    /// `grant_type=client_credentials` with these scopes.
    ClientCredentials { scopes: Scopes },
    /// `grant_type=refresh_token` with the current token's refresh token.
    RefreshToken,
    /// No way to get a new token (a fixed access token).
    None,
}

/// What a flight ends with.
type Outcome = Result<Arc<Token>, OAuthError>;

/// The result of the running flight, `None` until it ends.
type FlightResult = watch::Receiver<Option<Outcome>>;

struct State {
    token: Option<Arc<Token>>,
    /// The server answered 401 to the current token.
    rejected: bool,
    /// When the last token request failed.
    failed_at: Option<Instant>,
    /// The running refresh, if any.
    flight: Option<FlightResult>,
    /// Bumped when a login or logout replaces the token: a flight started before does not
    /// overwrite it.
    generation: u64,
}

/// The shared cache.
pub(crate) struct TokenCache {
    connector: Option<OAuthConnector>,
    grant: Grant,
    margin: Duration,
    store: Option<(Arc<dyn TokenStore>, TokenKey)>,
    state: Mutex<State>,
    /// Seeds the per-token spread of the margin (random per process).
    spread: std::collections::hash_map::RandomState,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("TokenCache")
            .field("token", &state.token)
            .field("rejected", &state.rejected)
            .field("refreshing", &state.flight.is_some())
            .field("margin", &self.margin)
            .field("store", &self.store.as_ref().map(|(s, _)| s))
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub(crate) fn new(
        connector: Option<OAuthConnector>,
        grant: Grant,
        margin: Duration,
        store: Option<(Arc<dyn TokenStore>, TokenKey)>,
        token: Option<Token>,
    ) -> Self {
        TokenCache {
            connector,
            grant,
            margin,
            store,
            state: Mutex::new(State {
                token: token.map(Arc::new),
                rejected: false,
                failed_at: None,
                flight: None,
                generation: 0,
            }),
            spread: std::collections::hash_map::RandomState::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current token, whatever its state.
    pub(crate) fn current(&self) -> Option<Arc<Token>> {
        self.lock().token.clone()
    }

    /// True when the token can still be sent.
    fn usable(token: &Token, rejected: bool, now: SystemTime) -> bool {
        !rejected && !token.is_expired_at(now)
    }

    /// True when the token is close enough to expiry to be renewed: less than the margin left,
    /// where the margin is at most half the token's lifetime (so a 2-minute token is not
    /// renewed on every request under a 5-minute margin), widened by a spread of up to
    /// [`MARGIN_SPREAD`] that is fixed for each token and differs between processes.
    fn due(&self, token: &Token, now: SystemTime) -> bool {
        let Some(remaining) = token.remaining_at(now) else {
            return false;
        };
        remaining <= self.margin_for(token)
    }

    fn margin_for(&self, token: &Token) -> Duration {
        use std::hash::BuildHasher as _;
        let margin = match token.lifetime() {
            Some(lifetime) => self.margin.min(lifetime / 2),
            None => self.margin,
        };
        let draw = self.spread.hash_one(token.access_token().expose()) as f64 / u64::MAX as f64;
        margin.mul_f64(1.0 + MARGIN_SPREAD * draw)
    }

    fn can_fetch(&self) -> bool {
        !matches!(self.grant, Grant::None)
    }

    /// Replaces the token (after a login or a restore) and saves it.
    pub(crate) async fn install(&self, token: Token) {
        let token = Arc::new(token);
        {
            let mut state = self.lock();
            state.token = Some(token.clone());
            state.rejected = false;
            state.failed_at = None;
            state.generation += 1;
        }
        self.save(&token).await;
    }

    /// Forgets the token and clears the store.
    pub(crate) async fn forget(&self) -> Result<(), OAuthError> {
        {
            let mut state = self.lock();
            state.token = None;
            state.generation += 1;
        }
        if let Some((store, key)) = &self.store {
            store.clear(key).await?;
        }
        Ok(())
    }

    /// Loads the stored token, if any, into the cache. Returns whether one was found.
    pub(crate) async fn restore(&self) -> Result<bool, OAuthError> {
        let Some((store, key)) = &self.store else {
            return Ok(false);
        };
        match store.load(key).await? {
            Some(token) => {
                let mut state = self.lock();
                state.token = Some(Arc::new(token));
                state.rejected = false;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn save(&self, token: &Token) {
        if let Some((store, key)) = &self.store
            && let Err(e) = store.save(key, token).await
        {
            // Failing to save must not fail the request that needed the token.
            tracing::warn!(error = %e, "could not save the token");
        }
    }

    /// A token fit to send: the cached one while it is valid (starting a background renewal
    /// when it is due), else the result of a refresh.
    pub(crate) async fn token(self: &Arc<Self>) -> Result<Arc<Token>, OAuthError> {
        let now = SystemTime::now();
        let flight = {
            let mut state = self.lock();
            let token = state.token.clone();
            if let Some(t) = &token
                && Self::usable(t, state.rejected, now)
            {
                let cooling = state
                    .failed_at
                    .is_some_and(|at| at.elapsed() < RENEWAL_COOLDOWN);
                if self.can_fetch() && self.due(t, now) && !cooling && state.flight.is_none() {
                    tracing::debug!("the token is due for renewal; renewing in the background");
                    self.start_flight(&mut state, None);
                }
                return Ok(t.clone());
            }
            if !self.can_fetch() {
                return match token {
                    // A fixed token of which the server said nothing: send it, the server
                    // decides.
                    Some(t) if !state.rejected => Ok(t),
                    Some(_) => Err(OAuthError::LoginRequired {
                        reason: "the access token was rejected and cannot be refreshed".into(),
                    }),
                    None => Err(OAuthError::LoginRequired {
                        reason: "there is no access token".into(),
                    }),
                };
            }
            match &state.flight {
                Some(flight) => flight.clone(),
                None => self.start_flight(&mut state, None),
            }
        };
        Self::wait(flight).await
    }

    /// After a 401 to a request that carried `rejected`: true when a different token is now
    /// available (renewed here, or already by a concurrent caller).
    pub(crate) async fn refresh_after_rejection(
        self: &Arc<Self>,
        rejected_headers: &HeaderMap,
    ) -> Result<bool, OAuthError> {
        let sent = rejected_headers
            .get(AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec());
        let flight = {
            let mut state = self.lock();
            let same = match (&state.token, &sent) {
                (Some(t), Some(sent)) => t.is_header(sent),
                (Some(_), None) => true,
                (None, _) => false,
            };
            if !same && state.token.is_some() {
                // Another caller already replaced the token the server rejected.
                return Ok(true);
            }
            if !self.can_fetch() {
                return Ok(false);
            }
            if state.token.is_some() {
                state.rejected = true;
            }
            // A refresh already running gives a token other than the rejected one.
            match &state.flight {
                Some(flight) => flight.clone(),
                None => self.start_flight(&mut state, sent),
            }
        };
        Self::wait(flight).await.map(|_| true)
    }

    /// Starts the refresh task; the caller holds the state lock, so there is one at a time.
    fn start_flight(
        self: &Arc<Self>,
        state: &mut State,
        rejected: Option<Vec<u8>>,
    ) -> FlightResult {
        let (done, result) = watch::channel(None);
        state.flight = Some(result.clone());
        let cache = Arc::clone(self);
        let generation = state.generation;
        tokio::spawn(async move {
            let outcome = cache.fly(generation, rejected).await;
            // Waiters that went away are no reason to fail.
            let _ = done.send(Some(outcome));
        });
        result
    }

    /// Waits for a flight's result.
    async fn wait(mut flight: FlightResult) -> Outcome {
        match flight.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or_else(|| Err(interrupted())),
            Err(_) => Err(interrupted()),
        }
    }

    /// The body of a flight: under the store's lock, take a token another process renewed or
    /// request one (again with the stored token after `invalid_grant`), install and save it.
    async fn fly(&self, generation: u64, rejected: Option<Vec<u8>>) -> Outcome {
        let _store_lock = self.lock_store().await;
        let stored = self.load_stored().await;
        let (previous, adopted) = {
            let state = self.lock();
            let current = state.token.clone();
            match stored {
                Some(stored) if is_newer(&stored, current.as_deref(), rejected.as_deref()) => {
                    tracing::debug!("the stored token was renewed elsewhere; taking it");
                    let usable = Self::usable(&stored, false, SystemTime::now())
                        && !self.due(&stored, SystemTime::now());
                    let stored = Arc::new(stored);
                    (Some(stored.clone()), usable.then_some(stored))
                }
                _ => (current, None),
            }
        };
        let outcome = match adopted {
            Some(token) => Ok((token, false)),
            None => {
                self.request_or_reread(previous.as_deref(), rejected.as_deref())
                    .await
            }
        };
        self.land(generation, outcome).await
    }

    /// Installs a flight's outcome and saves a fresh token, then ends the flight. A failure
    /// keeps a still-valid token (that no 401 refused) in use.
    async fn land(
        &self,
        generation: u64,
        outcome: Result<(Arc<Token>, bool), OAuthError>,
    ) -> Outcome {
        let now = SystemTime::now();
        let result = {
            let mut state = self.lock();
            if state.generation != generation {
                // A login or logout replaced the token meanwhile: it wins.
                state.flight = None;
                return outcome.map(|(token, _)| token);
            }
            match outcome {
                Ok((token, fresh)) => {
                    state.token = Some(token.clone());
                    state.rejected = false;
                    state.failed_at = None;
                    Ok((token, fresh))
                }
                Err(e) => {
                    state.failed_at = Some(Instant::now());
                    match &state.token {
                        Some(old) if Self::usable(old, state.rejected, now) => {
                            tracing::warn!(error = %e, "renewing the token failed; the current one is still valid and stays in use");
                            Ok((old.clone(), false))
                        }
                        _ => Err(e),
                    }
                }
            }
        };
        if let Ok((token, true)) = &result {
            // Saved before the flight ends, whoever waits: a rotated refresh token is kept.
            self.save(token).await;
        }
        self.lock().flight = None;
        result.map(|(token, _)| token)
    }

    /// Requests a token; after `invalid_grant`, reads the store again and, when another
    /// process rotated the refresh token meanwhile, takes its token (or refreshes with it).
    async fn request_or_reread(
        &self,
        previous: Option<&Token>,
        rejected: Option<&[u8]>,
    ) -> Result<(Arc<Token>, bool), OAuthError> {
        let error = match self.request(previous).await {
            Ok(token) => return Ok((Arc::new(token), true)),
            Err(e) => e,
        };
        if error.code() != Some(&OAuthErrorCode::InvalidGrant) {
            return Err(error);
        }
        let Some(stored) = self.load_stored().await else {
            return Err(error);
        };
        let rotated = match (
            previous.and_then(Token::refresh_token),
            stored.refresh_token(),
        ) {
            (Some(sent), Some(stored)) => sent.expose() != stored.expose(),
            _ => false,
        };
        if !rotated {
            return Err(error);
        }
        tracing::info!("the refresh token was rotated by another process; using the stored one");
        let now = SystemTime::now();
        let refused = rejected.is_some_and(|r| stored.is_header(r));
        if Self::usable(&stored, refused, now) && !self.due(&stored, now) {
            return Ok((Arc::new(stored), false));
        }
        let token = self.request(Some(&stored)).await?;
        Ok((Arc::new(token), true))
    }

    /// The store's cross-process lock, when it has one (a failure to lock is logged, and the
    /// refresh goes on without it).
    async fn lock_store(&self) -> Option<crate::store::TokenStoreLock> {
        let (store, key) = self.store.as_ref()?;
        match store.lock(key).await {
            Ok(lock) => lock,
            Err(e) => {
                tracing::warn!(error = %e, "could not lock the token store; refreshing without the lock");
                None
            }
        }
    }

    /// The stored token, if the store has one (a failure to read is logged).
    async fn load_stored(&self) -> Option<Token> {
        let (store, key) = self.store.as_ref()?;
        match store.load(key).await {
            Ok(token) => token,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the token store");
                None
            }
        }
    }

    /// One token request for the grant.
    async fn request(&self, previous: Option<&Token>) -> Result<Token, OAuthError> {
        let Some(connector) = &self.connector else {
            return Err(OAuthError::LoginRequired {
                reason: "this authorizer cannot obtain tokens".into(),
            });
        };
        match &self.grant {
            Grant::ClientCredentials { scopes } => {
                let scope = scopes.to_string();
                let mut params = Vec::new();
                if !scope.is_empty() {
                    params.push(("scope", scope.as_str()));
                }
                connector
                    .request_token("client_credentials", &params, true)
                    .await
            }
            Grant::RefreshToken => {
                let Some(previous) = previous else {
                    return Err(OAuthError::LoginRequired {
                        reason: "there is no token yet: log in first".into(),
                    });
                };
                let Some(refresh) = previous.refresh_token() else {
                    return Err(OAuthError::LoginRequired {
                        reason: "the access token must be renewed but there is no refresh token (ask for the offline_access scope)".into(),
                    });
                };
                // Not repeatable: a server that rotates refresh tokens may have used it up.
                let token = connector
                    .request_token(
                        "refresh_token",
                        &[("refresh_token", refresh.expose())],
                        false,
                    )
                    .await?;
                Ok(token.inherit(previous))
            }
            Grant::None => Err(OAuthError::LoginRequired {
                reason: "this authorizer cannot obtain tokens".into(),
            }),
        }
    }
}

/// True when `stored` is another token than the one in memory and not the one a 401 refused.
fn is_newer(stored: &Token, current: Option<&Token>, rejected: Option<&[u8]>) -> bool {
    let differs =
        current.is_none_or(|c| c.access_token().expose() != stored.access_token().expose());
    differs && !rejected.is_some_and(|r| stored.is_header(r))
}

fn interrupted() -> OAuthError {
    OAuthError::Transport {
        message: "the token refresh was interrupted (its task ended early)".into(),
        retryable: true,
    }
}

/// Builds the `Authorization` header of a token.
pub(crate) fn auth_headers(token: &Token) -> Result<HeaderMap, evo_core::Error> {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        evo_core::bearer_header(token.access_token().expose())?,
    );
    Ok(headers)
}

impl TokenCache {
    /// [`evo_core::Authorizer::headers`] for every authorizer of this crate.
    pub(crate) async fn authorizer_headers(self: &Arc<Self>) -> Result<HeaderMap, evo_core::Error> {
        let token = self.token().await?;
        auth_headers(&token)
    }

    /// [`evo_core::Authorizer::refresh`] for every authorizer of this crate.
    pub(crate) async fn authorizer_refresh(
        self: &Arc<Self>,
        rejected: &HeaderMap,
    ) -> Result<bool, evo_core::Error> {
        Ok(self.refresh_after_rejection(rejected).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str, now: SystemTime) -> Token {
        Token::new(name.to_owned())
            .with_issued_at(now)
            .with_expires_at(now + Duration::from_secs(3600))
    }

    #[test]
    fn renewal_starts_between_the_margin_and_a_fifth_beyond_it_spread_over_tokens() {
        let cache = TokenCache::new(None, Grant::None, Duration::from_secs(300), None, None);
        let issued = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let expires = issued + Duration::from_secs(3600);
        let at_remaining = |secs: u64| expires - Duration::from_secs(secs);
        let tokens: Vec<Token> = (0..64).map(|i| token(&format!("t{i}"), issued)).collect();
        for t in &tokens {
            assert!(cache.due(t, at_remaining(300)), "due within the margin");
            assert!(
                !cache.due(t, at_remaining(361)),
                "never due before 1.2x the margin"
            );
            // The same token always gets the same spread.
            assert_eq!(cache.margin_for(t), cache.margin_for(t));
        }
        let due_at_330 = tokens
            .iter()
            .filter(|t| cache.due(t, at_remaining(330)))
            .count();
        assert!(
            0 < due_at_330 && due_at_330 < tokens.len(),
            "halfway through the spread some tokens renew and some do not ({due_at_330} of 64)"
        );
    }

    #[test]
    fn short_lived_tokens_keep_the_half_lifetime_cap_plus_spread() {
        let cache = TokenCache::new(None, Grant::None, Duration::from_secs(300), None, None);
        let issued = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let t = Token::new("short".to_owned())
            .with_issued_at(issued)
            .with_expires_at(issued + Duration::from_secs(120));
        let margin = cache.margin_for(&t);
        assert!(margin >= Duration::from_secs(60) && margin <= Duration::from_secs(72));
    }
}
