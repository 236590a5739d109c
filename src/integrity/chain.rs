//! The chain walk: per-digest checks (format, location, key, signature) and the links between
//! digests, from the newest digest in range to the oldest. Pure: every object has been fetched.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::finding::{Finding, FindingKind, Scope};
use crate::integrity::digest::{string_to_sign, DigestBytes, ParsedDigest, HASH_ALGORITHM, SIGNATURE_ALGORITHM};
use crate::integrity::signature;
use crate::keys::KeyRing;

/// The S3 user metadata CloudTrail stores on each digest object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestMetadata {
    /// Hex SHA256withRSA signature over the string to sign.
    pub signature: Option<String>,
    /// Always `SHA256withRSA`.
    pub signature_algorithm: Option<String>,
    /// On backfill digests only: when CloudTrail generated (and signed) the digest.
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

/// A digest object: listed in range, or named by a listed digest's previous-digest link.
#[derive(Debug, Clone)]
pub struct DigestSlot {
    pub bucket: String,
    pub key: String,
    /// The end time stamped in the key name, used to order digests before they are read.
    pub key_time: Option<DateTime<Utc>>,
    pub listed: bool,
    /// A `…_backfill.json.gz` digest, signed when it was generated rather than at its end time.
    pub backfill: bool,
    pub fetched: Fetched,
    /// `check_digest`'s answer, when the fetcher already ran it (with the object's own signature
    /// metadata) so that log-file checks could start before the walk.
    pub checked: Option<Option<(FindingKind, String)>>,
}

impl DigestSlot {
    pub fn parsed(&self) -> Option<&ParsedDigest> {
        match &self.fetched {
            Fetched::Present { bytes, .. } => bytes.parsed.as_ref().ok(),
            _ => None,
        }
    }

    fn order_key(&self) -> (Option<DateTime<Utc>>, &str) {
        (self.key_time, &self.key)
    }

    /// When the period this digest covers ended, as best known.
    fn end(&self) -> Option<DateTime<Utc>> {
        self.parsed().map(|p| p.end).or(self.key_time)
    }
}

