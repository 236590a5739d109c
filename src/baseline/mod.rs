//! `trailproof baseline`: is the account's CloudTrail logging and CloudWatch alerting set up as
//! expected?
//!
//! A [`Baseline`] (a TOML file, or a built-in profile from [`builtin`]) declares the trails and
//! alert rules expected. [`gather::gather`] reads the account once; [`evaluate`] then judges the
//! snapshot purely, one [`CheckResult`] per check with a stable ID.
pub mod alerts;
pub mod builtin;
pub mod codes;
#[cfg(feature = "aws")]
pub mod gather;
pub mod model;
pub mod snapshot;
pub mod trails;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::filter_pattern::glob_matches;
use codes::Code;
pub use model::{Baseline, BaselineError, Compiled};
use snapshot::AccountSnapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// The check could not be evaluated (permission denied, API failure): never a pass.
    Error,
    /// Waived by an exception in the baseline.
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CheckResult {
    /// Written as its stable ID, e.g. `trail.log-file-validation` or `cis-4.3.alarm`.
    #[serde(rename = "id")]
    pub code: Code,
    pub title: String,
    pub status: Status,
    /// The trail, filter, alarm or topic concerned (ARN or name).
    pub resource: String,
    /// What was seen, and for a failure which link is broken.
    pub evidence: String,
    pub remediation: String,
    /// For a trail check, which of the baseline's `[[trails]]` it judged (SARIF points there).
    #[serde(skip)]
    pub expectation: Option<usize>,
}

impl CheckResult {
    pub fn new(code: Code, title: impl Into<String>, remediation: impl Into<String>) -> CheckResult {
        CheckResult { code, title: title.into(), status: Status::Pass, resource: String::new(), evidence: String::new(), remediation: remediation.into(), expectation: None }
    }

    pub fn status(mut self, status: Status, resource: impl Into<String>, evidence: impl Into<String>) -> CheckResult {
        self.status = status;
        self.resource = resource.into();
        self.evidence = evidence.into();
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineReport {
    pub baseline: String,
    pub summary: Summary,
    pub results: Vec<CheckResult>,
}

impl BaselineReport {
    /// 1 if anything failed, else 3 if anything could not be evaluated, else 0. A proven drift
    /// outranks an unknown, as in validate-logs.
    pub fn exit_code(&self) -> i32 {
        if self.summary.fail > 0 {
            1
        } else if self.summary.error > 0 {
            3
        } else {
            0
        }
    }
}

/// Judges a snapshot against a (compiled) baseline. Pure: `now` is passed in for exception expiry.
pub fn evaluate(compiled: &Compiled<'_>, snapshot: &AccountSnapshot, now: DateTime<Utc>) -> BaselineReport {
    let baseline = compiled.baseline;
    let mut results = Vec::new();
    let chosen = trails::evaluate(baseline, snapshot, &mut results);
    alerts::evaluate(&compiled.rules, snapshot, &chosen, &mut results);
    apply_exceptions(baseline, now.date_naive(), &mut results);
    let mut summary = Summary::default();
    for r in &results {
        match r.status {
            Status::Pass => summary.pass += 1,
            Status::Fail => summary.fail += 1,
            Status::Error => summary.error += 1,
            Status::Skipped => summary.skipped += 1,
        }
    }
    BaselineReport { baseline: baseline.name.clone(), summary, results }
}

/// An exception waives a check (by ID, `*` globs allowed) and optionally only for one resource.
/// An expired exception waives nothing, and says so in the evidence.
fn apply_exceptions(baseline: &Baseline, today: NaiveDate, results: &mut [CheckResult]) {
    for r in results.iter_mut() {
        for ex in &baseline.exceptions {
            if !glob_matches(&ex.check, &r.code.id()) || !ex.resource.as_deref().is_none_or(|res| glob_matches(res, &r.resource)) {
                continue;
            }
            if ex.expires.is_some_and(|d| d < today) {
                r.evidence.push_str(&format!(" [exception for {} expired {}; not applied]", ex.check, ex.expires.unwrap_or(today)));
                continue;
            }
            if r.status != Status::Pass {
                r.evidence = format!("waived: {} (was {}: {})", ex.reason, r.status.as_str(), r.evidence);
                r.status = Status::Skipped;
            }
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_ids() {
        assert!(glob_matches("cis-4.*", "cis-4.15.alarm"));
        assert!(glob_matches("*.alarm", "cis-4.15.alarm"));
        assert!(glob_matches("trail.kms-encryption", "trail.kms-encryption"));
        assert!(!glob_matches("cis-4.1", "cis-4.15.alarm"));
        assert!(!glob_matches("cis-4.1.*", "cis-4.15.alarm"));
    }
}
