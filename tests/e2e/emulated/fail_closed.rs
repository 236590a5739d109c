//! Fail-closed: every path from "could not check" to the verdict, against the emulator with the
//! API calls denied one at a time (tests/emulator/emulator.py, STATE_DIR/deny/{Action}). None
//! may end `valid`. A denial applies to a whole emulator, so these tests run on their own one
//! (`own_emulator`) and take turns on it.

use std::sync::{Mutex, MutexGuard};

use crate::common::*;
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
    own_emulator();
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
    own_emulator();
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
fn without_trail_status_the_cadence_clears_a_full_tail_and_nothing_else() {
    let trail = clean_trail("closed-status");
    let _denied = deny(&["GetTrailStatus"]);
    // The newest digest ends within the cadence's slack of --end-time: nothing is missing at the
    // tail, whatever the status would say.
    let run = validate_s3(&trail, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.count("digests", "valid"), trail.digest_keys.len() as u64);
    // Three hours past the newest digest, only the status could tell a stop from a cut: unchecked.
    let (start, _) = range(&trail);
    let end = (*trail.digest_ends.last().unwrap() + chrono::Duration::hours(3)).to_rfc3339();
    let run = trailproof(
        &["validate-logs", "--trail-arn", &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"],
        &aws_env(),
    );
    assert_eq!(run.code, 3, "{}", run.stdout);
    let unchecked: Vec<_> = run.json()["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "unchecked").cloned().collect();
    assert_eq!(unchecked.len(), 1, "{}", run.stdout);
    assert!(unchecked[0]["message"].as_str().unwrap().contains("GetTrailStatus failed"), "{}", unchecked[0]);
}
