//! `trailproof backtest` and `trailproof events` on a simulated month with planted noise: a
//! switch-role AccessDenied storm, isolated root logins, and IAM activity arriving through
//! us-east-1 in a trail whose home is eu-west-1. Every expected count is worked out by hand below.
use serde_json::{json, Value};

use crate::common::*;
use trailproof::sim::SimTrail;

use trailproof::sim::noise::{self, END, START};

const ACCOUNT: &str = "111122223333";


struct Month {
    trail: SimTrail,
    dir: tempfile::TempDir,
    snapshot: std::path::PathBuf,
}

fn setup() -> Month {
    let trail = simulate(&noise::month());
    let dir = write_dir(&trail);
    let snapshot = dir.path().join("snapshot.json");
    std::fs::write(&snapshot, snapshot_text(&trail)).unwrap();
    Month { trail, dir, snapshot }
}

fn snapshot_text(trail: &SimTrail) -> String {
    serde_json::to_string_pretty(&noise::snapshot(&trail.spec)).unwrap() + "\n"
}

impl Month {
    fn run(&self, command: &str, extra: &[&str]) -> Run {
        let (dir, keys, arn) = (path_str(self.dir.path()), path_str(&root().join("keys/public-keys/eu-west-1.json")), self.trail.spec.trail_arn());
        let mut args = vec![command, "--source", &dir, "--s3-bucket", "tp-backtest", "--public-keys", &keys, "--trail-arn", &arn, "--start-time", START, "--end-time", END];
        args.extend_from_slice(extra);
        trailproof(&args, &offline_env())
    }

    fn backtest(&self, extra: &[&str]) -> Run {
        let snapshot = path_str(&self.snapshot);
        let mut args = vec!["--snapshot", &snapshot, "--output", "json", "--threshold-sweep", "1,5,10,20"];
        args.extend_from_slice(extra);
        self.run("backtest", &args)
    }
}

fn alarm_of<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["alarms"].as_array().unwrap().iter().find(|a| a["alarm_name"] == name).unwrap_or_else(|| panic!("no alarm {name} in {report}"))
}

fn counts(a: &Value) -> (u64, u64, u64) {
    (a["matched_events"].as_u64().unwrap(), a["breaching_periods"].as_u64().unwrap(), a["alarm_entries"].as_u64().unwrap())
}

#[test]
fn bundled_backtest_snapshot_is_what_the_simulator_writes() {
    // testdata/backtest-snapshot.json, the README's worked example, is generated, never edited.
    let trail = simulate(&noise::month());
    assert_eq!(std::fs::read_to_string(root().join("testdata/backtest-snapshot.json")).unwrap(), snapshot_text(&trail));
}

