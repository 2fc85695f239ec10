//! cargo-fuzz target: `leaksweep::fuzzing::rule_file` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leaksweep::fuzzing::rule_file(data));
