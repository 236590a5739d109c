//! Runs a validation: lists and fetches digests and log files from a source, then hands the bytes
//! to the pure core and assembles the report. Fetching overlaps under a concurrency bound; the
//! report's order is fixed by the chain walk and the target order, not by completion order.
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::{stream, StreamExt};
use tokio::sync::Semaphore;
use tokio_stream::wrappers::ReceiverStream;

use crate::finding::{Finding, FindingKind, Scope, Severity};
use crate::integrity::chain::{self, Auth, ChainReport, DigestMetadata, DigestSlot, DigestVerdict, Fetched, WalkOptions};
use crate::integrity::completeness::{self, TrailStatus};
use crate::integrity::digest::{self, LogFileEntry, HASH_ALGORITHM};
use crate::integrity::logfile::{self, LogVerdict};
use crate::integrity::keys::KeyRing;
use crate::layout::{digest_key_time, Target};
use crate::keysource::KeySource;
use crate::progress::Progress;
use crate::limits::Limits;
use crate::source::{read_bounded, Body, Source, SourceError};

fn scope_of(target: &Target) -> Scope {
    Scope { account_id: target.account_id.clone(), region: target.source_region.clone() }
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
    if findings.iter().any(|f| f.severity == Severity::Error && !f.kind.is_unchecked()) {
        Verdict::Invalid
    } else if !checked_any || findings.iter().any(|f| f.kind.is_unchecked() && f.severity == Severity::Error) {
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
    let scope = scope_of(target);
    let opts = &ctx.options;
    let mut part = Part::default();
    let mut findings = Vec::new();

    let listing = match list_digests(&*ctx.source, target, range).await {
        Ok(l) => l,
        Err(e) => {
            part.findings.push(scope.finding(FindingKind::AccessError, &target.bucket, &target.digest_dir(), format!("could not list digests: {e}")));
            return part;
        }
    };

    // A region with log files but not one digest object in range: nothing vouches for them (its
    // digests were deleted, or validation is off). Digests that are there but fail say so themselves.
    let no_digests = listing.regular.is_empty() && listing.backfill.is_empty();

    // Widened by two hours each side so that keys rotating near the ends are covered. Backfill
    // digests are signed when generated, at any time up to now: one more look-up covers them all,
    // whatever the objects claim.
    let mut keys = KeyRing::default();
    // With no digest at all there is nothing to authenticate: no look-up that could fail.
    let any_digest_listed = !no_digests || !listing.other_trails.is_empty();
    let key_ranges = any_digest_listed
        .then_some((range.start - Duration::hours(2), range.end + Duration::hours(2)))
        .into_iter()
        .chain((!listing.backfill.is_empty() && opts.now > range.end).then_some((range.end, opts.now + Duration::hours(2))));
    for (from, to) in key_ranges {
        match ctx.keys.keys(&target.source_region, from, to).await {
            Ok(k) => keys.merge(k),
            Err(e) => {
                part.findings.push(scope.finding(FindingKind::AccessError, &target.bucket, &target.digest_dir(), format!("could not get public keys: {e}")));
                return part;
            }
        }
    }

    // Log files are checked as soon as their digest is authentic, while the rest of the chain is
    // still being fetched: a bounded queue feeds a bounded pool of log checks. Only problems are
    // kept (and every object when recording), so memory does not grow with the range.
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

    let in_trail = |backfill: bool| move |bucket: &str, key: &str| bucket == target.bucket && target.parse_digest_key(key).is_some_and(|(_, b)| b == backfill);
    let chains = async {
        let logs = Logs { queue: Some(&queue), referenced: &referenced, bucket: &target.bucket };
        let slots = fetch_chain(ctx, listing.regular, false, range, &keys, &logs, &in_trail(false)).await;
        let chain = chain::walk(&slots, range.start, &scope, target, &in_trail(false));
        let backfill_slots = fetch_chain(ctx, listing.backfill, true, range, &keys, &logs, &in_trail(true)).await;
        let backfill_chain = chain::walk(&backfill_slots, range.start, &scope, target, &in_trail(true));
        // Other trails writing to the same folder: their authentic digests say which log files
        // are theirs. Their links are not followed and their log files are not ours to check.
        let others = Logs { queue: None, ..logs };
        fetch_chain(ctx, listing.other_trails, false, range, &keys, &others, &|_, _| false).await;
        drop(queue);
        (slots, chain, backfill_slots, backfill_chain)
    };
    let ((slots, chain, backfill_slots, backfill_chain), tally) = tokio::join!(chains, log_checks);

    part.summary.digests = Counts { valid: chain.valid, invalid: chain.invalid };
    part.summary.backfill_digests = Counts { valid: backfill_chain.valid, invalid: backfill_chain.invalid };
    findings.extend(chain.findings.iter().cloned());
    findings.extend(backfill_chain.findings.iter().cloned());
    if opts.record_objects {
        record_digests(&mut part.objects, &slots, &chain, ObjectType::Digest);
        record_digests(&mut part.objects, &backfill_slots, &backfill_chain, ObjectType::BackfillDigest);
    }
    part.checked_any = !chain.verified.is_empty() || !backfill_chain.verified.is_empty();
    if !part.checked_any {
        findings.push(scope.finding(
            FindingKind::DigestChainGap,
            &target.bucket,
            &target.digest_dir(),
            format!("no authentic digest found: nothing covers {} to {}", crate::time::display(range.start), crate::time::display(range.end)),
        ));
    }

    findings.extend(tail_finding(ctx, target, &scope, chain.newest_end, range));

    let verified: Vec<&chain::Authentic> =
        chain.verified.iter().filter_map(|&i| slots[i].authentic()).chain(backfill_chain.verified.iter().filter_map(|&i| backfill_slots[i].authentic())).collect();
    for a in &verified {
        widen(&mut part.found, Range { start: a.start().max(range.start), end: a.end().min(range.end) });
    }

    // Log results in walk order, whatever order they completed in.
    let rank: std::collections::HashMap<&str, usize> = verified.iter().map(|a| a.key()).enumerate().map(|(n, k)| (k, n)).collect();
    let mut notes = tally.notes;
    notes.sort_by_key(|(digest, index, _, _)| (rank.get(&**digest).copied().unwrap_or(usize::MAX), *index));
    part.summary.log_files = tally.counts;
    for (_, _, finding, record) in notes {
        findings.extend(finding);
        part.objects.extend(record);
    }

    // Log files no authentic digest lists.
    let covered: Vec<(DateTime<Utc>, DateTime<Utc>)> = verified.iter().map(|a| (a.start(), a.end())).collect();
    let unread: Vec<(DateTime<Utc>, DateTime<Utc>)> = chain.unread.iter().chain(&backfill_chain.unread).copied().collect();
    match unreferenced_logs(&*ctx.source, target, range, &|k| referenced.contains(k), &covered).await {
        Ok(found) => {
            part.summary.unreferenced_log_files = found.len();
            for u in found {
                findings.push(unreferenced_finding(&scope, target, &u, &unread, no_digests));
            }
        }
        Err(e) => findings.push(scope.finding(FindingKind::AccessError, &target.bucket, &target.log_dir(), format!("could not list log files: {e}"))),
    }

    part.findings = findings;
    part
}

/// The finding for a log file no authentic digest lists.
fn unreferenced_finding(scope: &Scope, target: &Target, u: &completeness::Unreferenced, unread: &[(DateTime<Utc>, DateTime<Utc>)], no_digests: bool) -> Finding {
    let f = scope.finding(FindingKind::LogUnreferenced, &target.bucket, &u.key, "");
    let Some(delivered) = u.delivered else {
        return Finding { message: format!("no digest lists it, and {}: it was placed there", u.problem.as_deref().unwrap_or("its name is not a CloudTrail log file name")), ..f };
    };
    let at = crate::time::display(delivered);
    let f = f.with("delivered", at.clone());
    if no_digests {
        return Finding { message: format!("delivered {at}, but this region has no digest in the range: nothing vouches for it"), ..f };
    }
    // An authentic digest names an unread predecessor that may list it: unchecked, not injected,
    // unless it lies surely inside a verified period.
    if !u.surely_covered && unread.iter().any(|(s, e)| delivered >= *s && delivered <= *e) {
        return Finding { kind: FindingKind::Unchecked, message: format!("delivered {at}; no digest read lists it, but the unread digest of its period may: unchecked"), ..f };
    }
    if u.inside_covered_period {
        Finding { message: format!("delivered {at} inside a period a verified digest covers, but no digest lists it: it may have been injected"), ..f }
    } else {
        Finding {
            severity: Severity::Warning,
            message: format!("delivered {at} outside any verified digest's period (validation off, not yet digested, or its digest is bad or could not be read)"),
            ..f
        }
    }
}

/// The truncated-tail check of the regular chain, from its newest authentic digest (the rule is
/// `completeness::judge_tail`): a cut tail is invalid, one that cannot be decided unchecked.
fn tail_finding(ctx: &Context<'_>, target: &Target, scope: &Scope, newest_end: Option<DateTime<Utc>>, range: Range) -> Option<Finding> {
    let status = match &ctx.status {
        Some(Ok(status)) => Some(status),
        _ => None,
    };
    let (kind, from, to, message) = match completeness::judge_tail(newest_end?, range.end, status, ctx.options.now) {
        completeness::Tail::Whole => return None,
        completeness::Tail::Cut(cut) => {
            let message = format!("no digests from {} to {}: {}", crate::time::display(cut.from), crate::time::display(cut.to), cut.reason);
            (FindingKind::DigestTailMissing, cut.from, cut.to, message)
        }
        completeness::Tail::Undecided { from, to } => {
            let why_unknown = match &ctx.status {
                Some(Err(e)) => format!("GetTrailStatus failed ({e})"),
                _ => "there is no trail status offline".to_string(),
            };
            let message = format!(
                "the newest authentic digest ends at {}, before the range's end {}, and {why_unknown}: a stopped trail cannot be told from a cut-off tail. \
                 Allow cloudtrail:GetTrailStatus, or give --trail-status (trailproof export saves it), or end the range at {}",
                crate::time::display(from),
                crate::time::display(to),
                crate::time::display(from)
            );
            (FindingKind::Unchecked, from, to, message)
        }
    };
    Some(scope.finding(kind, &target.bucket, &target.digest_dir(), message).with("from", crate::time::display(from)).with("to", crate::time::display(to)))
}

/// A target's digest keys in range, by chain.
#[derive(Default)]
struct DigestListing {
    regular: Vec<String>,
    backfill: Vec<String>,
    /// Digests of other trails delivering to the same folder.
    other_trails: Vec<String>,
}

/// Lists the digests of the range's date folders. The folder structure bounds the listing, never
/// a name's claimed time: a planted name cannot end it early. As the AWS CLI: digests stamped from
/// a minute before the start to an hour after the end, since a digest delivered after the end may
/// cover logs from inside the range. A name whose stamp disagrees with its folder is no name
/// CloudTrail writes; it is kept, to be judged.
async fn list_digests(source: &dyn Source, target: &Target, range: Range) -> Result<DigestListing, SourceError> {
    let first = range.start - Duration::minutes(1);
    let last = range.end + Duration::hours(1);
    let dir = target.digest_dir();
    let start_after = format!("{dir}{}", first.format("%Y/%m/%d/"));
    let after_last = last.date_naive().succ_opt().map(|d| format!("{dir}{}", d.format("%Y/%m/%d/")));
    let stop = |key: &str| after_last.as_deref().is_some_and(|a| key >= a);
    // Deduplicated: a key listed twice is one object, and must not be judged as two.
    let keys: BTreeSet<String> = source.list(&target.bucket, &dir, Some(&start_after), &stop).await?.into_iter().collect();
    let mut listing = DigestListing::default();
    for key in keys {
        let Some(name) = target.parse_digest_name(&key) else { continue };
        let matches_folder = name.stamp.date_naive() == name.folder;
        if matches_folder && (name.stamp < first || name.stamp > last) {
            continue;
        }
        match (name.ours, name.backfill) {
            (true, false) => listing.regular.push(key),
            (true, true) => listing.backfill.push(key),
            (false, _) => listing.other_trails.push(key),
        }
    }
    Ok(listing)
}

/// Lists the log files of the range's date folders, one day's prefix at a time so that the cost
/// follows the range, and keeps those no authentic digest lists.
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
        found.extend(completeness::unreferenced(&listed, &target.source_region, day, referenced, covered, range.start, range.end));
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

/// Where an authentic digest's log files go: checked (when there is a queue) and remembered as
/// referenced (those in the trail's bucket).
struct Logs<'a> {
    queue: Option<&'a LogQueue>,
    referenced: &'a Referenced,
    bucket: &'a str,
}

