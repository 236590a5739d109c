//! Fail-closed: every path from "could not check" to the verdict, against the emulator with the
//! API calls denied one at a time (tests/emulator/emulator.py, STATE_DIR/deny/{Action}). None
//! may end `valid`. The tests take turns, since a denial applies to the whole emulator.
mod common;

use std::sync::{Mutex, MutexGuard};

use common::*;
use trailproof::sim::SimTrail;

/// Denies `actions` for as long as the guard lives.
struct Denied {
    actions: Vec<&'static str>,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Denied {
    fn drop(&mut self) {
        for a in &self.actions {
            let _ = std::fs::remove_file(emulator().state.path().join("deny").join(a));
        }
    }
}

fn deny(actions: &[&'static str]) -> Denied {
    static TURN: Mutex<()> = Mutex::new(());
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = emulator().state.path().join("deny");
    std::fs::create_dir_all(&dir).unwrap();
    for a in actions {
        std::fs::write(dir.join(a), "").unwrap();
    }
    Denied { actions: actions.to_vec(), _turn: turn }
}

fn clean_trail(name: &str) -> SimTrail {
    let mut s = spec(&bucket(name));
    s.hours = 4;
    let trail = simulate(&s);
    upload(&trail);
    create_trail(&trail);
    trail
}

#[test]
fn without_public_keys_nothing_is_valid() {
    let trail = clean_trail("closed-keys");
    let _denied = deny(&["ListPublicKeys"]);
    let run = validate_s3(&trail, &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["verdict"], "incomplete");
    assert_eq!(run.count("digests", "valid"), 0);
    assert_eq!(run.count("log_files", "valid"), 0);
    assert!(run.error_kinds().contains(&"access_error".to_string()), "{}", run.stdout);
}

#[test]
fn without_the_trail_lookup_the_run_stops_with_exit_3() {
    let trail = clean_trail("closed-describe");
    let _denied = deny(&["DescribeTrails"]);
    let run = validate_s3(&trail, &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("DescribeTrails"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn without_trail_status_the_tail_check_is_reported_skipped() {
    let trail = clean_trail("closed-status");
    let _denied = deny(&["GetTrailStatus"]);
    let run = validate_s3(&trail, &[]);
    // The digests and log files were all checked; what could not be is said, as a warning.
    let skipped: Vec<_> = run.json()["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "access_error").cloned().collect();
    assert_eq!(skipped.len(), 1, "{}", run.stdout);
    assert_eq!(skipped[0]["severity"], "warning");
    assert!(skipped[0]["message"].as_str().unwrap().contains("truncated tail"), "{}", skipped[0]);
    assert_eq!(run.count("digests", "valid"), trail.digest_keys.len() as u64);
}
