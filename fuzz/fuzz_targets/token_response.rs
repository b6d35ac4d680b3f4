#![no_main]
//! Successful token endpoint answers (evo-auth).
libfuzzer_sys::fuzz_target!(|data: &[u8]| evo_auth::fuzzing::token_response(data));
