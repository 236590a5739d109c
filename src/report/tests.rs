//! The shared reporters on a baseline report: JUnit counts and escaping, SARIF, JSON shape.
use serde_json::json;

use super::*;
use crate::baseline::codes::{AlertPart, Code, TrailCheck};
use crate::baseline::{CheckResult, Status, Summary};

fn alert(rule: &str, part: AlertPart) -> Code {
    Code::Alert { rule: rule.into(), part }
}

fn report() -> BaselineReport {
    let pass = CheckResult::new(Code::Trail(TrailCheck::LogFileValidation), "Validation", "fix it").status(Status::Pass, "arn:t", "on");
    let fail = CheckResult::new(alert("cis-4.1", AlertPart::Filter), "CIS 4.1 <filter>", "add one").status(Status::Fail, "group", "misses \"x\" & <y>");
    let error = CheckResult::new(alert("cis-4.1", AlertPart::Alarm), "alarm", "").status(Status::Error, "-", "AccessDenied");
    let skip = CheckResult::new(alert("cis-4.15", AlertPart::Filter), "orgs", "").status(Status::Skipped, "-", "waived: no orgs");
    BaselineReport { baseline: "cis".into(), summary: Summary { pass: 1, fail: 1, error: 1, skipped: 1 }, results: vec![pass, fail, error, skip] }
}

#[test]
fn junit_counts_and_escapes() {
    let mut out = Vec::new();
    write_baseline(&report(), &cases::Origin::Builtin, Format::Junit, &mut out).unwrap();
    let xml = String::from_utf8(out).unwrap();
    assert!(xml.contains(r#"tests="4" failures="1" errors="1" skipped="1""#), "{xml}");
    assert!(xml.contains(r#"<failure type="cis-4.1.filter" message="misses &quot;x&quot; &amp; &lt;y&gt;">"#), "{xml}");
    assert!(xml.contains(r#"<testcase classname="cis" name="trail.log-file-validation"/>"#), "{xml}");
    assert!(xml.contains("<error type=\"cis-4.1.alarm\" message=\"AccessDenied\">"), "{xml}");
    assert!(xml.contains("<skipped message=\"waived: no orgs\"/>"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 4);
}

#[test]
fn sarif_lists_what_did_not_pass() {
    let v = sarif::document(&cases::of_baseline(&report(), &cases::Origin::Builtin));
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["ruleId"], "cis-4.1.filter");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[2]["suppressions"][0]["kind"], "external");
    assert_eq!(v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), 4);
}

#[test]
fn json_has_the_documented_shape() {
    let v = json::baseline_value(&report());
    assert_eq!(v["summary"], json!({"pass": 1, "fail": 1, "error": 1, "skipped": 1}));
    let keys: Vec<&String> = v["results"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["evidence", "id", "remediation", "resource", "status", "title"]);
    assert_eq!(v["results"][1]["status"], "fail");
}

#[test]
fn verdict_names_are_the_json_ones() {
    for v in [Verdict::Valid, Verdict::Invalid, Verdict::Incomplete] {
        assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
    }
}
