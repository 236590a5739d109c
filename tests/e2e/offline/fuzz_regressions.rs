//! Replays every file under fuzz/seeds/<target>/ and fuzz/regressions/<target>/ through the
//! harnesses the cargo-fuzz targets run (fuzz/harness.rs), so CI without cargo-fuzz still runs
//! them.
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/harness.rs"]
mod harness;

use trailproof::integrity::keys::KeyRing;

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else { continue };
        files.extend(entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
    }
    files.sort();
    files
}

/// Runs `body` on every input of `target`, naming the file of any that panics.
fn replay(target: &str, min_seeds: usize, body: fn(&[u8])) {
    let files = inputs(target);
    assert!(files.len() >= min_seeds, "{target}: only {} inputs", files.len());
    let failed: Vec<_> = files
        .iter()
        .filter(|f| {
            let data = std::fs::read(f).unwrap();
            std::panic::catch_unwind(|| body(&data)).is_err()
        })
        .collect();
    assert!(failed.is_empty(), "{target}: these inputs panic: {failed:#?}");
}

#[test]
fn digest() {
    replay("digest", 10, harness::digest);
}

#[test]
fn public_key() {
    replay("public_key", 10, harness::public_key);
}

#[test]
fn log_file() {
    replay("log_file", 10, harness::log_file);
}

#[test]
fn filter_pattern() {
    replay("filter_pattern", 10, harness::filter_pattern);
}

#[test]
fn evidence_strings() {
    replay("evidence_strings", 10, harness::evidence_strings);
}

#[test]
fn log_records() {
    replay("log_records", 10, harness::log_records);
}

/// Regression: found while setting up the `public_key` fuzz target. A key file whose Value is
/// SubjectPublicKeyInfo DER (the form AWS's documentation shows) was exported as PKCS#1 under the
/// SPKI bytes' fingerprint, so reading the export back rejected the key.
#[test]
fn spki_key_file_survives_export_and_reimport() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/public_key/spki-value.json");
    let ring = KeyRing::from_list_public_keys_json(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(ring.len(), 1);
    let again = KeyRing::from_list_public_keys_json(ring.to_list_public_keys_json().to_string().as_bytes()).unwrap();
    let rejected: Vec<_> = again.rejected().collect();
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(again.len(), 1);
}
