//! Explicit resource limits for hostile evidence, passed in rather than hard-wired.

/// Upper bounds on what trailproof will read from one object. Exceeding one is a finding, never an
/// out-of-memory abort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest digest object (gzip bytes) read into memory.
    pub max_digest_bytes: u64,
    /// Largest inflated digest JSON.
    pub max_digest_inflated: u64,
    /// Largest inflated log file hashed; guards against gzip bombs eating hours of CPU.
    pub max_log_inflated: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // Real digests are a few KB per hundred log files; 64 MiB inflated is ~300k entries.
        Limits {
            max_digest_bytes: 16 << 20,
            max_digest_inflated: 64 << 20,
            max_log_inflated: 4 << 30,
        }
    }
}
