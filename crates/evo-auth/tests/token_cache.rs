//! The token cache under load and across processes (issue 16): a valid token is served while a
//! hung endpoint renews it, a dropped caller does not lose a rotated refresh token, waiters
//! share one token request, and two "processes" sharing a token store with rotating refresh
//! tokens do not log each other out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use evo_auth::{
    AccessTokenAuthorizer, AuthorizationCodeAuthorizer, ClientCredentialsAuthorizer,
    FileTokenStore, OAuthConnector, OAuthError, Scopes, Token, TokenKey, TokenStore,
};
use evo_core::{Authorizer, Body, Transport, TransportError};
use http::{Request, Response};

/// A token endpoint that rotates refresh tokens: `refresh_token` grants succeed only with the
/// latest one (then a new pair is issued), older ones get `invalid_grant`. Client credentials
/// grants get a token that lives `ttl` seconds.
#[derive(Default)]
struct Rotating {
    current: Mutex<(u32, String)>,
    delay: Duration,
    hang: bool,
    ttl: u64,
    requests: AtomicU64,
    invalid_grants: AtomicU64,
    /// Called when a stale refresh token arrives, before answering `invalid_grant`.
    on_stale: Option<Box<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for Rotating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rotating")
    }
}

impl Rotating {
    fn new(current_refresh: &str) -> Self {
        Rotating {
            current: Mutex::new((1, current_refresh.to_owned())),
            ttl: 3600,
            ..Rotating::default()
        }
    }
    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

#[async_trait]
impl Transport for Rotating {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let form = request.into_body().collect(64 * 1024).await.unwrap();
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&form)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        if self.hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        tokio::time::sleep(self.delay).await;
        let ttl = self.ttl;
        if field("grant_type").as_deref() != Some("refresh_token") {
            return Ok(answer(
                200,
                format!(
                    r#"{{"access_token":"CC-{}","token_type":"Bearer","expires_in":{ttl}}}"#,
                    self.requests()
                ),
            ));
        }
        let sent = field("refresh_token").unwrap_or_default();
        let issued = {
            let mut current = self.current.lock().unwrap();
            if sent == current.1 {
                current.0 += 1;
                Some(current.0)
            } else {
                None
            }
        };
        match issued {
            Some(n) => {
                self.current.lock().unwrap().1 = format!("RT{n}");
                Ok(answer(
                    200,
                    format!(
                        r#"{{"access_token":"AT{n}","token_type":"Bearer","expires_in":{ttl},"refresh_token":"RT{n}"}}"#
                    ),
                ))
            }
            None => {
                self.invalid_grants.fetch_add(1, Ordering::SeqCst);
                if let Some(hook) = &self.on_stale {
                    hook();
                }
                Ok(answer(400, r#"{"error":"invalid_grant"}"#.into()))
            }
        }
    }
}

fn connector(endpoint: &Arc<Rotating>) -> OAuthConnector {
    OAuthConnector::builder(endpoint.clone(), "cid")
        .issuer("https://ims.example")
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn bearer(headers: &http::HeaderMap) -> String {
    headers["authorization"].to_str().unwrap().to_owned()
}

/// A token `AT<n>`/`RT<n>` that expires `expires_in` from now after living `age` already.
fn token(n: u32, age: Duration, expires_in: Duration) -> Token {
    let now = SystemTime::now();
    Token::new(format!("AT{n}"))
        .with_refresh_token(format!("RT{n}"))
        .with_issued_at(now - age)
        .with_expires_at(now + expires_in)
}

/// A store that ignores keys: one token, shared by the authorizers given it ("processes").
#[derive(Debug, Default)]
struct SharedStore {
    token: Mutex<Option<Token>>,
}

impl SharedStore {
    fn put(&self, token: Token) {
        *self.token.lock().unwrap() = Some(token);
    }
    fn refresh_token(&self) -> Option<String> {
        let token = self.token.lock().unwrap();
        Some(token.as_ref()?.refresh_token()?.expose().to_owned())
    }
}

#[async_trait]
impl TokenStore for SharedStore {
    async fn load(&self, _key: &TokenKey) -> Result<Option<Token>, OAuthError> {
        Ok(self.token.lock().unwrap().clone())
    }
    async fn save(&self, _key: &TokenKey, token: &Token) -> Result<(), OAuthError> {
        self.put(token.clone());
        Ok(())
    }
    async fn clear(&self, _key: &TokenKey) -> Result<(), OAuthError> {
        *self.token.lock().unwrap() = None;
        Ok(())
    }
}

fn logged_in(endpoint: &Arc<Rotating>, store: Arc<dyn TokenStore>) -> AuthorizationCodeAuthorizer {
    AuthorizationCodeAuthorizer::builder(connector(endpoint))
        .scopes(Scopes::default())
        .store(store)
        .build()
        .unwrap()
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_due_token_is_served_at_once_while_a_hung_endpoint_renews_it() {
    let endpoint = Arc::new(Rotating {
        hang: true,
        ..Rotating::new("RT1")
    });
    // An hour-long token with 10 s left: due for renewal (5-minute margin), still valid.
    let given = token(1, Duration::from_secs(3590), Duration::from_secs(10));
    let auth =
        AccessTokenAuthorizer::refreshable(connector(&endpoint), given, Duration::from_secs(300))
            .unwrap();
    for _ in 0..3 {
        let headers = tokio::time::timeout(Duration::from_secs(2), auth.headers())
            .await
            .expect("the valid token is served without waiting for the renewal")
            .unwrap();
        assert_eq!(bearer(&headers), "Bearer AT1");
    }
    eventually("the renewal started", || endpoint.requests() == 1).await;
    tokio::task::yield_now().await;
    assert_eq!(
        endpoint.requests(),
        1,
        "one background renewal, not one per caller"
    );
}

#[tokio::test]
async fn a_caller_dropped_mid_refresh_does_not_lose_the_rotated_refresh_token() {
    let endpoint = Arc::new(Rotating {
        delay: Duration::from_millis(300),
        ..Rotating::new("RT1")
    });
    let store = Arc::new(SharedStore::default());
    store.put(token(1, Duration::from_secs(3700), Duration::ZERO));
    let auth = logged_in(&endpoint, store.clone());
    // The caller gives up while the refresh is on the wire.
    let gave_up = tokio::time::timeout(Duration::from_millis(50), auth.headers()).await;
    assert!(gave_up.is_err());
    eventually("the rotated token is saved", || {
        store.refresh_token().as_deref() == Some("RT2")
    })
    .await;
    assert_eq!(bearer(&auth.headers().await.unwrap()), "Bearer AT2");
    assert_eq!(endpoint.requests(), 1);
    assert_eq!(endpoint.invalid_grants.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_thousand_waiters_share_one_token_request_even_for_a_token_that_expires_at_once() {
    let endpoint = Arc::new(Rotating {
        delay: Duration::from_millis(100),
        ttl: 0,
        ..Rotating::new("unused")
    });
    let connector = OAuthConnector::builder(endpoint.clone(), "cid")
        .issuer("https://ims.example")
        .client_secret("secret")
        .build()
        .unwrap();
    let auth = ClientCredentialsAuthorizer::new(connector, Scopes::default()).unwrap();
    let calls = (0..1000).map(|_| auth.headers());
    let results = futures_util::future::join_all(calls).await;
    for result in results {
        assert_eq!(bearer(&result.unwrap()), "Bearer CC-1");
    }
    assert_eq!(endpoint.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_a_token_file_do_not_spend_each_others_refresh_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.json");
    let endpoint = Arc::new(Rotating {
        delay: Duration::from_millis(200),
        ..Rotating::new("RT1")
    });
    let key = TokenKey::new(
        connector(&endpoint).issuer().as_str(),
        "cid",
        &Scopes::default(),
    );
    FileTokenStore::new(&path)
        .save(&key, &token(1, Duration::ZERO, Duration::from_secs(3600)))
        .await
        .unwrap();
    // Two processes: each its own authorizer and its own handle on the file.
    let a = logged_in(&endpoint, Arc::new(FileTokenStore::new(&path)));
    let b = logged_in(&endpoint, Arc::new(FileTokenStore::new(&path)));
    let seen_a = a.headers().await.unwrap();
    let seen_b = b.headers().await.unwrap();
    assert_eq!(bearer(&seen_b), "Bearer AT1");
    // The server refuses AT1 to both at once: both refresh.
    let (renewed_a, renewed_b) = tokio::join!(a.refresh(&seen_a), b.refresh(&seen_b));
    assert!(renewed_a.unwrap() && renewed_b.unwrap());
    assert_eq!(
        endpoint.invalid_grants.load(Ordering::SeqCst),
        0,
        "nobody sent a refresh token the other had spent"
    );
    assert_eq!(
        endpoint.requests(),
        1,
        "the second took the first one's token"
    );
    assert_eq!(bearer(&a.headers().await.unwrap()), "Bearer AT2");
    assert_eq!(bearer(&b.headers().await.unwrap()), "Bearer AT2");
    let stored = FileTokenStore::new(&path)
        .load(&key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refresh_token().unwrap().expose(), "RT2");
}

#[tokio::test]
async fn after_invalid_grant_the_store_is_read_again() {
    // Another process refreshed with RT1 (the server now wants RT2) and saves its token just
    // as this process's refresh with RT1 is refused.
    let store = Arc::new(SharedStore::default());
    store.put(token(1, Duration::from_secs(3700), Duration::ZERO));
    let other = store.clone();
    let endpoint = Arc::new(Rotating {
        on_stale: Some(Box::new(move || {
            other.put(token(2, Duration::ZERO, Duration::from_secs(3600)));
        })),
        ..Rotating::new("RT2")
    });
    let auth = logged_in(&endpoint, store.clone());
    assert_eq!(bearer(&auth.headers().await.unwrap()), "Bearer AT2");
    assert_eq!(endpoint.requests(), 1);
    assert_eq!(endpoint.invalid_grants.load(Ordering::SeqCst), 1);
}
