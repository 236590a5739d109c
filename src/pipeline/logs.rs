//! The log-file stage: authentic digests queue their log files; a bounded pool checks them
//! (gunzip + SHA-256 off the reactor) while the chain is still being fetched, and tallies what it
//! found. Only problems are kept (and every object when recording), so memory stays flat.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::sync::Semaphore;
use tokio_stream::wrappers::ReceiverStream;

use super::retry::retrying;
use super::{Context, Replay};
use chrono::{DateTime, Utc};
use crate::finding::{Finding, FindingKind, Scope};
use crate::integrity::digest::{LogFileEntry, HASH_ALGORITHM};
use crate::integrity::logfile::{self, LogVerdict};
use crate::progress::Progress;
use crate::report::{Counts, ObjectRecord, ObjectType, ObjectVerdict};
use crate::source::{Body, Source, SourceError};

/// How many log checks may wait in the queue: enough to keep the pool busy, few enough that a
/// range of any size costs the same memory (the digest fetcher waits when it is full).
const LOG_QUEUE: usize = 1024;

/// One log file to check, and where it was listed.
pub struct LogJob {
    pub digest: Arc<str>,
    /// The listing digest's signed period.
    pub period: (DateTime<Utc>, DateTime<Utc>),
    pub index: usize,
    pub entry: LogFileEntry,
}

pub type LogQueue = Sender<LogJob>;

/// A new log queue: the sender for the digest fetcher, the receiver for [`check_queued`].
pub fn queue() -> (LogQueue, Receiver<LogJob>) {
    tokio::sync::mpsc::channel(LOG_QUEUE)
}

/// Checks every queued log file, at most `--concurrency` at once, until the queue's senders are
/// all dropped.
pub async fn check_queued(ctx: &Context<'_>, scope: &Scope, queued: Receiver<LogJob>) -> LogTally {
    let opts = &ctx.options;
    ReceiverStream::new(queued)
        .map(|job| {
            let source = ctx.source.clone();
            let max = opts.limits.max_log_inflated;
            let progress = ctx.progress.clone();
            let replay = ctx.replay.clone().map(|r| Replayed { replay: r, scope: scope.clone(), digest: job.digest.clone() });
            async move {
                let verdict = check_log_retrying(source, &job.entry, max, &progress, &ctx.cpu, opts.read_attempts, replay.as_ref()).await;
                if let Some(r) = &replay {
                    if !matches!(verdict, Ok(LogVerdict::Valid { .. })) {
                        r.replay.unverified(&r.scope, &job.entry.s3_object, job.period);
                    }
                }
                progress.log_done();
                (job, verdict)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .fold(LogTally::default(), |mut tally, (job, verdict)| {
            tally.add(scope, job, verdict, opts.record_objects);
            async move { tally }
        })
        .await
}

/// The log files authentic digests list, by exact key: a hash would let a colliding injected
/// file pass.
#[derive(Default)]
pub struct Referenced(std::sync::Mutex<HashSet<String>>);

impl Referenced {
    pub fn insert(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_string());
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).contains(key)
    }
}

/// What the log checks found: counts for all, and (in completion order) the problems, plus every
/// object's record when recording.
#[derive(Default)]
pub struct LogTally {
    pub counts: Counts,
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

    /// The findings and records, in walk order (`rank` of the listing digest, then its position
    /// in the digest), whatever order the checks completed in.
    pub fn in_walk_order(self, rank: &HashMap<&str, usize>) -> impl Iterator<Item = (Option<Finding>, Option<ObjectRecord>)> {
        let mut notes = self.notes;
        notes.sort_by_key(|(digest, index, _, _)| (rank.get(&**digest).copied().unwrap_or(usize::MAX), *index));
        notes.into_iter().map(|(_, _, finding, record)| (finding, record))
    }
}

/// Where a verified log file's bytes go, and for which target.
#[derive(Clone)]
struct Replayed {
    replay: Arc<dyn Replay>,
    scope: Scope,
    /// The digest that listed the log file.
    digest: Arc<str>,
}

impl Replayed {
    fn verified(&self, entry: &LogFileEntry, inflated: &[u8]) {
        self.replay.verified(&self.scope, &entry.s3_bucket, &entry.s3_object, &self.digest, inflated);
    }
}

/// A log file whose body could not be read whole is fetched again, up to `attempts` times; the
/// last failure stands, as an unreadable object, never as a hash mismatch.
async fn check_log_retrying(
    source: Arc<dyn Source>,
    entry: &LogFileEntry,
    max_inflated: u64,
    progress: &Progress,
    cpu: &Semaphore,
    attempts: u32,
    replay: Option<&Replayed>,
) -> Result<LogVerdict, SourceError> {
    let broken = |v: &Result<LogVerdict, SourceError>| matches!(v, Ok(LogVerdict::ReadError(_)) | Err(SourceError::Access(_)));
    let (verdict, attempt) = retrying(attempts, broken, || check_log(source.clone(), entry, max_inflated, progress, cpu, replay)).await;
    match verdict {
        Ok(LogVerdict::ReadError(why)) if attempt > 1 => Ok(LogVerdict::ReadError(format!("{why} (after {attempt} attempts)"))),
        Err(SourceError::Access(why)) if attempt > 1 => Err(SourceError::Access(format!("{why} (after {attempt} attempts)"))),
        other => other,
    }
}

/// Checks one log file. A local file is read, inflated and hashed by one worker thread in one
/// go. A stream (S3) is read asynchronously, and each 64 KiB it yields goes to a worker thread for
/// inflate and SHA-256, so no worker ever waits on the network. Either way the CPU work holds one
/// of the per-core `cpu` permits, and memory per check is one buffer plus the inflate state.
/// With a replay, the inflated bytes are kept while hashing and handed over only when the hash
/// matched: what is replayed is exactly what was verified, read once.
async fn check_log(source: Arc<dyn Source>, entry: &LogFileEntry, max_inflated: u64, progress: &Progress, cpu: &Semaphore, replay: Option<&Replayed>) -> Result<LogVerdict, SourceError> {
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
            let (replay, entry) = (replay.cloned(), entry.clone());
            return tokio::task::spawn_blocking(move || {
                let (verdict, kept) = logfile::check_kept(file, &expected, max_inflated, replay.is_some());
                if let (Some(r), Some(bytes)) = (replay, kept) {
                    r.verified(&entry, &bytes);
                }
                verdict
            })
            .await
            .map_err(worker_failed);
        }
        Body::Stream(s) => s,
    };
    let mut hasher = logfile::LogHasher::with_kept(&entry.hash_value, max_inflated, replay.is_some());
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
    let (verdict, kept) = hasher.finish_kept();
    if let (Some(r), Some(bytes)) = (replay.cloned(), kept) {
        let entry = entry.clone();
        let _permit = cpu.acquire().await.map_err(|_| closed())?;
        tokio::task::spawn_blocking(move || r.verified(&entry, &bytes)).await.map_err(worker_failed)?;
    }
    Ok(verdict)
}
