//! One test per bug, each named for the bug and the issue that reported it. Every test here failed
//! on the code before its fix.

#[allow(unused_imports)]
use crate::common::*;

/// Issue 10, defect 10 (false alarm): a key file serving CloudTrail's keys as X.509
/// SubjectPublicKeyInfo DER, each under the hex MD5 of its PKCS#1 form (the name digests carry),
/// had every key rejected ("stated fingerprint ... but the key's MD5 is ...") and so every digest
/// of the region failed.
#[test]
fn spki_served_key_with_pkcs1_fingerprint_verifies_issue_10() {
    use base64::Engine as _;
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::EncodePublicKey;
    let b64 = base64::engine::general_purpose::STANDARD;
    // 24 hours across the us-east-1 key rotation (2026-03-02T12:00Z), so both keys sign digests.
    let mut spec = spec("spki-served-keys");
    spec.stopped_hours = vec![];
    spec.hours = 24;
    let trail = simulate(&spec);
    let dir = write_dir(&trail);
    let mut keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("testdata/public-keys.json")).unwrap()).unwrap();
    for k in keys["PublicKeyList"].as_array_mut().unwrap() {
        let pkcs1 = b64.decode(k["Value"].as_str().unwrap()).unwrap();
        assert_eq!(trailproof::integrity::keys::fingerprint(&pkcs1), k["Fingerprint"].as_str().unwrap());
        let spki = rsa::RsaPublicKey::from_pkcs1_der(&pkcs1).unwrap().to_public_key_der().unwrap();
        k["Value"] = b64.encode(spki.as_bytes()).into(); // the Fingerprint stays MD5(PKCS#1)
    }
    let file = dir.path().join("spki-keys.json");
    std::fs::write(&file, keys.to_string()).unwrap();
    let (start, end) = range(&trail);
    let run = trailproof(
        &["validate-logs", "--source", &path_str(dir.path()), "--public-keys", &path_str(&file), "--trail-arn",
          &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"],
        &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9".into()), ("AWS_EC2_METADATA_DISABLED", "true".into())],
    );
    assert!(!run.stderr.contains("rejected"), "{}", run.stderr);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.error_kinds(), Vec::<String>::new(), "{}", run.stdout);
    assert_eq!(run.count("digests", "valid"), trail.digest_keys.len() as u64);
    assert_eq!(run.count("log_files", "valid"), trail.log_keys.len() as u64);
}

