//! Token cache and token request behaviour against a scripted token endpoint: fallback to the
//! still-valid token, retries, malformed and oversized answers, timeouts.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use evo_auth::{
    AccessTokenAuthorizer, ClientCredentialsAuthorizer, OAuthConnector, OAuthError, OAuthErrorCode,
    Scopes, Token,
};
use evo_core::{Authorizer, Body, RetryPolicy, Transport, TransportError, TransportErrorKind};
use http::{Request, Response};

enum Step {
    Answer(u16, String),
    Hang,
    Reset,
}

#[derive(Debug, Default)]
struct Script {
    steps: Mutex<VecDeque<StepBox>>,
    requests: AtomicU64,
    /// The `User-Agent` of each request (empty when it had none).
    user_agents: Mutex<Vec<String>>,
}

struct StepBox(Step);

impl std::fmt::Debug for StepBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Step")
    }
}

impl Script {
    fn new(steps: Vec<Step>) -> Arc<Script> {
        Arc::new(Script {
            steps: Mutex::new(steps.into_iter().map(StepBox).collect()),
            requests: AtomicU64::new(0),
            user_agents: Mutex::default(),
        })
    }
    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Transport for Script {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let user_agent = request.headers().get(http::header::USER_AGENT);
        self.user_agents.lock().unwrap().push(
            user_agent
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        );
        let step = self
            .steps
            .lock()
            .unwrap()
            .pop_front()
            .expect("an unexpected request");
        match step.0 {
            Step::Answer(status, body) => Ok(Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap()),
            Step::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                unreachable!()
            }
            Step::Reset => Err(TransportError::new(
                TransportErrorKind::Connect,
                "connection refused",
            )),
        }
    }
}

