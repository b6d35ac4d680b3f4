#![no_main]
//! Error answers of the Evo APIs: problem details JSON, kept with status and body (evo-core).
use evo_core::ApiError;
use http::{HeaderMap, Method, StatusCode};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let url: url::Url = "https://hub.example/p?sig=SECRETSIG".parse().unwrap();
    let status = data
        .first()
        .and_then(|b| StatusCode::from_u16(400 + u16::from(*b % 200)).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    let body = bytes::Bytes::copy_from_slice(data.get(1..).unwrap_or_default());
    let error = ApiError::new(Method::GET, &url, status, HeaderMap::new(), body.clone());
    assert_eq!(error.body(), &body);
    // The URL's signature never shows (unless the body itself says SECRETSIG).
    let shown = format!("{error} {error:?}");
    if !String::from_utf8_lossy(&body).contains("SECRETSIG") {
        assert!(!shown.contains("SECRETSIG"), "{shown}");
    }
    if let Some(problem) = error.problem() {
        let _ = format!("{problem:?}");
    }
});
