//! S3 and API faults: a fault-injecting proxy (tests/emulator/fault_proxy.py) sits between
//! trailproof and the emulator. Under faults a run either reaches the fault-free verdict and
//! findings (retries with backoff), or ends incomplete (exit 3) with `access_error` findings
//! naming what could not be checked. It never hashes a short body as complete, and a stalled
//! server cannot hang it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;
use trailproof::layout::log_key_time;
use trailproof::integrity::digest::LogFileEntry;
use trailproof::sim::SimTrail;

struct Proxy {
    endpoint: String,
    counts: tempfile::NamedTempFile,
    child: Child,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    /// Faults at `rate` on requests whose request line contains `only` ("" for all).
    fn start(rate: f64, seed: u64, kinds: &str, stall_secs: u32, only: &str) -> Proxy {
        let upstream = emulator().endpoint.rsplit(':').next().unwrap().to_string();
        let counts = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new(python())
            .arg(root().join("tests/emulator/fault_proxy.py"))
            .args([upstream, rate.to_string(), seed.to_string(), path_str(counts.path()), kinds.to_string(), stall_secs.to_string(), only.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("READY ").unwrap_or_else(|| panic!("proxy did not start: {line:?}")).to_string();
        Proxy { endpoint: format!("http://127.0.0.1:{port}"), counts, child }
    }

    /// {"requests": n, "faults": {kind: n}}
    fn counts(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.counts.path()).unwrap()).unwrap()
    }
}

/// validate-logs through `endpoint`, killed (and failed) if it runs past `limit`.
fn validate_via(trail: &SimTrail, endpoint: &str, extra: &[&str], limit: Duration) -> (Run, Duration) {
    let (start, end) = range(trail);
    let arn = trail.spec.trail_arn();
    let mut env = aws_env();
    env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL" && *k != "AWS_MAX_ATTEMPTS");
    env.push(("AWS_ENDPOINT_URL", endpoint.to_string()));
    let began = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailproof"))
        .args(["validate-logs", "--trail-arn", &arn, "--start-time", &start, "--end-time", &end, "--output", "json"])
        .args(extra)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read output on threads so a full pipe cannot stall the child.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).unwrap();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if began.elapsed() > limit {
            let _ = child.kill();
            panic!("trailproof still running after {limit:?}: a stalled server hung the run");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = Run { code: status.code().unwrap_or(-1), stdout: out.join().unwrap(), stderr: err.join().unwrap() };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    (run, began.elapsed())
}

/// (kind, key, severity) of every finding.
fn findings(run: &Run) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().to_string(), f["key"].as_str().unwrap_or_default().to_string(), f["severity"].as_str().unwrap().to_string()))
        .collect();
    v.sort();
    v
}


/// The digest that lists `log_key`.
fn listing_digest(trail: &SimTrail, log_key: &str) -> Option<String> {
    trail.digest_keys.iter().find(|d| trail.digest(d).log_files.iter().any(|l| l.s3_object == log_key)).cloned()
}

/// A simulated trail of `hours`, uploaded, with its trail created.
fn trail_in_s3(name: &str, hours: u32) -> SimTrail {
    let mut s = spec(&bucket(name));
    s.hours = hours;
    let trail = simulate(&s);
    upload(&trail);
    create_trail(&trail);
    trail
}

/// A small trail with one modified log file: the fault-free verdict is "tampered".
fn tampered_trail(name: &str) -> SimTrail {
    let mut s = spec(&bucket(name));
    s.hours = 24;
    let mut trail = simulate(&s);
    let victim = trail.log_keys[3].clone();
    trail.rewrite_log(&victim, |records| records.extend_from_slice(b" "));
    upload(&trail);
    create_trail(&trail);
    trail
}

