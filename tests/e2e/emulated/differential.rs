//! Differential test: on the same emulated trails, `aws cloudtrail validate-logs` (the reference
//! implementation, reached through AWS_ENDPOINT_URL) and trailproof agree on every valid/invalid
//! count the CLI can see.

use std::process::Command;

use crate::common::*;
use trailproof::sim::SimTrail;

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    digests_valid: u64,
    digests_invalid: u64,
    logs_valid: u64,
    logs_invalid: u64,
}

/// Reads "N/M digest files valid[, K/M digest files INVALID]" lines, as scripts do.
fn parse_summary(text: &str) -> Counts {
    let mut c = Counts::default();
    for line in text.lines() {
        let mut parts = line.split(", ");
        let Some(first) = parts.next() else { continue };
        let ratio = |s: &str| s.split('/').next().and_then(|n| n.parse::<u64>().ok());
        if first.ends_with(" digest files valid") && !first.contains("backfill") {
            c.digests_valid = ratio(first).unwrap();
            c.digests_invalid = parts.next().and_then(ratio).unwrap_or(0);
        } else if first.ends_with(" log files valid") {
            c.logs_valid = ratio(first).unwrap();
            c.logs_invalid = parts.next().and_then(ratio).unwrap_or(0);
        }
    }
    c
}

fn aws_cli(trail: &SimTrail) -> (i32, Counts) {
    let (start, end) = range(trail);
    let out = Command::new(python())
        .args(["-m", "awscli", "cloudtrail", "validate-logs", "--trail-arn", &trail.spec.trail_arn()])
        .args(["--start-time", &start, "--end-time", &end, "--s3-bucket", &trail.spec.bucket])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .envs(aws_env())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Results requested for"), "the AWS CLI did not run: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), parse_summary(&stdout))
}

fn ours(trail: &SimTrail) -> (i32, Counts) {
    let (start, end) = range(trail);
    let run = trailproof(
        &["validate-logs", "--trail-arn", &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--s3-bucket", &trail.spec.bucket],
        &aws_env(),
    );
    (run.code, parse_summary(&run.stdout))
}

fn agree(name: &str, tamper: impl FnOnce(&mut SimTrail)) {
    let mut trail = simulate(&spec(&bucket(&format!("diff-{name}"))));
    tamper(&mut trail);
    upload(&trail);
    let (cli_code, cli) = aws_cli(&trail);
    let (our_code, us) = ours(&trail);
    assert_eq!(us, cli, "{name}: counts differ");
    assert_eq!(our_code, cli_code, "{name}: exit codes differ");
    assert!(cli.digests_valid > 0);
}

#[test]
fn clean_trail() {
    agree("clean", |_| {});
}

#[test]
fn modified_log_file() {
    agree("log-modified", |t| {
        let log = t.log_keys[5].clone();
        t.rewrite_log(&log, |j| j.push(b'\n'));
    });
}

#[test]
fn deleted_log_file() {
    agree("log-deleted", |t| {
        let log = t.log_keys[7].clone();
        t.objects.remove(&log);
    });
}

#[test]
fn malformed_log_file() {
    agree("log-malformed", |t| {
        let log = t.log_keys[2].clone();
        t.object(&log).body = b"garbage".to_vec();
    });
}

#[test]
fn deleted_digest() {
    agree("digest-deleted", |t| {
        let d = t.digest_keys[t.digest_keys.len() / 2].clone();
        t.objects.remove(&d);
    });
}

#[test]
fn tampered_signature() {
    agree("sig", |t| {
        let d = t.digest_keys.last().unwrap().clone();
        let sig = t.object(&d).metadata.get_mut("signature").unwrap();
        *sig = sig.chars().rev().collect();
    });
}

#[test]
fn malformed_digest() {
    agree("digest-malformed", |t| {
        let d = t.digest_keys.last().unwrap().clone();
        t.object(&d).body = b"garbage".to_vec();
    });
}

#[test]
fn unknown_key() {
    agree("rogue", |t| {
        let d = t.digest_keys.last().unwrap().clone();
        let rogue = rogue_key();
        t.resign(&d, &rogue, |x| x.digest_public_key_fingerprint = rogue.public.fingerprint.clone()).unwrap();
    });
}
