//! The chain: authenticating one digest (format, location, key, signature), and the walk over the
//! authentic digests that checks every link between them. Pure: every object has been fetched.
//!
//! Only [`authenticate`] can make an [`Authentic`] digest; its fields are private. Everything that
//! steers a run (links to follow, gap sizes, the chain's newest end, which log files to check)
//! is read from `Authentic` values only: an object's name, its unsigned body and its S3 metadata
//! are claims until the signature over them verifies.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::finding::{Finding, FindingKind, Scope};
use crate::layout::Target;
use crate::integrity::digest::{string_to_sign, DigestBytes, LogFileEntry, ParsedDigest, HASH_ALGORITHM, SIGNATURE_ALGORITHM};
use crate::integrity::signature;
use crate::integrity::keys::KeyRing;
use crate::time::display;

/// The S3 user metadata CloudTrail stores on each digest object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestMetadata {
    /// Hex SHA256withRSA signature over the string to sign.
    pub signature: Option<String>,
    /// Always `SHA256withRSA`.
    pub signature_algorithm: Option<String>,
    /// On backfill digests only: when CloudTrail generated (and signed) the digest. Unsigned.
    pub backfill_generated: Option<String>,
}

/// What fetching one digest object gave.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per digest, and Present is the common case
pub enum Fetched {
    Present { metadata: DigestMetadata, bytes: DigestBytes },
    Missing,
    /// Could not be read (access denied, network): never counted as valid or invalid.
    Unreadable(String),
}

/// A digest CloudTrail's key is proven to have signed, at the location it was signed for. Made
/// only by [`authenticate`].
#[derive(Debug, Clone)]
pub struct Authentic {
    bucket: String,
    key: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Lower-case hex, as the successor's `previousDigestSignature` names it.
    signature: String,
    /// SHA-256 of the inflated bytes, as the successor's `previousDigestHashValue` names it.
    sha256: [u8; 32],
    previous: Option<PreviousLink>,
    log_files: Vec<LogFileEntry>,
}

/// What an authentic digest says about its predecessor.
#[derive(Debug, Clone)]
struct PreviousLink {
    bucket: String,
    key: String,
    signature: Option<String>,
    hash: Option<String>,
    hash_algorithm: Option<String>,
}

impl Authentic {
    pub fn bucket(&self) -> &str {
        &self.bucket
    }
    pub fn key(&self) -> &str {
        &self.key
    }
    /// `digestStartTime`, signed.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }
    /// `digestEndTime`, signed.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }
    /// The previous digest's location, or None when this digest starts a chain.
    pub fn previous(&self) -> Option<(&str, &str)> {
        self.previous.as_ref().map(|p| (p.bucket.as_str(), p.key.as_str()))
    }
    /// The log files this digest lists, moved out (they are queued for checking once).
    pub fn take_log_files(&mut self) -> Vec<LogFileEntry> {
        std::mem::take(&mut self.log_files)
    }
}

/// Where a digest object stands on authenticity.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Auth {
    /// Not judged yet: absent, unreadable, or waiting for a successor to name its signature.
    Pending,
    Authentic(Authentic),
    /// Proven not to be what CloudTrail signed for this location.
    Invalid(FindingKind, String),
    /// No signature to check it with; neither valid nor invalid.
    Unverifiable(String),
}

/// A digest object: listed in range, or named by an authentic digest's previous-digest link.
#[derive(Debug, Clone)]
pub struct DigestSlot {
    pub bucket: String,
    pub key: String,
    /// The end time stamped in the key name: a claim, used only to place findings about objects
    /// that could not be authenticated.
    pub key_time: Option<DateTime<Utc>>,
    pub listed: bool,
    /// A `…_backfill.json.gz` digest, signed when it was generated rather than at its end time.
    pub backfill: bool,
    pub fetched: Fetched,
    pub auth: Auth,
}

impl DigestSlot {
    pub fn parsed(&self) -> Option<&ParsedDigest> {
        match &self.fetched {
            Fetched::Present { bytes, .. } => bytes.parsed.as_ref().ok(),
            _ => None,
        }
    }