/// `validate-logs --source DIR --output json` over the whole trail, offline, with the us-east-1
/// test keys and `extra` flags, as a child process that is killed (failing the test) if it has not
/// finished after 60 s: a hang must fail, not stall the suite. Output goes to files, so a full
/// pipe cannot block the child.
fn offline_run(dir: &std::path::Path, trail: &trailproof::sim::SimTrail, extra: &[&str]) -> Run {
    use std::time::{Duration, Instant};
    let (start, end) = range(trail);
    let keys = path_str(&root().join("testdata/public-keys.json"));
    let (out, err) = (tempfile::NamedTempFile::new().unwrap(), tempfile::NamedTempFile::new().unwrap());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trailproof"))
        .args(["validate-logs", "--source", &path_str(dir), "--public-keys", &keys, "--trail-arn", &trail.spec.trail_arn()])
        .args(["--start-time", &start, "--end-time", &end, "--output", "json"])
        .args(extra)
        .env_clear()
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("validate-logs --source was still running after 60 s: it hangs");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(out.path()).unwrap(),
        stderr: std::fs::read_to_string(err.path()).unwrap(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// A four-hour simulated trail written as a `--source` copy.
fn issue_10_trail(name: &str) -> (trailproof::sim::SimTrail, tempfile::TempDir) {
    let mut spec = spec(name);
    spec.hours = 4;
    let trail = simulate(&spec);
    let dir = write_dir(&trail);
    (trail, dir)
}

/// The messages of the run's findings about `key`.
fn issue_10_messages(run: &Run, key: &str) -> Vec<String> {
    run.json()["findings"].as_array().unwrap().iter()
        .filter(|f| f["key"] == key)
        .map(|f| format!("{}: {}", f["kind"].as_str().unwrap_or(""), f["message"].as_str().unwrap_or("")))
        .collect()
}

#[test]
fn evidence_symlink_out_of_the_root_is_refused_issue_10() {
    // A log file and a digest replaced by links to identical bytes outside the evidence root: the
    // bytes would verify, but nothing outside the root is evidence.
    let (trail, dir) = issue_10_trail("symlink-file");
    let outside = tempfile::tempdir().unwrap();
    let victims = [trail.log_keys[1].clone(), trail.digest_keys[1].clone()];
    for (i, key) in victims.iter().enumerate() {
        let path = dir.path().join(&trail.spec.bucket).join(key);
        let elsewhere = outside.path().join(i.to_string());
        std::fs::rename(&path, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
    }
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    for key in &victims {
        let messages = issue_10_messages(&run, key);
        assert!(messages.iter().any(|m| m.starts_with("access_error") && m.contains("symbolic link")), "{key}: {messages:?}\n{}", run.stdout);
    }
}

#[test]
fn evidence_symlinked_directory_is_refused_issue_10() {
    // The folder of one log file moved outside the root and linked back in.
    let (trail, dir) = issue_10_trail("symlink-dir");
    let outside = tempfile::tempdir().unwrap();
    let victim = trail.log_keys[1].clone();
    let folder = dir.path().join(&trail.spec.bucket).join(&victim).parent().unwrap().to_path_buf();
    let elsewhere = outside.path().join("day");
    std::fs::rename(&folder, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &folder).unwrap();
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let messages = issue_10_messages(&run, &victim);
    assert!(messages.iter().any(|m| m.starts_with("access_error") && m.contains("symbolic link")), "{messages:?}\n{}", run.stdout);
}

#[test]
fn evidence_fifo_does_not_hang_issue_10() {
    let (trail, dir) = issue_10_trail("fifo");
    let victim = trail.log_keys[1].clone();
    let path = dir.path().join(&trail.spec.bucket).join(&victim);
    std::fs::remove_file(&path).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(made.success());
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let messages = issue_10_messages(&run, &victim);
    assert!(messages.iter().any(|m| m.starts_with("access_error") && m.contains("not a regular file")), "{messages:?}\n{}", run.stdout);
}

#[test]
fn oversized_sidecar_is_refused_unread_issue_10() {
    // A 1 GiB sidecar (sparse, so the test writes nothing) and a sidecar that is valid JSON padded
    // past the limit: real S3 user metadata is at most 2 KB, so neither is read.
    let (trail, dir) = issue_10_trail("big-sidecar");
    let sidecar = |key: &str| dir.path().join(&trail.spec.bucket).join(format!("{key}.metadata.json"));
    let (huge, padded) = (trail.digest_keys[1].clone(), trail.digest_keys[2].clone());
    std::fs::File::create(sidecar(&huge)).unwrap().set_len(1 << 30).unwrap();
    let mut json = std::fs::read(sidecar(&padded)).unwrap();
    json.extend(std::iter::repeat_n(b' ', 1 << 20));
    std::fs::write(sidecar(&padded), json).unwrap();
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    for key in [&huge, &padded] {
        let messages = issue_10_messages(&run, key);
        assert!(messages.iter().any(|m| m.starts_with("access_error") && m.contains("65536-byte limit")), "{key}: {messages:?}\n{}", run.stdout);
    }
}

/// Issue 10, defect 12: a 2048-bit key with public exponent 3 was trusted, and digests signed
/// with it verified. CloudTrail publishes only 2048-bit keys with e = 65537 (all 1,594 on record);
/// anything else is refused with its exponent, remembered, and never used to verify.
#[test]
fn key_with_exponent_3_is_refused_issue_10() {
    use base64::Engine as _;
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::signature::{SignatureEncoding, Signer};
    use trailproof::integrity::keys::{fingerprint, KeyError, KeyLookupError, KeyRing, PublicKey};
    let private = rsa::RsaPrivateKey::new_with_exp(&mut rand::thread_rng(), 2048, &rsa::BigUint::from(3u8)).unwrap();
    let der = private.to_public_key().to_pkcs1_der().unwrap().as_bytes().to_vec();
    let fp = fingerprint(&der);
    let (from, to) = (t("2026-03-01T00:00:00Z"), t("2026-03-31T00:00:00Z"));
    assert_eq!(PublicKey::new(&der, &fp, from, to), Err(KeyError::Exponent { exponent: "3".into() }));
    let file = serde_json::json!({"PublicKeyList": [{
        "Value": base64::engine::general_purpose::STANDARD.encode(&der), "Fingerprint": fp,
        "ValidityStartTime": "2026-03-01T00:00:00Z", "ValidityEndTime": "2026-03-31T00:00:00Z",
    }]});
    let ring = KeyRing::from_list_public_keys_json(file.to_string().as_bytes()).unwrap();
    assert!(ring.is_empty());
    match ring.select(&fp, t("2026-03-15T00:00:00Z")) {
        Err(KeyLookupError::Rejected { reason, .. }) => assert!(reason.contains("exponent 3"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Nor does verification trust such a key when handed one directly.
    let key = PublicKey { fingerprint: fp.clone(), pkcs1_fingerprint: fp, pkcs1_der: der.clone(), published_der: der, valid_from: from, valid_to: to };
    let msg = b"2026-03-01T05:17:42Z\nbucket/key\nabc\nnull";
    let sig = hex::encode(rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private).sign(msg).to_bytes());
    assert!(trailproof::integrity::signature::verify(msg, &sig, &key).is_err());
}

// ---- Issue 10: unauthenticated evidence steered the run, or what was not checked was called valid.

/// A 12-hour trail with no stop, in us-east-1.
fn trust_trail(name: &str, edit: impl FnOnce(&mut trailproof::sim::TrailSpec)) -> trailproof::sim::SimTrail {
    let mut s = spec(name);
    s.stopped_hours = vec![];
    s.hours = 12;
    edit(&mut s);
    simulate(&s)
}

/// An unsigned digest (no signature metadata) at `key`, with `edit` applied to a copy of a real
/// digest's body: what an insider without CloudTrail's key can plant.
fn plant_unsigned_digest(trail: &mut trailproof::sim::SimTrail, model: &str, key: &str, edit: impl FnOnce(&mut trailproof::integrity::digest::Digest)) {
    let mut d = trail.digest(model);
    d.digest_s3_object = key.to_string();
    edit(&mut d);
    let body = trailproof::sim::gzip(&serde_json::to_vec(&d).unwrap());
    let bucket = trail.spec.bucket.clone();
    trail.objects.insert(key.to_string(), trailproof::sim::SimObject { bucket, key: key.to_string(), body, metadata: Default::default() });
}

/// The digest key a trail would use for an end time.
fn digest_key_at(trail: &trailproof::sim::SimTrail, at: chrono::DateTime<chrono::Utc>) -> String {
    trail.spec.target().digest_key(at)
}

fn findings_of(run: &Run, kind: &str) -> Vec<serde_json::Value> {
    run.json()["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == kind).cloned().collect()
}

/// Defect 1: a backfill digest's `backfill-generation-timestamp` of year +262142 panicked in
/// unchecked time arithmetic (exit 101, no report).
#[test]
fn extreme_backfill_generation_timestamp_does_not_panic_issue_10() {
    let mut trail = trust_trail("extreme-backfill-time", |s| s.backfill_hours = vec![5]);
    let backfill = trail.backfill_keys[0].clone();
    trail.object(&backfill).metadata.insert("backfill-generation-timestamp".into(), "+262142-12-31T23:59:59Z".into());
    let dir = write_dir(&trail);
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let bad = findings_of(&run, "digest_format_invalid");
    assert_eq!(bad.len(), 1, "{}", run.stdout);
    assert_eq!(bad[0]["key"], backfill.as_str());
}

/// Defect 2: an unsigned digest claiming to end in year 0001, named just before a deleted digest,
/// made gap inference push millions of findings (gigabytes of memory).
#[test]
fn unsigned_digest_of_year_0001_next_to_a_deletion_does_not_flood_issue_10() {
    let mut trail = trust_trail("year-one-junk", |_| {});
    let deleted = trail.digest_keys[6].clone();
    trail.objects.remove(&deleted);
    let junk = digest_key_at(&trail, trail.digest_ends[6] - chrono::Duration::minutes(10));
    let model = trail.digest_keys[2].clone();
    plant_unsigned_digest(&mut trail, &model, &junk, |d| {
        d.digest_start_time = "0001-01-01T00:00:00Z".into();
        d.digest_end_time = "0001-01-01T01:00:00Z".into();
    });
    let dir = write_dir(&trail);
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 1);
    let findings = run.json()["findings"].as_array().unwrap().len();
    assert!(findings < 50, "{findings} findings");
    // The deleted digest's run is bounded by the authentic digest before it: one digest.
    let missing = findings_of(&run, "digest_missing");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["key"], deleted.as_str());
    assert_eq!(missing[0]["details"]["count"], 1);
    assert!(findings_of(&run, "digest_signature_invalid").iter().chain(&findings_of(&run, "unchecked")).any(|f| f["key"] == junk.as_str()), "{}", run.stdout);
}

/// Defect 2, the other half: an unsigned digest next to a deletion hid how many digests were gone.
#[test]
fn junk_next_to_a_run_of_deletions_does_not_hide_its_size_issue_10() {
    let mut trail = trust_trail("junk-hides-count", |_| {});
    for k in &trail.digest_keys[4..8] {
        trail.objects.remove(k);
    }
    // Junk named inside the run, claiming to end just before the newest deleted digest.
    let junk = digest_key_at(&trail, trail.digest_ends[6] + chrono::Duration::minutes(5));
    let model = trail.digest_keys[2].clone();
    let claimed = trailproof::time::display(trail.digest_ends[6] + chrono::Duration::minutes(5));
    plant_unsigned_digest(&mut trail, &model, &junk, |d| d.digest_end_time = claimed);
    let dir = write_dir(&trail);
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 1);
    let missing = findings_of(&run, "digest_missing");
    assert_eq!(missing[0]["details"]["count"], 4, "{missing:?}");
    assert_eq!(run.count("digests", "invalid"), 4, "four missing; the junk is unverifiable in a copy without metadata");
}

/// Defect 3: an unreadable object named like a digest (here a link to a folder, in S3 an object the
/// auditor may not read) opened an "unread" window that excused an injected log file entirely.
#[test]
fn unreadable_junk_digest_does_not_excuse_an_injected_log_file_issue_10() {
    let mut trail = trust_trail("unread-excuse", |_| {});
    // Stamped in the minute digest 5's period ends: inside it, but not surely (the stamp is cut
    // to the minute), so only an unread neighbour could excuse it.
    let end = trail.digest_ends[5];
    let at = end - chrono::Duration::seconds(end.timestamp() % 60);
    let junk = digest_key_at(&trail, at + chrono::Duration::minutes(2));
    let s = trail.spec.clone();
    let injected = format!("AWSLogs/{0}/CloudTrail/{1}/{2}{0}_CloudTrail_{1}_{3}_InJeCtEd00000001.json.gz", s.account_id, s.region, at.format("%Y/%m/%d/"), at.format("%Y%m%dT%H%MZ"));
    let body = trailproof::sim::gzip(br#"{"Records":[]}"#);
    trail.objects.insert(injected.clone(), trailproof::sim::SimObject { bucket: s.bucket.clone(), key: injected.clone(), body, metadata: Default::default() });
    let dir = write_dir(&trail);
    // A symbolic link to a folder: listed like an object, unreadable as one.
    std::os::unix::fs::symlink(".", dir.path().join(&s.bucket).join(&junk)).unwrap();
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let unref = findings_of(&run, "log_unreferenced");
    assert!(unref.iter().any(|f| f["key"] == injected.as_str() && f["severity"] == "error"), "{}", run.stdout);
}

/// Defect 3: an unsigned digest's previous-digest link was followed into another bucket, and
/// `export` copied what it found there.
#[test]
fn unsigned_digest_link_into_another_bucket_is_not_followed_issue_10() {
    let mut trail = trust_trail(&bucket("junk-link-out"), |_| {});
    let secret_bucket = bucket("junk-link-secret");
    let junk = digest_key_at(&trail, trail.digest_ends[4] + chrono::Duration::minutes(5));
    let model = trail.digest_keys[4].clone();
    let secret_bucket2 = secret_bucket.clone();
    plant_unsigned_digest(&mut trail, &model, &junk, |d| {
        d.previous_digest_s3_bucket = Some(secret_bucket2);
        d.previous_digest_s3_object = Some("private/payroll.json.gz".into());
    });
    upload(&trail);
    runtime().block_on(async {
        let s3 = s3().await;
        s3.create_bucket().bucket(&secret_bucket).send().await.unwrap();
        s3.put_object().bucket(&secret_bucket).key("private/payroll.json.gz").body(b"secret".to_vec().into()).send().await.unwrap();
    });
    let out = tempfile::tempdir().unwrap();
    let (start, end) = range(&trail);
    let run = trailproof(
        &["export", "--trail-arn", &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--out", &path_str(out.path())],
        &aws_env(),
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!out.path().join(&secret_bucket).exists(), "export copied another bucket's object: {}", run.stdout);
}

/// Defect 3: an unsigned digest named after the real newest one set the chain's newest end, so a
/// tail cut off by the attacker passed.
#[test]
fn unsigned_junk_digest_does_not_mask_a_truncated_tail_issue_10() {
    let mut trail = trust_trail(&bucket("junk-masks-tail"), |_| {});
    let last_end = *trail.digest_ends.last().unwrap();
    for k in &trail.digest_keys[trail.digest_keys.len() - 3..] {
        trail.objects.remove(k);
    }
    let junk = digest_key_at(&trail, last_end);
    let model = trail.digest_keys[2].clone();
    let claimed = trailproof::time::display(last_end);
    plant_unsigned_digest(&mut trail, &model, &junk, |d| d.digest_end_time = claimed);
    upload(&trail);
    set_trail_status(&trail.spec.trail_name, serde_json::json!({ "IsLogging": true, "StartLoggingTime": trail.spec.start.timestamp() }));
    let run = validate_s3(&trail, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(findings_of(&run, "digest_tail_missing").len(), 1, "{}", run.stdout);
}

/// Defect 4: a backfill digest is judged at its unsigned generation timestamp, so one re-signed
/// with a key that had expired before its period passed by claiming a time in that key's window.
#[test]
fn backfill_signed_with_a_key_expired_before_its_period_is_invalid_issue_10() {
    let mut s = spec("backfill-old-key");
    s.start = t("2026-03-12T02:17:42Z");
    s.hours = 6;
    s.stopped_hours = vec![];
    s.backfill_hours = vec![3];
    let mut trail = simulate(&s);
    let backfill = trail.backfill_keys[0].clone();
    // test-key-a expired 2026-03-12T00:00Z, before this backfill's period; an insider who has it
    // signs the backfill and claims it was generated while the key was valid.
    let old = keys("us-east-1").into_iter().find(|k| k.public.valid_to < s.start).unwrap();
    let fingerprint = old.public.fingerprint.clone();
    trail.resign(&backfill, &old, |d| d.digest_public_key_fingerprint = fingerprint).unwrap();
    trail.object(&backfill).metadata.insert("backfill-generation-timestamp".into(), "2026-03-11T12:00:00Z".into());
    let dir = write_dir(&trail);
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.json()["findings"].as_array().unwrap().iter().any(|f| f["key"] == backfill.as_str() && f["severity"] == "error"), "{}", run.stdout);
    assert_eq!(run.count("backfill_digests", "valid"), 0);
}

/// Defect 5: a planted key in a day's folder claiming a later time than the folder ended the
/// digest listing early, hiding every later digest; tampering after it was called valid.
#[test]
fn planted_digest_name_claiming_a_later_time_does_not_hide_later_digests_issue_10() {
    let mut s = spec("planted-later-name");
    s.stopped_hours = vec![];
    s.start = t("2026-03-01T18:17:42Z");
    s.hours = 12; // crosses midnight into 2026-03-02
    let mut trail = simulate(&s);
    // In the first day's folder, named as if it ended a year later.
    let target = trail.spec.target();
    let planted = format!("{}2026/03/01/{}20270101T000000Z.json.gz", target.digest_dir(), target.file_stem());
    assert_eq!(trail.digest_keys[0].rsplit_once('/').unwrap().0, planted.rsplit_once('/').unwrap().0);
    let model = trail.digest_keys[0].clone();
    plant_unsigned_digest(&mut trail, &model, &planted, |_| {});
    // Tamper with a log file of the second day.
    let late_log = trail.log_keys.last().unwrap().clone();
    trail.rewrite_log(&late_log, |json| json.extend_from_slice(b" "));
    let dir = write_dir(&trail);
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(findings_of(&run, "log_hash_mismatch").iter().any(|f| f["key"] == late_log.as_str()), "{}", run.stdout);
    assert_eq!(run.count("digests", "valid"), trail.digest_keys.len() as u64);
}

/// Defect 6: offline (and when GetTrailStatus fails) the truncated-tail check was skipped, so a
/// tail cut off by the attacker passed as valid.
#[test]
fn truncated_tail_without_trail_status_is_incomplete_issue_10() {
    let mut trail = trust_trail("tail-offline", |_| {});
    for k in &trail.digest_keys[trail.digest_keys.len() - 3..] {
        trail.objects.remove(k);
    }
    let dir = write_dir(&trail);
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let unchecked = findings_of(&run, "unchecked");
    assert_eq!(unchecked.len(), 1, "{}", run.stdout);
    assert!(unchecked[0]["message"].as_str().unwrap().contains("--trail-status"));
}

/// Defect 7: in a copy without S3 metadata, the newest digest (no successor names its signature)
/// was a warning and the run valid, though its log files were never checked.
#[test]
fn copy_digest_without_any_signature_is_incomplete_not_valid_issue_10() {
    let trail = trust_trail("unsigned-newest", |_| {});
    let dir = write_dir(&trail);
    let newest = trail.digest_keys.last().unwrap();
    std::fs::remove_file(dir.path().join(&trail.spec.bucket).join(format!("{newest}.metadata.json"))).unwrap();
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    let unchecked = findings_of(&run, "unchecked");
    assert_eq!(unchecked.len(), 1);
    assert_eq!(unchecked[0]["key"], newest.as_str());
    assert_eq!(run.json()["verdict"], "incomplete");
}

/// Defect 7: zero-byte files named like digests in a copy were "unverifiable" warnings, and the
/// run valid.
#[test]
fn zero_byte_digests_in_a_copy_are_invalid_issue_10() {
    let trail = trust_trail("zero-byte-digests", |_| {});
    let dir = write_dir(&trail);
    for m in 0..20 {
        let key = digest_key_at(&trail, trail.digest_ends[3] + chrono::Duration::minutes(m + 1));
        let path = dir.path().join(&trail.spec.bucket).join(key);
        std::fs::write(path, b"").unwrap();
    }
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(findings_of(&run, "digest_format_invalid").len(), 20);
}

/// Defect 8: regions were discovered only under CloudTrail-Digest/, so deleting every digest of a
/// region hid its log files from --all-regions.
#[test]
fn region_whose_digests_were_all_deleted_is_still_checked_issue_10() {
    let east = trust_trail("all-digests-deleted", |_| {});
    let mut west = trust_trail("all-digests-deleted", |s| {
        s.region = "us-west-2".into();
        s.seed += 1;
    });
    for k in west.digest_keys.clone() {
        west.objects.remove(&k);
    }
    let dir = write_dir(&east);
    west.write_dir(dir.path()).unwrap();
    let run = offline_run(dir.path(), &east, &["--all-regions"]);
    assert_eq!(run.json()["regions"], serde_json::json!(["us-east-1", "us-west-2"]), "{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let west_logs: Vec<_> = findings_of(&run, "log_unreferenced").into_iter().filter(|f| f["region"] == "us-west-2" && f["severity"] == "error").collect();
    assert_eq!(west_logs.len(), west.log_keys.len());
}

/// Defect 9: log files whose names do not parse, or whose stamp lies outside the range while their
/// folder is inside it, were dropped from the unreferenced check instead of reported.
#[test]
fn log_files_with_foreign_names_or_stamps_are_reported_issue_10() {
    let mut trail = trust_trail("foreign-log-names", |_| {});
    let folder = {
        let k = &trail.log_keys[3];
        k[..k.rfind('/').unwrap() + 1].to_string()
    };
    let s = trail.spec.clone();
    let mut odd = [
        format!("{folder}evil.json.gz"),
        format!("{folder}{0}_CloudTrail_{1}_20300101T0000Z_FaRfUtUrE0000001.json.gz", s.account_id, s.region),
    ];
    for key in &odd {
        let body = trailproof::sim::gzip(br#"{"Records":[]}"#);
        trail.objects.insert(key.clone(), trailproof::sim::SimObject { bucket: s.bucket.clone(), key: key.clone(), body, metadata: Default::default() });
    }
    let dir = write_dir(&trail);
    let run = offline_run(dir.path(), &trail, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    odd.sort();
    let reported: Vec<String> = findings_of(&run, "log_unreferenced").iter().filter(|f| f["severity"] == "error").map(|f| f["key"].as_str().unwrap().to_string()).collect();
    assert_eq!(reported, odd);
}

/// Defect 11 (false alarm): two trails delivering to the same bucket and prefix; log file names
/// carry no trail name, so the other trail's log files were reported as injected.
#[test]
fn second_trail_in_the_same_folder_is_not_injection_issue_10() {
    let a = trust_trail("two-trails", |s| s.trail_name = "first".into());
    let b = trust_trail("two-trails", |s| {
        s.trail_name = "second".into();
        s.seed += 7;
    });
    let dir = write_dir(&a);
    b.write_dir(dir.path()).unwrap();
    for t in [&a, &b] {
        let run = offline_run(dir.path(), t, &[]);
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert_eq!(run.kinds(), Vec::<String>::new());
        assert_eq!(run.count("log_files", "valid"), t.log_keys.len() as u64);
    }
}

/// Defect 4: each distinct `backfill-generation-timestamp` on any backfill-named object cost a
/// ListPublicKeys call (1,000 planted objects, 1,000 calls).
#[test]
fn planted_backfill_names_do_not_multiply_key_lookups_issue_10() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use trailproof::keysource::{FileKeys, KeySource};
    struct Counting(FileKeys, AtomicUsize);
    #[async_trait::async_trait]
    impl KeySource for Counting {
        async fn keys(&self, region: &str, start: chrono::DateTime<chrono::Utc>, end: chrono::DateTime<chrono::Utc>) -> Result<trailproof::integrity::keys::KeyRing, String> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.keys(region, start, end).await
        }
    }
    let mut trail = trust_trail("planted-backfills", |s| s.backfill_hours = vec![4]);
    let model = trail.digest_keys[2].clone();
    for m in 0..40 {
        let key = digest_key_at(&trail, trail.digest_ends[6] + chrono::Duration::minutes(m + 1)).replace(".json.gz", "_backfill.json.gz");
        plant_unsigned_digest(&mut trail, &model, &key, |_| {});
        let at = trail.spec.start + chrono::Duration::hours(m);
        trail.object(&key).metadata.insert("backfill-generation-timestamp".into(), trailproof::time::display(at));
        trail.object(&key).metadata.insert("signature".into(), "00".repeat(256));
        trail.object(&key).metadata.insert("signature-algorithm".into(), "SHA256withRSA".into());
    }
    let dir = write_dir(&trail);
    let keys = Counting(FileKeys::parse(&std::fs::read(root().join("testdata/public-keys.json")).unwrap()).unwrap(), AtomicUsize::new(0));
    let s = &trail.spec;
    let target = s.target();
    let range = trailproof::time::Range { start: s.start, end: s.start + chrono::Duration::hours(s.hours as i64) };
    let report = runtime().block_on(async {
        let source = std::sync::Arc::new(trailproof::source::dir::DirSource::new(dir.path()));
        let ctx = trailproof::pipeline::Context::new(source, &keys, None, trailproof::pipeline::Options::default(), false);
        trailproof::pipeline::validate(&ctx, &[trailproof::pipeline::Job::new(target, range)], range).await
    });
    assert_eq!(report.verdict, trailproof::report::Verdict::Invalid);
    let calls = keys.1.load(Ordering::SeqCst);
    assert!(calls <= 2, "{calls} key look-ups for one region");
}

/// Found while fixing issue 10: in a copy without S3 metadata, an unsigned digest naming a genuine
/// digest as its predecessor, with a false `previousDigestSignature`, displaced the genuine
/// successor's signature, and the genuine digest was reported as forged.
#[test]
fn planted_false_successor_signature_does_not_condemn_a_genuine_digest_issue_10() {
    let mut trail = trust_trail("false-successor-hint", |_| {});
    let genuine = trail.digest_keys[5].clone();
    let junk = digest_key_at(&trail, trail.digest_ends[6] + chrono::Duration::minutes(5));
    let model = trail.digest_keys[6].clone();
    plant_unsigned_digest(&mut trail, &model, &junk, |d| d.previous_digest_signature = Some("00".repeat(256)));
    let dir = write_dir(&trail);
    for k in &trail.digest_keys {
        std::fs::remove_file(dir.path().join(&trail.spec.bucket).join(format!("{k}.metadata.json"))).unwrap();
    }
    let run = offline_run(dir.path(), &trail, &[]);
    let on_genuine: Vec<_> = run.json()["findings"].as_array().unwrap().iter().filter(|f| f["key"] == genuine.as_str()).cloned().collect();
    assert_eq!(on_genuine, Vec::<serde_json::Value>::new(), "{}", run.stdout);
    assert_eq!(findings_of(&run, "digest_signature_invalid"), Vec::<serde_json::Value>::new());
}

// ---- Issue 13: found while reshaping the reporters for issue 11; fixed ahead of the rest of 13.

/// `validate-logs` over the bundled sample (valid, with its keys), with a key file when given.
fn sample_args(keys: Option<&str>) -> Vec<String> {
    let sample = path_str(&root().join("testdata/sample"));
    let mut args = ["validate-logs", "--source", &sample, "--trail-arn", "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events",
                    "--start-time", "2026-03-01T00:00:00Z", "--end-time", "2026-03-02T12:17:42Z"]
        .map(str::to_string)
        .to_vec();
    args.extend(keys.map(|k| ["--public-keys".to_string(), k.to_string()]).into_iter().flatten());
    args
}

/// An empty key list verified nothing, so every digest was `digest_key_unknown` and the run said
/// "invalid" (exit 1): a mistake in the command read as tampering. It is a usage error with a hint.
#[test]
fn empty_key_file_is_a_usage_error_not_tampering_issue_13() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("empty-list.json", r#"{"PublicKeyList": []}"#), ("no-regions.json", "{}")] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let args = sample_args(Some(&path_str(&file)));
        let run = trailproof(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("lists no public keys") && run.stderr.contains("keys export"), "{name}: {}", run.stderr);
    }
}

/// `trailproof validate-logs … | head` turned a valid run into exit 3 ("writing the report:
/// Broken pipe"): a reader that went away is not a failure of the run.
#[test]
fn closed_stdout_keeps_the_verdicts_exit_code_issue_13() {
    let keys = path_str(&root().join("testdata/public-keys.json"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trailproof"))
        .args(sample_args(Some(&keys)))
        .arg("--verbose")
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before a byte is read.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// testdata/baseline-example.toml, and the comments `baseline init` writes, give `expires` as a
/// TOML date (`2027-03-31`), which the loader refused ("invalid type: datetime, expected a
/// formatted date string"). Both a TOML date and a string are a day.
#[test]
fn baseline_expiry_written_as_a_toml_date_loads_issue_13() {
    let example = path_str(&root().join("testdata/baseline-example.toml"));
    let run = trailproof(&["baseline", "init", "--baseline", &example], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let reloaded = trailproof::baseline::Baseline::from_toml(&run.stdout).unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2027, 3, 31);
    assert_eq!(reloaded.exceptions.iter().map(|e| e.expires).collect::<Vec<_>>(), [day]);
    let quoted = std::fs::read_to_string(&example).unwrap().replace("expires = 2027-03-31", r#"expires = "2027-03-31""#);
    assert_eq!(trailproof::baseline::Baseline::from_toml(&quoted).unwrap().exceptions[0].expires, day);
}

/// `validate-logs --source` without `--public-keys` and without AWS credentials put the SDK's
/// debug dump of its credential chain (about 1,500 characters: `DispatchFailure(…
/// ProviderChainError …)`) into the finding. It is one line now, with the cause and both fixes.
#[test]
fn missing_credentials_are_explained_in_one_line_issue_13() {
    let args = sample_args(None);
    let args: Vec<&str> = args.iter().map(String::as_str).chain(["--output", "json"]).collect();
    let run = trailproof(&args, &[("AWS_EC2_METADATA_DISABLED", "true".into())]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let messages: Vec<String> = run.json()["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap().to_string()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert!(!m.contains('\n') && !m.contains("ProviderChainError") && !m.contains("DispatchFailure") && m.len() < 400, "{m}");
    assert!(m.contains("no credentials") && m.contains("configure AWS credentials") && m.contains("--public-keys"), "{m}");
}

/// Found while building the backtest (issue 14): in a copy without S3 metadata, the newest digest
/// has no successor to name its signature and is unverifiable. A log file it lists, delivered in
/// the first minute of its period, has a name stamped to the minute that reads as before the
/// period's start: it was judged "inside a period a verified digest covers … may have been
/// injected" (an error, verdict invalid). A minute that reaches past the verified periods may
/// belong to the uncovered side: a warning, the verdict incomplete (from the unverifiable digest).
#[test]
fn log_file_in_the_boundary_minute_of_an_unverifiable_digest_is_not_called_injected_issue_14() {
    // The first seed whose newest digest lists a log file stamped in the minute before its period.
    let in_boundary_minute = |trail: &trailproof::sim::SimTrail| {
        let digest = trail.digest(trail.digest_keys.iter().max().unwrap());
        let period_start = t(&digest.digest_start_time);
        digest.log_files.iter().any(|l| trailproof::layout::log_key_time(&l.s3_object, "us-east-1").is_some_and(|at| at < period_start))
    };
    let (spec, trail) = (0..500)
        .map(|seed| {
            let mut spec = trailproof::sim::TrailSpec::new("tp-boundary-minute", t("2026-03-01T00:17:42Z"), 6);
            spec.seed = seed;
            let trail = simulate(&spec);
            (spec, trail)
        })
        .find(|(_, trail)| in_boundary_minute(trail))
        .expect("some seed has a log file in a boundary minute");
    let dir = write_dir(&trail);
    let newest = trail.digest_keys.iter().max().unwrap();
    std::fs::remove_file(format!("{}.metadata.json", dir.path().join("tp-boundary-minute").join(newest).display())).unwrap();
    let (start, end) = range(&trail);
    let keys = path_str(&root().join("testdata/public-keys.json"));
    let run = trailproof(
        &["validate-logs", "--source", &path_str(dir.path()), "--public-keys", &keys, "--trail-arn", &spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"],
        &offline_env(),
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.error_kinds(), ["unchecked"], "{}", run.stdout);
}

// ---- Issue 12

/// `--concurrency` said "most object requests in flight at once", but each target ran its own
/// digest and log-file streams under the bound: up to 2 × (regions and accounts at once) times it.
/// Now one budget holds across kinds and targets.
#[test]
fn concurrency_bounds_requests_across_digests_log_files_and_regions_issue_12() {
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use trailproof::source::{dir::DirSource, Body, Object, Source, SourceError};

    /// A remote-like source over a directory that counts requests in flight, from `get` until the
    /// body is dropped.
    struct Counting {
        dir: DirSource,
        now: Arc<AtomicUsize>,
        max: Arc<AtomicUsize>,
    }
    /// A body that ends a request's count when dropped.
    struct Tracked(std::io::Cursor<Vec<u8>>, Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.1.fetch_sub(1, Ordering::SeqCst);
        }
    }
    impl tokio::io::AsyncRead for Tracked {
        fn poll_read(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> std::task::Poll<std::io::Result<()>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }
    #[async_trait::async_trait]
    impl Source for Counting {
        async fn list(&self, bucket: &str, prefix: &str, start_after: Option<&str>, stop: &(dyn for<'k> Fn(&'k str) -> bool + Sync)) -> Result<Vec<String>, SourceError> {
            self.dir.list(bucket, prefix, start_after, stop).await
        }
        async fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
            self.dir.list_prefixes(bucket, prefix).await
        }
        async fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(n, Ordering::SeqCst);
            // A little latency, so that requests overlap as they do against S3.
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            let object = match self.dir.get(bucket, key).await {
                Ok(o) => o,
                Err(e) => {
                    self.now.fetch_sub(1, Ordering::SeqCst);
                    return Err(e);
                }
            };
            let Body::File(mut file) = object.body else { panic!("a directory gives files") };
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
            Ok(Object { body: Body::Stream(Box::pin(Tracked(std::io::Cursor::new(bytes), self.now.clone()))), ..object })
        }
        fn describe(&self) -> String {
            self.dir.describe()
        }
    }

    let trails = multi("budget", None, &["111122223333"], &["us-east-1", "us-west-2"], |_| {});
    let dir = tempfile::tempdir().unwrap();
    for t in &trails {
        t.write_dir(dir.path()).unwrap();
    }
    let by_region: serde_json::Map<String, serde_json::Value> =
        ["us-east-1", "us-west-2"].iter().map(|r| (r.to_string(), trailproof::sim::public_keys(&keys(r)).to_list_public_keys_json())).collect();
    let keys = trailproof::keysource::FileKeys::parse(serde_json::Value::Object(by_region).to_string().as_bytes()).unwrap();
    let s = &trails[0].spec;
    let range = trailproof::time::Range { start: s.start, end: s.start + chrono::Duration::hours(s.hours as i64) };
    let jobs: Vec<_> = trails.iter().map(|t| trailproof::pipeline::Job::new(t.spec.target(), range)).collect();
    let (now, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let report = runtime().block_on(async {
        let source = Arc::new(Counting { dir: DirSource::new(dir.path()), now: now.clone(), max: max.clone() });
        let options = trailproof::pipeline::Options { concurrency: 4, ..trailproof::pipeline::Options::default() };
        let ctx = trailproof::pipeline::Context::new(source, &keys, None, options, false);
        trailproof::pipeline::validate(&ctx, &jobs, range).await
    });
    assert_eq!(report.verdict, trailproof::report::Verdict::Valid, "{:?}", report.findings);
    assert!(report.summary.log_files.valid > 100, "too few log files to overlap: {:?}", report.summary);
    let max = max.load(Ordering::SeqCst);
    assert!(max <= 4, "{max} requests in flight with --concurrency 4");
    assert!(max >= 3, "only {max} requests in flight: the budget was not used");
}

/// Found in stop 21: the baseline tests wiped the shared emulator (moto's reset) to start each
/// from an empty account, deleting the buckets other tests were seeding at that moment
/// (`export_then_validate_offline_round_trip` failed with NoSuchBucket when run beside them).
/// They now wipe an emulator of their own.
#[test]
fn baseline_tests_wipe_only_their_own_emulator() {
    let witness = bucket("wipe-witness");
    runtime().block_on(async { s3().await.create_bucket().bucket(&witness).send().await.unwrap() });
    std::thread::spawn(|| drop(crate::emulated::baseline::fresh_account())).join().unwrap();
    let survived = runtime().block_on(async { s3().await.head_bucket().bucket(&witness).send().await });
    assert!(survived.is_ok(), "a baseline test's wipe deleted another test's bucket: {survived:?}");
}
