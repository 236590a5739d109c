//! The fuzz harnesses, shared by the cargo-fuzz targets (fuzz/fuzz_targets/, each a one-line
//! wrapper) and by tests/e2e/offline/fuzz_regressions.rs, which replays the seed and regression corpora
//! through them in the ordinary `cargo test`. Each function must never panic on any input; the
//! assertions in them are invariants, and a failed one is a bug.
use std::io::Write;
use std::path::{Component, Path};
use std::sync::OnceLock;

use base64::Engine as _;
use chrono::{DateTime, Datelike, Duration, NaiveDate, SubsecRound, TimeZone, Utc};
use sha2::{Digest as _, Sha256};
use trailproof::filter_pattern::{parse, read_events, Emission, LogEvent, MetricValue};
use trailproof::integrity::chain::{self, Auth, DigestMetadata, DigestSlot, Fetched};
use trailproof::integrity::completeness;
use trailproof::integrity::digest::{self, DigestBytes, DigestFormatError};
use trailproof::integrity::logfile::{check, LogHasher, LogVerdict};
use trailproof::integrity::keys::{self, KeyError, KeyRing, PublicKey};
use trailproof::keysource::FileKeys;
use trailproof::limits::Limits;
use trailproof::source::dir::DirSource;
use trailproof::time::{parse_cloudtrail_time, parse_key_time, parse_user_time, MAX_YEAR, MIN_YEAR};
use trailproof::layout::Target;

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