    /// The same object, marked unreadable for `why`: what stands for it when checking it failed.
    pub fn unreadable(&self, why: String) -> DigestSlot {
        DigestSlot {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            key_time: self.key_time,
            listed: self.listed,
            backfill: self.backfill,
            fetched: Fetched::Unreadable(why),
            auth: Auth::Pending,
        }
    }

    pub fn authentic(&self) -> Option<&Authentic> {
        match &self.auth {
            Auth::Authentic(a) => Some(a),
            _ => None,
        }
    }

    pub fn authentic_mut(&mut self) -> Option<&mut Authentic> {
        match &mut self.auth {
            Auth::Authentic(a) => Some(a),
            _ => None,
        }
    }

    /// The object's own signature: its metadata, else what a successor named (self-authenticating:
    /// it verifies only if CloudTrail's key made it).
    fn signature<'a>(&'a self, successor_signature: Option<&'a str>) -> Option<&'a str> {
        match &self.fetched {
            Fetched::Present { metadata, .. } => metadata.signature.as_deref().or(successor_signature),
            _ => None,
        }
    }
}

/// The verdict on one digest object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestVerdict {
    Valid,
    Invalid,
    Missing,
    Unreadable,
    /// No signature to check it with (an evidence copy without S3 metadata): neither valid nor invalid.
    Unverifiable,
}

/// Options of the walk that depend on where the evidence came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// A copy made without S3 metadata (e.g. by `aws s3 sync`): a digest lacking its `signature`
    /// metadata is checked with the signature its successor names in `previousDigestSignature`,
    /// as AWS's offline-validation guide describes. The signature authenticates itself: whoever
    /// supplied it, it verifies only if CloudTrail's key made it.
    pub signature_from_successor: bool,
}

/// How late after its period's end a backfill digest's generation may claim to be, past `now`:
/// clocks differ a little.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Authenticates one digest: format, location, signature metadata, key and signature. A backfill
/// digest is signed when it was generated; its unsigned `backfill-generation-timestamp` picks
/// the key only within what is possible: no earlier than the period it covers, no later than now.
/// `successor_signature` is used only when the object has no signature metadata.
pub fn authenticate(slot: &DigestSlot, keys: &KeyRing, successor_signature: Option<&str>, now: DateTime<Utc>) -> Auth {
    let Fetched::Present { metadata, bytes } = &slot.fetched else {
        return Auth::Pending;
    };
    let parsed = match &bytes.parsed {
        Ok(p) => p,
        Err(e) => return Auth::Invalid(FindingKind::DigestFormatInvalid, format!("invalid format: {e}")),
    };
    let d = &parsed.digest;
    if d.digest_s3_bucket != slot.bucket || d.digest_s3_object != slot.key {
        return Auth::Invalid(
            FindingKind::DigestMoved,
            format!("has been moved from its original location s3://{}/{}", d.digest_s3_bucket, d.digest_s3_object),
        );
    }
    let Some(sig) = slot.signature(successor_signature) else {
        return Auth::Unverifiable(
            "no signature metadata, and no authentic successor names its signature: supply the object's S3 metadata \
             in its .metadata.json sidecar (trailproof export keeps it)"
                .into(),
        );
    };
    // With its own signature metadata comes its algorithm; a successor's hint uses the digest's.
    let alg = match (&metadata.signature, &metadata.signature_algorithm) {
        (Some(_), Some(alg)) => alg.as_str(),
        (Some(_), None) => return Auth::Invalid(FindingKind::DigestSignatureInvalid, "no signature-algorithm metadata".into()),
        (None, _) => d.digest_signature_algorithm.as_str(),
    };
    if alg != SIGNATURE_ALGORITHM {
        return Auth::Invalid(FindingKind::DigestSignatureInvalid, format!("unsupported signature-algorithm '{}'", truncate(alg)));
    }
    let signed_at = if slot.backfill {
        let Some(raw) = metadata.backfill_generated.as_deref() else {
            return Auth::Invalid(FindingKind::DigestFormatInvalid, "backfill digest without backfill-generation-timestamp metadata".into());
        };
        match crate::time::parse_user_time(raw) {
            Ok(t) if t >= parsed.end && now.checked_add_signed(CLOCK_SKEW).is_none_or(|latest| t <= latest) => t,
            Ok(t) => {
                return Auth::Invalid(
                    FindingKind::DigestFormatInvalid,
                    format!("backfill-generation-timestamp {} is outside {} (its period's end) to now", display(t), display(parsed.end)),
                )
            }
            Err(_) => return Auth::Invalid(FindingKind::DigestFormatInvalid, format!("invalid backfill-generation-timestamp '{}'", truncate(raw))),
        }
    } else {
        parsed.end
    };
    let key = match keys.select(&d.digest_public_key_fingerprint, signed_at) {
        Ok(k) => k,
        Err(e) => return Auth::Invalid(FindingKind::DigestKeyUnknown, e.to_string()),
    };
    if let Err(e) = signature::verify(string_to_sign(d, &parsed.sha256).as_bytes(), sig, key) {
        return Auth::Invalid(FindingKind::DigestSignatureInvalid, format!("signature verification failed: {e}"));
    }
    Auth::Authentic(Authentic {
        bucket: slot.bucket.clone(),
        key: slot.key.clone(),
        start: parsed.start,
        end: parsed.end,
        signature: sig.trim().to_ascii_lowercase(),
        sha256: parsed.sha256,
        previous: match (&d.previous_digest_s3_bucket, &d.previous_digest_s3_object) {
            (Some(b), Some(k)) => Some(PreviousLink {
                bucket: b.clone(),
                key: k.clone(),
                signature: d.previous_digest_signature.clone(),
                hash: d.previous_digest_hash_value.clone(),
                hash_algorithm: d.previous_digest_hash_algorithm.clone(),
            }),
            _ => None,
        },
        log_files: d.log_files.clone(),
    })
}

