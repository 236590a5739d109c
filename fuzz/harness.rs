//! The fuzz harnesses, shared by the cargo-fuzz targets (fuzz/fuzz_targets/, each a one-line
//! wrapper) and by tests/fuzz_regressions.rs, which replays the seed and regression corpora
//! through them in the ordinary `cargo test`. Each function must never panic on any input; the
//! assertions in them are invariants, and a failed one is a bug.
use std::io::Write;

use base64::Engine as _;
use chrono::{TimeZone, Utc};
use sha2::{Digest as _, Sha256};
use trailproof::filter_pattern::{parse, read_events, LogEvent};
use trailproof::integrity::digest::{self, DigestFormatError};
use trailproof::integrity::logfile::{check, LogHasher, LogVerdict};
use trailproof::keys::{self, KeyError, KeyRing, PublicKey};
use trailproof::limits::Limits;

/// Small enough that gzip bombs are cut at once; sample digests inflate to about 3 KB.
const DIGEST_LIMITS: Limits = Limits { max_digest_bytes: 1 << 20, max_digest_inflated: 64 << 10, max_log_inflated: 1 << 20 };

/// Digest objects: bytes -> strict gunzip -> typed JSON -> string to sign.
pub fn digest(data: &[u8]) {
    let a = digest::parse(data, &DIGEST_LIMITS);
    let inflated = digest::gunzip_strict(data, DIGEST_LIMITS.max_digest_inflated);
    match (&inflated, a.inflated_sha256) {
        (Ok(bytes), Some(h)) => assert_eq!(<[u8; 32]>::from(Sha256::digest(bytes)), h),
        (Err(e), None) => assert_eq!(a.parsed.as_ref().err(), Some(e)),
        (i, h) => panic!("gunzip_strict {:?} but parse's inflated hash {:?}", i.as_ref().map(Vec::len), h),
    }
    if let Err(DigestFormatError::TooLarge { limit }) = &a.parsed {
        assert_eq!(*limit, DIGEST_LIMITS.max_digest_inflated);
    }
    let b = digest::parse(data, &DIGEST_LIMITS);
    assert_eq!(a.inflated_sha256, b.inflated_sha256);
    match (&a.parsed, &b.parsed) {
        (Ok(x), Ok(y)) => assert_eq!((&x.digest, x.sha256, x.start, x.end), (&y.digest, y.sha256, y.start, y.end)),
        (Err(x), Err(y)) => assert_eq!(x, y),
        _ => panic!("parse is not deterministic"),
    }
    let Ok(p) = a.parsed else { return };
    assert_eq!(Some(p.sha256), a.inflated_sha256);
    assert_eq!(p.digest.digest_signature_algorithm, digest::SIGNATURE_ALGORITHM);
    let s = digest::string_to_sign(&p.digest, &p.sha256);
    assert_eq!(s, digest::string_to_sign(&p.digest, &p.sha256));
    assert!(s.starts_with(&format!("{}\n", p.digest.digest_end_time)));
    assert!(s.contains(&format!("\n{}\n", hex::encode(p.sha256))));
    assert!(s.ends_with(&format!("\n{}", p.digest.previous_digest_signature.as_deref().unwrap_or("null"))));
    let big = digest::parse(data, &Limits::default());
    let q = big.parsed.expect("accepted under small limits but not under the defaults");
    assert_eq!((&q.digest, q.sha256, q.start, q.end), (&p.digest, p.sha256, p.start, p.end));
    let json = serde_json::to_vec(&p.digest).unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&json).unwrap();
    let again = digest::parse(&e.finish().unwrap(), &Limits::default());
    let r = again.parsed.unwrap_or_else(|err| panic!("re-serialised digest does not parse: {err}"));
    assert_eq!(r.digest, p.digest);
    assert_eq!((r.start, r.end), (p.start, p.end));
}