/// Filter patterns: pattern bytes, a NUL, event bytes. The pattern text is also tried as a
/// metric value, and a metric filter's emission must agree with `matches`.
pub fn filter_pattern(input: &[u8]) {
    let cut = input.iter().position(|&b| b == 0).unwrap_or(input.len());
    let pattern = String::from_utf8_lossy(&input[..cut]);
    let event = input.get(cut + 1..).unwrap_or_default();
    let values: Vec<MetricValue> = ["1", "$.a[0]", "$2", "$size"]
        .iter()
        .filter_map(|v| MetricValue::parse(v).ok())
        .chain(MetricValue::parse(&pattern).ok())
        .collect();
    match parse(&pattern) {
        Ok(p) => {
            let text = LogEvent::new(String::from_utf8_lossy(event).into_owned());
            let first = p.matches(&text);
            assert_eq!(first, p.matches(&text));
            for v in &values {
                assert_eq!(p.emission(v, &text) != Emission::NotMatched, first, "emission agrees with matches");
            }
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

/// The chain-start digest of the bundled sample trail (also seeds/digest/sample-00.json.gz), where
/// it lies, and the file holding its S3 metadata; a key in testdata/public-keys.json signed it.
const SAMPLE_DIGEST: &[u8] = include_bytes!("seeds/digest/sample-00.json.gz");
const SAMPLE_BUCKET: &str = "trailproof-sample";
const SAMPLE_KEY: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/111122223333_CloudTrail-Digest_us-east-1_management-events_us-east-1_20260301T011809Z.json.gz";
const SAMPLE_METADATA: &str = include_str!("../testdata/sample/trailproof-sample/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/111122223333_CloudTrail-Digest_us-east-1_management-events_us-east-1_20260301T011809Z.json.gz.metadata.json");
const SAMPLE_KEYS: &[u8] = include_bytes!("../testdata/public-keys.json");
/// A log folder of the sample trail and the start of its log files' names.
const LOG_DIR: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/";
const LOG_STEM: &str = "111122223333_CloudTrail_us-east-1_";
const REGION: &str = "us-east-1";

struct Fixture {
    digest: DigestBytes,
    /// The sample digest's signature metadata, as stored, and decoded.
    signature: String,
    signature_bytes: Vec<u8>,
    ring: KeyRing,
    targets: [Target; 2],
    day: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let digest = digest::parse(SAMPLE_DIGEST, &Limits::default());
        let p = digest.parsed.as_ref().expect("the sample digest parses");
        assert_eq!((p.digest.digest_s3_bucket.as_str(), p.digest.digest_s3_object.as_str()), (SAMPLE_BUCKET, SAMPLE_KEY));
        let metadata: serde_json::Value = serde_json::from_str(SAMPLE_METADATA).unwrap();
        let signature = metadata["signature"].as_str().unwrap().to_string();
        let t = Target {
            trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events".into(),
            trail_name: "management-events".into(),
            home_region: REGION.into(),
            source_region: REGION.into(),
            account_id: "111122223333".into(),
            organization_id: None,
            bucket: SAMPLE_BUCKET.into(),
            prefix: None,
        };
        let org = Target { organization_id: Some("o-exampleorgid".into()), prefix: Some("trails/".into()), source_region: "eu-west-1".into(), ..t.clone() };
        let at = |h: u32| Utc.with_ymd_and_hms(2026, 3, 1, h, 0, 0).unwrap();
        Fixture {
            signature_bytes: hex::decode(&signature).unwrap(),
            signature,
            digest,
            ring: KeyRing::from_list_public_keys_json(SAMPLE_KEYS).unwrap(),
            targets: [t, org],
            day: at(0).date_naive(),
            start: at(5),
            end: at(18),
            now: Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap(),
        }
    })
}

/// What callers do with a parsed time (widen a range by hours, step to a period's edges) must not
/// overflow.
fn shift(t: DateTime<Utc>) {
    for h in [1, 2, 24, 48] {
        let d = Duration::hours(h);
        assert!(t - d < t && t < t + d);
    }
}

/// Strings from the evidence and the command line: the input split on 0xFF bytes into at most 8
/// parts (lossy UTF-8; raw bytes for key files). Every part is tried as a time, a digest or log
/// object name (alone and after the sample's folders), a region, a bucket, a trail ARN and a key
/// file. The sample digest is then authenticated with part 0 as its
/// `backfill-generation-timestamp` metadata, part 1 as its `signature`, part 2 as its
/// `signature-algorithm` (a missing or empty part: no such metadata) and part 3 (else the real
/// signature) as the signature a successor names.
pub fn evidence_strings(data: &[u8]) {
    let f = fixture();
    let raw: Vec<&[u8]> = if data.is_empty() { Vec::new() } else { data.splitn(8, |&b| b == 0xFF).collect() };
    let texts: Vec<String> = raw.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    for (s, bytes) in texts.iter().zip(&raw) {
        one_string(f, s, bytes);
    }
    for region in texts.iter().take(2) {
        for s in &texts {
            if let Some(t) = trailproof::layout::log_key_time(s, region) {
                assert!(s.contains(&format!("_CloudTrail_{region}_")));
                shift(t);
            }
        }
    }

    // Log files listed in a date folder, none referenced: each is judged or dropped as promised.
    let mut listed = Vec::new();
    for s in &texts {
        listed.extend([s.clone(), format!("{LOG_DIR}{s}"), format!("{LOG_DIR}{LOG_STEM}{s}")]);
    }
    check_unreferenced(&listed, REGION, f.day, f.start, f.end);
    if let Some(region) = texts.first() {
        check_unreferenced(&listed, region, f.day, f.start, f.end);
    }
    // A range given on the command line, at the extremes of what parse_user_time accepts.
    for s in texts.iter().take(2) {
        if let Ok(t) = parse_user_time(s) {
            check_unreferenced(&listed, REGION, t.date_naive(), t, t + Duration::hours(12));
        }
    }

    // The sample digest with the fuzzed S3 metadata.
    let field = |i: usize| texts.get(i).filter(|s| !s.is_empty()).cloned();
    let meta = DigestMetadata { backfill_generated: field(0), signature: field(1), signature_algorithm: field(2) };
    let successor = texts.get(3).map_or(f.signature.as_str(), String::as_str);
    let empty = KeyRing::default();
    for (ring, trusted) in [(&empty, false), (&f.ring, true)] {
        for backfill in [false, true] {
            let slot = slot(f, SAMPLE_KEY, backfill, meta.clone());
            for hint in [None, Some(successor)] {
                let auth = check_auth(f, &slot, ring, trusted, hint, f.now);
                if !backfill && meta.backfill_generated.is_some() {
                    // Only a backfill digest reads that metadata.
                    let without = self::slot(f, SAMPLE_KEY, false, DigestMetadata { backfill_generated: None, ..meta.clone() });
                    let again = check_auth(f, &without, ring, trusted, hint, f.now);
                    assert_eq!(format!("{auth:?}"), format!("{again:?}"));
                }
            }
        }
    }
    for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        check_auth(f, &slot(f, SAMPLE_KEY, true, meta.clone()), &f.ring, true, Some(successor), now);
    }
    // Listed under a fuzzed name: it was signed for another location.
    if let Some(key) = texts.last() {
        let auth = check_auth(f, &slot(f, key, false, meta.clone()), &f.ring, true, None, f.now);
        assert_eq!(key == SAMPLE_KEY, !matches!(auth, Auth::Invalid(trailproof::finding::FindingKind::DigestMoved, _)));
    }
}

