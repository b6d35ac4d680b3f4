#![no_main]
//! Socket.IO packets (evo-sync), with the encode/parse round trip.
libfuzzer_sys::fuzz_target!(|data: &[u8]| evo_sync::fuzzing::socket_io(data));
