//! Keys: see `public_key` in fuzz/harness.rs, which tests/fuzz_regressions.rs also replays.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::public_key(data));
