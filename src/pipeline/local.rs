//! A local copy's CPU workers: for each target, one per core, checking digests and log files
//! without a hand-off between stages. A worker takes the next digest, reads, parses and
//! authenticates it, and queues its log files for the workers, which check them once enough wait
//! ([`READ_AHEAD`]). So a small log file costs its own work and nothing more, both cores stay busy
//! to the last file, and the queue's size does not depend on the range.
//!
//! Digests are handed back as soon as they are read, so the chain is walked (and predecessors
//! fetched, through the same workers) while log files are still being checked; the unreferenced
//! check overlaps the last of them. The workers stop once the chain stage closes the checker and
//! the queue is empty ([`LocalChecker::finish`]).
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::cpu::Worker;
use super::digests::{authenticated, digest_metadata, parsed, Logs};
use super::logs::{check_local_job, LogJob, LogTally, Tallying};
use super::Context;
use crate::finding::{FindingKind, Scope};
use crate::integrity::chain::{Auth, DigestSlot, Fetched};
use crate::integrity::keys::KeyRing;
use crate::layout::digest_key_time;
use crate::limits::Limits;
use crate::progress::Progress;
use crate::source::{read_bounded_blocking, Body, Source, SourceError};

/// How many log files may wait before a worker checks them rather than read another digest: enough
/// that the chain is read while the last log files are checked, few enough that memory does not
/// grow with the range.
const READ_AHEAD: usize = 1024;

/// Most log files a worker takes at once.
const TAKEN: usize = 8;

/// A target's workers for a local copy.
pub(super) struct LocalChecker {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<Result<LogTally, SourceError>>>>,
}

/// What every worker reads, and the work they share.
struct Shared {
    source: Arc<dyn Source>,
    keys: Arc<KeyRing>,
    now: DateTime<Utc>,
    unsigned_is_unverifiable: bool,
    limits: Limits,
    record_objects: bool,
    progress: Progress,
    scope: Scope,
    replay: Option<Arc<dyn super::Replay>>,
    work: Mutex<Work>,
    /// Wakes idle workers: work was queued, a digest was read, or the checker closed.
    wake: Condvar,
}

#[derive(Default)]
struct Work {
    /// Digests to read: a batch, and the place in it.
    digests: VecDeque<(Arc<Batch>, usize)>,
    /// Log files of authentic digests, not yet taken.
    logs: VecDeque<LogJob>,
    /// Workers reading a digest: until none is, an idle worker may yet get log files to check.
    reading: usize,
    /// Workers still running.
    running: usize,
    /// No more digests or log files will come.
    closed: bool,
}

/// Digests wanted together (one `check_digests` call), and where their slots go.
struct Batch {
    backfill: bool,
    /// Where their log files go (without the checker: a batch is no owner of it).
    logs: Logs,
    read: Mutex<BatchRead>,
}

struct BatchRead {
    /// Until a digest is read, what stands for it if it never is: unreadable, "checking task
    /// failed". (The slots hold the only copy of the wanted keys.)
    slots: Vec<DigestSlot>,
    left: usize,
    /// Told when the last slot is in.
    told: Option<oneshot::Sender<()>>,
}

impl Batch {
    /// The wanted digest `i`: bucket, key, and whether the listing showed it.
    fn wanted(&self, i: usize) -> (String, String, bool) {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        let s = &read.slots[i];
        (s.bucket.clone(), s.key.clone(), s.listed)
    }

    /// Digest `i` is done with: read (`Some`), or left as its stand-in.
    fn put(&self, i: usize, slot: Option<DigestSlot>) {
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slot {
            read.slots[i] = slot;
        }
        read.left -= 1;
        if read.left == 0 {
            if let Some(told) = read.told.take() {
                let _ = told.send(());
            }
        }
    }
}

/// What stands for a digest until it is read, and if its check fails.
fn stand_in(bucket: String, key: String, listed: bool, backfill: bool) -> DigestSlot {
    DigestSlot { key_time: digest_key_time(&key), bucket, key, listed, backfill, fetched: Fetched::Unreadable("checking task failed".into()), auth: Auth::Pending }
}

