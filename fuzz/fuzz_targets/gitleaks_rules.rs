//! cargo-fuzz target: `leaksweep::fuzzing::gitleaks_rules` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leaksweep::fuzzing::gitleaks_rules(data));
