//! The one view the CI formats (JUnit, SARIF) take of any command's report: cases, each a rule (an
//! integrity finding kind or a baseline check code), an outcome, a place and what was seen.
//! validate-logs and baseline both become cases here, so both share one reporter per format.
//!
//! SARIF lists results: one case per finding (and per region's verdict) or per check. JUnit lists
//! tests in suites: for validate-logs one suite per account and region, holding one case per object
//! checked (failing with the findings about it) and one per finding about no single object (a gap,
//! a truncated tail); for baseline one suite holding one case per check.
use std::borrow::Cow;
use std::collections::HashMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use super::{ObjectRecord, ObjectType, ObjectVerdict, RegionSummary, Report, Verdict};
use crate::baseline::model::Lines;
use crate::baseline::{BaselineReport, CheckResult, Status};
use crate::finding::{Finding, Severity};

/// One result.
pub struct Case<'a> {
    /// The JUnit test name (unique enough to tell cases apart on a dashboard).
    pub name: Cow<'a, str>,
    pub rule: Rule<'a>,
    pub outcome: Outcome,
    pub location: Location<'a>,
    /// What was seen, in one line.
    pub message: Cow<'a, str>,
}

/// A JUnit test suite.
pub struct Suite<'a> {
    pub name: Cow<'a, str>,
    pub cases: Vec<Case<'a>>,
}

/// What a case is judged by.
pub struct Rule<'a> {
    pub id: Cow<'a, str>,
    pub title: Cow<'a, str>,
    pub description: &'static str,
    pub remediation: Cow<'a, str>,
}

/// Ordered from best to worst: an object with several findings takes its worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Pass,
    /// Waived by an exception.
    Skipped,
    /// Worth a look, not a failure (a chain gap where logging stopped).
    Warning,
    /// Could not be checked: the run is incomplete.
    Error,
    /// Proven wrong: tampering, a missing alarm.
    Fail,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Warning => "warning",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        }
    }
}

pub enum Location<'a> {
    /// Evidence: an S3 object (or a prefix).
    Object { bucket: &'a str, key: &'a str },
    /// A baseline check: the resource judged (an ARN or a name), and where the baseline asks
    /// for the check.
    Check { resource: &'a str, baseline: Declared },
}

/// Where a baseline declares a check: an artifact URI, and in a file the line of the
/// `[[trails]]` or `[[rules]]` entry.
pub struct Declared {
    pub uri: String,
    pub line: Option<usize>,
}

impl Location<'_> {
    /// The SARIF `artifactLocation.uri`: `s3://bucket/key` for evidence; for a check the
    /// baseline file, or `trailproof://baseline/NAME` for a built-in baseline.
    pub fn uri(&self) -> String {
        match self {
            Location::Object { bucket, key } => format!("s3://{}/{}", encode(bucket), encode(key)),
            Location::Check { baseline, .. } => baseline.uri.clone(),
        }
    }
}

impl std::fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Object { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Location::Check { resource, .. } => f.write_str(resource),
        }
    }
}

/// What a URI path may not hold as is (RFC 3986): keys and file names are encoded with it, `/`
/// kept. CloudTrail's own keys need none of it; a hostile listing might.
const NOT_IN_PATH: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?').add(b'[').add(b'\\').add(b']').add(b'^').add(b'`').add(b'{').add(b'|').add(b'}');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, NOT_IN_PATH).to_string()
}

/// Where the baseline came from, so that SARIF can point at the rule a result judges.
pub enum Origin<'a> {
    /// A built-in baseline: no file to point at.
    Builtin,
    /// A baseline file, as named on the command line, and where its entries are.
    File { path: &'a str, lines: &'a Lines },
}

/// A file path as a URI: relative paths stay relative (code scanning resolves them against the
/// repository root), absolute ones become `file://` URIs.
pub fn file_uri(path: &str) -> String {
    let mut path = path.replace(std::path::MAIN_SEPARATOR, "/");
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.to_string();
    }
    if path.starts_with('/') {
        format!("file://{}", encode(&path))
    } else {
        encode(&path)
    }
}

