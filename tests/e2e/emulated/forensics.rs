//! Forensic completeness, end to end against the emulator: every region and account, backfill
//! digests, a truncated tail, injected log files, export to an offline copy, and the evidence report.

use chrono::Duration;
use crate::common::*;
use serde_json::json;
use trailproof::sim::{SimTrail, TrailSpec};

const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "us-west-2"];

fn run_on(trail: &SimTrail, extra: &[&str], env: &[(&str, String)]) -> Run {
    let (start, end) = range(trail);
    let arn = trail.spec.trail_arn();
    let mut args = vec!["validate-logs", "--trail-arn", &arn, "--start-time", &start, "--end-time", &end, "--output", "json"];
    args.extend_from_slice(extra);
    trailproof(&args, env)
}

fn epoch(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp()
}

#[test]
fn clean_organization_trail_in_every_region_and_account_has_no_errors() {
    let bucket = bucket("org-clean");
    let org = runtime().block_on(async {
        let client = aws_sdk_organizations::Client::new(&sdk_config().await);
        match client.describe_organization().send().await {
            Ok(o) => o.organization().unwrap().id().unwrap().to_string(),
            Err(_) => client.create_organization().send().await.unwrap().organization().unwrap().id().unwrap().to_string(),
        }
    });
    let accounts = [ACCOUNT, "444455556666"];
    let trails = multi(&bucket, Some(&org), &accounts, &REGIONS, |s| {
        if s.account_id == ACCOUNT && s.region == "us-west-2" {
            s.backfill_hours = vec![5, 6];
            s.backfill_generated_at = Some(t("2026-03-10T04:05:06Z"));
        }
    });
    upload_all(&trails);
    runtime().block_on(async {
        aws_sdk_cloudtrail::Client::new(&sdk_config().await)
            .create_trail()
            .name(&bucket)
            .s3_bucket_name(&bucket)
            .is_organization_trail(true)
            .is_multi_region_trail(true)
            .enable_log_file_validation(true)
            .send()
            .await
            .unwrap();
    });
    let report = tempfile::NamedTempFile::new().unwrap();
    // No --organization-id: DescribeTrails says it is an organization trail, DescribeOrganization names it.
    let run = run_on(&trails[0], &["--all-regions", "--all-accounts", "--report", &path_str(report.path())], &aws_env());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.error_kinds().is_empty(), "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["regions"], json!(REGIONS));
    assert_eq!(doc["accounts"], json!(["111122223333", "444455556666"]));
    let digests: usize = trails.iter().map(|t| t.digest_keys.len()).sum();
    let logs: usize = trails.iter().map(|t| t.log_keys.len()).sum();
    assert_eq!(run.count("digests", "valid"), digests as u64);
    assert_eq!(run.count("backfill_digests", "valid"), 2);
    assert_eq!(run.count("log_files", "valid"), logs as u64);
    assert_eq!(doc["summary"]["unreferenced_log_files"], 0);

    // The evidence report: every object with its verdict and hash, and a self-hash that holds.
    let bytes = std::fs::read(report.path()).unwrap();
    assert!(trailproof::report::evidence::verify(&bytes));
    let evidence: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_fits_schema("validate-logs", &doc);
    assert_fits_schema("evidence-report", &evidence);
    assert_eq!(evidence["tool"]["name"], "trailproof");
    assert_eq!(evidence["parameters"]["trail_arn"], trails[0].spec.trail_arn());
    let objects = evidence["objects"].as_array().unwrap();
    assert_eq!(objects.len(), digests + 2 + logs);
    assert!(objects.iter().all(|o| o["verdict"] == "valid" && o["sha256"].as_str().is_some_and(|h| h.len() == 64)));
    assert_eq!(objects.iter().filter(|o| o["type"] == "backfill_digest").count(), 2);
    let mut tampered = bytes.clone();
    let at = tampered.iter().position(|b| *b == b'v').unwrap();
    tampered[at] = b'V';
    assert!(!trailproof::report::evidence::verify(&tampered));
}

