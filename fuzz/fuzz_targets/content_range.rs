#![no_main]
//! `Content-Range` values (evo-io's ranged downloads).
libfuzzer_sys::fuzz_target!(|data: &[u8]| evo_io::fuzzing::content_range(data));