/// The rule of every region's own case: its evidence verified whole.
const REGION_RULE_ID: &str = "region-verdict";

fn region_case<'a>(report: &'a Report, r: &'a RegionSummary) -> Case<'a> {
    let s = &r.summary;
    Case {
        name: format!("{REGION_RULE_ID} {}/{}", r.account_id, r.region).into(),
        rule: Rule {
            id: REGION_RULE_ID.into(),
            title: "The region's trail evidence is whole and untouched".into(),
            description: "Every digest and log file in range was checked and is intact (valid), or tampering was proven (invalid), or something could not be checked (incomplete).",
            remediation: format!("See the region's findings ({}).", report.trail_arn).into(),
        },
        outcome: match r.verdict {
            Verdict::Valid => Outcome::Pass,
            Verdict::Invalid => Outcome::Fail,
            Verdict::Incomplete => Outcome::Error,
        },
        location: Location::Object { bucket: &r.bucket, key: &r.digest_dir },
        message: format!(
            "{}: digests {}/{} valid, log files {}/{} valid",
            r.verdict.as_str(),
            s.digests.valid,
            s.digests.valid + s.digests.invalid,
            s.log_files.valid,
            s.log_files.valid + s.log_files.invalid
        )
        .into(),
    }
}

/// validate-logs for SARIF: one case per account and region (its verdict), then one per finding.
pub fn of_validation(report: &Report) -> Vec<Case<'_>> {
    let regions = report.per_region.iter().map(|r| region_case(report, r));
    regions.chain(report.findings.iter().map(finding_case)).collect()
}

/// validate-logs for JUnit: a suite per account and region, with the region's verdict, a case per
/// object checked and a case per finding about no object checked.
pub fn suites_of_validation(report: &Report) -> Vec<Suite<'_>> {
    let mut suites: Vec<Suite<'_>> = report
        .per_region
        .iter()
        .map(|r| {
            let in_region = |f: &&Finding| f.account_id == r.account_id && f.region == r.region;
            let mut about: HashMap<(&str, &str), Vec<&Finding>> = HashMap::new();
            for f in report.findings.iter().filter(in_region) {
                about.entry((f.bucket.as_str(), f.key.as_str())).or_default().push(f);
            }
            let objects = report.objects.get(r.objects.clone()).unwrap_or_default();
            let mut cases = vec![region_case(report, r)];
            for o in objects {
                cases.push(object_case(o, about.remove(&(o.bucket.as_str(), o.key.as_str())).unwrap_or_default()));
            }
            // What is left is about no object checked: kept in the run's order.
            cases.extend(report.findings.iter().filter(in_region).filter(|f| about.contains_key(&(f.bucket.as_str(), f.key.as_str()))).map(finding_case));
            Suite { name: format!("{}/{}", r.account_id, r.region).into(), cases }
        })
        .collect();
    // A finding outside every account and region run (none is expected) is not dropped.
    let stray: Vec<Case<'_>> = report
        .findings
        .iter()
        .filter(|f| !report.per_region.iter().any(|r| f.account_id == r.account_id && f.region == r.region))
        .map(finding_case)
        .collect();
    if !stray.is_empty() {
        suites.push(Suite { name: report.trail_arn.as_str().into(), cases: stray });
    }
    suites
}

fn finding_outcome(f: &Finding) -> Outcome {
    match f.severity {
        Severity::Warning => Outcome::Warning,
        Severity::Error if f.kind.is_unchecked() => Outcome::Error,
        Severity::Error => Outcome::Fail,
    }
}

fn finding_rule(f: &Finding) -> Rule<'_> {
    Rule { id: f.kind.as_str().into(), title: f.kind.title().into(), description: f.kind.description(), remediation: f.kind.remediation().into() }
}

fn finding_case(f: &Finding) -> Case<'_> {
    Case {
        name: format!("{} s3://{}/{}", f.kind, f.bucket, f.key).into(),
        rule: finding_rule(f),
        outcome: finding_outcome(f),
        location: Location::Object { bucket: &f.bucket, key: &f.key },
        message: Cow::Borrowed(&f.message),
    }
}

