//! The one bounded gunzip of a whole object held in memory: digests, and log files given to
//! `filter test`. Going over `max_inflated` is an error, so a decompression bomb costs at most
//! that much memory. (Log files under validation stream through `logfile` instead.)
use std::io::Read;

use flate2::bufread::{GzDecoder, MultiGzDecoder};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GzipError {
    #[error("not valid gzip: {0}")]
    Invalid(String),
    #[error("{0} bytes follow the gzip data")]
    TrailingData(usize),
    #[error("larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
}

/// How many gzip members the input may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Members {
    /// Exactly one; anything after it is an error. For evidence: bytes outside the member are
    /// not covered by any hash, so a verifier must not silently ignore them.
    One,
    /// One or more, inflated one after another (as `gzip -d` does).
    Any,
}

pub fn gunzip(gz: &[u8], max_inflated: u64, members: Members) -> Result<Vec<u8>, GzipError> {
    if members == Members::One {
        if let Some(out) = gunzip_whole(gz, max_inflated) {
            return Ok(out);
        }
    }
    gunzip_stream(gz, max_inflated, members)
}

/// The streaming inflate (zlib-rs): any number of members, and the judge of every error.
fn gunzip_stream(gz: &[u8], max_inflated: u64, members: Members) -> Result<Vec<u8>, GzipError> {
    let mut out = Vec::new();
    let mut one = GzDecoder::new(gz);
    let reader: &mut dyn Read = match members {
        Members::One => &mut one,
        Members::Any => &mut MultiGzDecoder::new(gz),
    };
    // Reading one byte past the cap is how an over-size stream is told from one exactly at it.
    reader.take(max_inflated.saturating_add(1)).read_to_end(&mut out).map_err(|e| GzipError::Invalid(e.to_string()))?;
    if out.len() as u64 > max_inflated {
        return Err(GzipError::TooLarge { limit: max_inflated });
    }
    let rest = one.get_ref().len();
    if members == Members::One && rest > 0 {
        return Err(GzipError::TrailingData(rest));
    }
    Ok(out)
}

/// The fast path for one member: libdeflate, into a buffer of the size the trailer claims (a
/// claim only: bounded by the limit, and a wrong one fails the inflate). Anything it does not
/// verify (`None`) goes down the streaming path, which judges it and words the error.
fn gunzip_whole(gz: &[u8], max_inflated: u64) -> Option<Vec<u8>> {
    const WHOLE_MAX: usize = 64 << 20;
    let at = gz.len().checked_sub(4)?;
    let claimed = u32::from_le_bytes([gz[at], gz[at + 1], gz[at + 2], gz[at + 3]]) as usize;
    if claimed > WHOLE_MAX || claimed as u64 > max_inflated {
        return None;
    }
    let mut out = vec![0; claimed];
    let n = crate::integrity::inflate::Inflater::new().gunzip_one(gz, &mut out).ok()?;
    out.truncate(n);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::gzip as gz;

    /// The fast path gives what the streaming path gives, or stands aside: on good members, and
    /// on members with trailing bytes, a lying length, a bad CRC, a truncation or over the limit.
    #[test]
    fn whole_and_streamed_gunzip_agree() {
        let body = br#"{"digestStartTime":"2026-03-01T00:17:42Z","logFiles":[]}"#.repeat(40);
        let good = gz(&body);
        assert_eq!(gunzip_whole(&good, u64::MAX).as_deref(), Some(&body[..]), "a good member takes the fast path");
        let n = good.len();
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"xyz");
        let mut lying = good.clone();
        lying[n - 4] ^= 1;
        let mut bad_crc = good.clone();
        bad_crc[n - 8] ^= 1;
        let mut two = good.clone();
        two.extend_from_slice(&good);
        let cases: [(&str, &[u8], u64); 8] = [
            ("good", &good, u64::MAX),
            ("at the limit", &good, body.len() as u64),
            ("over the limit", &good, body.len() as u64 - 1),
            ("trailing bytes", &trailing, u64::MAX),
            ("lying length", &lying, u64::MAX),
            ("bad crc", &bad_crc, u64::MAX),
            ("truncated", &good[..n - 9], u64::MAX),
            ("two members", &two, u64::MAX),
        ];
        for (what, input, max) in cases {
            assert_eq!(gunzip(input, max, Members::One), gunzip_stream(input, max, Members::One), "{what}");
            if what != "good" && what != "at the limit" {
                assert!(gunzip(input, max, Members::One).is_err(), "{what} is refused");
            }
        }
        assert_eq!(gunzip(&[], u64::MAX, Members::One), gunzip_stream(&[], u64::MAX, Members::One));
    }
}