fn one_string(f: &Fixture, s: &str, bytes: &[u8]) {
    match parse_user_time(s) {
        Ok(t) => {
            assert!((MIN_YEAR..=MAX_YEAR).contains(&t.year()), "{s:?} gave {t}");
            shift(t);
            // Printed times read back; a digest key made from a time names that time (to the second).
            assert_eq!(parse_user_time(&trailproof::time::display(t)), Ok(t.trunc_subsecs(0)), "{s:?}");
            for target in &f.targets {
                assert_eq!(target.parse_digest_key(&target.digest_key(t)), Some((t.trunc_subsecs(0), false)), "{s:?}");
            }
        }
        Err(e) => assert!(e.len() <= s.len() + 256, "error message of {} bytes", e.len()),
    }
    // Digest times and key stamps are forms parse_user_time takes as well.
    for t in [parse_cloudtrail_time(s), parse_key_time(s)].into_iter().flatten() {
        shift(t);
        if (MIN_YEAR..=MAX_YEAR).contains(&t.year()) {
            assert_eq!(parse_user_time(s), Ok(t), "{s:?}");
        }
    }
    if let Some(t) = trailproof::layout::digest_key_time(s) {
        shift(t);
    }
    for target in &f.targets {
        digest_name(target, s);
        digest_name(target, &format!("{}{s}", target.digest_dir()));
    }
    if let Ok(keys) = FileKeys::parse(bytes) {
        let _ = keys.rejected();
    }
    // Buckets and keys become paths under an evidence directory: never outside it.
    let root = Path::new("/evidence");
    let dir = DirSource::new(root);
    for (b, k) in [(SAMPLE_BUCKET, s), (s, "key")] {
        if let Ok(p) = dir.object_path(b, k) {
            let rel = p.strip_prefix(root).unwrap_or_else(|_| panic!("{b:?} {k:?} maps outside the root: {p:?}"));
            assert!(rel.components().all(|c| matches!(c, Component::Normal(_))), "{b:?} {k:?} maps to {p:?}");
        }
    }
    match trailproof::layout::parse_trail_arn(s) {
        Ok(a) => {
            assert!(s.ends_with(&format!(":trail/{}", a.name)), "{s:?}");
            assert!(a.account_id.len() == 12 && a.account_id.bytes().all(|b| b.is_ascii_digit()));
        }
        Err(e) => assert!(e.len() <= s.len() + 256),
    }
}

/// `parse_digest_key` is `parse_digest_name` restricted to this trail; both agree with `key_time`.
fn digest_name(target: &Target, key: &str) {
    let name = target.parse_digest_name(key);
    assert_eq!(target.parse_digest_key(key), name.filter(|n| n.ours).map(|n| (n.stamp, n.backfill)), "{key:?}");
    if let Some(n) = name {
        assert!(key.starts_with(&target.digest_dir()), "{key:?}");
        assert_eq!(n.backfill, key.ends_with("_backfill.json.gz"), "{key:?}");
        assert_eq!(trailproof::layout::digest_key_time(key), Some(n.stamp), "{key:?}");
        shift(n.stamp);
    }
}

