//! Entry points for fuzzing the token endpoint's answers (the `fuzz/` targets, with the
//! `fuzzing` feature). Not part of the API. Property tests of the same parsers are in
//! `token.rs`.

use std::time::SystemTime;

use http::StatusCode;

/// Parses `data` as a successful token response; neither the result's `Debug` nor its error
/// shows the access token.
pub fn token_response(data: &[u8]) {
    match crate::token::parse_token_response(StatusCode::OK, data, SystemTime::now()) {
        Ok(token) => {
            let shown = format!("{token:?}");
            let secret = token.access_token().expose();
            if secret.len() >= 8 {
                assert!(!shown.contains(secret), "the access token shows in {shown}");
            }
        }
        Err(e) => {
            let _ = (e.to_string(), format!("{e:?}"));
        }
    }
}

/// Parses `data` as a token endpoint error (status from the first byte).
pub fn error_response(data: &[u8]) {
    let status = data
        .first()
        .and_then(|b| StatusCode::from_u16(400 + u16::from(*b % 200)).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    let body = bytes::Bytes::copy_from_slice(data.get(1..).unwrap_or_default());
    let error = crate::token::parse_error_response(status, body);
    let _ = (error.to_string(), format!("{error:?}"), error.needs_login());
}
