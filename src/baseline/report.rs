//! Reporters over one [`BaselineReport`]: text for people, JSON for pipelines, JUnit for CI
//! dashboards, SARIF for code-scanning UIs.
use std::io::{self, Write};

use serde_json::json;

use super::{BaselineReport, CheckResult, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BaselineFormat {
    Text,
    Json,
    Junit,
    Sarif,
}

pub fn write(report: &BaselineReport, format: BaselineFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        BaselineFormat::Text => text(report, out),
        BaselineFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &json_value(report))?;
            writeln!(out)
        }
        BaselineFormat::Junit => junit(report, out),
        BaselineFormat::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(report))?;
            writeln!(out)
        }
    }
}

fn text(report: &BaselineReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Baseline {}", report.baseline)?;
    for r in &report.results {
        let mark = match r.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
            Status::Skipped => "SKIP",
        };
        writeln!(out, "{mark:<5} {:<45} {}", r.id, r.title)?;
        if r.status != Status::Pass {
            writeln!(out, "      resource: {}", r.resource)?;
            writeln!(out, "      evidence: {}", r.evidence)?;
            if r.status == Status::Fail {
                writeln!(out, "      fix: {}", r.remediation)?;
            }
        }
    }
    let s = &report.summary;
    writeln!(out, "\n{} passed, {} failed, {} could not be evaluated, {} skipped by exception", s.pass, s.fail, s.error, s.skipped)
}

/// `{"summary": {pass, fail, error, skipped}, "results": [{id, title, status, resource, evidence, remediation}]}`
pub fn json_value(report: &BaselineReport) -> serde_json::Value {
    json!({
        "baseline": report.baseline,
        "summary": report.summary,
        "results": report.results,
    })
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One testsuite, one testcase per check: fail → `<failure>`, error → `<error>`, skipped →
/// `<skipped>`, as Jenkins, GitLab and GitHub test reporters read them.
fn junit(report: &BaselineReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="trailproof baseline" tests="{}" failures="{}" errors="{}" skipped="{}">"#,
        report.results.len(),
        s.fail,
        s.error,
        s.skipped
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}">"#,
        xml_escape(&report.baseline),
        report.results.len(),
        s.fail,
        s.error,
        s.skipped
    )?;
    for r in &report.results {
        let head = format!(r#"    <testcase classname="{}" name="{}""#, xml_escape(&report.baseline), xml_escape(&r.id));
        let body = |tag: &str| format!("      <{tag} message=\"{}\">{}</{tag}>", xml_escape(&r.evidence), xml_escape(&detail(r)));
        match r.status {
            Status::Pass => writeln!(out, "{head}/>")?,
            Status::Fail => writeln!(out, "{head}>\n{}\n    </testcase>", body("failure"))?,
            Status::Error => writeln!(out, "{head}>\n{}\n    </testcase>", body("error"))?,
            Status::Skipped => writeln!(out, "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>", xml_escape(&r.evidence))?,
        }
    }
    writeln!(out, "  </testsuite>\n</testsuites>")
}

fn detail(r: &CheckResult) -> String {
    format!("{}\nresource: {}\nevidence: {}\nremediation: {}", r.title, r.resource, r.evidence, r.remediation)
}

/// SARIF 2.1.0: one rule per check ID, one result per check that did not pass.
fn sarif(report: &BaselineReport) -> serde_json::Value {
    let mut rules: Vec<serde_json::Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in &report.results {
        if seen.insert(r.id.clone()) {
            rules.push(json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": r.title},
                "help": {"text": r.remediation},
            }));
        }
    }
    let results: Vec<serde_json::Value> = report
        .results
        .iter()
        .filter(|r| r.status != Status::Pass)
        .map(|r| {
            let level = match r.status {
                Status::Fail => "error",
                Status::Error => "warning",
                _ => "note",
            };
            let mut result = json!({
                "ruleId": r.id,
                "level": level,
                "message": {"text": format!("{}: {}", r.title, r.evidence)},
                "locations": [{"logicalLocations": [{"name": r.resource, "kind": "resource"}]}],
                "properties": {"status": r.status.as_str(), "remediation": r.remediation},
            });
            if r.status == Status::Skipped {
                result["suppressions"] = json!([{"kind": "external", "justification": r.evidence}]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "trailproof", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://github.com/trailproof/trailproof", "rules": rules}},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Summary;

    fn report() -> BaselineReport {
        let pass = CheckResult::new("trail.log-file-validation", "Validation", "fix it").status(Status::Pass, "arn:t", "on");
        let fail = CheckResult::new("cis-4.1.filter", "CIS 4.1 <filter>", "add one").status(Status::Fail, "group", "misses \"x\" & <y>");
        let error = CheckResult::new("cis-4.1.alarm", "alarm", "").status(Status::Error, "-", "AccessDenied");
        let skip = CheckResult::new("cis-4.15.filter", "orgs", "").status(Status::Skipped, "-", "waived: no orgs");
        BaselineReport { baseline: "cis".into(), summary: Summary { pass: 1, fail: 1, error: 1, skipped: 1 }, results: vec![pass, fail, error, skip] }
    }

    #[test]
    fn junit_counts_and_escapes() {
        let mut out = Vec::new();
        write(&report(), BaselineFormat::Junit, &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(xml.contains(r#"tests="4" failures="1" errors="1" skipped="1""#), "{xml}");
        assert!(xml.contains(r#"<failure message="misses &quot;x&quot; &amp; &lt;y&gt;">"#), "{xml}");
        assert!(xml.contains(r#"<testcase classname="cis" name="trail.log-file-validation"/>"#), "{xml}");
        assert!(xml.contains("<error message=\"AccessDenied\">"), "{xml}");
        assert!(xml.contains("<skipped message=\"waived: no orgs\"/>"), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 4);
    }

    #[test]
    fn sarif_lists_what_did_not_pass() {
        let v = sarif(&report());
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[0]["ruleId"], "cis-4.1.filter");
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[2]["suppressions"][0]["kind"], "external");
        assert_eq!(v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn json_has_the_documented_shape() {
        let v = json_value(&report());
        assert_eq!(v["summary"], json!({"pass": 1, "fail": 1, "error": 1, "skipped": 1}));
        let keys: Vec<&String> = v["results"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["evidence", "id", "remediation", "resource", "status", "title"]);
        assert_eq!(v["results"][1]["status"], "fail");
    }
}
