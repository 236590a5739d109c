//! trailproof: proves an AWS CloudTrail audit trail is whole and untouched.
//!
//! The verification core (`layout`, `integrity`) is pure: bytes in, verdicts out. I/O lives at the
//! edges (`source`, `aws`), and `pipeline` wires the two together. Reporters (`report`) render one
//! findings model (`finding`). ARCHITECTURE.md is the map.
// Unsafe code is denied everywhere but `integrity::inflate` (three calls into libdeflate).
#![deny(unsafe_code)]

#[cfg(feature = "aws")]
pub mod aws;
pub mod backtest;
pub mod baseline;
pub mod checkpoint;
#[cfg(feature = "aws")]
pub mod cli;
pub mod export;
pub mod filter_pattern;
pub mod finding;
pub mod integrity;
pub mod layout;
pub mod keysource;
pub mod limits;
pub mod plan;
pub mod progress;
pub mod report;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;
pub mod time;
pub mod pipeline;
