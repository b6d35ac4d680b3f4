//! The OAuth handlers: token grants, authorize, end session, revocation.

// Helpers answer `Result<_, Response>`: the error *is* the finished OAuth error response.
#![allow(clippy::result_large_err)]

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
use crate::state::{AccessToken, AuthCode, Client, RefreshToken, Shared, random_token};

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

/// Mints an access token for `user` with `scopes`, issued to `client_id` within `grant`.
pub(crate) fn mint_access(
    shared: &Shared,
    user: Uuid,
    scopes: Vec<String>,
    client_id: Option<String>,
    grant: Option<String>,
) -> String {
    let token = random_token(32);
    let expires = Instant::now() + shared.token_ttl;
    shared.model().tokens.insert(
        token.clone(),
        AccessToken {
            user,
            scopes,
            expires,
            client_id,
            grant,
        },
    );
    token
}

/// A token answer. `grant` is the login for user grants (then `openid` adds an id token and
/// `offline_access` a refresh token of that grant), `None` for client_credentials.
fn token_response(
    shared: &Shared,
    client_id: &str,
    user: Uuid,
    scopes: Vec<String>,
    grant: Option<String>,
) -> Response {
    let access = mint_access(
        shared,
        user,
        scopes.clone(),
        Some(client_id.to_owned()),
        grant.clone(),
    );
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": shared.token_ttl.as_secs(),
        "scope": scopes.join(" "),
    });
    if let Some(grant) = &grant {
        if scopes.iter().any(|s| s == "openid") {
            body["id_token"] = json!(super::id_token::sign(shared, client_id, user, grant));
        }
    }
    if scopes.iter().any(|s| s == "offline_access") {
        let refresh = random_token(32);
        shared.model().refresh_tokens.insert(
            refresh.clone(),
            RefreshToken {
                client_id: client_id.to_owned(),
                user,
                scopes,
                grant: grant.unwrap_or_else(|| random_token(16)),
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

type Form = Vec<(String, String)>;

/// The first value of `key` in a form.
fn form_get<'a>(form: &'a Form, key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A form body, or the `invalid_request` answer when it is not form-encoded.
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<Form, Response> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(oauth_error(
            400,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Ok(form_urlencoded::parse(body).into_owned().collect())
}

/// Client authentication of the token and revocation endpoints: client_secret_post, or HTTP
/// Basic; a public client only names itself.
fn authenticate_client(
    shared: &Shared,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Client, Response> {
    let get = |k: &str| form_get(form, k);
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
        return Err(oauth_error(401, "invalid_client", "client_id is missing"));
    };
    let client = find_client(shared, &client_id)
        .ok_or_else(|| oauth_error(401, "invalid_client", "unknown client"))?;
    if let Some(secret) = &client.secret {
        if client_secret.as_deref() != Some(secret.as_str()) {
            return Err(oauth_error(
                401,
                "invalid_client",
                "client authentication failed",
            ));
        }
    }
    Ok(client)
}

fn find_client(shared: &Shared, client_id: &str) -> Option<Client> {
    shared
        .model()
        .clients
        .iter()
        .find(|c| c.id == client_id)
        .cloned()
}

/// `POST /connect/token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match parse_form(&headers, &body) {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let get = |k: &str| form_get(&form, k);
    let client = match authenticate_client(&shared, &headers, &form) {
        Ok(c) => c,
        Err(resp) => return resp,
    };

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
            token_response(&shared, &client.id, shared.test_user, requested, None)
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
            token_response(
                &shared,
                &client.id,
                entry.user,
                entry.scopes,
                Some(entry.session),
            )
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
            token_response(
                &shared,
                &client.id,
                entry.user,
                entry.scopes,
                Some(entry.grant),
            )
        }
        Some(other) => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("grant_type {other} is not supported"),
        ),
        None => oauth_error(400, "invalid_request", "grant_type is missing"),
    }
}

/// Whether `/connect/authorize` may redirect to `uri` for `client`: one of its registered
/// redirect URIs, or any `http` loopback URL when it has none.
fn redirect_allowed(client: &Client, uri: &str) -> bool {
    match &client.redirect_uris {
        Some(list) => list.iter().any(|u| u == uri),
        None => is_loopback_redirect(uri),
    }
}

