//! Log files: gunzip and SHA-256. A file that fits in [`WHOLE_MAX`] is inflated whole by
//! libdeflate into a worker's reusable buffer ([`check_whole`]); a larger one streams through
//! zlib-rs ([`LogHasher`]), never buffered whole. Both give the same verdicts: whenever the fast
//! path does not verify a file, the streaming path judges it (and words the finding).
use std::borrow::Cow;
use std::io::{Read, Write};

use flate2::write::GzDecoder;
use sha2::{Digest as _, Sha256};

/// What hashing one log file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogVerdict {
    /// The hash matches; `sha256` is the hex SHA-256 of the inflated bytes.
    Valid { sha256: String },
    HashMismatch { actual: String },
    /// Not a single well-formed gzip member, or larger than the limit.
    Format(String),
    /// The source failed mid-stream: the file was not fully read, so nothing is known of it.
    ReadError(String),
}

/// Where inflated bytes go: counted against the limit and hashed; kept only for a replay
/// (`backtest`, `events`), which reads exactly the bytes that were hashed.
struct HashSink {
    sha: Sha256,
    total: u64,
    max: u64,
    kept: Option<Vec<u8>>,
}

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.total += buf.len() as u64;
        if self.total > self.max {
            return Err(std::io::Error::other(format!("inflates to more than {} bytes", self.max)));
        }
        self.sha.update(buf);
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Push-based check of one log file: feed it the stored (gzip) bytes in chunks as they arrive,
/// then `finish`. Holds only the inflate state and the hash, so callers can read asynchronously
/// and run just the CPU work on a worker thread.
pub struct LogHasher {
    decoder: GzDecoder<HashSink>,
    expected: String,
    problem: Option<String>,
}

impl LogHasher {
    pub fn new(expected_hex: &str, max_inflated: u64) -> LogHasher {
        LogHasher::with_kept(expected_hex, max_inflated, false)
    }

    /// A hasher that also keeps the inflated bytes (at most `max_inflated`), for [`finish_kept`].
    ///
    /// [`finish_kept`]: LogHasher::finish_kept
    pub fn with_kept(expected_hex: &str, max_inflated: u64, keep: bool) -> LogHasher {
        let sink = HashSink { sha: Sha256::new(), total: 0, max: max_inflated, kept: keep.then(Vec::new) };
        LogHasher { decoder: GzDecoder::new(sink), expected: expected_hex.trim().to_string(), problem: None }
    }

    /// Whether the file is already known to be malformed (no need to read further).
    pub fn failed(&self) -> bool {
        self.problem.is_some()
    }

    pub fn push(&mut self, mut chunk: &[u8]) {
        while self.problem.is_none() && !chunk.is_empty() {
            match self.decoder.write(chunk) {
                // The member has ended: whatever follows is covered by no hash.
                Ok(0) => self.problem = Some(format!("{}+ bytes follow the gzip data", chunk.len())),
                Ok(n) => chunk = &chunk[n..],
                Err(e) => self.problem = Some(format!("not valid gzip: {e}")),
            }
        }
    }

    pub fn finish(self) -> LogVerdict {
        self.finish_kept().0
    }

    /// The verdict, and the inflated bytes when they were kept and the hash matched (never the
    /// bytes of a file that did not verify).
    pub fn finish_kept(mut self) -> (LogVerdict, Option<Vec<u8>>) {
        if let Some(p) = self.problem {
            return (LogVerdict::Format(p), None);
        }
        // An incomplete member (truncated file, or nothing at all) fails here.
        if let Err(e) = self.decoder.try_finish() {
            return (LogVerdict::Format(format!("not valid gzip: {e}")), None);
        }
        let Ok(sink) = self.decoder.finish() else {
            return (LogVerdict::Format("not valid gzip: incomplete member".into()), None);
        };
        let actual = sha256_hex(&sink.sha.finalize().into());
        if actual.eq_ignore_ascii_case(&self.expected) {
            (LogVerdict::Valid { sha256: actual }, sink.kept)
        } else {
            (LogVerdict::HashMismatch { actual }, None)
        }
    }
}

