//! backtest and events: verify the evidence, then replay the records of the verified log files
//! (through the account's alarms, or out as JSON lines). Nothing from a log file that did not
//! verify is ever replayed.
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::account::load_baseline;
use super::trail::{verify, Verification, Verified};
use super::*;
use crate::backtest::definitions::Definitions;
use crate::backtest::replay::Replay;
use crate::backtest::report::{self as backtest_report, Inputs};
use crate::baseline::snapshot::AccountSnapshot;
use crate::filter_pattern::{FilterPattern, LogEvent};
use crate::finding::Scope;

/// The filters and alarms to replay: a baseline's, a snapshot's, or the live account's.
async fn definitions(aws_opts: &AwsOptions, args: &BacktestArgs) -> Result<Definitions, RunError> {
    if let Some(name) = &args.baseline {
        let choice = BaselineChoice { baseline: name.clone(), params: args.params.clone() };
        let (baseline, named, _) = load_baseline(&choice)?;
        let compiled = baseline.compile().map_err(|e| RunError::Usage(format!("{named}: {e}")))?;
        return Definitions::from_baseline(&compiled).map_err(RunError::Usage);
    }
    let snapshot = match &args.snapshot {
        Some(path) => read_snapshot(path)?,
        None => crate::baseline::gather::gather(aws_opts).await.map_err(|e| RunError::Unavailable(format!("reading the account's filters and alarms: {e}")))?,
    };
    let from = args.snapshot.as_ref().map_or("the account".to_string(), |p| format!("--snapshot {}", p.display()));
    Definitions::from_snapshot(&snapshot, &args.trail.trail_arn).map_err(|e| RunError::Usage(format!("{from}: {e}")))
}