/// Every listed key (none referenced) is reported with its stamp inside `[start - 1 min, end]`,
/// or reported with a problem when its name does not parse or is not of the folder's day, or
/// dropped when its stamp is of the folder's day but outside the range. In order.
fn check_unreferenced(listed: &[String], region: &str, day: NaiveDate, start: DateTime<Utc>, end: DateTime<Utc>) {
    let found = completeness::unreferenced(listed, region, day, &|_| false, &completeness::Periods::default(), start, end);
    let mut found = found.iter();
    let from = start - Duration::minutes(1);
    for k in listed {
        let t = trailproof::layout::log_key_time(k, region);
        if t.is_some_and(|t| t.date_naive() == day && (t < from || t > end)) {
            continue;
        }
        let u = found.next().unwrap_or_else(|| panic!("{k:?} (stamp {t:?}) was dropped"));
        assert_eq!(&u.key, k);
        assert!(!u.inside_covered_period && !u.surely_covered, "{u:?}: no period is covered");
        match (u.delivered, &u.problem) {
            (Some(d), None) => assert!(Some(d) == t && from <= d && d <= end, "{u:?}"),
            (None, Some(p)) => {
                assert!(t.is_none_or(|t| t.date_naive() != day), "{u:?}");
                assert!(!p.is_empty() && p.len() <= 256, "{u:?}");
            }
            _ => panic!("{u:?}: neither a delivery time nor a problem"),
        }
    }
    assert!(found.next().is_none(), "more findings than listed keys");
}

fn slot(f: &Fixture, key: &str, backfill: bool, metadata: DigestMetadata) -> DigestSlot {
    DigestSlot {
        bucket: SAMPLE_BUCKET.into(),
        key: key.into(),
        key_time: trailproof::layout::digest_key_time(key),
        listed: true,
        backfill,
        fetched: Fetched::Present { metadata: Box::new(metadata), bytes: Box::new(f.digest.clone()) },
        auth: Auth::Pending,
    }
}

/// A present digest is always judged. Only the sample's own signature, checked with a trusted key,
/// makes it authentic (PKCS#1 v1.5 signatures are unique), and a backfill only at a generation time
/// from its period's end to now. Messages stay short whatever the metadata's length.
fn check_auth(f: &Fixture, slot: &DigestSlot, ring: &KeyRing, trusted: bool, hint: Option<&str>, now: DateTime<Utc>) -> Auth {
    let auth = chain::authenticate(slot, ring, hint, now);
    let Fetched::Present { metadata, bytes } = &slot.fetched else { unreachable!() };
    let parsed = bytes.parsed.as_ref().unwrap();
    let signature = metadata.signature.as_deref().or(hint);
    match &auth {
        Auth::Pending => panic!("a present digest was left pending"),
        Auth::Authentic(a) => {
            assert!(trusted, "authentic without a trusted key");
            // The location is the slot's own: `authenticate` refused any other the digest names.
            assert_eq!(hex::decode(a.signature()).ok().as_deref(), Some(f.signature_bytes.as_slice()));
            assert_eq!((a.start(), a.end(), a.sha256()), (parsed.start, parsed.end, parsed.sha256));
            assert_eq!(signature.and_then(|s| hex::decode(s.trim()).ok()).as_deref(), Some(f.signature_bytes.as_slice()));
            if slot.backfill {
                let at = parse_user_time(metadata.backfill_generated.as_deref().unwrap()).expect("authentic backfill with a bad timestamp");
                assert!(at >= parsed.end && now.checked_add_signed(Duration::minutes(5)).is_none_or(|latest| at <= latest), "{at}");
            }
        }
        Auth::Invalid(_, m) | Auth::Unverifiable(m) => {
            assert!(m.len() <= 1024, "a message of {} bytes", m.len());
        }
    }
    if signature.is_none() && slot.key == SAMPLE_KEY {
        assert!(matches!(auth, Auth::Unverifiable(_)), "{auth:?}");
    }
    auth
}

/// A verified log file's bytes, as the backtest replay reads them: the hand-written reading never
/// panics and, where it is sure of a file, reads exactly serde_json's records.
pub fn log_records(data: &[u8]) {
    trailproof::backtest::check_readings_agree(data);
}