#[test]
fn ten_percent_faults_give_the_fault_free_verdict_or_an_honest_incomplete() {
    let trail = tampered_trail("faults-10");
    let (clean, _) = validate_via(&trail, &emulator().endpoint, &[], Duration::from_secs(120));
    assert_eq!(clean.code, 1, "{}", clean.stdout);
    let expected = findings(&clean);
    let mut summary = Vec::new();
    // With retries the fault-free verdict is expected; with none, honest incompletes.
    for (attempts, seed) in [5, 1].into_iter().flat_map(|a| (1..=5u64).map(move |s| (a, s))) {
        let proxy = Proxy::start(0.10, seed, "", 4, "");
        let attempts_flag = attempts.to_string();
        let flags = ["--max-attempts", &attempts_flag, "--read-timeout", "2", "--connect-timeout", "2", "--concurrency", "8"];
        let (run, took) = validate_via(&trail, &proxy.endpoint, &flags, Duration::from_secs(300));
        let counts = proxy.counts();
        if run.stdout.trim().is_empty() {
            // A prerequisite (trail lookup, bucket region) failed past its retries: exit 3 and
            // a message, never a verdict.
            assert_eq!(run.code, 3, "{}", run.stderr);
            summary.push(format!("attempts {attempts}, seed {seed}: {counts} -> could not start (exit 3): {}", run.stderr.trim()));
            continue;
        }
        let got = findings(&run);
        let access: Vec<&(String, String, String)> = got.iter().filter(|f| f.0 == "access_error").collect();
        if access.is_empty() {
            assert_eq!(got, expected, "seed {seed}: same findings as the fault-free run\n{}", run.stdout);
            assert_eq!(run.code, clean.code);
            summary.push(format!("attempts {attempts}, seed {seed}: {counts} -> fault-free verdict in {took:?}"));
        } else {
            // Incomplete: what it did find is true, and anything it missed was named unreadable.
            let messages = run.stdout.clone();
            // `unchecked` says honestly what an unread digest left unjudged (its log files). A log
            // file whose own digest could not be read, with no authentic successor to place that
            // digest's period, lies outside every verified period: a warning, explained by the
            // digest's access_error.
            let digest_unread = |log: &str| listing_digest(&trail, log).is_some_and(|d| got.iter().any(|g| g.0 == "access_error" && g.1 == d));
            let explained_warning = |f: &(String, String, String)| f.0 == "log_unreferenced" && f.2 == "warning" && digest_unread(&f.1);
            for f in got.iter().filter(|f| f.0 != "access_error" && f.0 != "unchecked" && !explained_warning(f)) {
                assert!(expected.contains(f), "seed {seed}, {attempts} attempt(s): {f:?} is not a fault-free finding\n{}", run.stdout);
            }
            // A finding on a log file may also be lost with its digest, whose access_error says
            // that the log files of its period are unchecked.
            let named = |key: &str| got.iter().any(|f| f.0 == "access_error" && (f.1 == key || messages.contains(key)));
            // A chain finding (a gap, a broken link) depends on the digests next to it, so it
            // may be lost with a neighbour that could not be read.
            let position = |key: &str| trail.digest_keys.iter().position(|d| d == key);
            let neighbour_unread = |key: &str| {
                position(key).is_some_and(|i| got.iter().any(|g| g.0 == "access_error" && position(&g.1).is_some_and(|j| i.abs_diff(j) <= 2)))
            };
            for f in &expected {
                let digest = listing_digest(&trail, &f.1);
                // A listing that failed explains everything under its prefix, and without the
                // digest listing nothing at all was checked.
                let unlisted = got.iter().any(|g| g.0 == "access_error" && g.1.ends_with('/') && (f.1.starts_with(&g.1) || g.1.contains("CloudTrail-Digest/")));
                let explained = got.contains(f) || named(&f.1) || digest.is_some_and(|d| named(&d)) || neighbour_unread(&f.1) || unlisted;
                assert!(explained, "seed {seed}: {f:?} lost without an access_error naming it or a neighbour\n{access:?}");
            }
            // Proven tampering still outranks incompleteness.
            assert_eq!(run.code, if got.iter().any(|f| f.0 == "log_hash_mismatch") { 1 } else { 3 });
            summary.push(format!("attempts {attempts}, seed {seed}: {counts} -> incomplete, {} access_error(s), exit {}", access.len(), run.code));
        }
    }
    eprintln!("FAULTS at 10%:\n{}", summary.join("\n"));
    assert!(summary[..5].iter().all(|s| s.contains("fault-free verdict")), "with 5 attempts every run reaches the verdict:\n{}", summary.join("\n"));
    assert!(summary[5..].iter().any(|s| s.contains("incomplete")), "without retries some runs end incomplete:\n{}", summary.join("\n"));
}

