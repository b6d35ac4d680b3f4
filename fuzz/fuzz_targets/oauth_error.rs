#![no_main]
//! Token endpoint error answers (evo-auth).
libfuzzer_sys::fuzz_target!(|data: &[u8]| evo_auth::fuzzing::error_response(data));