/// DER keys (PKCS#1 or SPKI), and the same bytes as a list-public-keys file.
pub fn public_key(data: &[u8]) {
    let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap();
    let fp = keys::fingerprint(data);
    assert_eq!(fp.len(), 32);
    let pkcs1 = keys::to_pkcs1_der(data);
    match PublicKey::new(data, &fp.to_uppercase(), from, to) {
        Ok(k) => {
            assert_eq!(Ok(&k.pkcs1_der), pkcs1.as_ref());
            assert_eq!(k.fingerprint, fp);
        }
        Err(e) => assert_eq!(Err(e), pkcs1.clone()),
    }
    if let Ok(p) = &pkcs1 {
        assert_eq!(keys::to_pkcs1_der(p).as_ref(), Ok(p));
    }
    let wrong = if fp.starts_with('0') { "1" } else { "0" }.repeat(32);
    assert!(matches!(PublicKey::new(data, &wrong, from, to), Err(KeyError::FingerprintMismatch { .. })));
    let Ok(ring) = KeyRing::from_list_public_keys_json(data) else { return };
    let exported = ring.to_list_public_keys_json();
    let list = exported["PublicKeyList"].as_array().unwrap();
    assert_eq!(list.len(), ring.len());
    // Each key is written as published (PKCS#1 or SPKI), under the fingerprint of those bytes.
    for entry in list {
        let der = base64::engine::general_purpose::STANDARD.decode(entry["Value"].as_str().unwrap()).unwrap();
        assert!(keys::to_pkcs1_der(&der).is_ok());
        assert_eq!(keys::fingerprint(&der), entry["Fingerprint"].as_str().unwrap());
    }
    // Export then import gives every key back, accepted, and exporting again changes nothing.
    let again = KeyRing::from_list_public_keys_json(exported.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("exported key file does not parse: {e}"));
    let rejected: Vec<_> = again.rejected().collect();
    assert!(rejected.is_empty(), "exported keys rejected on re-import: {rejected:?}");
    assert_eq!(again.len(), ring.len());
    assert_eq!(again.to_list_public_keys_json(), exported);
}

/// Small, so bombs are cut at once; sample log files inflate to at most 9 KB.
const LOG_MAX_INFLATED: u64 = 64 << 10;

fn kind(v: &LogVerdict) -> LogVerdict {
    match v {
        LogVerdict::Format(_) => LogVerdict::Format(String::new()),
        other => other.clone(),
    }
}

/// Log files: 2-byte little-endian split point + the stored (gzip) bytes, hashed in chunks.
pub fn log_file(input: &[u8]) {
    if input.len() < 2 {
        return;
    }
    let (head, gz) = input.split_at(2);
    let split = u16::from_le_bytes([head[0], head[1]]) as usize % (gz.len() + 1);
    let probe = check(gz, "", LOG_MAX_INFLATED);
    let expected = match &probe {
        LogVerdict::HashMismatch { actual } => actual.clone(),
        LogVerdict::Format(_) => "00".repeat(32),
        other => panic!("unexpected verdict for an empty expected hash: {other:?}"),
    };
    let whole = check(gz, &expected, LOG_MAX_INFLATED);
    match (&probe, &whole) {
        (LogVerdict::HashMismatch { actual }, LogVerdict::Valid { sha256 }) => assert_eq!(actual, sha256),
        (LogVerdict::Format(a), LogVerdict::Format(b)) => assert_eq!(a, b),
        (p, w) => panic!("probe {p:?} then {w:?}"),
    }
    let mut h = LogHasher::new(&expected, LOG_MAX_INFLATED);
    h.push(&gz[..split]);
    h.push(&gz[split..]);
    let two = h.finish();
    assert_eq!(kind(&two), kind(&whole), "split at {split} of {}", gz.len());
    if gz.len() <= 1024 {
        let mut h = LogHasher::new(&expected, LOG_MAX_INFLATED);
        for b in gz.chunks(1) {
            h.push(b);
        }
        assert_eq!(kind(&h.finish()), kind(&whole), "one byte at a time");
    }
    match (digest::gunzip_strict(gz, LOG_MAX_INFLATED), &whole) {
        (Ok(bytes), LogVerdict::Valid { sha256 }) => assert_eq!(&hex::encode(Sha256::digest(&bytes)), sha256),
        (Err(_), LogVerdict::Format(_)) => {}
        (g, w) => panic!("gunzip_strict {:?} but log verdict {w:?}", g.map(|b| b.len())),
    }
}

/// Filter patterns: pattern bytes, a NUL, event bytes.
pub fn filter_pattern(input: &[u8]) {
    let cut = input.iter().position(|&b| b == 0).unwrap_or(input.len());
    let pattern = String::from_utf8_lossy(&input[..cut]);
    let event = input.get(cut + 1..).unwrap_or_default();
    match parse(&pattern) {
        Ok(p) => {
            let text = LogEvent::new(String::from_utf8_lossy(event).into_owned());
            let first = p.matches(&text);
            assert_eq!(first, p.matches(&text));
            if let Some(json) = text.json() {
                let _ = p.matches(&LogEvent::from_json(json.clone()));
            }
        }
        Err(e) => assert!(e.offset <= pattern.len(), "error offset {} past the pattern's end {}", e.offset, pattern.len()),
    }
    if let Ok(events) = read_events(event, 1 << 20) {
        for e in &events {
            let _ = parse("{ $.eventName = \"Create*\" || $.a[0].b > 1 }").map(|p| p.matches(e));
        }
    }
}