/// Lower-case hex of a SHA-256, through a table into one allocation: `hex::encode` pushes char by
/// char, a measurable cost once per log file.
fn sha256_hex(sha: &[u8; 32]) -> String {
    let mut out = [0u8; 64];
    // 64 bytes hold exactly 32 bytes' hex: the only error (a wrong length) cannot happen.
    let _ = hex::encode_to_slice(sha, &mut out);
    std::str::from_utf8(&out).map(str::to_owned).unwrap_or_default()
}

pub const CHUNK: usize = 64 * 1024;

/// The largest log file (stored or inflated) inflated whole; larger ones stream. CloudTrail's log
/// files are far smaller; the bound keeps a worker's buffers at most this size each.
pub const WHOLE_MAX: usize = 16 << 20;

/// A worker's reusable state for [`check_whole`]: the decompressor and the output buffer. The
/// buffer only grows (to at most `WHOLE_MAX`), so a file costs no allocation and no zeroing.
#[derive(Default)]
pub struct Scratch {
    inflater: crate::integrity::inflate::Inflater,
    out: Vec<u8>,
    /// The stored bytes of the file being checked, for callers that read files into it.
    pub input: Vec<u8>,
}

/// [`check_kept`] for a whole stored object in memory: inflated in one call when its claimed
/// size allows, else streamed. The kept bytes borrow the scratch buffer when they can.
pub fn check_whole<'s>(gz: &[u8], expected_hex: &str, max_inflated: u64, keep: bool, scratch: &'s mut Scratch) -> (LogVerdict, Option<Cow<'s, [u8]>>) {
    // The trailer's length (ISIZE, the size mod 2^32) is a claim: it only sizes a buffer that
    // is bounded anyway, and a wrong claim fails the inflate, sending the file down the stream.
    let claimed = gz.len().checked_sub(4).map(|at| u32::from_le_bytes([gz[at], gz[at + 1], gz[at + 2], gz[at + 3]]) as usize);
    if let Some(size) = claimed.filter(|&n| n <= WHOLE_MAX && n as u64 <= max_inflated && gz.len() <= WHOLE_MAX) {
        if scratch.out.len() < size {
            scratch.out.resize(size, 0);
        }
        if let Ok(n) = scratch.inflater.gunzip_one(gz, &mut scratch.out[..size]) {
            let inflated = &scratch.out[..n];
            let actual = sha256_hex(&Sha256::digest(inflated).into());
            return if actual.eq_ignore_ascii_case(expected_hex.trim()) {
                (LogVerdict::Valid { sha256: actual }, keep.then_some(Cow::Borrowed(inflated)))
            } else {
                (LogVerdict::HashMismatch { actual }, None)
            };
        }
    }
    let (verdict, kept) = check_kept(gz, expected_hex, max_inflated, keep);
    (verdict, kept.map(Cow::Owned))
}

/// Inflates `body` (one gzip member), hashes the inflated bytes and compares with `expected_hex`.
/// A failing `body` is a `ReadError`: a broken connection is never taken for a corrupt (or, worse,
/// complete) file.
pub fn check<R: Read>(body: R, expected_hex: &str, max_inflated: u64) -> LogVerdict {
    check_kept(body, expected_hex, max_inflated, false).0
}

