//! Text for people. validate-logs keeps the AWS CLI's summary lines so existing scripts keep
//! working; baseline lists every check.
use std::io::{self, Write};

use crate::finding::{FindingKind, Severity};
use crate::time::display;
use super::{Counts, ObjectType, ObjectVerdict, Report, Verdict};
use crate::baseline::{BaselineReport, Status};

pub fn write(report: &Report, verbose: bool, out: &mut dyn Write) -> io::Result<()> {
    let (start, end) = (display(report.requested.start), display(report.requested.end));
    writeln!(out, "Validating log files for trail {} between {start} and {end}\n", report.trail_arn)?;
    for r in &report.resumed_from {
        writeln!(out, "Resuming {} {} after its checkpoint s3://{}/{} (ends {}, verified {})", r.account_id, r.region, r.head.bucket, r.head.key, display(r.head.end_time), display(r.verified_at))?;
    }
    if !report.resumed_from.is_empty() {
        writeln!(out)?;
    }
    if verbose {
        for o in report.objects.iter().filter(|o| o.verdict == ObjectVerdict::Valid) {
            let what = match o.object_type {
                ObjectType::Digest => "Digest file",
                ObjectType::BackfillDigest => "(backfill) Digest file",
                ObjectType::Log => "Log file",
            };
            writeln!(out, "{what}\ts3://{}/{}\tvalid", o.bucket, o.key)?;
        }
    }
    for f in &report.findings {
        let what = if f.kind == FindingKind::KeyFileMismatch {
            "Digest files"
        } else if f.kind.is_digest() {
            "Digest file"
        } else if f.kind.is_unchecked() {
            "Object"
        } else {
            "Log file"
        };
        let status = match (f.kind, f.severity) {
            (k, Severity::Error) if k.is_unchecked() => "NOT CHECKED",
            (_, Severity::Error) => "INVALID",
            (_, Severity::Warning) => "WARNING",
        };
        writeln!(out, "{what}\ts3://{}/{}\t{status} ({}): {}", f.bucket, f.key, f.kind, f.message)?;
    }
    if verbose || !report.findings.is_empty() {
        writeln!(out)?;
    }
    summary(report, out)
}

/// The summary lines and the verdict: all that `--quiet` prints.
pub fn summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let (start, end) = (display(report.requested.start), display(report.requested.end));
    writeln!(out, "Results requested for {start} to {end}")?;
    let s = &report.summary;
    if s.digests.valid + s.digests.invalid + s.backfill_digests.valid + s.backfill_digests.invalid == 0 {
        writeln!(out, "No digests found")?;
    } else {
        match &report.found {
            Some(r) => writeln!(out, "Results found for {} to {}:", display(r.start), display(r.end))?,
            None => writeln!(out, "No valid digests found in range")?,
        }
        ratio(out, s.digests, "digest")?;
        ratio(out, s.backfill_digests, "backfill digest")?;
        ratio(out, s.log_files, "log")?;
        writeln!(out)?;
    }
    if s.unreferenced_log_files > 0 {
        writeln!(out, "{} log files no digest lists", s.unreferenced_log_files)?;
    }
    writeln!(out, "Regions: {}", report.regions.join(", "))?;
    if report.accounts.len() > 1 {
        writeln!(out, "Accounts: {}", report.accounts.join(", "))?;
    }
    if report.per_region.len() > 1 {
        for r in &report.per_region {
            let c = &r.summary;
            writeln!(
                out,
                "  {} {}: {:?}; digests {}/{} valid, backfill {}/{}, log files {}/{}, {} unreferenced",
                r.account_id, r.region, r.verdict,
                c.digests.valid, c.digests.valid + c.digests.invalid,
                c.backfill_digests.valid, c.backfill_digests.valid + c.backfill_digests.invalid,
                c.log_files.valid, c.log_files.valid + c.log_files.invalid,
                c.unreferenced_log_files
            )?;
        }
    }
    let unchecked = report.findings.iter().filter(|f| f.kind.is_unchecked() && f.severity == Severity::Error).count();
    if unchecked > 0 {
        writeln!(out, "{unchecked} things could not be checked (see NOT CHECKED above)")?;
    }
    let verdict = match report.verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid => "INVALID",
        Verdict::Incomplete => "INCOMPLETE (not everything could be checked)",
    };
    writeln!(out, "Verdict: {verdict}")
}

fn ratio(out: &mut dyn Write, c: Counts, name: &str) -> io::Result<()> {
    let total = c.valid + c.invalid;
    if total > 0 {
        write!(out, "\n{}/{total} {name} files valid", c.valid)?;
        if c.invalid > 0 {
            write!(out, ", {}/{total} {name} files INVALID", c.invalid)?;
        }
    }
    Ok(())
}

pub fn baseline(report: &BaselineReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Baseline {}", report.baseline)?;
    for r in &report.results {
        let mark = match r.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
            Status::Skipped => "SKIP",
        };
        writeln!(out, "{mark:<5} {:<45} {}", r.code.id(), r.title)?;
        if r.status != Status::Pass {
            writeln!(out, "      resource: {}", r.resource)?;
            writeln!(out, "      evidence: {}", r.evidence)?;
            if r.status == Status::Fail {
                writeln!(out, "      fix: {}", r.remediation)?;
            }
        }
    }
    baseline_summary(report, out)
}

/// The summary line: all that `--quiet` prints.
pub fn baseline_summary(report: &BaselineReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(out, "\n{} passed, {} failed, {} could not be evaluated, {} skipped by exception", s.pass, s.fail, s.error, s.skipped)
}