#[test]
fn backtest_counts_the_planted_noise_exactly() {
    let m = setup();
    let run = m.backtest(&[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_fits_schema("backtest", &report);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["evidence"]["verdict"], "valid");
    assert_eq!(report["evidence"]["log_files_unverified"], 0);
    assert_eq!(report["evidence"]["unverified_spans"], json!([]));
    assert_eq!(report["evidence"]["log_files_replayed"].as_u64().unwrap(), m.trail.log_keys.len() as u64);
    // (matched events, breaching periods, pages)
    // Storm 1 breaches 10 in two periods (17, 17; the 6 after does not), storm 2 in one.
    assert_eq!(counts(alarm_of(&report, "denied-storm")), (52, 3, 2));
    // At 1, storm 1's three periods are one run of ALARM; storm 2 is another.
    assert_eq!(counts(alarm_of(&report, "denied-any")), (52, 4, 2));
    // Three isolated logins, three pages.
    assert_eq!(counts(alarm_of(&report, "root-usage")), (3, 3, 3));
    // The root logins and the IAM calls are global events in us-east-1: 3 + 5 + 2 matched, in
    // 3 + 1 + 1 periods, each a page.
    assert_eq!(counts(alarm_of(&report, "outside-regions")), (10, 5, 5));
    let storm = alarm_of(&report, "denied-storm");
    assert_eq!(storm["top"]["eventName"], json!([["AssumeRole", 52]]));
    assert_eq!(storm["top"]["principal"], json!([[format!("arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice"), 52]]));
    assert_eq!(storm["top"]["errorCode"], json!([["AccessDenied", 52]]));
    assert_eq!(alarm_of(&report, "root-usage")["top"]["principal"], json!([[format!("arn:aws:iam::{ACCOUNT}:root"), 3]]));
    let sweep: Vec<(f64, u64)> = storm["sweep"].as_array().unwrap().iter().map(|p| (p["threshold"].as_f64().unwrap(), p["alarm_entries"].as_u64().unwrap())).collect();
    assert_eq!(sweep, [(1.0, 2), (5.0, 2), (10.0, 2), (20.0, 0)]);
    assert_eq!(storm["statistic"], "Sum");
    assert_eq!(storm["period_s"], 300);
    assert_eq!(storm["treat_missing_data"], "missing");
    assert_eq!(storm["filters"], json!([{"log_group": "CloudTrail/audit", "filter_name": "denied", "pattern": r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#}]));
    assert_eq!(report["filters_without_alarm"], json!([{"filter_name": "iam-attach", "log_group": "CloudTrail/audit", "matched_events": 7}]));
    // 2 pages over 30 days.
    let per_week = storm["entries_per_week"].as_f64().unwrap();
    assert!((per_week - 2.0 / (30.0 / 7.0)).abs() < 1e-9, "{per_week}");
}

#[test]
fn a_tampered_log_files_events_are_not_counted_and_its_span_is_reported() {
    let m = setup();
    // The log file holding the root login of the 12th.
    let planted = m.trail.log_keys.iter().find(|k| k.contains("PLANTED") && k.contains("/2026/03/12/")).unwrap();
    let path = m.dir.path().join("tp-backtest").join(planted);
    let mut body = trailproof::sim::gunzip(&std::fs::read(&path).unwrap());
    body.insert(1, b' ');
    std::fs::write(&path, trailproof::sim::gzip(&body)).unwrap();
    let run = m.backtest(&[]);
    assert_eq!(run.code, 1, "the evidence has an error finding: {}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_fits_schema("backtest", &report);
    assert_eq!(report["evidence"]["verdict"], "invalid");
    assert_eq!(report["evidence"]["log_files_unverified"], 1);
    assert_eq!(counts(alarm_of(&report, "root-usage")), (2, 2, 2));
    assert_eq!(counts(alarm_of(&report, "outside-regions")), (9, 4, 4));
    let spans = report["evidence"]["unverified_spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1, "{spans:?}");
    let (from, to) = (t(spans[0]["start_time"].as_str().unwrap()), t(spans[0]["end_time"].as_str().unwrap()));
    assert!(from <= t("2026-03-12T09:00:00Z") && t("2026-03-12T09:00:00Z") < to && to - from <= chrono::Duration::minutes(62), "{spans:?}");
    assert_eq!(spans[0]["region"], "eu-west-1");
    assert!(run.stderr.contains("log_hash_mismatch"), "{}", run.stderr);
}

#[test]
fn incomplete_evidence_is_exit_3_and_its_span_is_not_replayed() {
    let m = setup();
    // The newest digest without its signature metadata, and no successor to name it: unverifiable.
    let newest = m.trail.digest_keys.iter().max().unwrap();
    std::fs::remove_file(format!("{}.metadata.json", m.dir.path().join("tp-backtest").join(newest).display())).unwrap();
    let run = m.backtest(&[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["evidence"]["verdict"], "incomplete");
    let spans = report["evidence"]["unverified_spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(spans[0]["end_time"], END);
    // Nothing planted lies in the last hour: every count stands.
    assert_eq!(counts(alarm_of(&report, "denied-storm")), (52, 3, 2));
}

#[test]
fn a_proposed_baseline_is_tried_against_the_same_evidence() {
    let m = setup();
    let run = m.run("backtest", &["--baseline", "cis", "--output", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    // CIS 4.3 (root usage) at threshold 1 per 5 minutes.
    assert_eq!(counts(alarm_of(&report, "cis-4.3")).0, 3);
    assert_eq!(counts(alarm_of(&report, "cis-4.3")).2, 3);
    // CIS 4.1 counts every AccessDenied but the CIS exclusions.
    assert_eq!(counts(alarm_of(&report, "cis-4.1")).0, 52);
    let text = m.run("backtest", &["--baseline", "cis"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("cis-4.3") && text.stdout.contains("would have paged 3 times"), "{}", text.stdout);
}

#[test]
fn backtest_usage_errors_are_exit_2() {
    let m = setup();
    let foreign = m.dir.path().join("not-a-snapshot.json");
    std::fs::write(&foreign, "{}").unwrap();
    let run = m.run("backtest", &["--snapshot", &path_str(&foreign)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let other = m.dir.path().join("other-trail.json");
    std::fs::write(&other, snapshot_text(&m.trail).replace("trail/audit", "trail/other").replace("\"audit\"", "\"other\"")).unwrap();
    let run = m.run("backtest", &["--snapshot", &path_str(&other)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not in the account's trails"), "{}", run.stderr);
    let run = m.run("backtest", &["--baseline", "cis", "--threshold-sweep", "1,x"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn events_prints_verified_records_only_in_time_order_with_provenance() {
    let m = setup();
    let run = m.run("events", &["--filter", r#"{ $.userIdentity.type = "Root" }"#, "--provenance"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let times: Vec<&str> = lines.iter().map(|r| r["eventTime"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times.len(), 3);
    assert_eq!(sorted, ["2026-03-05T09:00:00Z", "2026-03-12T09:00:00Z", "2026-03-20T09:00:00Z"]);
    for r in &lines {
        let log_key = r["_trailproof"]["log_key"].as_str().unwrap();
        assert!(m.trail.log_keys.iter().any(|k| k == log_key), "{log_key}");
        assert!(m.trail.digest_keys.iter().any(|k| k == r["_trailproof"]["digest_key"].as_str().unwrap()));
    }
    // All records, each file's in eventTime order.
    let all = m.run("events", &[]);
    assert_eq!(all.code, 0);
    let storm: Vec<String> = all.stdout.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|r| r["errorCode"] == "AccessDenied").map(|r| r["eventTime"].as_str().unwrap().to_string()).collect();
    assert_eq!(storm.len(), 52);

    // A tampered file's records are never printed.
    let planted = m.trail.log_keys.iter().find(|k| k.contains("PLANTED") && k.contains("/2026/03/12/")).unwrap();
    let path = m.dir.path().join("tp-backtest").join(planted);
    let mut body = trailproof::sim::gunzip(&std::fs::read(&path).unwrap());
    body.insert(1, b' ');
    std::fs::write(&path, trailproof::sim::gzip(&body)).unwrap();
    let run = m.run("events", &["--filter", r#"{ $.userIdentity.type = "Root" }"#]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2);
    assert!(!run.stdout.contains("2026-03-12T09:00:00Z"));
}

/// Backtests a 3-hour us-east-1 trail with `planted` records against the CIS baseline.
fn cis_backtest_with(planted: Vec<Value>) -> Value {
    let mut spec = trailproof::sim::TrailSpec::new("tp-unusual", t("2026-03-01T00:17:42Z"), 3);
    spec.planted = planted;
    let trail = simulate(&spec);
    let dir = write_dir(&trail);
    let (dir, keys, arn) = (path_str(dir.path()), path_str(&root().join("keys/public-keys/us-east-1.json")), spec.trail_arn());
    let args = ["backtest", "--source", &dir, "--public-keys", &keys, "--trail-arn", &arn, "--start-time", "2026-03-01T00:17:42Z", "--end-time", "2026-03-01T03:17:42Z", "--baseline", "cis", "--output", "json"];
    let run = trailproof(&args, &offline_env());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    run.json()
}

#[test]
fn unusual_records_are_replayed_as_plain_ones() {
    // Root activity in two hours (so in two log files): plain, then with escapes in read and
    // unread strings, and, in the second file, an unread field nested deeper than the fast
    // record reading follows (it hands that whole file to serde_json).
    let root_at = |time: &str| json!({"eventTime": time, "eventVersion": "1.09", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9", "eventType": "AwsConsoleSignIn",
        "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "principalId": "111122223333"}});
    let plain = vec![root_at("2026-03-01T01:00:00Z"), root_at("2026-03-01T02:00:00Z")];
    let mut unusual = plain.clone();
    for record in &mut unusual {
        record["sourceIPAddress"] = json!("203.0.113.9 \"é\"\n\u{1F600}\\");
        record["userAgent"] = json!("tab\t \"quoted\" \u{1}");
        record["userIdentity"]["accessKeyId"] = json!("\"\\/\u{7f}");
    }
    let deep = (0..80).fold(json!(1), |inner, _| json!([inner]));
    unusual[1]["requestParameters"] = json!({"nested": deep});
    let (plain, unusual) = (cis_backtest_with(plain), cis_backtest_with(unusual));
    assert_eq!(plain["evidence"], unusual["evidence"]);
    for alarm in plain["alarms"].as_array().unwrap() {
        let name = alarm["alarm_name"].as_str().unwrap();
        assert_eq!(counts(alarm), counts(alarm_of(&unusual, name)), "{name}");
    }
    let root = alarm_of(&unusual, "cis-4.3");
    assert_eq!(counts(root).0, 2);
    // The escaped text is read as the text it stands for.
    assert_eq!(root["top"]["sourceIPAddress"], json!([["203.0.113.9 \"é\"\n\u{1F600}\\", 2]]));
}
