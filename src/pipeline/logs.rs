//! The log-file stage: authentic digests queue their log files; a bounded pool checks them
//! (gunzip + SHA-256 off the reactor) while the chain is still being fetched, and tallies what it
//! found. Only problems are kept (and every object when recording), so memory stays flat.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc::{Receiver, Sender};
use tokio_stream::wrappers::ReceiverStream;

use super::cpu::Worker;
use super::retry::retrying;
use super::{Context, Replay};
use chrono::{DateTime, Utc};
use crate::finding::{Finding, FindingKind, Scope};
use crate::integrity::digest::{LogFileEntry, HASH_ALGORITHM};
use crate::integrity::logfile::{self, LogVerdict};
use crate::progress::Progress;
use crate::report::{Counts, ObjectRecord, ObjectType, ObjectVerdict};
use crate::source::dir::Folders;
use crate::source::{LocalFiles, Source, SourceError};

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

/// Checks every queued log file until the queue's senders are all dropped, at most
/// `--concurrency` at once. (A local copy's log files are checked by its workers: `local`.)
pub async fn check_queued(ctx: &Context<'_>, scope: &Scope, queued: Receiver<LogJob>) -> LogTally {
    let opts = &ctx.options;
    let how = Tallying { scope, replay: ctx.replay.as_deref(), progress: &ctx.progress, record_objects: opts.record_objects };
    let tally = |mut tally: LogTally, (job, verdict): (LogJob, Result<LogVerdict, SourceError>)| {
        tally.add(&how, job, verdict);
        async move { tally }
    };
    ReceiverStream::new(queued)
        .map(|job| {
            let replay = ctx.replay.clone().map(|r| Replayed { replay: r, scope: scope.clone(), digest: job.digest.clone() });
            async move {
                let verdict = check_log_retrying(ctx, &job.entry, replay.as_ref()).await;
                (job, verdict)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .fold(LogTally::default(), tally)
        .await
}

/// Checks one queued log file of a local copy on the calling worker; a panic costs this file's
/// verdict (unreadable), never the worker's other files.
pub(super) fn check_local_job(
    source: &dyn Source,
    worker: &mut Worker,
    job: &LogJob,
    max_inflated: u64,
    progress: &Progress,
    replay: Option<(&Arc<dyn Replay>, &Scope)>,
) -> Result<LogVerdict, SourceError> {
    let Worker { scratch, folders } = worker;
    let replayed = replay.map(|(r, scope)| Replayed { replay: r.clone(), scope: scope.clone(), digest: job.digest.clone() });
    let check = || match source.local() {
        Some(local) => check_local(local, folders, &job.entry, max_inflated, scratch, progress, replayed.as_ref()),
        None => Err(SourceError::Access("not a local source".into())),
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_or_else(|_| Err(SourceError::Access("checking task failed".into())))
}

/// Opens, reads, inflates and hashes one local log file on the calling worker.
fn check_local(
    local: &dyn LocalFiles,
    folders: &mut Folders,
    entry: &LogFileEntry,
    max_inflated: u64,
    scratch: &mut logfile::Scratch,
    progress: &Progress,
    replay: Option<&Replayed>,
) -> Result<LogVerdict, SourceError> {
    use std::io::Read;
    if entry.hash_algorithm != HASH_ALGORITHM {
        return Ok(unsupported(entry));
    }
    let (file, size) = local.open(folders, &entry.s3_bucket, &entry.s3_object)?;
    let mut input = std::mem::take(&mut scratch.input);
    // Read whole up to the whole-inflate bound; a larger file streams on from where this stopped.
    // The size when opened only spares a read: one byte more is asked for, so a file that grew
    // since is still read to its end.
    let read = read_up_to(&file, size, logfile::WHOLE_MAX + 1, &mut input);
    progress.read(input.len());
    let (verdict, kept) = match read {
        Err(e) => (LogVerdict::ReadError(e.to_string()), None),
        Ok(_) if input.len() <= logfile::WHOLE_MAX => logfile::check_whole(&input, &entry.hash_value, max_inflated, replay.is_some(), scratch),
        Ok(_) => {
            let (verdict, kept) = logfile::check_kept(std::io::Cursor::new(&input).chain(&file), &entry.hash_value, max_inflated, replay.is_some());
            (verdict, kept.map(std::borrow::Cow::Owned))
        }
    };
    if let (Some(r), Some(bytes)) = (replay, kept) {
        r.verified(entry, &bytes);
    }
    scratch.input = input;
    Ok(verdict)
}

/// Reads `file` into `out` (replacing what it held) until its end or `max` bytes. A regular file's
/// read that returns less than asked is at its end, so a file read at its expected `size` costs
/// one read call. `out` is resized, not cleared, so only bytes past the last file's are zeroed.
fn read_up_to(mut file: &std::fs::File, size: u64, max: usize, out: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    let first = usize::try_from(size).unwrap_or(max).saturating_add(1).min(max);
    out.resize(first, 0);
    let n = loop {
        match file.read(out) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    out.truncate(n);
    if n < first || out.len() >= max {
        return Ok(());
    }
    file.take((max - out.len()) as u64).read_to_end(out).map(|_| ())
}

fn unsupported(entry: &LogFileEntry) -> LogVerdict {
    LogVerdict::Format(format!("digest names unsupported hashAlgorithm '{}'", entry.hash_algorithm))
}

/// The log files authentic digests list. Held as 128-bit SHA-256 prefixes of the keys, so a year
/// of log files costs a few megabytes: a planted key would pass only by hitting one of these
/// prefixes exactly, a second preimage (2^128 work), where a plain hash (64 bits, not
/// collision-resistant) could be matched on purpose.
///
/// The ids are SHA-256 output, spread evenly whatever the keys, and only authentic digests add
/// any: a fast hash of them cannot be crowded by chosen keys.
#[derive(Default)]
pub struct Referenced(std::sync::Mutex<HashSet<[u8; 16], foldhash::fast::RandomState>>);

impl Referenced {
    fn id(key: &str) -> [u8; 16] {
        use sha2::Digest as _;
        let sha = sha2::Sha256::digest(key.as_bytes());
        let mut id = [0u8; 16];
        id.copy_from_slice(&sha[..16]);
        id
    }

    /// Remembers a digest's log files, hashed before the one lock.
    pub fn insert_all<'k>(&self, keys: impl Iterator<Item = &'k str>) {
        let ids: Vec<[u8; 16]> = keys.map(Referenced::id).collect();
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend(ids);
    }

    pub fn contains(&self, key: &str) -> bool {
        let id = Referenced::id(key);
        self.0.lock().unwrap_or_else(|e| e.into_inner()).contains(&id)
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

/// How a checked log file is tallied: for which target, and who else hears of it.
pub struct Tallying<'a> {
    pub scope: &'a Scope,
    /// Told of every log file that did not verify.
    pub replay: Option<&'a dyn Replay>,
    pub progress: &'a Progress,
    pub record_objects: bool,
}

impl LogTally {
    pub fn add(&mut self, how: &Tallying<'_>, job: LogJob, result: Result<LogVerdict, SourceError>) {
        if let Some(replay) = how.replay {
            if !matches!(result, Ok(LogVerdict::Valid { .. })) {
                replay.unverified(how.scope, &job.entry.s3_object, job.period);
            }
        }
        how.progress.log_done();
        let (scope, record_objects) = (how.scope, how.record_objects);
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

    pub fn merge(&mut self, other: LogTally) {
        self.counts += other.counts;
        self.notes.extend(other.notes);
    }

    /// A problem found beside any one log file's check (the check itself failed), reported after
    /// the log files' own findings.
    pub fn note(&mut self, finding: Finding) {
        self.notes.push((Arc::from(""), usize::MAX, Some(finding), None));
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

/// A log file whose body could not be read whole is fetched again, up to `--read-attempts`
/// times; the last failure stands, as an unreadable object, never as a hash mismatch.
async fn check_log_retrying(ctx: &Context<'_>, entry: &LogFileEntry, replay: Option<&Replayed>) -> Result<LogVerdict, SourceError> {
    let broken = |v: &Result<LogVerdict, SourceError>| matches!(v, Ok(LogVerdict::ReadError(_)) | Err(SourceError::Access(_)));
    let (verdict, attempt) = retrying(ctx.options.read_attempts, broken, || check_log(ctx, entry, replay)).await;
    match verdict {
        Ok(LogVerdict::ReadError(why)) if attempt > 1 => Ok(LogVerdict::ReadError(format!("{why} (after {attempt} attempts)"))),
        Err(SourceError::Access(why)) if attempt > 1 => Err(SourceError::Access(format!("{why} (after {attempt} attempts)"))),
        other => other,
    }
}

/// How much of a streamed log file is read before deciding how to check it: a file that ends
/// within it (most do) is checked whole in one worker hop.
const WHOLE_READ: usize = 4 * logfile::CHUNK;

/// Checks one streamed log file (S3). The body is read asynchronously; a file that ends within
/// `WHOLE_READ` goes to a worker once, whole; a longer one goes over in `CHUNK`s for streaming
/// inflate and SHA-256, so no worker ever waits on the network and memory per check stays one
/// buffer plus the inflate state. With a replay, the inflated bytes are kept while hashing and
/// handed over only when the hash matched: what is replayed is exactly what was verified, read once.
async fn check_log(ctx: &Context<'_>, entry: &LogFileEntry, replay: Option<&Replayed>) -> Result<LogVerdict, SourceError> {
    use tokio::io::AsyncReadExt;
    if entry.hash_algorithm != HASH_ALGORITHM {
        return Ok(unsupported(entry));
    }
    let max_inflated = ctx.options.limits.max_log_inflated;
    let _request = ctx.requests.acquire().await.map_err(|_| SourceError::Access("request budget closed".into()))?;
    let mut stream = ctx.source.get(&entry.s3_bucket, &entry.s3_object).await?.body.into_async();
    // Fills `buf` up to `want` bytes; true when the body ended first.
    async fn fill(stream: &mut (impl tokio::io::AsyncRead + Unpin), buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
        while buf.len() < want {
            if stream.take((want - buf.len()) as u64).read_buf(buf).await? == 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }
    let mut buf = Vec::with_capacity(logfile::CHUNK);
    let mut ended = match fill(&mut stream, &mut buf, WHOLE_READ).await {
        Ok(ended) => ended,
        // A short or broken body is never hashed as if complete.
        Err(e) => return Ok(LogVerdict::ReadError(e.to_string())),
    };
    ctx.progress.read(buf.len());
    if ended {
        let (expected, replay, entry) = (entry.hash_value.clone(), replay.cloned(), entry.clone());
        return ctx
            .cpu
            .run(move |worker| {
                let (verdict, kept) = logfile::check_whole(&buf, &expected, max_inflated, replay.is_some(), &mut worker.scratch);
                if let (Some(r), Some(bytes)) = (replay, kept) {
                    r.verified(&entry, &bytes);
                }
                verdict
            })
            .await;
    }
    let mut hasher = logfile::LogHasher::with_kept(&entry.hash_value, max_inflated, replay.is_some());
    loop {
        (hasher, buf) = ctx
            .cpu
            .run(move |_| {
                hasher.push(&buf);
                (hasher, buf)
            })
            .await?;
        if hasher.failed() || ended {
            break;
        }
        buf.clear();
        ended = match fill(&mut stream, &mut buf, logfile::CHUNK).await {
            Ok(ended) => ended,
            Err(e) => return Ok(LogVerdict::ReadError(e.to_string())),
        };
        ctx.progress.read(buf.len());
    }
    let (verdict, kept) = hasher.finish_kept();
    if let (Some(r), Some(bytes)) = (replay.cloned(), kept) {
        let entry = entry.clone();
        ctx.cpu.run(move |_| r.verified(&entry, &bytes)).await?;
    }
    Ok(verdict)
}
