//! `validate-logs --checkpoint`: a scheduled audit resumes each chain after the digest the last
//! run verified, checks only what is new, and proves it links back to what was verified.
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;
use trailproof::sim::{SimTrail, TrailSpec};


struct Audit {
    trail: SimTrail,
    dir: tempfile::TempDir,
    checkpoint: PathBuf,
}

/// A 30-hour trail in an evidence directory, and where its checkpoint goes.
fn audit() -> Audit {
    let trail = simulate(&TrailSpec::new("tp-checkpoint", t("2026-03-01T14:17:42Z"), 30));
    let dir = write_dir(&trail);
    let checkpoint = dir.path().join("audit").join("checkpoint.json");
    std::fs::create_dir(checkpoint.parent().unwrap()).unwrap();
    Audit { trail, dir, checkpoint }
}

impl Audit {
    fn hour(&self, h: i64) -> String {
        trailproof::time::display(self.trail.spec.start + chrono::Duration::hours(h))
    }

    /// `validate-logs --source … --checkpoint`, with `--start-time` only when given.
    fn run(&self, start: Option<i64>, end: i64, extra: &[&str]) -> Run {
        let (dir, keys, arn, end) = (path_str(self.dir.path()), path_str(&root().join("testdata/public-keys.json")), self.trail.spec.trail_arn(), self.hour(end));
        let start = start.map(|h| self.hour(h));
        let mut args = vec!["validate-logs", "--source", &dir, "--s3-bucket", "tp-checkpoint", "--public-keys", &keys, "--trail-arn", &arn, "--end-time", &end, "--output", "json"];
        if let Some(s) = &start {
            args.extend(["--start-time", s]);
        }
        args.extend_from_slice(extra);
        trailproof(&args, &offline_env())
    }

    fn checkpointed(&self, start: Option<i64>, end: i64) -> Run {
        let checkpoint = path_str(&self.checkpoint);
        self.run(start, end, &["--checkpoint", &checkpoint])
    }

    fn saved(&self) -> Value {
        serde_json::from_slice(&std::fs::read(&self.checkpoint).unwrap()).unwrap()
    }

    fn head_key(&self) -> String {
        self.saved()["chains"][0]["key"].as_str().unwrap().to_string()
    }

    fn object(&self, key: &str) -> PathBuf {
        self.dir.path().join("tp-checkpoint").join(key)
    }
}

fn count(run: &Run, what: &str) -> u64 {
    run.count(what, "valid") + run.count(what, "invalid")
}

#[test]
fn second_run_checks_only_what_is_new_and_links_it_to_the_first() {
    let a = audit();
    let first = a.checkpointed(Some(0), 12);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(first.json().get("resumed_from").is_none(), "a first run resumes nothing");
    let saved = a.saved();
    assert_eq!(saved["trailproof_checkpoint"], 1);
    assert_eq!(saved["trail_arn"], a.trail.spec.trail_arn().as_str());
    let head = a.head_key();
    // The newest digest the first run verified: listed up to an hour after the range's end.
    assert!(a.trail.digest_keys.contains(&head), "{head}");
    let end = t(saved["chains"][0]["end_time"].as_str().unwrap());
    assert!(end >= a.trail.spec.start + chrono::Duration::hours(12) && end <= a.trail.spec.start + chrono::Duration::hours(13), "{end}");

    let second = a.checkpointed(None, 30);
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    let resumed = &second.json()["resumed_from"];
    assert_eq!(resumed.as_array().unwrap().len(), 1, "{resumed}");
    assert_eq!(resumed[0]["key"], head.as_str());
    assert_eq!(resumed[0]["account_id"], "111122223333");
    assert_eq!(resumed[0]["region"], "us-east-1");
    assert_eq!(resumed[0]["end_time"], saved["chains"][0]["end_time"]);
    assert_ne!(a.head_key(), head, "the checkpoint advanced");
    assert_eq!(&a.head_key(), a.trail.digest_keys.iter().max().unwrap());

    // Against one full run over the same range: every log file checked exactly once, and the
    // digests once each but the checkpointed one, which the second run fetched again to prove it unchanged.
    let full = a.run(Some(0), 30, &[]);
    assert_eq!(full.code, 0, "{}{}", full.stdout, full.stderr);
    assert_eq!(count(&first, "log_files") + count(&second, "log_files"), count(&full, "log_files"));
    assert_eq!(count(&first, "digests") + count(&second, "digests"), count(&full, "digests") + 1);
    assert!(count(&second, "log_files") < count(&full, "log_files") / 2 + 10);
}

