//! `trailproof baseline` end to end: accounts built in the moto emulator with the real AWS SDK,
//! judged by the real binary. Each test resets the emulator and builds its account from
//! scratch, so the tests take turns (one lock).

use std::sync::{Mutex, MutexGuard};

use crate::common::*;
use serde_json::{json, Value};
use trailproof::baseline::builtin::{self, Params};
use trailproof::baseline::Baseline;

const TRAIL: &str = "audit";
const BUCKET: &str = "audit-trail-logs";
const LOG_GROUP: &str = "CloudTrail/audit";
const NAMESPACE: &str = "SecurityAlerts";

fn log_group_arn() -> String {
    format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{LOG_GROUP}:*")
}

fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:us-east-1:{ACCOUNT}:{name}")
}

/// Takes the emulator for one test and wipes it: the emulator these tests keep to themselves
/// (a wipe of the shared one deleted other tests' buckets while they were being seeded).
pub fn fresh_account() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    let guard = TURN.lock().unwrap_or_else(|e| e.into_inner());
    resettable_emulator();
    let url = format!("{}/moto-api/reset", emulator().endpoint);
    let status = std::process::Command::new(python())
        .args(["-c", &format!("import urllib.request as u; u.urlopen(u.Request({url:?}, method='POST')).read()")])
        .status()
        .unwrap();
    assert!(status.success(), "moto reset failed");
    let _ = std::fs::remove_dir_all(emulator().state.path().join("deny"));
    let _ = std::fs::remove_dir_all(emulator().state.path().join("trail-status"));
    guard
}

struct Clients {
    cloudtrail: aws_sdk_cloudtrail::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    sns: aws_sdk_sns::Client,
    s3: aws_sdk_s3::Client,
}

async fn clients() -> Clients {
    let conf = sdk_config().await;
    Clients {
        cloudtrail: aws_sdk_cloudtrail::Client::new(&conf),
        logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
        cloudwatch: aws_sdk_cloudwatch::Client::new(&conf),
        sns: aws_sdk_sns::Client::new(&conf),
        s3: s3().await,
    }
}

/// An alarm on `namespace`/`metric` (threshold >= 1 in 300 s) notifying `topic`.
async fn put_alarm(c: &Clients, name: &str, namespace: &str, metric: &str, statistic: aws_sdk_cloudwatch::types::Statistic, actions_enabled: bool, topic: &str) {
    c.cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace(namespace)
        .metric_name(metric)
        .statistic(statistic)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold)
        .actions_enabled(actions_enabled)
        .alarm_actions(topic_arn(topic))
        .send()
        .await
        .unwrap();
}

/// A filter and its alarm for one rule, as an account would deploy them.
async fn deploy_rule(c: &Clients, id: &str, pattern: &str, topic: &str) {
    use aws_sdk_cloudwatchlogs::types::MetricTransformation;
    // moto adds a second filter of the same name where AWS replaces it.
    let _ = c.logs.delete_metric_filter().log_group_name(LOG_GROUP).filter_name(id).send().await;
    c.logs
        .put_metric_filter()
        .log_group_name(LOG_GROUP)
        .filter_name(id)
        .filter_pattern(pattern)
        .metric_transformations(MetricTransformation::builder().metric_namespace(NAMESPACE).metric_name(id).metric_value("1").build().unwrap())
        .send()
        .await
        .unwrap();
    put_alarm(c, id, NAMESPACE, id, aws_sdk_cloudwatch::types::Statistic::Sum, true, topic).await;
}

