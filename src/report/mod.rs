//! The report of a validation (one model, whatever the output format) and the one set of
//! reporters every command shares: text, JSON, JUnit and SARIF (and the signed evidence report).
//! Each renders to any writer; none knows how the report was made. JUnit and SARIF see either
//! command's report as [`cases`].
use std::io::{self, Write};

use crate::baseline::BaselineReport;
use crate::finding::{Finding, Severity};
use crate::time::Range;

pub mod cases;
pub mod evidence;
pub mod json;
pub mod merge;
pub mod junit;
pub mod sarif;
pub mod schema;
pub mod text;

/// `--output`, for every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
    Sarif,
}

/// Writes a validation in `format`; `verbose` lists every valid object in text.
pub fn write(report: &Report, format: Format, verbose: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, verbose, out),
        Format::Json => json::write(report, out),
        Format::Junit => junit::write("validate-logs", &cases::suites_of_validation(report), out),
        Format::Sarif => sarif::write(&cases::of_validation(report), out),
    }
}

/// Writes a baseline report in `format`; `origin` (built-in, or which file) locates SARIF results.
pub fn write_baseline(report: &BaselineReport, origin: &cases::Origin<'_>, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::baseline(report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &json::baseline_document(report))?;
            writeln!(out)
        }
        Format::Junit => junit::write(&report.baseline, &cases::suites_of_baseline(report, origin), out),
        Format::Sarif => sarif::write(&cases::of_baseline(report, origin), out),
    }
}

/// What a validation found, for every reporter.
#[derive(Debug, Clone)]
pub struct Report {
    pub trail_arn: String,
    pub requested: Range,
    pub found: Option<Range>,
    pub regions: Vec<String>,
    pub accounts: Vec<String>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub objects: Vec<ObjectRecord>,
    pub per_region: Vec<RegionSummary>,
    /// The checkpoint records the run resumed after, one per resumed chain.
    pub resumed_from: Vec<crate::checkpoint::ChainRecord>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Counts {
    pub valid: usize,
    pub invalid: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.valid += o.valid;
        self.invalid += o.invalid;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub digests: Counts,
    pub backfill_digests: Counts,
    pub log_files: Counts,
    pub unreferenced_log_files: usize,
}

impl std::ops::AddAssign for Summary {
    fn add_assign(&mut self, o: Summary) {
        self.digests += o.digests;
        self.backfill_digests += o.backfill_digests;
        self.log_files += o.log_files;
        self.unreferenced_log_files += o.unreferenced_log_files;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Invalid,
    Incomplete,
}

impl Verdict {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Incomplete => "incomplete",
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Incomplete => 3,
        }
    }

    /// The verdict rule: proven tampering outranks "could not check everything"; a run that
    /// checked nothing is never valid.
    pub fn of(findings: &[Finding], checked_any: bool) -> Verdict {
        if findings.iter().any(|f| f.severity == Severity::Error && !f.kind.is_unchecked()) {
            Verdict::Invalid
        } else if !checked_any || findings.iter().any(|f| f.kind.is_unchecked() && f.severity == Severity::Error) {
            Verdict::Incomplete
        } else {
            Verdict::Valid
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    Digest,
    BackfillDigest,
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectVerdict {
    Valid,
    Invalid,
    Missing,
    Unreadable,
    Unverifiable,
}

/// One object trailproof judged, with the SHA-256 it computed (of the inflated bytes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ObjectRecord {
    #[serde(rename = "type")]
    pub object_type: ObjectType,
    pub bucket: String,
    pub key: String,
    pub verdict: ObjectVerdict,
    pub sha256: Option<String>,
}

/// One account and region's share of the run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RegionSummary {
    pub account_id: String,
    pub region: String,
    pub summary: Summary,
    pub verdict: Verdict,
    /// The chain's newest authentic digest: what a checkpoint records when the verdict is valid.
    #[serde(skip)]
    pub head: Option<crate::checkpoint::ChainHead>,
    /// Where the region's digests lie (`s3://{bucket}/{digest_dir}`): its SARIF location.
    #[serde(skip)]
    pub bucket: String,
    #[serde(skip)]
    pub digest_dir: String,
    /// The region's share of [`Report::objects`] (JUnit lists them in the region's suite).
    #[serde(skip)]
    pub objects: std::ops::Range<usize>,
}

#[cfg(test)]
mod tests;
