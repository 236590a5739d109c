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
#[allow(clippy::large_enum_variant)] // parsed once
enum Command {
    /// Write each region's public test keys as list-public-keys JSON ({region}.json)
    PublicKeys {
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure the machine's limit: inflate + SHA-256 of every log file under DIR in a tight loop
    /// on every core, plus single-core figures for the candidate crates. Prints JSON.
    CpuLimit {
        #[arg(long)]
        dir: PathBuf,
        /// Passes over the data; the best is kept
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Only the limit on every core, without the single-core figures: one sample of it, for
        /// a benchmark that alternates it with trailproof's runs
        #[arg(long)]
        all_cores_only: bool,
    },
    /// Write the bundled sample trail (testdata/sample) to a directory
    Sample {
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the noise month (30 days of an eu-west-1 trail with planted alarm noise) to a
    /// directory, and the account snapshot of its filters and alarms to --snapshot
    NoiseMonth {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        snapshot: Option<PathBuf>,
    },
    /// Generate a directory of TEST keys for long simulated trails (benchmarks): a new 2048-bit key
    /// every 20 days, each valid 30 days, as CloudTrail rotates. Derived from --seed, so the same
    /// arguments give the same keys. Writes keyset.json, the private keys, public-keys/{region}.json
    /// and a README saying they are test keys.
    Keygen {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// When the first key becomes valid
        #[arg(long)]
        from: String,
        /// Keys are made until one is valid past this time
        #[arg(long)]
        until: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The benchmark's ideal client: GET every object of a local copy's bucket from S3 (endpoint
    /// from the environment), N requests in flight, reading each body whole; no listing, no
    /// checks. Prints {"objects": n, "bytes": n}.
    GetAll {
        /// The local copy whose {bucket}/{key} files name the objects
        #[arg(long)]
        keys_from: PathBuf,
        #[arg(long)]
        bucket: String,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
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
    // Only the simulator commands need keys.
    let keyset = match cli.command {
        Command::CpuLimit { .. } | Command::Keygen { .. } | Command::GetAll { .. } => Default::default(),
        _ => sim::load_keyset(&cli.keys_dir)?,
    };
    match cli.command {
        Command::PublicKeys { out } => {
            std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
            for (region, keys) in &keyset {
                let json = serde_json::to_string_pretty(&sim::public_keys(keys).to_list_public_keys_json()).map_err(|e| e.to_string())?;
                std::fs::write(out.join(format!("{region}.json")), json + "\n").map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Command::Keygen { out, region, from, until, seed } => {
            let (from, until) = (trailproof::time::parse_user_time(&from)?, trailproof::time::parse_user_time(&until)?);
            let made = sim::generate_keys(&out, &region, from, until, seed)?;
            println!("{made} test keys for {region} in {}", out.display());
            Ok(())
        }
        Command::GetAll { keys_from, bucket, concurrency } => {
            use futures::StreamExt;
            let root = keys_from.join(&bucket);
            let keys: Vec<String> = files_under(&root)?
                .iter()
                .filter(|p| !p.to_string_lossy().ends_with(trailproof::source::dir::SIDECAR_SUFFIX))
                .map(|p| p.strip_prefix(&root).map(|k| k.to_string_lossy().into_owned()).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?;
            let conf = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
            let client = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
            let gets = futures::stream::iter(&keys).map(|key| {
                let (client, bucket) = (client.clone(), bucket.clone());
                async move {
                    let object = client.get_object().bucket(bucket).key(key).send().await.map_err(|e| format!("{key}: {e}"))?;
                    let body = object.body.collect().await.map_err(|e| format!("{key}: {e}"))?;
                    Ok::<usize, String>(body.into_bytes().len())
                }
            });
            let sizes: Vec<Result<usize, String>> = gets.buffer_unordered(concurrency.max(1)).collect().await;
            let bytes = sizes.into_iter().collect::<Result<Vec<_>, _>>()?.into_iter().sum::<usize>();
            println!("{}", serde_json::json!({"objects": keys.len(), "bytes": bytes}));
            Ok(())
        }
        Command::CpuLimit { dir, rounds, all_cores_only } => {
            println!("{}", cpu::limit(&dir, rounds, !all_cores_only)?);
            Ok(())
        }
        Command::Sample { out } => {
            let spec = TrailSpec::sample();
            let trail = sim::simulate(&spec, keyset.get(&spec.region).ok_or("keyset.json has no us-east-1 keys")?)?;
            trail.write_dir(&out).map_err(|e| e.to_string())?;
            println!("{} digests, {} log files; trail {}", trail.digest_keys.len(), trail.log_keys.len(), spec.trail_arn());
            Ok(())
        }
        Command::NoiseMonth { out, snapshot } => {
            let spec = sim::noise::month();
            let trail = sim::simulate(&spec, keyset.get(&spec.region).ok_or("keyset.json has no eu-west-1 keys")?)?;
            trail.write_dir(&out).map_err(|e| e.to_string())?;
            if let Some(path) = snapshot {
                let text = serde_json::to_string_pretty(&sim::noise::snapshot(&spec)).map_err(|e| e.to_string())? + "\n";
                std::fs::write(path, text).map_err(|e| e.to_string())?;
            }
            println!("{} digests, {} log files; trail {}, {} to {}", trail.digest_keys.len(), trail.log_keys.len(), spec.trail_arn(), sim::noise::START, sim::noise::END);
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

/// Every file below `dir`, in no particular order.
fn files_under(dir: &std::path::Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let p = e.map_err(|e| e.to_string())?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// The CPU-bound limit of log-file verification on this machine, and the crate choices.
mod cpu {
    use std::io::Read;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use sha2::Digest as _;
    use trailproof::integrity::inflate::Inflater;

    fn log_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
        let is_log = |p: &PathBuf| p.to_string_lossy().contains("/CloudTrail/") && p.to_string_lossy().ends_with(".json.gz");
        Ok(super::files_under(dir)?.into_iter().filter(is_log).collect())
    }

    #[derive(Clone, Copy)]
    enum Inflate {
        ZlibRs,
        Libdeflate,
        None,
    }

    #[derive(Clone, Copy)]
    enum Hash {
        Sha2,
        Ring,
        None,
    }

    /// Scratch space one thread reuses for every file.
    #[derive(Default)]
    struct Scratch {
        inflater: Inflater,
        input: Vec<u8>,
        out: Vec<u8>,
    }

    /// Inflates and hashes one file; returns the inflated size.
    fn one(gz: &[u8], inflate: Inflate, hash: Hash, s: &mut Scratch) -> u64 {
        let mut sha2 = sha2::Sha256::new();
        let mut ring = ring::digest::Context::new(&ring::digest::SHA256);
        let mut feed = |chunk: &[u8]| match hash {
            Hash::Sha2 => sha2.update(chunk),
            Hash::Ring => ring.update(chunk),
            Hash::None => {}
        };
        let n = match inflate {
            Inflate::ZlibRs => {
                let mut d = flate2::read::GzDecoder::new(gz);
                let mut total = 0u64;
                s.out.resize(256 * 1024, 0);
                loop {
                    let n = d.read(&mut s.out).expect("valid gzip");
                    if n == 0 {
                        break total;
                    }
                    feed(&s.out[..n]);
                    total += n as u64;
                }
            }
            Inflate::Libdeflate => {
                let size = u32::from_le_bytes(gz[gz.len() - 4..].try_into().expect("4 bytes")) as usize;
                if s.out.len() < size {
                    s.out.resize(size, 0);
                }
                let n = s.inflater.gunzip_one(gz, &mut s.out[..size]).expect("valid gzip");
                feed(&s.out[..n]);
                n as u64
            }
            Inflate::None => {
                feed(gz);
                gz.len() as u64
            }
        };
        std::hint::black_box((sha2.finalize(), ring.finish()));
        n
    }

    /// Best inflated bytes/second over `rounds` passes of `threads` threads, each running `work` on
    /// its share of `items`.
    fn rate<T: Sync>(items: &[T], threads: usize, rounds: u32, work: impl Fn(&T, &mut Scratch) -> u64 + Sync) -> f64 {
        let mut best = 0f64;
        for _ in 0..rounds {
            let start = Instant::now();
            let bytes: u64 = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let work = &work;
                        s.spawn(move || {
                            let mut scratch = Scratch::default();
                            items.iter().skip(t).step_by(threads).map(|f| work(f, &mut scratch)).sum::<u64>()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().expect("no panic")).sum()
            });
            best = best.max(bytes as f64 / start.elapsed().as_secs_f64());
        }
        best
    }

    /// The limit: open + read + inflate (libdeflate, the fastest engine here) + SHA-256 of every
    /// file on every core, page cache warm (the first round warms it); and, with `single_core`,
    /// single-core rates of the candidates over bytes already in memory.
    pub fn limit(dir: &Path, rounds: u32, single_core: bool) -> Result<String, String> {
        let paths = log_files(dir)?;
        if paths.is_empty() {
            return Err(format!("no log files under {}", dir.display()));
        }
        let files: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
        let compressed: u64 = files.iter().map(|f| f.len() as u64).sum();
        let mut scratch = Scratch::default();
        let inflated: u64 = files.iter().map(|f| one(f, Inflate::ZlibRs, Hash::None, &mut scratch)).sum();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut single = serde_json::Map::new();
        let mut put = |name: &str, inflate, hash| {
            // Rates are of inflated bytes, except the hash-only rows, which hash the gzip bytes.
            single.insert(name.to_string(), serde_json::json!(rate(&files, 1, rounds, |f, s| one(f, inflate, hash, s))));
        };
        if single_core {
            put("zlib-rs+sha2", Inflate::ZlibRs, Hash::Sha2);
            put("zlib-rs+ring", Inflate::ZlibRs, Hash::Ring);
            put("zlib-rs", Inflate::ZlibRs, Hash::None);
            put("libdeflate+sha2", Inflate::Libdeflate, Hash::Sha2);
            put("libdeflate", Inflate::Libdeflate, Hash::None);
            put("sha2 (over gzip bytes)", Inflate::None, Hash::Sha2);
            put("ring (over gzip bytes)", Inflate::None, Hash::Ring);
        }
        let all = rate(&paths, cores, rounds + 1, |path, s| {
            let mut input = std::mem::take(&mut s.input);
            input.clear();
            std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut input)).expect("readable");
            let n = one(&input, Inflate::Libdeflate, Hash::Sha2, s);
            s.input = input;
            n
        });
        Ok(serde_json::json!({
            "files": files.len(),
            "compressed_bytes": compressed,
            "inflated_bytes": inflated,
            "cores": cores,
            "limit": "open + read + libdeflate + sha2 on every core",
            "limit_bytes_per_sec": all,
            "single_core_bytes_per_sec": single,
        })
        .to_string())
    }
}
