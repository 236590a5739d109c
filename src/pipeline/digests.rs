//! The digest stage: fetch → authenticate → walk, for a target's regular and backfill chains.
//! Each digest is authenticated as it arrives (`chain::authenticate`, off the reactor) and only
//! then are its log files queued and its previous-digest link followed.
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::Duration;
use futures::{stream, StreamExt};

use super::list::DigestListing;
use super::local::LocalChecker;
use super::logs::{LogJob, LogQueue, Referenced};
use super::retry::retrying;
use super::{Context, Run};
use crate::finding::{FindingKind, Scope};
use crate::integrity::chain::{self, Auth, ChainReport, DigestMetadata, DigestSlot, DigestVerdict, Fetched};
use crate::integrity::digest;
use crate::integrity::keys::KeyRing;
use crate::layout::digest_key_time;
use crate::limits::Limits;
use crate::progress::Progress;
use crate::report::{ObjectRecord, ObjectType, ObjectVerdict};
use crate::source::{read_bounded, read_bounded_blocking, Body, SourceError};
use crate::time::Range;

/// The trusted keys for a target: the range widened by two hours each side, so that keys
/// rotating near the ends are covered. Backfill digests are signed when generated, at any time up
/// to now: one more look-up covers them all, whatever the objects claim. With no digest at all
/// there is nothing to authenticate, and no look-up that could fail.
pub async fn keys_for(run: &Run<'_>, listing: &DigestListing) -> Result<KeyRing, String> {
    let Run { ctx, target, range, .. } = *run;
    let any_digest_listed = !listing.regular.is_empty() || !listing.backfill.is_empty() || !listing.other_trails.is_empty();
    let now = ctx.options.now;
    let key_ranges = any_digest_listed
        .then_some((range.start - Duration::hours(2), range.end + Duration::hours(2)))
        .into_iter()
        .chain((!listing.backfill.is_empty() && now > range.end).then_some((range.end, now + Duration::hours(2))));
    let mut keys = KeyRing::default();
    for (from, to) in key_ranges {
        keys.merge(ctx.keys.keys(&target.source_region, from, to).await?);
    }
    Ok(keys)
}

/// A fetched chain: its slots and the walk's report on them.
pub struct Walked {
    pub slots: Vec<DigestSlot>,
    pub report: ChainReport,
}

impl Walked {
    /// The authentic digests the walk verified, newest first.
    pub fn verified(&self) -> impl Iterator<Item = &chain::Authentic> {
        self.verified_slots().filter_map(DigestSlot::authentic)
    }

    /// The slots of the authentic digests the walk verified, newest first.
    pub fn verified_slots(&self) -> impl Iterator<Item = &DigestSlot> {
        self.report.verified.iter().map(|&i| &self.slots[i])
    }
}

/// Fetches, authenticates and walks the target's regular and backfill chains; authentic digests
/// queue their log files on `queue`, which is dropped (ending the log stage) when all are done.
/// A local copy's digests and log files are checked by its CPU workers instead (`local`), whose
/// log checks may still be running when this returns: [`LocalChecker::finish`] waits for them.
/// Other trails delivering to the same folder are authenticated only to learn which log files are
/// theirs: their links are not followed and their log files are not ours to check.
pub async fn fetch_and_walk(run: &Run<'_>, listing: DigestListing, keys: &Arc<KeyRing>, queue: LogQueue, referenced: &Arc<Referenced>) -> (Walked, Walked, Option<Arc<LocalChecker>>) {
    let Run { ctx, target, ref scope, range, .. } = *run;
    let in_trail = |backfill: bool| move |bucket: &str, key: &str| bucket == target.bucket && target.parse_digest_key(key).is_some_and(|(_, b)| b == backfill);
    let logs = Logs {
        queue: Some(queue),
        referenced: referenced.clone(),
        bucket: target.bucket.clone(),
        checked_before: run.resume.map(|h| h.key.clone()),
        scope: scope.clone(),
        replay: ctx.replay.clone(),
        local: ctx.source.local().map(|_| Arc::new(LocalChecker::start(ctx, keys, scope))),
    };
    let walk = async |listed: Vec<String>, backfill: bool| {
        let slots = fetch_chain(ctx, listed, backfill, range, keys, &logs, &in_trail(backfill)).await;
        let report = chain::walk(&slots, range.start, scope, target, &in_trail(backfill));
        Walked { slots, report }
    };
    let regular = walk(listing.regular, false).await;
    let backfill = walk(listing.backfill, true).await;
    let others = Logs { queue: None, replay: None, ..logs.clone() };
    fetch_chain(ctx, listing.other_trails, false, range, keys, &others, &|_, _| false).await;
    (regular, backfill, logs.local)
}

