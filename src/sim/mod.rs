//! The trail simulator: writes a realistic, correctly signed CloudTrail trail (digests, log files
//! and signature metadata) with the test keys in `keys/`. Used by the tests, the benchmarks and the
//! bundled sample. Test keys only: nothing here ever touches a real AWS private key.
//!
//! `keys`: the test keys and signing; `trail`: the trail spec, the simulation and edits to it;
//! `noise`: the noise month of the backtest's tests and worked example.
mod keys;
pub mod noise;
mod trail;

pub use keys::{generate as generate_keys, load_keyset, public_keys, SimKey};
pub use trail::{gunzip, gzip, sign_digest, simulate, SimObject, SimTrail, TrailSpec};