/// Fetches and authenticates the listed digests, then follows the previous-digest links of
/// authentic ones, inside the trail's own folder only (`in_trail`), until every authentic in-range
/// digest's predecessor has been looked up. Each digest's log files go to `logs` as soon as it is
/// authentic.
async fn fetch_chain(
    ctx: &Context<'_>,
    listed: Vec<String>,
    backfill: bool,
    range: Range,
    keys: &Arc<KeyRing>,
    logs: &Logs<'_>,
    in_trail: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Vec<DigestSlot> {
    ctx.progress.add_digests(listed.len());
    let bucket = logs.bucket.to_string();
    let fetches: Vec<(String, String, bool)> = listed.into_iter().map(|key| (bucket.clone(), key, true)).collect();
    let mut slots = fetch_digests(ctx, fetches, backfill, keys, logs).await;
    loop {
        if ctx.options.walk.signature_from_successor {
            authenticate_from_successors(ctx, &mut slots, keys, logs).await;
        }
        let known: HashSet<(&str, &str)> = slots.iter().map(|s| (s.bucket.as_str(), s.key.as_str())).collect();
        let wanted: BTreeSet<(String, String)> = slots
            .iter()
            .filter_map(|s| s.authentic())
            .filter(|a| a.start() >= range.start)
            .filter_map(|a| a.previous())
            .filter(|&(b, k)| in_trail(b, k) && !known.contains(&(b, k)))
            .map(|(b, k)| (b.to_string(), k.to_string()))
            .collect();
        if wanted.is_empty() {
            return slots;
        }
        let more = fetch_digests(ctx, wanted.into_iter().map(|(b, k)| (b, k, false)).collect(), backfill, keys, logs).await;
        slots.extend(more);
    }
}

/// For a copy without S3 metadata: a digest still pending is checked with the signatures other
/// digests name for it in `previousDigestSignature`. Any digest, authentic or not, may name one:
/// a signature authenticates itself, so each candidate is tried (a few at most, so that planted
/// names cannot multiply the work) until one verifies.
async fn authenticate_from_successors(ctx: &Context<'_>, slots: &mut [DigestSlot], keys: &Arc<KeyRing>, logs: &Logs<'_>) {
    const CANDIDATES: usize = 4;
    let mut hints: HashMap<(&str, &str), Vec<String>> = HashMap::new();
    // Authentic successors first: their hint is CloudTrail's.
    let mut namers: Vec<&DigestSlot> = slots.iter().collect();
    namers.sort_by_key(|s| s.authentic().is_none());
    for p in namers.iter().filter_map(|s| s.parsed()) {
        let (Some(at), Some(sig)) = (p.previous(), &p.digest.previous_digest_signature) else { continue };
        let list = hints.entry(at).or_default();
        if list.len() < CANDIDATES && !list.contains(sig) {
            list.push(sig.clone());
        }
    }
    let work: Vec<(usize, Vec<String>)> = (0..slots.len())
        .filter(|&i| matches!(slots[i].auth, Auth::Pending | Auth::Unverifiable(_)) && matches!(slots[i].fetched, Fetched::Present { .. }))
        .filter_map(|i| Some((i, hints.get(&(slots[i].bucket.as_str(), slots[i].key.as_str()))?.clone())))
        .collect();
    if work.is_empty() {
        return;
    }
    let (keys, now) = (keys.clone(), ctx.options.now);
    let taken: Vec<(usize, DigestSlot, Vec<String>)> = work
        .into_iter()
        .map(|(i, candidates)| {
            // Stands in while the slot is checked off the reactor; it is what remains if that fails.
            let stand_in = slots[i].unreadable("checking task failed".into());
            (i, std::mem::replace(&mut slots[i], stand_in), candidates)
        })
        .collect();
    let checked = tokio::task::spawn_blocking(move || {
        let mut taken = taken;
        for (_, slot, candidates) in &mut taken {
            for hint in candidates.iter() {
                slot.auth = chain::authenticate(slot, &keys, Some(hint), now);
                if slot.authentic().is_some() {
                    break;
                }
            }
        }
        taken
    })
    .await;
    let Ok(checked) = checked else { return };
    for (i, mut slot, _) in checked {
        route_logs(logs, &mut slot, &ctx.progress).await;
        slots[i] = slot;
    }
}

/// Sends an authentic digest's log files on: into `referenced`, and into the check queue.
async fn route_logs(logs: &Logs<'_>, slot: &mut DigestSlot, progress: &Progress) {
    let Some(authentic) = slot.authentic_mut() else { return };
    let entries = authentic.take_log_files();
    let digest: Arc<str> = slot.key.as_str().into();
    for entry in &entries {
        if entry.s3_bucket == logs.bucket {
            logs.referenced.insert(&entry.s3_object);
        }
    }
    let Some(queue) = logs.queue else { return };
    progress.add_logs(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        // The receiver lives until every digest is done; a send can only fail after that.
        let _ = queue.send(LogJob { digest: digest.clone(), index, entry }).await;
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

/// The log files authentic digests list, by exact key: a hash would let a colliding injected
/// file pass.
#[derive(Default)]
struct Referenced(std::sync::Mutex<HashSet<String>>);

impl Referenced {
    fn insert(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_string());
    }

    fn contains(&self, key: &str) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).contains(key)
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
                finding(FindingKind::LogHashMismatch, format!("hash value doesn't match: digest says {}, file has {actual}", entry.hash_value))
                    .map(|f| f.with("expected", entry.hash_value.to_ascii_lowercase()).with("actual", actual.clone()).with("digest", &*job.digest)),
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

/// Fetches digests and authenticates each one off the reactor as it arrives (with its own
/// signature metadata), so that its log files need not wait for the walk.
async fn fetch_digests(ctx: &Context<'_>, wanted: Vec<(String, String, bool)>, backfill: bool, keys: &Arc<KeyRing>, logs: &Logs<'_>) -> Vec<DigestSlot> {
    let limits = ctx.options.limits;
    let attempts = ctx.options.read_attempts;
    let now = ctx.options.now;
    // Only a copy made without S3 metadata may lack a signature; CloudTrail always writes one.
    let unsigned_is_unverifiable = ctx.options.walk.signature_from_successor;
    stream::iter(wanted)
        .map(|(bucket, key, listed)| {
            let source = ctx.source.clone();
            let keys = keys.clone();
            async move {
                let fetched = fetch_digest(&*source, &bucket, &key, &limits, attempts).await;
                let key_time = digest_key_time(&key);
                let slot = DigestSlot { bucket, key, key_time, listed, backfill, fetched, auth: Auth::Pending };
                let stand_in = slot.unreadable("checking task failed".into());
                let check = move || {
                    let mut slot = slot;
                    slot.auth = match chain::authenticate(&slot, &keys, None, now) {
                        Auth::Unverifiable(_) if !unsigned_is_unverifiable => {
                            Auth::Invalid(FindingKind::DigestSignatureInvalid, "no signature or signature-algorithm metadata".into())
                        }
                        auth => auth,
                    };
                    slot
                };
                let mut slot = tokio::task::spawn_blocking(check).await.unwrap_or_else(|e| DigestSlot {
                    fetched: Fetched::Unreadable(format!("checking task failed: {e}")),
                    ..stand_in
                });
                ctx.progress.digest_done();
                route_logs(logs, &mut slot, &ctx.progress).await;
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
