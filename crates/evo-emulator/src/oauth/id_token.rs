//! OpenID Connect id tokens: compact JWTs signed with HS256 under a key only this emulator knows,
//! so `/connect/endsession` can tell its own `id_token_hint` from a forged one.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::state::Shared;

/// The claims `/connect/endsession` needs from an `id_token_hint`.
#[derive(Debug, Clone)]
pub(crate) struct IdTokenClaims {
    /// The client the token was issued to.
    pub(crate) aud: String,
    /// The user.
    pub(crate) sub: Uuid,
}

fn b64url() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

fn mac(shared: &Shared, signing_input: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&shared.id_token_key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(signing_input.as_bytes());
    mac
}

/// An id token for `user`, issued to `client_id`, in session `sid`.
pub(crate) fn sign(shared: &Shared, client_id: &str, user: Uuid, sid: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let claims = json!({
        "iss": shared.urls.base.as_str().trim_end_matches('/'),
        "sub": user,
        "aud": client_id,
        "iat": now,
        "nbf": now,
        "exp": now + i64::try_from(shared.token_ttl.as_secs()).unwrap_or(i64::MAX / 2),
        "sid": sid,
    });
    let input = format!(
        "{}.{}",
        b64url().encode(header.to_string()),
        b64url().encode(claims.to_string())
    );
    let sig = mac(shared, &input).finalize().into_bytes();
    format!("{input}.{}", b64url().encode(sig))
}

/// The claims of an id token this emulator signed, or `None` for anything else. Expiry is not
/// checked: OpenID Connect RP-initiated logout accepts expired hints.
pub(crate) fn verify(shared: &Shared, token: &str) -> Option<IdTokenClaims> {
    let (input, sig) = token.rsplit_once('.')?;
    let (header, payload) = input.split_once('.')?;
    let sig = b64url().decode(sig).ok()?;
    mac(shared, input).verify_slice(&sig).ok()?;
    let header: Value = serde_json::from_slice(&b64url().decode(header).ok()?).ok()?;
    if header["alg"] != "HS256" {
        return None;
    }
    let claims: Value = serde_json::from_slice(&b64url().decode(payload).ok()?).ok()?;
    Some(IdTokenClaims {
        aud: claims["aud"].as_str()?.to_owned(),
        sub: claims["sub"].as_str()?.parse().ok()?,
    })
}