/// An account that meets `baseline`: a hardened, logging multi-region trail delivering to
/// CloudWatch Logs, and every rule's reference filter with a Sum alarm notifying a topic with a
/// confirmed subscription.
fn compliant_account(baseline: &Baseline) {
    runtime().block_on(async {
        let c = clients().await;
        c.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        c.s3.put_public_access_block()
            .bucket(BUCKET)
            .public_access_block_configuration(
                aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        c.s3.put_bucket_versioning()
            .bucket(BUCKET)
            .versioning_configuration(aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Enabled).build())
            .send()
            .await
            .unwrap();
        c.logs.create_log_group().log_group_name(LOG_GROUP).send().await.unwrap();
        c.cloudtrail
            .create_trail()
            .name(TRAIL)
            .s3_bucket_name(BUCKET)
            .is_multi_region_trail(true)
            .include_global_service_events(true)
            .enable_log_file_validation(true)
            .cloud_watch_logs_log_group_arn(log_group_arn())
            .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/CloudTrailToLogs"))
            .kms_key_id(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/0f3e8a52-0000-4000-8000-000000000001"))
            .send()
            .await
            .unwrap();
        c.cloudtrail.start_logging().name(TRAIL).send().await.unwrap();
        c.cloudtrail
            .put_event_selectors()
            .trail_name(TRAIL)
            .event_selectors(aws_sdk_cloudtrail::types::EventSelector::builder().read_write_type(aws_sdk_cloudtrail::types::ReadWriteType::All).include_management_events(true).build())
            .send()
            .await
            .unwrap();
        c.sns.create_topic().name("security-alerts").send().await.unwrap();
        c.sns.subscribe().topic_arn(topic_arn("security-alerts")).protocol("sqs").endpoint(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:security-inbox")).send().await.unwrap();
        for rule in &baseline.rules {
            deploy_rule(&c, &rule.id, &rule.reference, "security-alerts").await;
        }
    });
    set_trail_status(TRAIL, json!({"LatestCloudWatchLogsDeliveryTime": chrono::Utc::now().timestamp() - 600}));
}

fn cis() -> Baseline {
    builtin::cis(&Params::default())
}

fn run_baseline(args: &[&str]) -> Run {
    let mut all = vec!["baseline"];
    all.extend_from_slice(args);
    trailproof(&all, &aws_env())
}

/// The results, by check ID → (status, evidence).
fn statuses(run: &Run) -> Vec<(String, String, String)> {
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr));
    v["results"].as_array().unwrap().iter().map(|r| (r["id"].as_str().unwrap().to_string(), r["status"].as_str().unwrap().to_string(), r["evidence"].as_str().unwrap().to_string())).collect()
}

/// Asserts that exactly the `failing` checks fail (the rest pass), and returns their evidence.
fn assert_only_failures(run: &Run, failing: &[&str]) -> Vec<String> {
    let results = statuses(run);
    let failed: Vec<&str> = results.iter().filter(|r| r.1 != "pass").map(|r| r.0.as_str()).collect();
    assert_eq!(failed, failing, "{}", run.stdout);
    assert!(results.iter().filter(|r| r.1 != "pass").all(|r| r.1 == "fail"), "{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.stderr);
    results.into_iter().filter(|r| r.1 != "pass").map(|r| r.2).collect()
}

#[test]
fn compliant_account_passes_cis() {
    let _turn = fresh_account();
    compliant_account(&cis());
    let run = run_baseline(&["--baseline", "cis", "--output", "json"]);
    let results = statuses(&run);
    assert!(results.iter().all(|r| r.1 == "pass"), "{}", run.stdout);
    // 7 trail checks (bucket versioning, MFA delete and Object Lock are not CIS controls) and 3
    // per rule.
    assert_eq!(results.len(), 7 + 15 * 3, "{}", run.stdout);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["summary"], json!({"pass": 52, "fail": 0, "error": 0, "skipped": 0}));
}

