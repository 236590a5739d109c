//! The noise month: a simulated month of a trail with planted records of the kinds that make
//! CloudTrail alarms noisy (a switch-role AccessDenied storm, isolated root logins, IAM activity
//! arriving through us-east-1 in a trail whose home is eu-west-1), and an account snapshot with
//! filters and alarms on them. The backtest tests count pages against it by hand; the README's
//! worked example runs on it (`trailproof-sim noise-month`, `testdata/backtest-snapshot.json`).
use serde_json::{json, Value};

use super::TrailSpec;

const ACCOUNT: &str = "111122223333";
/// The month's range.
pub const START: &str = "2026-03-01T00:17:42Z";
pub const END: &str = "2026-03-31T00:17:42Z";

fn at(s: &str, plus_seconds: i64) -> String {
    let t = crate::time::parse_user_time(s).expect("constant time");
    crate::time::display(t + chrono::Duration::seconds(plus_seconds))
}

fn event(time: String, source: &str, name: &str, region: &str, identity: Value, extra: Value) -> Value {
    let mut record = json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": source, "eventName": name, "awsRegion": region,
        "sourceIPAddress": "198.51.100.7", "userIdentity": identity, "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT,
    });
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            record[k] = v;
        }
    }
    record
}

/// The planted records. Storm 1: 40 AccessDenied, 18 s apart from 10:00:10 (17 in 10:00-10:05,
/// 17 in 10:05-10:10, 6 in 10:10-10:15). Storm 2: 12 within 15:01-15:03 (one period). Three root
/// console logins, days apart. IAM AttachUserPolicy through us-east-1: 5 in 14:00-14:05 on the
/// 7th, 2 in 16:30-16:35 on the 15th.
pub fn planted() -> Vec<Value> {
    let alice = json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice"), "principalId": "AROADEV:alice"});
    let root = json!({"type": "Root", "arn": format!("arn:aws:iam::{ACCOUNT}:root"), "principalId": ACCOUNT});
    let admin = json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/admin/bob"), "principalId": "AROAADMIN:bob"});
    let denied = json!({"errorCode": "AccessDenied", "errorMessage": "not authorized to perform sts:AssumeRole"});
    let mut records = Vec::new();
    for i in 0..40 {
        records.push(event(at("2026-03-03T10:00:10Z", 18 * i), "sts.amazonaws.com", "AssumeRole", "eu-west-1", alice.clone(), denied.clone()));
    }
    for i in 0..12 {
        records.push(event(at("2026-03-10T15:01:00Z", 10 * i), "sts.amazonaws.com", "AssumeRole", "eu-west-1", alice.clone(), denied.clone()));
    }
    for day in ["2026-03-05", "2026-03-12", "2026-03-20"] {
        records.push(event(format!("{day}T09:00:00Z"), "signin.amazonaws.com", "ConsoleLogin", "us-east-1", root.clone(), json!({"eventType": "AwsConsoleSignIn"})));
    }
    for i in 0..5 {
        records.push(event(at("2026-03-07T14:00:00Z", 50 * i), "iam.amazonaws.com", "AttachUserPolicy", "us-east-1", admin.clone(), json!({})));
    }
    for i in 0..2 {
        records.push(event(at("2026-03-15T16:30:00Z", 60 * i), "iam.amazonaws.com", "AttachUserPolicy", "us-east-1", admin.clone(), json!({})));
    }
    records
}

/// The month's spec: 30 days of an eu-west-1 trail `audit` in bucket `tp-backtest`, with the
/// planted records.
pub fn month() -> TrailSpec {
    let start = crate::time::parse_user_time(START).expect("constant time");
    let mut spec = TrailSpec::new("tp-backtest", start, 720);
    spec.region = "eu-west-1".into();
    spec.home_region = "eu-west-1".into();
    spec.trail_name = "audit".into();
    spec.planted = planted();
    spec
}

fn filter(name: &str, pattern: &str, metric: &str) -> Value {
    json!({"name": name, "pattern": pattern, "transformations": [{"namespace": "Sec", "name": metric, "value": "1"}]})
}

fn alarm(name: &str, metric: &str, threshold: f64, treat: &str) -> Value {
    json!({"name": name, "arn": null, "namespace": "Sec", "metric_name": metric, "statistic": "Sum", "period": 300, "evaluation_periods": 1,
           "datapoints_to_alarm": null, "threshold": threshold, "comparison": "GreaterThanOrEqualToThreshold", "actions_enabled": true,
           "alarm_actions": [], "dimensions": [], "uses_metric_math": false, "treat_missing_data": treat})
}

/// The account as `baseline --save-snapshot` would have saved it: the trail's log group with four
/// filters (one without an alarm) and four alarms.
pub fn snapshot(trail: &TrailSpec) -> Value {
    let group = format!("arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:CloudTrail/audit");
    json!({
        "taken_at": END, "region": "eu-west-1",
        "trails": {"ok": [{
            "name": "audit", "arn": trail.trail_arn(), "home_region": "eu-west-1", "is_multi_region": true, "is_organization_trail": false,
            "include_global_service_events": true, "log_file_validation": true, "kms_key_id": null, "s3_bucket": "tp-backtest",
            "cloudwatch_logs_log_group_arn": format!("{group}:*"),
            "status": {"ok": {"is_logging": true, "latest_cloudwatch_logs_delivery": END, "latest_cloudwatch_logs_delivery_error": null}},
            "selectors": {"ok": {"advanced": [], "classic": []}}
        }]},
        "log_groups": {group.clone(): {"name": "CloudTrail/audit", "region": "eu-west-1", "metric_filters": {"ok": [
            filter("denied", r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#, "Denied"),
            filter("root", r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#, "Root"),
            filter("outside-regions", r#"{ $.awsRegion != "eu-west-1" }"#, "OutsideRegions"),
            filter("iam-attach", r#"{ $.eventSource = "iam.amazonaws.com" && $.eventName = "AttachUserPolicy" }"#, "IamAttach"),
        ]}}},
        "alarms": {"eu-west-1": {"ok": [
            alarm("denied-storm", "Denied", 10.0, "missing"),
            alarm("denied-any", "Denied", 1.0, "notBreaching"),
            alarm("root-usage", "Root", 1.0, "notBreaching"),
            alarm("outside-regions", "OutsideRegions", 1.0, "notBreaching"),
        ]}},
        "topics": {}
    })
}