impl LocalChecker {
    /// Starts a target's workers; they wait for digests.
    pub fn start(ctx: &Context<'_>, keys: &Arc<KeyRing>, scope: &Scope) -> LocalChecker {
        let opts = &ctx.options;
        let workers = ctx.cpu.workers();
        let shared = Arc::new(Shared {
            source: ctx.source.clone(),
            keys: keys.clone(),
            now: opts.now,
            unsigned_is_unverifiable: opts.walk.signature_from_successor,
            limits: opts.limits,
            record_objects: opts.record_objects,
            progress: ctx.progress.clone(),
            scope: scope.clone(),
            replay: ctx.replay.clone(),
            work: Mutex::new(Work { running: workers, ..Work::default() }),
            wake: Condvar::new(),
        });
        let handles = (0..workers)
            .map(|_| {
                let shared = shared.clone();
                ctx.cpu.spawn(move |worker| run_worker(&shared, worker))
            })
            .collect();
        LocalChecker { shared, workers: Mutex::new(handles) }
    }

    fn work(&self) -> std::sync::MutexGuard<'_, Work> {
        self.shared.work.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads, parses and authenticates the `wanted` digests on the workers, queueing the log files
    /// of authentic ones (see [`Logs::take_jobs`]); returns the slots, in the order wanted, as soon
    /// as all are read.
    pub async fn check_digests(&self, wanted: Vec<(String, String, bool)>, backfill: bool, logs: &Logs) -> Vec<DigestSlot> {
        if wanted.is_empty() {
            return Vec::new();
        }
        let (told, read) = oneshot::channel();
        let count = wanted.len();
        let slots = wanted.into_iter().map(|(bucket, key, listed)| stand_in(bucket, key, listed, backfill)).collect();
        let read_state = BatchRead { slots, left: count, told: Some(told) };
        let batch = Arc::new(Batch { backfill, logs: Logs { local: None, ..logs.clone() }, read: Mutex::new(read_state) });
        let queued = {
            let mut work = self.work();
            // With no worker left (the pool shut down), they stand as unchecked.
            if work.running > 0 {
                work.digests.extend((0..count).map(|i| (batch.clone(), i)));
            }
            work.running > 0
        };
        if queued {
            self.shared.wake.notify_all();
            // An error says the workers are gone; `Leaving` has put in what they did not read.
            let _ = read.await;
        }
        let slots = std::mem::take(&mut batch.read.lock().unwrap_or_else(|e| e.into_inner()).slots);
        slots
    }

    /// Queues log files to check (those of digests authenticated outside the workers).
    pub fn queue_logs(&self, jobs: Vec<LogJob>) {
        self.work().logs.extend(jobs);
        self.shared.wake.notify_all();
    }

    /// Closes the checker and waits for the workers to check what is queued; their tallies,
    /// summed. A worker that failed (the pool only fails when the runtime shuts down) is a
    /// finding: what it had taken may not have been checked.
    pub async fn finish(&self, bucket: &str, digest_dir: &str) -> LogTally {
        self.work().closed = true;
        self.shared.wake.notify_all();
        let handles = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        let mut tally = LogTally::default();
        for handle in handles {
            let failed = match handle.await {
                Ok(Ok(done)) => {
                    tally.merge(done);
                    continue;
                }
                Ok(Err(e)) => e.to_string(),
                Err(e) => format!("checking task failed: {e}"),
            };
            tally.note(self.shared.scope.finding(FindingKind::AccessError, bucket, digest_dir, format!("log files not all checked: {failed}")));
        }
        tally
    }
}

/// Closes the checker however the run ends, so that its workers stop rather than wait for work
/// (a run cut short never calls `finish`).
impl Drop for LocalChecker {
    fn drop(&mut self) {
        self.work().closed = true;
        self.shared.wake.notify_all();
    }
}

