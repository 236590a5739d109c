//! The command line: raw arguments become a validated configuration before any work starts.
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::aws::{self, AwsOptions};
use crate::baseline::{self, builtin, report::BaselineFormat, snapshot::AccountSnapshot, Baseline};
use crate::filter_pattern;
use crate::export::RecordingSource;
use crate::integrity::chain::WalkOptions;
use crate::integrity::completeness::TrailStatus;
use crate::keysource::{FileKeys, KeySource, RecordingKeys};
use crate::limits::Limits;
use crate::report::evidence::Parameters;
use crate::report::{self, Format};
use crate::source::{dir::DirSource, s3::S3Source, Source, SourceError};
use crate::layout::{is_region_name, parse_trail_arn, Target};
use crate::pipeline::{self, Context, Options};
use crate::report::Verdict;
use crate::time::Range;

#[derive(Parser, Debug)]
#[command(name = "trailproof", version, about = "Proves an AWS CloudTrail audit trail is whole and untouched")]
pub struct Cli {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug)]
pub struct AwsArgs {
    /// AWS region for API calls; for validate-logs also the source region whose digests are
    /// checked (default: the trail ARN's region)
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Named profile from the AWS config files (SSO profiles included)
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Send every AWS request to this endpoint (also AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, ...)
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Attempts per AWS request, retries included, with backoff [default: AWS_MAX_ATTEMPTS,
    /// the profile's max_attempts, else 3]; also whole-object re-reads of broken bodies
    #[arg(long, global = true, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,
    /// Seconds to wait for a connection
    #[arg(long, global = true, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,
    /// Seconds to wait for a response to start, and the longest a body may stall
    #[arg(long, global = true, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout: u64,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Verify a trail's digest chain and log files, like `aws cloudtrail validate-logs`
    ValidateLogs(ValidateArgs),
    /// Copy a trail's range (digests, log files, metadata, keys) to a directory for offline checks
    Export(ExportArgs),
    /// Work with CloudTrail's public keys
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check the account's trails, metric filters, alarms and notifications against a baseline
    Baseline(BaselineArgs),
    /// Work with CloudWatch Logs filter patterns, offline
    #[command(subcommand)]
    Filter(FilterCommand),
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: Option<BaselineCommand>,
    #[command(flatten)]
    pub check: BaselineCheckArgs,
}

#[derive(Subcommand, Debug)]
pub enum BaselineCommand {
    /// Write a built-in baseline out as an editable TOML file
    Init(BaselineInitArgs),
}

#[derive(Args, Debug)]
pub struct BaselineChoice {
    /// A built-in baseline (cis, essentials) or a baseline TOML file
    #[arg(long, value_name = "NAME|FILE", default_value = "cis")]
    pub baseline: String,
    /// Set a built-in baseline's parameter, e.g. allowed_ips=203.0.113.10,198.51.100.0
    /// (allowed_ips, home_region, threshold, failed_login_threshold, period)
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
}

#[derive(Args, Debug)]
pub struct BaselineCheckArgs {
    #[command(flatten)]
    pub choice: BaselineChoice,
    /// Output format
    #[arg(long, value_enum, default_value_t = BaselineFormat::Text)]
    pub output: BaselineFormat,
    /// Judge a snapshot saved earlier with --save-snapshot instead of calling AWS
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Also save what was read from AWS, for later offline checks or as evidence
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BaselineInitArgs {
    #[command(flatten)]
    pub choice: BaselineChoice,
    /// The file to write [default: standard output]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum FilterCommand {
    /// Match a filter pattern against events, like CloudWatch's TestMetricFilter
    Test(FilterTestArgs),
}

#[derive(Args, Debug)]
pub struct FilterTestArgs {
    /// The filter pattern, e.g. '{ $.eventName = ConsoleLogin }'
    pub pattern: String,
    /// CloudTrail log files (.json.gz with Records[]), JSON lines, or JSON events [default: stdin]
    pub files: Vec<PathBuf>,
    /// Print only the number of matching events
    #[arg(long)]
    pub count: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Write ListPublicKeys' answer for a range to a file, for `--public-keys` offline
    Export(KeysExportArgs),
}

/// Which trail, which range, and which of its regions and accounts.
#[derive(Args, Debug)]
pub struct TrailArgs {
    /// ARN of the trail, e.g. arn:aws:cloudtrail:us-east-1:111122223333:trail/main
    #[arg(long)]
    pub trail_arn: String,
    /// Validate log files delivered on or after this UTC time (RFC 3339 or 20260301T000000Z)
    #[arg(long)]
    pub start_time: String,
    /// Validate log files delivered on or before this UTC time [default: now]
    #[arg(long)]
    pub end_time: Option<String>,
    /// Bucket holding the digests; skips the DescribeTrails lookup
    #[arg(long)]
    pub s3_bucket: Option<String>,
    /// Key prefix the trail delivers under; used with --s3-bucket or --source
    #[arg(long)]
    pub s3_prefix: Option<String>,
    /// Account whose digests to validate [default: the trail ARN's account]
    #[arg(long, conflicts_with = "all_accounts")]
    pub account_id: Option<String>,
    /// Organization ID of an organization trail (AWSLogs/{o-id}/{account}/ layout), when
    /// DescribeOrganization cannot be called
    #[arg(long)]
    pub organization_id: Option<String>,
    /// Verify every source region found under CloudTrail-Digest/, concurrently
    #[arg(long)]
    pub all_regions: bool,
    /// Verify every member account found in an organization trail's bucket
    #[arg(long)]
    pub all_accounts: bool,
    /// Most object requests in flight at once, per kind (digests, log files)
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Never show the progress bar (it shows only when stdout and stderr are terminals)
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub trail: TrailArgs,
    /// Print one line per file checked
    #[arg(long)]
    pub verbose: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Trust the keys in this file (as printed by `aws cloudtrail list-public-keys`, or by
    /// `trailproof keys export`) instead of calling ListPublicKeys
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,
    /// Validate a local evidence copy laid out as DIR/{bucket}/{key} instead of S3
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// With --source: the trail's GetTrailStatus as `trailproof export` saved it
    /// (DIR/trail-status.json), so the truncated-tail check can run offline
    #[arg(long, value_name = "FILE", requires = "source")]
    pub trail_status: Option<PathBuf>,
    /// Also write a JSON evidence report of the run (every object, verdict and hash) to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Largest digest object read, in bytes
    #[arg(long, default_value_t = Limits::default().max_digest_bytes)]
    pub max_digest_bytes: u64,
    /// Largest inflated digest, in bytes
    #[arg(long, default_value_t = Limits::default().max_digest_inflated)]
    pub max_digest_inflated: u64,
    /// Largest inflated log file hashed, in bytes (guards against gzip bombs)
    #[arg(long, default_value_t = Limits::default().max_log_inflated)]
    pub max_log_inflated: u64,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub trail: TrailArgs,
    /// The directory to write the evidence copy to (created if absent)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Take keys from this file instead of ListPublicKeys (they are copied into the export)
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct KeysExportArgs {
    /// Start of the range (keys valid at any time in it are written)
    #[arg(long)]
    pub start_time: String,
    /// End of the range [default: now]
    #[arg(long)]
    pub end_time: Option<String>,
    /// Region whose keys to write; repeat for several [default: --region, else us-east-1]
    #[arg(long = "key-region", value_name = "REGION")]
    pub key_regions: Vec<String>,
    /// The file to write: {"region": {"PublicKeyList": [...]}}
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Why a run stopped before producing a report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad flags or configuration: exit 2.
    #[error("{0}")]
    Usage(String),
    /// Something needed to check anything at all was unavailable: exit 3.
    #[error("{0}")]
    Unavailable(String),
}

impl RunError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Usage(_) => 2,
            RunError::Unavailable(_) => 3,
        }
    }
}

fn time_arg(flag: &str, value: &str) -> Result<DateTime<Utc>, RunError> {
    crate::time::parse_user_time(value).map_err(|e| RunError::Usage(format!("--{flag}: {e}")))
}

impl AwsArgs {
    fn options(&self) -> AwsOptions {
        AwsOptions {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: self.max_attempts,
            timeouts: aws::Timeouts { connect: std::time::Duration::from_secs(self.connect_timeout), read: std::time::Duration::from_secs(self.read_timeout) },
        }
    }
}

/// Runs the parsed command; returns the exit code.
pub async fn run(cli: Cli, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let aws = cli.aws.options();
    match cli.command {
        Command::ValidateLogs(args) => validate_logs(&aws, args, out).await,
        Command::Export(args) => export(&aws, args, out).await,
        Command::Keys(KeysCommand::Export(args)) => keys_export(&aws, args, out).await,
        Command::Baseline(args) => baseline(&aws, args, out).await,
        Command::Filter(FilterCommand::Test(args)) => filter_test(args, out),
    }
}

fn range_args(start: &str, end: Option<&str>) -> Result<Range, RunError> {
    let start = time_arg("start-time", start)?;
    let end = match end {
        Some(t) => time_arg("end-time", t)?,
        None => Utc::now(),
    };
    if start > end {
        return Err(RunError::Usage("invalid time range: --start-time must not be after --end-time".into()));
    }
    Ok(Range { start, end })
}

/// What a run will look at: the evidence source, its targets (account x region) and the range.
struct Plan {
    source: Arc<dyn Source>,
    targets: Vec<Target>,
    range: Range,
    status: Option<Result<TrailStatus, String>>,
}

async fn plan(aws_opts: &AwsOptions, args: &TrailArgs, source_dir: Option<&std::path::Path>) -> Result<Plan, RunError> {
    let arn = parse_trail_arn(&args.trail_arn).map_err(RunError::Usage)?;
    let range = range_args(&args.start_time, args.end_time.as_deref())?;
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
            let region = aws::bucket_region(&aws::s3_client(&home, aws_opts), &bucket).await.map_err(RunError::Unavailable)?;
            let conf = aws::sdk_config(aws_opts, Some(region)).await;
            (Arc::new(S3Source::new(aws::s3_client(&conf, aws_opts))), bucket, prefix, organization_id, status)
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
        let found: Vec<String> = found.into_iter().filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())).collect();
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
fn key_source<'a>(file: &'a Option<FileKeys>, api: &'a aws::ApiKeys) -> &'a dyn KeySource {
    match file {
        Some(k) => k,
        None => api,
    }
}

