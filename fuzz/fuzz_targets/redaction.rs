#![no_main]
//! Redaction of secrets in text, JSON and URLs (evo-core): never panics, and a signature
//! planted in the input never survives.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = evo_core::redact_text_secrets(&text);
    let _ = evo_core::redact_json_secrets(&text);
    let _ = evo_core::redacted_snippet(data);
    let planted = format!("{text} sig=PLANTEDSECRET123 ");
    let shown = evo_core::redact_text_secrets(&planted);
    assert!(!shown.contains("PLANTEDSECRET123"), "{shown:?}");
    if let Ok(url) = url::Url::parse(&text) {
        let _ = evo_core::redact_url(&url);
    }
});
