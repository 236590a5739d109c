//! The one view the CI formats (JUnit, SARIF) take of any command's report: a list of cases, each
//! a rule (an integrity finding kind or a baseline check code), an outcome, a place and what was
//! seen. validate-logs and baseline both become cases here, so both share one reporter per format.
use std::borrow::Cow;

use super::{Report, Verdict};
use crate::baseline::{BaselineReport, Status};
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

/// What a case is judged by.
pub struct Rule<'a> {
    pub id: Cow<'a, str>,
    pub title: Cow<'a, str>,
    pub description: &'static str,
    pub remediation: Cow<'a, str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Worth a look, not a failure (a chain gap where logging stopped).
    Warning,
    /// Proven wrong: tampering, a missing alarm.
    Fail,
    /// Could not be checked: the run is incomplete.
    Error,
    /// Waived by an exception.
    Skipped,
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
    /// Configuration: an ARN or a name.
    Resource(&'a str),
}

impl std::fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Object { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Location::Resource(r) => f.write_str(r),
        }
    }
}

/// The rule of every region's own case: its evidence verified whole.
const REGION_RULE_ID: &str = "region-verdict";

/// validate-logs: one case per account and region (its verdict), then one per finding.
pub fn of_validation(report: &Report) -> Vec<Case<'_>> {
    let regions = report.per_region.iter().map(|r| {
        let s = &r.summary;
        Case {
            name: format!("{REGION_RULE_ID} {}/{}", r.account_id, r.region).into(),
            rule: Rule {
                id: REGION_RULE_ID.into(),
                title: "The region's trail evidence is whole and untouched".into(),
                description: "Every digest and log file in range was checked and is intact (valid), or tampering was proven (invalid), or something could not be checked (incomplete).",
                remediation: "See the region's findings.".into(),
            },
            outcome: match r.verdict {
                Verdict::Valid => Outcome::Pass,
                Verdict::Invalid => Outcome::Fail,
                Verdict::Incomplete => Outcome::Error,
            },
            location: Location::Resource(&report.trail_arn),
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
    });
    regions.chain(report.findings.iter().map(finding_case)).collect()
}

fn finding_case(f: &Finding) -> Case<'_> {
    Case {
        name: format!("{} s3://{}/{}", f.kind, f.bucket, f.key).into(),
        rule: Rule { id: f.kind.as_str().into(), title: f.kind.title().into(), description: f.kind.description(), remediation: f.kind.remediation().into() },
        outcome: match f.severity {
            Severity::Warning => Outcome::Warning,
            Severity::Error if f.kind.is_unchecked() => Outcome::Error,
            Severity::Error => Outcome::Fail,
        },
        location: Location::Object { bucket: &f.bucket, key: &f.key },
        message: Cow::Borrowed(&f.message),
    }
}

/// baseline: one case per check result.
pub fn of_baseline(report: &BaselineReport) -> Vec<Case<'_>> {
    report
        .results
        .iter()
        .map(|r| Case {
            name: r.code.id().into(),
            rule: Rule { id: r.code.id().into(), title: Cow::Borrowed(&r.title), description: r.code.description(), remediation: Cow::Borrowed(&r.remediation) },
            outcome: match r.status {
                Status::Pass => Outcome::Pass,
                Status::Fail => Outcome::Fail,
                Status::Error => Outcome::Error,
                Status::Skipped => Outcome::Skipped,
            },
            location: Location::Resource(&r.resource),
            message: Cow::Borrowed(&r.evidence),
        })
        .collect()
}
