//! A local copy's digests and their log files, checked by the CPU workers without a hand-off
//! between stages: a worker takes the next digest, reads, parses and authenticates it, and queues
//! its log files for the workers, which take queued log files before another digest. So a small
//! log file costs its own work and nothing more, both cores stay busy to the last file, and the
//! queue holds about one digest's list per worker.
//!
//! Digests authenticated later (by a successor's signature) still go through the async queue
//! (`logs::check_queued`); this path is for the digests fetched with their own metadata.
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use chrono::{DateTime, Utc};

use super::cpu::Worker;
use super::digests::{authenticated, digest_metadata, parsed, Logs};
use super::logs::{check_local_job, LogJob, LogTally, Tallying};
use super::Context;
use crate::finding::FindingKind;
use crate::integrity::chain::{Auth, DigestSlot, Fetched};
use crate::integrity::keys::KeyRing;
use crate::layout::digest_key_time;
use crate::limits::Limits;
use crate::progress::Progress;
use crate::source::{read_bounded_blocking, Body, Source, SourceError};

/// What every worker reads.
struct Plan {
    source: Arc<dyn Source>,
    keys: Arc<KeyRing>,
    logs: Logs,
    backfill: bool,
    now: DateTime<Utc>,
    unsigned_is_unverifiable: bool,
    limits: Limits,
    record_objects: bool,
    progress: Progress,
    /// The digests to check: bucket, key, and whether the listing showed it.
    wanted: Vec<(String, String, bool)>,
}

/// What the workers share.
#[derive(Default)]
struct Work {
    /// The next digest to take.
    next: usize,
    /// Log files of authentic digests, not yet taken.
    logs: VecDeque<LogJob>,
    /// Workers reading a digest: until none is, an idle worker may yet get log files to check.
    reading: usize,
}

/// What one worker did.
#[derive(Default)]
struct Done {
    slots: Vec<(usize, DigestSlot)>,
    tally: LogTally,
}

/// Checks the `wanted` digests of a local copy and the log files of those that are authentic
/// (see the module's doc); the log files' tally goes to `logs.checked`. Slots come back in the
/// order wanted.
pub(super) async fn check_digests(ctx: &Context<'_>, wanted: Vec<(String, String, bool)>, backfill: bool, keys: &Arc<KeyRing>, logs: &Logs) -> Vec<DigestSlot> {
    let opts = &ctx.options;
    let plan = Arc::new(Plan {
        source: ctx.source.clone(),
        keys: keys.clone(),
        logs: logs.clone(),
        backfill,
        now: opts.now,
        unsigned_is_unverifiable: opts.walk.signature_from_successor,
        limits: opts.limits,
        record_objects: opts.record_objects,
        progress: ctx.progress.clone(),
        wanted,
    });
    let work = Arc::new((Mutex::new(Work::default()), Condvar::new()));
    let workers = (0..ctx.cpu.workers()).map(|_| {
        let (plan, work) = (plan.clone(), work.clone());
        ctx.cpu.run(move |worker| run_worker(&plan, &work, worker))
    });
    let mut slots: Vec<Option<DigestSlot>> = plan.wanted.iter().map(|_| None).collect();
    let mut tally = LogTally::default();
    let mut failed = false;
    for done in futures::future::join_all(workers).await {
        let Ok(done) = done else {
            failed = true;
            continue;
        };
        for (i, slot) in done.slots {
            slots[i] = Some(slot);
        }
        tally.merge(done.tally);
    }
    // The pool only fails when the runtime shuts down; even so, nothing it took may pass as checked.
    if let (true, Some((bucket, key, _))) = (failed, plan.wanted.first()) {
        let message = "a checking worker failed: log files of digests from here on may not have been checked".to_string();
        tally.note(logs.scope.finding(FindingKind::AccessError, bucket, key, message));
    }
    logs.checked.lock().unwrap_or_else(|e| e.into_inner()).merge(tally);
    slots.into_iter().zip(&plan.wanted).map(|(slot, wanted)| slot.unwrap_or_else(|| unchecked(&plan, wanted))).collect()
}

/// One worker's loop: queued log files first, then the next digest; it stops when neither is
/// left and no other worker is reading a digest that could queue more.
fn run_worker(plan: &Plan, shared: &(Mutex<Work>, Condvar), worker: &mut Worker) -> Done {
    let (lock, wake) = shared;
    let how = Tallying { scope: &plan.logs.scope, replay: plan.logs.replay.as_deref(), progress: &plan.progress, record_objects: plan.record_objects };
    let replay = plan.logs.replay.as_ref().map(|r| (r, &plan.logs.scope));
    let mut done = Done::default();
    let mut work = lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(job) = work.logs.pop_front() {
            drop(work);
            let verdict = check_local_job(&*plan.source, worker, &job, plan.limits.max_log_inflated, &plan.progress, replay);
            done.tally.add(&how, job, verdict);
            work = lock.lock().unwrap_or_else(|e| e.into_inner());
        } else if work.next < plan.wanted.len() {
            let i = work.next;
            work.next += 1;
            work.reading += 1;
            drop(work);
            let mut slot = check_digest(plan, worker, &plan.wanted[i]);
            plan.progress.digest_done();
            let jobs = plan.logs.take_jobs(&mut slot, &plan.progress);
            done.slots.push((i, slot));
            work = lock.lock().unwrap_or_else(|e| e.into_inner());
            work.reading -= 1;
            work.logs.extend(jobs);
            wake.notify_all();
        } else if work.reading > 0 {
            work = wake.wait(work).unwrap_or_else(|e| e.into_inner());
        } else {
            return done;
        }
    }
}

/// Opens, reads, parses and authenticates one digest on the calling worker; a panic costs this
/// digest's verdict (unreadable), never the worker's.
fn check_digest(plan: &Plan, worker: &mut Worker, (bucket, key, listed): &(String, String, bool)) -> DigestSlot {
    let check = || {
        let fetched = match plan.source.local().map(|local| local.open_object(&mut worker.folders, bucket, key)) {
            Some(Ok(object)) => {
                let read = match object.body {
                    Body::File(file) => read_bounded_blocking(file, plan.limits.max_digest_bytes),
                    Body::Stream(_) => Err(SourceError::Access("not a local file".into())),
                };
                parsed(read, digest_metadata(&object.metadata), &plan.limits)
            }
            Some(Err(SourceError::NotFound)) => Fetched::Missing,
            Some(Err(SourceError::Access(why))) => Fetched::Unreadable(why),
            None => Fetched::Unreadable("not a local source".into()),
        };
        let slot = DigestSlot { bucket: bucket.clone(), key: key.clone(), key_time: digest_key_time(key), listed: *listed, backfill: plan.backfill, fetched, auth: Auth::Pending };
        authenticated(slot, &plan.keys, plan.now, plan.unsigned_is_unverifiable)
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_or_else(|_| unchecked(plan, &(bucket.clone(), key.clone(), *listed)))
}

/// What stands for a digest whose check failed.
fn unchecked(plan: &Plan, (bucket, key, listed): &(String, String, bool)) -> DigestSlot {
    DigestSlot {
        bucket: bucket.clone(),
        key: key.clone(),
        key_time: digest_key_time(key),
        listed: *listed,
        backfill: plan.backfill,
        fetched: Fetched::Unreadable("checking task failed".into()),
        auth: Auth::Pending,
    }
}
