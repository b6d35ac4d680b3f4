#![no_main]
//! `Get Block List` answers (evo-io's upload resume).
libfuzzer_sys::fuzz_target!(|data: &[u8]| evo_io::fuzzing::block_list(data));
