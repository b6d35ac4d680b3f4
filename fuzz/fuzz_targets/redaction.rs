#![no_main]
//! Redaction of secrets in text, JSON and URLs (evo-core): never panics, and a signature
//! planted after the input never survives (the input may hold the same text itself: only
//! more copies than the input had count).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    const PLANTED: &str = "PLANTEDSECRET123";
    let text = String::from_utf8_lossy(data);
    let _ = evo_core::redact_text_secrets(&text);
    let _ = evo_core::redact_json_secrets(&text);
    let _ = evo_core::redacted_snippet(data);
    let planted = format!("{text} sig={PLANTED} ");
    let shown = evo_core::redact_text_secrets(&planted);
    assert!(
        shown.matches(PLANTED).count() <= text.matches(PLANTED).count(),
        "{shown:?}"
    );
    if let Ok(url) = url::Url::parse(&text) {
        let _ = evo_core::redact_url(&url);
    }
});
