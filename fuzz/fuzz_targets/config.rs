//! cargo-fuzz target: `leaksweep::fuzzing::config` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leaksweep::fuzzing::config(data));
