//! Log files: streamed through gunzip and SHA-256, never buffered whole.
use std::io::{BufRead, BufReader, Read};

use flate2::bufread::GzDecoder;
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

/// Remembers whether the underlying source failed, so that a broken connection is never taken
/// for a corrupt (or, worse, complete) file.
struct Tracked<R> {
    inner: R,
    error: Option<String>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| self.error = Some(e.to_string()))
    }
}

const CHUNK: usize = 256 * 1024;

/// Inflates `body` (one gzip member), hashes the inflated bytes and compares with `expected_hex`.
pub fn check<R: Read>(body: R, expected_hex: &str, max_inflated: u64) -> LogVerdict {
    let mut source = BufReader::with_capacity(CHUNK, Tracked { inner: body, error: None });
    let mut hasher = Sha256::new();
    let mut total: u64 = 0;
    {
        let mut decoder = GzDecoder::new(&mut source);
        let mut buf = vec![0u8; CHUNK];
        loop {
            match decoder.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    total += n as u64;
                    if total > max_inflated {
                        return LogVerdict::Format(format!("inflates to more than {max_inflated} bytes"));
                    }
                    hasher.update(&buf[..n]);
                }
                Err(e) => {
                    return match decoder.get_ref().get_ref().error.clone() {
                        Some(read_error) => LogVerdict::ReadError(read_error),
                        None => LogVerdict::Format(format!("not valid gzip: {e}")),
                    };
                }
            }
        }
    }
    // Bytes after the gzip member are covered by no hash: refuse them.
    match source.fill_buf() {
        Ok([]) => {}
        Ok(rest) => return LogVerdict::Format(format!("{}+ bytes follow the gzip data", rest.len())),
        Err(e) => return LogVerdict::ReadError(e.to_string()),
    }
    let actual = hex::encode(hasher.finalize());
    if actual.eq_ignore_ascii_case(expected_hex.trim()) {
        LogVerdict::Valid { sha256: actual }
    } else {
        LogVerdict::HashMismatch { actual }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

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