#[test]
fn compliant_account_passes_essentials_and_its_baseline_file() {
    let _turn = fresh_account();
    let params = ["--param", "allowed_ips=198.51.100.0,198.51.100.1", "--param", "home_region=eu-west-1"];
    let mut p = Params::default();
    p.set("allowed_ips=198.51.100.0,198.51.100.1").unwrap();
    p.set("home_region=eu-west-1").unwrap();
    compliant_account(&builtin::essentials(&p));
    let run = run_baseline(&[&["--baseline", "essentials", "--output", "json"][..], &params].concat());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(statuses(&run).len(), 8 + 7 * 3);

    // The same baseline as an editable file gives the same verdicts.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("essentials.toml");
    let init = run_baseline(&[&["init", "--baseline", "essentials", "--out", &path_str(&file)][..], &params].concat());
    assert_eq!(init.code, 0, "{}", init.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# trailproof baseline"), "{text}");
    let from_file = run_baseline(&["--baseline", &path_str(&file), "--output", "json"]);
    assert_eq!(from_file.code, 0, "{}{}", from_file.stdout, from_file.stderr);
    assert_eq!(statuses(&from_file), statuses(&run));

    // Against the default parameters the deployed IP filter has a different meaning.
    let default = run_baseline(&["--baseline", "essentials", "--output", "json"]);
    let evidence = assert_only_failures(&default, &["essentials.console-login-untrusted-ip.filter", "essentials.console-login-untrusted-ip.alarm", "essentials.console-login-untrusted-ip.notification", "essentials.create-outside-home-region.filter", "essentials.create-outside-home-region.alarm", "essentials.create-outside-home-region.notification"]);
    assert!(evidence[0].contains("198.51.100"), "{evidence:?}");
}

#[test]
fn missing_filter_fails_its_filter_check_and_the_links_after_it() {
    let _turn = fresh_account();
    compliant_account(&cis());
    runtime().block_on(async { clients().await.logs.delete_metric_filter().log_group_name(LOG_GROUP).filter_name("cis-4.3").send().await.unwrap() });
    let run = run_baseline(&["--output", "json"]);
    let evidence = assert_only_failures(&run, &["cis-4.3.filter", "cis-4.3.alarm", "cis-4.3.notification"]);
    // The closest filter is 4.2's (it catches root's console login, one of 4.3's events).
    assert!(evidence[0].contains(r#"no metric filter has the expected meaning; closest: filter "cis-4.2""#), "{evidence:?}");
    assert!(evidence[1].contains("see cis-4.3.filter"), "{evidence:?}");
}

#[test]
fn filter_with_or_where_and_was_meant_fails_with_the_exposing_events() {
    let _turn = fresh_account();
    compliant_account(&cis());
    runtime().block_on(async {
        let c = clients().await;
        deploy_rule(&c, "cis-4.7", "{($.eventSource = kms.amazonaws.com) || (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }", "security-alerts").await;
    });
    let run = run_baseline(&["--output", "json"]);
    let evidence = assert_only_failures(&run, &["cis-4.7.filter", "cis-4.7.alarm", "cis-4.7.notification"]);
    assert!(evidence[0].contains("matches 3 forbidden event(s)"), "{evidence:?}");
    assert!(!evidence[0].contains("cis-4.1"), "unrelated filters are not shown: {evidence:?}");
    assert!(evidence[0].contains(r#""eventName":"Encrypt""#), "{evidence:?}");
}

#[test]
fn reformatted_and_noise_tuned_filters_pass() {
    let _turn = fresh_account();
    compliant_account(&cis());
    runtime().block_on(async {
        let c = clients().await;
        // Clauses reordered, quotes added, spacing changed.
        deploy_rule(&c, "cis-4.7", r#"{(($.eventName="ScheduleKeyDeletion")||($.eventName = "DisableKey"))&&($.eventSource="kms.amazonaws.com")}"#, "security-alerts").await;
        // CIS v1.2's pattern, without v3.0's noise cuts: still the same meaning on the corpus.
        deploy_rule(&c, "cis-4.1", r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#, "security-alerts").await;
        // v3.0's tuned variant of 4.2 (IAM users, successful logins only).
        deploy_rule(
            &c,
            "cis-4.2",
            r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#,
            "security-alerts",
        )
        .await;
    });
    let run = run_baseline(&["--output", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn alarm_on_the_wrong_namespace_fails_the_alarm_check() {
    let _turn = fresh_account();
    compliant_account(&cis());
    runtime().block_on(async {
        let c = clients().await;
        c.cloudwatch.delete_alarms().alarm_names("cis-4.5").send().await.unwrap();
        put_alarm(&c, "cis-4.5-elsewhere", "CISBenchmark", "cis-4.5", aws_sdk_cloudwatch::types::Statistic::Sum, true, "security-alerts").await;
    });
    let run = run_baseline(&["--output", "json"]);
    let evidence = assert_only_failures(&run, &["cis-4.5.alarm", "cis-4.5.notification"]);
    assert!(evidence[0].contains("cis-4.5-elsewhere watches CISBenchmark/cis-4.5 (wrong namespace)"), "{evidence:?}");
}

#[test]
fn average_instead_of_sum_fails_the_alarm_check() {
    let _turn = fresh_account();
    compliant_account(&cis());
    runtime().block_on(async {
        let c = clients().await;
        put_alarm(&c, "cis-4.6", NAMESPACE, "cis-4.6", aws_sdk_cloudwatch::types::Statistic::Average, true, "security-alerts").await;
    });
    let run = run_baseline(&["--output", "json"]);
    let evidence = assert_only_failures(&run, &["cis-4.6.alarm", "cis-4.6.notification"]);
    assert!(evidence[0].contains("statistic is Average (expected Sum)"), "{evidence:?}");
}

#[test]
fn disabled_alarm_actions_fail_the_alarm_check() {
    let _turn = fresh_account();
    compliant_account(&cis());
    runtime().block_on(async {
        // moto answers DisableAlarmActions with a 500; putting the alarm again does the same.
        let c = clients().await;
        put_alarm(&c, "cis-4.8", NAMESPACE, "cis-4.8", aws_sdk_cloudwatch::types::Statistic::Sum, false, "security-alerts").await;
    });
    let run = run_baseline(&["--output", "json"]);
    let evidence = assert_only_failures(&run, &["cis-4.8.alarm", "cis-4.8.notification"]);
    assert!(evidence[0].contains("actions are disabled"), "{evidence:?}");
}

#[test]
fn topic_without_a_confirmed_subscription_fails_the_notification_check() {
    let _turn = fresh_account();
    compliant_account(&cis());
    runtime().block_on(async {
        let c = clients().await;
        c.sns.create_topic().name("unread-alerts").send().await.unwrap();
        c.sns.subscribe().topic_arn(topic_arn("unread-alerts")).protocol("email").endpoint("secops@example.com").send().await.unwrap();
        deploy_rule(&c, "cis-4.9", &cis().rules[8].reference, "unread-alerts").await;
        deploy_rule(&c, "cis-4.10", &cis().rules[9].reference, "deleted-topic").await;
    });
    let run = run_baseline(&["--output", "json"]);
    let evidence = assert_only_failures(&run, &["cis-4.9.notification", "cis-4.10.notification"]);
    assert!(evidence[0].contains("unread-alerts has no confirmed subscription (1 pending confirmation)"), "{evidence:?}");
    assert!(evidence[1].contains("deleted-topic, which does not exist"), "{evidence:?}");
}

#[test]
fn trail_not_logging_and_validation_off_fail_their_checks() {
    let _turn = fresh_account();
    compliant_account(&cis());
    runtime().block_on(async {
        let c = clients().await;
        c.cloudtrail.stop_logging().name(TRAIL).send().await.unwrap();
        c.cloudtrail.update_trail().name(TRAIL).enable_log_file_validation(false).send().await.unwrap();
    });
    let run = run_baseline(&["--output", "json"]);
    let evidence = assert_only_failures(&run, &["trail.multi-region-logging", "trail.log-file-validation"]);
    assert!(evidence[0].contains("is not logging"), "{evidence:?}");
}

#[test]
fn denied_reads_are_errors_never_passes() {
    let _turn = fresh_account();
    compliant_account(&cis());
    let deny = emulator().state.path().join("deny");
    std::fs::create_dir_all(&deny).unwrap();
    std::fs::write(deny.join("DescribeMetricFilters"), "").unwrap();
    let run = run_baseline(&["--output", "json"]);
    let results = statuses(&run);
    let rule_results: Vec<_> = results.iter().filter(|r| r.0.starts_with("cis-")).collect();
    assert_eq!(rule_results.len(), 45);
    assert!(rule_results.iter().all(|r| r.1 == "error" && r.2.contains("DescribeMetricFilters")), "{}", run.stdout);
    assert!(results.iter().filter(|r| r.0.starts_with("trail.")).all(|r| r.1 == "pass"));
    assert_eq!(run.code, 3, "{}", run.stderr);

    std::fs::remove_file(deny.join("DescribeMetricFilters")).unwrap();
    std::fs::write(deny.join("DescribeTrails"), "").unwrap();
    let run = run_baseline(&["--output", "json"]);
    assert!(statuses(&run).iter().all(|r| r.1 == "error"), "{}", run.stdout);
    assert_eq!(run.code, 3);
}

#[test]
fn exceptions_waive_checks_until_they_expire() {
    let _turn = fresh_account();
    let mut baseline = cis();
    compliant_account(&baseline);
    runtime().block_on(async { clients().await.logs.delete_metric_filter().log_group_name(LOG_GROUP).filter_name("cis-4.15").send().await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cis.toml");
    baseline.exceptions.push(trailproof::baseline::model::Exception { check: "cis-4.15.*".into(), resource: None, reason: "no AWS Organizations here".into(), expires: None });
    std::fs::write(&file, baseline.to_toml()).unwrap();
    let run = run_baseline(&["--baseline", &path_str(&file), "--output", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["summary"]["skipped"], 3);

    baseline.exceptions[0].expires = Some(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
    std::fs::write(&file, baseline.to_toml()).unwrap();
    let run = run_baseline(&["--baseline", &path_str(&file), "--output", "json"]);
    let evidence = assert_only_failures(&run, &["cis-4.15.filter", "cis-4.15.alarm", "cis-4.15.notification"]);
    assert!(evidence[0].contains("expired 2020-01-01"), "{evidence:?}");
}

#[test]
fn junit_and_sarif_reports_for_ci() {
    let _turn = fresh_account();
    compliant_account(&cis());
    runtime().block_on(async { clients().await.cloudtrail.update_trail().name(TRAIL).enable_log_file_validation(false).send().await.unwrap() });
    let junit = run_baseline(&["--output", "junit"]);
    assert_eq!(junit.code, 1);
    assert!(junit.stdout.contains(r#"<testsuite name="cis" tests="52" failures="1" errors="0" skipped="0">"#), "{}", junit.stdout);
    assert!(junit.stdout.contains(r#"<testcase classname="cis" name="trail.log-file-validation">"#), "{}", junit.stdout);
    let sarif = run_baseline(&["--output", "sarif"]);
    let v: Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 1);
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "trail.log-file-validation");
}

#[test]
fn snapshots_can_be_saved_and_judged_offline() {
    let _turn = fresh_account();
    compliant_account(&cis());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.json");
    let online = run_baseline(&["--output", "json", "--save-snapshot", &path_str(&file)]);
    assert_eq!(online.code, 0, "{}", online.stdout);
    assert_fits_schema("baseline", &online.json());
    // Offline: no endpoint at all.
    let offline = trailproof(&["baseline", "--snapshot", &path_str(&file), "--output", "json"], &[]);
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    assert_eq!(statuses(&offline), statuses(&online));
    let bad = trailproof(&["baseline", "--snapshot", "/nonexistent.json"], &[]);
    assert_eq!(bad.code, 2);
}

#[test]
fn unusable_baselines_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    // The reference pattern misses its own must_match event: the corpus is wrong.
    std::fs::write(
        &file,
        r#"name = "bad"
[[rules]]
id = "x"
title = "X"
reference = '{ $.eventName = CreateUser }'
must_match = ['{"eventName": "DeleteUser"}']
[rules.alarm]
"#,
    )
    .unwrap();
    let run = trailproof(&["baseline", "--baseline", &path_str(&file)], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("does not match must_match event #0"), "{}", run.stderr);
    let run = trailproof(&["baseline", "--baseline", "nist"], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a built-in baseline (cis, essentials)"), "{}", run.stderr);
    let run = trailproof(&["baseline", "--baseline", "essentials", "--param", "colour=blue"], &[]);
    assert_eq!(run.code, 2);
}

#[test]
fn every_denied_read_makes_its_checks_errors() {
    let _turn = fresh_account();
    compliant_account(&cis());
    let deny = emulator().state.path().join("deny");
    std::fs::create_dir_all(&deny).unwrap();
    // (denied action, checks that depend on it: ID suffix or prefix)
    let cases: [(&str, &[&str]); 5] = [
        ("GetEventSelectors", &["trail.management-events"]),
        ("GetTrailStatus", &["trail.multi-region-logging", "trail.cloudwatch-logs"]),
        ("DescribeAlarms", &[".alarm", ".notification"]),
        ("GetTopicAttributes", &[".notification"]),
        ("ListSubscriptionsByTopic", &[".notification"]),
    ];
    for (action, dependent) in cases {
        std::fs::write(deny.join(action), "").unwrap();
        let run = run_baseline(&["--output", "json"]);
        std::fs::remove_file(deny.join(action)).unwrap();
        let results = statuses(&run);
        let hit: Vec<_> = results.iter().filter(|r| dependent.iter().any(|d| r.0.starts_with(d) || r.0.ends_with(d))).collect();
        assert!(!hit.is_empty(), "{action}");
        for r in &hit {
            assert_eq!(r.1, "error", "{action}: {} is {} ({})", r.0, r.1, r.2);
            assert!(r.2.contains(action), "{action}: {} evidence {}", r.0, r.2);
        }
        assert!(results.iter().filter(|r| !hit.contains(r)).all(|r| r.1 == "pass"), "{action}: {}", run.stdout);
        assert_eq!(run.code, 3, "{action}");
    }
}

/// deploy/iam/baseline.json allows every call `baseline` makes on a compliant account, on its
/// resource, and nothing it does not call (emulated::iam has the check and the other commands).
#[test]
fn baseline_calls_only_what_its_iam_policy_allows() {
    let _turn = fresh_account();
    compliant_account(&cis());
    let key_id = "AKIATPBASELINE000001";
    let mut env: Vec<(&str, String)> = aws_env().into_iter().filter(|(k, _)| *k != "AWS_ACCESS_KEY_ID").collect();
    env.push(("AWS_ACCESS_KEY_ID", key_id.into()));
    let run = trailproof(&["baseline", "--baseline", "cis", "--output", "json"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    super::iam::assert_policy_fits(&emulator().state.path().join("iam-actions.log"), key_id, "baseline.json", &[("TRAIL-BUCKET", BUCKET)], &[]);
}

/// backtest against the live (emulated) account: the trail's CloudWatch Logs group's CIS filters
/// and alarms, read with DescribeMetricFilters and DescribeAlarms; the evidence read from S3 and
/// authenticated with ListPublicKeys.
#[test]
fn backtest_replays_s3_evidence_through_the_accounts_own_alarms() {
    let _turn = fresh_account();
    compliant_account(&cis());
    let mut spec = trailproof::sim::TrailSpec::new(BUCKET, t("2026-03-01T00:17:42Z"), 48);
    spec.trail_name = TRAIL.into();
    let root = json!({"type": "Root", "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "principalId": ACCOUNT});
    let alice = json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice")});
    for at in ["2026-03-01T05:00:00Z", "2026-03-01T20:00:00Z", "2026-03-02T09:00:00Z"] {
        spec.planted.push(json!({"eventTime": at, "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
            "eventType": "AwsConsoleSignIn", "userIdentity": root, "sourceIPAddress": "198.51.100.9"}));
    }
    for i in 0..40 {
        let at = trailproof::time::display(t("2026-03-01T10:00:10Z") + chrono::Duration::seconds(18 * i));
        spec.planted.push(json!({"eventTime": at, "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "awsRegion": "us-east-1",
            "eventType": "AwsApiCall", "userIdentity": alice, "sourceIPAddress": "198.51.100.7", "errorCode": "AccessDenied"}));
    }
    let trail = simulate(&spec);
    upload_objects(&trail);
    let arn = format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{TRAIL}");
    let run = trailproof(&["backtest", "--trail-arn", &arn, "--start-time", "2026-03-01T00:17:42Z", "--end-time", "2026-03-03T00:17:42Z", "--output", "json"], &aws_env());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_fits_schema("backtest", &report);
    assert_eq!(report["evidence"]["verdict"], "valid");
    assert_eq!(report["evidence"]["log_files_replayed"].as_u64().unwrap(), trail.log_keys.len() as u64);
    let alarm = |name: &str| report["alarms"].as_array().unwrap().iter().find(|a| a["alarm_name"] == name).cloned().unwrap_or_else(|| panic!("no {name}: {report}"));
    let root_usage = alarm("cis-4.3");
    assert_eq!((root_usage["matched_events"].as_u64(), root_usage["alarm_entries"].as_u64()), (Some(3), Some(3)));
    assert_eq!(root_usage["filters"][0]["log_group"], LOG_GROUP);
    let unauthorized = alarm("cis-4.1");
    // One storm over three 5-minute periods: one page.
    assert_eq!((unauthorized["matched_events"].as_u64(), unauthorized["alarm_entries"].as_u64()), (Some(40), Some(1)));
    assert_eq!(report["alarms"].as_array().unwrap().len(), cis().rules.len());
}