fn write_json(path: &std::path::Path, value: &serde_json::Value) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| RunError::Unavailable(e.to_string()))? + "\n";
    std::fs::write(path, text).map_err(|e| RunError::Unavailable(format!("{}: {e}", path.display())))
}

/// A saved GetTrailStatus: trusted as the user vouches for it, like a key file, never read from
/// the evidence on its own.
fn status_file(path: &std::path::Path) -> Result<TrailStatus, RunError> {
    let bytes = std::fs::read(path).map_err(|e| RunError::Usage(format!("--trail-status {}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| RunError::Usage(format!("--trail-status {}: not a saved GetTrailStatus: {e}", path.display())))
}

fn key_file(path: &std::path::Path) -> Result<FileKeys, RunError> {
    let bytes = std::fs::read(path).map_err(|e| RunError::Usage(format!("--public-keys {}: {e}", path.display())))?;
    let keys = FileKeys::parse(&bytes).map_err(|e| RunError::Usage(format!("--public-keys {}: {e}", path.display())))?;
    for (fp, why) in keys.rejected() {
        eprintln!("warning: public key {fp} rejected: {why}");
    }
    Ok(keys)
}

async fn validate_logs(aws_opts: &AwsOptions, args: ValidateArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let file_keys = args.public_keys.as_deref().map(key_file).transpose()?;
    let saved_status = args.trail_status.as_deref().map(status_file).transpose()?;
    let mut plan = plan(aws_opts, &args.trail, args.source.as_deref()).await?;
    if let Some(status) = saved_status {
        plan.status = Some(Ok(status));
    }
    let api_keys = aws::ApiKeys { options: aws_opts.clone() };
    let keys = key_source(&file_keys, &api_keys);
    let options = Options {
        concurrency: args.trail.concurrency as usize,
        limits: Limits { max_digest_bytes: args.max_digest_bytes, max_digest_inflated: args.max_digest_inflated, max_log_inflated: args.max_log_inflated },
        // A local copy may come from `aws s3 sync`, which drops S3 metadata.
        walk: WalkOptions { signature_from_successor: args.source.is_some() },
        now: Utc::now(),
        record_objects: args.verbose || args.report.is_some(),
        read_attempts: aws_opts.max_attempts.unwrap_or(3),
    };
    let ctx = Context::new(plan.source, keys, plan.status, options, !args.trail.no_progress);
    let report = pipeline::validate(&ctx, &plan.targets, plan.range).await;
    ctx.progress.finish();
    if let Some(path) = &args.report {
        let parameters = Parameters {
            command_line: std::env::args().collect(),
            trail_arn: args.trail.trail_arn.clone(),
            start_time: crate::time::display(plan.range.start),
            end_time: crate::time::display(plan.range.end),
            source: args.source.as_ref().map_or("s3".to_string(), |d| d.display().to_string()),
            public_keys: args.public_keys.as_ref().map_or("ListPublicKeys".to_string(), |p| p.display().to_string()),
        };
        std::fs::write(path, report::evidence::render(&report, &parameters, Utc::now()))
            .map_err(|e| RunError::Unavailable(format!("--report {}: {e}", path.display())))?;
    }
    let written = match args.output {
        Format::Text => report::text::write(&report, args.verbose, out),
        Format::Json => report::json::write(&report, out),
    };
    written.map_err(|e| RunError::Unavailable(format!("writing the report: {e}")))?;
    Ok(report.verdict.exit_code())
}

async fn export(aws_opts: &AwsOptions, args: ExportArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let file_keys = args.public_keys.as_deref().map(key_file).transpose()?;
    let plan = plan(aws_opts, &args.trail, None).await?;
    std::fs::create_dir_all(&args.out).map_err(|e| RunError::Usage(format!("--out {}: {e}", args.out.display())))?;
    let api_keys = aws::ApiKeys { options: aws_opts.clone() };
    let keys = RecordingKeys::new(key_source(&file_keys, &api_keys));
    let recorder = Arc::new(RecordingSource::new(plan.source, &args.out, crate::export::max_object_bytes(&crate::limits::Limits::default())));
    let options = Options { concurrency: args.trail.concurrency as usize, record_objects: false, read_attempts: aws_opts.max_attempts.unwrap_or(3), ..Options::default() };
    let status = plan.status.clone();
    let ctx = Context::new(recorder.clone(), &keys, plan.status, options, !args.trail.no_progress);
    // Validating through the recorder copies exactly what a validation reads.
    let report = pipeline::validate(&ctx, &plan.targets, plan.range).await;
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
    write_json(
        &args.out.join("manifest.json"),
        &serde_json::json!({
            "tool": { "name": "trailproof", "version": env!("CARGO_PKG_VERSION") },
            "trail_arn": args.trail.trail_arn,
            "start_time": crate::time::display(plan.range.start),
            "end_time": crate::time::display(plan.range.end),
            "exported_at": crate::time::display(Utc::now()),
            "regions": report.regions,
            "accounts": report.accounts,
            "objects": manifest,
        }),
    )?;
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

async fn keys_export(aws_opts: &AwsOptions, args: KeysExportArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
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

/// In `--source` mode without `--s3-bucket`, the evidence directory must hold exactly one bucket.
fn load_baseline(choice: &BaselineChoice) -> Result<Baseline, RunError> {
    if builtin::NAMES.contains(&choice.baseline.as_str()) {
        let mut params = builtin::Params::default();
        for p in &choice.params {
            params.set(p).map_err(RunError::Usage)?;
        }
        let baseline = builtin::by_name(&choice.baseline, &params).ok_or_else(|| RunError::Usage(format!("no built-in baseline {}", choice.baseline)))?;
        // Parameters reach patterns (IP lists, regions): refuse a combination that breaks a rule.
        baseline.compile().map_err(|e| RunError::Usage(format!("--param: {e}")))?;
        return Ok(baseline);
    }
    if !choice.params.is_empty() {
        return Err(RunError::Usage("--param applies to built-in baselines; edit the baseline file instead".into()));
    }
    let text = std::fs::read_to_string(&choice.baseline)
        .map_err(|e| RunError::Usage(format!("--baseline {}: not a built-in baseline ({}) and not a readable file: {e}", choice.baseline, builtin::NAMES.join(", "))))?;
    Baseline::from_toml(&text).map_err(|e| RunError::Usage(format!("{}: {e}", choice.baseline)))
}

async fn baseline(aws_opts: &AwsOptions, args: BaselineArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    if let Some(BaselineCommand::Init(init)) = args.command {
        let b = load_baseline(&init.choice)?;
        let text = format!("{}{}", baseline::model::FILE_HEADER, b.to_toml());
        match &init.out {
            Some(path) => std::fs::write(path, text).map_err(|e| RunError::Unavailable(format!("{}: {e}", path.display())))?,
            None => out.write_all(text.as_bytes()).map_err(|e| RunError::Unavailable(e.to_string()))?,
        }
        return Ok(0);
    }
    let args = args.check;
    let b = load_baseline(&args.choice)?;
    let snapshot = match &args.snapshot {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| RunError::Usage(format!("--snapshot {}: {e}", path.display())))?;
            serde_json::from_slice::<AccountSnapshot>(&bytes).map_err(|e| RunError::Usage(format!("--snapshot {}: not a trailproof snapshot: {e}", path.display())))?
        }
        None => baseline::gather::gather(aws_opts).await.map_err(RunError::Unavailable)?,
    };
    if let Some(path) = &args.save_snapshot {
        let value = serde_json::to_value(&snapshot).map_err(|e| RunError::Unavailable(e.to_string()))?;
        write_json(path, &value)?;
    }
    let report = baseline::evaluate(&b, &snapshot, Utc::now());
    baseline::report::write(&report, args.output, out).map_err(|e| RunError::Unavailable(format!("writing the report: {e}")))?;
    Ok(report.exit_code())
}

fn filter_test(args: FilterTestArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let pattern = filter_pattern::parse(&args.pattern).map_err(|e| RunError::Usage(format!("invalid filter pattern: {e}\n  {}\n  {}^", args.pattern, " ".repeat(e.offset.min(args.pattern.len())))))?;
    let limit = Limits::default().max_log_inflated;
    let inputs: Vec<(String, Vec<u8>)> = if args.files.is_empty() {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|e| RunError::Unavailable(format!("stdin: {e}")))?;
        vec![("stdin".into(), buf)]
    } else {
        args.files
            .iter()
            .map(|f| std::fs::read(f).map(|b| (f.display().to_string(), b)).map_err(|e| RunError::Usage(format!("{}: {e}", f.display()))))
            .collect::<Result<_, _>>()?
    };
    let (mut total, mut matched) = (0usize, 0usize);
    let io = |e: std::io::Error| RunError::Unavailable(e.to_string());
    for (name, bytes) in inputs {
        let events = filter_pattern::read_events(&bytes, limit).map_err(|e| RunError::Usage(format!("{name}: {e}")))?;
        total += events.len();
        for event in events.iter().filter(|e| pattern.matches(e)) {
            matched += 1;
            if !args.count {
                writeln!(out, "{}", event.text()).map_err(io)?;
            }
        }
    }
    if args.count {
        writeln!(out, "{matched}").map_err(io)?;
    } else {
        eprintln!("{matched} of {total} events matched");
    }
    Ok(0)
}

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
