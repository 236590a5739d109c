//! The command line: raw arguments become a validated configuration before any work starts. The
//! flags live here; each command's run lives beside it (`trail`: validate-logs, export, keys
//! export; `account`: baseline, filter test).
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::aws::{self, AwsOptions};
use crate::limits::Limits;
use crate::report::Format;

mod account;
mod checkpoint;
mod help;
mod location;
mod plan;
mod replay;
mod trail;

#[derive(Parser, Debug)]
#[command(name = "trailproof", version, propagate_version = true, about = "Proves an AWS CloudTrail audit trail is whole and untouched", after_long_help = help::TOP)]
pub struct Cli {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The AWS CLI's global options, under their own heading in every command's help.
#[derive(Args, Debug)]
pub struct AwsArgs {
    /// AWS region for API calls; for validate-logs also the source region whose digests are
    /// checked (default: the trail ARN's region)
    #[arg(long, global = true, help_heading = AWS_OPTIONS)]
    pub region: Option<String>,
    /// Named profile from the AWS config files (SSO profiles included)
    #[arg(long, global = true, help_heading = AWS_OPTIONS)]
    pub profile: Option<String>,
    /// Send every AWS request to this endpoint (also AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, ...)
    #[arg(long, global = true, help_heading = AWS_OPTIONS, value_parser = endpoint_url)]
    pub endpoint_url: Option<String>,
    /// Attempts per AWS request, retries included, with backoff [default: AWS_MAX_ATTEMPTS,
    /// the profile's max_attempts, else 3]; also whole-object re-reads of broken bodies
    #[arg(long, global = true, help_heading = AWS_OPTIONS, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,
    /// Seconds to wait for a connection
    #[arg(long, global = true, help_heading = AWS_OPTIONS, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,
    /// Seconds to wait for a response to start, and the longest a body may stall
    #[arg(long, global = true, help_heading = AWS_OPTIONS, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout: u64,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Verify a trail's digest chain and log files, like `aws cloudtrail validate-logs`
    #[command(after_long_help = help::VALIDATE_LOGS)]
    ValidateLogs(ValidateArgs),
    /// Copy a trail's range (digests, log files, metadata, keys) to a directory for offline checks
    #[command(after_long_help = help::EXPORT)]
    Export(ExportArgs),
    /// Work with CloudTrail's public keys
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check the account's trails, metric filters, alarms and notifications against a baseline
    #[command(after_long_help = help::BASELINE)]
    Baseline(BaselineArgs),
    /// Work with CloudWatch Logs filter patterns, offline
    #[command(subcommand)]
    Filter(FilterCommand),
    /// Replay verified evidence through the account's metric filters and alarms: how often each
    /// alarm would have paged
    #[command(after_long_help = help::BACKTEST)]
    Backtest(BacktestArgs),
    /// Print the records of verified log files only, one JSON object per line
    #[command(after_long_help = help::EVENTS)]
    Events(EventsArgs),
    /// Plan an organization-scale audit: one unit per account and region (or time slice), for an
    /// array job whose children run `validate-logs --plan`
    #[command(after_long_help = help::PLAN)]
    Plan(PlanArgs),
    /// Join the unit reports of a planned audit's shards into one validate-logs report
    #[command(after_long_help = help::MERGE)]
    Merge(MergeArgs),
    /// Print the JSON Schema (draft 2020-12) of a JSON document trailproof writes
    #[command(after_long_help = help::SCHEMA)]
    Schema(SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(after_long_help = help::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --out
    #[command(after_long_help = help::MAN)]
    Man(ManArgs),
}

/// `backtest --output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BacktestFormat {
    Text,
    Json,
    /// One self-contained page (with --out)
    Html,
}

#[derive(Args, Debug)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub trail: TrailArgs,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Take the filters and alarms from a snapshot saved by `baseline --save-snapshot` instead of
    /// the live account
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub snapshot: Option<PathBuf>,
    /// Replay a baseline's reference filters and expected alarms instead (cis, essentials or a
    /// baseline TOML file): try a proposed set before deploying it
    #[arg(long, value_name = "NAME|FILE")]
    pub baseline: Option<String>,
    /// Set a built-in baseline's parameter (with --baseline), e.g. threshold=5
    #[arg(long = "param", value_name = "KEY=VALUE", requires = "baseline")]
    pub params: Vec<String>,
    /// Also evaluate each alarm at these thresholds, e.g. 1,2,5,10
    #[arg(long, value_name = "T,T,…", value_delimiter = ',')]
    pub threshold_sweep: Vec<f64>,
    /// Output format
    #[arg(short, long, value_enum, default_value_t = BacktestFormat::Text)]
    pub output: BacktestFormat,
    /// Write the report to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    pub trail: TrailArgs,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Print only the records this filter pattern matches, e.g. '{ $.eventName = ConsoleLogin }'
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// Add "_trailproof": {"log_key", "digest_key"} to each record: where it was proven
    #[arg(long)]
    pub provenance: bool,
}

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// The document whose schema to print
    pub document: crate::report::schema::Document,
}