#[test]
fn tampering_is_attributed_to_its_region_and_account() {
    let bucket = bucket("org-tamper");
    let mut trails = multi(&bucket, Some("o-exampleorg1"), &[ACCOUNT, "444455556666"], &REGIONS, |_| {});
    // Account 444455556666, us-west-2: a deleted digest.
    let victim = trails.iter_mut().find(|t| t.spec.account_id == "444455556666" && t.spec.region == "us-west-2").unwrap();
    let gone = victim.digest_keys[4].clone();
    victim.objects.remove(&gone);
    upload_all(&trails);
    let run = run_on(&trails[0], &["--all-regions", "--all-accounts", "--organization-id", "o-exampleorg1", "--s3-bucket", &bucket], &aws_env());
    assert_eq!(run.code, 1);
    let errors: Vec<_> = run.json()["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").cloned().collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["kind"], "digest_missing");
    assert_eq!(errors[0]["region"], "us-west-2");
    assert_eq!(errors[0]["account_id"], "444455556666");
    assert_eq!(errors[0]["key"], gone.as_str());
    // The per-region summary says where.
    let parts = run.json()["per_region"].as_array().unwrap().clone();
    assert_eq!(parts.len(), 6);
    let bad: Vec<_> = parts.iter().filter(|p| p["verdict"] != "valid").collect();
    assert_eq!(bad.len(), 1);
    assert_eq!((bad[0]["account_id"].as_str(), bad[0]["region"].as_str()), (Some("444455556666"), Some("us-west-2")));
    assert_eq!(bad[0]["summary"]["digests"]["invalid"], 1);
    // --account-id selects one member account.
    let run = run_on(&trails[0], &["--all-regions", "--account-id", ACCOUNT, "--organization-id", "o-exampleorg1", "--s3-bucket", &bucket], &aws_env());
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["accounts"], json!([ACCOUNT]));
}

#[test]
fn tampered_backfill_digest_is_counted_as_backfill() {
    let mut s = spec(&bucket("backfill-bad"));
    s.backfill_hours = vec![3, 4, 5];
    s.backfill_generated_at = Some(t("2026-03-12T10:00:00Z"));
    let mut trail = simulate(&s);
    assert_eq!(trail.backfill_keys.len(), 3);
    let newest = trail.backfill_keys[2].clone();
    trail.object(&newest).metadata.insert("signature".into(), "00".repeat(256));
    upload(&trail);
    let run = validate_s3(&trail, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.error_kinds(), ["digest_signature_invalid"]);
    assert_eq!(run.count("backfill_digests", "valid"), 2);
    assert_eq!(run.count("backfill_digests", "invalid"), 1);
    // A backfill digest without its generation timestamp cannot choose a key.
    let mut trail = simulate(&TrailSpec { bucket: bucket("backfill-no-stamp"), trail_name: bucket("backfill-no-stamp"), ..s });
    let k = trail.backfill_keys[0].clone();
    trail.object(&k).metadata.remove("backfill-generation-timestamp");
    upload(&trail);
    let run = validate_s3(&trail, &[]);
    assert_eq!(run.error_kinds(), ["digest_format_invalid"]);
}