/// One object checked: it passes, or fails with its worst finding's kind and every finding's
/// message.
fn object_case<'a>(o: &'a ObjectRecord, findings: Vec<&'a Finding>) -> Case<'a> {
    let kind = match o.object_type {
        ObjectType::Digest => "digest",
        ObjectType::BackfillDigest => "backfill_digest",
        ObjectType::Log => "log",
    };
    let worst = findings.iter().copied().max_by_key(|f| finding_outcome(f));
    let (rule, outcome, message) = match worst {
        Some(f) => (finding_rule(f), finding_outcome(f), findings.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; ").into()),
        None => {
            let (verdict, outcome) = match o.verdict {
                ObjectVerdict::Valid => ("valid", Outcome::Pass),
                ObjectVerdict::Invalid => ("invalid", Outcome::Fail),
                ObjectVerdict::Missing => ("missing", Outcome::Fail),
                ObjectVerdict::Unreadable => ("unreadable", Outcome::Error),
                ObjectVerdict::Unverifiable => ("unverifiable", Outcome::Error),
            };
            let rule = Rule {
                id: verdict.into(),
                title: "The object is authentic and intact".into(),
                description: "A digest's signature and chain verified, or a log file's SHA-256 matched its digest.",
                remediation: "See the run's findings.".into(),
            };
            (rule, outcome, Cow::Owned(format!("{kind} {verdict}")))
        }
    };
    Case { name: format!("{kind} s3://{}/{}", o.bucket, o.key).into(), rule, outcome, location: Location::Object { bucket: &o.bucket, key: &o.key }, message }
}

/// baseline for SARIF: one case per check result.
pub fn of_baseline<'a>(report: &'a BaselineReport, origin: &Origin<'_>) -> Vec<Case<'a>> {
    let uri = match origin {
        Origin::Builtin => format!("trailproof://baseline/{}", encode(&report.baseline)),
        Origin::File { path, .. } => file_uri(path),
    };
    report.results.iter().map(|r| check_case(r, &uri, origin)).collect()
}

/// baseline for JUnit: one suite, named for the baseline, with one case per check.
pub fn suites_of_baseline<'a>(report: &'a BaselineReport, origin: &Origin<'_>) -> Vec<Suite<'a>> {
    vec![Suite { name: report.baseline.as_str().into(), cases: of_baseline(report, origin) }]
}

fn check_case<'a>(r: &'a CheckResult, uri: &str, origin: &Origin<'_>) -> Case<'a> {
    let line = match (origin, &r.code) {
        (Origin::Builtin, _) => None,
        (Origin::File { lines, .. }, crate::baseline::codes::Code::Trail(_)) => r.expectation.and_then(|i| lines.trails.get(i).copied()),
        (Origin::File { lines, .. }, crate::baseline::codes::Code::Alert { rule, .. }) => lines.rule(rule),
    };
    Case {
        name: r.code.id().into(),
        rule: Rule { id: r.code.id().into(), title: Cow::Borrowed(&r.title), description: r.code.description(), remediation: Cow::Borrowed(&r.remediation) },
        outcome: match r.status {
            Status::Pass => Outcome::Pass,
            Status::Fail => Outcome::Fail,
            Status::Error => Outcome::Error,
            Status::Skipped => Outcome::Skipped,
        },
        location: Location::Check { resource: &r.resource, baseline: Declared { uri: uri.to_string(), line } },
        message: Cow::Borrowed(&r.evidence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris() {
        assert_eq!(file_uri("baselines/cis.toml"), "baselines/cis.toml");
        assert_eq!(file_uri("./././b a.toml"), "b%20a.toml");
        assert_eq!(file_uri("/etc/trailproof/x#1.toml"), "file:///etc/trailproof/x%231.toml");
    }

    #[test]
    fn object_uris_are_encoded() {
        let l = Location::Object { bucket: "b", key: "AWSLogs/1/a b%?.json.gz" };
        assert_eq!(l.uri(), "s3://b/AWSLogs/1/a%20b%25%3F.json.gz");
    }
}
