//! End-to-end on local evidence copies (`--source`), with no network at all.

use crate::common::*;
use trailproof::sim::TrailSpec;


fn validate_dir(dir: &std::path::Path, trail: &trailproof::sim::SimTrail, keys_file: &str) -> Run {
    let (start, end) = range(trail);
    trailproof(
        &["validate-logs", "--source", &path_str(dir), "--public-keys", keys_file, "--trail-arn", &trail.spec.trail_arn(),
          "--start-time", &start, "--end-time", &end, "--output", "json"],
        &offline_env(),
    )
}

fn us_east_1_keys() -> String {
    path_str(&root().join("testdata/public-keys.json"))
}

#[test]
fn bundled_sample_validates_offline() {
    let trail = simulate(&TrailSpec::sample());
    let run = validate_dir(&root().join("testdata/sample"), &trail, &us_east_1_keys());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.kinds(), ["digest_chain_gap"]);
    assert_eq!(run.count("digests", "valid"), trail.digest_keys.len() as u64);
    assert_eq!(run.count("log_files", "valid"), trail.log_keys.len() as u64);
    // Not a terminal: the progress bar stays silent.
    assert_eq!(run.stderr, "");
}

#[test]
fn bundled_sample_is_what_the_simulator_writes() {
    // The sample is generated, never hand-edited: `trailproof-sim sample --out testdata/sample`.
    let trail = simulate(&TrailSpec::sample());
    let fresh = write_dir(&trail);
    let files = |root: &std::path::Path| {
        let mut out = std::collections::BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() { stack.push(p) } else { out.insert(p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&p).unwrap()); }
            }
        }
        out
    };
    let (want, have) = (files(fresh.path()), files(&root().join("testdata/sample")));
    assert_eq!(want.keys().collect::<Vec<_>>(), have.keys().collect::<Vec<_>>());
    assert!(want == have, "testdata/sample differs from the simulator's output");
}

#[test]
fn committed_public_keys_match_the_keyset() {
    for region in ["us-east-1", "us-west-2", "eu-west-1"] {
        let file = std::fs::read(root().join(format!("keys/public-keys/{region}.json"))).unwrap();
        let on_disk: serde_json::Value = serde_json::from_slice(&file).unwrap();
        let want = trailproof::sim::public_keys(&keys(region)).to_list_public_keys_json();
        assert_eq!(on_disk, want, "{region}: regenerate with trailproof-sim public-keys --out keys/public-keys");
    }
    // The sample's keys file is the us-east-1 one.
    assert_eq!(
        std::fs::read(root().join("testdata/public-keys.json")).unwrap(),
        std::fs::read(root().join("keys/public-keys/us-east-1.json")).unwrap()
    );
}

#[test]
fn tampered_local_copy_is_caught_like_s3() {
    let mut trail = simulate(&spec("local-copy"));
    let log = trail.log_keys[3].clone();
    trail.rewrite_log(&log, |json| json.extend_from_slice(b" "));
    let dir = write_dir(&trail);
    let run = validate_dir(dir.path(), &trail, &us_east_1_keys());
    assert_eq!(run.code, 1);
    assert_eq!(run.error_kinds(), ["log_hash_mismatch"]);
}

/// Removes every `.metadata.json` sidecar, as a copy made with `aws s3 sync` would lack them.
fn strip_metadata(dir: &std::path::Path, trail: &trailproof::sim::SimTrail) {
    for k in trail.digest_keys.iter().chain(&trail.backfill_keys) {
        std::fs::remove_file(dir.join(&trail.spec.bucket).join(format!("{k}.metadata.json"))).unwrap();
    }
}

