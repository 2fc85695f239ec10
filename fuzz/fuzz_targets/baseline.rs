//! cargo-fuzz target: `leaksweep::fuzzing::baseline` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leaksweep::fuzzing::baseline(data));