/// One worker's loop: the next digest while fewer than `READ_AHEAD` log files wait, else a log
/// file; idle, it waits for more, and it stops once the checker is closed and nothing is left.
fn run_worker(shared: &Shared, worker: &mut Worker) -> LogTally {
    let how = Tallying { scope: &shared.scope, replay: shared.replay.as_deref(), progress: &shared.progress, record_objects: shared.record_objects };
    let replay = shared.replay.as_ref().map(|r| (r, &shared.scope));
    let mut tally = LogTally::default();
    let mut leaving = Leaving { shared, reading: None };
    let mut taken: Vec<LogJob> = Vec::with_capacity(TAKEN);
    let mut work = shared.work.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let read_ahead = work.logs.len() < READ_AHEAD && !work.digests.is_empty();
        if !read_ahead && !work.logs.is_empty() {
            // A few at a time, while many wait: one trip through the lock for several files
            // (`running` counts this worker, so it is never 0 here).
            let n = (work.logs.len() / (2 * work.running)).clamp(1, TAKEN);
            taken.extend(work.logs.drain(..n));
            drop(work);
            for job in taken.drain(..) {
                let verdict = check_local_job(&*shared.source, worker, &job, shared.limits.max_log_inflated, &shared.progress, replay);
                tally.add(&how, job, verdict);
            }
        } else if let Some((batch, i)) = work.digests.pop_front() {
            work.reading += 1;
            drop(work);
            leaving.reading = Some((batch.clone(), i));
            let mut slot = check_digest(shared, worker, batch.wanted(i), batch.backfill);
            shared.progress.digest_done();
            let jobs = slot.as_mut().map(|slot| batch.logs.take_jobs(slot, &shared.progress)).unwrap_or_default();
            batch.put(i, slot);
            leaving.reading = None;
            let mut work = shared.work.lock().unwrap_or_else(|e| e.into_inner());
            work.reading -= 1;
            work.logs.extend(jobs);
            drop(work);
            shared.wake.notify_all();
        } else if work.reading > 0 || !work.closed {
            work = shared.wake.wait(work).unwrap_or_else(|e| e.into_inner());
            continue;
        } else {
            return tally;
        }
        work = shared.work.lock().unwrap_or_else(|e| e.into_inner());
    }
}

/// Accounts for a worker leaving, however it leaves: were a bug to unwind through the loop, the
/// digest it was reading, and, if it was the last worker, every digest still queued, stand as
/// unchecked, so that no caller waits for them.
struct Leaving<'a> {
    shared: &'a Shared,
    reading: Option<(Arc<Batch>, usize)>,
}

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        let mut work = self.shared.work.lock().unwrap_or_else(|e| e.into_inner());
        work.running -= 1;
        let mut unread: Vec<(Arc<Batch>, usize)> = self.reading.take().into_iter().collect();
        if unread.len() == 1 {
            work.reading -= 1;
        }
        if work.running == 0 {
            unread.extend(work.digests.drain(..));
        }
        drop(work);
        for (batch, i) in unread {
            batch.put(i, None);
        }
        self.shared.wake.notify_all();
    }
}

/// Opens, reads, parses and authenticates one digest on the calling worker; a panic costs this
/// digest's verdict (None: its stand-in stays), never the worker's. A local file is read once: it
/// does not break off mid-body as a network body can, so it is not read again
/// (`Options::read_attempts`).
fn check_digest(shared: &Shared, worker: &mut Worker, (bucket, key, listed): (String, String, bool), backfill: bool) -> Option<DigestSlot> {
    let check = || {
        let fetched = match shared.source.local().map(|local| local.open_object(&mut worker.folders, &bucket, &key)) {
            Some(Ok(object)) => {
                let read = match object.body {
                    Body::File(file) => read_bounded_blocking(file, shared.limits.max_digest_bytes),
                    Body::Stream(_) => Err(SourceError::Access("not a local file".into())),
                };
                parsed(read, digest_metadata(&object.metadata), &shared.limits)
            }
            Some(Err(SourceError::NotFound)) => Fetched::Missing,
            Some(Err(SourceError::Access(why))) => Fetched::Unreadable(why),
            None => Fetched::Unreadable("not a local source".into()),
        };
        let slot = DigestSlot { key_time: digest_key_time(&key), bucket, key, listed, backfill, fetched, auth: Auth::Pending };
        authenticated(slot, &shared.keys, shared.now, shared.unsigned_is_unverifiable)
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).ok()
}