fn token(access: &str, expires_in: u64) -> Step {
    Step::Answer(
        200,
        format!(r#"{{"access_token":"{access}","token_type":"bearer","expires_in":{expires_in}}}"#),
    )
}

fn authorizer(script: &Arc<Script>) -> ClientCredentialsAuthorizer {
    let connector = OAuthConnector::builder(script.clone(), "cid")
        .issuer("https://ims.example")
        .client_secret("secret")
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    ClientCredentialsAuthorizer::new(connector, Scopes::default()).unwrap()
}

/// Waits (up to 5 s) until the endpoint has seen `count` requests, then lets the background
/// refresh that sent the last one finish.
async fn wait_for_requests(script: &Script, count: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while script.requests() < count && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
}

fn bearer(headers: &http::HeaderMap) -> String {
    headers["authorization"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_failed_renewal_keeps_the_still_valid_token() {
    let script = Script::new(vec![
        token("first-token", 4),
        Step::Answer(400, r#"{"error":"invalid_client"}"#.into()),
        token("second-token", 4),
    ]);
    let auth = authorizer(&script);
    assert_eq!(bearer(&auth.headers().await.unwrap()), "Bearer first-token");
    // Half the lifetime has passed: the token is due for renewal but still valid. It is
    // served at once while the renewal runs in the background.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(bearer(&auth.headers().await.unwrap()), "Bearer first-token");
    wait_for_requests(&script, 2).await;
    assert_eq!(
        script.requests(),
        2,
        "the renewal was tried once (400 is not retried)"
    );
    // Right after a failure the valid token is used without asking the endpoint again.
    assert_eq!(bearer(&auth.headers().await.unwrap()), "Bearer first-token");
    assert_eq!(script.requests(), 2);
    // A 401 forces a renewal regardless.
    let rejected = auth.headers().await.unwrap();
    assert!(auth.refresh(&rejected).await.unwrap());
    assert_eq!(
        bearer(&auth.headers().await.unwrap()),
        "Bearer second-token"
    );
    assert_eq!(script.requests(), 3);
}

#[tokio::test]
async fn token_and_revocation_requests_name_the_sdk_or_the_callers_agent() {
    let script = Script::new(vec![
        token("t", 3600),
        Step::Answer(200, String::new()),
        token("t", 3600),
    ]);
    let auth = authorizer(&script);
    auth.headers().await.unwrap();
    let connector = OAuthConnector::builder(script.clone(), "cid")
        .issuer("https://ims.example")
        .client_secret("secret")
        .user_agent("my-app/2.1")
        .build()
        .unwrap();
    connector
        .revoke(&"a-refresh-token".into(), evo_auth::TokenKind::RefreshToken)
        .await
        .unwrap();
    let mine = ClientCredentialsAuthorizer::new(connector, Scopes::default()).unwrap();
    mine.headers().await.unwrap();
    assert_eq!(
        *script.user_agents.lock().unwrap(),
        [evo_core::DEFAULT_USER_AGENT, "my-app/2.1", "my-app/2.1"]
    );
    let invalid = OAuthConnector::builder(script.clone(), "cid")
        .user_agent("line\nbreak")
        .build()
        .unwrap_err();
    assert!(invalid.to_string().contains("User-Agent"), "{invalid}");
}

#[tokio::test]
async fn without_a_valid_token_a_failed_request_is_an_error() {
    let script = Script::new(vec![Step::Answer(
        400,
        r#"{"error":"invalid_scope","error_description":"nope"}"#.into(),
    )]);
    let auth = authorizer(&script);
    let e = auth.headers().await.unwrap_err();
    let oauth = OAuthError::find(&e).unwrap();
    assert_eq!(oauth.code(), Some(&OAuthErrorCode::InvalidScope));
    assert!(e.to_string().contains("invalid_scope (nope)"), "{e}");
}

#[tokio::test]
async fn gateway_statuses_and_refused_connections_are_retried_other_errors_not() {
    let script = Script::new(vec![
        Step::Answer(502, "<html>bad gateway</html>".into()),
        Step::Reset,
        Step::Answer(504, String::new()),
    ]);
    let auth = authorizer(&script);
    let e = auth.token().await.unwrap_err();
    assert_eq!(script.requests(), 3, "three attempts in all");
    assert!(e.is_retryable());
    match e {
        OAuthError::UnexpectedResponse { status, .. } => assert_eq!(status.as_u16(), 504),
        other => panic!("{other:?}"),
    }

    let script = Script::new(vec![
        Step::Answer(503, String::new()),
        token("after-503", 3600),
    ]);
    assert_eq!(
        authorizer(&script)
            .token()
            .await
            .unwrap()
            .access_token()
            .expose(),
        "after-503"
    );

    let script = Script::new(vec![Step::Answer(500, "oops".into())]);
    let e = authorizer(&script).token().await.unwrap_err();
    assert_eq!(script.requests(), 1, "500 is not retried");
    match e {
        OAuthError::UnexpectedResponse { status, body, .. } => {
            assert_eq!(status.as_u16(), 500);
            assert_eq!(body.as_ref(), b"oops", "the error body is kept");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_hanging_token_endpoint_times_out() {
    let script = Script::new(vec![Step::Hang, Step::Hang, Step::Hang]);
    let auth = authorizer(&script);
    let e = auth.token().await.unwrap_err();
    assert!(
        matches!(
            e,
            OAuthError::Transport {
                retryable: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("no complete response"), "{e}");
    assert_eq!(
        script.requests(),
        3,
        "a client credentials request is repeatable"
    );
}

#[tokio::test]
async fn an_oversized_token_response_is_refused() {
    let huge = format!(
        r#"{{"access_token":"{}","token_type":"Bearer"}}"#,
        "a".repeat(100_000)
    );
    let script = Script::new(vec![Step::Answer(200, huge)]);
    let e = authorizer(&script).token().await.unwrap_err();
    assert!(
        matches!(
            e,
            OAuthError::Transport {
                retryable: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(script.requests(), 1);
}

#[tokio::test]
async fn a_refresh_that_fails_after_a_401_is_an_error_and_the_token_is_dropped() {
    let script = Script::new(vec![
        token("first-token", 3600),
        Step::Answer(401, r#"{"error":"invalid_client"}"#.into()),
        token("second-token", 3600),
    ]);
    let auth = authorizer(&script);
    let rejected = auth.headers().await.unwrap();
    let e = auth.refresh(&rejected).await.unwrap_err();
    assert_eq!(
        OAuthError::find(&e).unwrap().code(),
        Some(&OAuthErrorCode::InvalidClient)
    );
    // The rejected token is not sent again: the next call asks for a new one.
    assert_eq!(
        bearer(&auth.headers().await.unwrap()),
        "Bearer second-token"
    );
    assert_eq!(script.requests(), 3);
}

#[tokio::test]
async fn a_refresh_after_the_token_already_changed_makes_no_request() {
    let script = Script::new(vec![
        token("first-token", 3600),
        token("second-token", 3600),
    ]);
    let auth = authorizer(&script);
    let old = auth.headers().await.unwrap();
    assert!(auth.refresh(&old).await.unwrap());
    assert_eq!(script.requests(), 2);
    // A late 401 for the old token: the token already changed, no new request.
    assert!(auth.refresh(&old).await.unwrap());
    assert_eq!(script.requests(), 2);
    assert_eq!(
        bearer(&auth.headers().await.unwrap()),
        "Bearer second-token"
    );
}

#[tokio::test]
async fn a_refreshable_access_token_uses_the_refresh_token_grant() {
    let script = Script::new(vec![Step::Answer(
        200,
        r#"{"access_token":"renewed","token_type":"Bearer","expires_in":3600}"#.into(),
    )]);
    let connector = OAuthConnector::builder(script.clone(), "cid")
        .issuer("https://ims.example")
        .build()
        .unwrap();
    let given = Token::new("given-token").with_refresh_token("given-refresh");
    let auth =
        AccessTokenAuthorizer::refreshable(connector, given, Duration::from_secs(300)).unwrap();
    let old = auth.headers().await.unwrap();
    assert_eq!(bearer(&old), "Bearer given-token");
    assert!(auth.refresh(&old).await.unwrap());
    let now = auth.token().unwrap();
    assert_eq!(now.access_token().expose(), "renewed");
    assert_eq!(
        now.refresh_token().unwrap().expose(),
        "given-refresh",
        "kept when the response has none"
    );
    // A fixed token cannot refresh.
    let fixed = AccessTokenAuthorizer::new("fixed");
    let h = fixed.headers().await.unwrap();
    assert!(!fixed.refresh(&h).await.unwrap());
}

#[tokio::test]
async fn token_requests_retry_through_the_shared_driver_with_its_budget_and_time_limit() {
    // A budget with room for one retry: the second 503 is not retried.
    let script = Script::new(vec![
        Step::Answer(503, String::new()),
        Step::Answer(503, String::new()),
        token("unused", 3600),
    ]);
    let connector = OAuthConnector::builder(script.clone(), "cid")
        .issuer("https://ims.example")
        .client_secret("secret")
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(1))
                .with_budget(evo_core::RetryBudget::new(5)),
        )
        .build()
        .unwrap();
    let auth = ClientCredentialsAuthorizer::new(connector, Scopes::default()).unwrap();
    let e = auth.token().await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(script.requests(), 2, "one retry, then the budget is dry");

    // `Retry-After` beyond the total time limit: no retry.
    let script = Arc::new(RetryAfterScript::default());
    let connector = OAuthConnector::builder(script.clone(), "cid")
        .issuer("https://ims.example")
        .client_secret("secret")
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(5)
                .with_max_elapsed(Some(Duration::from_secs(2))),
        )
        .build()
        .unwrap();
    let auth = ClientCredentialsAuthorizer::new(connector, Scopes::default()).unwrap();
    let started = std::time::Instant::now();
    assert!(auth.token().await.is_err());
    assert_eq!(script.requests.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Answers every request 503 with `Retry-After: 10`.
#[derive(Debug, Default)]
struct RetryAfterScript {
    requests: AtomicU64,
}

#[async_trait]
impl Transport for RetryAfterScript {
    async fn send(&self, _request: Request<Body>) -> Result<Response<Body>, TransportError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        Ok(Response::builder()
            .status(503)
            .header("retry-after", "10")
            .body(Body::empty())
            .unwrap())
    }
}