#[test]
fn truncated_bodies_are_never_hashed_as_complete() {
    let trail = trail_in_s3("faults-truncated", 4);
    // Half the log-file responses are cut in half, and nothing is retried.
    let proxy = Proxy::start(0.5, 7, "truncate", 1, "/CloudTrail/");
    let (run, _) = validate_via(&trail, &proxy.endpoint, &["--max-attempts", "1"], Duration::from_secs(120));
    let truncated = proxy.counts()["faults"]["truncate"].as_u64().unwrap();
    eprintln!("TRUNCATED: {} -> exit {}", proxy.counts(), run.code);
    assert!(truncated > 0);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    // The trail is clean: every short body is unreadable, never a bad hash or a malformed file.
    let errors = findings(&run);
    assert!(errors.iter().all(|f| f.0 == "access_error" && f.2 == "error"), "{errors:?}");
    assert_eq!(errors.len() as u64, truncated, "{}", run.stdout);
    assert!(errors.iter().all(|f| trail.log_keys.contains(&f.1)), "{errors:?}");
    assert_eq!(run.count("log_files", "valid") + truncated, trail.log_keys.len() as u64);
    assert_eq!(run.count("digests", "valid"), trail.digest_keys.len() as u64);
}

#[test]
fn stalled_servers_cannot_hang_the_run() {
    let trail = trail_in_s3("faults-stall", 2);
    for kinds in ["stall", "stallbody"] {
        // Every response stalls for 10 minutes; timeouts of 1 s and 2 attempts must end the run.
        let proxy = Proxy::start(1.0, 3, kinds, 600, "");
        let (run, took) = validate_via(&trail, &proxy.endpoint, &["--max-attempts", "2", "--read-timeout", "1", "--connect-timeout", "1", "--s3-bucket", &trail.spec.bucket], Duration::from_secs(240));
        eprintln!("STALL ({kinds}): {} -> exit {} after {took:?}", proxy.counts(), run.code);
        assert_eq!(run.code, 3, "{kinds}: {}{}", run.stdout, run.stderr);
    }
}

#[test]
fn a_listing_that_never_ends_is_an_error_not_a_hang() {
    let trail = trail_in_s3("faults-loop", 2);
    // Every ListObjectsV2 page claims more to come, always under the same token.
    let proxy = Proxy::start(1.0, 5, "loop", 1, "list-type=2");
    let (run, took) = validate_via(&trail, &proxy.endpoint, &[], Duration::from_secs(120));
    eprintln!("LOOP: {} -> exit {} after {took:?}", proxy.counts(), run.code);
    assert!(proxy.counts()["faults"]["loop"].as_u64().unwrap() > 0);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let looped: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "access_error" && f["message"].as_str().unwrap().contains("repeated the page token \"loop\""))
        .collect();
    assert!(!looped.is_empty(), "{}", run.stdout);
    assert_eq!(run.count("digests", "valid"), 0, "nothing listed is nothing checked: {}", run.stdout);
}

#[test]
fn a_log_file_at_the_edge_of_an_unread_digest_is_unchecked_not_injected() {
    let trail = trail_in_s3("faults-edge", 48);
    // A digest listing a log file stamped in the minute its period ends, followed by the next
    // digest of its chain. From the stamp alone (truncated to the minute) the file could have
    // been delivered in either period.
    let minute = chrono::Duration::minutes(1);
    let edge = (0..trail.digest_keys.len() - 1).find_map(|i| {
        let (end, d) = (trail.digest_ends[i], trail.digest(&trail.digest_keys[i]));
        let chained = trail.digest(&trail.digest_keys[i + 1]).digest_start_time == d.digest_end_time;
        let at_edge = |l: &&LogFileEntry| log_key_time(&l.s3_object, &trail.spec.region).is_some_and(|t| t > end - minute && t < end);
        let log = d.log_files.iter().find(at_edge)?;
        chained.then(|| (trail.digest_keys[i].clone(), log.s3_object.clone()))
    });
    let (digest, log) = edge.expect("the simulated trail has a log file at a digest period's edge; change the spec if not");
    // Only that digest is unreadable.
    let name = digest.rsplit('/').next().unwrap();
    let proxy = Proxy::start(1.0, 1, "internal", 1, name);
    let (run, _) = validate_via(&trail, &proxy.endpoint, &["--max-attempts", "1"], Duration::from_secs(120));
    eprintln!("EDGE: {digest} unread, {log} at its edge: {} -> exit {}", proxy.counts(), run.code);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let got = findings(&run);
    assert!(got.iter().any(|f| f.0 == "access_error" && f.1 == digest), "{got:?}");
    assert!(!got.iter().any(|f| f.0 == "log_unreferenced" && f.2 == "error"), "an unchecked log file reported as injected: {got:?}");
}