/// Extracts the `YYYYMMDDTHHMMSSZ` stamp from a digest key (also `…_backfill.json.gz`).
pub fn key_time(key: &str) -> Option<DateTime<Utc>> {
    let stem = key.strip_suffix(".json.gz")?;
    let stem = stem.strip_suffix("_backfill").unwrap_or(stem);
    let stamp = stem.get(stem.len().checked_sub(16)?..)?;
    crate::time::parse_key_time(stamp)
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

/// Checks one digest on its own: format, location, signature metadata, key and signature.
/// Returns the problem, or None when the digest is authentic where it lies. `successor_signature`
/// is used only when the object has no signature metadata.
pub fn check_digest(slot: &DigestSlot, keys: &KeyRing, successor_signature: Option<&str>) -> Option<(FindingKind, String)> {
    let Fetched::Present { metadata, bytes } = &slot.fetched else {
        return None;
    };
    let parsed = match &bytes.parsed {
        Ok(p) => p,
        Err(e) => return Some((FindingKind::DigestFormatInvalid, format!("invalid format: {e}"))),
    };
    let d = &parsed.digest;
    if d.digest_s3_bucket != slot.bucket || d.digest_s3_object != slot.key {
        return Some((
            FindingKind::DigestMoved,
            format!("has been moved from its original location s3://{}/{}", d.digest_s3_bucket, d.digest_s3_object),
        ));
    }
    let (sig, alg) = match (&metadata.signature, &metadata.signature_algorithm, successor_signature) {
        (Some(sig), Some(alg), _) => (sig.as_str(), alg.as_str()),
        (None, _, Some(sig)) => (sig, d.digest_signature_algorithm.as_str()),
        _ => return Some((FindingKind::DigestSignatureInvalid, "no signature or signature-algorithm metadata".into())),
    };
    if alg != SIGNATURE_ALGORITHM {
        return Some((FindingKind::DigestSignatureInvalid, format!("unsupported signature-algorithm '{alg}'")));
    }
    let signed_at = if slot.backfill {
        match metadata.backfill_generated.as_deref().map(|t| (t, crate::time::parse_user_time(t))) {
            Some((_, Ok(t))) => t,
            Some((raw, Err(_))) => return Some((FindingKind::DigestFormatInvalid, format!("invalid backfill-generation-timestamp '{raw}'"))),
            None => return Some((FindingKind::DigestFormatInvalid, "backfill digest without backfill-generation-timestamp metadata".into())),
        }
    } else {
        parsed.end
    };
    let key = match keys.select(&d.digest_public_key_fingerprint, signed_at) {
        Ok(k) => k,
        Err(e) => return Some((FindingKind::DigestKeyUnknown, e.to_string())),
    };
    match signature::verify(string_to_sign(d, &parsed.sha256).as_bytes(), sig, key) {
        Ok(()) => None,
        Err(e) => Some((FindingKind::DigestSignatureInvalid, format!("signature verification failed: {e}"))),
    }
}

/// How digest keys are named, to describe digests that are gone without a trace.
#[derive(Debug, Clone, Default)]
pub struct Naming {
    /// The listing prefix, ending in `CloudTrail-Digest/{region}/`.
    pub digest_prefix: String,
    /// `{account}_CloudTrail-Digest_{region}_{trail}_{home region}_`
    pub file_stem: String,
}

impl Naming {
    /// The key a digest ending in the hour of `end` would have, with the minutes unknown.
    fn hour_pattern(&self, end: DateTime<Utc>) -> String {
        format!("{}{}{}{}*.json.gz", self.digest_prefix, end.format("%Y/%m/%d/"), self.file_stem, end.format("%Y%m%dT%H"))
    }
}

/// The outcome of walking the chain.
#[derive(Debug, Default)]
pub struct ChainReport {
    /// In walk order (newest first).
    pub findings: Vec<Finding>,
    /// Slots whose own checks passed, in walk order: their log files may be checked.
    pub verified: Vec<usize>,
    /// Every digest object the walk judged, in walk order.
    pub verdicts: Vec<(usize, DigestVerdict)>,
    /// Derived from `verdicts`; `invalid` also counts digests inferred missing from the cadence.
    pub valid: usize,
    pub invalid: usize,
}

/// Walks from the newest listed digest back to the one covering `range_start`.
pub fn walk(slots: &[DigestSlot], keys: &KeyRing, range_start: DateTime<Utc>, scope: &Scope, naming: &Naming, opts: WalkOptions) -> ChainReport {
    let mut listed: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].listed).collect();
    listed.sort_by(|&a, &b| slots[a].order_key().cmp(&slots[b].order_key()));
    let index: HashMap<(&str, &str), usize> =
        slots.iter().enumerate().map(|(i, s)| ((s.bucket.as_str(), s.key.as_str()), i)).collect();

    // previousDigestSignature of every digest, by the digest it names.
    let successor_signatures: HashMap<(&str, &str), &str> = if opts.signature_from_successor {
        slots
            .iter()
            .filter_map(|s| s.parsed())
            .filter_map(|p| Some((p.previous()?, p.digest.previous_digest_signature.as_deref()?)))
            .collect()
    } else {
        HashMap::new()
    };
    let mut w = Walker { slots, keys, scope, successor_signatures, opts, visited: vec![false; slots.len()], authentic: vec![false; slots.len()], inferred_missing: 0, broken_link: vec![false; slots.len()], report: ChainReport::default() };
    let older = |w: &Walker, i: usize| -> Option<usize> {
        let here = slots[i].order_key();
        listed.iter().rev().copied().find(|&j| !w.visited[j] && slots[j].order_key() < here)
    };

    let mut cur = listed.last().copied();
    while let Some(i) = cur {
        w.visit(i);
        let next_older = older(&w, i);
        let Some(parsed) = slots[i].parsed() else {
            // Unreadable or malformed: its link cannot be followed, so resume from the listing.
            cur = next_older;
            continue;
        };
        if !w.is_verified(i) {
            // An unauthenticated digest's links are attacker-controlled: resume from the listing.
            cur = next_older;
            continue;
        }
        if parsed.start < range_start {
            break; // this digest covers the start of the range
        }
        let Some((pb, pk)) = parsed.previous() else {
            if let Some(n) = next_older {
                let from = slots[n].end().map(crate::time::display).unwrap_or_else(|| "?".into());
                let to = crate::time::display(parsed.start);
                w.push(FindingKind::DigestChainGap, &slots[i].bucket, &slots[i].key,
                    format!("a new chain starts here: no digest covers {from} to {to} (logging or validation was off, or digests were removed)"));
            }
            cur = next_older;
            continue;
        };
        let Some(&p) = index.get(&(pb, pk)) else {
            w.push(FindingKind::AccessError, pb, pk, "previous digest was not fetched".to_string());
            cur = next_older;
            continue;
        };
        if w.visited[p] {
            w.push(FindingKind::DigestChainMismatch, &slots[i].bucket, &slots[i].key,
                format!("links back to s3://{pb}/{pk}, which is not older in the chain (a loop)"));
            cur = next_older;
            continue;
        }
        match &slots[p].fetched {
            Fetched::Present { metadata, bytes } => {
                w.check_link(i, parsed, p, metadata, bytes);
                cur = Some(p);
            }
            Fetched::Missing => {
                w.visit(p);
                // Digests arrive hourly, so the time between the newest surviving older digest
                // and the missing one's successor says how many are gone (the AWS CLI reports one).
                let n = older(&w, p);
                if let Some(lower) = n.and_then(|n| slots[n].end()) {
                    let hours = ((parsed.start - lower).num_seconds() as f64 / 3600.0).round() as i64;
                    for k in 1..hours {
                        let end = parsed.start - Duration::hours(k);
                        w.inferred_missing += 1;
                        w.push(FindingKind::DigestMissing, &slots[p].bucket, &naming.hour_pattern(end),
                            format!("not found: the chain has no digest for the hour ending about {} (inferred from the hourly cadence)", crate::time::display(end)));
                    }
                }
                cur = n;
            }
            Fetched::Unreadable(_) => {
                w.visit(p);
                cur = older(&w, p);
            }
        }
    }

    // Listed digests the chain never reached lie off the chain: an authentic chain links every
    // digest it delivered, so one that nothing points to was placed there or replaced.
    for &j in listed.iter().rev() {
        if !w.visited[j] && slots[j].key_time.is_none_or(|t| t >= range_start) {
            w.visit(j);
            if slots[j].parsed().is_some() {
                w.broken_link[j] = true;
                w.push(FindingKind::DigestChainMismatch, &slots[j].bucket, &slots[j].key,
                    "lies in range but no digest in the chain links to it".to_string());
            }
        }
    }

    // The counts follow from the verdicts, once links have had their say.
    for (i, verdict) in &mut w.report.verdicts {
        if w.broken_link[*i] && *verdict == DigestVerdict::Valid {
            *verdict = DigestVerdict::Invalid;
        }
    }
    let count = |wanted: &[DigestVerdict]| w.report.verdicts.iter().filter(|(_, v)| wanted.contains(v)).count();
    w.report.valid = count(&[DigestVerdict::Valid]);
    w.report.invalid = count(&[DigestVerdict::Invalid, DigestVerdict::Missing]) + w.inferred_missing;
    w.report
}