fn read_snapshot(path: &Path) -> Result<AccountSnapshot, RunError> {
    let bytes = std::fs::read(path).map_err(|e| RunError::Usage(format!("--snapshot {}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| RunError::Usage(format!("--snapshot {}: not a snapshot saved by `baseline --save-snapshot`: {e}", path.display())))
}

pub(super) async fn backtest(aws_opts: &AwsOptions, args: BacktestArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    if args.threshold_sweep.iter().any(|t| !t.is_finite()) {
        return Err(RunError::Usage("--threshold-sweep: thresholds are finite numbers, e.g. 1,2,5,10".into()));
    }
    let definitions = definitions(aws_opts, &args).await?;
    let (replay, not_replayed) = Replay::new(definitions);
    let replay = Arc::new(replay);
    let how = Verification { earlier: None, record_objects: false, progress: true, replay: Some(replay.clone()) };
    let Verified { report, targets, range } = verify(aws_opts, &args.trail, &args.evidence, how).await?;
    let replay = Arc::try_unwrap(replay).map_err(|_| RunError::Unavailable("the replay is still in use after the run".into()))?;
    let replayed = replay.finish();
    let inputs = Inputs { trail_arn: &args.trail.trail_arn, range: (range.start, range.end), verdict: report.verdict, targets: &targets, thresholds: &args.threshold_sweep, not_replayed };
    let result = backtest_report::build(&replayed, inputs);
    let mut file;
    let writer: &mut dyn std::io::Write = match &args.out {
        Some(path) => {
            file = std::fs::File::create(path).map_err(|e| RunError::Usage(format!("--out {}: {e}", path.display())))?;
            &mut file
        }
        None => out,
    };
    let written = match args.output {
        BacktestFormat::Text => backtest_report::write_text(&result, writer),
        BacktestFormat::Json => backtest_report::write_json(&result, writer),
        BacktestFormat::Html => crate::backtest::html::write_html(&result, writer),
    };
    written.map_err(|e| RunError::Unavailable(format!("writing the report: {e}")))?;
    evidence_errors(&report);
    Ok(result.exit_code())
}

/// The evidence's error findings, one line each on stderr: validate-logs explains them; a replay
/// only says why the verdict is not valid.
fn evidence_errors(report: &crate::report::Report) {
    for f in report.findings.iter().filter(|f| f.severity == crate::finding::Severity::Error) {
        eprintln!("evidence: {} s3://{}/{}: {}", f.kind, f.bucket, f.key, f.message);
    }
}

/// Writes each verified log file's records as JSON lines, in `eventTime` order within the file.
struct Events {
    filter: Option<FilterPattern>,
    provenance: bool,
    lines: tokio::sync::mpsc::Sender<Vec<u8>>,
    records: Arc<AtomicU64>,
}

impl crate::pipeline::Replay for Events {
    fn covered(&self, _: &Scope, _: chrono::DateTime<Utc>, _: chrono::DateTime<Utc>) {}

    fn unverified(&self, _: &Scope, _: &str, _: (chrono::DateTime<Utc>, chrono::DateTime<Utc>)) {}

    fn verified(&self, _scope: &Scope, _bucket: &str, key: &str, digest: &str, inflated: &[u8]) {
        let Ok(serde_json::Value::Object(mut file)) = serde_json::from_slice::<serde_json::Value>(inflated) else { return };
        let Some(serde_json::Value::Array(mut records)) = file.remove("Records") else { return };
        let time = |r: &serde_json::Value| r.get("eventTime").and_then(serde_json::Value::as_str).and_then(crate::time::parse_cloudtrail_time);
        // Stable: records with the same time (or none) keep CloudTrail's order.
        records.sort_by_cached_key(|r| time(r));
        let mut block = Vec::new();
        let mut n = 0u64;
        for mut record in records {
            if let Some(pattern) = &self.filter {
                let event = LogEvent::from_json(record);
                if !pattern.matches(&event) {
                    continue;
                }
                record = event.json().cloned().unwrap_or_default();
            }
            if self.provenance {
                if let serde_json::Value::Object(fields) = &mut record {
                    fields.insert("_trailproof".into(), serde_json::json!({ "log_key": key, "digest_key": digest }));
                }
            }
            if serde_json::to_writer(&mut block, &record).is_ok() {
                block.push(b'\n');
                n += 1;
            }
        }
        self.records.fetch_add(n, Ordering::Relaxed);
        if !block.is_empty() {
            // Called on a worker thread; waits while the writer catches up (a full channel).
            let _ = self.lines.blocking_send(block);
        }
    }
}

pub(super) async fn events(aws_opts: &AwsOptions, args: EventsArgs, out: &mut dyn std::io::Write) -> Result<i32, RunError> {
    let filter = match &args.filter {
        Some(p) => Some(crate::filter_pattern::parse(p).map_err(|e| RunError::Usage(format!("--filter: {e}")))?),
        None => None,
    };
    let (lines, mut received) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    let records = Arc::new(AtomicU64::new(0));
    let sink = Arc::new(Events { filter, provenance: args.provenance, lines, records: records.clone() });
    // The sink (and with it the channel's only sender) ends with the run, which ends the writer.
    let run = verify(aws_opts, &args.trail, &args.evidence, Verification { earlier: None, record_objects: false, progress: false, replay: Some(sink) });
    let write = async {
        let mut failed = None;
        while let Some(block) = received.recv().await {
            if failed.is_none() {
                failed = out.write_all(&block).err();
            }
        }
        failed
    };
    let (verified, failed) = tokio::join!(run, write);
    let Verified { report, .. } = verified?;
    if let Some(e) = failed {
        return Err(RunError::Unavailable(format!("writing events: {e}")));
    }
    let s = &report.summary;
    eprintln!(
        "{} records from {} verified log files; evidence {} ({} log files not verified, never printed)",
        records.load(Ordering::Relaxed),
        s.log_files.valid,
        report.verdict.as_str(),
        s.log_files.invalid
    );
    evidence_errors(&report);
    Ok(report.verdict.exit_code())
}
