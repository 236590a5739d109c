//! Log files' records as the replay reads them: see `log_records` in fuzz/harness.rs, which
//! tests/fuzz_regressions.rs also replays.
#![no_main]

// Each target uses one of the shared harness's functions.
#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::log_records(data));
