//! End-to-end on local evidence copies (`--source`), with no network at all.
mod common;

use common::*;
use trailproof::sim::TrailSpec;

/// No AWS endpoint is reachable: any request would fail and turn the run incomplete.
fn offline_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
    ]
}

fn validate_dir(dir: &std::path::Path, trail: &trailproof::sim::SimTrail, keys_file: &str) -> Run {
    let (start, end) = range(trail);
    trailproof(
        &["validate-logs", "--source", &path_str(dir), "--public-keys", keys_file, "--trail-arn", &trail.spec.trail_arn(),
          "--start-time", &start, "--end-time", &end, "--output", "json"],
        &offline_env(),
    )
}

fn us_east_1_keys() -> String {
    path_str(&root().join("keys/public-keys/us-east-1.json"))
}

#[test]
fn bundled_sample_validates_offline() {
    let trail = simulate(&TrailSpec::sample());
    let run = validate_dir(&root().join("testdata/sample"), &trail, &us_east_1_keys());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.kinds(), ["digest_chain_gap"]);
    assert_eq!(run.count("digests", "valid"), trail.digest_keys.len() as u64);
    assert_eq!(run.count("log_files", "valid"), trail.log_keys.len() as u64);
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
}

#[test]
fn tampered_local_copy_is_caught_like_s3() {
    let mut trail = simulate(&spec("local-copy"));
    let log = trail.log_keys[3].clone();
    trail.rewrite_log(&log, |json| json.extend_from_slice(b" "));
    let dir = write_dir(&trail);
    let run = validate_dir(dir.path(), &trail, &us_east_1_keys());
    assert_eq!(run.code, 1);
    assert_eq!(run.kind_set(), ["digest_chain_gap", "log_hash_mismatch"]);
}

#[test]
fn digest_without_its_metadata_sidecar_is_unverified() {
    let trail = simulate(&spec("no-sidecar"));
    let dir = write_dir(&trail);
    let newest = trail.digest_keys.last().unwrap();
    std::fs::remove_file(dir.path().join(&trail.spec.bucket).join(format!("{newest}.metadata.json"))).unwrap();
    let run = validate_dir(dir.path(), &trail, &us_east_1_keys());
    assert_eq!(run.code, 1);
    assert_eq!(run.kind_set(), ["digest_chain_gap", "digest_signature_invalid"]);
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
    assert_eq!(run.kind_set(), ["access_error", "digest_chain_gap"]);
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
