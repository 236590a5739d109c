//! Runs a validation: the async stages over a [`Source`], feeding bytes to the pure core
//! (`integrity`) and assembling one [`Report`]. For each target (account × region):
//! list (`list`) → keys (`digests::keys_for`) → fetch, authenticate and walk the chains
//! (`digests`), with the log files checked alongside (`logs`) → completeness (`completeness`).
//! Fetching overlaps under a concurrency bound; the report's order is fixed by the chain walk and
//! the target order, never by completion order.
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{stream, StreamExt};
use tokio::sync::Semaphore;

use crate::checkpoint::{ChainHead, ChainRecord};
use crate::finding::{Finding, FindingKind, Scope};
use crate::integrity::chain::{self, WalkOptions};
use crate::integrity::completeness::{Periods, TrailStatus};
use crate::keysource::KeySource;
use crate::layout::Target;
use crate::limits::Limits;
use crate::progress::Progress;
use crate::report::{Counts, ObjectRecord, ObjectType, RegionSummary, Report, Summary, Verdict};
use crate::source::Source;
use crate::time::Range;

mod completeness;
mod cpu;
mod digests;
mod list;
mod local;
mod logs;
mod retry;

#[derive(Debug, Clone)]
pub struct Options {
    /// The most object requests in flight at once, across digests, log files, regions and
    /// accounts (one budget, `Context::requests`).
    pub concurrency: usize,
    pub limits: Limits,
    pub walk: WalkOptions,
    /// The time the run treats as now (passed in, never read from the clock inside checks).
    pub now: DateTime<Utc>,
    /// Keep a record of every object judged (for `--verbose` and `--report`); off, memory stays
    /// flat however many log files the range holds.
    pub record_objects: bool,
    /// Whole-object attempts when a body breaks off mid-read (the SDK retries requests, but
    /// not a body that is cut short after the headers arrived).
    pub read_attempts: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { concurrency: 64, limits: Limits::default(), walk: WalkOptions::default(), now: Utc::now(), record_objects: true, read_attempts: 3 }
    }
}

/// Everything a run reads from: the evidence, the trusted keys and the trail's status.
pub struct Context<'a> {
    pub source: Arc<dyn Source>,
    pub keys: &'a dyn KeySource,
    /// GetTrailStatus for the trail; None offline. Err when it could not be read.
    pub status: Option<Result<TrailStatus, String>>,
    pub options: Options,
    pub progress: Progress,
    /// One worker per core for inflate + SHA-256 work.
    pub cpu: cpu::Cpu,
    /// One permit per object request in flight (`Options::concurrency`), held from the request
    /// until its body is read, whatever the object's kind or target.
    pub requests: Semaphore,
    /// Where verified log files go to be replayed (`backtest`, `events`); None for validation.
    pub replay: Option<Arc<dyn Replay>>,
}

/// Receives what a run proved about log files, for replaying their records: only bytes whose
/// SHA-256 matched an authentic digest ever reach it. Called from worker threads.
pub trait Replay: Send + Sync {
    /// An authentic digest of the target's chain whose log files are being checked: its period
    /// is covered by evidence.
    fn covered(&self, scope: &Scope, start: DateTime<Utc>, end: DateTime<Utc>);
    /// A log file that verified, with its inflated bytes (its records, as CloudTrail wrote them).
    fn verified(&self, scope: &Scope, bucket: &str, key: &str, digest: &str, inflated: &[u8]);
    /// A log file an authentic digest lists that did not verify (missing, changed, malformed,
    /// unreadable): the listing digest's period is not fully replayed.
    fn unverified(&self, scope: &Scope, key: &str, digest_period: (DateTime<Utc>, DateTime<Utc>));
}

impl<'a> Context<'a> {
    /// A run's context, with one inflate + SHA-256 worker per core and, if wanted (and on a
    /// terminal), a progress bar.
    pub fn new(source: Arc<dyn Source>, keys: &'a dyn KeySource, status: Option<Result<TrailStatus, String>>, options: Options, progress: bool) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Context { source, keys, status, progress: Progress::new(progress), cpu: cpu::Cpu::new(cores), requests: Semaphore::new(options.concurrency.max(1)), options, replay: None }
    }

