//! Organization-scale audits as an array job: `plan` (discover the chains, write the units),
//! `validate-logs --plan` (one shard: its units, one report each), and `merge` (the unit reports
//! joined into one report). The plan format and the merge are pure (`crate::plan`,
//! `report::merge`); this reads, runs the pipeline per unit, and writes.
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use futures::{stream, StreamExt};

use super::location::{self, Location};
use super::trail::{self, key_file, key_file_hints, key_source, status_file};
use super::*;
use crate::aws;
use crate::integrity::chain::WalkOptions;
use crate::pipeline::{self, Context, Options};
use crate::plan::{Plan, Requested, Unit, MAX_PLAN_BYTES};
use crate::report::merge::{self, Got, UnitDocument, UnitReport, MAX_UNIT_REPORT_BYTES};
use crate::report;
use crate::source::{dir::DirSource, s3::S3Source, Source};

/// Units validated at once in a shard (each unit is one chain, as validate-logs runs four
/// regions at once).
const UNITS_AT_ONCE: usize = 4;

/// Where the unit reports go: a directory, or a prefix in a bucket.
enum ReportDir {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl ReportDir {
    fn parse(text: &str) -> Result<ReportDir, RunError> {
        match text.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(RunError::Usage(format!("--report-dir {text}: an S3 report dir is s3://BUCKET or s3://BUCKET/PREFIX")));
                }
                let prefix = match prefix.trim_end_matches('/') {
                    "" => String::new(),
                    p => format!("{p}/"),
                };
                Ok(ReportDir::S3 { bucket: bucket.to_string(), prefix })
            }
            None if text.is_empty() => Err(RunError::Usage("--report-dir: give a directory or s3://BUCKET/PREFIX".into())),
            None => Ok(ReportDir::Local(PathBuf::from(text))),
        }
    }

    /// Where `unit`'s report lies.
    fn of(&self, unit: &Unit) -> Location {
        match self {
            ReportDir::Local(dir) => Location::File(dir.join(format!("{}.json", unit.id))),
            ReportDir::S3 { bucket, prefix } => Location::S3 { bucket: bucket.clone(), key: format!("{prefix}{}.json", unit.id) },
        }
    }

    /// An S3 client for the report bucket, made once for all units.
    async fn client(&self, aws_opts: &AwsOptions) -> Result<Option<aws_sdk_s3::Client>, RunError> {
        match self {
            ReportDir::Local(_) => Ok(None),
            ReportDir::S3 { bucket, .. } => location::client(aws_opts, "report-dir", bucket).await.map(Some),
        }
    }
}

/// Reads and checks the plan; any failure is a usage error (the plan is the run's configuration).
async fn read_plan(aws_opts: &AwsOptions, text: &str) -> Result<Plan, RunError> {
    let at = Location::parse("plan", text)?;
    let bytes = at.read("plan", "plan", aws_opts, MAX_PLAN_BYTES).await.map_err(|e| RunError::Usage(e.to_string()))?;
    let Some(bytes) = bytes else {
        return Err(RunError::Usage(format!("--plan {}: no such file or object; write it with `trailproof plan --out`", at.describe())));
    };
    Plan::parse(&bytes).map_err(|e| RunError::Usage(format!("--plan {}: {e}", at.describe())))
}

