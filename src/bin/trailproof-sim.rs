//! `trailproof-sim`: writes simulated, correctly signed CloudTrail trails with the TEST keys in
//! keys/, to a directory (the `--source` layout) or to an S3 endpoint. See README, "Simulator".
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use trailproof::sim::{self, TrailSpec};

#[derive(Parser)]
#[command(name = "trailproof-sim", about = "Simulates signed CloudTrail trails with test keys")]
struct Cli {
    /// Directory holding keyset.json and the test keys
    #[arg(long, default_value = "keys", global = true)]
    keys_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write each region's public test keys as list-public-keys JSON ({region}.json)
    PublicKeys {
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the bundled sample trail (testdata/sample) to a directory
    Sample {
        #[arg(long)]
        out: PathBuf,
    },
    /// Simulate one region of a trail
    Trail {
        /// Write to this directory as {bucket}/{key} with .metadata.json sidecars
        #[arg(long, conflicts_with = "s3")]
        out: Option<PathBuf>,
        /// Upload to S3 instead (credentials and endpoint from the environment, e.g. AWS_ENDPOINT_URL)
        #[arg(long)]
        s3: bool,
        #[arg(long, default_value = "trailproof-sample")]
        bucket: String,
        #[arg(long)]
        prefix: Option<String>,
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// The trail's home region [default: --region]
        #[arg(long)]
        home_region: Option<String>,
        /// Write an organization trail's layout (AWSLogs/{o-id}/{account}/)
        #[arg(long)]
        organization_id: Option<String>,
        #[arg(long, default_value = "111122223333")]
        account_id: String,
        #[arg(long, default_value = "management-events")]
        trail_name: String,
        /// Start of the first digest period
        #[arg(long, default_value = "2026-03-01T00:17:42Z")]
        start: String,
        #[arg(long, default_value_t = 36)]
        hours: u32,
        #[arg(long, default_value_t = 2)]
        min_logs: u32,
        #[arg(long, default_value_t = 5)]
        max_logs: u32,
        #[arg(long, default_value_t = 3)]
        min_records: u32,
        #[arg(long, default_value_t = 12)]
        max_records: u32,
        /// Hours (0-based) with logging stopped, e.g. --stopped 20 --stopped 21
        #[arg(long)]
        stopped: Vec<u32>,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("trailproof-sim: {e}");
        std::process::exit(2);
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let keyset = sim::load_keyset(&cli.keys_dir)?;
    match cli.command {
        Command::PublicKeys { out } => {
            std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
            for (region, keys) in &keyset {
                let json = serde_json::to_string_pretty(&sim::public_keys(keys).to_list_public_keys_json()).map_err(|e| e.to_string())?;
                std::fs::write(out.join(format!("{region}.json")), json + "\n").map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Command::Sample { out } => {
            let spec = TrailSpec::sample();
            let trail = sim::simulate(&spec, keyset.get(&spec.region).ok_or("keyset.json has no us-east-1 keys")?)?;
            trail.write_dir(&out).map_err(|e| e.to_string())?;
            println!("{} digests, {} log files; trail {}", trail.digest_keys.len(), trail.log_keys.len(), spec.trail_arn());
            Ok(())
        }
        Command::Trail { out, s3, bucket, prefix, region, home_region, organization_id, account_id, trail_name, start, hours, min_logs, max_logs, min_records, max_records, stopped, seed } => {
            let start = trailproof::time::parse_user_time(&start)?;
            let keys = keyset.get(&region).ok_or_else(|| format!("keyset.json has no keys for {region}"))?;
            let spec = TrailSpec {
                account_id,
                region: region.clone(),
                trail_name,
                bucket: bucket.clone(),
                prefix,
                start,
                hours,
                logs_per_hour: (min_logs, max_logs.max(min_logs)),
                records_per_log: (min_records, max_records.max(min_records)),
                empty_hour_chance: 0.1,
                stopped_hours: stopped,
                seed,
                home_region: home_region.unwrap_or(region.clone()),
                organization_id,
                ..TrailSpec::new(&bucket, start, hours)
            };
            let trail = sim::simulate(&spec, keys)?;
            if let Some(dir) = out {
                trail.write_dir(&dir).map_err(|e| e.to_string())?;
            } else if s3 {
                let conf = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
                let client = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
                let _ = client.create_bucket().bucket(&bucket).send().await;
                trail.upload(&client, 32).await?;
            } else {
                return Err("give --out DIR or --s3".into());
            }
            println!("{} digests, {} log files; trail {}", trail.digest_keys.len(), trail.log_keys.len(), spec.trail_arn());
            Ok(())
        }
    }
}
