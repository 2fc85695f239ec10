//! cargo-fuzz target: `leaksweep::fuzzing::decode_escape` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leaksweep::fuzzing::decode_escape(data));