#[test]
fn deleted_newest_digests_are_a_missing_tail() {
    let mut trail = simulate(&spec(&bucket("tail-cut")));
    let last_end = *trail.digest_ends.last().unwrap();
    for k in &trail.digest_keys[trail.digest_keys.len() - 2..] {
        trail.objects.remove(k);
    }
    upload(&trail);
    set_trail_status(&trail.spec.trail_name, json!({
        "IsLogging": true,
        "StartLoggingTime": epoch(trail.spec.start),
        "LatestDigestDeliveryTime": epoch(last_end + Duration::minutes(3)),
    }));
    let run = validate_s3(&trail, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    // The log files of the deleted digests are now unlisted too, outside any covered period.
    assert_eq!(run.error_kinds(), ["digest_tail_missing"]);
    let f = run.json()["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "digest_tail_missing").unwrap().clone();
    let expected_from = trailproof::time::display(trail.digest_ends[trail.digest_ends.len() - 3]);
    assert!(f["message"].as_str().unwrap().contains(&expected_from), "{f}");
}

#[test]
fn tail_cut_while_logging_is_caught_by_the_hourly_cadence() {
    let mut trail = simulate(&spec(&bucket("tail-cadence")));
    for k in &trail.digest_keys[trail.digest_keys.len() - 3..] {
        trail.objects.remove(k);
    }
    upload(&trail);
    // No delivery time known: only the cadence rule applies.
    set_trail_status(&trail.spec.trail_name, json!({ "IsLogging": true, "StartLoggingTime": epoch(trail.spec.start) }));
    let run = validate_s3(&trail, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.error_kinds(), ["digest_tail_missing"]);
}

#[test]
fn a_legitimate_stop_of_logging_is_not_a_missing_tail() {
    let trail = simulate(&spec(&bucket("tail-stopped")));
    let last_end = *trail.digest_ends.last().unwrap();
    upload(&trail);
    set_trail_status(&trail.spec.trail_name, json!({
        "IsLogging": false,
        "StopLoggingTime": epoch(last_end - Duration::minutes(5)),
        "LatestDigestDeliveryTime": epoch(last_end + Duration::minutes(2)),
    }));
    // The range runs on for hours after the stop: no digest was owed then.
    let (start, _) = range(&trail);
    let end = (last_end + Duration::hours(6)).to_rfc3339();
    let run = trailproof(
        &["validate-logs", "--trail-arn", &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"],
        &aws_env(),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.kinds(), ["digest_chain_gap"]);
}

/// A log file object with a realistic name delivered at `at`.
fn log_object(trail: &SimTrail, at: chrono::DateTime<chrono::Utc>, unique: &str) -> trailproof::sim::SimObject {
    let s = &trail.spec;
    let key = format!(
        "AWSLogs/{0}/CloudTrail/{1}/{2}{0}_CloudTrail_{1}_{3}_{unique}.json.gz",
        s.account_id, s.region, at.format("%Y/%m/%d/"), at.format("%Y%m%dT%H%MZ")
    );
    let body = trailproof::sim::gzip(br#"{"Records":[{"eventName":"DeleteTrail","eventSource":"cloudtrail.amazonaws.com"}]}"#);
    trailproof::sim::SimObject { bucket: s.bucket.clone(), key, body, metadata: Default::default() }
}

#[test]
fn injected_log_files_are_unreferenced() {
    let mut trail = simulate(&spec(&bucket("injected")));
    // One inside a period a digest covers (an error), one after the newest digest (a warning:
    // the last hour is not digested yet).
    let inside = log_object(&trail, trail.digest_ends[3] - Duration::minutes(20), "InJeCtEdInSiDe01");
    let after = log_object(&trail, *trail.digest_ends.last().unwrap() + Duration::minutes(10), "LaTeLoGaFtEr0001");
    for o in [inside.clone(), after.clone()] {
        trail.objects.insert(o.key.clone(), o);
    }
    upload(&trail);
    let (start, _) = range(&trail);
    let end = (*trail.digest_ends.last().unwrap() + Duration::minutes(30)).to_rfc3339();
    let run = trailproof(
        &["validate-logs", "--trail-arn", &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"],
        &aws_env(),
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let findings = run.json()["findings"].as_array().unwrap().clone();
    let unref: Vec<_> = findings.iter().filter(|f| f["kind"] == "log_unreferenced").collect();
    assert_eq!(unref.len(), 2);
    assert_eq!((unref[0]["key"].as_str().unwrap(), unref[0]["severity"].as_str().unwrap()), (inside.key.as_str(), "error"));
    assert_eq!((unref[1]["key"].as_str().unwrap(), unref[1]["severity"].as_str().unwrap()), (after.key.as_str(), "warning"));
    assert_eq!(run.json()["summary"]["unreferenced_log_files"], 2);
}

/// No AWS endpoint is reachable.
fn offline_env() -> Vec<(&'static str, String)> {
    vec![("AWS_ENDPOINT_URL", "http://127.0.0.1:9".into()), ("AWS_EC2_METADATA_DISABLED", "true".into()), ("AWS_MAX_ATTEMPTS", "1".into())]
}

#[test]
fn export_then_validate_offline_round_trip() {
    let bucket = bucket("export");
    let mut trails = multi(&bucket, None, &[ACCOUNT], &["us-east-1", "us-west-2"], |_| {});
    let injected = log_object(&trails[0], trails[0].digest_ends[3] - Duration::minutes(20), "InJeCtEdExPoRt01");
    trails[0].objects.insert(injected.key.clone(), injected.clone());
    upload_all(&trails);
    create_trail(&trails[0]);
    let out = tempfile::tempdir().unwrap();
    let (start, end) = range(&trails[0]);
    let arn = trails[0].spec.trail_arn();
    let export = trailproof(
        &["export", "--trail-arn", &arn, "--start-time", &start, "--end-time", &end, "--all-regions", "--out", &path_str(out.path())],
        &aws_env(),
    );
    // The injected log file makes the validation while exporting invalid, not incomplete.
    assert_eq!(export.code, 0, "{}{}", export.stdout, export.stderr);
    assert!(export.stdout.contains("Exported "), "{}", export.stdout);

    // The manifest lists every object with the SHA-256 of the bytes on disk.
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    assert_fits_schema("export-manifest", &manifest);
    let objects = manifest["objects"].as_array().unwrap();
    let total: usize = trails.iter().map(|t| t.objects.len()).sum();
    assert_eq!(objects.len(), total, "every digest and log file, the injected one included");
    for o in objects {
        let bytes = std::fs::read(out.path().join(o["bucket"].as_str().unwrap()).join(o["key"].as_str().unwrap())).unwrap();
        assert_eq!(o["sha256"], hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)));
        assert_eq!(o["size"], bytes.len());
        assert!(o["etag"].is_string());
    }
    // GetTrailStatus is saved for the offline tail check, in its own field names.
    let status: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("trail-status.json")).unwrap()).unwrap();
    assert!(status.as_object().unwrap().contains_key("IsLogging"), "{status}");
    assert!(export.stdout.contains("--trail-status"), "{}", export.stdout);
    let keys: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("public-keys.json")).unwrap()).unwrap();
    assert_eq!(keys.as_object().unwrap().keys().collect::<Vec<_>>(), ["us-east-1", "us-west-2"]);

    // Online and offline agree.
    let online = run_on(&trails[0], &["--all-regions"], &aws_env());
    let keys_file = path_str(&out.path().join("public-keys.json"));
    let offline = run_on(&trails[0], &["--all-regions", "--source", &path_str(out.path()), "--public-keys", &keys_file], &offline_env());
    assert_eq!(offline.code, 1, "{}{}", offline.stdout, offline.stderr);
    assert_eq!(online.code, 1);
    assert_eq!(offline.json()["summary"], online.json()["summary"]);
    assert_eq!(offline.error_kinds(), ["log_unreferenced"]);
    assert_eq!(offline.json()["regions"], json!(["us-east-1", "us-west-2"]));

    // Tampering with the copy is caught.
    let log = &trails[1].log_keys[2];
    std::fs::write(out.path().join(&bucket).join(log), trailproof::sim::gzip(b"{\"Records\":[]}")).unwrap();
    let offline = run_on(&trails[0], &["--all-regions", "--source", &path_str(out.path()), "--public-keys", &keys_file], &offline_env());
    assert_eq!(offline.error_kinds(), ["log_hash_mismatch", "log_unreferenced"]);
}

#[test]
fn keys_export_writes_a_file_offline_validation_accepts() {
    let out = tempfile::NamedTempFile::new().unwrap();
    let run = trailproof(
        &["keys", "export", "--start-time", "2026-02-28T00:00:00Z", "--end-time", "2026-03-03T00:00:00Z", "--key-region", "us-east-1", "--out", &path_str(out.path())],
        &aws_env(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path()).unwrap()).unwrap();
    assert_eq!(file["us-east-1"]["PublicKeyList"].as_array().unwrap().len(), 2);
    let sample = TrailSpec::sample();
    let trail = simulate(&sample);
    let run = run_on(&trail, &["--source", &path_str(&root().join("testdata/sample")), "--public-keys", &path_str(out.path())], &offline_env());
    assert_eq!(run.code, 0, "{}", run.stdout);
}
