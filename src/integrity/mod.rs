//! The pure verification core: digest parsing, signatures, chain links and log-file hashing.
pub mod chain;
pub mod completeness;
pub mod digest;
pub mod gzip;
pub mod inflate;
pub mod keys;
pub mod logfile;
pub mod signature;