/// The heading of validate-logs' shard flags.
const SHARD: &str = "Shard of a plan (array jobs)";

/// The heading of the AWS CLI's global options in every command's help.
const AWS_OPTIONS: &str = "AWS options";

/// `--endpoint-url` is checked before any request: the SDK reports a bad one with a dump of the
/// whole request.
fn endpoint_url(value: &str) -> Result<String, String> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(value.to_string()),
        _ => Err("not an http:// or https:// URL with a host; give one such as https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000".into()),
    }
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write one page per command (trailproof.1, trailproof-validate-logs.1, …) into DIR instead
    /// of printing the whole command's page
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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
    #[command(after_long_help = help::BASELINE_INIT)]
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
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Text output: print only the summary line (no checks); json, junit and sarif are always
    /// whole documents, so it changes nothing there
    #[arg(short, long)]
    pub quiet: bool,
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
    #[command(after_long_help = help::FILTER_TEST)]
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
    #[command(after_long_help = help::KEYS_EXPORT)]
    Export(KeysExportArgs),
}

/// Which trail, which range, and which of its regions and accounts.
#[derive(Args, Debug)]
pub struct TrailArgs {
    /// ARN of the trail, e.g. arn:aws:cloudtrail:us-east-1:111122223333:trail/main
    #[arg(long)]
    pub trail_arn: String,
    /// Validate log files delivered on or after this time: RFC 3339, 20260301T000000Z, any form
    /// the AWS CLI takes, `now` or `-24h`/`-7d`; with a --checkpoint that has a record, optional
    #[arg(long, allow_hyphen_values = true)]
    pub start_time: Option<String>,
    /// Validate log files delivered on or before this time (the same forms) [default: now]
    #[arg(long, allow_hyphen_values = true)]
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
    /// Most object requests in flight at once, across digests, log files, regions and accounts
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Never show the progress bar (it shows only when stdout and stderr are terminals)
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Args, Debug)]
#[command(mut_arg("trail_arn", |a| a.required(false).required_unless_present("plan").default_value("").hide_default_value(true)))]
pub struct ValidateArgs {
    #[command(flatten)]
    pub trail: TrailArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Print one line per file checked
    #[arg(short, long)]
    pub verbose: bool,
    /// Text output: print only the summary and the verdict (no findings, no progress bar); json,
    /// junit and sarif are always whole documents, so it changes nothing there
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Output format
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Also write a JSON evidence report of the run (every object, verdict and hash) to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Resume each chain after the digest an earlier run verified last, and record the new one:
    /// a file or s3://BUCKET/KEY (absent: a normal run that writes it)
    #[arg(long, value_name = "FILE|S3_URI")]
    pub checkpoint: Option<String>,
}

/// validate-logs as one child of an array job: its shard of a plan's units.
#[derive(Args, Debug)]
pub struct ShardArgs {
    /// Run one shard of this plan (`trailproof plan --out`): a file or s3://BUCKET/KEY. The
    /// trail, accounts, regions and range come from the plan
    #[arg(long, value_name = "FILE|S3_URI", requires = "report_dir", help_heading = SHARD,
          conflicts_with_all = ["trail_arn", "start_time", "end_time", "s3_bucket", "s3_prefix", "account_id", "organization_id", "all_regions", "all_accounts", "checkpoint", "report"])]
    pub plan: Option<String>,
    /// This shard's index, 0 to count-1 [default: AWS_BATCH_JOB_ARRAY_INDEX, else
    /// JOB_COMPLETION_INDEX]
    #[arg(long, value_name = "I", requires = "plan", help_heading = SHARD)]
    pub shard_index: Option<u64>,
    /// How many shards the plan is dealt into [default: AWS_BATCH_JOB_ARRAY_SIZE]
    #[arg(long, value_name = "N", requires = "plan", help_heading = SHARD)]
    pub shard_count: Option<u64>,
    /// Write one JSON report per unit here, as UNIT_ID.json: a directory or s3://BUCKET/PREFIX
    #[arg(long, value_name = "DIR|S3_URI", requires = "plan", help_heading = SHARD)]
    pub report_dir: Option<String>,
}

