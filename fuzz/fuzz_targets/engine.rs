//! cargo-fuzz target: `leaksweep::fuzzing::engine` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leaksweep::fuzzing::engine(data));
