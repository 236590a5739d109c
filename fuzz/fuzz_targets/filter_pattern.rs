//! Filter patterns: see `filter_pattern` in fuzz/harness.rs, which tests/fuzz_regressions.rs also replays.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::filter_pattern(data));
