//! A seconds-long run of the benchmark (scripts/bench.py --smoke), so that it cannot rot. It
//! exercises every stage: s3s-fs, the emulator, the latency proxy, the AWS CLI, the ideal client,
//! both local profiles against the CPU limit, peak RSS and time per object, the request count and
//! the backtest. Figures from it mean nothing; see scripts/bench.

use std::process::Command;

use crate::common::*;

#[test]
fn benchmark_smoke_run() {
    let on_path = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("s3s-fs").is_file()));
    assert!(on_path, "s3s-fs is not on PATH: run scripts/setup.sh (or scripts/test), which installs it");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_trailproof")).parent().unwrap().to_path_buf();
    assert!(bin_dir.join("trailproof-sim").exists());
    let out = Command::new(python())
        .arg(root().join("scripts/bench.py"))
        .args(["--smoke", "--bin-dir", bin_dir.to_str().unwrap()])
        .env("TRAILPROOF_PYTHON", python())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for stage in ["1. S3 + 20 ms/request", "ideal client", "2. local copy, small", "2. local copy, large", "3. peak RSS over", "4. requests per run", "5. backtest --baseline cis"] {
        assert!(stdout.contains(stage), "no '{stage}' in:\n{stdout}");
    }
    assert_eq!(stdout.matches("3. peak RSS over").count(), 3);
}