#[test]
fn a_changed_checkpointed_digest_is_tampering_after_the_audit() {
    let a = audit();
    assert_eq!(a.checkpointed(Some(0), 12).code, 0);
    let before = std::fs::read(&a.checkpoint).unwrap();
    let path = a.object(&a.head_key());
    let mut body = trailproof::sim::gunzip(&std::fs::read(&path).unwrap());
    let at = body.len() - 2;
    body.insert(at, b' ');
    std::fs::write(&path, trailproof::sim::gzip(&body)).unwrap();
    let second = a.checkpointed(None, 30);
    assert_eq!(second.code, 1, "{}{}", second.stdout, second.stderr);
    assert!(second.kinds().contains(&"digest_checkpoint_mismatch".to_string()), "{:?}", second.kinds());
    assert_eq!(std::fs::read(&a.checkpoint).unwrap(), before, "an invalid chain does not advance its checkpoint");
}

#[test]
fn a_deleted_checkpointed_digest_is_tampering_after_the_audit() {
    let a = audit();
    assert_eq!(a.checkpointed(Some(0), 12).code, 0);
    let path = a.object(&a.head_key());
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(format!("{}.metadata.json", path.display())).unwrap();
    let second = a.checkpointed(None, 30);
    assert_eq!(second.code, 1, "{}{}", second.stdout, second.stderr);
    assert_eq!(second.error_kinds(), ["digest_checkpoint_mismatch", "digest_missing"]);
}

#[test]
fn a_chain_that_no_longer_links_as_audited_is_tampering() {
    // The checkpoint says the audit saw other bytes at the head than the chain now links to: the
    // head and its successor were swapped for others since (here simulated by editing the record).
    let a = audit();
    assert_eq!(a.checkpointed(Some(0), 12).code, 0);
    let mut saved = a.saved();
    saved["chains"][0]["sha256"] = Value::from("00".repeat(32));
    std::fs::write(&a.checkpoint, serde_json::to_vec(&saved).unwrap()).unwrap();
    let second = a.checkpointed(None, 30);
    assert_eq!(second.code, 1, "{}{}", second.stdout, second.stderr);
    let mismatches: Vec<Value> = second.json()["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "digest_checkpoint_mismatch").cloned().collect();
    assert_eq!(mismatches.len(), 2, "the head's hash and its successor's link: {mismatches:?}");
}

#[test]
fn tampering_in_the_new_part_keeps_the_old_checkpoint() {
    let a = audit();
    assert_eq!(a.checkpointed(Some(0), 12).code, 0);
    let before = std::fs::read(&a.checkpoint).unwrap();
    let late_log = a.trail.log_keys.iter().max().unwrap();
    let path = a.object(late_log);
    let mut body = trailproof::sim::gunzip(&std::fs::read(&path).unwrap());
    body.insert(1, b' ');
    std::fs::write(&path, trailproof::sim::gzip(&body)).unwrap();
    let second = a.checkpointed(None, 30);
    assert_eq!(second.code, 1, "{}{}", second.stdout, second.stderr);
    assert_eq!(second.error_kinds(), ["log_hash_mismatch"]);
    assert_eq!(std::fs::read(&a.checkpoint).unwrap(), before);
}

#[test]
fn a_checkpoint_of_another_trail_or_no_checkpoint_at_all_is_a_usage_error() {
    let a = audit();
    assert_eq!(a.checkpointed(Some(0), 12).code, 0);
    let saved = std::fs::read_to_string(&a.checkpoint).unwrap();
    std::fs::write(&a.checkpoint, saved.replace("trail/management-events", "trail/other")).unwrap();
    let other = a.checkpointed(None, 30);
    assert_eq!(other.code, 2, "{}{}", other.stdout, other.stderr);
    assert!(other.stderr.contains("the checkpoint is for trail arn:aws:cloudtrail:us-east-1:111122223333:trail/other"), "{}", other.stderr);
    std::fs::copy(root().join("testdata/public-keys.json"), &a.checkpoint).unwrap();
    let foreign = a.checkpointed(Some(0), 30);
    assert_eq!(foreign.code, 2, "{}{}", foreign.stdout, foreign.stderr);
    assert!(foreign.stderr.contains("not a trailproof checkpoint"), "{}", foreign.stderr);
    assert_eq!(std::fs::read(&a.checkpoint).unwrap(), std::fs::read(root().join("testdata/public-keys.json")).unwrap(), "left as it was");
}

#[test]
fn without_start_time_a_run_needs_a_checkpoint_that_records_the_trail() {
    let a = audit();
    let none = a.run(None, 30, &[]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("--start-time is required"), "{}", none.stderr);
    let absent = a.checkpointed(None, 30);
    assert_eq!(absent.code, 2, "{}", absent.stderr);
    assert!(!Path::new(&a.checkpoint).exists());
}
