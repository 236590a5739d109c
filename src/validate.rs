//! Runs a validation: lists and fetches digests and log files from a source, then hands the bytes
//! to the pure core and assembles the report. Fetching overlaps under a concurrency bound; the
//! report's order is fixed by the chain walk and the target order, not by completion order.
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::{stream, StreamExt};
use tokio::sync::Semaphore;
use tokio_stream::wrappers::ReceiverStream;

use crate::finding::{Finding, FindingKind, Scope, Severity};
use crate::integrity::chain::{self, ChainReport, DigestMetadata, DigestSlot, DigestVerdict, Fetched, Naming, WalkOptions};
use crate::integrity::completeness::{self, TrailStatus};
use crate::integrity::digest::{self, LogFileEntry, HASH_ALGORITHM};
use crate::integrity::logfile::{self, LogVerdict};
use crate::keys::KeyRing;
use crate::keysource::KeySource;
use crate::progress::Progress;
use crate::limits::Limits;
use crate::source::{read_bounded, Body, Source, SourceError};

/// Which digests to validate: one trail, one account, one source region, and where they lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub trail_arn: String,
    pub trail_name: String,
    /// The region in the trail's ARN; part of every digest's file name.
    pub home_region: String,
    /// The region whose events the digests cover (`CloudTrail-Digest/{region}/`).
    pub source_region: String,
    pub account_id: String,
    /// Set for organization trails, whose keys lie under `AWSLogs/{organization}/{account}/`.
    pub organization_id: Option<String>,
    pub bucket: String,
    pub prefix: Option<String>,
}

impl Target {
    /// `{prefix/}AWSLogs/{organization/}`: where the account folders lie.
    pub fn logs_root(&self) -> String {
        let prefix = self.prefix.as_deref().map(|p| format!("{}/", p.trim_end_matches('/'))).unwrap_or_default();
        let org = self.organization_id.as_deref().map(|o| format!("{o}/")).unwrap_or_default();
        format!("{prefix}AWSLogs/{org}")
    }

    /// `{prefix/}AWSLogs/{organization/}{account}/`
    pub fn account_root(&self) -> String {
        format!("{}{}/", self.logs_root(), self.account_id)
    }

    /// `…/CloudTrail-Digest/{region}/`
    pub fn digest_dir(&self) -> String {
        format!("{}CloudTrail-Digest/{}/", self.account_root(), self.source_region)
    }

    /// `…/CloudTrail/{region}/`
    pub fn log_dir(&self) -> String {
        format!("{}CloudTrail/{}/", self.account_root(), self.source_region)
    }

    /// `{account}_CloudTrail-Digest_{region}_{trail}_{home region}_`
    pub fn file_stem(&self) -> String {
        format!("{}_CloudTrail-Digest_{}_{}_{}_", self.account_id, self.source_region, self.trail_name, self.home_region)
    }

    /// The key a digest ending at `t` would have.
    pub fn digest_key(&self, t: DateTime<Utc>) -> String {
        format!("{}{}{}{}.json.gz", self.digest_dir(), t.format("%Y/%m/%d/"), self.file_stem(), t.format(crate::time::KEY_FORMAT))
    }

    /// Whether `key` is one of this trail's digests: its time stamp, and whether it is a backfill.
    pub fn parse_digest_key(&self, key: &str) -> Option<(DateTime<Utc>, bool)> {
        let rest = key.strip_prefix(&self.digest_dir())?;
        let (date_dirs, name) = rest.split_at_checked(11)?; // "YYYY/MM/DD/"
        let is_date = date_dirs.bytes().enumerate().all(|(i, b)| if matches!(i, 4 | 7 | 10) { b == b'/' } else { b.is_ascii_digit() });
        let stem = name.strip_prefix(&self.file_stem())?.strip_suffix(".json.gz")?;
        let (stamp, backfill) = match stem.strip_suffix("_backfill") {
            Some(s) => (s, true),
            None => (stem, false),
        };
        if !is_date || stamp.len() != 16 {
            return None;
        }
        Some((crate::time::parse_key_time(stamp)?, backfill))
    }

    fn scope(&self) -> Scope {
        Scope { account_id: self.account_id.clone(), region: self.source_region.clone() }
    }

