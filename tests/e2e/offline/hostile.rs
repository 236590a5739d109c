//! Hostile evidence, end to end on a local copy: each input gives a clear finding and bounded
//! memory, never a panic. Peak memory is read with /usr/bin/time when it is installed.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::common::*;
use flate2::{write::GzEncoder, Compression};
use serde_json::Value;
use trailproof::sim::SimTrail;

/// The run's JSON output and its peak resident memory in MiB (None without /usr/bin/time).
struct Measured {
    run: Run,
    peak_mib: Option<u64>,
}

fn validate(dir: &Path, trail: &SimTrail, extra: &[&str]) -> Measured {
    let (start, end) = range(trail);
    let keys = path_str(&root().join("testdata/public-keys.json"));
    let mut args: Vec<String> = ["validate-logs", "--source", &path_str(dir), "--public-keys", &keys, "--trail-arn", &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let time = Path::new("/usr/bin/time");
    let stats = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "%M", "-o", &path_str(stats.path()), env!("CARGO_BIN_EXE_trailproof")]);
        c
    } else {
        eprintln!("NOTE: /usr/bin/time is not installed; peak memory is not measured");
        Command::new(env!("CARGO_BIN_EXE_trailproof"))
    };
    let out = cmd.args(&args).env_clear().env("AWS_EC2_METADATA_DISABLED", "true").output().unwrap();
    let peak_mib = std::fs::read_to_string(stats.path()).ok().and_then(|s| s.trim().lines().last()?.trim().parse::<u64>().ok()).map(|kib| kib / 1024);
    let run = Run { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    Measured { run, peak_mib }
}

fn findings(run: &Run, kind: &str) -> Vec<Value> {
    run.json()["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == kind).cloned().collect()
}

/// A trail written to disk after `edit`, then validated.
fn hostile(name: &str, edit: impl FnOnce(&mut SimTrail), extra: &[&str]) -> Measured {
    let mut spec = spec(name);
    spec.hours = 4;
    let mut trail = simulate(&spec);
    edit(&mut trail);
    let dir = write_dir(&trail);
    let m = validate(dir.path(), &trail, extra);
    eprintln!("{name}: exit {}, peak {:?} MiB", m.run.code, m.peak_mib);
    m
}

fn assert_bounded(m: &Measured, mib: u64) {
    if let Some(peak) = m.peak_mib {
        assert!(peak < mib, "peak memory {peak} MiB, expected under {mib} MiB");
    }
}

/// `size` zero bytes, gzipped as they stream (never held in memory).
fn gzip_of_zeros(size: u64) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    let block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        enc.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    enc.finish().unwrap()
}

#[test]
fn gzip_bomb_log_file_stops_at_the_inflated_limit() {
    // 2 GiB of zeros in about 2 MiB of gzip; the limit is lowered so the test stays quick.
    let bomb = gzip_of_zeros(2 << 30);
    let mut victim = String::new();
    let m = hostile(
        "bomb",
        |t| {
            victim = t.log_keys[0].clone();
            t.object(&victim).body = bomb;
        },
        &["--max-log-inflated", "268435456"],
    );
    assert_eq!(m.run.code, 1, "{}", m.run.stdout);
    let f = findings(&m.run, "log_format_invalid");
    assert_eq!(f.len(), 1, "{}", m.run.stdout);
    assert_eq!(f[0]["key"], victim.as_str());
    assert!(f[0]["message"].as_str().unwrap().contains("268435456"), "{}", f[0]);
    assert_bounded(&m, 200);
}

#[test]
fn truncated_gzip_log_file_is_malformed() {
    let m = hostile(
        "truncated-log",
        |t| {
            let key = t.log_keys[1].clone();
            let body = &mut t.object(&key).body;
            body.truncate(body.len() / 2);
        },
        &[],
    );
    assert_eq!(m.run.code, 1);
    assert_eq!(m.run.error_kinds(), ["log_format_invalid"]);
}

#[test]
fn oversized_digest_object_is_refused_unread() {
    // 100 MB where a digest should be; only the first 16 MiB + 1 byte are ever read.
    let m = hostile(
        "big-digest",
        |t| {
            let key = t.digest_keys[1].clone();
            t.object(&key).body = vec![0x1f; 100_000_000];
        },
        &[],
    );
    assert_eq!(m.run.code, 1);
    let f = findings(&m.run, "digest_format_invalid");
    assert_eq!(f.len(), 1, "{}", m.run.stdout);
    assert!(f[0]["message"].as_str().unwrap().contains("larger than the 16777216-byte limit"), "{}", f[0]);
    assert_bounded(&m, 150);
}

