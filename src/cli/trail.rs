//! validate-logs, export and keys export: a run's plan (source, targets, range), then the
//! pipeline, then a reporter.
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Utc;

use super::*;
use super::checkpoint;
use crate::aws;
use crate::checkpoint::{ChainRecord, Checkpoint};
use crate::export::RecordingSource;
use crate::integrity::chain::WalkOptions;
use crate::integrity::completeness::TrailStatus;
use crate::keysource::{FileKeys, KeySource, RecordingKeys};
use crate::layout::{is_account_id, is_region_name, parse_trail_arn, Target};
use crate::pipeline::{self, Context, Options};
use crate::report::evidence::Parameters;
use crate::report::{self, Verdict};
use crate::source::{dir::DirSource, s3::S3Source, Source, SourceError};
use crate::time::Range;

fn range_args(start: &str, end: Option<&str>) -> Result<Range, RunError> {
    // One clock reading, so that `--start-time -24h` to now is exactly a day.
    let now = Utc::now();
    let start = time_arg("start-time", start, now)?;
    let end = match end {
        Some(t) => time_arg("end-time", t, now)?,
        None => now,
    };
    if start > end {
        return Err(RunError::Usage("invalid time range: --start-time must not be after --end-time".into()));
    }
    Ok(Range { start, end })
}

/// What a run will look at: the evidence source, its targets (account x region) and the range.
pub(super) struct Plan {
    pub source: Arc<dyn Source>,
    pub targets: Vec<Target>,
    pub range: Range,
    pub status: Option<Result<TrailStatus, String>>,
}

/// `default_start` stands in for an omitted `--start-time` (a checkpoint's earliest record).
pub(super) async fn plan(aws_opts: &AwsOptions, args: &TrailArgs, source_dir: Option<&std::path::Path>, default_start: Option<chrono::DateTime<Utc>>) -> Result<Plan, RunError> {
    let arn = parse_trail_arn(&args.trail_arn).map_err(RunError::Usage)?;
    let range = match (&args.start_time, default_start) {
        (Some(start), _) => range_args(start, args.end_time.as_deref())?,
        (None, Some(start)) => range_args(&crate::time::display(start), args.end_time.as_deref())?,
        (None, None) => return Err(RunError::Usage("--start-time is required (it may be omitted only with a --checkpoint that records the trail's chains)".into())),
    };
    let source_region = aws_opts.region.clone().unwrap_or_else(|| arn.region.clone());
    let (source, bucket, prefix, organization_id, status): (Arc<dyn Source>, String, Option<String>, Option<String>, _) = match source_dir {
        Some(dir) => {
            let bucket = match &args.s3_bucket {
                Some(b) => b.clone(),
                None => only_subdirectory(dir)?,
            };
            // Offline there is no trail status: the tail check needs GetTrailStatus.
            (Arc::new(DirSource::new(dir)), bucket, args.s3_prefix.clone(), args.organization_id.clone(), None)
        }
        None => {
            let home = aws::sdk_config(aws_opts, Some(arn.region.clone())).await;
            let trail = aws::cloudtrail_client(&home);
            let (bucket, prefix, is_org) = match &args.s3_bucket {
                Some(b) => (b.clone(), args.s3_prefix.clone(), false),
                None => {
                    let info = aws::describe_trail(&trail, &args.trail_arn).await.map_err(RunError::Unavailable)?;
                    (info.bucket, args.s3_prefix.clone().or(info.prefix), info.is_organization_trail)
                }
            };
            let organization_id = match &args.organization_id {
                Some(o) => Some(o.clone()),
                None if is_org || args.all_accounts => Some(aws::organization_id(&home).await.map_err(|e| {
                    RunError::Unavailable(format!("organization trail: {e}; give --organization-id"))
                })?),
                None => None,
            };
            let status = Some(aws::trail_status(&trail, &args.trail_arn).await);
            let client = aws::bucket_client(&home, aws_opts, &bucket).await.map_err(RunError::Unavailable)?;
            (Arc::new(S3Source::new(client)), bucket, prefix, organization_id, status)
        }
    };

    let base = Target {
        trail_arn: args.trail_arn.clone(),
        trail_name: arn.name.clone(),
        home_region: arn.region.clone(),
        source_region,
        account_id: args.account_id.clone().unwrap_or(arn.account_id.clone()),
        organization_id,
        bucket,
        prefix,
    };
    let discover = |what: &str, e: SourceError| RunError::Unavailable(format!("could not list {what}: {e}"));
    let accounts = if args.all_accounts {
        let Some(org) = &base.organization_id else {
            return Err(RunError::Usage("--all-accounts needs an organization trail (or --organization-id)".into()));
        };
        let org_root = base.logs_root();
        let found: Vec<String> = source.list_prefixes(&base.bucket, &org_root).await.map_err(|e| discover("accounts", e))?;
        let found: Vec<String> = found.into_iter().filter(|a| is_account_id(a)).collect();
        if found.is_empty() {
            return Err(RunError::Unavailable(format!("no member accounts found under s3://{}/{org_root} ({org})", base.bucket)));
        }
        found
    } else {
        vec![base.account_id.clone()]
    };
    let mut targets = Vec::new();
    for account_id in accounts {
        let account = Target { account_id, ..base.clone() };
        let regions = if args.all_regions {
            // From the log folders too: a region whose digests were all deleted still has logs.
            let mut found = BTreeSet::new();
            for folder in ["CloudTrail-Digest/", "CloudTrail/"] {
                let dir = format!("{}{folder}", account.account_root());
                found.extend(source.list_prefixes(&account.bucket, &dir).await.map_err(|e| discover("regions", e))?);
            }
            // Folder names are claims: only region-shaped names, and only so many, steer the run.
            let found: Vec<String> = found.into_iter().filter(|r| is_region_name(r)).collect();
            if found.is_empty() {
                return Err(RunError::Unavailable(format!("no regions found under s3://{}/{}CloudTrail-Digest/ or CloudTrail/", account.bucket, account.account_root())));
            }
            if found.len() > MAX_REGIONS {
                return Err(RunError::Unavailable(format!(
                    "{} region folders under s3://{}/{}: more than any AWS partition has ({MAX_REGIONS}); give --region instead of --all-regions",
                    found.len(), account.bucket, account.account_root())));
            }
            found
        } else {
            vec![account.source_region.clone()]
        };
        targets.extend(regions.into_iter().map(|source_region| Target { source_region, ..account.clone() }));
    }
    Ok(Plan { source, targets, range, status })
}