#[test]
fn copy_without_metadata_takes_signatures_from_successors() {
    let trail = simulate(&spec("sync-copy"));
    let dir = write_dir(&trail);
    strip_metadata(dir.path(), &trail);
    let run = validate_dir(dir.path(), &trail, &us_east_1_keys());
    assert_eq!(run.code, 3, "{}", run.stdout);
    // The newest digest of each chain has no successor to name its signature: it is unchecked,
    // neither valid nor invalid, and its log files are not checked, so the run is incomplete.
    let warnings: Vec<_> = run.json()["findings"].as_array().unwrap().iter()
        .filter(|f| f["kind"] == "unchecked").cloned().collect();
    // Logging stopped after hour 9, so two chains end here: hours 0-9 and 12-29.
    let newest_of_chains = [trail.digest_keys.last().unwrap().clone(), trail.digest_keys[9].clone()];
    let keys: Vec<&str> = warnings.iter().map(|w| w["key"].as_str().unwrap()).collect();
    assert_eq!(keys, newest_of_chains);
    assert!(warnings.iter().all(|w| w["severity"] == "error" && w["message"].as_str().unwrap().contains(".metadata.json")));
    assert_eq!(run.count("digests", "valid"), trail.digest_keys.len() as u64 - 2);
    assert_eq!(run.count("digests", "invalid"), 0);
    // The log files of digests authenticated by their successors are checked too.
    let listed: usize = trail.digest_keys.iter().filter(|k| !newest_of_chains.contains(k)).map(|k| trail.digest(k).log_files.len()).sum();
    assert!(listed > 0);
    assert_eq!(run.count("log_files", "valid"), listed as u64);

    // Supplying those signatures (their sidecars) makes the copy fully verifiable.
    for k in &newest_of_chains {
        let sidecar = serde_json::to_vec(&trail.objects[k].metadata).unwrap();
        std::fs::write(dir.path().join(&trail.spec.bucket).join(format!("{k}.metadata.json")), sidecar).unwrap();
    }
    let run = validate_dir(dir.path(), &trail, &us_east_1_keys());
    assert_eq!(run.code, 0);
    assert_eq!(run.kinds(), ["digest_chain_gap"]);
    assert_eq!(run.count("digests", "valid"), trail.digest_keys.len() as u64);
}

#[test]
fn copy_without_metadata_still_catches_a_forged_digest() {
    // A successor's previousDigestSignature is only a candidate: it must verify with CloudTrail's key.
    let mut trail = simulate(&spec("sync-forged"));
    let mid = trail.digest_keys[trail.digest_keys.len() / 2].clone();
    let mut d = trail.digest(&mid);
    d.log_files.clear();
    trail.object(&mid).body = trailproof::sim::gzip(&serde_json::to_vec(&d).unwrap());
    let dir = write_dir(&trail);
    strip_metadata(dir.path(), &trail);
    let run = validate_dir(dir.path(), &trail, &us_east_1_keys());
    assert_eq!(run.code, 1);
    let errors: Vec<String> = run.json()["findings"].as_array().unwrap().iter()
        .filter(|f| f["severity"] == "error").map(|f| f["kind"].as_str().unwrap().to_string()).collect();
    // The heads of the two chains have no successor to name their signature: unchecked.
    let (unchecked, tampering): (Vec<String>, Vec<String>) = errors.into_iter().partition(|k| k == "unchecked");
    assert_eq!(tampering, ["digest_chain_mismatch", "digest_signature_invalid"]);
    assert_eq!(unchecked.len(), 2);
}