    fn naming(&self) -> Naming {
        Naming { digest_prefix: self.digest_dir(), file_stem: self.file_stem() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The most object requests in flight at once.
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
        Options { concurrency: 32, limits: Limits::default(), walk: WalkOptions::default(), now: Utc::now(), record_objects: true, read_attempts: 3 }
    }
}

/// Exponential backoff with full jitter before whole-object attempt `attempt + 1`.
async fn backoff(attempt: u32) {
    let cap_ms = 100u64 << attempt.min(6);
    tokio::time::sleep(std::time::Duration::from_millis(rand::random::<u64>() % cap_ms + 1)).await;
}

/// Everything a run reads from: the evidence, the trusted keys and the trail's status.
pub struct Context<'a> {
    pub source: Arc<dyn Source>,
    pub keys: &'a dyn KeySource,
    /// GetTrailStatus for the trail; None offline. Err when it could not be read.
    pub status: Option<Result<TrailStatus, String>>,
    pub options: Options,
    pub progress: Progress,
    /// One permit per core for inflate + SHA-256 work.
    pub cpu: Semaphore,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub valid: usize,
    pub invalid: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.valid += o.valid;
        self.invalid += o.invalid;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub digests: Counts,
    pub backfill_digests: Counts,
    pub log_files: Counts,
    pub unreferenced_log_files: usize,
}

impl std::ops::AddAssign for Summary {
    fn add_assign(&mut self, o: Summary) {
        self.digests += o.digests;
        self.backfill_digests += o.backfill_digests;
        self.log_files += o.log_files;
        self.unreferenced_log_files += o.unreferenced_log_files;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Invalid,
    Incomplete,
}

impl Verdict {
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Incomplete => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    Digest,
    BackfillDigest,
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectVerdict {
    Valid,
    Invalid,
    Missing,
    Unreadable,
    Unverifiable,
}

/// One object trailproof judged, with the SHA-256 it computed (of the inflated bytes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectRecord {
    #[serde(rename = "type")]
    pub object_type: ObjectType,
    pub bucket: String,
    pub key: String,
    pub verdict: ObjectVerdict,
    pub sha256: Option<String>,
}

/// One account and region's share of the run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RegionSummary {
    pub account_id: String,
    pub region: String,
    pub summary: Summary,
    pub verdict: Verdict,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub trail_arn: String,
    pub requested: Range,
    pub found: Option<Range>,
    pub regions: Vec<String>,
    pub accounts: Vec<String>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub objects: Vec<ObjectRecord>,
    pub per_region: Vec<RegionSummary>,
    pub verdict: Verdict,
}

impl<'a> Context<'a> {
    /// A run's context, with one inflate + SHA-256 worker per core and, if wanted (and on a
    /// terminal), a progress bar.
    pub fn new(source: Arc<dyn Source>, keys: &'a dyn KeySource, status: Option<Result<TrailStatus, String>>, options: Options, progress: bool) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Context { source, keys, status, options, progress: Progress::new(progress), cpu: Semaphore::new(cores) }
    }
}

/// Proven tampering outranks "could not check everything"; a run that checked nothing is never valid.
fn verdict(findings: &[Finding], checked_any: bool) -> Verdict {
    if findings.iter().any(|f| f.severity == Severity::Error && f.kind != FindingKind::AccessError) {
        Verdict::Invalid
    } else if !checked_any || findings.iter().any(|f| f.kind == FindingKind::AccessError && f.severity == Severity::Error) {
        Verdict::Incomplete
    } else {
        Verdict::Valid
    }
}

/// What one target contributed.
#[derive(Default)]
struct Part {
    summary: Summary,
    findings: Vec<Finding>,
    objects: Vec<ObjectRecord>,
    found: Option<Range>,
    checked_any: bool,
}

fn widen(found: &mut Option<Range>, r: Range) {
    *found = Some(match *found {
        None => r,
        Some(f) => Range { start: f.start.min(r.start), end: f.end.max(r.end) },
    });
}