pub(super) async fn plan(aws_opts: &AwsOptions, args: PlanArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let slice = args.slice.as_deref().map(crate::plan::parse_slice).transpose().map_err(|e| RunError::Usage(format!("--slice: {e}")))?;
    if args.trail.start_time.is_none() {
        return Err(RunError::Usage("--start-time is required: a plan covers a fixed range".into()));
    }
    let at = Location::parse("out", &args.out)?;
    let found = trail::plan(aws_opts, &args.trail, args.source.as_deref(), None).await?;
    let requested = Requested {
        start_time: crate::time::display(found.range.start),
        end_time: crate::time::display(found.range.end),
        all_regions: args.trail.all_regions,
        all_accounts: args.trail.all_accounts,
        slice_hours: slice.map(|s| s.num_hours()),
    };
    let plan = Plan::new(&found.targets, found.range, requested, slice).map_err(RunError::Usage)?;
    at.write("out", aws_opts, plan.render().into_bytes()).await.map_err(|e| RunError::Unavailable(format!("writing --out {}: {e}", at.describe())))?;
    let hours: i64 = plan.units.iter().map(Unit::hours).sum();
    let io = |e: std::io::Error| RunError::Unavailable(format!("writing output: {e}"));
    writeln!(out, "Plan {}: {} units ({} chains: {} accounts, {} regions), {hours} hours of evidence; written to {}",
        plan.plan_id, plan.units.len(), found.targets.len(),
        plan.units.iter().map(|u| &u.account_id).collect::<std::collections::BTreeSet<_>>().len(),
        plan.units.iter().map(|u| &u.region).collect::<std::collections::BTreeSet<_>>().len(),
        at.describe()).map_err(io)?;
    if let Some(n) = args.shards {
        let of = crate::plan::assign(&plan.units, n as usize);
        let mut load = vec![(0usize, 0i64); n as usize];
        for (u, s) in plan.units.iter().zip(of) {
            load[s].0 += 1;
            load[s].1 += u.hours();
        }
        let (least, most) = (load.iter().map(|l| l.1).min().unwrap_or(0), load.iter().map(|l| l.1).max().unwrap_or(0));
        let idle = load.iter().filter(|l| l.0 == 0).count();
        writeln!(out, "Dealt into {n} shards: {least} to {most} hours of evidence each{}", if idle > 0 { format!("; {idle} shards have no unit (more shards than units)") } else { String::new() }).map_err(io)?;
    }
    writeln!(out, "Run each shard with: trailproof validate-logs --plan {} --report-dir DIR|s3://BUCKET/PREFIX [--shard-index I --shard-count N]", at.describe()).map_err(io)?;
    Ok(0)
}

/// A shard index or count from its flag, else the first of these variables that is set.
fn from_env(flag: Option<u64>, vars: &[&str]) -> Result<Option<u64>, RunError> {
    if flag.is_some() {
        return Ok(flag);
    }
    for var in vars {
        if let Ok(text) = std::env::var(var) {
            return text.trim().parse().map(Some).map_err(|_| RunError::Usage(format!("{var}={text:?} is not a whole number")));
        }
    }
    Ok(None)
}