/// More regions than any AWS partition has: a folder listing beyond this was planted.
const MAX_REGIONS: usize = 64;

/// The trusted keys: the key file when given, else ListPublicKeys.
pub(super) fn key_source<'a>(file: &'a Option<FileKeys>, api: &'a aws::ApiKeys) -> &'a dyn KeySource {
    match file {
        Some(k) => k,
        None => api,
    }
}

/// A saved GetTrailStatus: trusted as the user vouches for it, like a key file, never read from
/// the evidence on its own.
pub(super) fn status_file(path: &std::path::Path) -> Result<TrailStatus, RunError> {
    let bytes = std::fs::read(path).map_err(|e| RunError::Usage(format!("--trail-status {}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| RunError::Usage(format!("--trail-status {}: not a saved GetTrailStatus: {e}", path.display())))
}

pub(super) fn key_file(path: &std::path::Path) -> Result<FileKeys, RunError> {
    let bytes = std::fs::read(path).map_err(|e| RunError::Usage(format!("--public-keys {}: {e}", path.display())))?;
    let keys = FileKeys::parse(&bytes).map_err(|e| RunError::Usage(format!("--public-keys {}: {e}", path.display())))?;
    if keys.lists_no_key() {
        return Err(RunError::Usage(format!(
            "--public-keys {}: the file lists no public keys; write one for the trail's region and range with `trailproof keys export` or `aws cloudtrail list-public-keys --start-time … --end-time …`",
            path.display()
        )));
    }
    for (fp, why) in keys.rejected() {
        eprintln!("warning: public key {fp} rejected: {why}");
    }
    Ok(keys)
}

pub(super) async fn validate_logs(aws_opts: &AwsOptions, args: ValidateArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    if args.shard.plan.is_some() {
        return super::plan::shard(aws_opts, args, out).await;
    }
    if args.trail.trail_arn.is_empty() {
        return Err(RunError::Usage("--trail-arn is required (or --plan, to run a shard of a plan)".into()));
    }
    let store = args.checkpoint.as_deref().map(checkpoint::Store::parse).transpose()?;
    let earlier = match &store {
        Some(store) => store.load(aws_opts, &args.trail.trail_arn).await?,
        None => None,
    };
    let how = Verification {
        earlier: earlier.as_ref(),
        // JUnit lists every object checked, one test case each.
        record_objects: args.verbose || args.report.is_some() || args.output == report::Format::Junit,
        progress: !args.quiet,
        replay: None,
    };
    let Verified { report, range: requested, .. } = verify(aws_opts, &args.trail, &args.evidence, how).await?;
    if let Some(path) = &args.report {
        let parameters = Parameters {
            command_line: std::env::args().collect(),
            trail_arn: args.trail.trail_arn.clone(),
            start_time: crate::time::display(requested.start),
            end_time: crate::time::display(requested.end),
            source: args.evidence.source.as_ref().map_or("s3".to_string(), |d| d.display().to_string()),
            public_keys: args.evidence.public_keys.as_ref().map_or("ListPublicKeys".to_string(), |p| p.display().to_string()),
        };
        std::fs::write(path, report::evidence::render(&report, &parameters, Utc::now()))
            .map_err(|e| RunError::Unavailable(format!("--report {}: {e}", path.display())))?;
    }
    // Machine formats stay whole documents under --quiet.
    let written = match args.output {
        report::Format::Text if args.quiet => report::text::summary(&report, out),
        format => report::write(&report, format, args.verbose, out),
    };
    written.map_err(|e| RunError::Unavailable(format!("writing the report: {e}")))?;
    if let Some(store) = &store {
        let mut checkpoint = earlier.unwrap_or_else(|| Checkpoint::new(&args.trail.trail_arn));
        checkpoint.advance(verified_heads(&report));
        if checkpoint.chains.is_empty() {
            eprintln!("note: --checkpoint {} not written: no chain verified valid, so there is nothing to resume from", store.describe());
        } else if let Err(e) = store.save(aws_opts, &checkpoint).await {
            // The verdict stands; a run that could not record it has still checked what it says.
            eprintln!("error: writing --checkpoint {}: {e}; the next run resumes from the previous checkpoint", store.describe());
            return Ok(if report.verdict == Verdict::Invalid { 1 } else { 3 });
        }
    }
    Ok(report.verdict.exit_code())
}

/// One job per target: a chain the checkpoint records resumes after its record; the others run
/// over the planned range. Returns the jobs and the range the run covers as a whole.
fn jobs(plan: &Plan, earlier: Option<&Checkpoint>) -> Result<(Vec<pipeline::Job>, Range), RunError> {
    let mut jobs = Vec::new();
    for target in &plan.targets {
        let resume = earlier.and_then(|c| c.head(&target.account_id, &target.source_region)).cloned();
        let range = match &resume {
            Some(record) => {
                if record.head.bucket != target.bucket || target.parse_digest_key(&record.head.key).is_none_or(|(_, backfill)| backfill) {
                    return Err(RunError::Usage(format!(
                        "--checkpoint: its record for account {} region {} is s3://{}/{}, not a digest of this trail's folder s3://{}/{}",
                        target.account_id, target.source_region, record.head.bucket, record.head.key, target.bucket, target.digest_dir())));
                }
                if record.head.end_time >= plan.range.end {
                    return Err(RunError::Usage(format!(
                        "--end-time {} is not after the checkpoint of account {} region {} ({}): nothing is new",
                        crate::time::display(plan.range.end), target.account_id, target.source_region, crate::time::display(record.head.end_time))));
                }
                Range { start: record.head.end_time, end: plan.range.end }
            }
            None => plan.range,
        };
        jobs.push(pipeline::Job { target: target.clone(), range, resume });
    }
    let start = jobs.iter().map(|j| j.range.start).min().unwrap_or(plan.range.start);
    Ok((jobs, Range { start, end: plan.range.end }))
}

/// The chains whose part of the run verified valid, at their newest authentic digest.
fn verified_heads(report: &report::Report) -> Vec<ChainRecord> {
    let now = Utc::now();
    report
        .per_region
        .iter()
        .filter(|r| r.verdict == Verdict::Valid)
        .filter_map(|r| Some(ChainRecord { account_id: r.account_id.clone(), region: r.region.clone(), head: r.head.clone()?, verified_at: now }))
        .collect()
}

/// What a run verified: the validation's report, every target as (account, region), and the range
/// as a whole.
pub(super) struct Verified {
    pub report: report::Report,
    pub targets: Vec<(String, String)>,
    pub range: Range,
}

/// How a command verifies the evidence.
pub(super) struct Verification<'a> {
    /// A checkpoint: its chains resume after their records.
    pub earlier: Option<&'a Checkpoint>,
    /// Keep a record of every object judged.
    pub record_objects: bool,
    /// Show the progress bar (on a terminal, unless --no-progress).
    pub progress: bool,
    /// Where verified log files are replayed (backtest, events).
    pub replay: Option<Arc<dyn pipeline::Replay>>,
}

/// Verifies the evidence: the plan (source, targets, range), the trusted keys, the pipeline, and
/// the key-file hints. validate-logs, backtest and events all verify through here.
pub(super) async fn verify(aws_opts: &AwsOptions, trail: &TrailArgs, evidence: &EvidenceArgs, how: Verification<'_>) -> Result<Verified, RunError> {
    let file_keys = evidence.public_keys.as_deref().map(key_file).transpose()?;
    let saved_status = evidence.trail_status.as_deref().map(status_file).transpose()?;
    let mut plan = plan(aws_opts, trail, evidence.source.as_deref(), how.earlier.and_then(Checkpoint::earliest_end)).await?;
    let (jobs, requested) = jobs(&plan, how.earlier)?;
    if let Some(status) = saved_status {
        plan.status = Some(Ok(status));
    }
    let api_keys = aws::ApiKeys { options: aws_opts.clone() };
    let keys = key_source(&file_keys, &api_keys);
    let options = Options {
        concurrency: trail.concurrency as usize,
        limits: evidence.limits(),
        // A local copy may come from `aws s3 sync`, which drops S3 metadata.
        walk: WalkOptions { signature_from_successor: evidence.source.is_some() },
        now: Utc::now(),
        record_objects: how.record_objects,
        read_attempts: aws_opts.max_attempts.unwrap_or(3),
    };
    let targets: Vec<(String, String)> = plan.targets.iter().map(|t| (t.account_id.clone(), t.source_region.clone())).collect();
    let mut ctx = Context::new(plan.source, keys, plan.status, options, how.progress && !trail.no_progress);
    if let Some(replay) = how.replay {
        ctx = ctx.with_replay(replay);
    }
    let mut report = pipeline::validate(&ctx, &jobs, requested).await;
    ctx.progress.finish();
    if let Some(path) = &evidence.public_keys {
        report.findings.extend(key_file_hints(&report, path, requested));
    }
    Ok(Verified { report, targets, range: requested })
}

pub(super) async fn export(aws_opts: &AwsOptions, args: ExportArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let file_keys = args.public_keys.as_deref().map(key_file).transpose()?;
    let plan = plan(aws_opts, &args.trail, None, None).await?;
    let (jobs, range) = jobs(&plan, None)?;
    std::fs::create_dir_all(&args.out).map_err(|e| RunError::Usage(format!("--out {}: {e}", args.out.display())))?;
    let api_keys = aws::ApiKeys { options: aws_opts.clone() };
    let keys = RecordingKeys::new(key_source(&file_keys, &api_keys));
    let recorder = Arc::new(RecordingSource::new(plan.source, &args.out, crate::export::max_object_bytes(&crate::limits::Limits::default())));
    let options = Options { concurrency: args.trail.concurrency as usize, record_objects: false, read_attempts: aws_opts.max_attempts.unwrap_or(3), ..Options::default() };
    let status = plan.status.clone();
    let ctx = Context::new(recorder.clone(), &keys, plan.status, options, !args.trail.no_progress);
    // Validating through the recorder copies exactly what a validation reads.
    let report = pipeline::validate(&ctx, &jobs, range).await;
    ctx.progress.finish();
    let failures = recorder.copy_listed().await;
    let manifest = recorder.manifest();
    write_json(&args.out.join("public-keys.json"), &keys.to_json())?;
    let status_saved = match status {
        Some(Ok(status)) => {
            let value = serde_json::to_value(status).map_err(|e| RunError::Unavailable(e.to_string()))?;
            write_json(&args.out.join("trail-status.json"), &value)?;
            true
        }
        _ => false,
    };
    let document = crate::export::Manifest {
        schema_version: Default::default(),
        tool: report::evidence::Tool::THIS,
        trail_arn: args.trail.trail_arn.clone(),
        start_time: crate::time::display(plan.range.start),
        end_time: crate::time::display(plan.range.end),
        exported_at: crate::time::display(Utc::now()),
        regions: report.regions.clone(),
        accounts: report.accounts.clone(),
        objects: manifest.clone(),
    };
    write_json(&args.out.join("manifest.json"), &serde_json::to_value(document).map_err(|e| RunError::Unavailable(e.to_string()))?)?;
    let bytes: u64 = manifest.iter().map(|m| m.size).sum();
    let io = |e: std::io::Error| RunError::Unavailable(format!("writing output: {e}"));
    writeln!(out, "Exported {} objects ({bytes} bytes) to {}", manifest.len(), args.out.display()).map_err(io)?;
    for (b, k, e) in &failures {
        writeln!(out, "NOT COPIED\ts3://{b}/{k}\t{e}").map_err(io)?;
    }
    writeln!(out, "Verify offline with: trailproof validate-logs --source {0} --public-keys {0}/public-keys.json{5} --trail-arn {1} --start-time {2} --end-time {3}{4}",
        args.out.display(), args.trail.trail_arn, crate::time::display(plan.range.start), crate::time::display(plan.range.end),
        if args.trail.all_regions { " --all-regions" } else { "" },
        if status_saved { format!(" --trail-status {}/trail-status.json", args.out.display()) } else { String::new() }).map_err(io)?;
    writeln!(out, "Validation while exporting: {:?}", report.verdict).map_err(io)?;
    // The copy is incomplete if anything could not be read.
    Ok(if failures.is_empty() && report.verdict != Verdict::Incomplete { 0 } else { 3 })
}

pub(super) async fn keys_export(aws_opts: &AwsOptions, args: KeysExportArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let range = range_args(&args.start_time, args.end_time.as_deref())?;
    let regions = if args.key_regions.is_empty() { vec![aws_opts.region.clone().unwrap_or_else(|| "us-east-1".into())] } else { args.key_regions };
    let api = aws::ApiKeys { options: aws_opts.clone() };
    let keys = RecordingKeys::new(&api);
    for region in &regions {
        keys.keys(region, range.start, range.end).await.map_err(RunError::Unavailable)?;
    }
    write_json(&args.out, &keys.to_json())?;
    writeln!(out, "Wrote the public keys of {} for {} to {} to {}", regions.join(", "), crate::time::display(range.start), crate::time::display(range.end), args.out.display())
        .map_err(|e| RunError::Unavailable(e.to_string()))?;
    Ok(0)
}

/// A key file that signed none of a region's digests is most likely for another region or range:
/// one warning per such region, beside its `digest_key_unknown` errors (which keep the verdict),
/// saying how to write the right file. A region where some digest verified, or where a key matched
/// but its signature failed, gets none: the file is the right one there.
pub(super) fn key_file_hints(report: &report::Report, key_file: &std::path::Path, range: Range) -> Vec<crate::finding::Finding> {
    use crate::finding::{FindingKind, Scope};
    // ListPublicKeys is asked for the range widened so; the file should cover as much.
    let margin = chrono::Duration::hours(2);
    let mut hints = Vec::new();
    for r in &report.per_region {
        let here = |f: &&crate::finding::Finding| f.account_id == r.account_id && f.region == r.region;
        let unknown: Vec<_> = report.findings.iter().filter(here).filter(|f| f.kind == FindingKind::DigestKeyUnknown).collect();
        let matched = r.summary.digests.valid + r.summary.backfill_digests.valid > 0
            || report.findings.iter().filter(here).any(|f| f.kind == FindingKind::DigestSignatureInvalid);
        let Some(first) = unknown.first() else { continue };
        if matched {
            continue;
        }
        let folder = format!("CloudTrail-Digest/{}/", r.region);
        let prefix = match first.key.find(&folder) {
            Some(at) => first.key[..at + folder.len()].to_string(),
            None => first.key.clone(),
        };
        let (start, end) = (crate::time::display(range.start - margin), crate::time::display(range.end + margin));
        let scope = Scope { account_id: r.account_id.clone(), region: r.region.clone() };
        let message = format!(
            "none of the {} digests of {} {} was signed by a key in --public-keys {}: the file may be for another region or time range; write the right one with `trailproof keys export --key-region {} --start-time {start} --end-time {end} --out keys.json`",
            unknown.len(), r.account_id, r.region, key_file.display(), r.region
        );
        hints.push(scope.finding(FindingKind::KeyFileMismatch, &first.bucket, &prefix, message).with("key_file", key_file.display().to_string()).with("digests", unknown.len()));
    }
    hints
}

/// In `--source` mode without `--s3-bucket`, the evidence directory must hold exactly one bucket.
fn only_subdirectory(dir: &std::path::Path) -> Result<String, RunError> {
    let entries = std::fs::read_dir(dir).map_err(|e| RunError::Usage(format!("--source {}: {e}", dir.display())))?;
    let buckets: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    match &buckets[..] {
        [one] => Ok(one.clone()),
        _ => Err(RunError::Usage(format!(
            "--source {} holds {} bucket directories; name one with --s3-bucket",
            dir.display(),
            buckets.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{FindingKind, Scope};
    use crate::report::{Counts, RegionSummary, Report, Summary};

    fn region(name: &str, valid_digests: usize, kinds: &[FindingKind]) -> (RegionSummary, Vec<crate::finding::Finding>) {
        let scope = Scope { account_id: "111122223333".into(), region: name.into() };
        let key = format!("AWSLogs/111122223333/CloudTrail-Digest/{name}/2026/03/01/d.json.gz");
        let findings = kinds.iter().map(|&k| scope.finding(k, "b", &key, "m")).collect();
        let summary = Summary { digests: Counts { valid: valid_digests, invalid: kinds.len() }, ..Summary::default() };
        (RegionSummary { account_id: scope.account_id, region: name.into(), summary, verdict: Verdict::Invalid, head: None, bucket: "b".into(), digest_dir: String::new(), objects: 0..0 }, findings)
    }

    /// Only a region where the file signed nothing gets the hint: not where a digest verified, nor
    /// where a key matched but the signature failed, nor where no key was looked up at all.
    #[test]
    fn a_hint_only_where_the_key_file_signed_nothing() {
        use FindingKind::*;
        let regions = [
            region("us-east-1", 0, &[DigestKeyUnknown, DigestKeyUnknown]),
            region("eu-west-1", 3, &[DigestKeyUnknown]),
            region("eu-west-2", 0, &[DigestKeyUnknown, DigestSignatureInvalid]),
            region("eu-west-3", 0, &[DigestMissing]),
        ];
        let range = Range { start: crate::time::parse_user_time("2026-03-01T00:00:00Z").unwrap(), end: crate::time::parse_user_time("2026-03-02T00:00:00Z").unwrap() };
        let report = Report {
            trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/t".into(),
            requested: range,
            found: None,
            regions: regions.iter().map(|r| r.0.region.clone()).collect(),
            accounts: vec!["111122223333".into()],
            summary: Summary::default(),
            findings: regions.iter().flat_map(|r| r.1.clone()).collect(),
            objects: Vec::new(),
            per_region: regions.iter().map(|r| r.0.clone()).collect(),
            resumed_from: Vec::new(),
            verdict: Verdict::Invalid,
        };
        let hints = key_file_hints(&report, std::path::Path::new("keys.json"), range);
        assert_eq!(hints.len(), 1, "{hints:?}");
        let hint = &hints[0];
        assert_eq!((hint.kind, hint.severity, hint.region.as_str()), (FindingKind::KeyFileMismatch, crate::finding::Severity::Warning, "us-east-1"));
        assert_eq!(hint.key, "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/");
        assert!(hint.message.contains("none of the 2 digests") && hint.message.contains("--key-region us-east-1 --start-time 2026-02-28T22:00:00Z --end-time 2026-03-02T02:00:00Z"), "{}", hint.message);
    }
}
