//! Whole-buffer gunzip with libdeflate: the fast path for log files that fit in memory (most do;
//! a quiet region's are a few kilobytes). libdeflate checks the member's CRC-32 and length as it
//! goes, at a fraction of a streaming inflater's cost per object.
//!
//! The one place with `unsafe` code: the maintained wrapper crate (`libdeflater`) does not expose
//! `libdeflate_gzip_decompress_ex`, which says where the member ended. A verifier needs that to
//! refuse bytes after the member (no hash covers them), so the three C calls are made here.
#![allow(unsafe_code)]

use std::ptr::NonNull;

use libdeflate_sys as sys;

/// Why a whole-buffer inflate did not give exactly one member's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WholeError {
    /// Not gzip, a corrupt stream, or a wrong CRC-32 or length.
    Bad,
    /// The member inflates to more than the output buffer holds.
    TooSmall,
    /// A good member ends this many bytes before the input does.
    Trailing(usize),
}

/// A libdeflate decompressor (about 32 KB, reusable for any number of objects).
pub struct Inflater {
    raw: NonNull<sys::libdeflate_decompressor>,
}

// SAFETY: a decompressor is plain memory owned by this value, used by one thread at a time
// (`&mut self`); libdeflate keeps no thread-local or global state.
unsafe impl Send for Inflater {}

impl Default for Inflater {
    fn default() -> Self {
        Inflater::new()
    }
}

impl Inflater {
    pub fn new() -> Inflater {
        // SAFETY: no arguments; a null result (out of memory) is handled below.
        let raw = unsafe { sys::libdeflate_alloc_decompressor() };
        let raw = NonNull::new(raw).unwrap_or_else(|| std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u8; 32 << 10]>()));
        Inflater { raw }
    }

    /// Inflates the one gzip member that must fill `gz` exactly into `out`, returning the number
    /// of bytes written. Never writes past `out`.
    pub fn gunzip_one(&mut self, gz: &[u8], out: &mut [u8]) -> Result<usize, WholeError> {
        let (mut read, mut written) = (0usize, 0usize);
        // SAFETY: the pointers and lengths come from live slices (`out` is exclusively borrowed),
        // `raw` is a live decompressor used by this thread only, and libdeflate writes only within
        // `out` and the two result counters.
        let result = unsafe {
            sys::libdeflate_gzip_decompress_ex(
                self.raw.as_ptr(),
                gz.as_ptr().cast(),
                gz.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut read,
                &mut written,
            )
        };
        match result {
            sys::libdeflate_result_LIBDEFLATE_SUCCESS if read == gz.len() => Ok(written.min(out.len())),
            sys::libdeflate_result_LIBDEFLATE_SUCCESS => Err(WholeError::Trailing(gz.len().saturating_sub(read))),
            sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Err(WholeError::TooSmall),
            _ => Err(WholeError::Bad),
        }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor and freed exactly once, here.
        unsafe { sys::libdeflate_free_decompressor(self.raw.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::gzip as gz;

    #[test]
    fn one_member_inflates_and_anything_else_is_refused() {
        let body = b"{\"Records\":[{\"eventName\":\"ConsoleLogin\"}]}".repeat(50);
        let stored = gz(&body);
        let mut inflater = Inflater::new();
        let mut out = vec![0u8; body.len()];
        assert_eq!(inflater.gunzip_one(&stored, &mut out), Ok(body.len()));
        assert_eq!(out, body);
        assert_eq!(inflater.gunzip_one(&stored, &mut out[..body.len() - 1]), Err(WholeError::TooSmall));
        let mut trailing = stored.clone();
        trailing.extend_from_slice(&stored);
        assert_eq!(inflater.gunzip_one(&trailing, &mut out), Err(WholeError::Trailing(stored.len())));
        let mut bad_crc = stored.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        assert_eq!(inflater.gunzip_one(&bad_crc, &mut out), Err(WholeError::Bad));
        let mut bad_length = stored.clone();
        let at = bad_length.len() - 4;
        bad_length[at] ^= 1;
        assert_eq!(inflater.gunzip_one(&bad_length, &mut out), Err(WholeError::Bad));
        for cut in [0, 5, 10, stored.len() - 1] {
            assert_eq!(inflater.gunzip_one(&stored[..cut], &mut out), Err(WholeError::Bad), "cut at {cut}");
        }
    }
}