struct Walker<'a> {
    slots: &'a [DigestSlot],
    keys: &'a KeyRing,
    scope: &'a Scope,
    successor_signatures: HashMap<(&'a str, &'a str), &'a str>,
    opts: WalkOptions,
    visited: Vec<bool>,
    /// The slot passed its own checks.
    authentic: Vec<bool>,
    /// Digests known gone only from the hourly cadence (no slot names them).
    inferred_missing: usize,
    /// The slot is authentic but is not what its successor committed to.
    broken_link: Vec<bool>,
    report: ChainReport,
}

impl Walker<'_> {
    fn push(&mut self, kind: FindingKind, bucket: &str, key: &str, message: String) {
        self.report.findings.push(self.scope.finding(kind, bucket, key, message));
    }

    fn is_verified(&self, i: usize) -> bool {
        self.authentic[i]
    }

    /// Records a digest's own verdict once.
    fn visit(&mut self, i: usize) {
        if std::mem::replace(&mut self.visited[i], true) {
            return;
        }
        let slot = &self.slots[i];
        match &slot.fetched {
            Fetched::Missing => {
                self.report.verdicts.push((i, DigestVerdict::Missing));
                self.push(FindingKind::DigestMissing, &slot.bucket, &slot.key, "not found".into());
            }
            Fetched::Unreadable(why) => {
                self.report.verdicts.push((i, DigestVerdict::Unreadable));
                self.push(FindingKind::AccessError, &slot.bucket, &slot.key, format!("could not read digest: {why}; the log files of its period are unchecked"));
            }
            Fetched::Present { metadata, .. } => {
                let hint = self.successor_signatures.get(&(slot.bucket.as_str(), slot.key.as_str())).copied();
                if self.opts.signature_from_successor && metadata.signature.is_none() && hint.is_none() {
                    self.report.verdicts.push((i, DigestVerdict::Unverifiable));
                    let mut f = self.scope.finding(FindingKind::DigestSignatureInvalid, &slot.bucket, &slot.key,
                        "unverifiable: the copy has no signature metadata and no successor names its signature; \
                         supply it in the .metadata.json sidecar");
                    f.severity = crate::finding::Severity::Warning;
                    self.report.findings.push(f);
                    return;
                }
                let outcome = match (&slot.checked, &metadata.signature) {
                    (Some(done), Some(_)) => done.clone(),
                    _ => check_digest(slot, self.keys, hint),
                };
                match outcome {
                    None => {
                        self.report.verified.push(i);
                        self.report.verdicts.push((i, DigestVerdict::Valid));
                        self.authentic[i] = true;
                    }
                    Some((kind, message)) => {
                        self.report.verdicts.push((i, DigestVerdict::Invalid));
                        self.push(kind, &slot.bucket, &slot.key, message);
                    }
                }
            }
        }
    }

    /// Checks that digest `i` commits to exactly digest `p`: by its signature and by its hash.
    fn check_link(&mut self, i: usize, parsed: &ParsedDigest, p: usize, metadata: &DigestMetadata, bytes: &DigestBytes) {
        let d = &parsed.digest;
        let mut problems = Vec::new();
        if let (Some(stated), Some(actual)) = (&d.previous_digest_signature, &metadata.signature) {
            if !stated.eq_ignore_ascii_case(actual.trim()) {
                problems.push("previousDigestSignature differs from the previous digest's signature".to_string());
            }
        }
        match d.previous_digest_hash_algorithm.as_deref() {
            Some(HASH_ALGORITHM) | None => {}
            Some(other) => problems.push(format!("previousDigestHashAlgorithm is '{other}', not SHA-256")),
        }
        match (&d.previous_digest_hash_value, &bytes.inflated_sha256) {
            (Some(stated), Some(actual)) if stated.eq_ignore_ascii_case(&hex::encode(actual)) => {}
            (Some(_), Some(_)) => problems.push("previousDigestHashValue differs from the SHA-256 of the previous digest".into()),
            (Some(_), None) => problems.push("the previous digest cannot be inflated to check previousDigestHashValue".into()),
            (None, _) => problems.push("previousDigestHashValue is absent".into()),
        }
        if !problems.is_empty() {
            self.broken_link[p] = true;
            let (slot, prev) = (&self.slots[i], &self.slots[p]);
            let message = format!("link to s3://{}/{} broken: {}", prev.bucket, prev.key, problems.join("; "));
            let (b, k) = (slot.bucket.clone(), slot.key.clone());
            self.push(FindingKind::DigestChainMismatch, &b, &k, message);
        }
    }
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
                key_time: key_time(&o.key),
                listed: true,
                backfill: false,
                checked: None,
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
            out.push(DigestSlot { bucket: "bucket-a".into(), key: k.clone(), key_time: key_time(&k), listed: false, backfill: false, checked: None, fetched: Fetched::Missing });
        }
        out
    }

    fn run(trail: &SimTrail) -> ChainReport {
        let start = trail.spec.start;
        walk(&slots(trail), &sim::public_keys(&keys()), start, &Scope::default(), &Naming::default(), WalkOptions::default())
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
        let r = walk(&slots, &sim::public_keys(&keys()), start, &Scope::default(), &Naming::default(), WalkOptions::default());
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.valid, t.digest_keys.len() - 9);
    }

    #[test]
    fn key_time_reads_the_stamp_from_plain_and_backfill_keys() {
        let k = "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/03/01/1_CloudTrail-Digest_us-east-1_t_us-east-1_20260301T051742Z.json.gz";
        assert_eq!(key_time(k), Some(crate::time::parse_user_time("2026-03-01T05:17:42Z").unwrap()));
        assert_eq!(key_time(&k.replace(".json.gz", "_backfill.json.gz")), key_time(k));
        assert_eq!(key_time("short.json.gz"), None);
        assert_eq!(key_time("x"), None);
    }
}
