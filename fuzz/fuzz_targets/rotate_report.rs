//! cargo-fuzz target: `leaksweep::fuzzing::rotate_report` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leaksweep::fuzzing::rotate_report(data));