/// Validates every target's digests and log files delivered within `range`. Targets (regions,
/// accounts) run concurrently; their results are reported in the order given.
pub async fn validate(ctx: &Context<'_>, targets: &[Target], range: Range) -> Report {
    let parts: Vec<Part> = stream::iter(targets).map(|t| validate_target(ctx, t, range)).buffered(4).collect().await;
    let mut report = Report {
        trail_arn: targets.first().map(|t| t.trail_arn.clone()).unwrap_or_default(),
        requested: range,
        found: None,
        regions: targets.iter().map(|t| t.source_region.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        accounts: targets.iter().map(|t| t.account_id.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        summary: Summary::default(),
        findings: Vec::new(),
        objects: Vec::new(),
        per_region: Vec::new(),
        verdict: Verdict::Incomplete,
    };
    let mut checked_any = false;
    for (part, target) in parts.into_iter().zip(targets) {
        report.per_region.push(RegionSummary {
            account_id: target.account_id.clone(),
            region: target.source_region.clone(),
            summary: part.summary.clone(),
            verdict: verdict(&part.findings, part.checked_any),
        });
        report.summary += part.summary;
        report.findings.extend(part.findings);
        report.objects.extend(part.objects);
        if let Some(f) = part.found {
            widen(&mut report.found, f);
        }
        checked_any |= part.checked_any;
    }
    report.verdict = verdict(&report.findings, checked_any);
    report
}

async fn validate_target(ctx: &Context<'_>, target: &Target, range: Range) -> Part {
    let scope = target.scope();
    let opts = &ctx.options;
    let mut part = Part::default();

    // As the AWS CLI: digests stamped from a minute before the start to an hour after the end,
    // since a digest delivered after the end may cover logs from inside the range.
    let first = range.start - Duration::minutes(1);
    let last = range.end + Duration::hours(1);
    let stop = |key: &str| target.parse_digest_key(key).is_some_and(|(t, _)| t > last);
    let listing = match ctx.source.list(&target.bucket, &target.digest_dir(), Some(&target.digest_key(first)), &stop).await {
        Ok(keys) => keys,
        Err(e) => {
            part.findings.push(scope.finding(FindingKind::AccessError, &target.bucket, &target.digest_dir(), format!("could not list digests: {e}")));
            return part;
        }
    };
    let mut regular = Vec::new();
    let mut backfill = Vec::new();
    for key in listing {
        match target.parse_digest_key(&key) {
            Some((t, false)) if t >= first => regular.push((key, t)),
            Some((t, true)) if t >= first => backfill.push((key, t)),
            _ => {}
        }
    }

    if regular.is_empty() && backfill.is_empty() {
        part.findings.push(scope.finding(
            FindingKind::DigestChainGap,
            &target.bucket,
            &target.digest_dir(),
            format!("no digest files found: nothing covers {} to {}", crate::time::display(range.start), crate::time::display(range.end)),
        ));
        return part;
    }

    // Widened by two hours each side so that keys rotating near the ends are covered.
    let keys = match ctx.keys.keys(&target.source_region, range.start - Duration::hours(2), range.end + Duration::hours(2)).await {
        Ok(k) => k,
        Err(e) => {
            part.findings.push(scope.finding(FindingKind::AccessError, &target.bucket, &target.digest_dir(), format!("could not get public keys: {e}")));
            return part;
        }
    };

    // Log files are checked as soon as their digest's own checks pass, while the rest of the
    // chain is still being fetched: a bounded queue feeds a bounded pool of log checks. Only
    // problems are kept (and every object when recording), so memory does not grow with the range.
    let keys = Arc::new(keys);
    let referenced = Referenced::default();
    let (queue, queued) = tokio::sync::mpsc::channel::<LogJob>(LOG_QUEUE);
    let log_checks = ReceiverStream::new(queued)
        .map(|job| {
            let source = ctx.source.clone();
            let max = opts.limits.max_log_inflated;
            let progress = ctx.progress.clone();
            async move {
                let verdict = check_log_retrying(source, &job.entry, max, &progress, &ctx.cpu, opts.read_attempts).await;
                progress.log_done();
                (job, verdict)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .fold(LogTally::default(), |mut tally, (job, verdict)| {
            tally.add(&scope, job, verdict, opts.record_objects);
            async move { tally }
        });

    let chains = async {
        // The regular chain.
        let mut slots = fetch_chain(ctx, target, regular, false, range, Some((&keys, &queue, &referenced))).await;
        let chain = chain::walk(&slots, &keys, range.start, &scope, &target.naming(), opts.walk);
        let newest_end = slots.iter().filter(|s| s.listed).filter_map(|s| s.parsed().map(|p| p.end).or(s.key_time)).max();

        // Backfill digests: their own chain, signed when they were generated.
        let mut backfill_slots = fetch_chain(ctx, target, backfill, true, range, None).await;
        let mut backfill_keys = (*keys).clone();
        let mut key_errors = Vec::new();
        let generated: BTreeSet<DateTime<Utc>> = backfill_slots
            .iter()
            .filter_map(|s| match &s.fetched {
                Fetched::Present { metadata, .. } => metadata.backfill_generated.as_deref().and_then(|t| crate::time::parse_user_time(t).ok()),
                _ => None,
            })
            .collect();
        for at in generated {
            match ctx.keys.keys(&target.source_region, at - Duration::hours(1), at + Duration::hours(1)).await {
                Ok(k) => backfill_keys.merge(k),
                Err(e) => key_errors.push(scope.finding(FindingKind::AccessError, &target.bucket, &target.digest_dir(), format!("could not get public keys for backfill generated at {at}: {e}"))),
            }
        }
        let backfill_chain = chain::walk(&backfill_slots, &backfill_keys, range.start, &scope, &target.naming(), opts.walk);

        // Digests the fetcher could not vouch for early (backfill, or signatures taken from a
        // successor) have their log files queued now.
        for (slots, chain) in [(&mut slots, &chain), (&mut backfill_slots, &backfill_chain)] {
            for &i in &chain.verified {
                let queued_early = matches!(slots[i].checked, Some(None));
                if !queued_early {
                    queue_logs(&queue, &mut slots[i], &ctx.progress, &referenced).await;
                }
            }
        }
        drop(queue);
        (slots, chain, backfill_slots, backfill_chain, newest_end, key_errors)
    };
    let ((slots, chain, backfill_slots, backfill_chain, newest_end, key_errors), tally) = tokio::join!(chains, log_checks);

    part.summary.digests = Counts { valid: chain.valid, invalid: chain.invalid };
    part.summary.backfill_digests = Counts { valid: backfill_chain.valid, invalid: backfill_chain.invalid };
    let mut findings = chain.findings.clone();
    findings.extend(key_errors);
    findings.extend(backfill_chain.findings.iter().cloned());
    if opts.record_objects {
        record_digests(&mut part.objects, &slots, &chain, ObjectType::Digest);
        record_digests(&mut part.objects, &backfill_slots, &backfill_chain, ObjectType::BackfillDigest);
    }
    part.checked_any = !chain.verified.is_empty() || !backfill_chain.verified.is_empty();

    // The newest end of the regular chain.
    match &ctx.status {
        Some(Ok(status)) => {
            if let Some(cut) = completeness::check_tail(newest_end, range.end, status, opts.now) {
                findings.push(scope.finding(
                    FindingKind::DigestTailMissing,
                    &target.bucket,
                    &target.digest_dir(),
                    format!("no digests from {} to {}: {}", crate::time::display(cut.from), crate::time::display(cut.to), cut.reason),
                ));
            }
        }
        Some(Err(e)) => {
            // The tail check goes beyond the AWS CLI; without GetTrailStatus it is skipped, and said so.
            let mut f = scope.finding(FindingKind::AccessError, &target.bucket, &target.digest_dir(), format!("could not check the chain's newest end for a truncated tail: {e}"));
            f.severity = Severity::Warning;
            findings.push(f);
        }
        None => {}
    }

    let verified: Vec<&digest::ParsedDigest> = chain
        .verified
        .iter()
        .filter_map(|&i| slots[i].parsed())
        .chain(backfill_chain.verified.iter().filter_map(|&i| backfill_slots[i].parsed()))
        .collect();
    for p in &verified {
        widen(&mut part.found, Range { start: p.start.max(range.start), end: p.end.min(range.end) });
    }

    // Log results in walk order, whatever order they completed in.
    let rank: std::collections::HashMap<&str, usize> = chain
        .verified
        .iter()
        .map(|&i| slots[i].key.as_str())
        .chain(backfill_chain.verified.iter().map(|&i| backfill_slots[i].key.as_str()))
        .enumerate()
        .map(|(n, k)| (k, n))
        .collect();
    let mut notes = tally.notes;
    notes.sort_by_key(|(digest, index, _, _)| (rank.get(&**digest).copied().unwrap_or(usize::MAX), *index));
    part.summary.log_files = tally.counts;
    for (_, _, finding, record) in notes {
        findings.extend(finding);
        part.objects.extend(record);
    }

    // Log files no verified digest lists.
    let covered: Vec<(DateTime<Utc>, DateTime<Utc>)> = verified.iter().map(|p| (p.start, p.end)).collect();
    // A digest that could not be read may list the log files of its hour: they are unchecked
    // (its access_error says so), not evidence of injection.
    let unread: Vec<(DateTime<Utc>, DateTime<Utc>)> = slots
        .iter()
        .chain(backfill_slots.iter())
        .filter(|s| matches!(s.fetched, Fetched::Unreadable(_)))
        .filter_map(|s| s.key_time)
        .map(|t| (t - Duration::minutes(61), t + Duration::minutes(1)))
        .collect();
    match unreferenced_logs(&*ctx.source, target, range, &|k| referenced.contains(k), &covered).await {
        Ok(mut found) => {
            // Unless surely inside a verified period, the log file may be the unread neighbour's,
            // so it is unchecked too, not injected.
            found.retain(|u| u.surely_covered || !unread.iter().any(|(s, e)| u.delivered >= *s && u.delivered <= *e));
            part.summary.unreferenced_log_files = found.len();
            for u in found {
                let mut f = scope.finding(FindingKind::LogUnreferenced, &target.bucket, &u.key, "");
                if u.inside_covered_period {
                    f.message = format!("delivered {} inside a period a verified digest covers, but no digest lists it: it may have been injected", crate::time::display(u.delivered));
                } else {
                    f.severity = Severity::Warning;
                    f.message = format!("delivered {} outside any verified digest's period (validation off, not yet digested, or its digest is bad)", crate::time::display(u.delivered));
                }
                findings.push(f);
            }
        }
        Err(e) => findings.push(scope.finding(FindingKind::AccessError, &target.bucket, &target.log_dir(), format!("could not list log files: {e}"))),
    }

    part.findings = findings;
    part
}

/// Lists the log files stamped in `range`, one day's prefix at a time so that the cost follows the
/// range, and keeps only those no verified digest lists.
async fn unreferenced_logs(
    source: &dyn Source,
    target: &Target,
    range: Range,
    referenced: &dyn Fn(&str) -> bool,
    covered: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Result<Vec<completeness::Unreferenced>, SourceError> {
    let mut found = Vec::new();
    let mut day = (range.start - Duration::minutes(1)).date_naive();
    while day <= range.end.date_naive() {
        let prefix = format!("{}{}", target.log_dir(), day.format("%Y/%m/%d/"));
        let listed = source.list(&target.bucket, &prefix, None, &|_| false).await?;
        found.extend(completeness::unreferenced(&listed, &target.source_region, referenced, covered, range.start, range.end));
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    Ok(found)
}

fn record_digests(out: &mut Vec<ObjectRecord>, slots: &[DigestSlot], chain: &ChainReport, object_type: ObjectType) {
    for (i, verdict) in &chain.verdicts {
        let s = &slots[*i];
        let sha256 = match &s.fetched {
            Fetched::Present { bytes, .. } => bytes.inflated_sha256.map(hex::encode),
            _ => None,
        };
        let verdict = match verdict {
            DigestVerdict::Valid => ObjectVerdict::Valid,
            DigestVerdict::Invalid => ObjectVerdict::Invalid,
            DigestVerdict::Missing => ObjectVerdict::Missing,
            DigestVerdict::Unreadable => ObjectVerdict::Unreadable,
            DigestVerdict::Unverifiable => ObjectVerdict::Unverifiable,
        };
        out.push(ObjectRecord { object_type, bucket: s.bucket.clone(), key: s.key.clone(), verdict, sha256 });
    }
}

/// Fetches the listed digests, then follows previous-digest links that leave the listing
/// (deleted digests, another bucket) until every in-range digest's predecessor has been looked up.
async fn fetch_chain(
    ctx: &Context<'_>,
    target: &Target,
    listed: Vec<(String, DateTime<Utc>)>,
    backfill: bool,
    range: Range,
    precheck: Option<(&Arc<KeyRing>, &LogQueue, &Referenced)>,
) -> Vec<DigestSlot> {
    ctx.progress.add_digests(listed.len());
    let fetches = listed.into_iter().map(|(key, t)| (target.bucket.clone(), key, Some(t), true));
    let mut slots = fetch_digests(ctx, fetches, backfill, precheck).await;
    loop {
        let known: HashSet<(&str, &str)> = slots.iter().map(|s| (s.bucket.as_str(), s.key.as_str())).collect();
        let wanted: BTreeMap<(String, String), ()> = slots
            .iter()
            .filter_map(|s| s.parsed())
            .filter(|p| p.start >= range.start)
            .filter_map(|p| p.previous())
            .filter(|bk| !known.contains(bk))
            .map(|(b, k)| ((b.to_string(), k.to_string()), ()))
            .collect();
        if wanted.is_empty() {
            return slots;
        }
        let fetches = wanted.into_keys().map(|(b, k)| {
            let t = chain::key_time(&k);
            (b, k, t, false)
        });
        let more = fetch_digests(ctx, fetches, backfill, precheck).await;
        slots.extend(more);
    }
}

/// A log file whose body could not be read whole is fetched again, up to `attempts` times; the
/// last failure stands, as an unreadable object, never as a hash mismatch.
async fn check_log_retrying(source: Arc<dyn Source>, entry: &LogFileEntry, max_inflated: u64, progress: &Progress, cpu: &Semaphore, attempts: u32) -> Result<LogVerdict, SourceError> {
    let mut attempt = 1;
    loop {
        let verdict = check_log(source.clone(), entry, max_inflated, progress, cpu).await;
        let broken = matches!(verdict, Ok(LogVerdict::ReadError(_)) | Err(SourceError::Access(_)));
        if !broken || attempt >= attempts {
            return match verdict {
                Ok(LogVerdict::ReadError(why)) if attempt > 1 => Ok(LogVerdict::ReadError(format!("{why} (after {attempt} attempts)"))),
                Err(SourceError::Access(why)) if attempt > 1 => Err(SourceError::Access(format!("{why} (after {attempt} attempts)"))),
                other => other,
            };
        }
        backoff(attempt).await;
        attempt += 1;
    }
}

/// Checks one log file. A local file is read, inflated and hashed by one worker thread in one
/// go. A stream (S3) is read asynchronously, and each 64 KiB it yields goes to a worker thread for
/// inflate and SHA-256, so no worker ever waits on the network. Either way the CPU work holds one
/// of the per-core `cpu` permits, and memory per check is one buffer plus the inflate state.
async fn check_log(source: Arc<dyn Source>, entry: &LogFileEntry, max_inflated: u64, progress: &Progress, cpu: &Semaphore) -> Result<LogVerdict, SourceError> {
    use tokio::io::AsyncReadExt;
    if entry.hash_algorithm != HASH_ALGORITHM {
        return Ok(LogVerdict::Format(format!("digest names unsupported hashAlgorithm '{}'", entry.hash_algorithm)));
    }
    let closed = || SourceError::Access("worker pool closed".into());
    let worker_failed = |e: tokio::task::JoinError| SourceError::Access(format!("hashing task failed: {e}"));
    let mut stream = match source.get(&entry.s3_bucket, &entry.s3_object).await?.body {
        Body::File(file) => {
            progress.read(file.metadata().map_or(0, |m| m.len() as usize));
            let expected = entry.hash_value.clone();
            let _permit = cpu.acquire().await.map_err(|_| closed())?;
            return tokio::task::spawn_blocking(move || logfile::check(file, &expected, max_inflated)).await.map_err(worker_failed);
        }
        Body::Stream(s) => s,
    };
    let mut hasher = logfile::LogHasher::new(&entry.hash_value, max_inflated);
    let mut buf = Vec::with_capacity(logfile::CHUNK);
    let mut ended = false;
    while !ended {
        // Fill the buffer before handing it over: network reads come in small pieces.
        buf.clear();
        while buf.len() < logfile::CHUNK {
            match (&mut stream).take((logfile::CHUNK - buf.len()) as u64).read_buf(&mut buf).await {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(_) => {}
                // A short or broken body is never hashed as if complete.
                Err(e) => return Ok(LogVerdict::ReadError(e.to_string())),
            }
        }
        progress.read(buf.len());
        let _permit = cpu.acquire().await.map_err(|_| closed())?;
        (hasher, buf) = tokio::task::spawn_blocking(move || {
            hasher.push(&buf);
            (hasher, buf)
        })
        .await
        .map_err(worker_failed)?;
        if hasher.failed() {
            break;
        }
    }
    Ok(hasher.finish())
}

/// How many log checks may wait in the queue: enough to keep the pool busy, few enough that a
/// range of any size costs the same memory (the digest fetcher waits when it is full).
const LOG_QUEUE: usize = 1024;

/// One log file to check, and where it was listed.
struct LogJob {
    digest: Arc<str>,
    index: usize,
    entry: LogFileEntry,
}

type LogQueue = tokio::sync::mpsc::Sender<LogJob>;

/// The log files verified digests list, kept as 64-bit hashes of their keys: the unreferenced
/// check needs membership only, and a key set would grow with the range.
#[derive(Default)]
struct Referenced(std::sync::Mutex<HashSet<u64>>);

impl Referenced {
    fn hash(key: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        h.finish()
    }

    fn insert(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(Self::hash(key));
    }

    fn contains(&self, key: &str) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).contains(&Self::hash(key))
    }
}

/// What the log checks found: counts for all, and (in completion order) the problems, plus every
/// object's record when recording.
#[derive(Default)]
struct LogTally {
    counts: Counts,
    notes: Vec<LogNote>,
}

/// A log file's problem and record, with the digest and position that listed it (for ordering).
type LogNote = (Arc<str>, usize, Option<Finding>, Option<ObjectRecord>);

impl LogTally {
    fn add(&mut self, scope: &Scope, job: LogJob, result: Result<LogVerdict, SourceError>, record_objects: bool) {
        let entry = &job.entry;
        let (b, k) = (&entry.s3_bucket, &entry.s3_object);
        let finding = |kind, message: String| Some(scope.finding(kind, b, k, message));
        let (verdict, sha256, problem) = match result {
            Ok(LogVerdict::Valid { sha256 }) => (ObjectVerdict::Valid, Some(sha256), None),
            Ok(LogVerdict::HashMismatch { actual }) => (
                ObjectVerdict::Invalid,
                Some(actual.clone()),
                finding(FindingKind::LogHashMismatch, format!("hash value doesn't match: digest says {}, file has {actual}", entry.hash_value)),
            ),
            Ok(LogVerdict::Format(why)) => (ObjectVerdict::Invalid, None, finding(FindingKind::LogFormatInvalid, format!("invalid format: {why}"))),
            Err(SourceError::NotFound) => (ObjectVerdict::Missing, None, finding(FindingKind::LogMissing, "not found".into())),
            Ok(LogVerdict::ReadError(why)) | Err(SourceError::Access(why)) => {
                (ObjectVerdict::Unreadable, None, finding(FindingKind::AccessError, format!("could not read log file: {why}")))
            }
        };
        match verdict {
            ObjectVerdict::Valid => self.counts.valid += 1,
            ObjectVerdict::Invalid | ObjectVerdict::Missing => self.counts.invalid += 1,
            ObjectVerdict::Unreadable | ObjectVerdict::Unverifiable => {}
        }
        let record = record_objects.then(|| ObjectRecord { object_type: ObjectType::Log, bucket: b.clone(), key: k.clone(), verdict, sha256 });
        if problem.is_some() || record.is_some() {
            self.notes.push((job.digest, job.index, problem, record));
        }
    }
}

/// Queues a verified digest's log files for checking. They move out of the digest: from here on
/// only the queue and `referenced` know them.
async fn queue_logs(queue: &LogQueue, slot: &mut DigestSlot, progress: &Progress, referenced: &Referenced) {
    let Fetched::Present { bytes, .. } = &mut slot.fetched else { return };
    let Ok(parsed) = &mut bytes.parsed else { return };
    let entries = std::mem::take(&mut parsed.digest.log_files);
    progress.add_logs(entries.len());
    let digest: Arc<str> = slot.key.as_str().into();
    for (index, entry) in entries.into_iter().enumerate() {
        referenced.insert(&entry.s3_object);
        // The receiver lives until every digest is done; a send can only fail after that.
        let _ = queue.send(LogJob { digest: digest.clone(), index, entry }).await;
    }
}

async fn fetch_digests(
    ctx: &Context<'_>,
    wanted: impl Iterator<Item = (String, String, Option<DateTime<Utc>>, bool)>,
    backfill: bool,
    precheck: Option<(&Arc<KeyRing>, &LogQueue, &Referenced)>,
) -> Vec<DigestSlot> {
    let limits = ctx.options.limits;
    let attempts = ctx.options.read_attempts;
    stream::iter(wanted)
        .map(|(bucket, key, key_time, listed)| {
            let source = ctx.source.clone();
            async move {
                let fetched = fetch_digest(&*source, &bucket, &key, &limits, attempts).await;
                let mut slot = DigestSlot { bucket, key, key_time, listed, backfill, fetched, checked: None };
                // With its own signature metadata, a digest can be checked now, off the reactor,
                // so that its log files need not wait for the walk.
                let signed = matches!(&slot.fetched, Fetched::Present { metadata, .. } if metadata.signature.is_some());
                if let (Some((keys, _, _)), true) = (precheck, signed) {
                    let keys = keys.clone();
                    let (bucket, key) = (slot.bucket.clone(), slot.key.clone());
                    let check = move || {
                        slot.checked = Some(chain::check_digest(&slot, &keys, None));
                        slot
                    };
                    slot = tokio::task::spawn_blocking(check).await.unwrap_or_else(|e| {
                        let fetched = Fetched::Unreadable(format!("checking task failed: {e}"));
                        DigestSlot { bucket, key, key_time, listed, backfill, fetched, checked: None }
                    });
                }
                ctx.progress.digest_done();
                if let (Some((_, queue, referenced)), Some(None)) = (precheck, &slot.checked) {
                    queue_logs(queue, &mut slot, &ctx.progress, referenced).await;
                }
                slot
            }
        })
        .buffered(ctx.options.concurrency.max(1))
        .collect()
        .await
}

/// Fetches a digest and parses it off the reactor.
async fn fetch_digest(source: &dyn Source, bucket: &str, key: &str, limits: &Limits, attempts: u32) -> Fetched {
    let mut attempt = 1;
    loop {
        match fetch_digest_once(source, bucket, key, limits).await {
            Fetched::Unreadable(why) if attempt >= attempts && attempt > 1 => return Fetched::Unreadable(format!("{why} (after {attempt} attempts)")),
            Fetched::Unreadable(_) if attempt < attempts => {}
            other => return other,
        }
        backoff(attempt).await;
        attempt += 1;
    }
}

async fn fetch_digest_once(source: &dyn Source, bucket: &str, key: &str, limits: &Limits) -> Fetched {
    let object = match source.get(bucket, key).await {
        Ok(o) => o,
        Err(SourceError::NotFound) => return Fetched::Missing,
        Err(SourceError::Access(why)) => return Fetched::Unreadable(why),
    };
    let m = &object.metadata;
    let metadata = DigestMetadata {
        signature: m.get("signature").cloned(),
        signature_algorithm: m.get("signature-algorithm").cloned(),
        backfill_generated: m.get("backfill-generation-timestamp").cloned(),
    };
    let gz = match read_bounded(object.body, limits.max_digest_bytes).await {
        Ok(b) => b,
        Err(e) => return Fetched::Unreadable(e.to_string()),
    };
    if gz.len() as u64 > limits.max_digest_bytes {
        let parsed = Err(digest::DigestFormatError::TooLarge { limit: limits.max_digest_bytes });
        return Fetched::Present { metadata, bytes: digest::DigestBytes { inflated_sha256: None, parsed } };
    }
    let limits = *limits;
    let work = move || Fetched::Present { metadata, bytes: digest::parse(&gz, &limits) };
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| Fetched::Unreadable(format!("parsing task failed: {e}")))
}
