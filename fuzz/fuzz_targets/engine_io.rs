#![no_main]
//! Engine.IO frames and the Socket.IO packets inside them (evo-sync).
libfuzzer_sys::fuzz_target!(|data: &[u8]| evo_sync::fuzzing::engine_io(data));