#[derive(Args, Debug)]
// Planning only lists folders: the verification flags mean nothing here.
#[command(mut_arg("concurrency", |a| a.hide(true)), mut_arg("no_progress", |a| a.hide(true)))]
pub struct PlanArgs {
    #[command(flatten)]
    pub trail: TrailArgs,
    /// Plan from a local evidence copy laid out as DIR/{bucket}/{key} instead of S3
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// Cut each chain into slices of this length (36h, 7d, 2w); neighbouring slices overlap by
    /// one hour, one digest period, so the link across every edge is checked
    #[arg(long, value_name = "DURATION")]
    pub slice: Option<String>,
    /// Write the plan here: a file or s3://BUCKET/KEY
    #[arg(long, value_name = "FILE|S3_URI")]
    pub out: String,
    /// Also print how the units deal into this many shards (units and hours of evidence each)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub shards: Option<u64>,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The plan the shards ran: a file or s3://BUCKET/KEY
    #[arg(long, value_name = "FILE|S3_URI")]
    pub plan: String,
    /// Where the shards wrote their unit reports: a directory or s3://BUCKET/PREFIX
    #[arg(long, value_name = "DIR|S3_URI")]
    pub report_dir: String,
    /// Output format
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Text output: print only the summary and the verdict
    #[arg(short, long)]
    pub quiet: bool,
    /// Reports read at once
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
}

/// Where the evidence and its trusted keys come from, and the limits on reading it: every command
/// that verifies evidence (validate-logs, backtest, events) takes these.
#[derive(Args, Debug)]
pub struct EvidenceArgs {
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

impl EvidenceArgs {
    fn limits(&self) -> Limits {
        Limits { max_digest_bytes: self.max_digest_bytes, max_digest_inflated: self.max_digest_inflated, max_log_inflated: self.max_log_inflated }
    }
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
    /// Start of the range (keys valid at any time in it are written); also `-30d`
    #[arg(long, allow_hyphen_values = true)]
    pub start_time: String,
    /// End of the range [default: now]
    #[arg(long, allow_hyphen_values = true)]
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

fn time_arg(flag: &str, value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, RunError> {
    crate::time::parse_cli_time(value, now).map_err(|e| RunError::Usage(format!("--{flag}: {e}")))
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

impl Cli {
    /// Whether the command checks a local copy of the evidence (`--source`): then it needs no
    /// async runtime thread per core (see main).
    pub fn evidence_is_local(&self) -> bool {
        match &self.command {
            Command::ValidateLogs(args) => args.evidence.source.is_some(),
            Command::Backtest(args) => args.evidence.source.is_some(),
            _ => false,
        }
    }
}

/// Runs the parsed command; returns the exit code.
pub async fn run(cli: Cli, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let aws = cli.aws.options();
    match cli.command {
        Command::ValidateLogs(args) => trail::validate_logs(&aws, args, out).await,
        Command::Export(args) => trail::export(&aws, args, out).await,
        Command::Keys(KeysCommand::Export(args)) => trail::keys_export(&aws, args, out).await,
        Command::Baseline(args) => account::baseline(&aws, args, out).await,
        Command::Filter(FilterCommand::Test(args)) => account::filter_test(args, out),
        Command::Backtest(args) => replay::backtest(&aws, args, out).await,
        Command::Events(args) => replay::events(&aws, args, out).await,
        Command::Plan(args) => plan::plan(&aws, args, out).await,
        Command::Merge(args) => plan::merge(&aws, args, out).await,
        Command::Schema(args) => account::schema(args, out),
        Command::Completions(args) => help::completions(args, out),
        Command::Man(args) => help::man(args, out),
    }
}

fn write_json(path: &std::path::Path, value: &serde_json::Value) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| RunError::Unavailable(e.to_string()))? + "\n";
    std::fs::write(path, text).map_err(|e| RunError::Unavailable(format!("{}: {e}", path.display())))
}

/// Standard output for a run. A reader that goes away (`trailproof … | head`) is not a failure
/// of the run: from then on output is dropped, and the run ends with its own exit code.
pub struct Output<W: std::io::Write> {
    inner: W,
    reader_gone: bool,
}

impl<W: std::io::Write> Output<W> {
    pub fn new(inner: W) -> Self {
        Output { inner, reader_gone: false }
    }

    fn gone<T>(&mut self, result: std::io::Result<T>, dropped: T) -> std::io::Result<T> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.reader_gone = true;
                Ok(dropped)
            }
            other => other,
        }
    }
}

impl<W: std::io::Write> std::io::Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.reader_gone {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.gone(result, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.reader_gone {
            return Ok(());
        }
        let result = self.inner.flush();
        self.gone(result, ())
    }
}
