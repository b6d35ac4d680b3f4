//! The token cache every authorizer shares: early refresh, single flight, fallback to the old
//! token, the forced refresh after a 401, and saving to a [`TokenStore`].

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::connector::OAuthConnector;
use crate::error::OAuthError;
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

struct State {
    token: Option<Arc<Token>>,
    /// The server answered 401 to the current token.
    rejected: bool,
    /// Token requests made so far (successful or not).
    attempts: u64,
    /// The error of the last token request, when it failed.
    last_error: Option<OAuthError>,
    /// When the last token request failed.
    failed_at: Option<Instant>,
}

/// The shared cache.
pub(crate) struct TokenCache {
    connector: Option<OAuthConnector>,
    grant: Grant,
    margin: Duration,
    store: Option<(Arc<dyn TokenStore>, TokenKey)>,
    state: Mutex<State>,
    /// Held while a token request runs: the single flight.
    flight: tokio::sync::Mutex<()>,
    /// Seeds the per-token spread of the margin (random per process).
    spread: std::collections::hash_map::RandomState,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("TokenCache")
            .field("token", &state.token)
            .field("rejected", &state.rejected)
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
                attempts: 0,
                last_error: None,
                failed_at: None,
            }),
            flight: tokio::sync::Mutex::new(()),
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
            state.last_error = None;
        }
        self.save(&token).await;
    }

    /// Forgets the token and clears the store.
    pub(crate) async fn forget(&self) -> Result<(), OAuthError> {
        self.lock().token = None;
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

    /// A token fit to send: the cached one, or a new one when it is missing, expired or due.
    pub(crate) async fn token(&self) -> Result<Arc<Token>, OAuthError> {
        let now = SystemTime::now();
        let (token, rejected, seen, cooling) = {
            let state = self.lock();
            let cooling = state
                .failed_at
                .is_some_and(|at| at.elapsed() < RENEWAL_COOLDOWN);
            (state.token.clone(), state.rejected, state.attempts, cooling)
        };
        if let Some(t) = &token
            && Self::usable(t, rejected, now)
            && (!self.due(t, now) || !self.can_fetch() || cooling)
        {
            return Ok(t.clone());
        }
        if !self.can_fetch() {
            return match token {
                // A fixed token of which the server said nothing: send it, the server decides.
                Some(t) if !rejected => Ok(t),
                Some(_) => Err(OAuthError::LoginRequired {
                    reason: "the access token was rejected and cannot be refreshed".into(),
                }),
                None => Err(OAuthError::LoginRequired {
                    reason: "there is no access token".into(),
                }),
            };
        }
        self.fetch(seen, None).await
    }

    /// After a 401 to a request that carried `rejected`: true when a different token is now
    /// available (renewed here, or already by a concurrent caller).
    pub(crate) async fn refresh_after_rejection(
        &self,
        rejected_headers: &HeaderMap,
    ) -> Result<bool, OAuthError> {
        let sent = rejected_headers
            .get(AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec());
        let seen = {
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
            state.attempts
        };
        self.fetch(seen, sent).await.map(|_| true)
    }

    /// The single flight. `seen` is the attempt count the caller saw before waiting; when it
    /// moved, another caller made a token request meanwhile and its outcome is used instead of
    /// making another. `rejected` is the header a 401 refused, when this is a forced refresh.
    async fn fetch(&self, seen: u64, rejected: Option<Vec<u8>>) -> Result<Arc<Token>, OAuthError> {
        let _flight = self.flight.lock().await;
        let now = SystemTime::now();
        let previous = {
            let state = self.lock();
            if state.attempts != seen {
                let changed = match (&state.token, &rejected) {
                    (Some(t), Some(r)) => !t.is_header(r),
                    _ => true,
                };
                match (&state.token, &state.last_error) {
                    (Some(t), _) if Self::usable(t, state.rejected, now) && changed => {
                        return Ok(t.clone());
                    }
                    (_, Some(e)) => return Err(e.clone()),
                    _ => {}
                }
            }
            state.token.clone()
        };
        let outcome = self.request(previous.as_deref()).await;
        let result = {
            let mut state = self.lock();
            state.attempts += 1;
            match outcome {
                Ok(token) => {
                    let token = Arc::new(token);
                    state.token = Some(token.clone());
                    state.rejected = false;
                    state.last_error = None;
                    state.failed_at = None;
                    Ok((token, true))
                }
                Err(e) => {
                    state.last_error = Some(e.clone());
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
        let (token, fresh) = result?;
        if fresh {
            self.save(&token).await;
        }
        Ok(token)
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
    pub(crate) async fn authorizer_headers(&self) -> Result<HeaderMap, evo_core::Error> {
        let token = self.token().await?;
        auth_headers(&token)
    }

    /// [`evo_core::Authorizer::refresh`] for every authorizer of this crate.
    pub(crate) async fn authorizer_refresh(
        &self,
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