/// [`check`], also returning the inflated bytes of a file that verified when `keep` is set.
pub fn check_kept<R: Read>(mut body: R, expected_hex: &str, max_inflated: u64, keep: bool) -> (LogVerdict, Option<Vec<u8>>) {
    let mut hasher = LogHasher::with_kept(expected_hex, max_inflated, keep);
    let mut buf = vec![0u8; CHUNK];
    loop {
        match body.read(&mut buf) {
            Ok(0) => return hasher.finish_kept(),
            Ok(n) => hasher.push(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (LogVerdict::ReadError(e.to_string()), None),
        }
        if hasher.failed() {
            return hasher.finish_kept();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// Test data is gzipped as the simulator writes it.
    use crate::sim::gzip as gz;


    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn good_and_tampered_log_files() {
        let body = br#"{"Records":[{"eventName":"ConsoleLogin"}]}"#;
        assert_eq!(check(&gz(body)[..], &sha(body), u64::MAX), LogVerdict::Valid { sha256: sha(body) });
        assert_eq!(check(&gz(body)[..], &sha(body).to_uppercase(), u64::MAX), LogVerdict::Valid { sha256: sha(body) });
        let other = br#"{"Records":[{"eventName":"ConsoleLogout"}]}"#;
        assert_eq!(check(&gz(other)[..], &sha(body), u64::MAX), LogVerdict::HashMismatch { actual: sha(other) });
    }

    #[test]
    fn only_the_bytes_of_a_verified_file_are_kept() {
        let body = br#"{"Records":[{"eventName":"ConsoleLogin"}]}"#;
        assert_eq!(check_kept(&gz(body)[..], &sha(body), u64::MAX, true).1.as_deref(), Some(&body[..]));
        assert_eq!(check_kept(&gz(body)[..], &sha(body), u64::MAX, false).1, None);
        assert_eq!(check_kept(&gz(body)[..], &sha(b"other"), u64::MAX, true).1, None);
        let mut trailing = gz(body);
        trailing.push(0);
        assert_eq!(check_kept(&trailing[..], &sha(body), u64::MAX, true).1, None);
    }

    /// The whole-buffer path and the streaming path judge every file alike, including files
    /// whose trailer lies about the length, files past the limit and files with trailing bytes.
    #[test]
    fn whole_and_streamed_checks_agree() {
        let body = br#"{"Records":[{"eventName":"ConsoleLogin"}]}"#.repeat(100);
        let stored = gz(&body);
        let mut lying = stored.clone();
        let at = lying.len() - 4;
        lying[at..].copy_from_slice(&1u32.to_le_bytes());
        let mut huge_claim = stored.clone();
        huge_claim[at..].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut trailing = stored.clone();
        trailing.extend_from_slice(&stored[stored.len() - 8..]);
        let mut flipped = stored.clone();
        flipped[20] ^= 0x10;
        let mut scratch = Scratch::default();
        for (name, file) in [("good", &stored), ("lying length", &lying), ("huge claim", &huge_claim), ("trailing", &trailing), ("flipped", &flipped), ("empty", &Vec::new())] {
            for (expected, max) in [(sha(&body), u64::MAX), (sha(b"other"), u64::MAX), (sha(&body), 100)] {
                let whole = check_whole(file, &expected, max, true, &mut scratch);
                let streamed = check_kept(&file[..], &expected, max, true);
                assert_eq!(whole.0, streamed.0, "{name}, limit {max}");
                assert_eq!(whole.1.as_deref(), streamed.1.as_deref(), "{name}, limit {max}");
            }
        }
        assert_eq!(check_whole(&stored, &sha(&body), u64::MAX, true, &mut scratch).1.as_deref(), Some(&body[..]));
    }

    #[test]
    fn chunk_boundaries_do_not_matter() {
        let body: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let stored = gz(&body);
        for size in [1, 7, 8, 4096, stored.len()] {
            let mut h = LogHasher::new(&sha(&body), u64::MAX);
            stored.chunks(size).for_each(|c| h.push(c));
            assert_eq!(h.finish(), LogVerdict::Valid { sha256: sha(&body) }, "chunks of {size}");
        }
        // Trailing bytes split across pushes are still caught.
        let mut h = LogHasher::new(&sha(&body), u64::MAX);
        h.push(&stored);
        h.push(b"x");
        assert!(matches!(h.finish(), LogVerdict::Format(_)));
    }

    #[test]
    fn malformed_log_files_are_format_errors() {
        let body = b"{\"Records\":[]}";
        let full = gz(body);
        for bad in [&b""[..], b"plain text", &full[..full.len() - 3], &full[..10]] {
            assert!(matches!(check(bad, &sha(body), u64::MAX), LogVerdict::Format(_)), "{bad:?}");
        }
        let mut trailing = full.clone();
        trailing.push(0);
        assert!(matches!(check(&trailing[..], &sha(body), u64::MAX), LogVerdict::Format(_)));
        assert!(matches!(check(&full[..], &sha(body), 4), LogVerdict::Format(_)));
    }

    #[test]
    fn a_failing_source_is_a_read_error_not_a_verdict() {
        struct Broken(Vec<u8>, usize);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.1 >= self.0.len() / 2 {
                    return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"));
                }
                let n = buf.len().min(self.0.len() / 2 - self.1).min(7);
                buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let body = vec![b'x'; 100_000];
        let verdict = check(Broken(gz(&body), 0), &sha(&body), u64::MAX);
        assert!(matches!(verdict, LogVerdict::ReadError(_)), "{verdict:?}");
    }
}
