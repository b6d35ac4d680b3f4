//! PKCE (RFC 7636, S256) and the `state` value: random strings and the constant-time check.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::OAuthError;

/// `n` random bytes from the operating system, base64url without padding.
pub(crate) fn random_urlsafe(n: usize) -> Result<String, OAuthError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| {
        OAuthError::io(
            "reading random bytes from the operating system",
            std::io::Error::other(e.to_string()),
        )
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A new verifier: 48 random bytes, 64 characters (RFC 7636 allows 43 to 128).
pub(crate) fn new_verifier() -> Result<String, OAuthError> {
    random_urlsafe(48)
}

/// A new state: 32 random bytes, 43 characters.
pub(crate) fn new_state() -> Result<String, OAuthError> {
    random_urlsafe(32)
}

/// The S256 challenge of a verifier: base64url(sha256(verifier)) without padding.
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_values_have_the_python_lengths_and_differ() {
        let a = new_verifier().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_verifier().unwrap());
        assert_eq!(new_state().unwrap().len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn constant_time_comparison() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
