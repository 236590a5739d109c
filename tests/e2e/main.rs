//! trailproof's end-to-end tests, in one crate: each test executable links the AWS SDKs, so one
//! executable instead of many saves minutes of linking and gigabytes of disk.
//!
//! - `offline`: the real binaries over local evidence; they need nothing but `cargo test`.
//! - `emulated`: the real binaries and the real AWS SDK against the moto emulator
//!   (tests/emulator), which `scripts/setup.sh` installs. Without it they fail, saying so;
//!   `cargo test -- --skip emulated::` leaves them out.
//! - `regression`: one test per bug, named for it and its issue (some need the emulator).
mod common;

mod offline {
    mod aws_reference;
    mod backtest;
    mod baseline_property;
    mod bundled_snapshot;
    mod checkpoint;
    mod cli;
    pub mod deploy;
    mod filter_cli;
    mod formats;
    mod fuzz_regressions;
    mod hostile;
    mod plan;
    mod html;
    mod schema;
    mod validate_dir;
}

mod emulated {
    pub mod baseline;
    mod bench_smoke;
    mod differential;
    mod fail_closed;
    mod faults;
    mod forensics;
    mod iam;
    mod scale;
    mod source_conformance;
    mod validate_s3;
}

mod regression;
