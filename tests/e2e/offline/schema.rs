//! `trailproof schema`: every JSON document the real commands write fits the schema the binary
//! prints for it (checked with a JSON Schema validator), and each schema is frozen per version.
use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::Value;
use trailproof::baseline::snapshot::*;
use trailproof::sim::TrailSpec;

use crate::common::*;


fn validate_dir(dir: &std::path::Path, trail: &trailproof::sim::SimTrail, report: &std::path::Path) -> Run {
    let (start, end) = range(trail);
    let keys = path_str(&root().join("testdata/public-keys.json"));
    trailproof(
        &["validate-logs", "--source", &path_str(dir), "--public-keys", &keys, "--trail-arn", &trail.spec.trail_arn(),
          "--start-time", &start, "--end-time", &end, "--output", "json", "--report", &path_str(report)],
        &offline_env(),
    )
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Each schema is committed as `schemas/{document}.v{schema_version}.json`: a change to a
/// document's shape changes its schema, fails here, and so forces the decision to bump the
/// version (README, "JSON output"). Regenerate with `trailproof schema DOCUMENT > schemas/…`.
#[test]
fn schemas_are_valid_and_frozen_per_version() {
    for document in ["validate-logs", "baseline", "evidence-report", "export-manifest", "backtest", "plan", "unit-report"] {
        let schema = schema(document);
        // The plan's version field is `plan_version`.
        let field = if document == "plan" { "plan_version" } else { "schema_version" };
        let version = schema["properties"][field]["const"].as_u64().unwrap_or_else(|| panic!("{document}: no schema_version const"));
        let path = root().join(format!("schemas/{document}.v{version}.json"));
        let committed: Value = serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap();
        assert!(committed == schema, "trailproof schema {document} differs from {}: the document changed; bump its schema_version (src/report/schema.rs) and commit the new schema", path.display());
    }
}

#[test]
fn schema_needs_a_known_document() {
    let run = trailproof(&["schema", "nonsense"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("validate-logs"), "{}", run.stderr);
}

#[test]
fn validate_logs_documents_fit_their_schemas() {
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");

    // The bundled sample: valid, with a gap warning.
    let sample = simulate(&TrailSpec::sample());
    let run = validate_dir(&root().join("testdata/sample"), &sample, &report);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["schema_version"], 1);
    assert_fits_schema("validate-logs", &run.json());
    assert_fits_schema("evidence-report", &read_json(&report));

    // Tampered: a changed log file, a deleted digest and a log file no digest lists, so findings
    // carry details of every shape.
    let mut trail = simulate(&spec("schema-tampered"));
    let log = trail.log_keys[3].clone();
    trail.rewrite_log(&log, |json| json.extend_from_slice(b" "));
    let dir = write_dir(&trail);
    std::fs::remove_file(dir.path().join(&trail.spec.bucket).join(&trail.digest_keys[5])).unwrap();
    let stray = dir.path().join(&trail.spec.bucket).join(trail.log_keys[7].replace(".json.gz", "-stray.json.gz"));
    std::fs::copy(dir.path().join(&trail.spec.bucket).join(&trail.log_keys[7]), &stray).unwrap();
    let run = validate_dir(dir.path(), &trail, &report);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert!(doc["findings"].as_array().unwrap().iter().any(|f| f["details"].is_object()), "{doc:#}");
    assert!(run.error_kinds().len() >= 2, "{:?}", run.error_kinds());
    assert_fits_schema("validate-logs", &doc);
    assert_fits_schema("evidence-report", &read_json(&report));
}

/// An account with something of every status: passes, failures, an unanswered API call (error)
/// and a waived check (skipped).
fn snapshot() -> AccountSnapshot {
    let group = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:trail");
    AccountSnapshot {
        taken_at: Utc::now(),
        region: "us-east-1".into(),
        trails: Fetched::Ok(vec![Trail {
            name: "main".into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"),
            home_region: "us-east-1".into(),
            is_multi_region: true,
            is_organization_trail: false,
            include_global_service_events: true,
            log_file_validation: true,
            kms_key_id: None,
            s3_bucket: None,
            cloudwatch_logs_log_group_arn: Some(format!("{group}:*")),
            status: Fetched::Ok(TrailStatus { is_logging: true, latest_cloudwatch_logs_delivery: None, latest_cloudwatch_logs_delivery_error: None }),
            selectors: Fetched::Ok(EventSelectors::default()),
        }]),
        buckets: BTreeMap::new(),
        log_groups: BTreeMap::from([(group, LogGroup { name: "trail".into(), region: "us-east-1".into(), metric_filters: Fetched::Error("AccessDenied: logs:DescribeMetricFilters".into()) })]),
        alarms: BTreeMap::from([("us-east-1".to_string(), Fetched::Error("AccessDenied: cloudwatch:DescribeAlarms".into()))]),
        topics: BTreeMap::new(),
    }
}

#[test]
fn baseline_documents_fit_their_schema() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, serde_json::to_vec(&snapshot()).unwrap()).unwrap();
    let baseline = dir.path().join("baseline.toml");
    let init = trailproof(&["baseline", "init", "--baseline", "essentials", "--out", &path_str(&baseline)], &[]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let text = std::fs::read_to_string(&baseline).unwrap();
    let waived = text.replace("\nexceptions = []\n", "\nexceptions = [{ check = \"trail.kms-encryption\", reason = \"the bucket policy restricts readers\" }]\n");
    assert_ne!(waived, text, "baseline init no longer writes `exceptions = []`");
    std::fs::write(&baseline, waived).unwrap();

    for choice in ["cis", "essentials", &path_str(&baseline)] {
        let run = trailproof(&["baseline", "--baseline", choice, "--snapshot", &path_str(&file), "--output", "json"], &offline_env());
        let doc = run.json();
        assert_eq!(run.code, 1, "{choice}: {}", run.stderr);
        assert_eq!(doc["schema_version"], 1);
        assert_fits_schema("baseline", &doc);
        let statuses: std::collections::BTreeSet<&str> = doc["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        let want: &[&str] = if choice.ends_with(".toml") { &["error", "fail", "pass", "skipped"] } else { &["error", "fail", "pass"] };
        assert_eq!(statuses.into_iter().collect::<Vec<_>>(), want, "{choice}: {doc:#}");
    }
}
