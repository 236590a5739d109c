//! The JSON documents of `--output json`, one per run, as serde types: their JSON Schemas
//! (`trailproof schema`, [`super::schema`]) are derived from these same types. They are a public
//! interface (README, "JSON output"); `schema_version` says which shape a document has.
use std::io::{self, Write};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema::Version;
use super::{RegionSummary, Report, Summary, Verdict};
use crate::baseline::{self, BaselineReport, CheckResult};
use crate::finding::Finding;

/// A UTC time range, both ends as RFC 3339 (`2026-03-01T00:00:00Z`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Span {
    pub start_time: String,
    pub end_time: String,
}

/// Where a checkpointed run resumed a chain: the checkpoint's newest verified digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ResumedFrom {
    pub account_id: String,
    pub region: String,
    /// The digest's key.
    pub key: String,
    /// Its digestEndTime, RFC 3339.
    pub end_time: String,
}

/// validate-logs' document.
#[derive(Serialize, JsonSchema)]
pub struct ValidationDocument<'a> {
    pub schema_version: Version<{ super::schema::VALIDATE_LOGS }>,
    pub trail_arn: &'a str,
    /// The range asked for.
    pub requested: Span,
    /// The range the verified digests cover; null when none verified.
    pub found: Option<Span>,
    pub regions: &'a [String],
    pub accounts: &'a [String],
    pub summary: &'a Summary,
    /// Present only for a run that resumed from a checkpoint: one entry per chain resumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<ResumedFrom>")]
    pub resumed_from: Option<Vec<ResumedFrom>>,
    pub per_region: &'a [RegionSummary],
    pub findings: &'a [Finding],
    pub verdict: Verdict,
}

pub fn span(r: &crate::time::Range) -> Span {
    Span { start_time: crate::time::display(r.start), end_time: crate::time::display(r.end) }
}

pub fn document(report: &Report) -> ValidationDocument<'_> {
    ValidationDocument {
        schema_version: Version,
        trail_arn: &report.trail_arn,
        requested: span(&report.requested),
        found: report.found.as_ref().map(span),
        regions: &report.regions,
        accounts: &report.accounts,
        summary: &report.summary,
        per_region: &report.per_region,
        findings: &report.findings,
        resumed_from: (!report.resumed_from.is_empty()).then(|| {
            let resumed = |r: &crate::checkpoint::ChainRecord| ResumedFrom {
                account_id: r.account_id.clone(),
                region: r.region.clone(),
                key: r.head.key.clone(),
                end_time: crate::time::display(r.head.end_time),
            };
            report.resumed_from.iter().map(resumed).collect()
        }),
        verdict: report.verdict,
    }
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report))?;
    writeln!(out)
}

/// baseline's document.
#[derive(Serialize, JsonSchema)]
pub struct BaselineDocument<'a> {
    pub schema_version: Version<{ super::schema::BASELINE }>,
    /// The baseline's name (a built-in's, or the file's `name`).
    pub baseline: &'a str,
    pub summary: &'a baseline::Summary,
    pub results: &'a [CheckResult],
}

pub fn baseline_document(report: &BaselineReport) -> BaselineDocument<'_> {
    BaselineDocument { schema_version: Version, baseline: &report.baseline, summary: &report.summary, results: &report.results }
}

/// `{"schema_version", "baseline", "summary": {pass, fail, error, skipped}, "results": [{id, title, status, resource, evidence, remediation}]}`
pub fn baseline_value(report: &BaselineReport) -> serde_json::Value {
    serde_json::to_value(baseline_document(report)).expect("the baseline document serialises")
}