#[test]
fn log_keys_cannot_escape_the_evidence_directory() {
    // Even a validly signed digest cannot make trailproof read outside --source.
    let mut trail = simulate(&spec("escape"));
    let newest = trail.digest_keys.last().unwrap().clone();
    let fp = trail.digest(&newest).digest_public_key_fingerprint;
    let key = keys("us-east-1").into_iter().find(|k| k.public.fingerprint == fp).unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();
    let escape = format!("../../../../../../../../..{}", path_str(outside.path()));
    trail.resign(&newest, &key, |d| {
        d.log_files.push(trailproof::integrity::digest::LogFileEntry {
            s3_bucket: d.digest_s3_bucket.clone(),
            s3_object: escape.clone(),
            hash_value: "00".repeat(32),
            hash_algorithm: "SHA-256".into(),
            newest_event_time: None,
            oldest_event_time: None,
        })
    }).unwrap();
    let dir = write_dir(&trail);
    let run = validate_dir(dir.path(), &trail, &us_east_1_keys());
    // The successor link is fine (newest has none); the re-signed digest is authentic to our keys.
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert_eq!(run.error_kinds(), ["access_error"]);
    let f = run.json()["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "access_error").unwrap().clone();
    assert!(f["message"].as_str().unwrap().contains("unsafe path"), "{f}");
}

#[test]
fn more_than_one_bucket_needs_s3_bucket() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    let run = trailproof(
        &["validate-logs", "--source", &path_str(dir.path()), "--public-keys", &us_east_1_keys(), "--trail-arn",
          "arn:aws:cloudtrail:us-east-1:111122223333:trail/t", "--start-time", "2026-03-01T00:00:00Z"],
        &offline_env(),
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--s3-bucket"), "{}", run.stderr);
}

#[test]
fn a_saved_trail_status_runs_the_tail_check_offline() {
    let mut s = spec("saved-status");
    s.stopped_hours = vec![];
    s.hours = 10;
    let mut trail = simulate(&s);
    let newest_kept = trail.digest_ends[trail.digest_ends.len() - 4];
    for k in &trail.digest_keys[trail.digest_keys.len() - 3..] {
        trail.objects.remove(k);
    }
    let dir = write_dir(&trail);
    let with_status = |status: serde_json::Value| {
        let file = dir.path().join("trail-status.json");
        std::fs::write(&file, status.to_string()).unwrap();
        let (start, end) = range(&trail);
        trailproof(
            &["validate-logs", "--source", &path_str(dir.path()), "--public-keys", &us_east_1_keys(), "--trail-status", &path_str(&file),
              "--trail-arn", &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"],
            &offline_env(),
        )
    };
    // Logging all along: the last three hours were cut off.
    let run = with_status(serde_json::json!({ "IsLogging": true, "StartLoggingTime": "2026-01-01T00:00:00Z" }));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.error_kinds(), ["digest_tail_missing"]);
    // Stopped right after the newest digest kept: a legitimate stop, nothing cut off.
    let stop = trailproof::time::display(newest_kept + chrono::Duration::minutes(2));
    let run = with_status(serde_json::json!({ "IsLogging": false, "StopLoggingTime": stop }));
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Not a saved GetTrailStatus: a usage error, never read as evidence.
    let run = with_status(serde_json::json!({ "Logging": "maybe" }));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--trail-status"), "{}", run.stderr);
}

/// Clean evidence of many shapes is valid: no false alarm from stops, backfills, empty hours,
/// prefixes, organization layouts, or a range that starts or ends inside the trail.
#[test]
fn clean_trails_of_many_shapes_are_valid() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(10);
    for case in 0..16u64 {
        let mut s = spec(&format!("clean-shape-{case}"));
        s.seed = case;
        s.hours = rng.gen_range(2..30);
        s.empty_hour_chance = [0.0, 0.3, 0.9][case as usize % 3];
        s.stopped_hours = (0..s.hours).filter(|_| rng.gen_bool(0.1)).collect();
        s.backfill_hours = (0..s.hours).filter(|h| !s.stopped_hours.contains(h) && rng.gen_bool(0.1)).collect();
        if case % 4 == 1 {
            s.prefix = Some("org/trails".into());
        }
        if case % 4 == 2 {
            s.organization_id = Some("o-abc123def4".into());
        }
        let trail = simulate(&s);
        let dir = write_dir(&trail);
        // From the start, or from inside the trail; to the end (offline the tail must reach it).
        let start = s.start + chrono::Duration::minutes(rng.gen_range(0..(s.hours as i64 * 60)) * (case % 2) as i64);
        let end = s.start + chrono::Duration::hours(s.hours as i64);
        let (start_s, end_s) = (trailproof::time::display(start), trailproof::time::display(end));
        let mut args = vec!["validate-logs", "--source", &path_str(dir.path()), "--public-keys", &us_east_1_keys(), "--trail-arn", &trail.spec.trail_arn(),
            "--start-time", &start_s, "--end-time", &end_s, "--output", "json"].into_iter().map(String::from).collect::<Vec<_>>();
        if let Some(p) = &s.prefix {
            args.extend(["--s3-prefix".to_string(), p.clone()]);
        }
        if let Some(o) = &s.organization_id {
            args.extend(["--organization-id".to_string(), o.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = trailproof(&args, &offline_env());
        let shape = format!("case {case}: {} h from {start_s}, stopped {:?}, backfill {:?}", s.hours, s.stopped_hours, s.backfill_hours);
        assert_eq!(run.error_kinds(), Vec::<String>::new(), "{shape}\n{}", run.stdout);
        assert_eq!(run.code, 0, "{shape}\n{}", run.stdout);
        assert!(run.kinds().iter().all(|k| k == "digest_chain_gap"), "{shape}: only stops are reported\n{}", run.stdout);
    }
}

/// Times in the forms `aws cloudtrail validate-logs` takes (dateutil's) select the same range.
#[test]
fn times_in_the_aws_clis_forms_are_taken() {
    let trail = simulate(&TrailSpec::sample());
    let args = |start: &str, end: &str| {
        trailproof(
            &["validate-logs", "--source", &path_str(&root().join("testdata/sample")), "--public-keys", &us_east_1_keys(), "--trail-arn", &trail.spec.trail_arn(),
              "--start-time", start, "--end-time", end, "--output", "json"],
            &offline_env(),
        )
    };
    let iso = args("2026-03-01T00:00:00Z", "2026-03-02T12:17:42Z");
    let cli = args("Mar 1 2026", "2026/03/02 12:17:42");
    assert_eq!(cli.code, 0, "{}{}", cli.stdout, cli.stderr);
    assert_eq!(cli.json()["requested"], iso.json()["requested"]);
    assert_eq!(cli.json()["summary"], iso.json()["summary"]);
    let offset = args("20260301T01:00:00+01:00", "2026-03-02 12:17:42 UTC");
    assert_eq!(offset.json()["requested"], iso.json()["requested"], "{}", offset.stderr);
}

#[test]
fn relative_times_are_taken_as_their_own_arguments() {
    let sample = path_str(&root().join("testdata/sample"));
    let args = |start: &str, end: &str| {
        trailproof(&["validate-logs", "--source", &sample, "--public-keys", &us_east_1_keys(), "--trail-arn", "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events",
            "--start-time", start, "--end-time", end, "--output", "json"], &offline_env())
    };
    let run = args("-24h", "now");
    // The sample lies in March 2026: nothing in the last day, so nothing is checked.
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let requested = &run.json()["requested"];
    let (start, end) = (t(requested["start_time"].as_str().unwrap()), t(requested["end_time"].as_str().unwrap()));
    assert_eq!(end - start, chrono::Duration::hours(24));
    assert!((chrono::Utc::now() - end).num_seconds().abs() < 120, "{end}");
    let bad = args("-24x", "now");
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--start-time"), "{}", bad.stderr);
}

/// A local validation cut short (its future dropped while log files are being checked) stops its
/// workers: the runtime shuts down rather than wait for them forever.
#[test]
fn a_local_run_cut_short_stops_its_workers() {
    use std::sync::Arc;
    use trailproof::pipeline::{Context, Job, Options, Replay};
    /// Says when the first digest's log files are queued.
    struct Started(Arc<tokio::sync::Notify>);
    impl Replay for Started {
        fn covered(&self, _: &trailproof::finding::Scope, _: chrono::DateTime<chrono::Utc>, _: chrono::DateTime<chrono::Utc>) {
            self.0.notify_one();
        }
        fn verified(&self, _: &trailproof::finding::Scope, _: &str, _: &str, _: &str, _: &[u8]) {}
        fn unverified(&self, _: &trailproof::finding::Scope, _: &str, _: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)) {}
    }
    let trail = simulate(&spec("cut-short"));
    let dir = write_dir(&trail);
    let keys = trailproof::keysource::FileKeys::parse(&std::fs::read(root().join("testdata/public-keys.json")).unwrap()).unwrap();
    let s = &trail.spec;
    let range = trailproof::time::Range { start: s.start, end: s.start + chrono::Duration::hours(s.hours as i64) };
    let started = Arc::new(tokio::sync::Notify::new());
    let rt = runtime();
    rt.block_on(async {
        let source = Arc::new(trailproof::source::dir::DirSource::new(dir.path()));
        let ctx = Context::new(source, &keys, None, Options::default(), false).with_replay(Arc::new(Started(started.clone())));
        let jobs = [Job::new(s.target(), range)];
        tokio::select! {
            _ = trailproof::pipeline::validate(&ctx, &jobs, range) => panic!("finished before it was cut short"),
            _ = started.notified() => {}
        }
    });
    let (done, dropped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(rt);
        let _ = done.send(());
    });
    assert!(dropped.recv_timeout(std::time::Duration::from_secs(30)).is_ok(), "the runtime is still waiting for the run's workers");
}