/// At most this much of an untrusted string goes into a message.
fn truncate(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Inferred missing digests get one finding each up to this many per run of missing hours; the
/// run's own finding carries the full count, so a deletion of years costs a few findings.
pub const MISSING_HOURS_LISTED: i64 = 24;

/// The outcome of walking the chain.
#[derive(Debug, Default)]
pub struct ChainReport {
    /// Newest first.
    pub findings: Vec<Finding>,
    /// Authentic slots, newest first: their log files are checked.
    pub verified: Vec<usize>,
    /// Every digest object judged, newest first.
    pub verdicts: Vec<(usize, DigestVerdict)>,
    /// Derived from `verdicts`; `invalid` also counts digests inferred missing from the cadence.
    pub valid: usize,
    pub invalid: usize,
    /// The end of the newest authentic digest.
    pub newest_end: Option<DateTime<Utc>>,
    /// Periods whose digest an authentic successor names but which could not be read: their log
    /// files are unchecked, not injected. Derived from the successor's signed start time.
    pub unread: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Checks every link between the authentic digests and judges every slot. `in_trail` says whether
/// a bucket and key lie in the trail's own digest folder (links leaving it are not followed).
pub fn walk(slots: &[DigestSlot], range_start: DateTime<Utc>, scope: &Scope, target: &Target, in_trail: &dyn Fn(&str, &str) -> bool) -> ChainReport {
    let mut report = ChainReport::default();
    let when = |i: usize| slots[i].authentic().map(Authentic::end).or(slots[i].key_time);
    // Newest first; the order places findings, it decides nothing.
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by(|&a, &b| (when(b), &slots[b].key).cmp(&(when(a), &slots[a].key)));
    let index: HashMap<(&str, &str), usize> = slots.iter().enumerate().map(|(i, s)| ((s.bucket.as_str(), s.key.as_str()), i)).collect();
    let authentic: Vec<usize> = order.iter().copied().filter(|&i| slots[i].authentic().is_some()).collect();
    let end_of = |i: usize| slots[i].authentic().map(Authentic::end);
    // The newest authentic digest that ended no later than `t` (other than `not`): `authentic`
    // is in `order`, newest end first, so a binary search finds where to start.
    let newest_until = |t: DateTime<Utc>, not: usize| {
        let from = authentic.partition_point(|&j| end_of(j).is_some_and(|e| e > t));
        authentic[from..].iter().copied().find(|&j| j != not)
    };

    let mut findings: Vec<(usize, Finding)> = Vec::new();
    let mut push = |at: usize, f: Finding| findings.push((at, f));
    let mut linked = vec![false; slots.len()];
    let mut broken = vec![false; slots.len()];
    // The newest authentic digest below a break in the chain is a chain's legitimate head.
    let mut head_excused = vec![false; slots.len()];
    let mut inferred_missing = 0usize;
    let mut missing_reported = vec![false; slots.len()];

    for &i in &authentic {
        let Some(a) = slots[i].authentic() else { continue };
        if a.start < range_start {
            continue; // covers the range's start: where the walk ends
        }
        let here = (slots[i].bucket.as_str(), slots[i].key.as_str());
        let excuse_below = |head_excused: &mut Vec<bool>| {
            if let Some(o) = newest_until(a.start, i) {
                head_excused[o] = true;
            }
        };
        let Some(prev) = &a.previous else {
            if let Some(o) = newest_until(a.start, i) {
                head_excused[o] = true;
                let from = end_of(o).unwrap_or(a.start);
                push(i, scope.finding(FindingKind::DigestChainGap, here.0, here.1,
                    format!("a new chain starts here: no digest covers {} to {} (logging or validation was off, or digests were removed)", display(from), display(a.start)))
                    .with("from", display(from)).with("to", display(a.start)));
            }
            continue;
        };
        if !in_trail(&prev.bucket, &prev.key) {
            excuse_below(&mut head_excused);
            push(i, scope.finding(FindingKind::Unchecked, here.0, here.1,
                format!("links back to s3://{}/{}, outside the trail's digest folder: not followed, so the link is unchecked; validate that location with --s3-bucket/--s3-prefix", truncate(&prev.bucket), truncate(&prev.key))));
            continue;
        }
        let Some(&p) = index.get(&(prev.bucket.as_str(), prev.key.as_str())) else {
            excuse_below(&mut head_excused);
            push(i, scope.finding(FindingKind::AccessError, &prev.bucket, &prev.key, "previous digest was not fetched"));
            continue;
        };
        if p == i || end_of(p).is_some_and(|e| e > a.start) {
            excuse_below(&mut head_excused);
            push(i, scope.finding(FindingKind::DigestChainMismatch, here.0, here.1,
                format!("links back to s3://{}/{}, which is not older in the chain (a loop)", prev.bucket, prev.key)));
            continue;
        }
        match &slots[p].fetched {
            Fetched::Present { metadata, bytes } => {
                let problems = link_problems(prev, slots[p].authentic().map(|x| x.signature.as_str()).or(metadata.signature.as_deref()), bytes);
                if problems.is_empty() {
                    linked[p] = true;
                    if slots[p].authentic().is_none() {
                        excuse_below(&mut head_excused); // its own finding says why
                    }
                } else {
                    broken[p] = true;
                    excuse_below(&mut head_excused);
                    push(i, scope.finding(FindingKind::DigestChainMismatch, here.0, here.1,
                        format!("link to s3://{}/{} broken: {}", prev.bucket, prev.key, problems.join("; "))));
                }
            }
            Fetched::Missing => {
                missing_reported[p] = true;
                let to = a.start; // the missing digest's end
                let lower = newest_until(to - Duration::minutes(1), i);
                if let Some(o) = lower {
                    head_excused[o] = true;
                }
                let mut f = scope.finding(FindingKind::DigestMissing, &prev.bucket, &prev.key, "not found").with("to", display(to));
                match lower.and_then(end_of) {
                    Some(from) => {
                        // Hourly digests: the hours between the bounds are how many are gone.
                        let count = ((to - from).num_seconds() as f64 / 3600.0).round().max(1.0) as i64;
                        f.message = if count > 1 {
                            format!("not found; {count} digests are missing from {} to {} (inferred from the hourly cadence)", display(from), display(to))
                        } else {
                            "not found".into()
                        };
                        f = f.with("from", display(from)).with("count", count);
                        push(i, f);
                        for k in 1..count.min(MISSING_HOURS_LISTED + 1) {
                            let end = to - Duration::hours(k);
                            push(i, scope.finding(FindingKind::DigestMissing, &prev.bucket, &target.missing_digest_pattern(end),
                                format!("not found: the chain has no digest for the hour ending about {} (inferred from the hourly cadence)", display(end))));
                        }
                        inferred_missing += (count - 1) as usize;
                    }
                    None => {
                        f.message = "not found; no authentic older digest in range bounds how many more are missing".into();
                        push(i, f);
                    }
                }
            }
            Fetched::Unreadable(_) => {
                excuse_below(&mut head_excused);
                let edge = Duration::minutes(1);
                report.unread.push((a.start - Duration::hours(1) - edge, a.start + edge));
            }
        }
    }

    // An authentic chain links every digest it delivered: an authentic digest in range that
    // nothing links to, and that is neither the newest nor below a break, was moved off the chain.
    let newest = authentic.first().copied();
    for &j in &authentic {
        if Some(j) != newest && !linked[j] && !head_excused[j] && end_of(j).is_some_and(|e| e >= range_start) {
            broken[j] = true;
            push(j, scope.finding(FindingKind::DigestChainMismatch, &slots[j].bucket, &slots[j].key, "lies in range but no digest in the chain links to it"));
        }
    }

    // Each object's own verdict and finding, newest first, followed by what the walk found there.
    let mut at: HashMap<usize, Vec<Finding>> = HashMap::new();
    for (i, f) in findings {
        at.entry(i).or_default().push(f);
    }
    for &i in &order {
        let s = &slots[i];
        let own = |kind, message: String| scope.finding(kind, &s.bucket, &s.key, message);
        let verdict = match (&s.fetched, &s.auth) {
            (Fetched::Missing, _) => {
                if !missing_reported[i] {
                    report.findings.push(own(FindingKind::DigestMissing, "not found".into()));
                }
                DigestVerdict::Missing
            }
            (Fetched::Unreadable(why), _) => {
                report.findings.push(own(FindingKind::AccessError, format!("could not read digest: {why}; the log files of its period are unchecked")));
                DigestVerdict::Unreadable
            }
            (Fetched::Present { .. }, Auth::Authentic(_)) => {
                report.verified.push(i);
                if broken[i] { DigestVerdict::Invalid } else { DigestVerdict::Valid }
            }
            (Fetched::Present { .. }, Auth::Invalid(kind, message)) => {
                report.findings.push(own(*kind, message.clone()));
                DigestVerdict::Invalid
            }
            (Fetched::Present { .. }, Auth::Unverifiable(why)) => {
                report.findings.push(own(FindingKind::Unchecked, format!("unverifiable: {why}")));
                DigestVerdict::Unverifiable
            }
            (Fetched::Present { .. }, Auth::Pending) => {
                report.findings.push(own(FindingKind::Unchecked, "not authenticated".into()));
                DigestVerdict::Unverifiable
            }
        };
        report.verdicts.push((i, verdict));
        report.findings.extend(at.remove(&i).unwrap_or_default());
    }
    report.newest_end = newest.and_then(end_of);
    let count = |wanted: &[DigestVerdict]| report.verdicts.iter().filter(|(_, v)| wanted.contains(v)).count();
    report.valid = count(&[DigestVerdict::Valid]);
    report.invalid = count(&[DigestVerdict::Invalid, DigestVerdict::Missing]) + inferred_missing;
    report
}

/// What is wrong with an authentic digest's link to the object it names: it must commit to exactly
/// that object, by its signature and by the hash of its inflated bytes.
fn link_problems(prev: &PreviousLink, actual_signature: Option<&str>, bytes: &DigestBytes) -> Vec<String> {
    let mut problems = Vec::new();
    if let (Some(stated), Some(actual)) = (&prev.signature, actual_signature) {
        if !stated.trim().eq_ignore_ascii_case(actual.trim()) {
            problems.push("previousDigestSignature differs from the previous digest's signature".to_string());
        }
    }
    match prev.hash_algorithm.as_deref() {
        Some(HASH_ALGORITHM) | None => {}
        Some(other) => problems.push(format!("previousDigestHashAlgorithm is '{}', not SHA-256", truncate(other))),
    }
    match (&prev.hash, &bytes.inflated_sha256) {
        (Some(stated), Some(actual)) if stated.eq_ignore_ascii_case(&hex::encode(actual)) => {}
        (Some(_), Some(_)) => problems.push("previousDigestHashValue differs from the SHA-256 of the previous digest".into()),
        (Some(_), None) => problems.push("the previous digest cannot be inflated to check previousDigestHashValue".into()),
        (None, _) => problems.push("previousDigestHashValue is absent".into()),
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::digest;
    use crate::limits::Limits;
    use crate::sim::{self, SimKey, SimTrail, TrailSpec};

    fn keys() -> Vec<SimKey> {
        sim::load_keyset(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/keys"))).unwrap().remove("us-east-1").unwrap()
    }

    fn trail() -> SimTrail {
        let spec = TrailSpec::new("bucket-a", crate::time::parse_user_time("2026-03-02T02:10:00Z").unwrap(), 16);
        sim::simulate(&spec, &keys()).unwrap()
    }

    /// Slots as the fetcher would build them: every digest still present is listed; pointers to
    /// absent digests become `Missing` slots.
    fn slots(trail: &SimTrail) -> Vec<DigestSlot> {
        let mut out: Vec<DigestSlot> = trail
            .digest_keys
            .iter()
            .filter_map(|k| trail.objects.get(k))
            .map(|o| DigestSlot {
                bucket: o.bucket.clone(),
                key: o.key.clone(),
                key_time: crate::layout::digest_key_time(&o.key),
                listed: true,
                backfill: false,
                auth: Auth::Pending,
                fetched: Fetched::Present {
                    metadata: DigestMetadata {
                        signature: o.metadata.get("signature").cloned(),
                        signature_algorithm: o.metadata.get("signature-algorithm").cloned(),
                        backfill_generated: None,
                    },
                    bytes: digest::parse(&o.body, &Limits::default()),
                },
            })
            .collect();
        let present: Vec<String> = out.iter().map(|s| s.key.clone()).collect();
        let pointers: Vec<String> =
            out.iter().filter_map(|s| s.parsed()).filter_map(|p| p.previous().map(|(_, k)| k.to_string())).collect();
        for k in pointers.into_iter().filter(|k| !present.contains(k)) {
            out.push(DigestSlot { bucket: "bucket-a".into(), key: k.clone(), key_time: crate::layout::digest_key_time(&k), listed: false, backfill: false, auth: Auth::Pending, fetched: Fetched::Missing });
        }
        let ring = sim::public_keys(&keys());
        for s in &mut out {
            s.auth = authenticate(s, &ring, None, Utc::now());
        }
        out
    }

    fn walk_all(slots: &[DigestSlot], start: DateTime<Utc>) -> ChainReport {
        walk(slots, start, &Scope::default(), &trail().spec.target(), &|b, _| b == "bucket-a")
    }

    fn run(trail: &SimTrail) -> ChainReport {
        walk_all(&slots(trail), trail.spec.start)
    }

    fn kinds(r: &ChainReport) -> Vec<FindingKind> {
        r.findings.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn an_intact_chain_is_all_valid() {
        let t = trail();
        let r = run(&t);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!((r.valid, r.invalid), (t.digest_keys.len(), 0));
        // Walk order is newest first.
        assert_eq!(r.verified.len(), t.digest_keys.len());
    }

    #[test]
    fn every_deleted_digest_in_a_run_is_reported() {
        let mut t = trail();
        for k in &t.digest_keys[5..8] {
            t.objects.remove(k);
        }
        let r = run(&t);
        assert_eq!(kinds(&r), vec![FindingKind::DigestMissing; 3]);
        assert_eq!(r.findings[0].key, t.digest_keys[7]);
        assert_eq!(r.invalid, 3);
        assert_eq!(r.valid, t.digest_keys.len() - 3);
    }

    #[test]
    fn a_long_run_of_deleted_digests_is_counted_whole_but_listed_up_to_a_cap() {
        let spec = TrailSpec::new("bucket-a", crate::time::parse_user_time("2026-03-02T02:10:00Z").unwrap(), 40);
        let mut t = sim::simulate(&spec, &keys()).unwrap();
        for k in &t.digest_keys[3..33] {
            t.objects.remove(k);
        }
        let r = run(&t);
        assert_eq!(kinds(&r), vec![FindingKind::DigestMissing; 1 + MISSING_HOURS_LISTED as usize]);
        assert_eq!(r.findings[0].details["count"], 30);
        assert_eq!(r.findings[0].details["from"], display(t.digest_ends[2]).as_str());
        assert_eq!(r.invalid, 30);
        assert_eq!(r.valid, 10);
    }

    #[test]
    fn a_resigned_digest_breaks_its_successors_link() {
        let mut t = trail();
        let k = t.digest_keys[4].clone();
        let key = keys().remove(0);
        t.resign(&k, &key, |d| d.log_files.clear()).unwrap();
        let r = run(&t);
        assert_eq!(kinds(&r), vec![FindingKind::DigestChainMismatch]);
        assert_eq!(r.findings[0].key, t.digest_keys[5], "the finding sits on the digest whose link broke");
        assert!(r.findings[0].message.contains(&k));
        assert_eq!(r.invalid, 1, "the replaced digest is not the one the chain committed to");
    }

    #[test]
    fn a_start_of_chain_with_older_digests_is_a_gap_with_its_span() {
        let mut spec = trail().spec;
        spec.stopped_hours = vec![6, 7, 8];
        let t = sim::simulate(&spec, &keys()).unwrap();
        let r = run(&t);
        assert_eq!(kinds(&r), vec![FindingKind::DigestChainGap]);
        let older_end = crate::time::display(t.digest_ends[5]);
        assert!(r.findings[0].message.contains(&older_end), "{}", r.findings[0].message);
        assert_eq!(r.findings[0].severity, crate::finding::Severity::Warning);
    }

    #[test]
    fn a_digest_nothing_links_to_is_off_chain() {
        let mut t = trail();
        // A genuine digest re-signed under a new name between two others: valid on its own,
        // but the chain skips it.
        let src = t.digest_keys[6].clone();
        let mut copy = t.objects[&src].clone();
        let later = t.digest_ends[6] + chrono::Duration::minutes(5);
        copy.key = src.replace(&src[src.len() - 24..src.len() - 8], &later.format(crate::time::KEY_FORMAT).to_string());
        t.objects.insert(copy.key.clone(), copy.clone());
        t.digest_keys.push(copy.key.clone());
        let key = keys().remove(0);
        let new_key = copy.key.clone();
        t.resign(&copy.key, &key, |d| d.digest_s3_object = new_key).unwrap();
        let r = run(&t);
        assert_eq!(kinds(&r), vec![FindingKind::DigestChainMismatch]);
        assert_eq!(r.findings[0].key, copy.key);
        assert!(r.findings[0].message.contains("no digest in the chain links to it"));
    }

    #[test]
    fn a_link_loop_is_reported_not_followed() {
        let mut t = trail();
        let newest = t.digest_keys.last().unwrap().clone();
        let key = keys().into_iter().max_by_key(|k| k.public.valid_from).unwrap();
        let own = newest.clone();
        t.resign(&newest, &key, |d| d.previous_digest_s3_object = Some(own)).unwrap();
        let r = run(&t);
        assert!(kinds(&r).contains(&FindingKind::DigestChainMismatch), "{:?}", r.findings);
        assert!(r.findings.iter().any(|f| f.message.contains("loop")));
    }

    #[test]
    fn the_walk_stops_at_the_digest_covering_the_range_start() {
        let t = trail();
        let start = t.digest_ends[9] - chrono::Duration::minutes(30);
        let slots: Vec<DigestSlot> = slots(&t).into_iter().filter(|s| s.key_time.unwrap() >= start).collect();
        let r = walk_all(&slots, start);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.valid, t.digest_keys.len() - 9);
    }
}