/// Where an authentic digest's log files go: checked (when there is a queue) and remembered as
/// referenced (those in the trail's bucket). Owned, so that a local copy's workers can route
/// the digests they authenticate themselves.
#[derive(Clone)]
pub(super) struct Logs {
    /// Where log files wait to be checked; None for digests whose log files are not ours to check.
    pub queue: Option<LogQueue>,
    pub referenced: Arc<Referenced>,
    pub bucket: String,
    /// The checkpointed head's key: the audit that recorded it checked its log files.
    pub checked_before: Option<String>,
    pub scope: Scope,
    /// Where covered periods and verified log files are reported, for a replay.
    pub replay: Option<Arc<dyn super::Replay>>,
    /// A local copy's workers, which read its digests and check its log files (not the queue).
    pub local: Option<Arc<LocalChecker>>,
}

impl Logs {
    /// Takes an authentic digest's log files out of its slot (releasing its parsed body),
    /// remembers those in the trail's bucket as referenced, and returns the ones to check: none
    /// for any other digest, for digests of other trails, and for the checkpointed head.
    pub fn take_jobs(&self, slot: &mut DigestSlot, progress: &Progress) -> Vec<LogJob> {
        let Some(period) = slot.authentic().map(|a| (a.start(), a.end())) else { return Vec::new() };
        let entries = slot.take_log_files();
        slot.release_body();
        self.referenced.insert_all(entries.iter().filter(|e| e.s3_bucket == self.bucket).map(|e| e.s3_object.as_str()));
        if self.queue.is_none() || (self.checked_before.as_deref() == Some(slot.key.as_str()) && slot.bucket == self.bucket) {
            return Vec::new();
        }
        if let Some(replay) = &self.replay {
            replay.covered(&self.scope, period.0, period.1);
        }
        progress.add_logs(entries.len());
        let digest: Arc<str> = slot.key.as_str().into();
        entries.into_iter().enumerate().map(|(index, entry)| LogJob { digest: digest.clone(), period, index, entry }).collect()
    }
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
    logs: &Logs,
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
async fn authenticate_from_successors(ctx: &Context<'_>, slots: &mut [DigestSlot], keys: &Arc<KeyRing>, logs: &Logs) {
    const CANDIDATES: usize = 4;
    let waiting = |s: &DigestSlot| matches!(s.auth, Auth::Pending | Auth::Unverifiable(_)) && matches!(s.fetched, Fetched::Present { .. });
    // Hints are gathered for waiting digests only: a chain of years has few or none, and a hint
    // is a signature's worth of text.
    let pending: HashSet<(&str, &str)> = slots.iter().filter(|s| waiting(s)).map(|s| (s.bucket.as_str(), s.key.as_str())).collect();
    if pending.is_empty() {
        return;
    }
    let mut hints: HashMap<(&str, &str), Vec<String>> = HashMap::new();
    // Authentic successors first: their hint is CloudTrail's.
    let mut namers: Vec<&DigestSlot> = slots.iter().collect();
    namers.sort_by_key(|s| s.authentic().is_none());
    for s in namers {
        let at = match s.authentic() {
            Some(a) => a.previous(),
            None => s.parsed().and_then(|p| p.previous()),
        };
        let Some(at) = at.filter(|at| pending.contains(at)) else { continue };
        let signature = match s.authentic() {
            Some(a) => a.previous_signature(),
            None => s.parsed().and_then(|p| p.digest.previous_digest_signature.clone()),
        };
        let Some(signature) = signature else { continue };
        let list = hints.entry(at).or_default();
        if list.len() < CANDIDATES && !list.contains(&signature) {
            list.push(signature);
        }
    }
    let work: Vec<(usize, Vec<String>)> = (0..slots.len())
        .filter(|&i| waiting(&slots[i]))
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

/// Sends an authentic digest's log files on (see [`Logs::take_jobs`]): to a local copy's workers,
/// else into the check queue.
async fn route_logs(logs: &Logs, slot: &mut DigestSlot, progress: &Progress) {
    let jobs = logs.take_jobs(slot, progress);
    if let Some(local) = &logs.local {
        return local.queue_logs(jobs);
    }
    let Some(queue) = &logs.queue else { return };
    for job in jobs {
        // The receiver lives until every digest is done; a send can only fail after that.
        let _ = queue.send(job).await;
    }
}

/// Fetches digests and authenticates each one off the reactor as it arrives (with its own
/// signature metadata), so that its log files need not wait for the walk.
async fn fetch_digests(ctx: &Context<'_>, wanted: Vec<(String, String, bool)>, backfill: bool, keys: &Arc<KeyRing>, logs: &Logs) -> Vec<DigestSlot> {
    if let Some(local) = &logs.local {
        return local.check_digests(wanted, backfill, logs).await;
    }
    let count = wanted.len();
    stream::iter(wanted)
        .map(|(bucket, key, listed)| {
            let keys = keys.clone();
            async move {
                let fetched = fetch_digest(ctx, &bucket, &key).await;
                let slot = DigestSlot { key_time: digest_key_time(&key), bucket, key, listed, backfill, fetched, auth: Auth::Pending };
                let stand_in = slot.unreadable("checking task failed".into());
                let (now, unsigned_is_unverifiable) = (ctx.options.now, ctx.options.walk.signature_from_successor);
                let check = move || authenticated(slot, &keys, now, unsigned_is_unverifiable);
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
        // Sized up front: a chain of years holds one slot per digest, and doubling would hold two.
        .fold(Vec::with_capacity(count), |mut slots, slot| async move {
            slots.push(slot);
            slots
        })
        .await
}

/// The slot with its authentication by its own signature. `unsigned_is_unverifiable`: only a copy
/// made without S3 metadata may lack a signature; CloudTrail always writes one.
pub(super) fn authenticated(mut slot: DigestSlot, keys: &KeyRing, now: chrono::DateTime<chrono::Utc>, unsigned_is_unverifiable: bool) -> DigestSlot {
    slot.auth = match chain::authenticate(&slot, keys, None, now) {
        Auth::Unverifiable(_) if !unsigned_is_unverifiable => Auth::Invalid(FindingKind::DigestSignatureInvalid, "no signature or signature-algorithm metadata".into()),
        auth => auth,
    };
    slot
}

/// Fetches a digest and parses it off the reactor; a body that broke off is fetched again.
async fn fetch_digest(ctx: &Context<'_>, bucket: &str, key: &str) -> Fetched {
    let broken = |f: &Fetched| matches!(f, Fetched::Unreadable(_));
    match retrying(ctx.options.read_attempts, broken, || fetch_digest_once(ctx, bucket, key)).await {
        (Fetched::Unreadable(why), attempt) if attempt > 1 => Fetched::Unreadable(format!("{why} (after {attempt} attempts)")),
        (fetched, _) => fetched,
    }
}

async fn fetch_digest_once(ctx: &Context<'_>, bucket: &str, key: &str) -> Fetched {
    let limits = &ctx.options.limits;
    // One of the run's request permits, from the request until the body is read.
    let Ok(request) = ctx.requests.acquire().await else { return Fetched::Unreadable("request budget closed".into()) };
    let object = match ctx.source.get(bucket, key).await {
        Ok(o) => o,
        Err(SourceError::NotFound) => return Fetched::Missing,
        Err(SourceError::Access(why)) => return Fetched::Unreadable(why),
    };
    let metadata = digest_metadata(&object.metadata);
    let max = limits.max_digest_bytes;
    let read: Box<dyn FnOnce() -> Result<Vec<u8>, SourceError> + Send> = match object.body {
        // A local file is read on the thread that parses it: one hop, not one per read.
        Body::File(file) => Box::new(move || read_bounded_blocking(file, max)),
        stream => {
            let gz = read_bounded(stream, max).await;
            drop(request);
            Box::new(move || gz)
        }
    };
    let limits = *limits;
    let work = move || parsed(read(), metadata, &limits);
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| Fetched::Unreadable(format!("parsing task failed: {e}")))
}

/// The signature metadata CloudTrail puts on a digest object.
pub(super) fn digest_metadata(m: &std::collections::BTreeMap<String, String>) -> DigestMetadata {
    DigestMetadata {
        signature: m.get("signature").cloned(),
        signature_algorithm: m.get("signature-algorithm").cloned(),
        backfill_generated: m.get("backfill-generation-timestamp").cloned(),
    }
}

/// A digest object as read (at most `max_digest_bytes` + 1 bytes), parsed.
pub(super) fn parsed(read: Result<Vec<u8>, SourceError>, metadata: DigestMetadata, limits: &Limits) -> Fetched {
    let gz = match read {
        Ok(gz) => gz,
        Err(e) => return Fetched::Unreadable(e.to_string()),
    };
    let max = limits.max_digest_bytes;
    let bytes = if gz.len() as u64 > max {
        digest::DigestBytes { inflated_sha256: None, parsed: Err(digest::DigestFormatError::TooLarge { limit: max }) }
    } else {
        digest::parse(&gz, limits)
    };
    Fetched::Present { metadata: Box::new(metadata), bytes: Box::new(bytes) }
}

pub fn record_digests(out: &mut Vec<ObjectRecord>, slots: &[DigestSlot], chain: &ChainReport, object_type: ObjectType) {
    for (i, verdict) in &chain.verdicts {
        let s = &slots[*i];
        let sha256 = match (&s.fetched, s.authentic()) {
            (Fetched::Present { bytes, .. }, _) => bytes.inflated_sha256.map(hex::encode),
            (Fetched::Released, Some(a)) => Some(hex::encode(a.sha256())),
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