/// validate-logs `--plan`: the units of one shard, each validated as its own job and reported
/// in its own file; standard output gets the shard's units merged, in `--output`'s format.
pub(super) async fn shard(aws_opts: &AwsOptions, args: ValidateArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let index = from_env(args.shard.shard_index, &["AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"])?
        .ok_or_else(|| RunError::Usage("--shard-index is required (AWS Batch sets AWS_BATCH_JOB_ARRAY_INDEX, an Indexed Job JOB_COMPLETION_INDEX)".into()))?;
    let count = from_env(args.shard.shard_count, &["AWS_BATCH_JOB_ARRAY_SIZE"])?
        .ok_or_else(|| RunError::Usage("--shard-count is required (AWS Batch sets AWS_BATCH_JOB_ARRAY_SIZE; on Kubernetes give the Job's completions)".into()))?;
    if count > crate::plan::MAX_SHARDS {
        return Err(RunError::Usage(format!("shard count {count}: at most {} shards", crate::plan::MAX_SHARDS)));
    }
    if count == 0 || index >= count {
        return Err(RunError::Usage(format!("shard index {index} is not below the shard count {count}: shards are numbered 0 to count-1")));
    }
    let Some(dir) = args.shard.report_dir.as_deref() else { return Err(RunError::Usage("--plan needs --report-dir".into())) };
    let dir = ReportDir::parse(dir)?;
    let plan = read_plan(aws_opts, args.shard.plan.as_deref().unwrap_or_default()).await?;
    let units: Vec<Unit> = plan.shard(index as usize, count as usize).into_iter().cloned().collect();
    if units.is_empty() {
        eprintln!("note: shard {index} of {count} has no units (the plan has {}): nothing to do", plan.units.len());
        return Ok(0);
    }
    if let ReportDir::Local(d) = &dir {
        std::fs::create_dir_all(d).map_err(|e| RunError::Usage(format!("--report-dir {}: {e}", d.display())))?;
    }
    let evidence = &args.evidence;
    let file_keys = evidence.public_keys.as_deref().map(key_file).transpose()?;
    let arn = crate::layout::parse_trail_arn(&plan.trail_arn).map_err(RunError::Usage)?;
    let (source, status): (Arc<dyn Source>, _) = match &evidence.source {
        Some(d) => (Arc::new(DirSource::new(d)), evidence.trail_status.as_deref().map(status_file).transpose()?.map(Ok)),
        None => {
            let home = aws::sdk_config(aws_opts, Some(arn.region.clone())).await;
            let status = Some(aws::trail_status(&aws::cloudtrail_client(&home), &plan.trail_arn).await);
            let client = aws::bucket_client(&home, aws_opts, &plan.bucket).await.map_err(RunError::Unavailable)?;
            (Arc::new(S3Source::new(client)), status)
        }
    };
    let api_keys = aws::ApiKeys { options: aws_opts.clone() };
    let keys = key_source(&file_keys, &api_keys);
    let options = Options {
        concurrency: args.trail.concurrency as usize,
        limits: evidence.limits(),
        walk: WalkOptions { signature_from_successor: evidence.source.is_some() },
        now: Utc::now(),
        record_objects: false,
        read_attempts: aws_opts.max_attempts.unwrap_or(3),
    };
    let ctx = Context::new(source, keys, status, options, !args.quiet && !args.trail.no_progress);
    let client = dir.client(aws_opts).await?;
    let runs = stream::iter(&units).map(|unit| {
        let ctx = &ctx;
        let target = plan.target(unit);
        async move {
            // Checked when the plan was read.
            let range = unit.range().unwrap_or(crate::time::Range { start: Utc::now(), end: Utc::now() });
            let mut report = pipeline::validate(ctx, &[pipeline::Job::new(target, range)], range).await;
            if let Some(path) = &evidence.public_keys {
                report.findings.extend(key_file_hints(&report, path, range));
            }
            (unit, report)
        }
    });
    let mut runs = runs.buffered(UNITS_AT_ONCE);
    let mut got = Vec::new();
    while let Some((unit, report)) = runs.next().await {
        let document = UnitDocument { report: report::json::document(&report), plan_id: &plan.plan_id, unit };
        let bytes = serde_json::to_vec_pretty(&document).map_err(|e| RunError::Unavailable(e.to_string()))?;
        let at = dir.of(unit);
        let written = match (&at, &client) {
            (Location::S3 { bucket, key }, Some(c)) => location::put(c, bucket, key, bytes.clone()).await,
            _ => at.write("report-dir", aws_opts, bytes.clone()).await,
        };
        written.map_err(|e| RunError::Unavailable(format!("writing the report of unit {} to {}: {e}", unit.id, at.describe())))?;
        got.push(UnitReport::parse(&bytes).map_or_else(Got::Unusable, |r| Got::Report(Box::new(r))));
    }
    drop(runs);
    ctx.progress.finish();
    let own = Plan { units, ..plan };
    let merged = merge::merge(&own, got, &|u| dir.of(u).describe());
    write_report(&merged, args.output, args.quiet, out)?;
    Ok(merged.verdict.exit_code())
}

fn write_report(report: &report::Report, format: report::Format, quiet: bool, out: &mut dyn std::io::Write) -> Result<(), RunError> {
    let written = match format {
        report::Format::Text if quiet => report::text::summary(report, out),
        format => report::write(report, format, false, out),
    };
    written.map_err(|e| RunError::Unavailable(format!("writing the report: {e}")))
}

pub(super) async fn merge(aws_opts: &AwsOptions, args: MergeArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let dir = ReportDir::parse(&args.report_dir)?;
    let plan = read_plan(aws_opts, &args.plan).await?;
    if let ReportDir::Local(d) = &dir {
        if !d.is_dir() {
            return Err(RunError::Usage(format!("--report-dir {}: not a directory", d.display())));
        }
    }
    let client = dir.client(aws_opts).await?;
    let reads = stream::iter(&plan.units).map(|unit| {
        let (at, client) = (dir.of(unit), &client);
        async move {
            let bytes = match (&at, client) {
                (Location::S3 { bucket, key }, Some(c)) => location::get(c, bucket, key, "report-dir", "unit report", MAX_UNIT_REPORT_BYTES).await,
                (Location::File(path), _) => location::read_file(path, "report-dir", "unit report", MAX_UNIT_REPORT_BYTES),
                // A report dir in S3 always has its client.
                _ => Ok(None),
            };
            match bytes {
                Ok(None) => Got::Missing,
                Ok(Some(bytes)) => UnitReport::parse(&bytes).map_or_else(Got::Unusable, |r| Got::Report(Box::new(r))),
                Err(e) => Got::Unusable(e.to_string()),
            }
        }
    });
    let got: Vec<Got> = reads.buffered(args.concurrency as usize).collect().await;
    let merged = merge::merge(&plan, got, &|u| dir.of(u).describe());
    write_report(&merged, args.output, args.quiet, out)?;
    Ok(merged.verdict.exit_code())
}

