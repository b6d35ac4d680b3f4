//! IMS-style OAuth 2.0: `/connect/token` and `/connect/authorize`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::http_util::Query;
use crate::state::{AccessToken, AuthCode, RefreshToken, Shared, random_token};

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"evo-emulator\""),
        );
    }
    resp
}

/// Mints an access token for `user` with `scopes`.
pub(crate) fn mint_access(shared: &Shared, user: Uuid, scopes: Vec<String>) -> String {
    let token = random_token(32);
    let expires = Instant::now() + shared.token_ttl;
    shared.model().tokens.insert(
        token.clone(),
        AccessToken {
            user,
            scopes,
            expires,
        },
    );
    token
}

fn token_response(shared: &Shared, client_id: &str, user: Uuid, scopes: Vec<String>) -> Response {
    let access = mint_access(shared, user, scopes.clone());
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": shared.token_ttl.as_secs(),
        "scope": scopes.join(" "),
    });
    if scopes.iter().any(|s| s == "offline_access") {
        let refresh = random_token(32);
        shared.model().refresh_tokens.insert(
            refresh.clone(),
            RefreshToken {
                client_id: client_id.to_owned(),
                user,
                scopes,
            },
        );
        body["refresh_token"] = json!(refresh);
    }
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// `POST /connect/token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return oauth_error(
            400,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        );
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };

    // Client authentication: client_secret_post, or HTTP Basic.
    let mut client_id = get("client_id").map(str::to_owned);
    let mut client_secret = get("client_secret").map(str::to_owned);
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok();
        if let Some((id, secret)) = decoded
            .and_then(|d| String::from_utf8(d).ok())
            .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())))
        {
            client_id = Some(id);
            client_secret = Some(secret);
        }
    }
    let Some(client_id) = client_id else {
        return oauth_error(401, "invalid_client", "client_id is missing");
    };
    let client = shared
        .model()
        .clients
        .iter()
        .find(|c| c.id == client_id)
        .cloned();
    let Some(client) = client else {
        return oauth_error(401, "invalid_client", "unknown client");
    };
    if let Some(secret) = &client.secret {
        if client_secret.as_deref() != Some(secret.as_str()) {
            return oauth_error(401, "invalid_client", "client authentication failed");
        }
    }

    match get("grant_type") {
        Some("client_credentials") => {
            if client.secret.is_none() {
                return oauth_error(
                    400,
                    "unauthorized_client",
                    "a public client cannot use client_credentials",
                );
            }
            let requested: Vec<String> = match get("scope") {
                Some(s) => s.split_whitespace().map(str::to_owned).collect(),
                None => client
                    .scopes
                    .iter()
                    .filter(|s| *s != "offline_access")
                    .cloned()
                    .collect(),
            };
            if let Some(bad) = requested
                .iter()
                .find(|s| !client.scopes.contains(s) || *s == "offline_access")
            {
                return oauth_error(
                    400,
                    "invalid_scope",
                    &format!("scope {bad} is not allowed for this client"),
                );
            }
            token_response(&shared, &client.id, shared.test_user, requested)
        }
        Some("authorization_code") => {
            let (Some(code), Some(verifier)) = (get("code"), get("code_verifier")) else {
                return oauth_error(
                    400,
                    "invalid_request",
                    "code and code_verifier are required",
                );
            };
            let entry = shared.model().codes.remove(code);
            let Some(entry) = entry else {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "the authorization code is invalid or was already used",
                );
            };
            if entry.client_id != client.id {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "the code was issued to another client",
                );
            }
            if Instant::now() >= entry.expires {
                return oauth_error(400, "invalid_grant", "the authorization code has expired");
            }
            if get("redirect_uri") != Some(entry.redirect_uri.as_str()) {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "redirect_uri does not match the authorization request",
                );
            }
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()));
            if challenge != entry.code_challenge {
                return oauth_error(400, "invalid_grant", "PKCE verification failed");
            }
            token_response(&shared, &client.id, entry.user, entry.scopes)
        }
        Some("refresh_token") => {
            let Some(refresh) = get("refresh_token") else {
                return oauth_error(400, "invalid_request", "refresh_token is required");
            };
            let entry = shared.model().refresh_tokens.remove(refresh);
            let Some(entry) = entry else {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "the refresh token is invalid or was already used",
                );
            };
            if entry.client_id != client.id {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "the refresh token was issued to another client",
                );
            }
            token_response(&shared, &client.id, entry.user, entry.scopes)
        }
        Some(other) => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("grant_type {other} is not supported"),
        ),
        None => oauth_error(400, "invalid_request", "grant_type is missing"),
    }
}

fn is_loopback_redirect(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    u.scheme() == "http"
        && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
        && u.fragment().is_none()
}

fn redirect(to: &url::Url) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to.as_str()) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /connect/authorize`: auto-approves the test user, or answers `access_denied`.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::parse(raw.as_deref());
    let bad_page = |msg: &str| {
        (
            StatusCode::BAD_REQUEST,
            format!("authorization request rejected: {msg}"),
        )
            .into_response()
    };
    let Some(client_id) = q.get("client_id") else {
        return bad_page("client_id is missing");
    };
    let Some(redirect_uri) = q.get("redirect_uri") else {
        return bad_page("redirect_uri is missing");
    };
    let client = shared
        .model()
        .clients
        .iter()
        .find(|c| c.id == client_id)
        .cloned();
    let Some(client) = client else {
        return bad_page("unknown client_id");
    };
    if !is_loopback_redirect(redirect_uri) {
        return bad_page("redirect_uri must be an http loopback URL");
    }
    let Ok(mut target) = url::Url::parse(redirect_uri) else {
        return bad_page("bad redirect_uri");
    };
    let state = q.get("state").map(str::to_owned);
    let fail = |mut t: url::Url, error: &str, description: &str| {
        {
            let mut qp = t.query_pairs_mut();
            qp.append_pair("error", error)
                .append_pair("error_description", description);
            if let Some(s) = &state {
                qp.append_pair("state", s);
            }
        }
        redirect(&t)
    };
    if q.get("response_type") != Some("code") {
        return fail(
            target,
            "unsupported_response_type",
            "response_type must be code",
        );
    }
    let Some(challenge) = q.get("code_challenge") else {
        return fail(
            target,
            "invalid_request",
            "code_challenge is required (PKCE)",
        );
    };
    if q.get("code_challenge_method") != Some("S256") {
        return fail(
            target,
            "invalid_request",
            "code_challenge_method must be S256",
        );
    }
    let scopes: Vec<String> = q
        .get("scope")
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if let Some(bad) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return fail(
            target,
            "invalid_scope",
            &format!("scope {bad} is not allowed for this client"),
        );
    }
    if shared.deny_consent.load(Ordering::SeqCst) {
        return fail(target, "access_denied", "The user denied the request.");
    }
    let code = random_token(24);
    shared.model().codes.insert(
        code.clone(),
        AuthCode {
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            code_challenge: challenge.to_owned(),
            scopes,
            user: shared.test_user,
            expires: Instant::now() + Duration::from_secs(300),
        },
    );
    {
        let mut qp = target.query_pairs_mut();
        qp.append_pair("code", &code);
        if let Some(s) = &state {
            qp.append_pair("state", s);
        }
    }
    redirect(&target)
}