#[test]
fn hostile_digest_contents_are_format_findings() {
    let entry = r#"{"s3Bucket":"b","s3Object":"AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/x.json.gz","hashValue":"00","hashAlgorithm":"SHA-256"}"#;
    // (name, edit of the digest JSON, finding kind on that digest, message part)
    type Edit = Box<dyn Fn(&str) -> Vec<u8>>;
    let cases: Vec<(&str, Edit, &str, &str)> = vec![
        ("million-entries", Box::new(move |json: &str| json.replacen("\"logFiles\":[", &format!("\"logFiles\":[{},", vec![entry; 1_000_000].join(",")), 1).into_bytes()), "digest_format_invalid", "larger than the 67108864-byte limit"),
        ("invalid-utf8", Box::new(|json: &str| {
            let mut bytes = json.as_bytes().to_vec();
            bytes.insert(json.find("\"awsAccountId\":\"").unwrap() + 16, 0xff);
            bytes
        }), "digest_format_invalid", "invalid unicode"),
        // Skipped without recursion (an unknown field), so the changed bytes fail the signature.
        ("deep-nesting", Box::new(|json: &str| json.replacen('{', &format!("{{\"x\":{}{},", "[".repeat(1_000_000), "]".repeat(1_000_000)), 1).into_bytes()), "digest_signature_invalid", "signature"),
        ("deep-nesting-known-field", Box::new(|json: &str| json.replacen("\"logFiles\":", &format!("\"logFiles\":{}{},\"y\":", "[".repeat(1_000_000), "]".repeat(1_000_000)), 1).into_bytes()), "digest_format_invalid", "not valid JSON"),
        ("duplicate-key", Box::new(|json: &str| json.replacen("\"digestEndTime\"", "\"digestEndTime\":\"2030-01-01T00:00:00Z\",\"digestEndTime\"", 1).into_bytes()), "digest_format_invalid", "duplicate field `digestEndTime`"),
        ("gzip-bomb", Box::new(|_: &str| Vec::new()), "digest_format_invalid", "larger than the 67108864-byte limit"),
    ];
    for (name, make, kind, expect) in cases {
        let mut victim = String::new();
        let m = hostile(
            name,
            |t| {
                let key = t.digest_keys[2].clone();
                victim = key.clone();
                let json = String::from_utf8(flate2_gunzip(&t.object(&key).body)).unwrap();
                let body = make(&json);
                t.object(&key).body = if name == "gzip-bomb" { gzip_of_zeros(1 << 30) } else { trailproof::sim::gzip(&body) };
            },
            &[],
        );
        assert_eq!(m.run.code, 1, "{name}: {}", m.run.stdout);
        let f: Vec<Value> = findings(&m.run, kind).into_iter().filter(|f| f["key"] == victim.as_str()).collect();
        assert_eq!(f.len(), 1, "{name}: {}", m.run.stdout);
        assert!(f[0]["message"].as_str().unwrap().contains(expect), "{name}: {}", f[0]);
        assert_bounded(&m, 400);
    }
}

fn flate2_gunzip(gz: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut out).unwrap();
    out
}

#[test]
fn bad_keys_in_a_key_file_are_refused_and_their_digests_unverified() {
    // The keys file names the right fingerprints, but the keys behind them are wrong.
    let mut spec = spec("bad-keys");
    spec.hours = 3;
    let trail = simulate(&spec);
    let dir = write_dir(&trail);
    let published: Value = serde_json::from_slice(&std::fs::read(root().join("testdata/public-keys.json")).unwrap()).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut keys = published.clone();
    for k in keys["PublicKeyList"].as_array_mut().unwrap() {
        let der = b64.decode(k["Value"].as_str().unwrap()).unwrap();
        // Keep the stated fingerprint, swap the key: a fingerprint that does not match its key.
        let mut other = der.clone();
        let last = other.len() - 1;
        other[last - 10] ^= 1;
        k["Value"] = b64.encode(other).into();
    }
    let file = dir.path().join("keys.json");
    std::fs::write(&file, keys.to_string()).unwrap();
    let (start, end) = range(&trail);
    let run = trailproof(&["validate-logs", "--source", &path_str(dir.path()), "--public-keys", &path_str(&file), "--trail-arn", &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"], &[]);
    assert!(run.stderr.contains("rejected: stated fingerprint"), "{}", run.stderr);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.error_kinds().iter().all(|k| k == "digest_key_unknown"), "{}", run.stdout);
    assert_eq!(run.count("digests", "valid"), 0);
}