    /// The same context, replaying verified log files into `replay`.
    pub fn with_replay(self, replay: Arc<dyn Replay>) -> Self {
        Context { replay: Some(replay), ..self }
    }
}

/// One chain to validate: a target, its range, and where an earlier audit left it.
#[derive(Debug, Clone)]
pub struct Job {
    pub target: Target,
    pub range: Range,
    /// The checkpoint's record of this chain: the range starts at its end, and the chain must
    /// link back to exactly it.
    pub resume: Option<ChainRecord>,
}

impl Job {
    pub fn new(target: Target, range: Range) -> Job {
        Job { target, range, resume: None }
    }
}

/// Validates every job's digests and log files delivered within its range. Jobs (regions,
/// accounts) run concurrently; their results are reported in the order given. `requested` is the
/// run's range as the user asked for it.
pub async fn validate(ctx: &Context<'_>, jobs: &[Job], requested: Range) -> Report {
    let parts: Vec<Part> = stream::iter(jobs).map(|j| validate_target(ctx, j)).buffered(4).collect().await;
    let targets: Vec<&Target> = jobs.iter().map(|j| &j.target).collect();
    let mut report = Report {
        trail_arn: targets.first().map(|t| t.trail_arn.clone()).unwrap_or_default(),
        requested,
        found: None,
        regions: targets.iter().map(|t| t.source_region.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        accounts: targets.iter().map(|t| t.account_id.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        summary: Summary::default(),
        findings: Vec::new(),
        objects: Vec::new(),
        per_region: Vec::new(),
        resumed_from: jobs.iter().filter_map(|j| j.resume.clone()).collect(),
        verdict: Verdict::Incomplete,
    };
    let mut checked_any = false;
    for (part, target) in parts.into_iter().zip(targets) {
        let first = report.objects.len();
        report.per_region.push(RegionSummary {
            account_id: target.account_id.clone(),
            region: target.source_region.clone(),
            summary: part.summary.clone(),
            verdict: Verdict::of(&part.findings, part.checked_any),
            head: part.head,
            bucket: target.bucket.clone(),
            digest_dir: target.digest_dir(),
            objects: first..first + part.objects.len(),
        });
        report.summary += part.summary;
        report.findings.extend(part.findings);
        report.objects.extend(part.objects);
        if let Some(f) = part.found {
            widen(&mut report.found, f);
        }
        checked_any |= part.checked_any;
    }
    report.verdict = Verdict::of(&report.findings, checked_any);
    report
}

/// One target's run: what every stage reads.
struct Run<'a> {
    ctx: &'a Context<'a>,
    target: &'a Target,
    scope: Scope,
    range: Range,
    /// The checkpointed head this chain resumes after: fetched to prove it unchanged, its log
    /// files not checked again.
    resume: Option<&'a ChainHead>,
}

/// One target, through every stage.
async fn validate_target(ctx: &Context<'_>, job: &Job) -> Part {
    let (target, range) = (&job.target, job.range);
    let scope = Scope { account_id: target.account_id.clone(), region: target.source_region.clone() };
    let run = Run { ctx, target, scope, range, resume: job.resume.as_ref().map(|r| &r.head) };
    let scope = &run.scope;
    let failed = |message: String| Part { findings: vec![scope.finding(FindingKind::AccessError, &target.bucket, &target.digest_dir(), message)], ..Part::default() };
    let mut listing = match list::digests(&*ctx.source, target, range).await {
        Ok(l) => l,
        Err(e) => return failed(format!("could not list digests: {e}")),
    };
    // The checkpointed head is fetched whatever the listing holds: gone or changed, it is tampering
    // after the last audit.
    if let Some(head) = run.resume {
        if !listing.regular.contains(&head.key) {
            listing.regular.push(head.key.clone());
        }
    }
    // A region with log files but not one digest object in range: nothing vouches for them (its
    // digests were deleted, or validation is off). Digests that are there but fail say so themselves.
    let no_digests = listing.regular.is_empty() && listing.backfill.is_empty();
    let keys = match digests::keys_for(&run, &listing).await {
        Ok(k) => Arc::new(k),
        Err(e) => {
            let fix = "allow cloudtrail:ListPublicKeys, or give --public-keys a file with this region's keys (`trailproof keys export` writes one)";
            return failed(format!("could not get public keys: {e}; {fix}"));
        }
    };

    // The log folders are listed while the chain is fetched; the check against what the digests
    // list waits for the chain.
    let days = list::log_days(ctx.source.clone(), target.clone(), range);
    // Log files are checked as soon as their digest is authentic, while the rest of the chain is
    // still being fetched: a bounded queue feeds a bounded pool of log checks.
    let referenced = Arc::new(logs::Referenced::default());
    let (queue, queued) = logs::queue();
    // The check for unreferenced log files needs only the chains: it runs while the last log
    // files are still being checked.
    let chains = async {
        let (chain, backfill, local) = digests::fetch_and_walk(&run, listing, &keys, queue, &referenced).await;
        let covered = Periods::new(chain.verified().chain(backfill.verified()).map(|a| (a.start(), a.end())));
        let unread = Periods::new(chain.report.unread.iter().chain(&backfill.report.unread).copied());
        let unreferenced = completeness::unreferenced(&run, &referenced, &covered, &unread, no_digests, days).await;
        let checked = match local {
            Some(local) => local.finish(&target.bucket, &target.digest_dir()).await,
            None => logs::LogTally::default(),
        };
        (chain, backfill, checked, unreferenced)
    };
    let ((chain, backfill, checked, (unreferenced, count)), mut tally) = tokio::join!(chains, logs::check_queued(ctx, scope, queued));
    tally.merge(checked);

    let mut part = Part::default();
    let mut findings: Vec<Finding> = chain.report.findings.iter().chain(&backfill.report.findings).cloned().collect();
    part.summary.digests = Counts { valid: chain.report.valid, invalid: chain.report.invalid };
    part.summary.backfill_digests = Counts { valid: backfill.report.valid, invalid: backfill.report.invalid };
    if ctx.options.record_objects {
        digests::record_digests(&mut part.objects, &chain.slots, &chain.report, ObjectType::Digest);
        digests::record_digests(&mut part.objects, &backfill.slots, &backfill.report, ObjectType::BackfillDigest);
    }
    if let Some(record) = &job.resume {
        findings.extend(chain::check_resume(&record.head, &crate::time::display(record.verified_at), &chain.slots, scope));
    }
    part.head = chain.verified_slots().next().and_then(|s| s.head());
    let verified: Vec<_> = chain.verified().chain(backfill.verified()).collect();
    part.checked_any = !verified.is_empty();
    if !part.checked_any {
        let message = format!("no authentic digest found: nothing covers {} to {}", crate::time::display(range.start), crate::time::display(range.end));
        findings.push(scope.finding(FindingKind::DigestChainGap, &target.bucket, &target.digest_dir(), message));
    }
    findings.extend(completeness::tail_finding(&run, chain.report.newest_end));
    for a in &verified {
        widen(&mut part.found, Range { start: a.start().max(range.start), end: a.end().min(range.end) });
    }

    let rank: HashMap<&str, usize> = chain.verified_slots().chain(backfill.verified_slots()).map(|s| s.key.as_str()).enumerate().map(|(n, k)| (k, n)).collect();
    part.summary.log_files = tally.counts;
    for (finding, record) in tally.in_walk_order(&rank) {
        findings.extend(finding);
        part.objects.extend(record);
    }

    findings.extend(unreferenced);
    part.summary.unreferenced_log_files = count;
    part.findings = findings;
    part
}

/// What one target contributed.
#[derive(Default)]
struct Part {
    summary: Summary,
    findings: Vec<Finding>,
    objects: Vec<ObjectRecord>,
    found: Option<Range>,
    checked_any: bool,
    /// The chain's newest authentic digest.
    head: Option<ChainHead>,
}

fn widen(found: &mut Option<Range>, r: Range) {
    *found = Some(match *found {
        None => r,
        Some(f) => Range { start: f.start.min(r.start), end: f.end.max(r.end) },
    });
}
