//! The JSON documents, one per run. baseline: see [`baseline_value`]. validate-logs: Its schema is a public interface (see README, "JSON output"):
//! `trail_arn`, `requested`, `found`, `regions`, `accounts`, `summary`, `per_region[]`, `findings[]`, `verdict`.
use std::io::{self, Write};

use serde::Serialize;

use crate::baseline::BaselineReport;
use crate::finding::Finding;
use super::{RegionSummary, Report, Summary, Verdict};

#[derive(Serialize)]
struct Span {
    start_time: String,
    end_time: String,
}

#[derive(Serialize)]
struct Document<'a> {
    trail_arn: &'a str,
    requested: Span,
    found: Option<Span>,
    regions: &'a [String],
    accounts: &'a [String],
    summary: &'a Summary,
    per_region: &'a [RegionSummary],
    findings: &'a [Finding],
    /// Only in runs that resumed chains from a `--checkpoint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    resumed_from: Option<Vec<Resumed<'a>>>,
    verdict: Verdict,
}

/// Where a chain resumed: the checkpointed digest its new part links back to.
#[derive(Serialize)]
struct Resumed<'a> {
    account_id: &'a str,
    region: &'a str,
    key: &'a str,
    end_time: String,
}

fn span(r: &crate::time::Range) -> Span {
    Span { start_time: crate::time::display(r.start), end_time: crate::time::display(r.end) }
}

pub fn write<'a>(report: &'a Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        trail_arn: &report.trail_arn,
        requested: span(&report.requested),
        found: report.found.as_ref().map(span),
        regions: &report.regions,
        accounts: &report.accounts,
        summary: &report.summary,
        per_region: &report.per_region,
        findings: &report.findings,
        resumed_from: (!report.resumed_from.is_empty()).then(|| {
            let resumed = |r: &'a crate::checkpoint::ChainRecord| Resumed { account_id: &r.account_id, region: &r.region, key: &r.head.key, end_time: crate::time::display(r.head.end_time) };
            report.resumed_from.iter().map(resumed).collect()
        }),
        verdict: report.verdict,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// `{"summary": {pass, fail, error, skipped}, "results": [{id, title, status, resource, evidence, remediation}]}`
pub fn baseline_value(report: &BaselineReport) -> serde_json::Value {
    serde_json::json!({
        "baseline": report.baseline,
        "summary": report.summary,
        "results": report.results,
    })
}
