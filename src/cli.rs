//! The command line: raw arguments become a validated configuration before any work starts.
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use clap::{Args, Parser, Subcommand};

use crate::aws::{self, AwsOptions};
use crate::keys::KeyRing;
use crate::limits::Limits;
use crate::report::{self, Format};
use crate::source::{dir::DirSource, s3::S3Source, Source};
use crate::validate::{self, Options, Range, Target};

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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Verify a trail's digest chain and log files, like `aws cloudtrail validate-logs`
    ValidateLogs(ValidateArgs),
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
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
    #[arg(long)]
    pub account_id: Option<String>,
    /// Print one line per file checked
    #[arg(long)]
    pub verbose: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Trust the keys in this file (JSON as printed by `aws cloudtrail list-public-keys`)
    /// instead of calling ListPublicKeys
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,
    /// Validate a local evidence copy laid out as DIR/{bucket}/{key} instead of S3
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// Most object requests in flight at once
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
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

/// The parts of a trail ARN: arn:{partition}:cloudtrail:{region}:{account}:trail/{name}.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn {
    pub region: String,
    pub account_id: String,
    pub name: String,
}

pub fn parse_trail_arn(arn: &str) -> Result<TrailArn, String> {
    let bad = || format!("invalid trail ARN '{arn}': expected arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = parts[..] else { return Err(bad()) };
    let name = resource.strip_prefix("trail/").ok_or_else(bad)?;
    let ok = scheme == "arn"
        && !partition.is_empty()
        && service == "cloudtrail"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.contains('/');
    if !ok {
        return Err(bad());
    }
    Ok(TrailArn { region: region.into(), account_id: account.into(), name: name.into() })
}

fn time_arg(flag: &str, value: &str) -> Result<DateTime<Utc>, RunError> {
    crate::time::parse_user_time(value).map_err(|e| RunError::Usage(format!("--{flag}: {e}")))
}

impl AwsArgs {
    fn options(&self) -> AwsOptions {
        AwsOptions { region: self.region.clone(), profile: self.profile.clone(), endpoint_url: self.endpoint_url.clone() }
    }
}

/// Runs the parsed command; returns the exit code.
pub async fn run(cli: Cli, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    match cli.command {
        Command::ValidateLogs(args) => validate_logs(&cli.aws.options(), args, out).await,
    }
}

async fn validate_logs(aws_opts: &AwsOptions, args: ValidateArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let arn = parse_trail_arn(&args.trail_arn).map_err(RunError::Usage)?;
    let start = time_arg("start-time", &args.start_time)?;
    let end = match &args.end_time {
        Some(t) => time_arg("end-time", t)?,
        None => Utc::now(),
    };
    if start > end {
        return Err(RunError::Usage("invalid time range: --start-time must not be after --end-time".into()));
    }
    let range = Range { start, end };
    let source_region = aws_opts.region.clone().unwrap_or_else(|| arn.region.clone());
    let limits = Limits {
        max_digest_bytes: args.max_digest_bytes,
        max_digest_inflated: args.max_digest_inflated,
        max_log_inflated: args.max_log_inflated,
    };
    let options = Options { concurrency: args.concurrency as usize, limits };

    let keys = match &args.public_keys {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| RunError::Usage(format!("--public-keys {}: {e}", path.display())))?;
            KeyRing::from_list_public_keys_json(&bytes).map_err(|e| RunError::Usage(format!("--public-keys {}: {e}", path.display())))?
        }
        None => {
            // Widened by two hours each side so that keys rotating near the ends are covered.
            let conf = aws::sdk_config(aws_opts, Some(source_region.clone())).await;
            aws::list_public_keys(&aws::cloudtrail_client(&conf), start - Duration::hours(2), end + Duration::hours(2))
                .await
                .map_err(RunError::Unavailable)?
        }
    };
    for (fp, why) in keys.rejected() {
        eprintln!("warning: public key {fp} rejected: {why}");
    }

    let (source, bucket, prefix): (Arc<dyn Source>, String, Option<String>) = match &args.source {
        Some(dir) => {
            let bucket = match &args.s3_bucket {
                Some(b) => b.clone(),
                None => only_subdirectory(dir)?,
            };
            (Arc::new(DirSource::new(dir)), bucket, args.s3_prefix.clone())
        }
        None => {
            let home = aws::sdk_config(aws_opts, Some(arn.region.clone())).await;
            let (bucket, prefix) = match &args.s3_bucket {
                Some(b) => (b.clone(), args.s3_prefix.clone()),
                None => {
                    let info = aws::describe_trail(&aws::cloudtrail_client(&home), &args.trail_arn).await.map_err(RunError::Unavailable)?;
                    (info.bucket, args.s3_prefix.clone().or(info.prefix))
                }
            };
            let region = aws::bucket_region(&aws::s3_client(&home, aws_opts), &bucket).await.map_err(RunError::Unavailable)?;
            let conf = aws::sdk_config(aws_opts, Some(region)).await;
            (Arc::new(S3Source::new(aws::s3_client(&conf, aws_opts))), bucket, prefix)
        }
    };

    let target = Target {
        trail_arn: args.trail_arn.clone(),
        trail_name: arn.name.clone(),
        home_region: arn.region.clone(),
        source_region,
        account_id: args.account_id.clone().unwrap_or(arn.account_id.clone()),
        bucket,
        prefix,
    };
    let report = validate::validate(source, &target, range, &keys, &options).await;
    let written = match args.output {
        Format::Text => report::text::write(&report, args.verbose, out),
        Format::Json => report::json::write(&report, out),
    };
    written.map_err(|e| RunError::Unavailable(format!("writing the report: {e}")))?;
    Ok(report.verdict.exit_code())
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

    #[test]
    fn trail_arns_are_checked() {
        let a = parse_trail_arn("arn:aws:cloudtrail:us-east-1:111122223333:trail/main").unwrap();
        assert_eq!(a, TrailArn { region: "us-east-1".into(), account_id: "111122223333".into(), name: "main".into() });
        assert!(parse_trail_arn("arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/x").is_ok());
        for bad in [
            "",
            "arn:aws:cloudtrail:us-east-1:111122223333:main",
            "arn:aws:s3:us-east-1:111122223333:trail/main",
            "arn:aws:cloudtrail:us-east-1:1111:trail/main",
            "arn:aws:cloudtrail::111122223333:trail/main",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/",
        ] {
            assert!(parse_trail_arn(bad).is_err(), "{bad}");
        }
    }
}