/// Whether `/connect/endsession` may redirect to `uri` for `client`: one of its registered
/// post-logout URIs, else the rule of its redirect URIs.
fn post_logout_allowed(client: &Client, uri: &str) -> bool {
    match &client.post_logout_redirect_uris {
        Some(list) => list.iter().any(|u| u == uri),
        None => redirect_allowed(client, uri),
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
    if client.redirect_uris.is_some() {
        if !redirect_allowed(&client, redirect_uri) {
            return bad_page("redirect_uri is not registered for this client");
        }
    } else if !is_loopback_redirect(redirect_uri) {
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
            session: random_token(16),
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

/// `GET /connect/endsession`: OpenID Connect RP-initiated logout, parameters in the query.
pub(crate) async fn end_session_get(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let params: Form = raw
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    end_session(&shared, &params)
}

/// `POST /connect/endsession`: the same, parameters in a form body.
pub(crate) async fn end_session_post(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match parse_form(&headers, &body) {
        Ok(params) => end_session(&shared, &params),
        Err(resp) => resp,
    }
}

/// Ends the (test user's) browser session with one client: its refresh tokens and pending
/// authorization codes for that user are revoked, then the browser goes to
/// `post_logout_redirect_uri` (with `state`) when that URI is registered for the client, or
/// sees a "signed out" page when none is given. An unregistered URI is refused with 400 and is
/// never redirected to. Access tokens stay valid until they expire, as IMS's JWT access tokens do.
fn end_session(shared: &Shared, params: &Form) -> Response {
    let get = |k: &str| form_get(params, k).filter(|v| !v.is_empty());
    let hint = match get("id_token_hint") {
        Some(t) => match super::id_token::verify(shared, t) {
            Some(claims) => Some(claims),
            None => {
                return oauth_error(
                    400,
                    "invalid_request",
                    "id_token_hint is not an id token issued by this server",
                );
            }
        },
        None => None,
    };
    let client_id = match (&hint, get("client_id")) {
        (Some(h), Some(c)) if h.aud != c => {
            return oauth_error(
                400,
                "invalid_request",
                "client_id does not match the audience of id_token_hint",
            );
        }
        (Some(h), _) => Some(h.aud.clone()),
        (None, c) => c.map(str::to_owned),
    };
    let client = match &client_id {
        Some(id) => match find_client(shared, id) {
            Some(c) => Some(c),
            None => return oauth_error(400, "invalid_request", "unknown client_id"),
        },
        None => None,
    };
    let target = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let Some(client) = &client else {
                return oauth_error(
                    400,
                    "invalid_request",
                    "post_logout_redirect_uri needs id_token_hint or client_id",
                );
            };
            if !post_logout_allowed(client, uri) {
                return oauth_error(
                    400,
                    "invalid_request",
                    "post_logout_redirect_uri is not registered for this client",
                );
            }
            match url::Url::parse(uri) {
                Ok(u) => Some(u),
                Err(_) => {
                    return oauth_error(400, "invalid_request", "bad post_logout_redirect_uri");
                }
            }
        }
    };
    if let Some(client) = &client {
        let user = hint.as_ref().map_or(shared.test_user, |h| h.sub);
        let mut model = shared.model();
        let before = model.refresh_tokens.len();
        model
            .refresh_tokens
            .retain(|_, r| !(r.client_id == client.id && r.user == user));
        model
            .codes
            .retain(|_, c| !(c.client_id == client.id && c.user == user));
        tracing::debug!(
            client = %client.id,
            %user,
            revoked = before - model.refresh_tokens.len(),
            "session ended"
        );
    }
    match target {
        Some(mut to) => {
            if let Some(state) = get("state") {
                to.query_pairs_mut().append_pair("state", state);
            }
            redirect(&to)
        }
        None => {
            let mut resp = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!DOCTYPE html><html><head><title>Signed out</title></head>\
                 <body><p>You are now signed out.</p></body></html>",
            )
                .into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
    }
}

/// `POST /connect/revocation` (RFC 7009): revokes a refresh token (with every access token of
/// its grant) or an access token issued to the authenticated client. Unknown tokens, and tokens
/// of other clients (left untouched), answer 200 too, so the endpoint reveals nothing.
pub(crate) async fn revocation(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match parse_form(&headers, &body) {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let client = match authenticate_client(&shared, &headers, &form) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let Some(token) = form_get(&form, "token").filter(|t| !t.is_empty()) else {
        return oauth_error(400, "invalid_request", "token is missing");
    };
    // The hint only orders the search (RFC 7009 §2.1); both kinds are looked up.
    let access_first = form_get(&form, "token_type_hint") == Some("access_token");
    let mut model = shared.model();
    let revoke_refresh = |model: &mut crate::state::Model| -> bool {
        match model.refresh_tokens.get(token) {
            Some(r) if r.client_id == client.id => {
                let grant = r.grant.clone();
                model.refresh_tokens.remove(token);
                model
                    .tokens
                    .retain(|_, a| a.grant.as_deref() != Some(grant.as_str()));
                true
            }
            Some(_) => {
                tracing::debug!(client = %client.id, "refused to revoke another client's refresh token");
                true
            }
            None => false,
        }
    };
    let revoke_access = |model: &mut crate::state::Model| -> bool {
        match model.tokens.get(token) {
            Some(a) if a.client_id.as_deref().is_none_or(|c| c == client.id) => {
                model.tokens.remove(token);
                true
            }
            Some(_) => true,
            None => false,
        }
    };
    let order = if access_first {
        [true, false]
    } else {
        [false, true]
    };
    for access in order {
        let found = if access {
            revoke_access(&mut model)
        } else {
            revoke_refresh(&mut model)
        };
        if found {
            break;
        }
    }
    drop(model);
    let mut resp = StatusCode::OK.into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
