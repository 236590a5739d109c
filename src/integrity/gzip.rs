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
